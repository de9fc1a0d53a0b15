//! `comment` webhooks (created / updated / deleted) → the comments shown on
//! an issue's card. The plan cannot read, so "only if the issue has a card"
//! is decided by the SQL itself (see `store::comment`).

use super::wire::{opt_id, opt_text, Envelope};
use crate::board::{Comment, CommentAction};
use crate::error::AppError;
use crate::plan::{Plan, Reply, Verdict};
use crate::store;
use crate::time;
use crate::webhook::verdict::Outcome;
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
        verdict: Verdict::new("comment", wire_action, Outcome::Applied),
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
