//! The one webhook executor, for Sentry, GitHub and replays: runs an ack's
//! batch (one D1 round trip), queues the jobs the batch allowed, and writes
//! the ack's undo if queueing fails. It decides nothing: the `Ack` does.

use super::{d1, queue};
use crate::webhook::{Ack, Failed, Settled};
use worker::{D1Database, Env};

pub(super) async fn execute(env: &Env, db: &D1Database, ack: Ack) -> Result<Settled, Failed> {
    let undo = ack.undo.clone();
    let rows = match d1::run_first_rows(db, &ack.statements).await.map_err(Failed::batch) {
        Ok(rows) => rows,
        Err(failed) => {
            let _ = d1::run(db, &ack.after_failed(&failed)).await;
            return Err(failed);
        }
    };
    let settled = ack.settle(&rows);
    if settled.jobs.is_empty() {
        return Ok(settled);
    }
    let Err(e) = queue::enqueue(env, settled.jobs.clone()).await else { return Ok(settled) };
    let _ = d1::run(db, &Ack::unqueued(&undo, &settled.jobs, &e.to_string())).await;
    Err(Failed::Unqueued(e.into()))
}
