//! The cron sync of a large organization. A mock Sentry serves `n` issues,
//! 100 per page; a manual trigger starts the run. Measures the time from the
//! trigger until the run is done and every issue is a card in local D1, the
//! D1 round trips per page (from the worker's `sync_pages` log lines), and
//! the peak rate of requests the mock received. Asserts completeness, no
//! speed target.

use super::app::{spawn_app, App, INTERNAL_ORG, INTERNAL_TOKEN};
use super::issues;
use serde_json::Value;
use std::time::{Duration, Instant};

const CRON: &str = "bench-cron-secret";

pub struct SyncRun {
    pub n: usize,
    /// Pages the mock served, and pages the run's log lines count.
    pub served_pages: usize,
    pub pages: u64,
    /// Trigger → run done and all `n` in D1.
    pub elapsed: Duration,
    /// The run's own `duration_ms`.
    pub run_ms: Value,
    pub trips: u64,
    pub calls: usize,
    pub peak: usize,
}

impl SyncRun {
    pub fn trips_per_page(&self) -> f64 {
        self.trips as f64 / self.pages.max(1) as f64
    }

    pub fn print(&self) {
        let n = self.n;
        println!("cron sync of {n} issues ({} pages of 100), one run:", self.served_pages);
        println!(
            "  trigger → all {n} in D1: {:.1} s (run's own duration {} ms)",
            self.elapsed.as_secs_f64(),
            self.run_ms
        );
        println!("  D1 round trips: {} for {} pages = {:.2} per page", self.trips, self.pages, self.trips_per_page());
        println!("  requests to the mock: {}, peak {} req/s (1 s window)", self.calls, self.peak);
    }
}

/// A worker in internal-integration mode with a cron secret.
pub fn spawn() -> App {
    spawn_app(&[("SENTRY_AUTH_TOKEN", INTERNAL_TOKEN), ("SENTRY_ORG_SLUG", INTERNAL_ORG), ("CRON_SECRET", CRON)])
}

pub fn run(app: &App, n: usize) -> SyncRun {
    let all: Vec<Value> = (0..n as u32)
        .map(|i| issues::issue(100_000 + i, ["unresolved", "resolved", "ignored"][i as usize % 3]))
        .collect();
    let (paths, mark) = issues::serve(app, &all, 0);

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
    // Counted in the local D1 files: the board API shows at most 2,000 cards.
    let cards = app.d1_count("SELECT COUNT(*) AS n FROM cards WHERE short_id LIKE 'SYNC-%'");
    assert_eq!(cards, n as i64, "every issue is a card in D1");

    let (pages, trips) = round_trips(app, &run);
    let calls: Vec<Instant> = app.mock.calls().into_iter().skip(mark).map(|c| c.at).collect();
    SyncRun {
        n,
        served_pages: paths.len(),
        pages,
        elapsed,
        run_ms: done["duration_ms"].clone(),
        trips,
        calls: calls.len(),
        peak: peak_per_second(&calls),
    }
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
