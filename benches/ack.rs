//! `make bench`: ack latency of signed issue webhooks against `wrangler dev`,
//! and the wasm size. Prints figures; asserts no speed target.
//!
//! BENCH_N (default 2000) requests at BENCH_C (default 16) concurrency.

#[path = "support/mod.rs"]
mod support;

use support::{app, bodies, env_usize, load};

fn main() {
    let n = env_usize("BENCH_N", 2000);
    let c = env_usize("BENCH_C", 16).max(1);
    let app = &app::spawn_default();
    // Warm the isolate so the first request's start-up is not in the figures.
    app.send_sentry("issue", &bodies::sentry_issue(n + 1));

    let l = load::drive(n, c, |i| app.send_sentry("issue", &bodies::sentry_issue(i)).status);
    println!("issue webhook ack: {n} requests, concurrency {c}, {} non-2xx", l.non_2xx);
    println!("  throughput  {:.0} req/s", l.rps());
    println!("  latency     p50 {:?}  p99 {:?}  max {:?}", l.p(0.50), l.p(0.99), l.max());
    let stored = app.items().iter().filter(|i| i["project"] == "bench").count();
    println!("  cards in D1 {stored} (board lists at most 2000)");
    support::print_wasm_sizes();
}
