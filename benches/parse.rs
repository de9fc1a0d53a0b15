//! `make bench` (first, being quick): the core's verify + parse + plan of one
//! Sentry issue delivery, natively, at 5 KB and 200 KB, with its stages
//! timed apart: the HMAC over the body, the body's digest (the dedupe key),
//! and the parse and plan (`handle_verified`). Issue 18's bounds are printed
//! beside the figures: parse only what the plan uses, 5 KB ≤ 50 µs and
//! 200 KB ≤ 1 ms for the whole call. Figures, not a test: nothing fails.

mod support;

use sentry_kanban::config::Config;
use sentry_kanban::sentry::hook::{handle, handle_verified, Delivery};
use sentry_kanban::verify::{body_digest, check_hex_hmac, sign_hex};
use std::hint::black_box;
use std::time::Duration;
use support::bodies;

const SECRET: &str = "bench-secret";
const NOW: i64 = 1_800_000_000_000;

fn iters() -> usize {
    std::env::var("BENCH_PARSE_ITERS").ok().and_then(|v| v.parse().ok()).unwrap_or(1000)
}

/// The median and p99 of `iters` calls, after a tenth as many warm-ups.
fn time(iters: usize, call: impl FnMut()) -> (Duration, Duration) {
    let t = support::native::time("", 0, iters, call);
    (t.p(0.5), t.p(0.99))
}

fn row(stage: &str, (p50, p99): (Duration, Duration)) {
    println!("| {stage} | {:.1} µs | {:.1} µs |", p50.as_secs_f64() * 1e6, p99.as_secs_f64() * 1e6);
}

fn main() {
    let iters = iters();
    let cfg = Config { sentry_secret: Some(SECRET.into()), ..Default::default() };
    println!("## Sentry issue: verify + parse + plan, native ({iters} calls a row)\n");
    for (kb, bound_us) in [(5usize, 50.0), (200, 1000.0)] {
        let body = bodies::padded(&bodies::sentry_issue(0), "/data/issue", "bench_padding", kb * 1024);
        let sig = sign_hex(SECRET.as_bytes(), body.as_bytes());
        let d =
            Delivery { resource: Some("issue"), signature: Some(&sig), body: body.as_bytes(), ..Default::default() };
        println!("{kb} KB body ({} bytes):\n\n| stage | p50 | p99 |\n|---|---|---|", body.len());
        row(
            "HMAC-SHA256 check",
            time(iters, || {
                let _ = black_box(check_hex_hmac(Some(SECRET), d.body, d.signature));
            }),
        );
        row("body digest (SHA-256)", time(iters, || drop(black_box(body_digest(d.body)))));
        row("parse + plan", time(iters, || drop(black_box(handle_verified(&cfg, &d, NOW).expect("plans")))));
        let whole = time(iters, || drop(black_box(handle(&cfg, &d, NOW).expect("plans"))));
        row("**whole call**", whole);
        let p50 = whole.0.as_secs_f64() * 1e6;
        let verdict = if p50 <= bound_us { "within" } else { "over" };
        println!("\nwhole call p50 {p50:.1} µs against the bound {bound_us} µs: **{verdict}**\n");
    }
}
