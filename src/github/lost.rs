//! When a GitHub event's job counts as lost. An event is recorded `queued`
//! with its job and `retrying` each time an attempt asks the queue for
//! another: a row left untouched longer than that can take lost its message
//! (a local queue dies with `wrangler dev`; a send can fail after the
//! record), and the cron's sweep queues it again.

use crate::config::Config;
use crate::time::{format_millis, Millis};

/// Rows updated before these instants are stuck.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cutoffs {
    pub now: String,
    /// A `queued` row's job should have run within the requeue window.
    pub queued_before: String,
    /// A `retrying` row waits at most the longest backoff on top of it. A
    /// `Retry-After` longer than `JOB_RETRY_MAX_SECONDS` can see an early
    /// second run beside the waiting one: a membership is idempotent, and a
    /// second create answers 409, which an event tried before takes as a
    /// linked team (`sync::creation`).
    pub retrying_before: String,
}

pub fn cutoffs(cfg: &Config, now: Millis) -> Cutoffs {
    let window = i64::from(cfg.github.requeue_after_secs) * 1000;
    let backoff = i64::from(cfg.retry.max_secs) * 1000;
    Cutoffs {
        now: format_millis(now),
        queued_before: format_millis(now - window),
        retrying_before: format_millis(now - window - backoff),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_retrying_event_waits_out_the_longest_backoff_before_it_counts_as_lost() {
        let mut cfg = Config::from_lookup(|_| None);
        cfg.github.requeue_after_secs = 600;
        cfg.retry.max_secs = 3600;
        let now = crate::time::parse_rfc3339("2026-12-03T12:00:00.000Z").unwrap();
        let c = cutoffs(&cfg, now);
        assert_eq!(c.now, "2026-12-03T12:00:00.000Z");
        assert_eq!(c.queued_before, "2026-12-03T11:50:00.000Z");
        assert_eq!(c.retrying_before, "2026-12-03T10:50:00.000Z");
    }
}
