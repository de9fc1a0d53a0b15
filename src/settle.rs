//! What becomes of a queue message after an attempt, or when it arrives
//! dead-lettered: the records to write (the job's row, the installation's
//! error, the row of what the job stood for) and whether the queue is told
//! to acknowledge it or deliver it again. The shell runs the answer.

use crate::config::RetryPolicy;
use crate::error::AppError;
use crate::jobs::{Job, Outcome};
use crate::plan::Reply;
use crate::sentry::errors::ErrorRecord;
use crate::sql::Stmt;
use crate::store::{github, installations as jobs_store, reconcile, rereads, sync, writeback};

/// A job's row in `jobs`, as the jobs page shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobStatus {
    Done,
    Retrying,
    Failed,
    Dead,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Done => "done",
            JobStatus::Retrying => "retrying",
            JobStatus::Failed => "failed",
            JobStatus::Dead => "dead",
        }
    }
}

/// What the queue is told about the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ack {
    Ack,
    Retry { delay_secs: u32 },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Settlement {
    pub status: JobStatus,
    /// In words, for the jobs page and the installation; `None` when done.
    pub error: Option<String>,
    pub writes: Vec<Stmt>,
    pub ack: Ack,
    /// What the queue is told when `writes` fail: the same as `ack`, unless
    /// they carry what the job learnt, which a retry must not lose.
    pub unrecorded: Ack,
}

/// The batch that starts an attempt of message `id`: its jobs row (which
/// counts the attempt, first row `attempts`), then what the job reads
/// before its first call (`github::prelude`).
pub fn start(id: &str, job: &Job, now: &str) -> Vec<Stmt> {
    let params = jobs_store::start_job_params(id, job.kind(), job.installation(), now);
    let start = Stmt { sql: jobs_store::START_JOB, params };
    std::iter::once(start).chain(github::prelude(job)).collect()
}

impl Settlement {
    /// Whether the job gets its console line under `policy`: a job that
    /// ended done has its row on the jobs page (`/api/jobs`), so by default
    /// only a retry, a failure or a burial is logged (`LOG_DELIVERIES=all`:
    /// every job).
    pub fn logged(&self, policy: crate::log::LogDeliveries) -> bool {
        policy == crate::log::LogDeliveries::All || self.status != JobStatus::Done
    }
}

/// What `start`'s batch answered (its rows, in order): the attempt, and
/// the job's prelude if it has one (`github::read_prelude`).
pub fn started(rows: &[Option<serde_json::Map<String, serde_json::Value>>]) -> (u32, Option<github::Prelude>) {
    let attempt = jobs_store::attempt_of(rows.first().and_then(Option::as_ref));
    (attempt, github::read_prelude(rows.get(1..).unwrap_or_default()))
}

/// A done job whose follow-up jobs could not be queued is tried again soon:
/// acknowledging it would lose them.
pub fn follow_up_unqueued(error: String) -> Outcome {
    Outcome::Retry { delay_secs: 1, error }
}

/// After attempt `attempt` of message `id` ended in `outcome` (its
/// follow-ups already queued).
pub fn settle(job: &Job, id: &str, attempt: u32, outcome: &Outcome, policy: RetryPolicy, now: &str) -> Settlement {
    let kind = job.kind();
    let (status, error, ack) = match outcome {
        Outcome::Done { .. } => (JobStatus::Done, None, Ack::Ack),
        Outcome::Retry { delay_secs, error } => (
            JobStatus::Retrying,
            Some(format!("{kind} attempt {attempt} failed, retrying: {error}")),
            Ack::Retry { delay_secs: *delay_secs },
        ),
        Outcome::Fail { error } => (JobStatus::Failed, Some(format!("{kind} failed: {error}")), Ack::Ack),
    };
    // What a job learnt, and a sync event's status (its team's memberships
    // wait on it), must land: if they cannot, the message runs again.
    let learnt = match outcome {
        Outcome::Done { writes, .. } => writes.clone(),
        _ => vec![],
    };
    // A retry keeps its own delay (a server's Retry-After among them).
    let unrecorded = match (ack, !learnt.is_empty() || job.github_key().is_some()) {
        (Ack::Ack, true) => Ack::Retry { delay_secs: crate::jobs::retry_delay(policy, attempt, None) },
        _ => ack,
    };
    let mut writes = learnt;
    writes.extend(jobs_store::finish_job(id, status.as_str(), error.as_deref(), now));
    // GitHub jobs (and internal-mode ones) have no installation row to mark.
    if !job.installation().is_empty() {
        writes.push(jobs_store::set_error(job.installation(), error.as_deref(), now));
    }
    // A finished sync job wrote its own status; a failing one is shown here.
    if let (Some(key), Some(error)) = (job.github_key(), error.as_deref()) {
        writes.push(github::set_status(key, status.as_str(), Some(error), attempt, now));
    }
    if let Job::WriteBack(j) = job {
        writes.push(writeback::settle(j, status.as_str(), error.as_deref(), now));
    }
    // A re-read that can never succeed must not hold its issue's request.
    if let (Job::Reread(j), JobStatus::Failed) = (job, status) {
        writes.push(rereads::forget(&j.issue));
    }
    Settlement { status, error, writes, ack, unrecorded }
}

/// An error event whose own write failed (after its batch did): retried
/// with its attempt's backoff. Only a failing event costs a jobs row: its
/// attempt count sets the delay, and after the retries it is dead-lettered.
/// An attempt that could not be counted (`None`: D1 refused that too) is
/// taken as the first: the shortest backoff, never an early burial.
pub fn event_failed(id: &str, attempt: Option<u32>, error: &str, policy: RetryPolicy, now: &str) -> Settlement {
    let delay_secs = crate::jobs::retry_delay(policy, attempt.unwrap_or(1), None);
    let writes = jobs_store::finish_job(id, JobStatus::Retrying.as_str(), Some(error), now);
    Settlement {
        status: JobStatus::Retrying,
        error: Some(error.to_string()),
        writes,
        ack: Ack::Retry { delay_secs },
        unrecorded: Ack::Retry { delay_secs },
    }
}

/// A message that could not even be started (no D1, or its jobs row not
/// written): nothing is recorded, and the queue tries it again after the
/// base backoff.
pub fn not_started(policy: RetryPolicy) -> Ack {
    Ack::Retry { delay_secs: policy.base_secs }
}

/// Messages from the dead-letter queue (`<queue>-dlq`) used up their retries.
pub fn is_dead_letter(queue: &str) -> bool {
    queue.ends_with("-dlq")
}

/// A board change whose write-back job could not be queued: the card says
/// the write-back failed (so nothing waits on it silently), and the board
/// is answered 503.
pub fn writeback_unqueued(job: &crate::writeback::WriteBackJob, error: &str) -> (Stmt, AppError) {
    let why = format!("could not queue the Sentry update: {error}");
    (writeback::settle(job, "failed", Some(&why), &job.requested_at), AppError::Unavailable(why))
}

/// The board's answer to a change it applied: Sentry is told by a job.
pub fn writeback_accepted() -> Reply {
    Reply { status: 202, ..Reply::ok(serde_json::json!({ "ok": true, "writeback": "pending" })) }
}

/// The newest record of a dead-lettered job (`jobs_store::LAST_JOB`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LastAttempt {
    pub id: Option<String>,
    pub attempts: u32,
    pub error: Option<String>,
}

/// A message that used up its retries: the job is marked dead, and what it
/// stood for (a GitHub event, a sync or reconcile run, a write-back, a
/// re-read request) says so, so nothing waits on it forever. The installation shows why,
/// until a later job for it succeeds.
pub fn bury(job: &Job, id: &str, last: &LastAttempt, now: &str) -> Settlement {
    let record_id = last.id.as_deref().unwrap_or(id);
    let cause = last.error.as_deref().unwrap_or("unknown error");
    let error = format!("{} gave up after {} attempts: {cause}", job.kind(), last.attempts);
    let mut writes = vec![
        jobs_store::dead_job(record_id, job.kind(), job.installation(), &error, now),
        jobs_store::set_error(job.installation(), Some(&error), now),
    ];
    if let Some(key) = job.github_key() {
        writes.push(github::set_status(key, JobStatus::Dead.as_str(), Some(&error), last.attempts, now));
    }
    match job {
        Job::SyncPage(page) => writes.extend(sync::finish(&page.run, "failed", Some(&error), now)),
        Job::WriteBack(j) => writes.push(writeback::settle(j, "failed", Some(&error), now)),
        Job::Reread(j) => writes.push(rereads::forget(&j.issue)),
        Job::GithubReconcile(r) => writes.push(reconcile::finish(&r.run, "failed", &r.counts, Some(&error), now)),
        _ => {}
    }
    Settlement { status: JobStatus::Dead, error: Some(error), writes, ack: Ack::Ack, unrecorded: Ack::Ack }
}

/// A dead-lettered error event: counted as lost (on `/api/errors/stats`).
pub fn bury_event(record: &ErrorRecord, id: &str, now: &str) -> Settlement {
    let installation = record.installation.as_deref().unwrap_or("");
    let error = format!("error event {} for issue {} was not stored", record.event_id, record.issue_id);
    let writes = vec![jobs_store::dead_job(id, "error_event", installation, &error, now)];
    Settlement { status: JobStatus::Dead, error: Some(error), writes, ack: Ack::Ack, unrecorded: Ack::Ack }
}

/// A message that is not a job: nothing can ever run it, so it is recorded
/// and dropped rather than delivered again and again.
pub fn unreadable(id: &str, why: &str, now: &str) -> Settlement {
    let writes = vec![jobs_store::dead_job(id, "unreadable", "", why, now)];
    Settlement { status: JobStatus::Dead, error: Some(why.to_string()), writes, ack: Ack::Ack, unrecorded: Ack::Ack }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sentry::reread::RereadJob;
    use crate::sentry::sync::PageJob;

    const NOW: &str = "2026-12-02T12:00:00.000Z";
    const POLICY: RetryPolicy = RetryPolicy { base_secs: 10, max_secs: 3600 };

    fn reread() -> Job {
        Job::Reread(RereadJob { issue: "42".into(), installation: Some("u1".into()) })
    }

    fn sqls(s: &Settlement) -> Vec<&'static str> {
        s.writes.iter().map(|w| w.sql).collect()
    }

    #[test]
    fn a_done_job_is_acknowledged_and_clears_the_installations_error() {
        let s = settle(&reread(), "m1", 1, &Outcome::done(), POLICY, NOW);
        assert_eq!((s.status, s.error.as_deref(), s.ack), (JobStatus::Done, None, Ack::Ack));
        assert!(sqls(&s).contains(&jobs_store::set_error("u1", None, NOW).sql));
        assert!(!sqls(&s).contains(&rereads::forget("42").sql), "a done re-read finished its own row");
    }

    #[test]
    fn what_a_done_job_learnt_lands_with_its_row_or_the_job_runs_again() {
        let learnt = github::set_status(("d1", "abc"), "done", Some("created"), 2, NOW);
        let s = settle(&reread(), "m1", 2, &Outcome::done_with(vec![learnt.clone()]), POLICY, NOW);
        assert_eq!((s.status, s.ack), (JobStatus::Done, Ack::Ack));
        assert_eq!(s.writes[0], learnt, "one batch: what it learnt, then the job's row");
        assert!(sqls(&s).contains(&jobs_store::finish_job("m1", "done", None, NOW)[0].sql));
        assert_eq!(s.unrecorded, Ack::Retry { delay_secs: 20 }, "the second attempt's backoff");
        let plain = settle(&reread(), "m1", 2, &Outcome::done(), POLICY, NOW);
        assert_eq!(plain.unrecorded, Ack::Ack, "a job that learnt nothing is done even if its row is not written");
        let sync = Job::GithubTeam(crate::github::sync::TeamJob {
            delivery: "d1".into(),
            body_sha256: "abc".into(),
            action: crate::github::sync::TeamAction::Created,
            team_id: "7".into(),
            slug: None,
        });
        let failed = settle(&sync, "m2", 1, &Outcome::Fail { error: "HTTP 400".into() }, POLICY, NOW);
        assert_eq!(failed.ack, Ack::Ack);
        assert_eq!(failed.unrecorded, Ack::Retry { delay_secs: 10 }, "a sync event's lost status: run again");
        let limited = settle(&sync, "m2", 1, &Outcome::Retry { delay_secs: 900, error: "429".into() }, POLICY, NOW);
        assert_eq!(limited.unrecorded, Ack::Retry { delay_secs: 900 }, "a rate limit's wait is kept");
    }

    #[test]
    fn only_a_job_that_did_not_end_done_is_logged_by_default() {
        use crate::log::LogDeliveries::{All, Problems};
        let done = settle(&reread(), "m1", 1, &Outcome::done(), POLICY, NOW);
        let retry = settle(&reread(), "m1", 1, &Outcome::Retry { delay_secs: 5, error: "502".into() }, POLICY, NOW);
        let failed = settle(&reread(), "m1", 1, &Outcome::Fail { error: "404".into() }, POLICY, NOW);
        assert_eq!([done.logged(Problems), retry.logged(Problems), failed.logged(Problems)], [false, true, true]);
        assert!(done.logged(All));
        assert!(unreadable("m1", "not a job", NOW).logged(Problems), "a burial is logged");
    }

    #[test]
    fn a_retry_is_delivered_again_after_its_delay_and_says_which_attempt() {
        let outcome = Outcome::Retry { delay_secs: 30, error: "HTTP 502".into() };
        let s = settle(&reread(), "m1", 3, &outcome, POLICY, NOW);
        assert_eq!(s.status, JobStatus::Retrying);
        assert_eq!(s.ack, Ack::Retry { delay_secs: 30 });
        assert_eq!(s.error.as_deref(), Some("reread attempt 3 failed, retrying: HTTP 502"));
        assert_eq!(s.writes[0].params[1], "retrying".into());
    }

    #[test]
    fn a_failed_reread_lets_go_of_its_issue() {
        let s = settle(&reread(), "m1", 1, &Outcome::Fail { error: "HTTP 404".into() }, POLICY, NOW);
        assert_eq!((s.status, s.ack), (JobStatus::Failed, Ack::Ack));
        assert_eq!(s.error.as_deref(), Some("reread failed: HTTP 404"));
        assert!(sqls(&s).contains(&rereads::forget("42").sql));
    }

    #[test]
    fn a_dead_sync_page_fails_its_run_with_the_last_cause() {
        let job =
            Job::SyncPage(PageJob { run: "r1".into(), org: "o".into(), installation: None, cursor: None, attempt: 0 });
        let last = LastAttempt { id: Some("m0".into()), attempts: 5, error: Some("HTTP 500".into()) };
        let s = bury(&job, "m9", &last, NOW);
        assert_eq!((s.status, s.ack), (JobStatus::Dead, Ack::Ack));
        assert_eq!(s.error.as_deref(), Some("sync_page gave up after 5 attempts: HTTP 500"));
        assert_eq!(s.writes[0].params[0], "m0".into(), "the record of the first delivery is the one marked");
        let finish = sync::finish("r1", "failed", s.error.as_deref(), NOW);
        assert!(finish.iter().all(|f| s.writes.contains(f)));
    }

    #[test]
    fn a_dead_reconcile_message_fails_its_run_with_what_it_had_found() {
        let mut run = crate::github::reconcile::ReconcileJob::new("r2", "acme", false);
        run.counts.members_missing = 3;
        let last = LastAttempt { id: Some("m0".into()), attempts: 5, error: Some("D1 down".into()) };
        let s = bury(&Job::GithubReconcile(run.clone()), "m9", &last, NOW);
        assert_eq!(s.error.as_deref(), Some("github_reconcile gave up after 5 attempts: D1 down"));
        assert!(s.writes.contains(&reconcile::finish("r2", "failed", &run.counts, s.error.as_deref(), NOW)));
    }

    #[test]
    fn a_dead_job_without_a_record_still_says_why() {
        let s = bury(&reread(), "m9", &LastAttempt::default(), NOW);
        assert_eq!(s.error.as_deref(), Some("reread gave up after 0 attempts: unknown error"));
        assert_eq!(s.writes[0].params[0], "m9".into());
        assert!(sqls(&s).contains(&rereads::forget("42").sql));
    }

    #[test]
    fn statuses_are_the_jobs_pages_words() {
        let all = [JobStatus::Done, JobStatus::Retrying, JobStatus::Failed, JobStatus::Dead];
        assert_eq!(all.map(JobStatus::as_str), ["done", "retrying", "failed", "dead"]);
    }

    #[test]
    fn a_failing_error_event_backs_off_by_its_attempt_and_a_job_not_started_by_the_base() {
        let policy = RetryPolicy { base_secs: 10, max_secs: 3600 };
        let s = event_failed("m1", Some(3), "D1: too big", policy, NOW);
        assert_eq!((s.status, s.ack), (JobStatus::Retrying, Ack::Retry { delay_secs: 40 }));
        let uncounted = event_failed("m1", None, "D1: down", policy, NOW);
        assert_eq!(uncounted.ack, Ack::Retry { delay_secs: 10 }, "an attempt that could not be counted is the first");
        assert_eq!(s.writes, jobs_store::finish_job("m1", "retrying", Some("D1: too big"), NOW));
        assert_eq!(not_started(policy), Ack::Retry { delay_secs: 10 });
        assert!(is_dead_letter("sentry-kanban-jobs-dlq") && !is_dead_letter("sentry-kanban-jobs"));
    }

    #[test]
    fn a_board_change_is_202_and_one_whose_job_was_not_queued_fails_visibly() {
        let job = crate::writeback::WriteBackJob { card: "42".into(), requested_at: NOW.into(), installation: None };
        let (write, e) = writeback_unqueued(&job, "queue down");
        assert_eq!(e.status(), 503);
        let why = "could not queue the Sentry update: queue down";
        assert_eq!(write, writeback::settle(&job, "failed", Some(why), NOW));
        let body = serde_json::json!({"ok": true, "writeback": "pending"});
        assert_eq!(writeback_accepted(), Reply { status: 202, body, headers: vec![] });
    }
}
