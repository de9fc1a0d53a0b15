//! `make bench-errors`: the error-log pipeline. Prints figures; asserts no
//! speed target.
//!
//! 1. Native: verify + parse + plan of a ~200 KB event with a deep stack
//!    trace (BENCH_PARSE_ITERS, default 300).
//! 2. Against `wrangler dev`, same run, two workers: error events written on
//!    the ack path (`ERROR_LOG_MODE=direct`) vs through the queue. For each:
//!    ack req/s, p50/p99, D1 round trips per 1,000 events and the drain rate
//!    (events/s from the first send until all are in D1). BENCH_ERRORS_N
//!    (default 2000) events at BENCH_C (default 16) concurrency.

#[path = "../tests/e2e/app.rs"]
mod app;
#[path = "support/mod.rs"]
mod common;
#[path = "../tests/e2e/mock.rs"]
mod mock;

use common::{env_usize, percentile};

use sentry_kanban::config::Config;
use sentry_kanban::sentry::hook::{handle, Delivery};
use sentry_kanban::verify::sign_hex;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// A Sentry error delivery of about 200 KB: 600 frames with source context
/// and local variables, request headers and cookies.
fn big_event() -> String {
    let frames: Vec<Value> = (0..600)
        .map(|i| {
            json!({"filename": format!("app/module_{i}.js"), "function": format!("handler{i}"), "lineno": i, "colno": 7,
                "in_app": i % 3 == 0, "context_line": "    const result = await doSomething(request, response, next);",
                "pre_context": ["// a", "// b", "// c"], "post_context": ["// d", "// e"],
                "vars": {"request": "<Request>", "i": i, "token": "x".repeat(40)}})
        })
        .collect();
    let body = json!({"action": "created", "installation": {"uuid": "bench"}, "data": {"error": {
        "event_id": "bench0000000000000000000000000000", "issue_id": "1", "title": "TypeError: caf\u{e9} is undefined",
        "culprit": "handler599", "level": "error", "platform": "javascript", "project": 1, "datetime": "2026-01-01T00:00:00Z",
        "exception": {"values": [{"type": "TypeError", "value": "x is undefined", "stacktrace": {"frames": frames}}]},
        "request": {"url": "https://x.example/p?q=1", "headers": [["Cookie", "a=b"], ["User-Agent", "bench"]]},
        "tags": [["browser", "Chrome"], ["user", "ip:10.0.0.1"]]}}});
    serde_json::to_string(&body).unwrap()
}

fn parse_figures() {
    let body = big_event();
    let secret = "bench-secret";
    let sig = sign_hex(secret.as_bytes(), body.as_bytes());
    let cfg = Config { sentry_secret: Some(secret.into()), ..Default::default() };
    let d = Delivery { resource: Some("error"), signature: Some(&sig), body: body.as_bytes(), ..Default::default() };
    let iters = env_usize("BENCH_PARSE_ITERS", 300);
    let mut times = Vec::with_capacity(iters);
    for _ in 0..iters {
        let t = Instant::now();
        let plan = handle(&cfg, &d, 1_800_000_000_000).expect("the big event plans");
        times.push(t.elapsed());
        std::hint::black_box(plan);
    }
    times.sort();
    println!("error event verify + parse + plan (native, {} KB body, {iters} runs)", body.len() / 1024);
    println!("  p50 {:?}  p99 {:?}  max {:?}", percentile(&times, 0.5), percentile(&times, 0.99), times[iters - 1]);
}

fn error_body(i: usize, run: &str) -> String {
    format!(
        r#"{{"action":"created","installation":{{"uuid":"bench"}},"data":{{"error":{{"event_id":"{run}{i:08}","issue_id":"{}","title":"Bench \u00e9 {}","level":"error","project":1,"datetime":"2026-11-01T00:00:00Z","exception":{{"values":[{{"type":"E","value":"v","stacktrace":{{"frames":[{{"filename":"a.js","function":"f","lineno":1}}]}}}}]}}}}}},"actor":{{"type":"application","id":"sentry","name":"Sentry"}}}}"#,
        990_000 + i % 20,
        i % 20
    )
}

fn stored(app: &app::App) -> i64 {
    let r = app.request("GET", "/api/errors/stats", &[], b"");
    r.json()["distinct_events"].as_i64().unwrap_or(0)
}

fn run(label: &str, app: &app::App, run: &str, n: usize, c: usize) {
    let before = stored(app);
    let next = AtomicUsize::new(0);
    let start = Instant::now();
    let (mut lat, failures) = std::thread::scope(|s| {
        let workers: Vec<_> = (0..c)
            .map(|_| {
                s.spawn(|| {
                    let (mut lat, mut failures) = (Vec::new(), 0usize);
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= n {
                            break (lat, failures);
                        }
                        let t = Instant::now();
                        let r = app.send_sentry("error", &error_body(i, run));
                        lat.push(t.elapsed());
                        failures += usize::from(r.status != 200);
                    }
                })
            })
            .collect();
        workers.into_iter().fold((Vec::new(), 0), |(mut l, f), w| {
            let (wl, wf) = w.join().expect("bench worker");
            l.extend(wl);
            (l, f + wf)
        })
    });
    let acked = start.elapsed();
    let target = before + n as i64;
    while stored(app) < target && start.elapsed() < Duration::from_secs(600) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let drained = start.elapsed();
    lat.sort();
    let log = app.log_text();
    let batches = log.matches(r#""event":"errors_ingested""#).count() + log.matches("errors_batch_failed").count();
    let round_trips = if label == "direct" {
        // Each delivery: the replay check (one read) and the write batch.
        format!("{} (replay check + write batch per event)", 2 * 1000)
    } else {
        format!("{:.1} ({batches} queue batches, one D1 batch each)", batches as f64 * 1000.0 / n as f64)
    };
    println!("{label}: {n} error webhooks, concurrency {c}, {failures} non-200, {} stored", stored(app) - before);
    println!(
        "  ack         {:.0} req/s  p50 {:?}  p99 {:?}",
        n as f64 / acked.as_secs_f64(),
        percentile(&lat, 0.5),
        percentile(&lat, 0.99)
    );
    println!("  D1 round trips per 1,000 events: {round_trips}");
    let e2e_rate = n as f64 / drained.as_secs_f64();
    println!("  end to end  {e2e_rate:.0} events/s (first send → all {n} in D1: {drained:?}; bound by the sender)");
    if label != "direct" {
        let (events, ms) = consumer_writes(&log);
        let rate = events as f64 * 1000.0 / ms.max(1) as f64;
        println!("  drain       {rate:.0} events/s (consumer: {events} events written in {ms} ms of D1 batch time)");
    }
}

/// Events and D1 milliseconds from the consumer's `errors_ingested` lines.
fn consumer_writes(log: &str) -> (u64, u64) {
    log.lines().filter(|l| l.contains(r#""event":"errors_ingested""#)).fold((0, 0), |(e, ms), line| {
        let v: Value = serde_json::from_str(line.trim()).unwrap_or(Value::Null);
        (e + v["events"].as_u64().unwrap_or(0), ms + v["write_ms"].as_u64().unwrap_or(0))
    })
}

fn main() {
    parse_figures();
    let n = env_usize("BENCH_ERRORS_N", 2000);
    let c = env_usize("BENCH_C", 16).max(1);
    let queued = app::app();
    let direct = app::spawn_app(&[("ERROR_LOG_MODE", "direct")]);
    for a in [queued, &direct] {
        a.send_sentry("error", &error_body(0, "warm")); // start the isolate
    }
    run("queued", queued, "q", n, c);
    run("direct", &direct, "d", n, c);
}
