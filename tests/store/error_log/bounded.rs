//! The error log stays bounded however many events arrive (issue 18): per
//! group, counts by hour (`error_hourly`) and the all-time count, the
//! newest `SAMPLE_PER_GROUP` events (`error_events`), and one small key per
//! distinct event (`error_seen`) so that a redelivery counts once even after
//! its event left the sample. Run on SQLite with the real migrations, read
//! back with the worker's own SQL (the other modules cover the rest).

use crate::support;

use rusqlite::Connection;
use sentry_kanban::sentry::errors::ErrorRecord;
use sentry_kanban::sql::SqlValue;
use sentry_kanban::store::errors::{self as errors, SAMPLE_PER_GROUP};
use sentry_kanban::store::retention;
use sentry_kanban::time::{format_millis, Millis};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use support::db::{fresh_db, migration_files, query, rows, run};

/// 2026-03-01T12:00:00.000Z.
const NOW_MS: Millis = 1_772_366_400_000;
const MINUTE: Millis = 60_000;
const DAY: Millis = 86_400_000;
const N: usize = SAMPLE_PER_GROUP as usize;

fn rec(event: &str, issue: &str, time: &str) -> ErrorRecord {
    ErrorRecord {
        event_id: event.into(),
        issue_id: issue.into(),
        installation: None,
        title: format!("Error {issue}"),
        culprit: Some("app.js in f".into()),
        level: Some("error".into()),
        platform: Some("javascript".into()),
        project: Some("1".into()),
        environment: Some("production".into()),
        release: Some("web@1.0.0".into()),
        time: time.into(),
        web_url: None,
        sample: json!({ "event_id": event }).to_string(),
    }
}

/// `n` events of `issue`, one a minute from `start` (the id says its time).
fn events(issue: &str, n: usize, start: Millis) -> Vec<ErrorRecord> {
    (0..n as i64).map(|i| start + i * MINUTE).map(|t| rec(&format!("{issue}-{t}"), issue, &format_millis(t))).collect()
}

fn ingest(conn: &Connection, records: &[ErrorRecord]) {
    run(conn, &errors::ingest(records, &format_millis(NOW_MS)));
}

fn scalar(conn: &Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |r| r.get(0)).unwrap_or_else(|e| panic!("{sql}: {e}"))
}

fn count(conn: &Connection, issue: &str) -> i64 {
    let g = query(conn, errors::GROUP, &[SqlValue::from(issue)]);
    g.first().and_then(|g| g["event_count"].as_i64()).unwrap_or_else(|| panic!("no group {issue}"))
}

fn recent(conn: &Connection, issue: &str) -> Vec<String> {
    query(conn, errors::RECENT_EVENTS, &[SqlValue::from(issue)])
        .iter()
        .map(|e| e["event_id"].as_str().unwrap().to_string())
        .collect()
}

fn sampled(conn: &Connection, issue: &str) -> i64 {
    scalar(conn, &format!("SELECT COUNT(*) FROM error_events WHERE issue_id = '{issue}'"))
}

fn hourly_sum(conn: &Connection, issue: &str) -> i64 {
    scalar(conn, &format!("SELECT COALESCE(SUM(count), 0) FROM error_hourly WHERE issue_id = '{issue}'"))
}

/// The ids of `records`, newest first (the API's order).
fn newest_first(records: &[ErrorRecord]) -> Vec<String> {
    let mut sorted: Vec<&ErrorRecord> = records.iter().collect();
    sorted.sort_by(|a, b| b.time.cmp(&a.time).then(a.event_id.cmp(&b.event_id)));
    sorted.iter().map(|r| r.event_id.clone()).collect()
}

#[test]
fn the_sample_keeps_the_newest_events_of_each_group_and_the_counts_keep_all() {
    let conn = fresh_db();
    let base = NOW_MS - 3 * DAY;
    let mut all = events("7", 4 * N + 3, base);
    // Out of order across batches: a late old event must not push out a newer one.
    all.reverse();
    all.swap(3, 4 * N);
    let small = events("8", 5, base);
    for (i, chunk) in all.chunks(37).enumerate() {
        let mut batch = chunk.to_vec();
        if i == 1 {
            batch.extend(small.iter().cloned());
        }
        ingest(&conn, &batch);
    }
    assert_eq!(sampled(&conn, "7"), SAMPLE_PER_GROUP as i64, "the sample is bounded");
    assert_eq!(recent(&conn, "7"), newest_first(&all)[..N], "the newest, newest first");
    assert_eq!(count(&conn, "7"), all.len() as i64, "the count keeps every event");
    assert_eq!(hourly_sum(&conn, "7"), all.len() as i64, "so do the hourly buckets");
    assert_eq!((sampled(&conn, "8"), count(&conn, "8")), (5, 5), "another group keeps its own sample");
    assert_eq!(scalar(&conn, "SELECT COUNT(*) FROM error_events WHERE counted = 0"), 0);
    let stats = rows(&conn, errors::STATS);
    assert_eq!(stats[0]["events"], json!(all.len() + 5));
    assert_eq!(stats[0]["distinct_events"], json!(all.len() + 5), "distinct events are counted, not sampled");
}

#[test]
fn one_batch_larger_than_the_sample_keeps_its_newest() {
    let conn = fresh_db();
    let batch = events("9", N + 20, NOW_MS - DAY);
    ingest(&conn, &batch);
    assert_eq!(recent(&conn, "9"), newest_first(&batch)[..N]);
    assert_eq!((sampled(&conn, "9"), count(&conn, "9")), (N as i64, (N + 20) as i64));
}

#[test]
fn events_of_the_same_time_are_kept_in_the_api_order() {
    let conn = fresh_db();
    let t = format_millis(NOW_MS - DAY);
    let mut batch: Vec<ErrorRecord> = (0..N + 7).map(|i| rec(&format!("same-{i:03}"), "10", &t)).collect();
    batch.reverse();
    let (first, second) = batch.split_at(N - 3);
    ingest(&conn, first);
    ingest(&conn, second);
    let want: Vec<String> = (0..N).map(|i| format!("same-{i:03}")).collect();
    assert_eq!(recent(&conn, "10"), want, "the same time: by id, as RECENT_EVENTS orders them");
    assert_eq!((sampled(&conn, "10"), count(&conn, "10")), (N as i64, (N + 7) as i64));
}

#[test]
fn a_redelivered_event_counts_once_after_it_left_the_sample() {
    let conn = fresh_db();
    let all = events("5", N + 10, NOW_MS - DAY);
    ingest(&conn, &all);
    let oldest = all[0].clone();
    assert!(!recent(&conn, "5").contains(&oldest.event_id), "the oldest left the sample");
    let before = (count(&conn, "5"), hourly_sum(&conn, "5"), recent(&conn, "5"));

    // Redelivered alone, twice in a batch, among new events, and under a merged issue's id.
    ingest(&conn, std::slice::from_ref(&oldest));
    ingest(&conn, &[oldest.clone(), oldest.clone()]);
    assert_eq!((count(&conn, "5"), hourly_sum(&conn, "5"), recent(&conn, "5")), before);
    let fresh = rec("5-new", "5", &format_millis(NOW_MS - MINUTE));
    ingest(&conn, &[oldest.clone(), fresh.clone(), all[1].clone()]);
    assert_eq!(count(&conn, "5"), before.0 + 1, "only the new event counts");
    assert_eq!(hourly_sum(&conn, "5"), before.1 + 1);
    assert_eq!(recent(&conn, "5")[0], "5-new");
    ingest(&conn, &[ErrorRecord { issue_id: "6".into(), ..oldest.clone() }]);
    assert!(query(&conn, errors::GROUP, &[SqlValue::from("6")]).is_empty(), "a known event makes no group");
    assert_eq!(scalar(&conn, "SELECT COUNT(*) FROM error_seen"), all.len() as i64 + 1, "one key per distinct event");
}

#[test]
fn retention_prunes_old_samples_buckets_and_event_keys() {
    let conn = fresh_db();
    let days = 30;
    let old = events("3", 4, NOW_MS - (days + 2) * DAY);
    let new = events("3", 3, NOW_MS - 2 * DAY);
    ingest(&conn, &[old.clone(), new.clone()].concat());
    assert_eq!(scalar(&conn, "SELECT COUNT(*) FROM error_seen"), 7);
    let stmts = retention::statements(NOW_MS, days as u32);
    let tables: Vec<&str> = retention::TABLES.to_vec();
    let seen = tables.iter().position(|t| *t == "error_seen").expect("retention prunes error_seen");
    assert!(stmts[seen].sql.starts_with("DELETE FROM error_seen "), "{}", stmts[seen].sql);
    assert!(retention::bound("error_seen") >= 200_000, "a day of a million keys goes within one run's rounds");
    assert_eq!(retention::bound("error_events"), retention::BATCH);
    let counts = support::db::run_counted(&conn, &stmts);
    let deleted: BTreeMap<&str, usize> = tables.iter().copied().zip(counts).collect();
    assert_eq!((deleted["error_events"], deleted["error_hourly"], deleted["error_seen"]), (4, 1, 4), "{deleted:?}");
    assert_eq!(recent(&conn, "3"), newest_first(&new));
    assert_eq!(scalar(&conn, "SELECT COUNT(*) FROM error_seen"), 3);
    assert_eq!(hourly_sum(&conn, "3"), 3);
    assert_eq!(count(&conn, "3"), 7, "the all-time count stays");
}

/// A database as the worker left it before 0019: one `error_events` row per
/// event (counted), its groups and hourly buckets.
fn before_0019() -> Connection {
    let conn = Connection::open_in_memory().unwrap();
    for file in migration_files().iter().filter(|f| f.file_name().unwrap().to_str().unwrap() < "0019") {
        conn.execute_batch(&std::fs::read_to_string(file).unwrap()).unwrap();
    }
    let mut hours: BTreeMap<(String, String), i64> = BTreeMap::new();
    let mut groups: BTreeMap<String, (i64, String, String)> = BTreeMap::new();
    for r in [events("1", N + 25, NOW_MS - 5 * DAY), events("2", 3, NOW_MS - DAY)].concat() {
        conn.execute(
            "INSERT INTO error_events (event_id, issue_id, time, level, counted) VALUES (?1, ?2, ?3, 'error', 1)",
            [&r.event_id, &r.issue_id, &r.time],
        )
        .unwrap();
        *hours.entry((r.issue_id.clone(), r.time[..13].to_string())).or_default() += 1;
        let g = groups.entry(r.issue_id.clone()).or_insert((0, r.time.clone(), r.time.clone()));
        g.0 += 1;
        g.2 = g.2.clone().max(r.time.clone());
    }
    for ((issue, hour), n) in hours {
        conn.execute("INSERT INTO error_hourly VALUES (?1, ?2, ?3)", rusqlite::params![issue, hour, n]).unwrap();
    }
    for (issue, (n, first, last)) in groups {
        conn.execute(
            "INSERT INTO error_groups (issue_id, title, event_count, first_seen, last_seen, created_at, updated_at)
             VALUES (?1, 't', ?2, ?3, ?4, ?4, ?4)",
            rusqlite::params![issue, n, first, last],
        )
        .unwrap();
    }
    conn
}

#[test]
fn the_migration_trims_the_samples_and_keeps_every_old_event_known() {
    let conn = before_0019();
    let old = events("1", N + 25, NOW_MS - 5 * DAY);
    assert_eq!(sampled(&conn, "1"), (N + 25) as i64);
    for file in migration_files().iter().filter(|f| f.file_name().unwrap().to_str().unwrap() >= "0019") {
        conn.execute_batch(&std::fs::read_to_string(file).unwrap()).unwrap();
    }
    assert_eq!(recent(&conn, "1"), newest_first(&old)[..N], "trimmed to the newest");
    assert_eq!((sampled(&conn, "2"), count(&conn, "1"), count(&conn, "2")), (3, (N + 25) as i64, 3));
    assert_eq!(hourly_sum(&conn, "1"), (N + 25) as i64, "the buckets are untouched");
    assert_eq!(scalar(&conn, "SELECT COUNT(*) FROM error_seen"), (N + 28) as i64);

    // Old events, trimmed or not, redelivered after the migration: known.
    ingest(&conn, &[old[0].clone(), old[N + 24].clone(), old[3].clone()]);
    assert_eq!((count(&conn, "1"), hourly_sum(&conn, "1")), ((N + 25) as i64, (N + 25) as i64));
    ingest(&conn, &[rec("1-late", "1", &format_millis(NOW_MS - 6 * DAY))]);
    assert_eq!(count(&conn, "1"), (N + 26) as i64, "an unknown old event counts");
    assert_eq!(recent(&conn, "1"), newest_first(&old)[..N], "but does not enter the sample of newer ones");
    // The migration ran on a fresh database too (fresh_db applies it).
    assert_eq!(scalar(&fresh_db(), "SELECT COUNT(*) FROM error_seen"), 0);
}

#[test]
fn an_event_key_is_its_id_and_the_day_of_its_time() {
    let conn = fresh_db();
    ingest(&conn, &[rec("k1", "4", "2026-02-01T23:59:59.999Z"), rec("k2", "4", "1970-01-02T00:00:00.000Z")]);
    let keys: Vec<Value> =
        rows(&conn, "SELECT day, event_id FROM error_seen ORDER BY day").into_iter().map(Value::Object).collect();
    assert_eq!(keys, [json!({"day": 1, "event_id": "k2"}), json!({"day": 20485, "event_id": "k1"})]);
}
