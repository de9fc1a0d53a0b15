//! `comment` webhooks (created / updated / deleted) → the comments shown on
//! an issue's card. The plan cannot read, so "only if the issue has a card"
//! is decided by the SQL itself (see `store::comment`).

use super::wire::{opt_id, opt_text, Envelope};
use crate::board::{Comment, CommentAction};
use crate::error::AppError;
use crate::plan::{Plan, Reply, Verdict};
use crate::store;
use crate::time;
use serde::Deserialize;
use serde_json::{json, Value};

/// `data` as `build_comment_webhook` sends it; the ids are ints on the wire.
#[derive(Debug, Deserialize)]
struct CommentData {
    #[serde(default, deserialize_with = "opt_id")]
    comment_id: Option<String>,
    #[serde(default, deserialize_with = "opt_id")]
    issue_id: Option<String>,
    /// The comment's text.
    #[serde(default, deserialize_with = "opt_text")]
    comment: Option<String>,
    /// When the comment was written (or edited, or deleted).
    #[serde(default, deserialize_with = "opt_text")]
    timestamp: Option<String>,
}

/// Reads one comment delivery; `None` for an action the board does not
/// handle. `now` dates a comment whose delivery has no timestamp.
pub fn parse(env: &Envelope, now: &str) -> Result<Option<(Comment, CommentAction)>, AppError> {
    let Some(action) = CommentAction::parse(&env.action) else {
        return Ok(None);
    };
    let data = CommentData::deserialize(&env.data)
        .map_err(|e| AppError::BadRequest(format!("comment webhook with unusable data: {e}")))?;
    let id = data.comment_id.ok_or_else(|| AppError::BadRequest("comment webhook without data.comment_id".into()))?;
    let issue_id = data.issue_id.ok_or_else(|| AppError::BadRequest("comment webhook without data.issue_id".into()))?;
    let comment = Comment {
        id,
        issue_id,
        author: actor_name(env.actor.as_ref()),
        text: data.comment,
        time: data.timestamp.as_deref().and_then(time::canonical).unwrap_or_else(|| now.to_string()),
    };
    Ok(Some((comment, action)))
}

/// The write for one comment delivery that is not a retry.
pub fn plan(comment: &Comment, action: CommentAction, wire_action: &str, now: &str) -> Plan {
    Plan {
        statements: vec![store::comment(comment, action, now, now)],
        jobs: vec![],
        guard: None,
        reply: Reply::ok(json!({ "ok": true, "comment": comment.id, "issue": comment.issue_id })),
        verdict: Verdict::new("comment", wire_action, "applied"),
    }
}

/// The acting user's (or app's) name, else its id.
fn actor_name(actor: Option<&Value>) -> Option<String> {
    let obj = actor?.as_object()?;
    let text = |k: &str| match obj.get(k) {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    text("name").or_else(|| text("id"))
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::plan::SqlValue;

    fn deliver(body: &str) -> Result<Plan, AppError> {
        crate::sentry::hook::tests::deliver("comment", body)
    }

    const CREATED: &str = r#"{"action":"created","data":{"comment":"adding a comment","project_slug":"sentry","comment_id":1234,"issue_id":100,"timestamp":"2022-03-02T21:51:44.118160Z"},"installation":{"uuid":"u1"},"actor":{"type":"user","id":1,"name":"colleen"}}"#;

    #[test]
    fn a_created_comment_plans_one_conditional_write() {
        let plan = deliver(CREATED).unwrap();
        assert_eq!(plan.statements.len(), 1);
        let s = &plan.statements[0];
        assert!(s.sql.contains("WHERE EXISTS (SELECT 1 FROM cards WHERE id = ?2)"), "{}", s.sql);
        assert_eq!(s.params[0], SqlValue::Text("1234".into()), "int ids become text");
        assert_eq!(s.params[1], SqlValue::Text("100".into()));
        assert_eq!(s.params[2], SqlValue::Text("colleen".into()));
        assert_eq!(s.params[3], SqlValue::Text("adding a comment".into()));
        assert_eq!(s.params[4], SqlValue::Text("2022-03-02T21:51:44.118Z".into()));
        assert_eq!(s.params[5], SqlValue::Text("2023-11-14T22:13:20.000Z".into()), "applied_at is the arrival");
        assert_eq!((plan.verdict.resource.as_str(), plan.verdict.outcome), ("comment", "applied"));
    }

    #[test]
    fn deleted_plans_a_tombstone_and_string_ids_work_too() {
        let body = CREATED.replace(r#""created""#, r#""deleted""#).replace("1234", r#""1234""#);
        let plan = deliver(&body).unwrap();
        let s = &plan.statements[0];
        assert!(s.sql.contains("deleted = 1"), "{}", s.sql);
        assert_eq!(s.params[0], SqlValue::Text("1234".into()));
    }

    #[test]
    fn unknown_actions_are_skipped_and_missing_ids_are_unusable() {
        let plan = deliver(r#"{"action":"reacted","data":{}}"#).unwrap();
        assert!(plan.statements.is_empty());
        assert_eq!(plan.verdict.outcome, "skipped");
        for body in [
            r#"{"action":"created","data":{"issue_id":1,"comment":"x"}}"#,
            r#"{"action":"updated","data":{"comment_id":1,"comment":"x"}}"#,
            r#"{"action":"deleted","data":null}"#,
        ] {
            let plan = deliver(body).unwrap();
            assert_eq!((plan.verdict.outcome, plan.reply.status), ("unusable", 200), "{body}");
            assert!(plan.statements.is_empty(), "{body}");
        }
    }

    #[test]
    fn without_a_timestamp_the_comment_is_dated_by_the_delivery() {
        let plan = deliver(r#"{"action":"updated","data":{"comment_id":"7","issue_id":"8","comment":"y"}}"#).unwrap();
        let p = &plan.statements[0].params;
        assert_eq!(p[2], SqlValue::Null, "no actor, no author");
        assert_eq!(p[4], p[5]);
    }
}
