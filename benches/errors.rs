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

#[path = "support/mod.rs"]
mod support;

use support::{app, bodies, env_usize, errors, native};

fn main() {
    let iters = env_usize("BENCH_PARSE_ITERS", 300);
    native::sentry("error event", "error", &bodies::big_error_event(600), iters).print();
    let n = env_usize("BENCH_ERRORS_N", 2000);
    let c = env_usize("BENCH_C", 16).max(1);
    let queued = &app::spawn_default();
    let direct = app::spawn_app(&[("ERROR_LOG_MODE", "direct")]);
    errors::warm(queued);
    errors::warm(&direct);
    errors::run("queued", queued, "q", n, c).print();
    errors::run("direct", &direct, "d", n, c).print();
}
