//! All SQL the worker runs, beside the schema in migrations/. Writes are
//! built as `Stmt`s (run by the shell on D1, and by the tests on rusqlite);
//! reads are SQL text plus a pure mapping from result rows to API values.

use crate::board::{Assignee, AssigneeChange, Comment, CommentAction, EventAlert, IssueState, ItemFilter, MetricAlert};
use crate::sql::{id_text, SqlValue, Stmt};
use serde_json::{json, Map, Value};
use std::collections::HashMap;

pub use deliveries::{delivery_failed, record_delivery, DELIVERY_LOG_ROWS, LIST_DELIVERIES};

pub mod auth;
pub mod comments;
pub mod deliveries;
pub mod errors;
pub mod github;
pub mod health;
pub mod history;
pub mod installations;
pub mod reconcile;
pub mod rereads;
pub mod retention;
pub mod sync;
pub mod writeback;

/// Inserts or updates one card from a snapshot. `applied_at` is when the
/// worker learned the state (a webhook's arrival, an API read's start), so
/// a sync page read before a webhook arrived does not undo it. Replaying the
/// same state yields the same row. Fields a board change is still pushing
/// to Sentry keep the board's value until the push is done (the substatus
/// goes with the status). A snapshot without a substatus (`?26` false)
/// keeps the card's while the status stays, and clears it when the status
/// changes (a substatus belongs to one status); without a priority it
/// keeps the card's.
const UPSERT_CARD: &str = "\
INSERT INTO cards (id, installation_uuid, short_id, title, culprit, permalink, level, status, substatus,
    project_id, project_slug, project_name, platform, event_count, user_count, first_seen, last_seen,
    assignee_type, assignee_id, assignee_name, assignee_email, applied_at, created_at, updated_at, priority)
VALUES (?1, ?2, ?3, COALESCE(?4, ?3, 'Issue ' || ?1), ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
    ?18, ?19, ?20, ?21, ?22, ?23, ?23, ?25)
ON CONFLICT (id) DO UPDATE SET
    installation_uuid = COALESCE(excluded.installation_uuid, cards.installation_uuid),
    short_id = COALESCE(excluded.short_id, cards.short_id),
    title = COALESCE(?4, cards.title),
    culprit = COALESCE(excluded.culprit, cards.culprit),
    permalink = COALESCE(excluded.permalink, cards.permalink),
    level = COALESCE(excluded.level, cards.level),
    status = CASE WHEN cards.writeback_status = 1 AND cards.writeback_state IN ('pending', 'retrying')
        THEN cards.status ELSE excluded.status END,
    substatus = CASE WHEN cards.writeback_status = 1 AND cards.writeback_state IN ('pending', 'retrying')
            THEN cards.substatus
        WHEN ?26 THEN excluded.substatus
        WHEN excluded.status = cards.status THEN cards.substatus
        ELSE NULL END,
    priority = COALESCE(excluded.priority, cards.priority),
    project_id = COALESCE(excluded.project_id, cards.project_id),
    project_slug = COALESCE(excluded.project_slug, cards.project_slug),
    project_name = COALESCE(excluded.project_name, cards.project_name),
    platform = COALESCE(excluded.platform, cards.platform),
    event_count = COALESCE(excluded.event_count, cards.event_count),
    user_count = COALESCE(excluded.user_count, cards.user_count),
    first_seen = COALESCE(excluded.first_seen, cards.first_seen),
    last_seen = COALESCE(excluded.last_seen, cards.last_seen),
    assignee_type = CASE WHEN ?24 AND NOT (cards.writeback_assignee = 1 AND cards.writeback_state IN ('pending', 'retrying')) THEN excluded.assignee_type ELSE cards.assignee_type END,
    assignee_id = CASE WHEN ?24 AND NOT (cards.writeback_assignee = 1 AND cards.writeback_state IN ('pending', 'retrying')) THEN excluded.assignee_id ELSE cards.assignee_id END,
    assignee_name = CASE WHEN ?24 AND NOT (cards.writeback_assignee = 1 AND cards.writeback_state IN ('pending', 'retrying')) THEN excluded.assignee_name ELSE cards.assignee_name END,
    assignee_email = CASE WHEN ?24 AND NOT (cards.writeback_assignee = 1 AND cards.writeback_state IN ('pending', 'retrying')) THEN excluded.assignee_email ELSE cards.assignee_email END,
    applied_at = excluded.applied_at,
    -- moved by the cards_updated_at trigger when a shown field changed
    updated_at = cards.updated_at,
    -- who, for the card_history triggers (migrations/0015)
    last_source = ?27, last_action = ?28, last_actor = ?29, last_at = ?23
WHERE excluded.applied_at >= cards.applied_at";

/// `issue.created` is a birth certificate: it inserts the card if there is
/// none, and otherwise only fills fields that are still empty. It never
/// touches the status, the assignee or `applied_at` of a card that exists
/// (same parameters as `UPSERT_CARD`; `?24` and `?26`, the assignee and
/// substatus flags, are only referenced so that both bind the same list).
const BIRTH_CARD: &str = "\
INSERT INTO cards (id, installation_uuid, short_id, title, culprit, permalink, level, status, substatus,
    project_id, project_slug, project_name, platform, event_count, user_count, first_seen, last_seen,
    assignee_type, assignee_id, assignee_name, assignee_email, applied_at, created_at, updated_at, priority)
VALUES (?1, ?2, ?3, COALESCE(?4, ?3, 'Issue ' || ?1), ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
    ?18, ?19, ?20, ?21, ?22, ?23, ?23, ?25)
ON CONFLICT (id) DO UPDATE SET
    installation_uuid = COALESCE(cards.installation_uuid, excluded.installation_uuid),
    short_id = COALESCE(cards.short_id, excluded.short_id),
    title = CASE WHEN cards.title = 'Issue ' || cards.id THEN COALESCE(?4, cards.title) ELSE cards.title END,
    culprit = COALESCE(cards.culprit, excluded.culprit),
    permalink = COALESCE(cards.permalink, excluded.permalink),
    level = COALESCE(cards.level, excluded.level),
    substatus = COALESCE(cards.substatus, excluded.substatus),
    priority = COALESCE(cards.priority, excluded.priority),
    project_id = COALESCE(cards.project_id, excluded.project_id),
    project_slug = COALESCE(cards.project_slug, excluded.project_slug),
    project_name = COALESCE(cards.project_name, excluded.project_name),
    platform = COALESCE(cards.platform, excluded.platform),
    event_count = COALESCE(cards.event_count, excluded.event_count),
    user_count = COALESCE(cards.user_count, excluded.user_count),
    first_seen = COALESCE(cards.first_seen, excluded.first_seen),
    last_seen = COALESCE(cards.last_seen, excluded.last_seen),
    last_source = ?27, last_action = ?28, last_actor = ?29, last_at = ?23
WHERE ?24 = ?24 AND ?26 = ?26";

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

/// One event-alert card per (issue, rule), updated in place. The card shows
/// the newest event by the event's own time (signed, in the body): a retry
/// of an older trigger arriving late still counts, but does not overwrite it.
const UPSERT_EVENT_ALERT: &str = "\
INSERT INTO alerts (id, kind, installation_uuid, issue_id, rule, title, detail, level, status, permalink,
    event_id, trigger_count, first_triggered, last_triggered, applied_at, created_at, updated_at)
VALUES (?1, 'event_alert', ?2, ?3, ?4, COALESCE(?5, ?4), ?6, ?7, 'triggered', ?8, ?9, 0, ?10, ?10, ?11, ?12, ?12)
ON CONFLICT (id) DO UPDATE SET
    installation_uuid = COALESCE(excluded.installation_uuid, alerts.installation_uuid),
    title = COALESCE(?5, alerts.title),
    detail = COALESCE(excluded.detail, alerts.detail),
    level = COALESCE(excluded.level, alerts.level),
    permalink = COALESCE(excluded.permalink, alerts.permalink),
    event_id = COALESCE(excluded.event_id, alerts.event_id),
    applied_at = excluded.applied_at,
    updated_at = excluded.updated_at
WHERE ?10 >= COALESCE((SELECT MAX(triggered_at) FROM alert_triggers WHERE alert_id = ?1), '')";

/// Remembers the triggering event; a redelivery of the same event is one row.
const INSERT_ALERT_TRIGGER: &str = "\
INSERT INTO alert_triggers (alert_id, event_id, triggered_at) VALUES (?1, ?2, ?3)
ON CONFLICT (alert_id, event_id) DO NOTHING";

/// Count and first/last trigger from the triggers seen, in any order.
const COUNT_ALERT_TRIGGERS: &str = "\
UPDATE alerts SET
    trigger_count = (SELECT COUNT(*) FROM alert_triggers WHERE alert_id = ?1),
    first_triggered = (SELECT MIN(triggered_at) FROM alert_triggers WHERE alert_id = ?1),
    last_triggered = (SELECT MAX(triggered_at) FROM alert_triggers WHERE alert_id = ?1)
WHERE id = ?1";

/// One metric-alert card per metric alert id, updated in place in arrival
/// order. Resolved is final: Sentry closes an incident for good (a new
/// trigger opens a new incident, another id), so nothing that arrives after
/// the resolve (a late critical or warning, the resolve again) changes the
/// card. A resolved delivery (no level) keeps the level shown.
const UPSERT_METRIC_ALERT: &str = "\
INSERT INTO alerts (id, kind, installation_uuid, alert_id, rule, title, detail, level, status, permalink, project,
    first_triggered, last_triggered, applied_at, created_at, updated_at)
VALUES (?1, 'metric_alert', ?2, ?3, ?4, COALESCE(?5, ?4, 'Metric alert ' || ?3), ?6, COALESCE(?7, 'info'), ?8, ?9,
    ?10, ?11, ?12, ?12, ?13, ?13)
ON CONFLICT (id) DO UPDATE SET
    installation_uuid = COALESCE(excluded.installation_uuid, alerts.installation_uuid),
    rule = COALESCE(excluded.rule, alerts.rule),
    title = COALESCE(?5, ?4, alerts.title),
    detail = COALESCE(excluded.detail, alerts.detail),
    level = CASE WHEN alerts.status = 'resolved' THEN alerts.level ELSE COALESCE(?7, alerts.level) END,
    status = CASE WHEN alerts.status = 'resolved' THEN alerts.status ELSE excluded.status END,
    permalink = COALESCE(excluded.permalink, alerts.permalink),
    project = COALESCE(excluded.project, alerts.project),
    first_triggered = MIN(alerts.first_triggered, excluded.first_triggered),
    last_triggered = excluded.last_triggered,
    applied_at = excluded.applied_at,
    updated_at = excluded.updated_at
WHERE alerts.status != 'resolved' AND excluded.applied_at >= alerts.applied_at";

/// The statement that records `state` for an issue, applied at `applied_at`.
/// `applied_at` is when the state was learned (see `UPSERT_CARD`); a birth
/// (`issue.created`) uses `BIRTH_CARD`. Its changes go into the card's
/// history without a source (see `upsert_card_by`).
pub fn upsert_card(state: &IssueState, applied_at: &str, now: &str) -> Stmt {
    upsert_card_by(state, &history::Origin::default(), applied_at, now)
}

/// `upsert_card`, naming who made the change for the card's history
/// (`?27`–`?29`, read by migrations/0015's triggers).
pub fn upsert_card_by(state: &IssueState, origin: &history::Origin, applied_at: &str, now: &str) -> Stmt {
    let s = &state.snapshot;
    let (assignee_known, a) = match &state.assignee {
        AssigneeChange::Keep => (false, None),
        AssigneeChange::Set(a) => (true, a.as_ref()),
    };
    let field = |f: fn(&Assignee) -> Option<String>| SqlValue::from(a.and_then(f));
    Stmt {
        sql: if state.birth { BIRTH_CARD } else { UPSERT_CARD },
        params: vec![
            s.id.clone().into(),
            s.installation_uuid.clone().into(),
            s.short_id.clone().into(),
            s.title.clone().into(),
            s.culprit.clone().into(),
            s.permalink.clone().into(),
            s.level.clone().into(),
            state.status.as_str().into(),
            s.substatus.clone().flatten().into(),
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
            s.priority.clone().into(),
            s.substatus.is_some().into(),
        ]
        .into_iter()
        .chain(origin.params())
        .collect(),
    }
}

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

/// The statements that record one firing of an event alert: the card, the
/// triggering event (a redelivery adds nothing), and the trigger count.
pub fn event_alert(a: &EventAlert, applied_at: &str, now: &str) -> Vec<Stmt> {
    let id = a.card_id();
    let event = a.event_id.clone().unwrap_or_else(|| applied_at.to_string());
    vec![
        Stmt {
            sql: UPSERT_EVENT_ALERT,
            params: vec![
                id.clone().into(),
                a.installation_uuid.clone().into(),
                a.issue_id.clone().into(),
                a.rule.clone().into(),
                a.title.clone().into(),
                a.culprit.clone().into(),
                a.level.clone().into(),
                a.permalink.clone().into(),
                a.event_id.clone().into(),
                a.triggered_at.clone().into(),
                applied_at.into(),
                now.into(),
            ],
        },
        Stmt {
            sql: INSERT_ALERT_TRIGGER,
            params: vec![id.clone().into(), event.into(), a.triggered_at.clone().into()],
        },
        Stmt { sql: COUNT_ALERT_TRIGGERS, params: vec![id.into()] },
    ]
}

/// The statement that records a metric alert's state, applied at `applied_at`.
pub fn metric_alert(m: &MetricAlert, applied_at: &str, now: &str) -> Stmt {
    Stmt {
        sql: UPSERT_METRIC_ALERT,
        params: vec![
            m.card_id().into(),
            m.installation_uuid.clone().into(),
            m.id.clone().into(),
            m.rule.clone().into(),
            m.title.clone().into(),
            m.detail.clone().into(),
            m.status.level().map(str::to_string).into(),
            m.status.as_str().into(),
            m.permalink.clone().into(),
            m.project.clone().into(),
            m.started_at.clone().into(),
            applied_at.into(),
            now.into(),
        ],
    }
}

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
