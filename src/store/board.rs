//! The board's reads: every card under one set of column names, the
//! last sync, and the mapping of rows to the API's items and comments.

use crate::board::ItemFilter;
use crate::sql::{id_text, SqlValue};
use serde_json::{json, Map, Value};
use std::collections::HashMap;

/// Every card for the board, newest activity first: issue cards (`kind`
/// 'issue') and alert cards (`kind` 'event_alert' | 'metric_alert') under the
/// same column names. An issue card's column and ignored flag are derived
/// here, from the same two facts Sentry has: status and assignee. An alert
/// card is DONE when its metric alert is resolved, or when the issue its
/// event alert fired for has a resolved card; TODO otherwise. For alerts,
/// `culprit` is the event's culprit or the metric description, `first_seen`/
/// `last_seen` are the first and last trigger. `?1` is an organization slug
/// to filter by (through the card's installation), or NULL for all; `?2`
/// and `?3` are JSON arrays of the substatuses and priorities to keep, or
/// NULL for any (`list_items_params`). Alert cards have neither, so a
/// substatus or priority filter shows issue cards only.
pub const LIST_ITEMS: &str = "\
SELECT u.*, i.org_slug FROM (
SELECT id, 'issue' AS kind, installation_uuid, short_id, title, culprit, permalink, level, status, substatus,
    priority, project_slug, project_name, platform, event_count, user_count, first_seen, last_seen,
    assignee_type, assignee_id, assignee_name, assignee_email, updated_at,
    writeback_state, writeback_error, writeback_at,
    CASE WHEN status = 'resolved' THEN 'DONE'
         WHEN assignee_id IS NOT NULL OR assignee_name IS NOT NULL THEN 'DOING'
         ELSE 'TODO' END AS column_name,
    CASE WHEN status = 'ignored' THEN 1 ELSE 0 END AS ignored,
    id AS sentry_issue_id, NULL AS rule, NULL AS trigger_count
FROM cards
UNION ALL
SELECT a.id, a.kind, a.installation_uuid, c.short_id, a.title, a.detail, a.permalink, a.level, a.status, NULL,
    NULL, COALESCE(a.project, c.project_slug), c.project_name, c.platform, NULL, NULL, a.first_triggered, a.last_triggered,
    NULL, NULL, NULL, NULL, a.updated_at,
    NULL, NULL, NULL,
    CASE WHEN a.kind = 'metric_alert' AND a.status = 'resolved' THEN 'DONE'
         WHEN a.kind = 'event_alert' AND c.status = 'resolved' THEN 'DONE'
         ELSE 'TODO' END,
    0, a.issue_id, a.rule, a.trigger_count
FROM alerts AS a LEFT JOIN cards AS c ON a.kind = 'event_alert' AND c.id = a.issue_id
) AS u LEFT JOIN installations AS i ON i.uuid = u.installation_uuid
WHERE (?1 IS NULL OR i.org_slug = ?1)
    AND (?2 IS NULL OR u.substatus IN (SELECT value FROM json_each(?2)))
    AND (?3 IS NULL OR u.priority IN (SELECT value FROM json_each(?3)))
ORDER BY COALESCE(u.last_seen, u.updated_at) DESC, u.id
LIMIT 2000";

/// The parameters of `LIST_ITEMS` for a filter.
pub fn list_items_params(f: &ItemFilter) -> Vec<SqlValue> {
    let list = |l: &Option<Vec<String>>| SqlValue::from(l.as_ref().map(|v| json!(v).to_string()));
    vec![f.org.clone().into(), list(&f.substatus), list(&f.priority)]
}

/// When the cron sync last finished a run, for the board's "last synced".
pub const LAST_SYNCED: &str = "SELECT MAX(finished_at) AS synced_at FROM sync_runs WHERE status = 'done'";

/// Live (not deleted) comments, oldest first; `board_json` counts them per
/// issue card and fingerprints them (it does not send them).
pub const LIST_COMMENTS: &str = "\
SELECT id, issue_id, author, text, time FROM comments WHERE deleted = 0 ORDER BY time, id";

/// `GET /api/items`: `{"items":[…]}` from `LIST_ITEMS` rows. Each issue
/// item carries `comment_count` and `comments_version`, a fingerprint of
/// its live comments from `LIST_COMMENTS` rows, instead of the comments
/// themselves: the board polls every few seconds and loads a card's
/// comments (`comments_json`) only when they are shown and their version
/// moved. The version follows the comments' content, so a duplicate
/// delivery changes neither it nor the ETag. Alert items have no comments.
pub fn board_json(item_rows: &[Map<String, Value>], comment_rows: &[Map<String, Value>]) -> Value {
    let mut by_issue: HashMap<String, Vec<Value>> = HashMap::new();
    for row in comment_rows {
        let Some(issue) = row.get("issue_id").and_then(id_text) else { continue };
        by_issue.entry(issue).or_default().push(comment_from_row(row));
    }
    let items: Vec<Value> = item_rows
        .iter()
        .map(|row| {
            let mut item = item_from_row(row);
            if item["kind"] == "issue" {
                let comments = item["id"].as_str().and_then(|id| by_issue.get(id)).map_or(&[][..], Vec::as_slice);
                item["comment_count"] = json!(comments.len());
                item["comments_version"] = comments_version(comments);
            }
            item
        })
        .collect();
    json!({ "items": items })
}

/// `GET /api/items/{id}/comments`: `{"comments":[{"id","author","text","time"}]}`
/// from `LIST_CARD_COMMENTS` rows, in their order, with the same
/// `comments_version` the card shows on `/api/items`.
pub fn comments_json(rows: &[Map<String, Value>]) -> Value {
    let comments: Vec<Value> = rows.iter().map(comment_from_row).collect();
    json!({ "version": comments_version(&comments), "comments": comments })
}

fn comment_from_row(row: &Map<String, Value>) -> Value {
    let field = |k: &str| row.get(k).cloned().unwrap_or(Value::Null);
    json!({ "id": field("id"), "author": field("author"), "text": field("text"), "time": field("time") })
}

/// A short digest of the comments as sent; `null` when there are none.
fn comments_version(comments: &[Value]) -> Value {
    if comments.is_empty() {
        return Value::Null;
    }
    let text = Value::Array(comments.to_vec()).to_string();
    json!(crate::verify::body_digest(text.as_bytes())[..16].to_string())
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
    // Rows without `kind` (an older query) are issue cards.
    let kind = text("kind").as_str().unwrap_or("issue").to_string();
    let sentry_issue_id = match (row.contains_key("sentry_issue_id"), kind.as_str()) {
        (true, _) => text("sentry_issue_id"),
        (false, "issue") => text("id"),
        (false, _) => Value::Null,
    };
    let mut item = json!({
        "id": text("id"),
        "kind": kind.clone(),
        "sentry_issue_id": sentry_issue_id,
        "installation": text("installation_uuid"),
        "org": text("org_slug"),
        "short_id": text("short_id"),
        "title": text("title"),
        "culprit": text("culprit"),
        "permalink": text("permalink"),
        "level": text("level"),
        "status": text("status"),
        "substatus": text("substatus"),
        "priority": text("priority"),
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
        "writeback": match text("writeback_state") {
            Value::Null => Value::Null,
            state => json!({ "state": state, "error": text("writeback_error"), "at": text("writeback_at") }),
        },
    });
    if kind != "issue" {
        item["rule"] = text("rule");
        item["trigger_count"] =
            row.get("trigger_count").and_then(Value::as_f64).map_or(Value::Null, |n| json!(n as i64));
    }
    item
}

fn truthy(v: Option<&Value>) -> bool {
    match v {
        Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0),
        Some(Value::Bool(b)) => *b,
        _ => false,
    }
}
