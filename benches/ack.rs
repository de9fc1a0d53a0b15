//! `make bench`: issue 18's side-by-side. The Rust worker and the JS
//! baseline (`benches/baseline/`) under the same wrangler on this machine,
//! the same load; per webhook type BENCH_ROUNDS (3) alternating rounds of
//! BENCH_N (2000) distinct signed deliveries at BENCH_C (16) concurrency.
//! The baseline runs twice: as the issue defines it, and behind the same
//! assets router as the Rust worker (`BENCH_BASELINE=plain`: the first
//! alone). Prints the median req/s and p99 per worker, the ratio rust/js and
//! whether the Rust p99 is at most the baseline's; then the wasm size.
//! Asserts no speed target.

#[path = "support/mod.rs"]
mod support;

use support::compare::{self, KINDS};
use support::env_usize;

fn main() {
    let n = env_usize("BENCH_N", 2000);
    let c = env_usize("BENCH_C", 16).max(1);
    let rounds = env_usize("BENCH_ROUNDS", 3).max(1);
    let only = std::env::var("BENCH_KINDS").unwrap_or_default();
    let app = compare::spawn_rust();
    let js = compare::spawn_baselines();
    let baselines: Vec<String> = js.iter().map(|b| format!("{} {}", b.label, b.base)).collect();
    println!(
        "rust worker {} and JS baselines {}: {rounds} alternating rounds of {n} at concurrency {c}",
        app.base,
        baselines.join(", ")
    );
    let mut table = vec![compare::HEADER.to_string()];
    for (k, kind) in KINDS.iter().enumerate() {
        if !only.is_empty() && !only.split(',').any(|o| kind.name.contains(o.trim())) {
            continue;
        }
        eprintln!("[bench] {} × {n} × {rounds} rounds per worker", kind.name);
        // Index ranges of their own per kind: no delivery is sent twice.
        let result = compare::compare(&app, &js, kind, k * 1_000_000, n, c, rounds);
        println!("{}", kind.name);
        println!("{}", compare::rounds(&result));
        println!(
            "  median: rust {:.0} req/s p99 {:?}, js {:.0} req/s p99 {:?}; ratio rust/js {:.2}, p99 ≤ baseline's: {}",
            result.rust.rps(),
            result.rust.p99(),
            result.js[0].1.rps(),
            result.js[0].1.p99(),
            result.ratio(),
            if result.p99_ok() { "yes" } else { "no" }
        );
        table.push(compare::row(&result));
    }
    println!("\n{}\n", table.join("\n"));
    support::print_wasm_sizes();
}
