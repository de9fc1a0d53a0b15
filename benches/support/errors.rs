//! One run of error events against a worker: ack figures, then the wait
//! until every event is in D1, and the consumer's own write rate.

use super::app::App;
use super::bodies::error_event;
use super::load::{drive, Load};
use serde_json::Value;
use std::time::{Duration, Instant};

pub struct ErrorRun {
    pub label: String,
    pub load: Load,
    pub stored: i64,
    /// First send → all `n` in D1.
    pub drained: Duration,
    /// Queue batches the consumer wrote (or failed), from the worker's log.
    pub batches: usize,
    /// Events the consumer wrote and the D1 milliseconds it took.
    pub consumer: (u64, u64),
}

impl ErrorRun {
    /// Events per second from the first send until all were in D1.
    pub fn end_to_end(&self) -> f64 {
        self.load.n as f64 / self.drained.as_secs_f64()
    }

    /// Events per second of the consumer's D1 batch time.
    pub fn drain(&self) -> f64 {
        self.consumer.0 as f64 * 1000.0 / self.consumer.1.max(1) as f64
    }

    pub fn queued(&self) -> bool {
        self.label != "direct"
    }

    pub fn round_trips(&self) -> String {
        if self.queued() {
            let per = self.batches as f64 * 1000.0 / self.load.n as f64;
            format!("{per:.1} ({} queue batches, one D1 batch each)", self.batches)
        } else {
            // Each delivery: the replay check (one read) and the write batch.
            format!("{} (replay check + write batch per event)", 2 * 1000)
        }
    }

    pub fn print(&self) {
        let l = &self.load;
        println!(
            "{}: {} error webhooks, concurrency {}, {} non-2xx, {} stored",
            self.label, l.n, l.c, l.non_2xx, self.stored
        );
        println!("  ack         {:.0} req/s  p50 {:?}  p99 {:?}", l.rps(), l.p(0.5), l.p(0.99));
        println!("  D1 round trips per 1,000 events: {}", self.round_trips());
        println!(
            "  end to end  {:.0} events/s (first send → all {} in D1: {:?}; bound by the sender)",
            self.end_to_end(),
            l.n,
            self.drained
        );
        if self.queued() {
            let (events, ms) = self.consumer;
            println!(
                "  drain       {:.0} events/s (consumer: {events} events written in {ms} ms of D1 batch time)",
                self.drain()
            );
        }
    }
}

pub fn stored(app: &App) -> i64 {
    let r = app.request("GET", "/api/errors/stats", &[], b"");
    r.json()["distinct_events"].as_i64().unwrap_or(0)
}

/// Starts the isolate with one event and waits until it is stored, so that
/// it is not counted in a run.
pub fn warm(app: &App) {
    let before = stored(app);
    assert_eq!(app.send_sentry("error", &error_event(0, "warm")).status, 200, "the warm-up event is accepted");
    app.wait_for("the warm-up event in D1", Duration::from_secs(60), || (stored(app) > before).then_some(()));
}

/// Sends `n` error events (ids prefixed `run`) at concurrency `c`, then
/// waits up to 10 minutes for all of them to be in D1.
pub fn run(label: &str, app: &App, run: &str, n: usize, c: usize) -> ErrorRun {
    let before = stored(app);
    let log_from = app.log_text().len();
    let start = Instant::now();
    let load = drive(n, c, |i| app.send_sentry("error", &error_event(i, run)).status);
    let target = before + n as i64;
    while stored(app) < target && start.elapsed() < Duration::from_secs(600) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let drained = start.elapsed();
    let log = app.log_text().get(log_from..).unwrap_or_default().to_string();
    let batches = log.matches(r#""event":"errors_ingested""#).count() + log.matches("errors_batch_failed").count();
    ErrorRun {
        label: label.to_string(),
        load,
        stored: stored(app) - before,
        drained,
        batches,
        consumer: consumer_writes(&log),
    }
}

/// Events and D1 milliseconds from the consumer's `errors_ingested` lines.
fn consumer_writes(log: &str) -> (u64, u64) {
    log.lines().filter(|l| l.contains(r#""event":"errors_ingested""#)).fold((0, 0), |(e, ms), line| {
        let v: Value = serde_json::from_str(line.trim()).unwrap_or(Value::Null);
        (e + v["events"].as_u64().unwrap_or(0), ms + v["write_ms"].as_u64().unwrap_or(0))
    })
}
