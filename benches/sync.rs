//! `make bench-sync`: the cron sync of a large organization. A mock Sentry
//! serves BENCH_SYNC_ISSUES (default 10,000) issues, 100 per page; a manual
//! trigger starts the run. Prints the time from the trigger until the run
//! is done and every issue is a card in local D1, the D1 round trips per
//! page (from the worker's `sync_pages` log lines), and the peak rate of
//! requests the mock received. Asserts completeness, no speed target.

#[path = "../tests/e2e/app.rs"]
mod app;
#[path = "support/mod.rs"]
mod common;
#[path = "../tests/e2e/issues.rs"]
mod issues;
#[path = "../tests/e2e/mock.rs"]
mod mock;

use app::{spawn_app, App, INTERNAL_ORG, INTERNAL_TOKEN};
use common::env_usize;
use serde_json::Value;
use std::time::{Duration, Instant};

const CRON: &str = "bench-cron-secret";

fn main() {
    let n = env_usize("BENCH_SYNC_ISSUES", 10_000);
    let app =
        spawn_app(&[("SENTRY_AUTH_TOKEN", INTERNAL_TOKEN), ("SENTRY_ORG_SLUG", INTERNAL_ORG), ("CRON_SECRET", CRON)]);
    let all: Vec<Value> = (0..n as u32)
        .map(|i| issues::issue(100_000 + i, ["unresolved", "resolved", "ignored"][i as usize % 3]))
        .collect();
    let (paths, mark) = issues::serve(&app, &all, 0);

    let started = Instant::now();
    let auth = format!("Bearer {CRON}");
    let r = app.request("POST", "/api/cron/sentry-sync", &[("Authorization", &auth)], b"");
    assert_eq!(r.status, 200, "{}", r.body);
    let run = r.json()["runs"][0]["run"].as_str().expect("a run started").to_string();
    let done = app.wait_for("the sync run to finish", Duration::from_secs(600), || {
        app.list("/api/sync/status", "runs").into_iter().find(|r| r["id"] == run && r["status"] != "running")
    });
    let elapsed = started.elapsed();
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!(done["issues"].as_u64(), Some(n as u64), "{done}");
    let cards = count_cards(&app);
    assert_eq!(cards, n, "every issue is a card in D1");

    let (pages, trips) = round_trips(&app, &run);
    let calls: Vec<Instant> = app.mock.calls().into_iter().skip(mark).map(|c| c.at).collect();
    println!("cron sync of {n} issues ({} pages of 100), one run:", paths.len());
    println!(
        "  trigger → all {n} in D1: {:.1} s (run's own duration {} ms)",
        elapsed.as_secs_f64(),
        done["duration_ms"]
    );
    println!("  D1 round trips: {trips} for {pages} pages = {:.2} per page", trips as f64 / pages.max(1) as f64);
    println!("  requests to the mock: {}, peak {} req/s (1 s window)", calls.len(), peak_per_second(&calls));
}

/// Cards whose id is one of the served issues, read from the local D1 files
/// (the board API shows at most 2,000 cards).
fn count_cards(app: &App) -> usize {
    let state = app.log.parent().expect("run dir").join("state");
    let root = env!("CARGO_MANIFEST_DIR");
    let sql = "SELECT COUNT(*) AS n FROM cards WHERE short_id LIKE 'SYNC-%'";
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(r#"source tools/env.sh && "${WRANGLER[@]}" d1 execute DB --local --persist-to "$0" --json --command "$1""#)
        .arg(&state)
        .arg(sql)
        .current_dir(root)
        .output()
        .expect("wrangler d1 execute runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("d1 execute output ({e}): {text}"));
    v[0]["results"][0]["n"].as_u64().unwrap_or(0) as usize
}

/// Pages and D1 round trips of a run, summed over its `sync_pages` lines.
fn round_trips(app: &App, run: &str) -> (u64, u64) {
    app.log_text()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l.trim()).ok())
        .filter(|v| v["event"] == "sync_pages" && v["run"] == run)
        .fold((0, 0), |(p, t), v| (p + v["pages"].as_u64().unwrap_or(0), t + v["d1_round_trips"].as_u64().unwrap_or(0)))
}

fn peak_per_second(calls: &[Instant]) -> usize {
    let mut sorted = calls.to_vec();
    sorted.sort();
    let mut best = 0;
    let mut start = 0;
    for end in 0..sorted.len() {
        while sorted[end].duration_since(sorted[start]) >= Duration::from_secs(1) {
            start += 1;
        }
        best = best.max(end - start + 1);
    }
    best
}
