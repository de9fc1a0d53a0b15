//! The error log as stored: batches of condensed Sentry error events go
//! through `store::errors::ingest` and run as one transaction on SQLite with
//! the real migrations (as one D1 batch per queue batch), issue webhooks go
//! through the real `hook::handle` (whose plan also syncs the group status),
//! and the log is read back with the worker's own SQL and JSON mapping.

mod support;

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
    assert_eq!(plan.verdict.outcome, "applied", "{action} {id}");
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

// ---- 1. one batch ----------------------------------------------------------------

#[test]
fn one_batch_makes_one_group_per_issue_with_exact_counts_seen_times_and_hourly_buckets() {
    let conn = fresh_db();
    let batch = vec![
        rec("a1", "11", "2026-02-01T10:15:00.000Z"),
        rec("b1", "22", "2026-02-01T09:00:00.000Z"),
        rec("a2", "11", "2026-02-01T08:59:59.999Z"),
        rec("c1", "33", "2026-01-31T23:30:00.000Z"),
        rec("a3", "11", "2026-02-02T00:00:00.000Z"),
        rec("b2", "22", "2026-02-01T09:59:00.000Z"),
        rec("a4", "11", "2026-02-01T10:45:00.000Z"),
    ];
    ingest(&conn, &batch);

    assert_eq!(scalar(&conn, "SELECT COUNT(*) FROM error_groups"), 3);
    assert_eq!(scalar(&conn, "SELECT COUNT(*) FROM error_events"), 7);
    assert_eq!(uncounted(&conn), 0);
    for (issue, count, first, last) in [
        ("11", 4, "2026-02-01T08:59:59.999Z", "2026-02-02T00:00:00.000Z"),
        ("22", 2, "2026-02-01T09:00:00.000Z", "2026-02-01T09:59:00.000Z"),
        ("33", 1, "2026-01-31T23:30:00.000Z", "2026-01-31T23:30:00.000Z"),
    ] {
        let g = group(&conn, issue);
        assert_eq!(g["event_count"], count, "{issue}");
        assert_eq!(g["first_seen"], first, "{issue}");
        assert_eq!(g["last_seen"], last, "{issue}");
        assert_eq!(g["title"], format!("Error {issue}"));
        assert_eq!(g["status"], "OPEN", "no card: open");
        assert_eq!(g["installation_uuid"], INSTALL);
        assert_eq!(g["project"], "1");

        let buckets = hourly(&conn, issue);
        assert!(buckets.keys().all(|h| is_hour_key(h)), "{issue}: {buckets:?}");
        assert_eq!(buckets.values().sum::<i64>(), count, "{issue}: buckets sum to the count");
        let mine: Vec<&ErrorRecord> = batch.iter().filter(|r| r.issue_id == issue).collect();
        assert_eq!(buckets, expected_hourly(&mine), "{issue}");
    }
    assert_eq!(
        hourly(&conn, "11"),
        BTreeMap::from([
            ("2026-02-01T08".to_string(), 1),
            ("2026-02-01T10".to_string(), 2),
            ("2026-02-02T00".to_string(), 1)
        ])
    );
}

#[test]
fn condensed_bodies_ingest_like_direct_records() {
    let conn = fresh_db();
    let batch = [
        condensed("e0000000000000000000000000000001", "1170820242", "2019-08-19T20:58:37.391000Z", "T1", "error"),
        condensed("e0000000000000000000000000000002", "1170820242", "2019-08-19T21:10:00+00:00", "T2", "warning"),
    ];
    ingest(&conn, &batch);
    let g = group(&conn, "1170820242");
    assert_eq!(g["event_count"], 2);
    assert_eq!(g["first_seen"], "2019-08-19T20:58:37.391Z", "event times are stored canonically");
    assert_eq!(g["last_seen"], "2019-08-19T21:10:00.000Z");
    assert_eq!(g["title"], "T2");
    assert_eq!(g["level"], "warning");
    assert_eq!(g["platform"], "javascript");
    assert_eq!(g["project"], "1");
    assert_eq!(g["release"], "web@2.0.0");
    assert_eq!(g["installation_uuid"], INSTALL);
    assert_eq!(
        hourly(&conn, "1170820242"),
        BTreeMap::from([("2019-08-19T20".to_string(), 1), ("2019-08-19T21".to_string(), 1)])
    );
}

// ---- 2. duplicates ---------------------------------------------------------------

#[test]
fn a_redelivered_event_counts_once_within_a_batch_and_across_batches() {
    let conn = fresh_db();
    let e = rec("dup", "50", "2026-02-03T04:05:06.000Z");
    ingest(&conn, &[e.clone(), rec("other", "50", "2026-02-03T05:00:00.000Z"), e.clone()]);
    assert_eq!(uncounted(&conn), 0);
    assert_eq!(group(&conn, "50")["event_count"], 2);
    assert_eq!(scalar(&conn, "SELECT COUNT(*) FROM error_events WHERE event_id = 'dup'"), 1);
    let buckets = hourly(&conn, "50");
    assert_eq!(buckets, BTreeMap::from([("2026-02-03T04".to_string(), 1), ("2026-02-03T05".to_string(), 1)]));
    let before = group(&conn, "50");

    // A later batch with only the redelivery (twice).
    ingest(&conn, &[e.clone(), e.clone()]);
    assert_eq!(uncounted(&conn), 0);
    // web_url aside (see the ignored test below), nothing the API shows changes.
    let without_url = |mut g: Map<String, Value>| {
        g.remove("web_url");
        g
    };
    assert_eq!(without_url(group(&conn, "50")), without_url(before));
    assert_eq!(hourly(&conn, "50"), buckets, "hourly unchanged");
    assert_eq!(scalar(&conn, "SELECT COUNT(*) FROM error_events"), 2);

    // A later batch with the redelivery among new events.
    ingest(
        &conn,
        &[rec("new", "50", "2026-02-03T04:30:00.000Z"), e.clone(), rec("n2", "51", "2026-02-03T04:00:00.000Z")],
    );
    assert_eq!(uncounted(&conn), 0);
    assert_eq!(group(&conn, "50")["event_count"], 3);
    assert_eq!(group(&conn, "51")["event_count"], 1);
    assert_eq!(scalar(&conn, "SELECT COUNT(*) FROM error_events WHERE event_id = 'dup'"), 1);
    assert_eq!(
        hourly(&conn, "50"),
        BTreeMap::from([("2026-02-03T04".to_string(), 2), ("2026-02-03T05".to_string(), 1)])
    );
    assert_eq!(
        scalar(&conn, "SELECT SUM(count) FROM error_hourly"),
        scalar(&conn, "SELECT COUNT(*) FROM error_events")
    );
    assert_eq!(
        scalar(&conn, "SELECT SUM(event_count) FROM error_groups"),
        scalar(&conn, "SELECT COUNT(*) FROM error_events")
    );
}

// ---- 3. out of order ---------------------------------------------------------------

#[test]
fn the_newest_event_describes_the_group_whatever_order_batches_arrive_in() {
    let conn = fresh_db();
    ingest(&conn, &[described("e2", "60", "2026-02-10T12:00:00.000Z", "Title two", "culprit two", "error")]);

    // Older event, later batch: first_seen moves, the description stays.
    ingest(&conn, &[described("e1", "60", "2026-02-01T12:00:00.000Z", "Title one", "culprit one", "warning")]);
    let g = group(&conn, "60");
    assert_eq!(g["event_count"], 2);
    assert_eq!(g["first_seen"], "2026-02-01T12:00:00.000Z");
    assert_eq!(g["last_seen"], "2026-02-10T12:00:00.000Z");
    assert_eq!(g["title"], "Title two");
    assert_eq!(g["culprit"], "culprit two");
    assert_eq!(g["level"], "error");
    assert_eq!(g["environment"], "env-e2");
    assert_eq!(g["release"], "rel-e2");
    assert_eq!(errors::group_json(&g)["sample"], json!({"event_id": "e2", "title": "Title two"}));

    // Newer event: it replaces the description.
    ingest(&conn, &[described("e3", "60", "2026-02-20T12:00:00.000Z", "Title three", "culprit three", "fatal")]);
    let g = group(&conn, "60");
    assert_eq!(g["event_count"], 3);
    assert_eq!(g["first_seen"], "2026-02-01T12:00:00.000Z");
    assert_eq!(g["last_seen"], "2026-02-20T12:00:00.000Z");
    assert_eq!(g["title"], "Title three");
    assert_eq!(g["culprit"], "culprit three");
    assert_eq!(g["level"], "fatal");
    assert_eq!(g["environment"], "env-e3");
    assert_eq!(errors::group_json(&g)["sample"], json!({"event_id": "e3", "title": "Title three"}));

    // One batch with a newer and an older event, the older one last.
    ingest(
        &conn,
        &[
            described("e5", "60", "2026-02-25T12:00:00.000Z", "Title five", "culprit five", "error"),
            described("e4", "60", "2026-01-25T12:00:00.000Z", "Title four", "culprit four", "info"),
        ],
    );
    let g = group(&conn, "60");
    assert_eq!(g["event_count"], 5);
    assert_eq!(g["first_seen"], "2026-01-25T12:00:00.000Z");
    assert_eq!(g["last_seen"], "2026-02-25T12:00:00.000Z");
    assert_eq!(g["title"], "Title five");
    assert_eq!(g["level"], "error");
    assert_eq!(errors::group_json(&g)["sample"], json!({"event_id": "e5", "title": "Title five"}));

    // A batch with only an old event again: still the newest one's description.
    ingest(&conn, &[described("e0", "60", "2025-12-31T23:59:59.999Z", "Title zero", "culprit zero", "debug")]);
    let g = group(&conn, "60");
    assert_eq!(g["event_count"], 6);
    assert_eq!(g["first_seen"], "2025-12-31T23:59:59.999Z");
    assert_eq!(g["title"], "Title five");
    assert_eq!(g["culprit"], "culprit five");
    assert_eq!(hourly(&conn, "60").values().sum::<i64>(), 6);
    assert_eq!(uncounted(&conn), 0);
}

/// `web_url` is the URL of one event (`/issues/<id>/events/<event>/`), but
/// UPSERT_GROUP takes it (like platform, project and installation) from
/// whichever batch ran last, not from the newest event as it does the sample:
/// an older or redelivered event in a later batch repoints it.
#[test]
fn web_url_follows_the_newest_event_like_the_sample() {
    let conn = fresh_db();
    ingest(&conn, &[rec("new", "65", "2026-02-10T00:00:00.000Z")]);
    ingest(&conn, &[rec("old", "65", "2026-02-01T00:00:00.000Z")]);
    let g = errors::group_json(&group(&conn, "65"));
    assert_eq!(g["sample"]["event_id"], "new");
    assert_eq!(g["web_url"], "https://example.sentry.io/issues/65/events/new/");
}

// ---- 4. status ----------------------------------------------------------------------

#[test]
fn a_new_group_takes_its_status_from_the_issue_card() {
    let conn = fresh_db();
    issue_hook(&conn, "resolved", "401", 100);
    issue_hook(&conn, "ignored", "402", 100);
    issue_hook(&conn, "created", "404", 100);
    issue_hook(&conn, "archived", "405", 100);
    assert_eq!(scalar(&conn, "SELECT COUNT(*) FROM error_groups"), 0, "issue webhooks create no group");

    ingest(
        &conn,
        &[
            rec("s1", "401", "2026-02-01T00:00:00.000Z"),
            rec("s2", "402", "2026-02-01T00:00:00.000Z"),
            rec("s3", "403", "2026-02-01T00:00:00.000Z"),
            rec("s4", "404", "2026-02-01T00:00:00.000Z"),
            rec("s5", "405", "2026-02-01T00:00:00.000Z"),
        ],
    );
    assert_eq!(status(&conn, "401"), "RESOLVED");
    assert_eq!(status(&conn, "402"), "IGNORED");
    assert_eq!(status(&conn, "403"), "OPEN", "no card");
    assert_eq!(status(&conn, "404"), "OPEN", "unresolved card");
    assert_eq!(status(&conn, "405"), "IGNORED", "archived is ignored");

    // Later batches add to the group but do not re-derive its status.
    ingest(&conn, &[rec("s6", "401", "2026-02-02T00:00:00.000Z")]);
    assert_eq!(status(&conn, "401"), "RESOLVED");
    assert_eq!(group(&conn, "401")["event_count"], 2);
}

#[test]
fn issue_webhooks_move_the_group_status_in_order() {
    let conn = fresh_db();
    ingest(&conn, &[rec("w1", "410", "2026-02-01T00:00:00.000Z")]);
    assert_eq!(status(&conn, "410"), "OPEN");

    issue_hook(&conn, "resolved", "410", 100);
    assert_eq!(status(&conn, "410"), "RESOLVED");
    assert_eq!(status_at(&conn, "410"), at(100));

    issue_hook(&conn, "unresolved", "410", 200);
    assert_eq!(status(&conn, "410"), "OPEN");

    issue_hook(&conn, "ignored", "410", 300);
    assert_eq!(status(&conn, "410"), "IGNORED");
    assert_eq!(status_at(&conn, "410"), at(300));

    // Older deliveries arrive late: their snapshots apply (nothing can order
    // them), and a worker with a token re-reads the issue (see below).
    issue_hook(&conn, "resolved", "410", 250);
    assert_eq!(status(&conn, "410"), "RESOLVED");
    assert_eq!(card_status(&conn, "410"), "resolved", "the card agrees");

    // The same delivery again is idempotent; a newer one applies.
    issue_hook(&conn, "ignored", "410", 300);
    assert_eq!(status(&conn, "410"), "IGNORED");
    issue_hook(&conn, "ignored", "410", 300);
    assert_eq!(status(&conn, "410"), "IGNORED");
    issue_hook(&conn, "unresolved", "410", 400);
    assert_eq!(status(&conn, "410"), "OPEN");
    assert!(status_at(&conn, "410") >= at(400));

    // Events keep coming; the status stays where the webhooks put it.
    ingest(&conn, &[rec("w2", "410", "2026-02-02T00:00:00.000Z")]);
    assert_eq!(status(&conn, "410"), "OPEN");
    assert_eq!(group(&conn, "410")["event_count"], 2);
}

#[test]
fn sync_status_without_a_group_creates_nothing() {
    let conn = fresh_db();
    issue_hook(&conn, "resolved", "420", 100);
    assert_eq!(scalar(&conn, "SELECT COUNT(*) FROM error_groups"), 0);
    run(&conn, &[errors::sync_status("421", "ignored", &at(100))]);
    assert_eq!(scalar(&conn, "SELECT COUNT(*) FROM error_groups"), 0);
    assert_eq!(scalar(&conn, "SELECT COUNT(*) FROM cards"), 1, "only the webhook's card");

    // The first event then takes the card's status.
    ingest(&conn, &[rec("n1", "420", "2026-02-01T00:00:00.000Z")]);
    assert_eq!(status(&conn, "420"), "RESOLVED");
}

/// A group created from a resolved card keeps the default `status_at`
/// (1970). An older issue delivery arriving afterwards moves card and group
/// together, never one without the other; a worker with a token re-reads
/// the issue, and both settle to Sentry's answer.
#[test]
fn an_older_delivery_after_the_group_was_created_from_its_card_does_not_reopen_it() {
    let conn = fresh_db();
    let resolved = Issue::new("430").status("resolved");
    let send = |issue: &Issue, action: &str, t| {
        let body = issue_body(action, issue);
        deliver_full(&conn, &token_cfg(), "issue", body.as_bytes(), arrival(t), &request_id())
    };
    send(&resolved, "resolved", 200);
    ingest(&conn, &[rec("o1", "430", "2026-02-01T00:00:00.000Z")]);
    assert_eq!(status(&conn, "430"), "RESOLVED");
    send(&Issue::new("430").status("unresolved"), "unresolved", 100);
    assert_eq!((card_status(&conn, "430").as_str(), status(&conn, "430").as_str()), ("unresolved", "OPEN"), "together");
    serve(&conn, 210, |_| Answer::issue(resolved.to_json(true)));
    assert_eq!(card_status(&conn, "430"), "resolved", "the card settles to the API");
    assert_eq!(status(&conn, "430"), "RESOLVED", "so does the group");
}

// ---- 5. list ------------------------------------------------------------------------

/// 101: 3 events, error, project 1, has a card (unresolved → OPEN)
/// 102: 1 event, warning, project 2, has a card (resolved)
/// 103: 5 events, error, project 1, no card, ignored by sync_status
/// 104: 2 events, fatal, project 2, no card, OPEN
fn listed_db() -> Connection {
    let conn = fresh_db();
    let mut batch = vec![];
    let g101 = |e: &str, t: &str| described(e, "101", t, "TypeError: x is undefined", "app/main.js in render", "error");
    batch.push(g101("l1", "2026-02-01T10:00:00.000Z"));
    batch.push(g101("l2", "2026-02-05T10:00:00.000Z"));
    batch.push(g101("l3", "2026-02-20T10:00:00.000Z"));
    batch.push(ErrorRecord {
        project: Some("2".into()),
        ..described(
            "l4",
            "102",
            "2026-02-10T10:00:00.000Z",
            "Discount 50% off failed",
            "checkout/cart_total",
            "warning",
        )
    });
    for (i, t) in
        ["2026-02-15T01", "2026-02-15T02", "2026-02-15T03", "2026-02-16T04", "2026-02-16T05"].iter().enumerate()
    {
        batch.push(described(
            &format!("l5{i}"),
            "103",
            &format!("{t}:00:00.000Z"),
            "Discount 500 off",
            "cartXtotal",
            "error",
        ));
    }
    for (e, t) in [("l60", "2026-01-20T10:00:00.000Z"), ("l61", "2026-02-25T10:00:00.000Z")] {
        batch.push(ErrorRecord { project: Some("2".into()), ..described(e, "104", t, "Timeout", "api", "fatal") });
    }
    issue_hook(&conn, "created", "101", 100);
    ingest(&conn, &batch);
    issue_hook(&conn, "resolved", "102", 100);
    run(&conn, &[errors::sync_status("103", "ignored", &at(100))]);
    conn
}

fn filter(status: Option<&str>, level: Option<&str>, project: Option<&str>, q: Option<&str>) -> Filter {
    Filter {
        status: status.map(Into::into),
        level: level.map(Into::into),
        project: project.map(Into::into),
        q: q.map(Into::into),
        sort: None,
    }
}

fn sorted(sort: &str) -> Filter {
    Filter { sort: Some(sort.into()), ..Filter::default() }
}

#[test]
fn list_filters_by_status_level_and_project() {
    let conn = listed_db();
    assert_eq!(list(&conn, Filter::default()), ["104", "101", "103", "102"]);
    assert_eq!(list(&conn, filter(Some("resolved"), None, None, None)), ["102"], "lower-case input");
    assert_eq!(list(&conn, filter(Some("Ignored"), None, None, None)), ["103"]);
    assert_eq!(list(&conn, filter(Some("OPEN"), None, None, None)), ["104", "101"]);
    assert_eq!(list(&conn, filter(Some("open"), None, None, None)), ["104", "101"]);
    assert_eq!(list(&conn, filter(Some(""), None, None, None)).len(), 4, "blank means any");
    assert!(list(&conn, filter(Some("bogus"), None, None, None)).is_empty());
    assert_eq!(list(&conn, filter(None, Some("error"), None, None)), ["101", "103"]);
    assert_eq!(list(&conn, filter(None, Some("fatal"), None, None)), ["104"]);
    assert_eq!(list(&conn, filter(None, None, Some("2"), None)), ["104", "102"]);
    assert_eq!(list(&conn, filter(Some("open"), Some("error"), Some("1"), None)), ["101"]);
    assert!(list(&conn, filter(Some("resolved"), Some("error"), None, None)).is_empty());
}

#[test]
fn list_search_matches_title_culprit_literally_or_the_exact_issue_id() {
    let conn = listed_db();
    let q = |s: &str| list(&conn, filter(None, None, None, Some(s)));
    assert_eq!(q("undefined"), ["101"], "title substring");
    assert_eq!(q("render"), ["101"], "culprit substring");
    assert_eq!(q("typeerror"), ["101"], "ASCII case-insensitive");
    assert_eq!(q("Discount"), ["103", "102"]);
    assert_eq!(q("50%"), ["102"], "% is literal: '500 off' does not match");
    assert_eq!(q("cart_total"), ["102"], "_ is literal: 'cartXtotal' does not match");
    assert_eq!(q("%"), ["102"]);
    assert_eq!(q("_"), ["102"]);
    assert!(q("\\").is_empty(), "a backslash is literal too");
    assert_eq!(q("104"), ["104"], "exact issue id");
    assert_eq!(q(" 104 "), ["104"], "trimmed");
    assert!(q("10").is_empty(), "a partial id matches nothing");
    assert!(q("nothing like it").is_empty());
    assert_eq!(q("   ").len(), 4, "blank means any");
    assert_eq!(list(&conn, filter(Some("ignored"), None, None, Some("Discount"))), ["103"]);
}

#[test]
fn list_sorts_by_count_first_seen_or_last_seen() {
    let conn = listed_db();
    assert_eq!(list(&conn, sorted("count")), ["103", "101", "104", "102"]);
    assert_eq!(list(&conn, sorted("first_seen")), ["103", "102", "101", "104"]);
    assert_eq!(list(&conn, sorted("last_seen")), ["104", "101", "103", "102"]);
    assert_eq!(list(&conn, sorted("whatever")), ["104", "101", "103", "102"], "unknown: last_seen");
    let counts: Vec<Value> = query(&conn, errors::LIST_GROUPS, &errors::list_params(&sorted("count")))
        .into_iter()
        .map(|r| r["event_count"].clone())
        .collect();
    assert_eq!(counts, [json!(5), json!(3), json!(2), json!(1)]);
}

#[test]
fn list_rows_say_whether_the_issue_has_a_card() {
    let conn = listed_db();
    let listed = query(&conn, errors::LIST_GROUPS, &errors::list_params(&Filter::default()));
    let has_card: BTreeMap<String, Value> = listed
        .iter()
        .map(|r| (r["issue_id"].as_str().unwrap().to_string(), errors::group_json(r)["has_card"].clone()))
        .collect();
    assert_eq!(
        has_card,
        BTreeMap::from([
            ("101".to_string(), json!(true)),
            ("102".to_string(), json!(true)),
            ("103".to_string(), json!(false)),
            ("104".to_string(), json!(false)),
        ])
    );
    let g102 = listed.iter().find(|r| r["issue_id"] == "102").unwrap();
    assert_eq!(g102["status"], "RESOLVED");
    assert_eq!(g102["title"], "Discount 50% off failed");
}

// ---- 6. trends ----------------------------------------------------------------------

#[test]
fn list_json_gives_a_fourteen_day_trend_of_the_events_in_the_window() {
    let conn = fresh_db();
    assert_eq!(now(), "2026-03-01T12:00:00.000Z");
    let days = errors::days_ending(NOW_MS, 14);
    assert_eq!(days.len(), 14);
    assert_eq!((days[0].as_str(), days[13].as_str()), ("2026-02-16", "2026-03-01"));

    let a = [
        ("t1", "2026-02-10T10:00:00.000Z"), // outside
        ("t2", "2026-02-10T11:00:00.000Z"), // outside
        ("t3", "2026-02-15T23:59:59.999Z"), // the day before the window
        ("t4", "2026-02-16T00:00:00.000Z"), // its first instant
        ("t5", "2026-02-20T01:00:00.000Z"),
        ("t6", "2026-02-20T02:00:00.000Z"),
        ("t7", "2026-02-20T02:30:00.000Z"),
        ("t8", "2026-03-01T00:00:00.000Z"),
        ("t9", "2026-03-01T11:59:59.000Z"),
    ];
    let mut batch: Vec<ErrorRecord> = a.iter().map(|(e, t)| rec(e, "61", t)).collect();
    batch.push(rec("u1", "62", "2026-02-28T08:00:00.000Z"));
    batch.push(rec("v1", "63", "2026-01-01T08:00:00.000Z"));
    // Two batches: buckets add up across them.
    let later = batch.split_off(5);
    ingest(&conn, &batch);
    ingest(&conn, &later);

    let groups = query(&conn, errors::LIST_GROUPS, &errors::list_params(&Filter::default()));
    let daily = query(&conn, errors::DAILY_SINCE, &text_params(&[days[0].as_str()]));
    assert!(daily.iter().all(|r| r["day"].as_str().unwrap() >= days[0].as_str()), "{daily:?}");
    let out = errors::list_json(&groups, &daily, &days);
    assert_eq!(out["days"], json!(days));
    let trend = |issue: &str| -> Vec<i64> {
        let g = out["groups"].as_array().unwrap().iter().find(|g| g["issue_id"] == issue).unwrap();
        g["trend"].as_array().unwrap().iter().map(|n| n.as_i64().unwrap()).collect()
    };
    let t61 = trend("61");
    assert_eq!(t61, [1, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
    assert_eq!(t61.iter().sum::<i64>(), 6, "only the events inside the window");
    assert_eq!(group(&conn, "61")["event_count"], 9, "the count is all time");
    assert_eq!(trend("62"), [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0]);
    assert_eq!(trend("63"), [0; 14], "no events in the window");
    for g in out["groups"].as_array().unwrap() {
        assert_eq!(g["trend"].as_array().unwrap().len(), 14);
        assert!(g["has_card"].is_boolean());
    }
}

// ---- 7. one group -------------------------------------------------------------------

#[test]
fn group_recent_events_and_hourly_series() {
    let conn = fresh_db();
    let base: Millis = 1_771_200_000_000; // 2026-02-16T00:00:00Z
    let batch: Vec<ErrorRecord> = (0..60)
        .map(|i| ErrorRecord {
            level: Some(if i % 2 == 0 { "error" } else { "warning" }.into()),
            sample: json!({ "event_id": format!("g{i:02}"), "n": i, "exception": [{"type": "E"}] }).to_string(),
            ..rec(&format!("g{i:02}"), "70", &format_millis(base + i * 17 * 60_000))
        })
        .collect();
    // Shuffled across three batches.
    let (mut b1, mut b2, mut b3) = (vec![], vec![], vec![]);
    for (i, r) in batch.iter().enumerate() {
        [&mut b1, &mut b2, &mut b3][i * 7 % 3].push(r.clone());
    }
    b1.reverse();
    for b in [&b2, &b1, &b3] {
        ingest(&conn, b);
    }
    ingest(&conn, &[rec("other", "71", &format_millis(base + 5_000))]);

    let g = group(&conn, "70");
    let item = errors::group_json(&g);
    assert_eq!(item["issue_id"], "70");
    assert_eq!(item["event_count"], 60);
    assert_eq!(item["has_card"], false);
    assert_eq!(item["first_seen"], format_millis(base));
    assert_eq!(item["last_seen"], format_millis(base + 59 * 17 * 60_000));
    assert_eq!(item["sample"], json!({"event_id": "g59", "n": 59, "exception": [{"type": "E"}]}), "parsed back");
    assert_eq!(item["level"], "warning", "the newest event's level");
    assert!(group_row(&conn, "nope").is_none());

    let events = query(&conn, errors::RECENT_EVENTS, &text_params(&["70"]));
    assert_eq!(events.len(), 50);
    let ids: Vec<&str> = events.iter().map(|e| e["event_id"].as_str().unwrap()).collect();
    let expected: Vec<String> = (10..60).rev().map(|i| format!("g{i:02}")).collect();
    assert_eq!(ids, expected, "the 50 newest, newest first");
    let times: Vec<&str> = events.iter().map(|e| e["time"].as_str().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] > w[1]));
    assert_eq!(events[0]["level"], "warning");
    assert_eq!(events[1]["level"], "error");
    assert_eq!(events[0]["environment"], "production");
    assert_eq!(events[0]["release"], "web@1.0.0");
    assert_eq!(query(&conn, errors::RECENT_EVENTS, &text_params(&["71"])).len(), 1);
    assert_eq!(scalar(&conn, "SELECT COUNT(*) FROM error_events WHERE issue_id = '70'"), 50, "only the sample is kept");

    // 60 events 17 minutes apart span 2026-02-16T00 .. T16.
    let since = "2026-02-16T05";
    let series = query(&conn, errors::HOURLY, &text_params(&["70", since]));
    let got: Vec<(String, i64)> =
        series.iter().map(|r| (r["hour"].as_str().unwrap().to_string(), r["count"].as_i64().unwrap())).collect();
    let all: Vec<&ErrorRecord> = batch.iter().collect();
    let want: Vec<(String, i64)> = expected_hourly(&all).into_iter().filter(|(h, _)| h.as_str() >= since).collect();
    assert_eq!(got, want, "ordered by hour, from `since` on");
    assert_eq!(got.first().map(|(h, _)| h.as_str()), Some(since));
    assert_eq!(got.iter().map(|(_, n)| n).sum::<i64>(), batch.iter().filter(|r| &r.time[..13] >= since).count() as i64);
    let whole = query(&conn, errors::HOURLY, &text_params(&["70", errors::hours_since(NOW_MS, 14).as_str()]));
    assert_eq!(whole.iter().map(|r| r["count"].as_i64().unwrap()).sum::<i64>(), 60);
    assert!(query(&conn, errors::HOURLY, &text_params(&["70", "2026-02-17T00"])).is_empty());
}

#[test]
fn group_json_of_a_carded_group_from_a_condensed_event() {
    let conn = fresh_db();
    issue_hook(&conn, "created", "1170820242", 100);
    ingest(
        &conn,
        &[condensed(
            "bb78c1407cea4519aa397afc059c793d",
            "1170820242",
            "2019-08-19T20:58:37.391000Z",
            "ReferenceError: blooopy is not defined",
            "error",
        )],
    );
    let item = errors::group_json(&group(&conn, "1170820242"));
    assert_eq!(item["has_card"], true);
    assert_eq!(item["event_count"], 1);
    assert_eq!(item["title"], "ReferenceError: blooopy is not defined");
    assert_eq!(item["web_url"], "https://example.sentry.io/issues/1170820242/events/bb78c1407cea4519aa397afc059c793d/");
    let sample = &item["sample"];
    assert_eq!(sample["event_id"], "bb78c1407cea4519aa397afc059c793d");
    assert_eq!(sample["exceptions"][0]["type"], "ReferenceError");
    assert_eq!(sample["exceptions"][0]["frames"][0]["lineno"], 3);
    assert_eq!(sample["tags"], json!({"browser": "Chrome 75.0.3770", "level": "error"}));
}

// ---- 8. stats -----------------------------------------------------------------------

#[test]
fn stats_count_groups_events_distinct_events_and_dead_letters() {
    let conn = fresh_db();
    let empty = rows(&conn, errors::STATS);
    assert_eq!(
        empty,
        [json!({"groups": 0, "events": 0, "distinct_events": 0, "dead_letters": 0}).as_object().unwrap().clone()]
    );

    ingest(
        &conn,
        &[
            rec("s1", "81", "2026-02-01T00:00:00.000Z"),
            rec("s2", "81", "2026-02-01T01:00:00.000Z"),
            rec("s3", "82", "2026-02-01T02:00:00.000Z"),
            rec("s1", "81", "2026-02-01T00:00:00.000Z"),
        ],
    );
    ingest(
        &conn,
        &[
            rec("s4", "82", "2026-02-01T03:00:00.000Z"),
            rec("s5", "82", "2026-02-01T04:00:00.000Z"),
            rec("s6", "83", "2026-02-01T05:00:00.000Z"),
            rec("s3", "82", "2026-02-01T02:00:00.000Z"),
        ],
    );
    let t = now();
    run(
        &conn,
        &[
            dead_job("msg-1", "error_event", INSTALL, "D1 unavailable", &t),
            dead_job("msg-2", "error_event", INSTALL, "D1 unavailable", &t),
            dead_job("msg-2", "error_event", INSTALL, "again", &t),
            dead_job("msg-3", "sync_members", INSTALL, "401", &t),
        ],
    );
    conn.execute(
        "INSERT INTO jobs (id, kind, installation_uuid, attempts, status, created_at, updated_at)
         VALUES ('msg-4', 'error_event', ?1, 1, 'retrying', ?2, ?2)",
        [INSTALL, t.as_str()],
    )
    .unwrap();
    let stats = rows(&conn, errors::STATS);
    assert_eq!(stats.len(), 1);
    assert_eq!(
        Value::Object(stats[0].clone()),
        json!({"groups": 3, "events": 6, "distinct_events": 6, "dead_letters": 2})
    );
}

// ---- 9. sanitised at rest -----------------------------------------------------------

/// Every TEXT (and BLOB, as text) value of every table, as (table, column, text).
fn every_text(conn: &Connection) -> Vec<(String, String, String)> {
    let mut tables = conn.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").unwrap();
    let names: Vec<String> = tables.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect();
    assert!(names.iter().any(|n| n == "error_groups"), "{names:?}");
    let mut out = vec![];
    for table in names {
        let mut stmt = conn.prepare(&format!("SELECT * FROM \"{table}\"")).unwrap();
        let columns: Vec<String> = stmt.column_names().iter().map(|c| c.to_string()).collect();
        let mut rows = stmt.query([]).unwrap();
        while let Some(row) = rows.next().unwrap() {
            for (i, column) in columns.iter().enumerate() {
                let text = match row.get_ref(i).unwrap() {
                    ValueRef::Text(t) | ValueRef::Blob(t) => String::from_utf8_lossy(t).into_owned(),
                    _ => continue,
                };
                out.push((table.clone(), column.clone(), text));
            }
        }
    }
    out
}

#[test]
fn no_secret_of_the_event_is_stored() {
    let body = serde_json::to_vec(&json!({
        "action": "created",
        "installation": { "uuid": INSTALL },
        "data": { "error": {
            "event_id": "5ec12e7a1b2c4d5e8f90a1b2c3d4e5f6",
            "issue_id": "900",
            "title": "TypeError: cannot read properties of undefined",
            "culprit": "checkout/pay in submit",
            "level": "error",
            "platform": "javascript",
            "project": 7,
            "environment": "production",
            "release": "shop@3.1.4",
            "datetime": "2026-02-01T10:00:00.123456Z",
            "web_url": "https://example.sentry.io/issues/900/events/5ec12e7a1b2c4d5e8f90a1b2c3d4e5f6/",
            "request": {
                "url": "https://shop.example/checkout/pay?token=MARKER_QUERY#MARKER_FRAGMENT",
                "method": "POST",
                "query_string": "token=MARKER_QS",
                "cookies": [["session", "MARKER_COOKIE"]],
                "headers": [
                    ["Authorization", "Bearer MARKER_AUTH"],
                    ["Cookie", "session=MARKER_COOKIE_HEADER"],
                    ["User-Agent", "Mozilla/5.0 MARKER_UA"]
                ],
                "data": { "card": "MARKER_BODY_4111111111111111", "password": "MARKER_PASSWORD" },
                "env": { "REMOTE_ADDR": "198.51.100.23" }
            },
            "user": { "ip_address": "198.51.100.23", "email": "MARKER_EMAIL@example.com", "id": "MARKER_USER" },
            "tags": [["user", "ip:198.51.100.23"], ["browser", "Chrome 121"], ["session", "MARKER_TAG"]],
            "extra": { "secret": "MARKER_EXTRA" },
            "breadcrumbs": { "values": [{ "message": "MARKER_CRUMB" }] },
            "exception": { "values": [{ "type": "TypeError", "value": "cannot read properties of undefined",
                "stacktrace": { "frames": [{ "filename": "checkout/pay.js", "function": "submit", "lineno": 42,
                    "in_app": true, "vars": { "apiKey": "MARKER_VAR" }, "context_line": "MARKER_SOURCE",
                    "pre_context": ["MARKER_PRE"], "post_context": ["MARKER_POST"] }] } }] }
        } },
        "actor": { "type": "application", "id": "sentry", "name": "Sentry" }
    }))
    .unwrap();
    let record = condense_body(&body, NOW_MS).unwrap();
    let conn = fresh_db();
    issue_hook(&conn, "created", "900", 100);
    ingest(&conn, &[record.clone(), record.clone()]);
    ingest(&conn, &[rec("plain", "900", "2026-01-01T00:00:00.000Z")]);

    let stored = every_text(&conn);
    let all: String = stored.iter().map(|(_, _, t)| t.as_str()).collect::<Vec<_>>().join("\n");
    // The dump is real: what the log should keep is in it.
    for kept in [
        "5ec12e7a1b2c4d5e8f90a1b2c3d4e5f6",
        "TypeError: cannot read properties of undefined",
        "https://shop.example/checkout/pay",
        "Chrome 121",
        "checkout/pay.js",
        "shop@3.1.4",
    ] {
        assert!(all.contains(kept), "{kept} was not stored");
    }
    for (table, column, text) in &stored {
        for marker in ["MARKER", "198.51.100.23", "ip:", "Bearer", "session=", "token="] {
            assert!(!text.contains(marker), "{marker} stored in {table}.{column}: {text}");
        }
    }
    let sample = &errors::group_json(&group(&conn, "900"))["sample"];
    assert_eq!(sample["request"], json!({"url": "https://shop.example/checkout/pay", "method": "POST"}));
    assert_eq!(sample["tags"], json!({"browser": "Chrome 121"}));
    assert_eq!(group(&conn, "900")["event_count"], 2);
}

// ---- 10. all or nothing -------------------------------------------------------------

fn bad_statement() -> Stmt {
    Stmt { sql: "INSERT INTO no_such_table VALUES (1)", params: vec![] }
}

#[test]
fn a_failed_batch_leaves_no_trace() {
    let conn = fresh_db();
    let batch = [
        rec("f1", "91", "2026-02-01T00:00:00.000Z"),
        rec("f2", "92", "2026-02-01T01:00:00.000Z"),
        rec("f3", "91", "2026-02-01T02:00:00.000Z"),
    ];
    let mut stmts = errors::ingest(&batch, &now());
    stmts.push(bad_statement());
    assert!(try_run(&conn, &stmts).is_err());
    for table in ["error_events", "error_groups", "error_hourly", "error_seen"] {
        assert_eq!(scalar(&conn, &format!("SELECT COUNT(*) FROM {table}")), 0, "{table}");
    }

    // The queue retries the batch: it then counts every event once.
    ingest(&conn, &batch);
    assert_eq!(group(&conn, "91")["event_count"], 2);
    assert_eq!(group(&conn, "92")["event_count"], 1);
    assert_eq!(scalar(&conn, "SELECT SUM(count) FROM error_hourly"), 3);
}

#[test]
fn a_failed_later_batch_leaves_the_earlier_ones_as_they_were() {
    let conn = fresh_db();
    ingest(&conn, &[rec("p1", "95", "2026-02-01T00:00:00.000Z"), rec("p2", "95", "2026-02-01T00:30:00.000Z")]);
    let before = error_log(&conn);

    let second = [
        rec("p3", "95", "2026-02-02T00:00:00.000Z"),
        rec("p1", "95", "2026-02-01T00:00:00.000Z"),
        rec("q1", "96", "2026-02-02T00:00:00.000Z"),
    ];
    for at_index in [3, errors::ingest(&second, &now()).len() - 1, usize::MAX] {
        let mut stmts = errors::ingest(&second, &now());
        // Fail after the inserts, before the marking, or at the very end.
        stmts.insert(at_index.min(stmts.len()), bad_statement());
        assert!(try_run(&conn, &stmts).is_err());
        assert_eq!(error_log(&conn), before, "failing at {at_index}");
        assert_eq!(uncounted(&conn), 0);
    }

    ingest(&conn, &second);
    assert_eq!(group(&conn, "95")["event_count"], 3);
    assert_eq!(group(&conn, "96")["event_count"], 1);
    assert_eq!(scalar(&conn, "SELECT SUM(count) FROM error_hourly"), 4);
    assert_eq!(uncounted(&conn), 0);
}

#[test]
fn a_known_event_under_another_issue_makes_no_empty_group() {
    let conn = fresh_db();
    ingest(&conn, &[rec("x", "1", "2026-02-01T00:00:00.000Z")]);
    // Sentry merged issue 1 into 2 and redelivers the same event under 2.
    ingest(&conn, &[rec("x", "2", "2026-02-01T00:00:00.000Z")]);
    assert!(group_row(&conn, "2").is_none(), "a group with no events was created");
    assert_eq!(group(&conn, "1")["event_count"], 1);
}
