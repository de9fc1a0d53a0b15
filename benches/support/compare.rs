//! Issue 18's side-by-side: the Rust worker and the JS baseline
//! (`benches/baseline/`) under the same wrangler on this machine, the same
//! load from the same driver, rounds alternating rust, js, rust, js, …
//! Both sign and send through `send` below, with the same headers, so the
//! only difference is the worker behind the port.

use super::app::{spawn_app, App, GITHUB_SECRET, INTERNAL_ORG, INTERNAL_TOKEN, SECRET};
use super::load::{drive, Load};
use super::{bodies, errors, percentile, root};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The Rust worker as the ack figures load it: internal-integration mode
/// (a token, so no delivery waits on an installation's), the GitHub sync
/// in dry run (its jobs call nothing).
pub fn spawn_rust() -> App {
    spawn_app(&[
        ("SENTRY_AUTH_TOKEN", INTERNAL_TOKEN),
        ("SENTRY_ORG_SLUG", INTERNAL_ORG),
        ("GITHUB_WEBHOOK_SECRET", GITHUB_SECRET),
        ("GITHUB_SYNC_DRY_RUN", "true"),
    ])
}

/// The JS baseline under `wrangler dev` (its own config, D1 and state).
pub struct Baseline {
    pub label: &'static str,
    pub base: String,
    pub log: PathBuf,
    pub pgid: u32,
}

impl Drop for Baseline {
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-TERM", "--", &format!("-{}", self.pgid)]).status();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The baseline as the issue defines it, and the same worker behind
/// wrangler's assets router (`[assets]` with the worker run first), as
/// every request to the Rust worker is: the router is a JS worker of its
/// own in front of the user's, so the second one shows what the Rust
/// worker's own code costs. `BENCH_BASELINE=plain` runs the first alone.
const BASELINES: [(&str, &str); 2] =
    [("js", "benches/baseline/wrangler.toml"), ("js+assets", "benches/baseline/wrangler.assets.toml")];

pub fn spawn_baselines() -> Vec<Baseline> {
    let plain_only = std::env::var("BENCH_BASELINE").is_ok_and(|v| v == "plain");
    BASELINES
        .iter()
        .take(if plain_only { 1 } else { BASELINES.len() })
        .map(|(label, config)| spawn_baseline(label, config))
        .collect()
}

/// Starts a baseline on a free port of 127.0.0.1 with the e2e secrets,
/// in a process group of its own that ends with this process at the latest.
fn spawn_baseline(label: &'static str, config: &str) -> Baseline {
    let port = free_port();
    let dir = root().join("target/bench-baseline").join(format!("run-{}-{port}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("wrangler.log");
    let mut cmd = Command::new("bash");
    cmd.arg(root().join("benches/baseline/run.sh"))
        .args([
            &std::process::id().to_string(),
            &port.to_string(),
            dir.join("state").to_str().unwrap(),
            SECRET,
            GITHUB_SECRET,
            log.to_str().unwrap(),
        ])
        .current_dir(root())
        .env("BASELINE_CONFIG", config)
        .stdin(Stdio::null());
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let pgid = cmd.spawn().expect("the baseline's wrangler dev starts").id();
    let b = Baseline { label, base: format!("http://127.0.0.1:{port}"), log, pgid };
    let start = Instant::now();
    loop {
        let up = ureq::get(&format!("{}/api/health", b.base)).timeout(Duration::from_secs(2)).call();
        if up.is_ok_and(|r| r.status() == 200) {
            return b;
        }
        if start.elapsed() > Duration::from_secs(180) {
            panic!("baseline not ready; log:\n{}", std::fs::read_to_string(&b.log).unwrap_or_default());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

thread_local! {
    /// One keep-alive agent per sender thread (as wrk keeps its connections).
    static AGENT: ureq::Agent = ureq::AgentBuilder::new().redirects(0).build();
}

fn post(base: &str, path: &str, headers: &[(&str, &str)], body: &str) -> u16 {
    AGENT.with(|agent| {
        let mut req = agent.post(&format!("{base}{path}")).timeout(Duration::from_secs(30));
        for (k, v) in headers {
            req = req.set(k, v);
        }
        match req.send_string(body) {
            Ok(r) => r.status(),
            Err(ureq::Error::Status(s, _)) => s,
            Err(_) => 0,
        }
    })
}

fn get(base: &str, path: &str) -> u16 {
    AGENT.with(|agent| match agent.get(&format!("{base}{path}")).timeout(Duration::from_secs(30)).call() {
        Ok(r) => r.status(),
        Err(ureq::Error::Status(s, _)) => s,
        Err(_) => 0,
    })
}

fn now_secs() -> String {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs().to_string()
}

/// A Sentry delivery as Sentry signs it, to either worker.
pub fn send_sentry(base: &str, resource: &str, body: &str) -> u16 {
    let sig = sentry_kanban::verify::sign_hex(SECRET.as_bytes(), body.as_bytes());
    let (ts, id) = (now_secs(), super::app::fresh_request_id());
    let headers = [
        ("Content-Type", "application/json"),
        ("Sentry-Hook-Resource", resource),
        ("Sentry-Hook-Timestamp", ts.as_str()),
        ("Sentry-Hook-Signature", sig.as_str()),
        ("Request-ID", id.as_str()),
    ];
    post(base, "/api/webhooks/sentry", &headers, body)
}

/// A GitHub delivery as GitHub signs it, to either worker.
pub fn send_github(base: &str, event: &str, delivery: &str, body: &str) -> u16 {
    let sig = format!("sha256={}", sentry_kanban::verify::sign_hex(GITHUB_SECRET.as_bytes(), body.as_bytes()));
    let headers = [
        ("Content-Type", "application/json"),
        ("X-GitHub-Event", event),
        ("X-GitHub-Delivery", delivery),
        ("X-GitHub-Hook-ID", "109948940"),
        ("User-Agent", "GitHub-Hookshot/bench"),
        ("X-Hub-Signature-256", sig.as_str()),
    ];
    post(base, "/api/webhooks/github", &headers, body)
}

/// What a kind leaves on the Rust worker's queue (drained between rounds so
/// that its consumer does not run during the baseline's round).
#[derive(Clone, Copy, PartialEq)]
pub enum Queued {
    Nothing,
    ErrorEvents,
    GithubJobs,
}

pub struct Kind {
    pub name: &'static str,
    /// Sends delivery `i` (distinct across rounds and workers) to `base`.
    pub send: fn(&str, usize) -> u16,
    pub queued: Queued,
}

pub const KINDS: [Kind; 5] = [
    Kind {
        name: "Sentry issue.created",
        send: |b, i| send_sentry(b, "issue", &bodies::sentry_issue(i)),
        queued: Queued::Nothing,
    },
    Kind {
        name: "Sentry error.created",
        send: |b, i| send_sentry(b, "error", &bodies::error_event(i, "cmp")),
        queued: Queued::ErrorEvents,
    },
    Kind {
        name: "GitHub team",
        send: |b, i| send_github(b, "team", &format!("cmp-team-{i}"), &bodies::github_team(i)),
        queued: Queued::GithubJobs,
    },
    Kind {
        name: "GitHub membership",
        send: |b, i| send_github(b, "membership", &format!("cmp-member-{i}"), &bodies::github_membership(i)),
        queued: Queued::GithubJobs,
    },
    // Neither D1 nor a body: what each worker costs before any of its work
    // (wrangler's proxy, the isolate's entry, routing, the answer).
    Kind { name: "health GET (no D1)", send: |b, _| get(b, "/api/health"), queued: Queued::Nothing },
];

/// Waits until the Rust worker has done the work `queued` left.
fn drain(app: &App, queued: Queued, errors_target: i64) {
    let done = || match queued {
        Queued::Nothing => true,
        Queued::ErrorEvents => errors::stored(app) >= errors_target,
        Queued::GithubJobs => {
            let r = app.request("GET", "/api/github/sync", &[], b"");
            r.json()["counts"]["queued"].as_u64().unwrap_or(0) == 0
        }
    };
    app.wait_for("the queue to drain", Duration::from_secs(600), || done().then_some(()));
}

pub struct Side {
    pub rounds: Vec<Load>,
    /// CPU time of the worker's whole process group (wrangler's Node and
    /// workerd, the local D1 with it) during each round: a figure the load
    /// on the machine's other processes moves far less than req/s.
    pub cpu: Vec<Duration>,
}

impl Side {
    fn median(&self, f: impl Fn(&Load) -> f64) -> f64 {
        let mut v: Vec<f64> = self.rounds.iter().map(f).collect();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    }

    pub fn rps(&self) -> f64 {
        self.median(Load::rps)
    }

    pub fn p99(&self) -> Duration {
        Duration::from_secs_f64(self.median(|l| l.p(0.99).as_secs_f64()))
    }

    pub fn p50(&self) -> Duration {
        Duration::from_secs_f64(self.median(|l| l.p(0.5).as_secs_f64()))
    }

    pub fn non_2xx(&self) -> usize {
        self.rounds.iter().map(|l| l.non_2xx).sum()
    }

    /// The median round's CPU per request.
    pub fn cpu_per_request(&self) -> Duration {
        let mut v: Vec<Duration> =
            self.rounds.iter().zip(&self.cpu).map(|(l, c)| *c / l.lat.len().max(1) as u32).collect();
        v.sort();
        v[v.len() / 2]
    }

    fn drive(&mut self, pgid: u32, n: usize, c: usize, send: impl Fn(usize) -> u16 + Sync) {
        let before = group_cpu(pgid);
        self.rounds.push(drive(n, c, send));
        self.cpu.push(group_cpu(pgid).saturating_sub(before));
    }
}

/// User + system CPU of every live process in the group, from /proc
/// (clock ticks of 10 ms; a round's thousands of requests make that fine).
fn group_cpu(pgid: u32) -> Duration {
    let ticks: u64 = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| std::fs::read_to_string(e.path().join("stat")).ok())
        .filter_map(|stat| {
            // Fields after the command's closing parenthesis: state is 3rd, pgrp 5th, utime 14th, stime 15th.
            let f: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
            (f.get(2)?.parse::<u32>().ok()? == pgid)
                .then(|| f[11].parse::<u64>().unwrap_or(0) + f[12].parse::<u64>().unwrap_or(0))
        })
        .sum();
    Duration::from_millis(ticks * 10)
}

pub struct Compared {
    pub kind: &'static str,
    pub rust: Side,
    /// One side per baseline, in `spawn_baselines`' order (the plain one first).
    pub js: Vec<(&'static str, Side)>,
}

impl Compared {
    /// Rust req/s over the plain baseline's: the issue's figure.
    pub fn ratio(&self) -> f64 {
        self.rust.rps() / self.js[0].1.rps()
    }

    pub fn p99_ok(&self) -> bool {
        self.rust.p99() <= self.js[0].1.p99()
    }
}

/// `rounds` alternating rounds of `n` deliveries of `kind` at concurrency
/// `c` on each worker (rust, then each baseline); every delivery index is
/// used once per worker.
pub fn compare(
    app: &App,
    js: &[Baseline],
    kind: &Kind,
    base_index: usize,
    n: usize,
    c: usize,
    rounds: usize,
) -> Compared {
    let side = || Side { rounds: vec![], cpu: vec![] };
    let (mut rust, mut js_sides) = (side(), js.iter().map(|b| (b.label, side())).collect::<Vec<_>>());
    // One untimed delivery each: the isolate and the D1 file are warm.
    let warm = base_index + rounds * n;
    let before = errors::stored(app);
    assert!((200..300).contains(&(kind.send)(&app.base, warm)), "{}: rust warm-up refused", kind.name);
    for b in js {
        assert!((200..300).contains(&(kind.send)(&b.base, warm)), "{}: {} warm-up refused", kind.name, b.label);
    }
    drain(app, kind.queued, before + 1);
    for r in 0..rounds {
        let first = base_index + r * n;
        let target = errors::stored(app) + n as i64;
        rust.drive(app.pgid, n, c, |i| (kind.send)(&app.base, first + i));
        drain(app, kind.queued, target);
        for (b, (_, s)) in js.iter().zip(js_sides.iter_mut()) {
            s.drive(b.pgid, n, c, |i| (kind.send)(&b.base, first + i));
        }
    }
    Compared { kind: kind.name, rust, js: js_sides }
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn cpu_ms(s: &Side) -> f64 {
    s.cpu_per_request().as_secs_f64() * 1000.0
}

/// Rust's CPU per request over a baseline's.
fn cpu_ratio(rust: &Side, js: &Side) -> f64 {
    cpu_ms(rust) / cpu_ms(js).max(1e-9)
}

/// The table row of one kind (markdown): against the plain baseline, then
/// the CPU ratios against each baseline.
pub fn row(c: &Compared) -> String {
    let js = &c.js[0].1;
    let cpu: Vec<String> = c.js.iter().map(|(_, s)| format!("{:.2}", cpu_ratio(&c.rust, s))).collect();
    let routed = c.js.get(1).map_or("—".to_string(), |(_, s)| format!("{:.2}×", c.rust.rps() / s.rps()));
    format!(
        "| {} | {:.0} | {:.0} | **{:.2}×** | {} | {} | {} | {} | {} | {} | {} | {} |",
        c.kind,
        c.rust.rps(),
        js.rps(),
        c.ratio(),
        ms(c.rust.p50()),
        ms(js.p50()),
        ms(c.rust.p99()),
        ms(js.p99()),
        if c.p99_ok() { "yes" } else { "no" },
        routed,
        cpu.join(" / "),
        c.rust.non_2xx() + c.js.iter().map(|(_, s)| s.non_2xx()).sum::<usize>(),
    )
}

pub const HEADER: &str = "| webhook | rust req/s | js req/s | rust/js | rust p50 | js p50 | rust p99 | js p99 | p99 ≤ js | rust/(js+assets) | rust/js CPU (plain / +assets) | non-2xx |\n|---|---|---|---|---|---|---|---|---|---|---|---|";

/// Each round's figures, for the log.
pub fn rounds(c: &Compared) -> String {
    let one = |l: &Load| format!("{:.0} req/s p99 {}", l.rps(), ms(percentile(&l.lat, 0.99)));
    let per_round = (0..c.rust.rounds.len()).map(|i| {
        let js: Vec<String> = c.js.iter().map(|(label, s)| format!("{label} {}", one(&s.rounds[i]))).collect();
        format!("  round {}: rust {}  {}", i + 1, one(&c.rust.rounds[i]), js.join("  "))
    });
    let cpu =
        c.js.iter()
            .map(|(label, s)| format!("{label} {:.2} ms (rust/{label} {:.2})", cpu_ms(s), cpu_ratio(&c.rust, s)));
    per_round
        .chain(std::iter::once(format!(
            "  CPU per request (wrangler + workerd + local D1, median round): rust {:.2} ms, {}",
            cpu_ms(&c.rust),
            cpu.collect::<Vec<_>>().join(", ")
        )))
        .collect::<Vec<_>>()
        .join("\n")
}
