//! The authoritative re-read: when a delivery cannot be proven newest (its
//! bytes were seen before, a `created` for a card that exists, a change the
//! worker cannot order, a comment edit), the issue (and its comments) is read
//! back from Sentry's API and the card settles to the answer.
//!
//! At most one re-read per issue is in flight: a `rereads` row stands for the
//! queued job. Deliveries that arrive meanwhile only move its `requested_at`;
//! the job, when done, removes the row only if nothing was requested after
//! it started reading, and otherwise reads once more.

use super::wire::{value_to_id, WireIssue};
use crate::board::{Comment, IssueState};
use crate::config::Config;
use crate::outbound::{self, CallError, HttpCall, HttpReply};
use crate::percent::encode;
use crate::sql::Stmt;
use crate::store;
use crate::time;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Every re-read waits this long in the queue, so a burst of deliveries for
/// one issue is answered by one read.
pub const DELAY_SECS: u32 = 2;
/// Comments read back per issue: the first page of the notes endpoint.
pub const MAX_COMMENTS: usize = 100;

/// The queue message: re-read this issue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RereadJob {
    pub issue: String,
    /// The installation whose token is used; `None` in internal mode.
    #[serde(default)]
    pub installation: Option<String>,
}

/// Where the job reads from: the organization, and whose token.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    Read { org: String, installation: Option<String> },
    Skip(&'static str),
}

/// The internal integration's organization, else the installation's.
pub fn target(cfg: &Config, job: &RereadJob, org_of_installation: Option<&str>, deleted: bool) -> Target {
    if let Some(internal) = &cfg.internal {
        return Target::Read { org: internal.org_slug.clone(), installation: None };
    }
    match (&job.installation, org_of_installation) {
        (Some(_), _) if deleted => Target::Skip("the installation was removed"),
        (Some(uuid), Some(org)) => Target::Read { org: org.to_string(), installation: Some(uuid.clone()) },
        _ => Target::Skip("the issue belongs to no installed Sentry organization"),
    }
}

fn issue_url(cfg: &Config, org: &str, issue: &str) -> String {
    format!("{}/api/0/organizations/{}/issues/{}/", cfg.sentry_api_base, encode(org), encode(issue))
}

/// `GET /api/0/organizations/{org}/issues/{id}/`.
pub fn issue_call(cfg: &Config, org: &str, issue: &str, bearer: &str) -> HttpCall {
    HttpCall {
        method: "GET",
        url: issue_url(cfg, org, issue),
        bearer: Some(bearer.into()),
        body: None,
        headers: vec![],
    }
}

/// `GET /api/0/organizations/{org}/issues/{id}/comments/` (the notes).
pub fn comments_call(cfg: &Config, org: &str, issue: &str, bearer: &str) -> HttpCall {
    let url = format!("{}comments/", issue_url(cfg, org, issue));
    HttpCall { method: "GET", url, bearer: Some(bearer.into()), body: None, headers: vec![] }
}

/// The issue as Sentry has it now; `None` when Sentry no longer has it
/// (404): the card is then left alone, as the sync leaves it.
/// Whether the re-read also reads the issue's comments: only a request
/// that asked for them (a comment webhook's), and only of an issue that
/// still exists.
pub fn reads_comments(asked: bool, state: Option<&IssueState>) -> bool {
    asked && state.is_some()
}

pub fn parse_issue(reply: &HttpReply, installation: Option<&str>) -> Result<Option<IssueState>, CallError> {
    if reply.status == 404 {
        return Ok(None);
    }
    let wire: WireIssue = outbound::json("read issue", reply)?;
    let (snapshot, assignee) = wire.into_snapshot(installation.map(str::to_string));
    Ok(Some(IssueState::from_api(snapshot, assignee)))
}

/// One note as the API lists it: `{id, user{name,…}, data{text}, dateCreated}`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireNote {
    #[serde(default)]
    id: Value,
    #[serde(default)]
    user: Option<Value>,
    #[serde(default)]
    data: Option<Value>,
    #[serde(default)]
    date_created: Option<String>,
}

/// The issue's live comments. A note without an id is skipped.
pub fn parse_comments(reply: &HttpReply, issue: &str, fetched_at: &str) -> Result<Vec<Comment>, CallError> {
    let notes: Vec<WireNote> = outbound::json("read comments", reply)?;
    Ok(notes.into_iter().take(MAX_COMMENTS).filter_map(|n| note(n, issue, fetched_at)).collect())
}

fn note(n: WireNote, issue: &str, fetched_at: &str) -> Option<Comment> {
    let text = |v: Option<&Value>, k: &str| v?.get(k)?.as_str().filter(|s| !s.trim().is_empty()).map(str::to_string);
    Some(Comment {
        id: value_to_id(&n.id)?,
        issue_id: issue.to_string(),
        author: text(n.user.as_ref(), "name").or_else(|| text(n.user.as_ref(), "username")),
        text: text(n.data.as_ref(), "text"),
        time: n.date_created.as_deref().and_then(time::canonical).unwrap_or_else(|| fetched_at.to_string()),
    })
}

/// One D1 batch for the answer: the card (as the sync writes it), the error
/// group's status, the comments when they were read (those Sentry no longer
/// lists become tombstones), and the end of the request.
pub fn statements(
    state: Option<&IssueState>,
    comments: Option<&[Comment]>,
    job: &RereadJob,
    started_at: &str,
    now: &str,
) -> Vec<Stmt> {
    let mut stmts = vec![];
    if let Some(state) = state {
        stmts.push(store::upsert_card_by(state, &store::history::Origin::reread(), started_at, now));
        stmts.push(store::errors::sync_status(&state.snapshot.id, state.status.as_str(), started_at));
    }
    if let Some(comments) = comments {
        stmts.extend(comments.iter().map(|c| store::comment(c, crate::board::CommentAction::Write, started_at, now)));
        let ids: Vec<&str> = comments.iter().map(|c| c.id.as_str()).collect();
        stmts.push(store::comments::tombstone_unlisted(&job.issue, &ids, started_at, now));
    }
    stmts.extend(store::rereads::finish(&job.issue, started_at, now));
    stmts
}

/// After the batch of `statements` ran (`changed`: rows changed by each):
/// whether to read once more, because a delivery asked for a re-read after
/// this one started reading (the row `finish` keeps then changed).
pub fn read_again(changed: &[usize]) -> bool {
    matches!(changed.len().checked_sub(2).and_then(|i| changed.get(i)), Some(n) if *n > 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::board::{AssigneeChange, Status};

    fn reply(status: u16, body: &str) -> HttpReply {
        HttpReply { status, body: body.into(), ..Default::default() }
    }

    #[test]
    fn comments_are_read_only_when_asked_and_the_issue_exists() {
        let body = r#"{"id":"42","status":"unresolved","assignedTo":null,"title":"T"}"#;
        let state = parse_issue(&reply(200, body), None).unwrap().unwrap();
        assert!(reads_comments(true, Some(&state)));
        assert!(!reads_comments(false, Some(&state)));
        assert!(!reads_comments(true, None), "a deleted issue has no comments to read");
    }

    #[test]
    fn a_request_made_while_reading_reads_once_more() {
        assert!(!read_again(&[1, 1, 0, 1]));
        assert!(read_again(&[1, 1, 1, 0]));
        assert!(!read_again(&[]));
    }

    #[test]
    fn the_target_is_the_internal_org_or_the_installations() {
        let job = RereadJob { issue: "1".into(), installation: Some("u1".into()) };
        let cfg = Config::default();
        assert_eq!(
            target(&cfg, &job, Some("acme"), false),
            Target::Read { org: "acme".into(), installation: Some("u1".into()) }
        );
        assert!(matches!(target(&cfg, &job, Some("acme"), true), Target::Skip(_)));
        assert!(matches!(target(&cfg, &job, None, false), Target::Skip(_)));
        let internal = Config {
            internal: Some(crate::config::Internal { token: "t".into(), org_slug: "in".into() }),
            ..Config::default()
        };
        assert_eq!(target(&internal, &job, None, false), Target::Read { org: "in".into(), installation: None });
    }

    #[test]
    fn the_calls_read_the_issue_and_its_notes() {
        let cfg = Config { sentry_api_base: "https://s".into(), ..Config::default() };
        assert_eq!(issue_call(&cfg, "a b", "42", "t").url, "https://s/api/0/organizations/a%20b/issues/42/");
        let c = comments_call(&cfg, "acme", "42", "t");
        assert_eq!(
            (c.method, c.url.as_str(), c.bearer.as_deref()),
            ("GET", "https://s/api/0/organizations/acme/issues/42/comments/", Some("t"))
        );
    }

    #[test]
    fn the_answer_is_authoritative_and_a_404_leaves_the_card() {
        let body = r#"{"id":"42","status":"resolved","assignedTo":null,"title":"T"}"#;
        let state = parse_issue(&reply(200, body), Some("u1")).unwrap().unwrap();
        assert_eq!((state.status, state.birth), (Status::Resolved, false));
        assert_eq!(state.assignee, AssigneeChange::Set(None), "the API's null is an unassignment");
        assert_eq!(parse_issue(&reply(404, "{}"), None).unwrap(), None);
        assert!(matches!(parse_issue(&reply(429, ""), None), Err(CallError::Retryable { .. })));
    }

    #[test]
    fn notes_become_comments() {
        let body = r#"[{"id":"9","user":{"name":"Ann"},"type":"note","data":{"text":"hi"},"dateCreated":"2026-01-01T00:00:00.5+00:00"},{"user":null},{"id":10,"data":{}}]"#;
        let got = parse_comments(&reply(200, body), "42", "2026-02-02T00:00:00.000Z").unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(
            (got[0].id.as_str(), got[0].author.as_deref(), got[0].text.as_deref()),
            ("9", Some("Ann"), Some("hi"))
        );
        assert_eq!(got[0].time, "2026-01-01T00:00:00.500Z");
        assert_eq!((got[1].id.as_str(), got[1].time.as_str()), ("10", "2026-02-02T00:00:00.000Z"));
    }

    #[test]
    fn the_batch_ends_the_request() {
        let job = RereadJob { issue: "42".into(), installation: None };
        let stmts = statements(None, None, &job, "s", "n");
        assert_eq!(stmts.len(), 2, "a 404 only ends the request");
        assert!(stmts[0].sql.contains("UPDATE rereads") && stmts[1].sql.contains("DELETE FROM rereads"));
    }
}
