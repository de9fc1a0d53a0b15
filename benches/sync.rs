//! `make bench-sync`: the cron sync of a large organization. A mock Sentry
//! serves BENCH_SYNC_ISSUES (default 10,000) issues, 100 per page; a manual
//! trigger starts the run. Prints the time from the trigger until the run
//! is done and every issue is a card in local D1, the D1 round trips per
//! page (from the worker's `sync_pages` log lines), and the peak rate of
//! requests the mock received. Asserts completeness, no speed target.

#[path = "support/mod.rs"]
mod support;

fn main() {
    let n = support::env_usize("BENCH_SYNC_ISSUES", 10_000);
    support::sync::run(&support::sync::spawn(), n).print();
}
