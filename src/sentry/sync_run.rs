//! One queue message of a sync run, as a state machine without IO: the
//! shell reports what happened (the lease checked, a page written, a call
//! failed) and `SyncRun` answers what to do next. A message fetches up to
//! `PAGES_PER_MESSAGE` pages, then hands over to the next message (delayed
//! when Sentry's rate-limit window is used up, or after a failed page).

use super::sync::{PageJob, MAX_PAGE_ATTEMPTS, PAGES_PER_MESSAGE};
use crate::config::RetryPolicy;
use crate::jobs::retry_delay;
use crate::outbound::CallError;
use crate::sql::Stmt;
use crate::store::{health, sync as store};

#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// The message ends here: another run holds the lease.
    Stop,
    /// Fetch the page at `cursor` and write it in one D1 batch.
    Fetch { cursor: Option<String> },
    /// The run is complete: run `writes` (the health row last, read back to
    /// raise or lower the silence alarm) and end the message.
    Finished { writes: Vec<Stmt> },
    /// Record `record` (best effort), then queue `next` after `delay_secs`.
    Continue { record: Vec<Stmt>, next: PageJob, delay_secs: u32 },
    /// Record `record` (best effort), then `writes`, which fail the run.
    Failed { record: Vec<Stmt>, writes: Vec<Stmt> },
}

#[derive(Debug, Clone, PartialEq)]
pub struct SyncRun {
    job: PageJob,
    cursor: Option<String>,
    retry: RetryPolicy,
    /// Pages written by this message.
    pub pages: u32,
    /// D1 round trips of this message: the lease check, then one per page.
    pub round_trips: u32,
}

impl SyncRun {
    pub fn new(job: &PageJob, retry: RetryPolicy) -> Self {
        SyncRun { cursor: job.cursor.clone(), job: job.clone(), retry, pages: 0, round_trips: 0 }
    }

    /// The lease was checked: go on only while this run still holds it (a
    /// lease that ran out was taken over by another run).
    pub fn start(&mut self, holds_lease: bool) -> Step {
        self.round_trips += 1;
        match holds_lease {
            true => Step::Fetch { cursor: self.cursor.clone() },
            false => Step::Stop,
        }
    }

    /// A page was written; `next` is its next cursor, `wait_secs` Sentry's
    /// rate-limit wait.
    pub fn written(&mut self, next: Option<String>, wait_secs: u32, now: &str) -> Step {
        self.pages += 1;
        self.round_trips += 1;
        let Some(next) = next else {
            self.round_trips += 1;
            let mut writes = store::finish(&self.job.run, "done", None, now);
            writes.push(health::health_stmt());
            return Step::Finished { writes };
        };
        self.cursor = Some(next);
        match (wait_secs, self.pages >= PAGES_PER_MESSAGE) {
            (0, false) => Step::Fetch { cursor: self.cursor.clone() },
            (wait, _) => self.hand_over(vec![], 0, wait),
        }
    }

    /// Getting the token or a page failed: tried again later from the same
    /// cursor, or, after `MAX_PAGE_ATTEMPTS` (or at once for a permanent
    /// error), the run fails.
    pub fn failed(&mut self, e: CallError, now: &str) -> Step {
        let attempt = if self.cursor == self.job.cursor { self.job.attempt + 1 } else { 1 };
        let record = vec![store::page_failed(&self.job.run, e.detail(), now)];
        match e {
            CallError::Retryable { after, .. } if attempt < MAX_PAGE_ATTEMPTS => {
                let delay = retry_delay(self.retry, attempt, after);
                self.hand_over(record, attempt, delay)
            }
            e => {
                let why = format!("gave up after {attempt} attempts: {}", e.detail());
                Step::Failed { record, writes: store::finish(&self.job.run, "failed", Some(&why), now) }
            }
        }
    }

    fn hand_over(&self, record: Vec<Stmt>, attempt: u32, delay_secs: u32) -> Step {
        let next = PageJob { cursor: self.cursor.clone(), attempt, ..self.job.clone() };
        Step::Continue { record, next, delay_secs }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: &str = "2026-12-02T12:00:00.000Z";
    const POLICY: RetryPolicy = RetryPolicy { base_secs: 10, max_secs: 600 };

    fn job(cursor: Option<&str>, attempt: u32) -> PageJob {
        PageJob { run: "r1".into(), org: "o".into(), installation: None, cursor: cursor.map(Into::into), attempt }
    }

    fn retryable() -> CallError {
        CallError::Retryable { after: None, detail: "HTTP 502".into() }
    }

    #[test]
    fn a_run_that_lost_its_lease_stops() {
        assert_eq!(SyncRun::new(&job(None, 0), POLICY).start(false), Step::Stop);
    }

    #[test]
    fn pages_follow_their_cursor_until_the_last_finishes_the_run_with_the_health_row() {
        let mut run = SyncRun::new(&job(None, 0), POLICY);
        assert_eq!(run.start(true), Step::Fetch { cursor: None });
        assert_eq!(run.written(Some("c1".into()), 0, NOW), Step::Fetch { cursor: Some("c1".into()) });
        let Step::Finished { writes } = run.written(None, 0, NOW) else { panic!("not finished") };
        assert_eq!(writes.last(), Some(&health::health_stmt()));
        assert!(store::finish("r1", "done", None, NOW).iter().all(|s| writes.contains(s)));
        assert_eq!((run.pages, run.round_trips), (2, 4));
    }

    #[test]
    fn a_message_hands_over_after_its_pages_or_when_sentry_asks_to_wait() {
        let mut run = SyncRun::new(&job(None, 0), POLICY);
        run.start(true);
        for i in 1..PAGES_PER_MESSAGE {
            assert!(matches!(run.written(Some(format!("c{i}")), 0, NOW), Step::Fetch { .. }));
        }
        let step = run.written(Some("last".into()), 0, NOW);
        assert_eq!(step, Step::Continue { record: vec![], next: job(Some("last"), 0), delay_secs: 0 });

        let mut run = SyncRun::new(&job(None, 0), POLICY);
        run.start(true);
        let step = run.written(Some("c1".into()), 42, NOW);
        assert_eq!(step, Step::Continue { record: vec![], next: job(Some("c1"), 0), delay_secs: 42 });
    }

    #[test]
    fn a_failed_page_is_retried_from_its_cursor_with_backoff_then_the_run_gives_up() {
        let mut run = SyncRun::new(&job(Some("c3"), 2), POLICY);
        run.start(true);
        let Step::Continue { record, next, delay_secs } = run.failed(retryable(), NOW) else { panic!() };
        assert_eq!(record, vec![store::page_failed("r1", "HTTP 502", NOW)]);
        assert_eq!((next.cursor.as_deref(), next.attempt, delay_secs), (Some("c3"), 3, retry_delay(POLICY, 3, None)));

        let mut last = SyncRun::new(&job(Some("c3"), MAX_PAGE_ATTEMPTS - 1), POLICY);
        last.start(true);
        let Step::Failed { writes, .. } = last.failed(retryable(), NOW) else { panic!("not given up") };
        let why = format!("gave up after {MAX_PAGE_ATTEMPTS} attempts: HTTP 502");
        assert_eq!(writes, store::finish("r1", "failed", Some(&why), NOW));
    }

    #[test]
    fn a_failure_after_progress_counts_attempts_afresh_and_a_permanent_one_fails_at_once() {
        let mut run = SyncRun::new(&job(None, 4), POLICY);
        run.start(true);
        run.written(Some("c1".into()), 0, NOW);
        let Step::Continue { next, .. } = run.failed(retryable(), NOW) else { panic!() };
        assert_eq!((next.cursor.as_deref(), next.attempt), (Some("c1"), 1));

        let mut run = SyncRun::new(&job(None, 0), POLICY);
        run.start(true);
        let step = run.failed(CallError::Permanent { detail: "HTTP 403".into() }, NOW);
        let why = "gave up after 1 attempts: HTTP 403";
        assert!(matches!(step, Step::Failed { writes, .. } if writes == store::finish("r1", "failed", Some(why), NOW)));
    }
}
