//! SQL for comments written from the API's answer (the re-read). Webhook
//! writes are `store::comment`.

use crate::sql::Stmt;

/// Comments of issue `?1` that Sentry no longer lists (`?2`, a JSON array of
/// ids) become tombstones, unless a delivery applied after the list was
/// read (`?3`) wrote them.
const TOMBSTONE_UNLISTED: &str = "\
UPDATE comments SET text = NULL, deleted = 1, updated_at = ?4
WHERE issue_id = ?1 AND deleted = 0 AND applied_at <= ?3
    AND id NOT IN (SELECT value FROM json_each(?2))";

pub fn tombstone_unlisted(issue: &str, listed: &[&str], read_at: &str, now: &str) -> Stmt {
    let ids = serde_json::to_string(listed).unwrap_or_else(|_| "[]".into());
    Stmt { sql: TOMBSTONE_UNLISTED, params: vec![issue.into(), ids.into(), read_at.into(), now.into()] }
}
