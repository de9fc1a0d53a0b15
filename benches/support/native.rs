//! Native CPU of the core's verify + parse + plan for one delivery, timed
//! call by call (bench profile; the worker itself runs the same code as
//! size-optimised wasm).

use super::percentile;
use sentry_kanban::config::Config;
use sentry_kanban::verify::sign_hex;
use std::time::{Duration, Instant};

pub struct Timing {
    pub what: String,
    pub bytes: usize,
    pub iters: usize,
    /// Sorted.
    pub times: Vec<Duration>,
}

impl Timing {
    pub fn p(&self, q: f64) -> Duration {
        percentile(&self.times, q)
    }

    pub fn print(&self) {
        println!("{} verify + parse + plan (native, {} KB body, {} runs)", self.what, self.bytes / 1024, self.iters);
        println!("  p50 {:?}  p99 {:?}  max {:?}", self.p(0.5), self.p(0.99), self.times[self.iters - 1]);
    }
}

/// Times `call` `iters` times after a tenth as many untimed warm-up calls.
pub fn time(what: &str, bytes: usize, iters: usize, mut call: impl FnMut()) -> Timing {
    let iters = iters.max(1);
    for _ in 0..iters / 10 {
        call();
    }
    let mut times: Vec<Duration> = (0..iters)
        .map(|_| {
            let t = Instant::now();
            call();
            t.elapsed()
        })
        .collect();
    times.sort();
    Timing { what: what.to_string(), bytes, iters, times }
}

/// A signed Sentry delivery of `resource` (`issue`, `error`, ...), which must plan.
pub fn sentry(what: &str, resource: &str, body: &str, iters: usize) -> Timing {
    use sentry_kanban::sentry::hook::{handle, Delivery};
    let secret = "bench-secret";
    let sig = sign_hex(secret.as_bytes(), body.as_bytes());
    let cfg = Config { sentry_secret: Some(secret.into()), ..Default::default() };
    let d = Delivery { resource: Some(resource), signature: Some(&sig), body: body.as_bytes(), ..Default::default() };
    time(what, body.len(), iters, || {
        let plan = handle(&cfg, &d, 1_800_000_000_000).unwrap_or_else(|e| panic!("{what} plans: {e:?}"));
        std::hint::black_box(plan);
    })
}

/// A signed GitHub delivery of `event`, which must be accepted.
pub fn github(what: &str, event: &str, body: &str, iters: usize) -> Timing {
    use sentry_kanban::github::hook::{handle, Delivery};
    let secret = "bench-secret";
    let sig = format!("sha256={}", sign_hex(secret.as_bytes(), body.as_bytes()));
    let mut cfg = Config::default();
    cfg.github.secret = Some(secret.into());
    let d = Delivery {
        event: Some(event),
        delivery_id: Some("bench-delivery"),
        content_type: Some("application/json"),
        signature: Some(&sig),
        body: body.as_bytes(),
    };
    time(what, body.len(), iters, || {
        let handled = handle(&cfg, &d).unwrap_or_else(|e| panic!("{what} is accepted: {e:?}"));
        std::hint::black_box(handled);
    })
}
