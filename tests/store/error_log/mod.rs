//! The error log as stored: batches of condensed Sentry error events go
//! through `store::errors::ingest` and run as one transaction on SQLite with
//! the real migrations (as one D1 batch per queue batch), issue webhooks go
//! through the real `hook::handle` (whose plan also syncs the group status),
//! and the log is read back with the worker's own SQL and JSON mapping.

mod at_rest;
mod batches;
mod bounded;
mod group_and_stats;
mod listing;
mod status;

use crate::support;

use rusqlite::types::ValueRef;
use rusqlite::Connection;
use sentry_kanban::sentry::errors::{condense_body, ErrorRecord};
use sentry_kanban::sql::{SqlValue, Stmt};
use sentry_kanban::store::errors::{self as errors, Filter};
use sentry_kanban::store::installations::dead_job;
use sentry_kanban::time::{format_millis, Millis};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use support::db::{fresh_db, query, rows, run, try_run};
use support::hook::{arrival, at, deliver_as, deliver_full, request_id};
use support::reread::{serve, token_cfg, Answer};
use support::sentry::{issue_body, Issue};

/// 2026-03-01T12:00:00.000Z: later than every event time used here.
const NOW_MS: Millis = 1_772_366_400_000;
const INSTALL: &str = "a8e5d37a-696c-4c54-adb5-b3f28d64c7de";

fn now() -> String {
    format_millis(NOW_MS)
}

/// A record as the queue carries it, with descriptive fields derived from
/// its ids so that tests can tell which event they came from.
fn rec(event: &str, issue: &str, time: &str) -> ErrorRecord {
    ErrorRecord {
        event_id: event.into(),
        issue_id: issue.into(),
        installation: Some(INSTALL.into()),
        title: format!("Error {issue}"),
        culprit: Some(format!("app/{issue}.js in handler")),
        level: Some("error".into()),
        platform: Some("javascript".into()),
        project: Some("1".into()),
        environment: Some("production".into()),
        release: Some("web@1.0.0".into()),
        time: time.into(),
        web_url: Some(format!("https://example.sentry.io/issues/{issue}/events/{event}/")),
        sample: json!({ "event_id": event, "title": format!("Error {issue}") }).to_string(),
    }
}

/// A record with its own title, culprit, level and sample (as from `event`).
fn described(event: &str, issue: &str, time: &str, title: &str, culprit: &str, level: &str) -> ErrorRecord {
    ErrorRecord {
        title: title.into(),
        culprit: Some(culprit.into()),
        level: Some(level.into()),
        environment: Some(format!("env-{event}")),
        release: Some(format!("rel-{event}")),
        sample: json!({ "event_id": event, "title": title }).to_string(),
        ..rec(event, issue, time)
    }
}

/// A compact `error.created` body the way Sentry sends it (serde_json output
/// is compact), for `condense_body`.
fn error_body(event: &str, issue: &str, datetime: &str, title: &str, level: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "action": "created",
        "installation": { "uuid": INSTALL },
        "data": { "error": {
            "event_id": event,
            "issue_id": issue,
            "title": title,
            "culprit": "?(runner)",
            "level": level,
            "platform": "javascript",
            "project": 1,
            "environment": "production",
            "release": "web@2.0.0",
            "datetime": datetime,
            "web_url": format!("https://example.sentry.io/issues/{issue}/events/{event}/"),
            "exception": { "values": [{ "type": "ReferenceError", "value": "blooopy is not defined",
                "stacktrace": { "frames": [{ "filename": "/runner", "function": "run", "lineno": 3, "colno": 5,
                    "in_app": false }] } }] },
            "tags": [["browser", "Chrome 75.0.3770"], ["level", level]],
        } },
        "actor": { "type": "application", "id": "sentry", "name": "Sentry" },
    }))
    .unwrap()
}

fn condensed(event: &str, issue: &str, datetime: &str, title: &str, level: &str) -> ErrorRecord {
    condense_body(&error_body(event, issue, datetime, title, level), NOW_MS).expect("condense")
}

/// One queue batch: one transaction.
fn ingest(conn: &Connection, records: &[ErrorRecord]) {
    run(conn, &errors::ingest(records, &now()));
}

fn scalar(conn: &Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |r| r.get(0)).unwrap_or_else(|e| panic!("{sql}: {e}"))
}

fn text_params(values: &[&str]) -> Vec<SqlValue> {
    values.iter().map(|v| SqlValue::from(*v)).collect()
}

/// The raw `GROUP` row, or `None`.
fn group_row(conn: &Connection, issue: &str) -> Option<Map<String, Value>> {
    query(conn, errors::GROUP, &text_params(&[issue])).into_iter().next()
}

fn group(conn: &Connection, issue: &str) -> Map<String, Value> {
    group_row(conn, issue).unwrap_or_else(|| panic!("no group {issue}"))
}

/// Hour → count of one issue's buckets, straight from the table.
fn hourly(conn: &Connection, issue: &str) -> BTreeMap<String, i64> {
    query(conn, "SELECT hour, count FROM error_hourly WHERE issue_id = ?1", &text_params(&[issue]))
        .into_iter()
        .map(|r| (r["hour"].as_str().unwrap().to_string(), r["count"].as_i64().unwrap()))
        .collect()
}

/// Hour → count expected from a set of distinct records of one issue.
fn expected_hourly(records: &[&ErrorRecord]) -> BTreeMap<String, i64> {
    let mut out = BTreeMap::new();
    for r in records {
        *out.entry(r.time[..13].to_string()).or_insert(0) += 1;
    }
    out
}

fn uncounted(conn: &Connection) -> i64 {
    scalar(conn, "SELECT COUNT(*) FROM error_events WHERE counted = 0")
}

fn is_hour_key(h: &str) -> bool {
    let b = h.as_bytes();
    b.len() == 13
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b.iter().enumerate().all(|(i, c)| [4, 7, 10].contains(&i) || c.is_ascii_digit())
}

fn status(conn: &Connection, issue: &str) -> String {
    group(conn, issue)["status"].as_str().unwrap().to_string()
}

fn status_at(conn: &Connection, issue: &str) -> String {
    conn.query_row("SELECT status_at FROM error_groups WHERE issue_id = ?1", [issue], |r| r.get(0)).unwrap()
}

fn card_status(conn: &Connection, issue: &str) -> String {
    conn.query_row("SELECT status FROM cards WHERE id = ?1", [issue], |r| r.get(0)).unwrap()
}

/// Sends `issue.<action>` for issue `id` with the matching status, at `t`.
fn issue_hook(conn: &Connection, action: &str, id: &str, t: i64) {
    let status = match action {
        "resolved" => "resolved",
        "ignored" | "archived" => "ignored",
        _ => "unresolved",
    };
    let plan = deliver_as(conn, "issue", issue_body(action, &Issue::new(id).status(status)).as_bytes(), t);
    assert_eq!(plan.verdict.outcome.as_str(), "applied", "{action} {id}");
}

fn list(conn: &Connection, f: Filter) -> Vec<String> {
    query(conn, errors::LIST_GROUPS, &errors::list_params(&f))
        .into_iter()
        .map(|r| r["issue_id"].as_str().unwrap().to_string())
        .collect()
}

/// Every row of the error-log tables, for before/after comparisons.
fn error_log(conn: &Connection) -> Vec<Vec<Map<String, Value>>> {
    vec![
        rows(conn, "SELECT * FROM error_events ORDER BY event_id"),
        rows(conn, "SELECT * FROM error_groups ORDER BY issue_id"),
        rows(conn, "SELECT * FROM error_hourly ORDER BY issue_id, hour"),
        rows(conn, "SELECT * FROM error_seen ORDER BY day, event_id"),
    ]
}
