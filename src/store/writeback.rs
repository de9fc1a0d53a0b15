//! SQL for board changes and their push to Sentry (schema:
//! migrations/0008_writeback.sql).

use crate::sql::row_text as text;
use crate::sql::{SqlValue, Stmt};
use crate::store::history;
use crate::writeback::{Change, Pending, WriteBackJob};
use serde_json::{Map, Value};

/// Applies a board change to an issue card and marks its fields pending.
/// A status change sets the substatus the board chose (`?9`), or none until
/// Sentry says which (a plain ignore or reopen).
/// `applied_at` moves to the change's time, so an older delivery cannot
/// undo it; a row comes back only when the card exists.
pub const BOARD_CHANGE: &str = "\
UPDATE cards SET
    status = COALESCE(?2, status),
    substatus = CASE WHEN ?2 IS NOT NULL THEN ?9 ELSE substatus END,
    writeback_substatus = CASE WHEN ?2 IS NOT NULL THEN ?9 IS NOT NULL ELSE writeback_substatus END,
    assignee_type = CASE WHEN ?3 THEN ?4 ELSE assignee_type END,
    assignee_id = CASE WHEN ?3 THEN ?5 ELSE assignee_id END,
    assignee_name = CASE WHEN ?3 THEN ?6 ELSE assignee_name END,
    assignee_email = CASE WHEN ?3 THEN ?7 ELSE assignee_email END,
    writeback_status = CASE WHEN ?2 IS NOT NULL THEN 1 ELSE writeback_status END,
    writeback_assignee = CASE WHEN ?3 THEN 1 ELSE writeback_assignee END,
    writeback_state = 'pending',
    writeback_error = NULL,
    writeback_at = ?8,
    applied_at = MAX(applied_at, ?8),
    updated_at = ?8,
    last_source = ?10, last_action = ?11, last_actor = ?12, last_at = ?8
WHERE id = ?1
RETURNING id, installation_uuid";

pub fn board_change_params(card: &str, change: &Change, now: &str) -> Vec<SqlValue> {
    board_change_params_by(card, change, now, None)
}

/// `board_change_params`, with the board's user (if it knows one) for the
/// card's history (`?10`–`?12`).
pub fn board_change_params_by(card: &str, change: &Change, now: &str, user: Option<&str>) -> Vec<SqlValue> {
    let origin = history::Origin::board(&history::board_verb(change), user);
    let (known, a) = match &change.assignee {
        None => (false, None),
        Some(a) => (true, a.as_ref()),
    };
    let field = |f: fn(&crate::board::Assignee) -> Option<String>| SqlValue::from(a.and_then(f));
    vec![
        card.into(),
        change.status.map(|s| s.as_str().to_string()).into(),
        known.into(),
        field(|a| Some(a.kind.clone())),
        field(|a| a.id.clone()),
        field(|a| a.name.clone()),
        field(|a| a.email.clone()),
        now.into(),
        change.substatus.clone().into(),
    ]
    .into_iter()
    .chain(origin.params())
    .collect()
}

/// What a write-back job needs of its card.
pub const PENDING: &str = "\
SELECT c.status, c.substatus, c.assignee_type, c.assignee_id, c.installation_uuid, c.writeback_status,
    c.writeback_assignee, c.writeback_substatus, c.writeback_at, i.org_slug, i.status AS installation_status
FROM cards AS c LEFT JOIN installations AS i ON i.uuid = c.installation_uuid
WHERE c.id = ?1";

pub fn pending_from_row(row: &Map<String, Value>) -> Pending {
    let flag = |k: &str| row.get(k).and_then(Value::as_f64).is_some_and(|n| n != 0.0);
    Pending {
        status: text(row, "status").unwrap_or_default(),
        substatus: text(row, "substatus"),
        assignee_type: text(row, "assignee_type"),
        assignee_id: text(row, "assignee_id"),
        installation: text(row, "installation_uuid"),
        org_slug: text(row, "org_slug"),
        installation_deleted: text(row, "installation_status").as_deref() == Some("deleted"),
        push_status: flag("writeback_status"),
        push_assignee: flag("writeback_assignee"),
        push_substatus: flag("writeback_substatus"),
        writeback_at: text(row, "writeback_at"),
    }
}

/// Records a job's outcome on its card, unless a newer change took over:
/// `done` clears the pending fields, `retrying`/`failed` show the error.
/// `now`: when the outcome is known (for `done`, after Sentry answered).
pub fn settle(job: &WriteBackJob, status: &str, error: Option<&str>, now: &str) -> Stmt {
    let key = vec![job.card.as_str().into(), job.requested_at.as_str().into()];
    let with_error = |sql| Stmt { sql, params: [key.clone(), vec![error.map(str::to_string).into()]].concat() };
    match status {
        "done" => Stmt { sql: CLEAR_PENDING, params: [key.clone(), vec![now.into()]].concat() },
        "retrying" => with_error(
            "UPDATE cards SET writeback_state = 'retrying', writeback_error = ?3 WHERE id = ?1 AND writeback_at = ?2",
        ),
        _ => with_error(
            "UPDATE cards SET writeback_state = 'failed', writeback_error = ?3 WHERE id = ?1 AND writeback_at = ?2",
        ),
    }
}

/// The push is done: the pending fields are Sentry's again. `applied_at`
/// moves to the moment Sentry answered, so a sync page or a re-read that
/// read the issue before the push landed cannot undo the board's change.
const CLEAR_PENDING: &str = "\
UPDATE cards SET writeback_state = NULL, writeback_error = NULL, writeback_status = 0, writeback_assignee = 0,
    writeback_substatus = 0, applied_at = MAX(applied_at, ?3)
WHERE id = ?1 AND writeback_at = ?2";

/// The assignees the board can offer for a card: its installation's
/// members (with a Sentry user id; pending invites cannot be assigned) and
/// the users and teams already assigned on its installation's cards.
pub const ASSIGNEES: &str = "\
WITH card AS (SELECT installation_uuid FROM cards WHERE id = ?1)
SELECT type, id, name, email, MIN(source) AS source FROM (
    SELECT 'user' AS type, user_id AS id, COALESCE(NULLIF(name, ''), email, user_id) AS name, email, 0 AS source
    FROM members WHERE installation_uuid IS (SELECT installation_uuid FROM card) AND user_id IS NOT NULL
    UNION ALL
    SELECT assignee_type, assignee_id, COALESCE(assignee_name, assignee_email, assignee_id), assignee_email, 1
    FROM cards WHERE installation_uuid IS (SELECT installation_uuid FROM card)
        AND assignee_type IN ('user', 'team') AND assignee_id IS NOT NULL
)
GROUP BY type, id ORDER BY type DESC, name, id LIMIT 500";
