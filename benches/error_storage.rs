//! `make bench` (after the ack figures): what the error log costs in D1 for
//! a busy day, simulated on SQLite with the real migrations and the
//! worker's own ingest batches (`store::errors::ingest`, 100 events per
//! queue batch). Prints the bytes per day and the 30-day projection against
//! D1's 10 GB database limit; asserts the counts, not a size target.
//!
//! A day is `n` `error.created` over BENCH_ERRLOG_GROUPS (default 5,000)
//! issues drawn Zipf-like (s = 1), each group's records condensed by the
//! real `condense_body` from the real Sentry payloads in tests/fixtures/real;
//! 2% arrive up to two hours late, 0.5% are delivered twice. Day 1 starts
//! empty; day 2 brings the same groups again, so its growth is what each
//! further day adds. The size is `page_count * page_size` after VACUUM.
//!
//! BENCH_ERRLOG_SIZES (default `100000,200000`) are the day sizes simulated;
//! the figure for BENCH_ERRLOG_DAY (default 1,000,000) is measured when it is
//! one of them, else extrapolated along the line through the two largest:
//! the keys grow in proportion to the events, the samples and groups not at
//! all and the hourly buckets less than in proportion (they saturate at 24 a
//! group), so the line is exact for the first and an upper bound for the
//! rest. `BENCH_ERRLOG_SIZES=1000000` measures the full day (a few minutes).

#[path = "../tests/support/db.rs"]
mod db;

use rusqlite::types::Value as Param;
use rusqlite::Connection;
use sentry_kanban::sentry::errors::{condense_body, ErrorRecord};
use sentry_kanban::sql::{SqlValue, Stmt};
use sentry_kanban::store::errors::{self, SAMPLE_PER_GROUP};
use sentry_kanban::time::{format_millis, Millis};
use serde_json::Value;
use std::time::Instant;

const DAY_MS: Millis = 86_400_000;
/// 2026-03-01T00:00:00Z.
const DAY_1: Millis = 1_772_323_200_000;
/// D1's largest database (10 GB), in bytes.
const D1_LIMIT: f64 = 10e9;
const BATCH: usize = 100;
const DAYS: f64 = 30.0;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// xorshift64*: the same events every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const PLACEHOLDER: &str = "0123456789abcdef0123456789abcdef";

/// One record per group, condensed from a real payload given the group's
/// issue id, a title and culprit of its own and a placeholder event id.
fn templates(groups: usize) -> Vec<ErrorRecord> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/real");
    let mut payloads: Vec<(String, Value)> = std::fs::read_dir(&dir)
        .expect("tests/fixtures/real")
        .flatten()
        .map(|e| e.path())
        .filter_map(|p| {
            Some((p.file_name()?.to_str()?.to_string(), serde_json::from_slice(&std::fs::read(&p).ok()?).ok()?))
        })
        .filter(|(_, v): &(String, Value)| v["data"]["error"].is_object() || v["data"]["event"].is_object())
        .collect();
    payloads.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(!payloads.is_empty(), "no error payload in {}", dir.display());
    (0..groups).map(|g| template(payloads[g % payloads.len()].1.clone(), g)).collect()
}

fn template(mut body: Value, g: usize) -> ErrorRecord {
    let data = body["data"].as_object_mut().expect("data");
    if let Some(event) = data.remove("event") {
        data.insert("error".into(), event);
    }
    let e = &mut body["data"]["error"];
    let (title, culprit) =
        (e["title"].as_str().unwrap_or("Error").to_string(), e["culprit"].as_str().unwrap_or("app").to_string());
    e["event_id"] = PLACEHOLDER.into();
    e["issue_id"] = (4_000_000_000u64 + g as u64).to_string().into();
    e["title"] = format!("{title} #{g}").into();
    e["culprit"] = format!("{culprit} #{g}").into();
    condense_body(&serde_json::to_vec(&body).unwrap(), DAY_1 + 100 * DAY_MS)
        .unwrap_or_else(|err| panic!("group {g}: {err:?}"))
}

/// Event `id` of a group (its template) at `time`, as the queue carries it.
fn event(template: &ErrorRecord, id: &str, time: Millis) -> ErrorRecord {
    ErrorRecord {
        event_id: id.to_string(),
        time: format_millis(time),
        web_url: template.web_url.as_ref().map(|u| u.replace(PLACEHOLDER, id)),
        sample: template.sample.replace(PLACEHOLDER, id),
        ..template.clone()
    }
}

/// Zipf-like weights 1/k over `n` groups, as a cumulative table.
fn zipf(n: usize) -> Vec<f64> {
    let mut acc = 0.0;
    let mut cdf: Vec<f64> = (1..=n)
        .map(|k| {
            acc += 1.0 / k as f64;
            acc
        })
        .collect();
    cdf.iter_mut().for_each(|c| *c /= acc);
    cdf
}

fn param(v: &SqlValue) -> Param {
    match v {
        SqlValue::Null => Param::Null,
        SqlValue::Int(i) => Param::Integer(i64::from(*i)),
        SqlValue::Text(s) => Param::Text(s.clone()),
    }
}

/// One queue batch as one transaction (one D1 batch).
fn run(conn: &mut Connection, stmts: &[Stmt]) {
    let tx = conn.transaction().unwrap();
    for s in stmts {
        let mut p = tx.prepare_cached(s.sql).unwrap_or_else(|e| panic!("{e}: {}", s.sql));
        p.execute(rusqlite::params_from_iter(s.params.iter().map(param))).unwrap_or_else(|e| panic!("{e}: {}", s.sql));
    }
    tx.commit().unwrap();
}

struct Day {
    distinct: u64,
    deliveries: u64,
    record_bytes: u64,
    sample_bytes: u64,
}

/// One day of `n` distinct events from `start`, ingested batch by batch in
/// arrival order (late events carry an earlier time; a redelivery comes
/// again within the next five batches).
fn day(conn: &mut Connection, rng: &mut Rng, cdf: &[f64], templates: &[ErrorRecord], start: Millis, n: usize) -> Day {
    let mut arrivals: Vec<Millis> = (0..n).map(|_| start + rng.below(DAY_MS as u64) as Millis).collect();
    arrivals.sort_unstable();
    let mut stats = Day { distinct: n as u64, deliveries: 0, record_bytes: 0, sample_bytes: 0 };
    let mut batch: Vec<ErrorRecord> = Vec::with_capacity(BATCH);
    let mut again: Vec<(usize, ErrorRecord)> = vec![];
    let mut flush = |batch: &mut Vec<ErrorRecord>, stats: &mut Day| {
        for r in batch.iter() {
            stats.deliveries += 1;
            stats.record_bytes += serde_json::to_vec(r).unwrap().len() as u64;
            stats.sample_bytes += r.sample.len() as u64;
        }
        let now = batch.iter().map(|r| r.time.clone()).max().unwrap_or_default();
        run(conn, &errors::ingest(batch, &now));
        batch.clear();
    };
    for (i, &arrived) in arrivals.iter().enumerate() {
        let g = cdf.partition_point(|&c| c < rng.unit()).min(templates.len() - 1);
        let late = if rng.below(100) < 2 { rng.below(2 * 3_600_000) as Millis } else { 0 };
        let id = format!("{:016x}{:016x}", rng.next(), rng.next());
        let r = event(&templates[g], &id, arrived - late);
        if rng.below(1000) < 5 {
            again.push((i + 1 + rng.below(5 * BATCH as u64) as usize, r.clone()));
        }
        batch.push(r);
        while let Some(pos) = again.iter().position(|(due, _)| *due <= i) {
            batch.push(again.swap_remove(pos).1);
        }
        if batch.len() >= BATCH {
            flush(&mut batch, &mut stats);
        }
    }
    batch.extend(again.into_iter().map(|(_, r)| r));
    if !batch.is_empty() {
        flush(&mut batch, &mut stats);
    }
    stats
}

fn size(conn: &Connection) -> f64 {
    conn.execute_batch("VACUUM").unwrap();
    let pages: i64 = conn.query_row("PRAGMA page_count", [], |r| r.get(0)).unwrap();
    let page: i64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0)).unwrap();
    (pages * page) as f64
}

fn scalar(conn: &Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |r| r.get(0)).unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Bytes per table and index (SQLite's dbstat), if compiled in.
fn by_table(conn: &Connection) -> String {
    let Ok(mut stmt) = conn.prepare("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC LIMIT 8")
    else {
        return "(dbstat not available)".into();
    };
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))).unwrap();
    rows.flatten().map(|(name, bytes)| format!("{name} {}", mb(bytes as f64))).collect::<Vec<_>>().join(", ")
}

fn table_bytes(conn: &Connection, name: &str) -> f64 {
    conn.query_row("SELECT COALESCE(SUM(pgsize), 0) FROM dbstat WHERE name = ?1", [name], |r| r.get::<_, i64>(0))
        .map_or(0.0, |b| b as f64)
}

fn mb(bytes: f64) -> String {
    format!("{:.1} MB", bytes / 1e6)
}

fn gb(bytes: f64) -> String {
    format!("{:.2} GB", bytes / 1e9)
}

/// Counts agree with the distinct events; the sample is bounded.
fn check(conn: &Connection, distinct: u64, groups: usize) {
    let counted = scalar(conn, "SELECT SUM(event_count) FROM error_groups") as u64;
    let hourly = scalar(conn, "SELECT SUM(count) FROM error_hourly") as u64;
    let keys = scalar(conn, "SELECT COUNT(*) FROM error_seen") as u64;
    assert_eq!((counted, hourly, keys), (distinct, distinct, distinct), "each distinct event counted once");
    let widest = scalar(conn, "SELECT MAX(n) FROM (SELECT COUNT(*) AS n FROM error_events GROUP BY issue_id)");
    assert!(widest <= i64::from(SAMPLE_PER_GROUP), "a sample of {widest} events");
    assert!(scalar(conn, "SELECT COUNT(*) FROM error_groups") as usize <= groups);
}

/// One simulated pair of days of `n` events each, from an empty database.
struct Sizes {
    n: usize,
    day1: f64,
    further: f64,
    keys_further: f64,
    record: f64,
    sample: f64,
    tables: String,
    secs: f64,
}

fn simulate(n: usize, groups: usize, templates: &[ErrorRecord]) -> Sizes {
    let took = Instant::now();
    let cdf = zipf(templates.len());
    let mut rng = Rng(0x5eed_e770_1095_0001);
    let mut conn = db::fresh_db();
    let empty = size(&conn);
    let first = day(&mut conn, &mut rng, &cdf, templates, DAY_1, n);
    check(&conn, first.distinct, groups);
    let (s1, keys1) = (size(&conn), table_bytes(&conn, "error_seen"));
    let second = day(&mut conn, &mut rng, &cdf, templates, DAY_1 + DAY_MS, n);
    check(&conn, first.distinct + second.distinct, groups);
    let (s2, keys2) = (size(&conn), table_bytes(&conn, "error_seen"));
    let deliveries = (first.deliveries + second.deliveries) as f64;
    Sizes {
        n,
        day1: s1 - empty,
        further: s2 - s1,
        keys_further: keys2 - keys1,
        record: (first.record_bytes + second.record_bytes) as f64 / deliveries,
        sample: (first.sample_bytes + second.sample_bytes) as f64 / deliveries,
        tables: by_table(&conn),
        secs: took.elapsed().as_secs_f64(),
    }
}

/// `(a, b)` of `y = a + b * n` through the two largest sizes, or the one.
fn line(runs: &[Sizes], y: impl Fn(&Sizes) -> f64) -> (f64, f64) {
    match runs {
        [.., p, q] if q.n != p.n => {
            let b = (y(q) - y(p)) / (q.n - p.n) as f64;
            (y(q) - b * q.n as f64, b)
        }
        [.., q] => (0.0, y(q) / q.n as f64),
        [] => (0.0, 0.0),
    }
}

fn main() {
    let groups = env_usize("BENCH_ERRLOG_GROUPS", 5_000).max(1);
    let target = env_usize("BENCH_ERRLOG_DAY", 1_000_000).max(1);
    let mut sizes: Vec<usize> = std::env::var("BENCH_ERRLOG_SIZES")
        .unwrap_or_else(|_| "100000,200000".into())
        .split(',')
        .filter_map(|v| v.trim().parse().ok())
        .map(|n: usize| n.max(BATCH))
        .collect();
    sizes.sort_unstable();
    sizes.dedup();
    let templates = templates(groups);
    println!("error-log storage in D1: {groups} groups (Zipf s=1), the real migrations and ingest batches of {BATCH}");
    let mut runs = vec![];
    for n in sizes {
        let r = simulate(n, groups, &templates);
        println!(
            "  {n} events a day: day 1 from empty {}, each further day +{} = {:.1} B/event (event keys {:.1} B/event); {:.0} s",
            mb(r.day1),
            mb(r.further),
            r.further / n as f64,
            r.keys_further / n as f64,
            r.secs
        );
        runs.push(r);
    }
    let Some(last) = runs.last() else { return };
    println!(
        "    records as queued: {:.0} B mean, {:.0} B of it the sample; after day 2: {}",
        last.record, last.sample, last.tables
    );
    let at = |y: fn(&Sizes) -> f64| match runs.iter().find(|r| r.n == target) {
        Some(r) => y(r),
        None => {
            let (a, b) = line(&runs, y);
            a + b * target as f64
        }
    };
    let how = if runs.iter().any(|r| r.n == target) {
        "measured"
    } else {
        "extrapolated along the line through the two largest"
    };
    let (day1, further) = (at(|r| r.day1), at(|r| r.further));
    let recurring = day1 + (DAYS - 1.0) * further;
    let all_new = DAYS * day1;
    let pct = |b: f64| format!("{:.1}% of D1's 10 GB", 100.0 * b / D1_LIMIT);
    println!(
        "  at {target} a day ({how}): {} a day ({:.1} B/event) once the groups exist",
        mb(further),
        further / target as f64
    );
    println!("    30 days, the groups recurring: {} ({})", gb(recurring), pct(recurring));
    println!("    30 days, {groups} new groups every day (upper bound): {} ({})", gb(all_new), pct(all_new));
    println!("    each distinct event counted once; samples at most {SAMPLE_PER_GROUP} per group");
}
