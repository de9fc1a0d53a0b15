//! The queue producer: every job leaves the worker through here.

use crate::error::QueueError;
use crate::jobs::Job;
use worker::{BatchMessageBuilder, Env, MessageBuilder};

const JOBS: &str = "JOBS";

/// One job, delivered no sooner than `delay_secs` from now.
pub async fn enqueue_after(env: &Env, job: Job, delay_secs: u32) -> Result<(), QueueError> {
    let queue = env.queue(JOBS).map_err(binding)?;
    let delay = delay_secs.min(crate::jobs::MAX_QUEUE_DELAY_SECS);
    queue.send(MessageBuilder::new(job).delay_seconds(delay).build()).await.map_err(send)
}

/// Jobs in one batch, each delayed as its kind asks (`Job::delay_secs`).
pub async fn enqueue(env: &Env, jobs: Vec<Job>) -> Result<(), QueueError> {
    let queue = env.queue(JOBS).map_err(binding)?;
    let batch = jobs.into_iter().fold(BatchMessageBuilder::new(), |b, job| {
        let delay = job.delay_secs();
        b.message(MessageBuilder::new(job).delay_seconds(delay).build())
    });
    queue.send_batch(batch.build()).await.map_err(send)
}

fn binding(e: worker::Error) -> QueueError {
    QueueError::Binding { name: JOBS, detail: e.to_string() }
}

fn send(e: worker::Error) -> QueueError {
    QueueError::Send(e.to_string())
}
