//! Queue jobs: the messages, and what becomes of one after an attempt.
//! Every Sentry API call runs here, off the webhook's ack path.

use crate::config::RetryPolicy;
use crate::github::progress::ReconcileJob;
use crate::github::sync::{MembershipJob, TeamJob};
use crate::outbound::CallError;
use crate::sentry::errors::ErrorRecord;
use crate::sentry::reread::RereadJob;
use crate::sentry::sync::PageJob;
use crate::writeback::WriteBackJob;
use serde::{Deserialize, Serialize};

/// One queue message. Messages carry no secrets: grant codes and tokens stay
/// in D1 and are looked up by installation; error events are sanitised.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Job {
    /// Exchange the installation's grant code for a token, then queue
    /// `VerifyInstallation` and `SyncMembers`.
    ActivateInstallation { installation: String },
    /// Tell Sentry the installation is set up (`status: installed`).
    VerifyInstallation { installation: String },
    /// Mirror the organization's members (the users the board can offer).
    SyncMembers { installation: String },
    /// One condensed, sanitised error event for the error log. Consumed a
    /// whole batch at a time.
    ErrorEvent(Box<ErrorRecord>),
    /// A GitHub team created, deleted or edited: mirror it in Sentry.
    GithubTeam(TeamJob),
    /// A GitHub team membership added or removed: mirror it in Sentry.
    GithubMembership(MembershipJob),
    /// Part of a reconcile run: list GitHub's teams and members, from where
    /// the run got to, and queue the corrections.
    GithubReconcile(ReconcileJob),
    /// Pages of a cron sync run, from a cursor.
    SyncPage(PageJob),
    /// A change made on the board: push the card's pending fields to Sentry.
    WriteBack(WriteBackJob),
    /// Read an issue (and its comments) back from the API: a delivery for it
    /// could not be proven newest.
    Reread(RereadJob),
}

impl Job {
    pub fn kind(&self) -> &'static str {
        match self {
            Job::ActivateInstallation { .. } => "activate_installation",
            Job::VerifyInstallation { .. } => "verify_installation",
            Job::SyncMembers { .. } => "sync_members",
            Job::ErrorEvent(_) => "error_event",
            Job::GithubTeam(_) => "github_team",
            Job::GithubMembership(_) => "github_membership",
            Job::GithubReconcile(_) => "github_reconcile",
            Job::SyncPage(_) => "sync_page",
            Job::WriteBack(_) => "write_back",
            Job::Reread(_) => "reread",
        }
    }

    pub fn installation(&self) -> &str {
        match self {
            Job::ActivateInstallation { installation }
            | Job::VerifyInstallation { installation }
            | Job::SyncMembers { installation } => installation,
            Job::ErrorEvent(r) => r.installation.as_deref().unwrap_or(""),
            Job::GithubTeam(_) | Job::GithubMembership(_) | Job::GithubReconcile(_) => "",
            Job::SyncPage(j) => j.installation.as_deref().unwrap_or(""),
            Job::WriteBack(j) => j.installation.as_deref().unwrap_or(""),
            Job::Reread(j) => j.installation.as_deref().unwrap_or(""),
        }
    }

    /// How long the message waits in the queue before it is delivered.
    pub fn delay_secs(&self) -> u32 {
        match self {
            Job::Reread(_) => crate::sentry::reread::DELAY_SECS,
            _ => 0,
        }
    }

    /// The GitHub delivery a sync job stands for (its row in the sync status).
    pub fn github_delivery(&self) -> Option<&str> {
        self.github_key().map(|(delivery, _)| delivery)
    }

    /// The GitHub team a sync job concerns.
    pub fn github_team(&self) -> Option<&str> {
        match self {
            Job::GithubTeam(j) => Some(&j.team_id),
            Job::GithubMembership(j) => Some(&j.team_id),
            _ => None,
        }
    }

    /// The key of that row: the delivery id and the body's SHA-256.
    pub fn github_key(&self) -> Option<(&str, &str)> {
        match self {
            Job::GithubTeam(j) => Some((&j.delivery, &j.body_sha256)),
            Job::GithubMembership(j) => Some((&j.delivery, &j.body_sha256)),
            _ => None,
        }
    }
}

/// The statements that record that `jobs`, planned for a delivery of body
/// `digest`, could not be queued: the delivery is marked failed (so
/// Sentry's retry is applied again) and a re-read request is left without
/// a job (so the next request queues one).
pub fn unqueued(jobs: &[Job], digest: Option<&str>, error: &str) -> Vec<crate::sql::Stmt> {
    let mut stmts: Vec<crate::sql::Stmt> = jobs
        .iter()
        .filter_map(|j| match j {
            Job::Reread(r) => Some(crate::store::rereads::forget(&r.issue)),
            _ => None,
        })
        .collect();
    stmts.extend(digest.map(|d| crate::store::delivery_failed(d, "enqueue_failed", error)));
    stmts
}

/// At most this many jobs in a wave: a job's prelude is read when its wave
/// starts, so the jobs before it in the wave (one after another, with their
/// API calls) bound how old that read is when the job runs.
pub const WAVE_MAX: usize = 16;

/// A batch's GitHub sync jobs (in arrival order) as waves, by index. Waves
/// run one after another and a wave's jobs in arrival order, so a job is
/// put in the first wave that keeps what it must follow before it: every
/// earlier job of its team (a team is created before a membership that
/// needs it), and for a team event every earlier team event of any team
/// (Sentry's slugs are the organization's: "A deleted foo" must run before
/// "B created foo"). Each wave starts, and records the wave before it, in
/// one D1 round trip; waves are cut in chunks of `WAVE_MAX`.
pub fn waves(jobs: &[&Job]) -> Vec<Vec<usize>> {
    let mut next: std::collections::HashMap<Option<&str>, usize> = std::collections::HashMap::new();
    let mut last_team_event = 0;
    let mut waves: Vec<Vec<usize>> = vec![];
    for (i, job) in jobs.iter().enumerate() {
        let mut k = next.get(&job.github_team()).copied().unwrap_or(0);
        if matches!(job, Job::GithubTeam(_)) {
            k = k.max(last_team_event);
            last_team_event = k;
        }
        next.insert(job.github_team(), k + 1);
        if waves.len() <= k {
            waves.resize(k + 1, vec![]);
        }
        waves[k].push(i);
    }
    waves.into_iter().flat_map(|w| w.chunks(WAVE_MAX).map(<[usize]>::to_vec).collect::<Vec<_>>()).collect()
}

/// What the consumer does with a message after an attempt.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Acknowledge. `follow_up` jobs are queued first; `writes` (what the
    /// job learnt) go into the batch that records it done, so both land or
    /// neither does.
    Done { follow_up: Vec<Job>, writes: Vec<crate::sql::Stmt> },
    /// Retry the message after `delay_secs`; after the queue's max retries it
    /// goes to the dead-letter queue.
    Retry { delay_secs: u32, error: String },
    /// Acknowledge and record the error: trying again cannot help.
    Fail { error: String },
}

impl Outcome {
    pub fn done() -> Self {
        Outcome::Done { follow_up: vec![], writes: vec![] }
    }

    pub fn follow_up(jobs: Vec<Job>) -> Self {
        Outcome::Done { follow_up: jobs, writes: vec![] }
    }

    /// Done, once `writes` are recorded with the job's own row.
    pub fn done_with(writes: Vec<crate::sql::Stmt>) -> Self {
        Outcome::Done { follow_up: vec![], writes }
    }

    /// Maps a failed call to a retry or a failure. `attempt` counts from 1.
    pub fn from_error(e: CallError, policy: RetryPolicy, attempt: u32) -> Self {
        match e {
            CallError::Retryable { after, detail } => {
                Outcome::Retry { delay_secs: retry_delay(policy, attempt, after), error: detail }
            }
            CallError::Permanent { detail } => Outcome::Fail { error: detail },
        }
    }
}

/// A finished re-read: done, or the same job once more when a delivery
/// asked for it while it was reading.
pub fn after_reread(changed: &[usize], job: &RereadJob) -> Outcome {
    match crate::sentry::reread::read_again(changed) {
        true => Outcome::follow_up(vec![Job::Reread(job.clone())]),
        false => Outcome::done(),
    }
}

/// Cloudflare Queues accepts retry delays up to 12 hours.
pub const MAX_QUEUE_DELAY_SECS: u32 = 12 * 60 * 60;

/// Exponential backoff from the policy; a server's `Retry-After` is honoured
/// when it asks for longer.
pub fn retry_delay(policy: RetryPolicy, attempt: u32, retry_after: Option<u32>) -> u32 {
    let exp = attempt.saturating_sub(1).min(20);
    let backoff = policy.base_secs.saturating_mul(1 << exp).min(policy.max_secs);
    backoff.max(retry_after.unwrap_or(0)).min(MAX_QUEUE_DELAY_SECS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waves_keep_each_teams_jobs_in_arrival_order() {
        let team = |delivery: &str, team: &str| {
            Job::GithubTeam(crate::github::sync::TeamJob {
                delivery: delivery.into(),
                body_sha256: String::new(),
                action: crate::github::sync::TeamAction::Created,
                team_id: team.into(),
                slug: None,
            })
        };
        let member = |delivery: &str, team: &str| {
            Job::GithubMembership(crate::github::sync::MembershipJob {
                delivery: delivery.into(),
                body_sha256: String::new(),
                action: crate::github::sync::MemberAction::Added,
                team_id: team.into(),
                team_slug: None,
                login: "octo".into(),
                org: None,
            })
        };
        let run_order = |jobs: &[Job]| waves(&jobs.iter().collect::<Vec<_>>()).concat();
        let position = |order: &[usize], i: usize| order.iter().position(|&j| j == i).unwrap();
        // Memberships of different teams interleave; a team's jobs stay in order.
        let jobs = [member("a1", "A"), member("b1", "B"), member("a2", "A"), member("c1", "C"), member("a3", "A")];
        assert_eq!(waves(&jobs.iter().collect::<Vec<_>>()), vec![vec![0, 1, 3], vec![2], vec![4]]);
        // Team events of different teams keep their arrival order too.
        let jobs =
            [team("a1", "A"), team("b1", "B"), team("a2", "A"), team("c1", "C"), team("a3", "A"), team("b2", "B")];
        assert_eq!(waves(&jobs.iter().collect::<Vec<_>>()), vec![vec![0, 1], vec![2, 3], vec![4, 5]]);
        // "A created", "A deleted foo", then "B created foo": B's create runs after A's delete.
        let jobs = [team("a1", "A"), team("a2", "A"), team("b1", "B"), member("b2", "B"), member("c1", "C")];
        let order = run_order(&jobs);
        assert!(position(&order, 1) < position(&order, 2), "team events keep their arrival order: {order:?}");
        assert!(position(&order, 2) < position(&order, 3), "a membership follows its team's event: {order:?}");
        assert_eq!(waves(&jobs.iter().collect::<Vec<_>>())[0], vec![0, 4], "an unrelated membership need not wait");
        // Property: over every mix of 3 teams' team and membership events, the
        // order run keeps each team's order and the team events' order.
        for mask in 0u32..6u32.pow(6) {
            let jobs: Vec<Job> = (0..6)
                .map(|i| {
                    let code = (mask / 6u32.pow(i)) % 6;
                    let (t, kind) = (code % 3, code / 3);
                    let (d, t) = (format!("j{i}"), t.to_string());
                    if kind == 0 {
                        team(&d, &t)
                    } else {
                        member(&d, &t)
                    }
                })
                .collect();
            let order = run_order(&jobs);
            assert_eq!(order.len(), jobs.len());
            for (i, j) in (0..6).flat_map(|i| (i + 1..6).map(move |j| (i, j))) {
                let same_team = jobs[i].github_team() == jobs[j].github_team();
                let both_team_events = matches!((&jobs[i], &jobs[j]), (Job::GithubTeam(_), Job::GithubTeam(_)));
                if same_team || both_team_events {
                    assert!(position(&order, i) < position(&order, j), "case {mask}: {i} before {j} in {order:?}");
                }
            }
        }
        let distinct: Vec<Job> = (0..100).map(|i| team(&format!("d{i}"), &i.to_string())).collect();
        let refs: Vec<&Job> = distinct.iter().collect();
        let chunked = waves(&refs);
        assert_eq!(chunked.len(), 100_usize.div_ceil(WAVE_MAX), "distinct teams: one wave, in chunks");
        assert!(chunked.iter().all(|w| w.len() <= WAVE_MAX));
        assert_eq!(chunked.concat(), (0..100).collect::<Vec<_>>(), "in arrival order");
        assert!(waves(&[]).is_empty());
    }

    #[test]
    fn a_request_made_while_reading_reads_once_more() {
        let job = RereadJob { issue: "42".into(), installation: None };
        assert_eq!(after_reread(&[1, 1, 0, 1], &job), Outcome::done());
        assert_eq!(after_reread(&[1, 1, 1, 0], &job), Outcome::follow_up(vec![Job::Reread(job.clone())]));
        assert_eq!(after_reread(&[], &job), Outcome::done());
    }

    #[test]
    fn messages_are_tagged_json_without_secrets() {
        let job = Job::ActivateInstallation { installation: "u1".into() };
        let text = serde_json::to_string(&job).unwrap();
        assert_eq!(text, r#"{"kind":"activate_installation","installation":"u1"}"#);
        assert_eq!(serde_json::from_str::<Job>(&text).unwrap(), job);
        assert!(serde_json::from_str::<Job>(r#"{"kind":"nope","installation":"u1"}"#).is_err());
        assert_eq!(job.kind(), "activate_installation");
        assert_eq!(job.installation(), "u1");
    }

    #[test]
    fn github_jobs_carry_their_delivery_and_no_installation() {
        let job = Job::GithubMembership(MembershipJob {
            delivery: "d-1".into(),
            body_sha256: "ab".into(),
            action: crate::github::sync::MemberAction::Removed,
            team_id: "42".into(),
            team_slug: Some("web".into()),
            login: "octo".into(),
            org: Some("acme".into()),
        });
        let text = serde_json::to_string(&job).unwrap();
        assert!(
            text.starts_with(r#"{"kind":"github_membership","delivery":"d-1","body_sha256":"ab","action":"removed""#),
            "{text}"
        );
        assert_eq!(serde_json::from_str::<Job>(&text).unwrap(), job);
        assert_eq!((job.kind(), job.installation(), job.github_delivery()), ("github_membership", "", Some("d-1")));
        assert_eq!(job.github_key(), Some(("d-1", "ab")));
        // A message queued before the key had a digest still reads, keyed by "".
        let old = r#"{"kind":"github_membership","delivery":"d-0","action":"added","team_id":"1","team_slug":"w","login":"o"}"#;
        let old = serde_json::from_str::<Job>(old).unwrap();
        assert_eq!(old.github_key(), Some(("d-0", "")));
    }

    #[test]
    fn jobs_that_could_not_be_queued_free_their_reread_and_fail_their_delivery() {
        let jobs = vec![
            Job::Reread(RereadJob { issue: "42".into(), installation: None }),
            Job::SyncMembers { installation: "u".into() },
        ];
        let stmts = unqueued(&jobs, Some("abc"), "queue down");
        assert_eq!(stmts.len(), 2);
        assert!(stmts[0].sql.contains("UPDATE rereads SET queued_at = ''"));
        assert!(stmts[1].sql.contains("UPDATE deliveries SET status = 503"));
        assert!(unqueued(&jobs[1..], None, "x").is_empty());
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_and_honours_retry_after() {
        let p = RetryPolicy { base_secs: 10, max_secs: 60 };
        let delays: Vec<u32> = (1..=5).map(|a| retry_delay(p, a, None)).collect();
        assert_eq!(delays, vec![10, 20, 40, 60, 60]);
        assert_eq!(retry_delay(p, 1, Some(120)), 120, "Retry-After longer than the backoff wins");
        assert_eq!(retry_delay(p, 3, Some(1)), 40, "a short Retry-After does not shorten the backoff");
        assert_eq!(retry_delay(p, 1, Some(u32::MAX)), MAX_QUEUE_DELAY_SECS);
        assert_eq!(retry_delay(p, 999, None), 60);
    }

    #[test]
    fn retryable_errors_retry_and_permanent_ones_fail() {
        let p = RetryPolicy { base_secs: 2, max_secs: 100 };
        let retry = Outcome::from_error(CallError::Retryable { after: Some(5), detail: "d".into() }, p, 1);
        assert_eq!(retry, Outcome::Retry { delay_secs: 5, error: "d".into() });
        let fail = Outcome::from_error(CallError::Permanent { detail: "gone".into() }, p, 1);
        assert_eq!(fail, Outcome::Fail { error: "gone".into() });
    }
}
