//! The queue producer: every job leaves the worker through here.

use crate::jobs::Job;
use worker::{BatchMessageBuilder, Env, MessageBuilder};

const JOBS: &str = "JOBS";

/// One job, delivered no sooner than `delay_secs` from now.
pub async fn enqueue_after(env: &Env, job: Job, delay_secs: u32) -> Result<(), String> {
    let queue = env.queue(JOBS).map_err(|e| format!("queue binding {JOBS}: {e}"))?;
    let delay = delay_secs.min(crate::jobs::MAX_QUEUE_DELAY_SECS);
    queue.send(MessageBuilder::new(job).delay_seconds(delay).build()).await.map_err(|e| format!("queue send: {e}"))
}

/// Jobs in one batch, each delayed as its kind asks (`Job::delay_secs`).
pub async fn enqueue(env: &Env, jobs: Vec<Job>) -> Result<(), String> {
    let queue = env.queue(JOBS).map_err(|e| format!("queue binding {JOBS}: {e}"))?;
    let batch = jobs.into_iter().fold(BatchMessageBuilder::new(), |b, job| {
        let delay = job.delay_secs();
        b.message(MessageBuilder::new(job).delay_seconds(delay).build())
    });
    queue.send_batch(batch.build()).await.map_err(|e| format!("queue send: {e}"))
}
