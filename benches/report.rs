//! `make bench-report`: every figure of the benchmark report in one run on
//! this machine, written to BENCHMARKS.md (date, machine, how to reproduce)
//! and printed. Progress goes to stderr, the report to stdout. Each
//! section's size is an env var (`SIZES` below); sizes other than the
//! defaults mark the report as a trial run.
//!
//! Sections, in this order (the quiet, native ones first):
//! 1. native CPU of verify + parse + plan per webhook, ~5 KB and ~200 KB;
//! 2. the wasm size, raw and gzipped;
//! 3. cold start of `wrangler dev` (already built) and its first requests;
//! 4. ack req/s and p50/p99 per webhook type against one `wrangler dev`;
//! 5. the error-ingest drain rate (queued mode);
//! 6. the Rust worker against the JS baseline (`benches/baseline/`), side
//!    by side in alternating rounds (issue 18's ratio);
//! 7. the error-ingest drain rate (queued mode);
//! 8. the cron sync of 10,000 issues.
//!
//! What the run cannot measure (the size matrix, which rebuilds the worker
//! per profile; the code bytes per crate) is written by hand between
//! `<!-- by hand -->` and `<!-- /by hand -->` in BENCHMARKS.md, and kept as
//! it is when the report is rewritten.

#[path = "support/mod.rs"]
mod support;

use std::fmt::Write as _;
use std::process::Command;
use std::time::{Duration, Instant};
use support::app::{spawn_app, App};
use support::{bodies, compare, env_usize, errors, load, native, sync};

/// Env var, default, what it sizes.
const SIZES: [(&str, usize, &str); 10] = [
    ("BENCH_N", 2000, "signed deliveries per webhook type (ack section)"),
    ("BENCH_C", 16, "concurrent senders (ack and error-ingest sections)"),
    ("BENCH_BASELINE_N", 400, "signed deliveries per round and worker (JS baseline section)"),
    ("BENCH_ROUNDS", 3, "alternating rounds per webhook type (JS baseline section)"),
    ("BENCH_ERRORS_N", 2000, "error events for the drain rate"),
    ("BENCH_SYNC_ISSUES", 10_000, "issues the cron sync imports (100 per page)"),
    ("BENCH_NATIVE_ITERS", 1000, "timed calls per native case (after a tenth as many warm-up calls)"),
    ("BENCH_NATIVE_SMALL_KB", 5, "small body size of the native cases"),
    ("BENCH_NATIVE_LARGE_KB", 200, "large body size of the native cases"),
    ("BENCH_COLD_RUNS", 3, "fresh `wrangler dev` starts for the cold-start figures"),
];

fn size(name: &str) -> usize {
    let (_, default, _) = SIZES.iter().find(|(n, _, _)| *n == name).expect("a known size");
    env_usize(name, *default)
}

fn progress(what: &str) {
    eprintln!("[bench-report] {what}");
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// Microseconds, or milliseconds from 1 ms up.
fn us(d: Duration) -> String {
    match d.as_secs_f64() * 1e6 {
        micros if micros < 1000.0 => format!("{micros:.1} µs"),
        micros => format!("{:.2} ms", micros / 1000.0),
    }
}

fn secs(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

fn kb(bytes: usize) -> String {
    format!("{:.1} KB", bytes as f64 / 1024.0)
}

/// Thousands separated by commas.
fn count(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

fn sh(script: &str) -> String {
    Command::new("bash")
        .arg("-c")
        .arg(script)
        .current_dir(support::root())
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim_end().trim_start_matches('\n').to_string())
        .unwrap_or_default()
}

fn main() {
    let started = Instant::now();
    let machine = machine();
    let mut md = String::new();
    md += &native_section();
    md += &wasm_section();
    md += &cold_start_section();
    md += &ack_section();
    md += &baseline_section();
    md += &errors_section();
    md += &sync_section();
    let path = std::env::var("BENCH_REPORT_FILE")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| support::root().join("BENCHMARKS.md"));
    md += &by_hand(&std::fs::read_to_string(&path).unwrap_or_default());
    md += &reproduce_section();
    let report = format!("{}{md}", header(&machine, started.elapsed()));
    std::fs::write(&path, &report).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    println!("{report}");
    progress(&format!("wrote {} in {}", path.display(), secs(started.elapsed())));
}

const BY_HAND: (&str, &str) = ("<!-- by hand -->", "<!-- /by hand -->");

/// The hand-written blocks of the report being replaced, as they are.
fn by_hand(old: &str) -> String {
    let mut kept = String::new();
    let mut rest = old;
    while let Some(start) = rest.find(BY_HAND.0) {
        let Some(len) = rest[start..].find(BY_HAND.1) else { break };
        let end = start + len + BY_HAND.1.len();
        kept += &rest[start..end];
        kept += "\n\n";
        rest = &rest[end..];
    }
    kept
}

/// Read before the run: the load average shows whether the machine was quiet.
fn machine() -> Vec<(&'static str, String)> {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map_or("unknown".to_string(), |m| m.trim().to_string());
    vec![
        ("date", sh("date -u '+%Y-%m-%d %H:%M UTC'")),
        ("CPU", cpu),
        ("nproc", sh("nproc")),
        ("load average at start", std::fs::read_to_string("/proc/loadavg").unwrap_or_default().trim().to_string()),
        ("rustc", sh("rustc -V")),
        ("wrangler", sh(r#"source tools/env.sh && "${WRANGLER[@]}" --version 2>/dev/null | tail -n 1"#)),
        ("node", sh(r#"source tools/env.sh && "$NODE" --version"#)),
        ("kernel", sh("uname -sr")),
        ("worker build", worker_build()),
        ("free -h", sh("free -h")),
    ]
}

/// Whether this run built the worker (tools/bench.sh runs tools/build.sh,
/// a no-op under `SK_SKIP_BUILD=1` when a build exists) and when.
fn worker_build() -> String {
    let when = sh("date -u -r build/worker/shim.mjs '+%Y-%m-%d %H:%M UTC'");
    match std::env::var("SK_SKIP_BUILD").as_deref() {
        Ok("1") => format!("not rebuilt (`SK_SKIP_BUILD=1`): the build of {when}"),
        _ => format!("`worker-build --release` by this run ({when})"),
    }
}

fn header(machine: &[(&str, String)], took: Duration) -> String {
    let mut s = String::from("# Benchmarks\n\n");
    let changed: Vec<String> = SIZES
        .iter()
        .filter(|(name, default, _)| env_usize(name, *default) != *default)
        .map(|(name, _, _)| format!("{name}={}", size(name)))
        .collect();
    if !changed.is_empty() {
        let _ = writeln!(
            s,
            "> **Trial run with reduced sizes ({}).** It shows that the harness runs end to end; \
             its figures are not the report's. Run `make bench-report` with the defaults on a quiet machine \
             for those.\n",
            changed.join(" ")
        );
    }
    let load = machine.iter().find(|(k, _)| *k == "load average at start").map_or("", |(_, v)| v.as_str());
    let cores: f64 = machine.iter().find(|(k, _)| *k == "nproc").and_then(|(_, v)| v.parse().ok()).unwrap_or(1.0);
    let load_1m: f64 = load.split_whitespace().next().and_then(|l| l.parse().ok()).unwrap_or(0.0);
    if load_1m > cores / 2.0 {
        let _ = writeln!(
            s,
            "> **The machine was busy when the run started** (load {load_1m} on {cores} cores): other work \
             shared the cores, so the figures are disturbed.\n"
        );
    }
    let _ = writeln!(
        s,
        "Measured with `make bench-report` in one run of {} on the machine below. Every load goes to \
         `wrangler dev` on 127.0.0.1 (local workerd, D1 and Queues simulators), so the figures describe \
         this stack on this machine, not Cloudflare's edge.\n",
        secs(took)
    );
    s += "## Machine\n\n| | |\n|---|---|\n";
    for (k, v) in machine.iter().filter(|(k, _)| *k != "free -h") {
        let _ = writeln!(s, "| {k} | {v} |");
    }
    let free = machine.iter().find(|(k, _)| *k == "free -h").map_or("", |(_, v)| v.as_str());
    let _ = writeln!(s, "\n`free -h`:\n\n```\n{free}\n```\n");
    s
}

fn native_section() -> String {
    let iters = size("BENCH_NATIVE_ITERS");
    let mut s = String::from("## Native CPU per webhook (verify + parse + plan)\n\n");
    let _ = writeln!(
        s,
        "The core's `handle` for one signed delivery (HMAC over the raw body, JSON parse, plan), timed call by \
         call natively in the bench profile; {iters} timed calls per row. The worker runs the same code as \
         size-optimised wasm, so these are a floor for its CPU time, not a measurement of it. Bodies are \
         grown to size the way real ones are: the error event by stack frames (with source context and \
         variables), the issue and membership by a list of small objects (in `data.issue` and at the top \
         level).\n"
    );
    s += "| webhook | body | p50 | p99 | max |\n|---|---|---|---|---|\n";
    for kb_size in [size("BENCH_NATIVE_SMALL_KB"), size("BENCH_NATIVE_LARGE_KB")] {
        let bytes = kb_size * 1024;
        progress(&format!("native: {kb_size} KB bodies, {iters} calls each"));
        let issue = bodies::padded(&bodies::sentry_issue(0), "/data/issue", "bench_padding", bytes);
        let membership = bodies::padded(&bodies::github_membership(0), "", "bench_padding", bytes);
        let timings = [
            native::sentry("Sentry issue", "issue", &issue, iters),
            native::sentry("Sentry error.created", "error", &bodies::error_event_of_size(bytes), iters),
            native::github("GitHub membership", "membership", &membership, iters),
        ];
        for t in &timings {
            let max = t.times[t.iters - 1];
            let _ =
                writeln!(s, "| {} | {} | {} | {} | {} |", t.what, kb(t.bytes), us(t.p(0.5)), us(t.p(0.99)), us(max));
        }
    }
    s + "\n"
}

fn wasm_section() -> String {
    let mut s = String::from("## Wasm size\n\n");
    s += "The worker as `tools/build.sh` builds it (`worker-build --release`, then the name and producers \
           sections stripped); the largest sections of the module.\n\n";
    s += "| file | raw | gzip -9 | largest sections |\n|---|---|---|---|\n";
    for (path, raw, gz) in support::wasm_sizes() {
        let mut sections = support::wasm_sections(&support::root().join(&path));
        sections.sort_by_key(|(_, bytes)| std::cmp::Reverse(*bytes));
        let largest: Vec<String> =
            sections.iter().take(3).map(|(name, bytes)| format!("{name} {}", count(*bytes))).collect();
        let _ = writeln!(
            s,
            "| `{}` | {} bytes | {} bytes | {} |",
            path.display(),
            count(raw),
            count(gz),
            largest.join(", ")
        );
    }
    s + "\n"
}

fn cold_start_section() -> String {
    let runs = size("BENCH_COLD_RUNS").max(1);
    let mut s = String::from("## Cold start\n\n");
    let _ = writeln!(
        s,
        "Fresh starts of `wrangler dev` ({runs}), each with the worker already built (`SK_SKIP_BUILD=1`; migrations \
         applied beforehand). *Ready*: from starting the process until the first 200 from `GET /api/health` \
         (polled every 50 ms; wrangler bundles the built worker, starts workerd and the isolate). Then the \
         first signed Sentry issue webhook after ready (its first D1 write) and the second one.\n"
    );
    s += "| start | ready | first webhook | second webhook |\n|---|---|---|---|\n";
    let mut ready = Vec::new();
    for run in 0..runs {
        progress(&format!("cold start {}/{runs}", run + 1));
        let app = spawn_app(&[]);
        let timed = |i: usize| {
            let t = Instant::now();
            let status = app.send_sentry("issue", &bodies::sentry_issue(i)).status;
            assert_eq!(status, 200, "a cold-start webhook is accepted");
            t.elapsed()
        };
        let (first, second) = (timed(2 * run), timed(2 * run + 1));
        app.stop();
        let _ = writeln!(s, "| {} | {} | {} | {} |", run + 1, ms(app.ready_in), ms(first), ms(second));
        ready.push(app.ready_in);
    }
    ready.sort();
    let _ = writeln!(s, "\nMedian ready: **{}**.\n", ms(support::percentile(&ready, 0.5)));
    s
}

/// What a webhook type leaves on the queue, to wait for before the next type.
#[derive(Clone, Copy)]
enum Queued {
    Nothing,
    ErrorEvents,
    GithubJobs,
}

struct Kind {
    name: &'static str,
    send: fn(&App, usize) -> u16,
    queued: Queued,
}

const KINDS: [Kind; 7] = [
    Kind {
        name: "Sentry issue",
        send: |a, i| a.send_sentry("issue", &bodies::sentry_issue(i)).status,
        queued: Queued::Nothing,
    },
    Kind {
        name: "Sentry comment",
        send: |a, i| a.send_sentry("comment", &bodies::comment(i, i)).status,
        queued: Queued::Nothing,
    },
    Kind {
        name: "Sentry event_alert",
        send: |a, i| a.send_sentry("event_alert", &bodies::event_alert(i, i)).status,
        queued: Queued::Nothing,
    },
    Kind {
        name: "Sentry metric_alert",
        send: |a, i| a.send_sentry("metric_alert", &bodies::metric_alert(i)).status,
        queued: Queued::Nothing,
    },
    Kind {
        name: "Sentry error.created (queued)",
        send: |a, i| a.send_sentry("error", &bodies::error_event(i, "ack")).status,
        queued: Queued::ErrorEvents,
    },
    Kind {
        name: "GitHub team",
        send: |a, i| a.send_github("team", &format!("bench-team-{i}"), &bodies::github_team(i)).status,
        queued: Queued::GithubJobs,
    },
    Kind {
        name: "GitHub membership",
        send: |a, i| a.send_github("membership", &format!("bench-member-{i}"), &bodies::github_membership(i)).status,
        queued: Queued::GithubJobs,
    },
];

/// How long after the last ack the type's queued work was done.
fn settle(app: &App, queued: Queued, errors_target: i64) -> Option<Duration> {
    let t = Instant::now();
    let done = || match queued {
        Queued::Nothing => true,
        Queued::ErrorEvents => errors::stored(app) >= errors_target,
        Queued::GithubJobs => {
            let r = app.request("GET", "/api/github/sync", &[], b"");
            r.json()["counts"]["queued"].as_u64().unwrap_or(0) == 0
        }
    };
    (!matches!(queued, Queued::Nothing)).then(|| {
        app.wait_for("the queue to drain", Duration::from_secs(600), || done().then_some(()));
        t.elapsed()
    })
}

/// Issue 18's figure: both workers under the same wrangler, the same load,
/// alternating rounds; the ratio is the median req/s, rust over js.
fn baseline_section() -> String {
    let (n, c, rounds) = (size("BENCH_BASELINE_N"), size("BENCH_C").max(1), size("BENCH_ROUNDS").max(1));
    let mut s = String::from("## Rust worker vs the JS baseline (issue 18)\n\n");
    let _ = writeln!(
        s,
        "The Rust worker and the hand-written JS Worker of `benches/baseline/` (WebCrypto HMAC-SHA256 \
         verify with the key imported once per isolate, `JSON.parse`, one prepared D1 insert, 200/401), \
         each in its own `wrangler dev` on 127.0.0.1 under the same wrangler, loaded by the same driver \
         ({c} sender threads, one keep-alive connection each). Per webhook type {rounds} alternating \
         rounds of {n} distinct signed deliveries, rust then each baseline; the Rust worker's queue is \
         let drain after each of its rounds. The baseline runs twice: as is (`js`), and behind \
         wrangler's assets router as the Rust worker is (`js+assets`: the same worker with an \
         `[assets]` directory and run_worker_first, benches/baseline/wrangler.assets.toml). Medians of \
         the rounds; the ratio is rust req/s over js req/s; the CPU ratio is that of each worker's \
         process group per request (`make bench` prints the same, per round).\n"
    );
    s += compare::HEADER;
    s += "\n";
    let app = compare::spawn_rust();
    let js = compare::spawn_baselines();
    let mut rows = vec![];
    for (k, kind) in compare::KINDS.iter().enumerate() {
        progress(&format!("baseline: {} × {n} × {rounds} rounds per worker", kind.name));
        let result = compare::compare(&app, &js, kind, k * 1_000_000, n, c, rounds);
        let _ = writeln!(s, "{}", compare::row(&result));
        rows.push(format!("{}:\n{}", kind.name, compare::rounds(&result)));
    }
    app.stop();
    drop(js);
    let _ = writeln!(s, "\nRounds:\n\n```\n{}\n```\n", rows.join("\n"));
    s
}

fn ack_section() -> String {
    let (n, c) = (size("BENCH_N"), size("BENCH_C").max(1));
    let mut s = String::from("## Ack per webhook type\n\n");
    let _ = writeln!(
        s,
        "One `wrangler dev` (internal-integration mode, GitHub sync in dry run), {n} signed deliveries per \
         type from {c} threads, a new connection per request, each body distinct. One \
         untimed delivery of the type first. Latency is send → full response at the client, the local \
         proxy included. Types that queue work are let drain before the next type starts (last column: \
         from the last ack until the queue had done that work). Comments and event alerts point at the \
         issue cards the first row created.\n"
    );
    s += "| webhook | non-2xx | req/s | p50 | p99 | max | queued work done |\n|---|---|---|---|---|---|---|\n";
    let app = compare::spawn_rust();
    for kind in &KINDS {
        progress(&format!("ack: {} × {n} at concurrency {c}", kind.name));
        let target = errors::stored(&app) + n as i64 + 1;
        let warm = (kind.send)(&app, n + 1);
        assert!((200..300).contains(&warm), "{}: the warm-up delivery answered {warm}", kind.name);
        let l = load::drive(n, c, |i| (kind.send)(&app, i));
        let done = settle(&app, kind.queued, target).map_or("—".to_string(), secs);
        let _ = writeln!(
            s,
            "| {} | {} | {:.0} | {} | {} | {} | {done} |",
            kind.name,
            l.non_2xx,
            l.rps(),
            ms(l.p(0.5)),
            ms(l.p(0.99)),
            ms(l.max())
        );
    }
    app.stop();
    s + "\n"
}

fn errors_section() -> String {
    let (n, c) = (size("BENCH_ERRORS_N"), size("BENCH_C").max(1));
    progress(&format!("error ingest: {n} events at concurrency {c}"));
    let app = spawn_app(&[]);
    errors::warm(&app);
    let r = errors::run("queued", &app, "q", n, c);
    app.stop();
    let mut s = String::from("## Error ingest (queued)\n\n");
    let _ = writeln!(
        s,
        "A fresh worker; {n} small `error.created` deliveries of 20 issues from {c} threads (as \
         `make bench-errors`, queued mode only). *End to end*: events per second from the first send until \
         all {n} are in D1 (`/api/errors/stats`), bounded by the send rate. *Consumer drain*: events the \
         queue consumer wrote per second of its own D1 batch time (its `errors_ingested` log lines).\n"
    );
    s += "| events | non-2xx | stored | ack req/s | p50 | p99 | first send → all in D1 | end to end | consumer drain | D1 round trips / 1,000 events |\n";
    s += "|---|---|---|---|---|---|---|---|---|---|\n";
    let _ = writeln!(
        s,
        "| {} | {} | {} | {:.0} | {} | {} | {} | {:.0} events/s | {:.0} events/s | {} |\n",
        count(n as u64),
        r.load.non_2xx,
        count(r.stored.max(0) as u64),
        r.load.rps(),
        ms(r.load.p(0.5)),
        ms(r.load.p(0.99)),
        secs(r.drained),
        r.end_to_end(),
        r.drain(),
        r.round_trips()
    );
    s
}

fn sync_section() -> String {
    let n = size("BENCH_SYNC_ISSUES");
    progress(&format!("cron sync of {n} issues"));
    let app = sync::spawn();
    let r = sync::run(&app, n);
    app.stop();
    let mut s = String::from("## Cron sync\n\n");
    let _ = writeln!(
        s,
        "A fresh worker in internal-integration mode; a mock Sentry on 127.0.0.1 serves {n} issues 100 per \
         page with Sentry's `Link` header; one manual trigger (as `make bench-sync`). The time runs from the \
         trigger until the run reports done and every issue is a card in local D1 (counted in the D1 files).\n"
    );
    s += "| issues | pages | trigger → all in D1 | run's own duration | D1 round trips / page | requests to the mock | peak req/s |\n";
    s += "|---|---|---|---|---|---|---|\n";
    let run_ms = r.run_ms.as_u64().map_or(r.run_ms.to_string(), |v| format!("{} ms", count(v)));
    let _ = writeln!(
        s,
        "| {} | {} | **{}** | {run_ms} | {:.2} | {} | {} |\n",
        count(n as u64),
        r.served_pages,
        secs(r.elapsed),
        r.trips_per_page(),
        r.calls,
        r.peak
    );
    s
}

fn reproduce_section() -> String {
    let mut s = String::from("## Reproduce\n\n");
    s += "```sh\nmake bench-report          # builds the worker, runs every section, rewrites BENCHMARKS.md\n";
    s += "BENCH_N=200 BENCH_ERRORS_N=200 BENCH_SYNC_ISSUES=1000 BENCH_NATIVE_ITERS=100 BENCH_COLD_RUNS=1 \\\n";
    s += "    make bench-report      # a quick trial (marked as such)\n```\n\n";
    s += "Run it on a quiet machine: the senders, `wrangler dev` and the mock share its cores. \
           `BENCH_REPORT_FILE` writes the report elsewhere. Sizes:\n\n";
    s += "| env var | default | this run | what |\n|---|---|---|---|\n";
    for (name, default, what) in SIZES {
        let _ = writeln!(s, "| `{name}` | {} | {} | {what} |", count(default as u64), count(size(name) as u64));
    }
    s += "\nThe sections alone: `make bench` (Rust vs the JS baseline per webhook type, wasm size, error-log storage), `make bench-errors` (error pipeline, \
          queued vs direct), `make bench-sync` (cron sync).\n";
    s
}
