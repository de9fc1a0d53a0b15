//! SQL for comments: a webhook's write or tombstone (`comment`), one
//! card's list, and the re-read's tombstones for comments Sentry no longer
//! lists.

use crate::board::{Comment, CommentAction};
use crate::sql::Stmt;

/// One card's live comments (`?1` issue id), oldest first, for
/// `GET /api/items/{id}/comments`. Retention keeps at most 100 per card.
pub const LIST_CARD_COMMENTS: &str = "\
SELECT id, author, text, time FROM comments WHERE issue_id = ?1 AND deleted = 0 ORDER BY time, id LIMIT 200";

/// Writes a comment (created/updated), but only on an issue that has a card:
/// the `WHERE EXISTS` makes that decision in the database, since the plan
/// cannot read. Order-guarded like cards; a tombstone is never revived.
/// `time` keeps the earliest known, so an edit does not move the comment.
const WRITE_COMMENT: &str = "\
INSERT INTO comments (id, issue_id, author, text, time, deleted, applied_at, created_at, updated_at)
SELECT ?1, ?2, ?3, ?4, ?5, 0, ?6, ?7, ?7
WHERE EXISTS (SELECT 1 FROM cards WHERE id = ?2)
ON CONFLICT (id) DO UPDATE SET
    author = COALESCE(excluded.author, comments.author),
    text = excluded.text,
    time = CASE WHEN excluded.time < comments.time THEN excluded.time ELSE comments.time END,
    applied_at = excluded.applied_at,
    updated_at = excluded.updated_at
WHERE comments.deleted = 0 AND excluded.applied_at >= comments.applied_at";

/// Deletes a comment by leaving a tombstone, whatever order deliveries come
/// in: no created/updated delivery, older or retried later, brings it back.
const DELETE_COMMENT: &str = "\
INSERT INTO comments (id, issue_id, author, text, time, deleted, applied_at, created_at, updated_at)
SELECT ?1, ?2, ?3, NULL, ?4, 1, ?5, ?6, ?6
WHERE EXISTS (SELECT 1 FROM cards WHERE id = ?2)
ON CONFLICT (id) DO UPDATE SET
    text = NULL,
    deleted = 1,
    applied_at = MAX(comments.applied_at, excluded.applied_at),
    updated_at = excluded.updated_at
WHERE comments.deleted = 0";

/// The statement that writes (created/updated) or deletes a comment.
pub fn comment(c: &Comment, action: CommentAction, applied_at: &str, now: &str) -> Stmt {
    match action {
        CommentAction::Write => Stmt {
            sql: WRITE_COMMENT,
            params: vec![
                c.id.clone().into(),
                c.issue_id.clone().into(),
                c.author.clone().into(),
                c.text.clone().into(),
                c.time.clone().into(),
                applied_at.into(),
                now.into(),
            ],
        },
        CommentAction::Delete => Stmt {
            sql: DELETE_COMMENT,
            params: vec![
                c.id.clone().into(),
                c.issue_id.clone().into(),
                c.author.clone().into(),
                c.time.clone().into(),
                applied_at.into(),
                now.into(),
            ],
        },
    }
}

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
