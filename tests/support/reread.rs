//! The re-read job, natively: what `shell/reread.rs` does with a queued
//! `rereads` row, with the API's answers supplied by the test.

use super::db;
use super::hook::arrival;
use rusqlite::Connection;
use sentry_kanban::config::{Config, Internal};
use sentry_kanban::outbound::HttpReply;
use sentry_kanban::sentry::reread::{self, RereadJob};
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

/// Runs every requested re-read at `arrival(t)`, each answered by `api(issue
/// id)`, until none is left; returns how many API reads of an issue it made.
pub fn serve(conn: &Connection, t: i64, mut api: impl FnMut(&str) -> Answer) -> usize {
    let mut reads = 0;
    loop {
        let rows = db::rows(conn, "SELECT issue_id, installation_uuid, comments FROM rereads ORDER BY issue_id");
        let Some(row) = rows.first() else { return reads };
        let issue = row["issue_id"].as_str().expect("issue id").to_string();
        let job =
            RereadJob { issue: issue.clone(), installation: row["installation_uuid"].as_str().map(str::to_string) };
        let started = format_millis(arrival(t));
        let answer = api(&issue);
        reads += 1;
        let reply = match &answer.issue {
            Some(body) => HttpReply { status: 200, body: body.clone(), ..Default::default() },
            None => HttpReply { status: 404, body: "{}".into(), ..Default::default() },
        };
        let state = reread::parse_issue(&reply, job.installation.as_deref()).expect("issue answer parses");
        let comments = match (row["comments"].as_i64() == Some(1), &state) {
            (true, Some(_)) => {
                let reply = HttpReply { status: 200, body: answer.comments.clone(), ..Default::default() };
                Some(reread::parse_comments(&reply, &issue, &started).expect("notes parse"))
            }
            _ => None,
        };
        db::run(conn, &reread::statements(state.as_ref(), comments.as_deref(), &job, &started, &started));
        assert!(reads < 1000, "re-reads never end");
    }
}

/// The re-reads waiting, by issue.
pub fn requested(conn: &Connection) -> Vec<String> {
    db::rows(conn, "SELECT issue_id FROM rereads ORDER BY issue_id")
        .iter()
        .map(|r| r["issue_id"].as_str().unwrap_or_default().to_string())
        .collect()
}
