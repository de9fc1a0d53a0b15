//! The re-read job, natively: what `shell/reread.rs` does with a queued
//! `rereads` row, with the API's answers supplied by the test.

use super::db;
use super::hook::arrival;
use rusqlite::Connection;
use sentry_kanban::config::{Config, Internal};
use sentry_kanban::jobs::{Job, Outcome};
use sentry_kanban::outbound::HttpReply;
use sentry_kanban::sentry::reread::{self, RereadJob};
use sentry_kanban::store::rereads;
use sentry_kanban::time::format_millis;

/// A worker in internal-integration mode: its token can always re-read.
pub fn token_cfg() -> Config {
    Config {
        internal: Some(Internal { token: "internal-token".into(), org_slug: "acme".into() }),
        ..super::hook::cfg()
    }
}

/// Sentry's answers for one issue: its JSON (`None`: 404) and, when asked
/// for, its notes (a JSON array).
pub struct Answer {
    pub issue: Option<String>,
    pub comments: String,
}

impl Answer {
    pub fn issue(json: String) -> Answer {
        Answer { issue: Some(json), comments: "[]".into() }
    }

    pub fn with_comments(mut self, json: &str) -> Answer {
        self.comments = json.into();
        self
    }
}

/// Runs the re-read jobs the deliveries' batches queued (and the follow-ups
/// those jobs queue), as the queue consumer would, at `arrival(t)`, each
/// answered by `api(issue id)`; returns how many API reads of an issue it
/// made. A request whose job was never queued is left in `rereads`.
pub fn serve(conn: &Connection, t: i64, mut api: impl FnMut(&str) -> Answer) -> usize {
    let mut queue: Vec<RereadJob> = take_reread_jobs();
    let mut reads = 0;
    while let Some(job) = queue.pop() {
        let pending = db::query(conn, rereads::PENDING, &[job.issue.as_str().into()]);
        let Some(row) = pending.first() else { continue };
        let started = format_millis(arrival(t));
        let answer = api(&job.issue);
        reads += 1;
        let reply = match &answer.issue {
            Some(body) => HttpReply { status: 200, body: body.clone(), ..Default::default() },
            None => HttpReply { status: 404, body: "{}".into(), ..Default::default() },
        };
        let state = reread::parse_issue(&reply, job.installation.as_deref()).expect("issue answer parses");
        let comments = match (row["comments"].as_i64() == Some(1), &state) {
            (true, Some(_)) => {
                let reply = HttpReply { status: 200, body: answer.comments.clone(), ..Default::default() };
                Some(reread::parse_comments(&reply, &job.issue, &started).expect("notes parse"))
            }
            _ => None,
        };
        let stmts = reread::statements(state.as_ref(), comments.as_deref(), &job, &started, &started);
        let changed = db::run_counted(conn, &stmts);
        if let Outcome::Done { follow_up, .. } = sentry_kanban::jobs::after_reread(&changed, &job) {
            queue.extend(follow_up.into_iter().filter_map(reread_job));
        }
        queue.extend(take_reread_jobs());
        assert!(reads < 1000, "re-reads never end");
    }
    reads
}

fn reread_job(job: Job) -> Option<RereadJob> {
    match job {
        Job::Reread(j) => Some(j),
        _ => None,
    }
}

fn take_reread_jobs() -> Vec<RereadJob> {
    super::hook::take_queued().into_iter().filter_map(reread_job).collect()
}

/// The re-reads waiting, by issue.
pub fn requested(conn: &Connection) -> Vec<String> {
    db::rows(conn, "SELECT issue_id FROM rereads ORDER BY issue_id")
        .iter()
        .map(|r| r["issue_id"].as_str().unwrap_or_default().to_string())
        .collect()
}
