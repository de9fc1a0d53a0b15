//! `make bench`: ack latency of signed issue webhooks against `wrangler dev`,
//! and the wasm size. Prints figures; asserts no speed target.
//!
//! BENCH_N (default 2000) requests at BENCH_C (default 16) concurrency.

#[path = "../tests/e2e/app.rs"]
mod app;
#[path = "support/mod.rs"]
mod common;
#[path = "../tests/e2e/mock.rs"]
mod mock;

use common::{env_usize, percentile};

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

fn body(i: usize) -> String {
    format!(
        r#"{{"action":"created","installation":{{"uuid":"bench"}},"data":{{"issue":{{"id":"{}","shortId":"BENCH-{i}","title":"Bench error \u00e9 {i}","level":"error","status":"unresolved","project":{{"id":"1","slug":"bench"}},"assignedTo":null}}}},"actor":{{"type":"application","id":"sentry","name":"Sentry"}}}}"#,
        700_000_000 + i
    )
}

fn main() {
    let n = env_usize("BENCH_N", 2000);
    let c = env_usize("BENCH_C", 16).max(1);
    let app = app::app();
    // Warm the isolate so the first request's start-up is not in the figures.
    app.send_sentry("issue", &body(n + 1));

    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let workers: Vec<_> = (0..c)
        .map(|_| {
            let next = next.clone();
            std::thread::spawn(move || {
                let mut lat = Vec::new();
                let mut failures = 0usize;
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n {
                        break (lat, failures);
                    }
                    let t = Instant::now();
                    let r = app::app().send_sentry("issue", &body(i));
                    lat.push(t.elapsed());
                    failures += usize::from(r.status != 200);
                }
            })
        })
        .collect();
    let mut lat = Vec::with_capacity(n);
    let mut failures = 0;
    for w in workers {
        let (l, f) = w.join().expect("bench worker");
        lat.extend(l);
        failures += f;
    }
    let elapsed = start.elapsed();
    lat.sort();
    println!("issue webhook ack: {n} requests, concurrency {c}, {failures} non-200");
    println!("  throughput  {:.0} req/s", n as f64 / elapsed.as_secs_f64());
    println!(
        "  latency     p50 {:?}  p99 {:?}  max {:?}",
        percentile(&lat, 0.50),
        percentile(&lat, 0.99),
        lat[lat.len() - 1]
    );
    let stored = app.items().iter().filter(|i| i["project"] == "bench").count();
    println!("  cards in D1 {stored} (board lists at most 2000)");
    wasm_size();
}

fn wasm_size() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("build/index_bg.wasm");
    let raw = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let gz = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("gzip -9 -c '{}' | wc -c", path.display()))
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse::<u64>().ok())
        .unwrap_or(0);
    println!("wasm size: {raw} bytes raw, {gz} bytes gzipped ({})", path.display());
}
