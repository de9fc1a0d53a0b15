//! All SQL the worker runs, beside the schema in migrations/. Writes are
//! built as `Stmt`s (run by the shell on D1, and by the tests on rusqlite);
//! reads are SQL text plus a pure mapping from result rows to API values.

use crate::board::{Assignee, AssigneeChange, IssueState};
use crate::plan::{SqlValue, Stmt};
use serde_json::{json, Map, Value};

/// Inserts or updates one card. The `WHERE` makes it order-guarded: a state
/// older than the one already applied changes nothing, and replaying the same
/// state yields the same row.
const UPSERT_CARD: &str = "\
INSERT INTO cards (id, installation_uuid, short_id, title, culprit, permalink, level, status, substatus,
    project_id, project_slug, project_name, platform, event_count, user_count, first_seen, last_seen,
    assignee_type, assignee_id, assignee_name, assignee_email, applied_at, created_at, updated_at)
VALUES (?1, ?2, ?3, COALESCE(?4, ?3, 'Issue ' || ?1), ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
    ?18, ?19, ?20, ?21, ?22, ?23, ?23)
ON CONFLICT (id) DO UPDATE SET
    installation_uuid = COALESCE(excluded.installation_uuid, cards.installation_uuid),
    short_id = COALESCE(excluded.short_id, cards.short_id),
    title = COALESCE(?4, cards.title),
    culprit = COALESCE(excluded.culprit, cards.culprit),
    permalink = COALESCE(excluded.permalink, cards.permalink),
    level = COALESCE(excluded.level, cards.level),
    status = excluded.status,
    substatus = excluded.substatus,
    project_id = COALESCE(excluded.project_id, cards.project_id),
    project_slug = COALESCE(excluded.project_slug, cards.project_slug),
    project_name = COALESCE(excluded.project_name, cards.project_name),
    platform = COALESCE(excluded.platform, cards.platform),
    event_count = COALESCE(excluded.event_count, cards.event_count),
    user_count = COALESCE(excluded.user_count, cards.user_count),
    first_seen = COALESCE(excluded.first_seen, cards.first_seen),
    last_seen = COALESCE(excluded.last_seen, cards.last_seen),
    assignee_type = CASE WHEN ?24 THEN excluded.assignee_type ELSE cards.assignee_type END,
    assignee_id = CASE WHEN ?24 THEN excluded.assignee_id ELSE cards.assignee_id END,
    assignee_name = CASE WHEN ?24 THEN excluded.assignee_name ELSE cards.assignee_name END,
    assignee_email = CASE WHEN ?24 THEN excluded.assignee_email ELSE cards.assignee_email END,
    applied_at = excluded.applied_at,
    updated_at = excluded.updated_at
WHERE excluded.applied_at >= cards.applied_at";

/// Cards for the board, newest activity first. Column and ignored are
/// derived here, from the same two facts Sentry has: status and assignee.
pub const LIST_ITEMS: &str = "\
SELECT id, installation_uuid, short_id, title, culprit, permalink, level, status, substatus,
    project_slug, project_name, platform, event_count, user_count, first_seen, last_seen,
    assignee_type, assignee_id, assignee_name, assignee_email, updated_at,
    CASE WHEN status = 'resolved' THEN 'DONE'
         WHEN assignee_id IS NOT NULL OR assignee_name IS NOT NULL THEN 'DOING'
         ELSE 'TODO' END AS column_name,
    CASE WHEN status = 'ignored' THEN 1 ELSE 0 END AS ignored
FROM cards
ORDER BY COALESCE(last_seen, updated_at) DESC, id
LIMIT 2000";

/// The statement that records `state` for an issue, applied at `applied_at`.
pub fn upsert_card(state: &IssueState, applied_at: &str, now: &str) -> Stmt {
    let s = &state.snapshot;
    let (assignee_known, a) = match &state.assignee {
        AssigneeChange::Keep => (false, None),
        AssigneeChange::Set(a) => (true, a.as_ref()),
    };
    let field = |f: fn(&Assignee) -> Option<String>| SqlValue::from(a.and_then(f));
    Stmt {
        sql: UPSERT_CARD,
        params: vec![
            s.id.clone().into(),
            s.installation_uuid.clone().into(),
            s.short_id.clone().into(),
            s.title.clone().into(),
            s.culprit.clone().into(),
            s.permalink.clone().into(),
            s.level.clone().into(),
            state.status.as_str().into(),
            s.substatus.clone().into(),
            s.project_id.clone().into(),
            s.project_slug.clone().into(),
            s.project_name.clone().into(),
            s.platform.clone().into(),
            s.count.clone().into(),
            s.user_count.map_or(SqlValue::Null, SqlValue::Int),
            s.first_seen.clone().into(),
            s.last_seen.clone().into(),
            field(|a| Some(a.kind.clone())),
            field(|a| a.id.clone()),
            field(|a| a.name.clone()),
            field(|a| a.email.clone()),
            applied_at.into(),
            now.into(),
            assignee_known.into(),
        ],
    }
}

/// Maps one `LIST_ITEMS` row (as D1 or rusqlite returns it) to an API item.
pub fn item_from_row(row: &Map<String, Value>) -> Value {
    let text = |k: &str| row.get(k).filter(|v| !v.is_null()).cloned().unwrap_or(Value::Null);
    let assignee = match (text("assignee_id"), text("assignee_name")) {
        (Value::Null, Value::Null) => Value::Null,
        (id, name) => json!({
            "type": text("assignee_type"), "id": id, "name": name, "email": text("assignee_email"),
        }),
    };
    json!({
        "id": text("id"),
        "sentry_issue_id": text("id"),
        "installation": text("installation_uuid"),
        "short_id": text("short_id"),
        "title": text("title"),
        "culprit": text("culprit"),
        "permalink": text("permalink"),
        "level": text("level"),
        "status": text("status"),
        "substatus": text("substatus"),
        "column": text("column_name"),
        "ignored": truthy(row.get("ignored")),
        "assignee": assignee,
        "project": text("project_slug"),
        "project_name": text("project_name"),
        "platform": text("platform"),
        "count": text("event_count"),
        "user_count": row.get("user_count").and_then(Value::as_f64).map(|n| n as i64),
        "first_seen": text("first_seen"),
        "last_seen": text("last_seen"),
        "updated_at": text("updated_at"),
    })
}

fn truthy(v: Option<&Value>) -> bool {
    match v {
        Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0),
        Some(Value::Bool(b)) => *b,
        _ => false,
    }
}
