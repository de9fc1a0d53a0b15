//! The one webhook driver's data, for Sentry, GitHub and replays: an `Ack`
//! is everything a delivery's acknowledgement asks of D1 (one batch, with
//! its guards inside it as statements), what is queued after it, and what
//! to undo if queueing fails; `record` builds the delivery-log record.
//! Plain Rust: `shell/webhook.rs` runs an `Ack` and decides nothing.

pub mod github;
pub mod sentry;
pub mod verdict;

use crate::error::AppError;
use crate::jobs::Job;
use crate::log::DeliveryLog;
use crate::plan::{Guarded, Reply, Verdict};
use crate::sql::Stmt;
use serde_json::{Map, Value};

type Row = Map<String, Value>;

/// One ack: `statements` run as ONE D1 batch (one round trip, one
/// transaction), then `jobs` and the guarded job the batch allowed are queued.
#[derive(Debug, Clone, PartialEq)]
pub struct Ack {
    pub statements: Vec<Stmt>,
    pub jobs: Vec<Job>,
    /// Queued only if its statement's first row says `queue_job`.
    pub guard: Option<Guarded>,
    /// "Only if this delivery is unseen": the answer when the batch found
    /// it seen (its statement's first row has `unseen` false).
    pub unseen: Option<Unseen>,
    pub undo: Undo,
}

/// The guard "only if this delivery is unseen", and the answer otherwise.
#[derive(Debug, Clone, PartialEq)]
pub struct Unseen {
    pub stmt: usize,
    pub reply: Reply,
    pub verdict: Verdict,
}

/// What to write when the batch applied but its jobs could not be queued,
/// so the sender's retry is taken as new and no job is lost.
#[derive(Debug, Clone, PartialEq)]
pub enum Undo {
    /// Forget the delivery's re-read requests, mark the log row failed.
    Delivery { digest: Option<String> },
    /// Forget GitHub's claim of the delivery, mark the log row failed.
    Claim { delivery: String, digest: String },
}

/// What the batch said: the jobs to queue, and the answer if it replaced the plan's.
#[derive(Debug, Clone, PartialEq)]
pub struct Settled {
    pub jobs: Vec<Job>,
    pub seen: Option<(Reply, Verdict)>,
}

impl Ack {
    /// Reads the batch's first rows (one entry per statement).
    pub fn settle(self, rows: &[Option<Row>]) -> Settled {
        let seen =
            self.unseen.filter(|u| !rows.get(u.stmt).and_then(Option::as_ref).is_some_and(|r| truthy(r, "unseen")));
        let mut jobs = self.jobs;
        if seen.is_some() {
            // A seen delivery's jobs were queued by the attempt that saw it first.
            jobs.clear();
        } else {
            jobs.extend(self.guard.and_then(|g| g.fires(rows)));
        }
        Settled { jobs, seen: seen.map(|u| (u.reply, u.verdict)) }
    }

    /// Every job the ack could queue: its own and the guarded one.
    pub fn all_jobs(&self) -> Vec<Job> {
        self.jobs.iter().cloned().chain(self.guard.as_ref().map(|g| g.job.clone())).collect()
    }

    /// What to write after its batch failed as `failed`: a batch that may
    /// have committed is undone like one whose jobs were not queued, so the
    /// sender's retry is applied anew instead of taken as a duplicate; a
    /// refused batch rolled back, and an unqueued one wrote its undo already.
    pub fn after_failed(&self, failed: &Failed) -> Vec<Stmt> {
        match failed {
            Failed::Unknown(e) => Ack::unqueued(&self.undo, &self.all_jobs(), &format!("{e:?}")),
            Failed::Refused(_) | Failed::Unqueued(_) => vec![],
        }
    }

    /// The statements that undo the ack when `jobs` could not be queued.
    pub fn unqueued(undo: &Undo, jobs: &[Job], error: &str) -> Vec<Stmt> {
        match undo {
            Undo::Delivery { digest } => crate::jobs::unqueued(jobs, digest.as_deref(), error),
            Undo::Claim { delivery, digest } => vec![
                crate::store::github::unclaim(delivery, digest),
                crate::store::delivery_failed(digest, "enqueue_failed", error),
            ],
        }
    }
}

fn truthy(row: &Row, key: &str) -> bool {
    match row.get(key) {
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0),
        _ => false,
    }
}

/// Why an ack did not apply as planned.
#[derive(Debug, Clone, PartialEq)]
pub enum Failed {
    /// SQLite refused a statement of the batch, so its one transaction
    /// rolled back and nothing of it was written: a guessed plan is decided
    /// again from D1's answer.
    Refused(AppError),
    /// The batch failed in a way that does not say whether it committed (the
    /// connection, reading its answer): its undo is written, and the sender
    /// is answered 5xx so its retry is applied anew.
    Unknown(AppError),
    /// The batch applied but its jobs could not be queued, and the ack's
    /// undo was written: deciding again would apply it twice.
    Unqueued(AppError),
}

impl Failed {
    /// Sorts a failed batch by what D1 said: only SQLite's own refusal
    /// (`SQLITE_CONSTRAINT`, a CHECK that failed, …) proves the rollback.
    pub fn batch(e: AppError) -> Failed {
        let refused = matches!(&e, AppError::Internal(detail)
            if detail.contains("SQLITE_") || detail.contains("constraint failed"));
        if refused {
            Failed::Refused(e)
        } else {
            Failed::Unknown(e)
        }
    }
}

impl From<Failed> for AppError {
    fn from(f: Failed) -> Self {
        match f {
            Failed::Refused(e) | Failed::Unknown(e) | Failed::Unqueued(e) => e,
        }
    }
}

/// What arrived, as the delivery log records it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Received<'a> {
    pub source: &'static str,
    pub received_at: &'a str,
    pub request_id: Option<&'a str>,
    pub resource: Option<&'a str>,
    /// The delivery-log id of the kept delivery a replay runs again.
    pub replay_of: Option<i64>,
}

/// What was done with it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Done<'a> {
    pub status: u16,
    pub verdict: &'a str,
    pub action: Option<&'a str>,
    pub detail: Option<&'a str>,
    /// Set only once the signature verified.
    pub digest: Option<&'a str>,
}

/// The one place a delivery-log record is built, for every source.
pub fn record<'a>(r: &Received<'a>, done: Done<'a>, latency_ms: u32) -> DeliveryLog<'a> {
    DeliveryLog {
        received_at: r.received_at,
        source: r.source,
        resource: r.resource.map(str::trim),
        action: done.action,
        verdict: done.verdict,
        status: done.status,
        request_id: r.request_id,
        detail: done.detail,
        body_sha256: done.digest,
        latency_ms,
        replay_of: r.replay_of,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_sqlites_refusal_proves_a_batch_rolled_back() {
        let d1 = |m: &str| AppError::Internal(format!("D1: Error: {m}"));
        let check = d1("D1_ERROR: CHECK constraint failed: prior_guessed_wrong: SQLITE_CONSTRAINT");
        assert_eq!(Failed::batch(check.clone()), Failed::Refused(check));
        let unique = d1("D1_ERROR: UNIQUE constraint failed: cards.id");
        assert!(matches!(Failed::batch(unique), Failed::Refused(_)));
        for unknown in
            [d1("Network connection lost."), d1("invalid type: null, expected a map"), AppError::Internal("x".into())]
        {
            assert!(matches!(Failed::batch(unknown.clone()), Failed::Unknown(_)), "{unknown:?}");
        }
        assert!(matches!(Failed::batch(AppError::NotFound), Failed::Unknown(_)));
    }

    #[test]
    fn only_a_batch_that_may_have_committed_is_undone() {
        let ack = Ack {
            statements: vec![],
            jobs: vec![],
            guard: None,
            unseen: None,
            undo: Undo::Claim { delivery: "d-1".into(), digest: "ab".into() },
        };
        let e = AppError::Internal("Network connection lost.".into());
        let undo = ack.after_failed(&Failed::Unknown(e.clone()));
        assert_eq!(undo, Ack::unqueued(&ack.undo, &[], &format!("{e:?}")));
        assert_eq!(undo[0], crate::store::github::unclaim("d-1", "ab"), "the claim is forgotten: {undo:?}");
        assert!(ack.after_failed(&Failed::Refused(e.clone())).is_empty(), "rolled back: nothing to undo");
        assert!(ack.after_failed(&Failed::Unqueued(e)).is_empty(), "its undo is written already");
    }
}
