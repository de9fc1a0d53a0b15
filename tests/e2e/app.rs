//! `spawn_app()`: the real worker under `wrangler dev`, with a fresh state
//! directory, migrations applied and its API bases pointed at an in-process
//! mock. Every e2e test talks to it through the handle; the process group
//! it starts is stopped when the handle is dropped, when its scenario is
//! over (`scenario.rs`) or, at the latest, when the test process ends.
// Each test binary (and bench) uses a different part of this helper.
#![allow(dead_code)]

use super::mock::Mock;
use serde_json::Value;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub const SECRET: &str = "e2e-sentry-client-secret";

pub struct App {
    pub base: String,
    pub mock: Mock,
    pub log: PathBuf,
    /// The process group of `run-wrangler.sh` and the `wrangler dev` it runs.
    pub pgid: u32,
    /// From starting `wrangler dev` to its first 200 on `/api/health`.
    pub ready_in: Duration,
}

pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

pub const INTERNAL_TOKEN: &str = "e2e-internal-token";
pub const INTERNAL_ORG: &str = "internal-org";

pub const BEARER: &str = "e2e-bearer-token";

pub const GITHUB_SECRET: &str = "e2e-github-webhook-secret";

/// A worker with the default settings (a module's shared one: a
/// `scenario::Scenario` starting this).
pub fn spawn_default() -> App {
    spawn_app(&[])
}

/// A worker that also requires `Authorization: Bearer BEARER`.
pub fn spawn_bearer() -> App {
    spawn_app(&[("SENTRY_WEBHOOK_BEARER", BEARER)])
}

/// A worker in internal-integration mode (`SENTRY_AUTH_TOKEN` + `SENTRY_ORG_SLUG`).
pub fn spawn_internal() -> App {
    spawn_app(&[("SENTRY_AUTH_TOKEN", INTERNAL_TOKEN), ("SENTRY_ORG_SLUG", INTERNAL_ORG)])
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn sh(script: &str, args: &[&str]) {
    let status =
        Command::new("bash").arg(root().join(script)).args(args).current_dir(root()).status().expect("bash runs");
    assert!(status.success(), "{script} {args:?} failed: {status}");
}

/// A local D1 with every migration applied, copied from one applied once
/// per run: `wrangler d1 migrations apply` costs about 12 s of CPU, and the
/// run starts some thirty workers.
fn migrated_state(state: &Path) {
    static TEMPLATE: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    let template = TEMPLATE.get_or_init(|| {
        let dir = root().join("target/e2e").join(format!("migrated-{}", std::process::id())).join("state");
        sh("tools/migrate.sh", &[dir.to_str().unwrap()]);
        dir
    });
    std::fs::create_dir_all(state).unwrap();
    let status = Command::new("cp").arg("-a").arg(template.join(".")).arg(state).status().expect("cp runs");
    assert!(status.success(), "copying {} to {}: {status}", template.display(), state.display());
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A worker of its own with extra `--var`s (the shared ones are above).
pub fn spawn_app(vars: &[(&str, &str)]) -> App {
    if std::env::var("SK_PREBUILT").as_deref() != Ok("1") {
        sh("tools/build.sh", &[]);
    }
    let mock = Mock::start();
    let dir = root().join("target/e2e").join(format!("run-{}-{}", std::process::id(), free_port()));
    std::fs::create_dir_all(&dir).unwrap();
    let state = dir.join("state");
    let log = dir.join("wrangler.log");
    migrated_state(&state);
    let port = free_port();
    let mut cmd = Command::new("bash");
    cmd.arg(root().join("tests/e2e/run-wrangler.sh"))
        .args([
            &std::process::id().to_string(),
            &port.to_string(),
            state.to_str().unwrap(),
            &mock.url,
            SECRET,
            log.to_str().unwrap(),
        ])
        // `{mock}` in a value stands for the mock's URL (e.g. the Access team).
        .args(vars.iter().map(|(k, v)| format!("{k}:{}", v.replace("{mock}", &mock.url))))
        .current_dir(root())
        .stdin(Stdio::null());
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let started = Instant::now();
    let pgid = cmd.spawn().expect("wrangler dev starts").id();
    let mut app = App { base: format!("http://127.0.0.1:{port}"), mock, log, pgid, ready_in: Duration::ZERO };
    app.wait_ready(Duration::from_secs(180));
    app.ready_in = started.elapsed();
    app
}

impl Drop for App {
    /// A worker a test owns ends with the test, not with the binary.
    fn drop(&mut self) {
        self.stop();
    }
}

impl App {
    fn wait_ready(&self, limit: Duration) {
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Ok(r) = ureq::get(&format!("{}/api/health", self.base)).timeout(Duration::from_secs(2)).call() {
                if r.status() == 200 {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        panic!("wrangler dev not ready after {limit:?}; log:\n{log}");
    }

    /// Stops this worker's process group (otherwise it ends with the test process).
    pub fn stop(&self) {
        let _ = Command::new("kill").args(["-TERM", "--", &format!("-{}", self.pgid)]).status();
    }

    pub fn request(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
        // Redirects are answers to assert on (the login flow), not to follow.
        let agent = ureq::AgentBuilder::new().redirects(0).build();
        let mut req = agent.request(method, &format!("{}{}", self.base, path)).timeout(Duration::from_secs(30));
        for (k, v) in headers {
            req = req.set(k, v);
        }
        let resp = match req.send_bytes(body) {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("{method} {path}: {e}"),
        };
        let status = resp.status();
        let headers =
            resp.headers_names().iter().map(|n| (n.clone(), resp.header(n).unwrap_or("").to_string())).collect();
        let body = resp.into_string().unwrap_or_default();
        Reply { status, headers, body }
    }

    /// Posts a webhook signed the way Sentry signs it (HMAC of the raw bytes).
    pub fn send_sentry(&self, resource: &str, body: &str) -> Reply {
        self.send_sentry_at(resource, body, None)
    }

    /// Same, with an explicit `Sentry-Hook-Timestamp` (epoch seconds).
    pub fn send_sentry_at(&self, resource: &str, body: &str, ts: Option<i64>) -> Reply {
        self.send_sentry_with(resource, body, ts, &[])
    }

    /// Same, with further headers (e.g. `Authorization`, `Request-ID`).
    pub fn send_sentry_with(&self, resource: &str, body: &str, ts: Option<i64>, extra: &[(&str, &str)]) -> Reply {
        let sig = sentry_kanban::verify::sign_hex(SECRET.as_bytes(), body.as_bytes());
        let ts = ts.map(|t| t.to_string()).unwrap_or_else(now_secs);
        let mut headers = vec![
            ("Content-Type", "application/json"),
            ("Sentry-Hook-Resource", resource),
            ("Sentry-Hook-Timestamp", ts.as_str()),
            ("Sentry-Hook-Signature", sig.as_str()),
        ];
        // Sentry sends a new Request-ID (`uuid4().hex`) on every attempt.
        let fresh = fresh_request_id();
        if !extra.iter().any(|(k, _)| k.eq_ignore_ascii_case("Request-ID")) {
            headers.push(("Request-ID", fresh.as_str()));
        }
        headers.extend_from_slice(extra);
        self.request("POST", "/api/webhooks/sentry", &headers, body.as_bytes())
    }

    /// A GitHub delivery signed with `GITHUB_SECRET` (`X-Hub-Signature-256`).
    pub fn send_github(&self, event: &str, delivery: &str, body: &str) -> Reply {
        let sig = format!("sha256={}", sentry_kanban::verify::sign_hex(GITHUB_SECRET.as_bytes(), body.as_bytes()));
        self.send_github_with(
            event,
            delivery,
            body,
            &[("Content-Type", "application/json"), ("X-Hub-Signature-256", &sig)],
        )
    }

    /// A GitHub delivery with the given content type and signature headers.
    pub fn send_github_with(&self, event: &str, delivery: &str, body: &str, headers: &[(&str, &str)]) -> Reply {
        let mut all = vec![
            ("X-GitHub-Event", event),
            ("X-GitHub-Delivery", delivery),
            ("X-GitHub-Hook-ID", "109948940"),
            ("User-Agent", "GitHub-Hookshot/e2e"),
        ];
        all.extend_from_slice(headers);
        self.request("POST", "/api/webhooks/github", &all, body.as_bytes())
    }

    /// A UI-component request as Sentry sends it: `Sentry-App-Signature` over
    /// the raw body (`""` for a GET), unless `signature` overrides it.
    pub fn send_ui(&self, method: &str, path: &str, body: &str, signature: Option<&str>) -> Reply {
        let good = sentry_kanban::verify::sign_hex(SECRET.as_bytes(), body.as_bytes());
        let sig = signature.unwrap_or(&good);
        let mut headers = vec![("Request-ID", "e2e-ui-0000"), ("Content-Type", "application/json")];
        if !sig.is_empty() {
            headers.push(("Sentry-App-Signature", sig));
        }
        self.request(method, path, &headers, body.as_bytes())
    }

    pub fn list(&self, path: &str, key: &str) -> Vec<Value> {
        let r = self.request("GET", path, &[], b"");
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        r.json()[key].as_array().cloned().unwrap_or_default()
    }

    pub fn installation(&self, uuid: &str) -> Option<Value> {
        self.list("/api/installations", "installations").into_iter().find(|i| i["uuid"] == uuid)
    }

    /// Polls `probe` until it yields a value, or panics after `limit`.
    pub fn wait_for<T>(&self, what: &str, limit: Duration, mut probe: impl FnMut() -> Option<T>) -> T {
        let start = Instant::now();
        loop {
            if let Some(v) = probe() {
                return v;
            }
            if start.elapsed() > limit {
                let tail: String = self.log_text().lines().rev().take(60).collect::<Vec<_>>().join("\n");
                panic!("timed out after {limit:?} waiting for {what}; newest wrangler log lines (reversed):\n{tail}");
            }
            std::thread::sleep(Duration::from_millis(300));
        }
    }

    pub fn deliveries(&self) -> Vec<Value> {
        self.list("/api/deliveries", "deliveries")
    }

    /// The ring of requests refused before verification.
    pub fn rejections(&self) -> Vec<Value> {
        self.list("/api/deliveries", "rejections")
    }

    pub fn header<'a>(reply: &'a Reply, name: &str) -> Option<&'a str> {
        reply.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn items(&self) -> Vec<Value> {
        let r = self.request("GET", "/api/items", &[], b"");
        assert_eq!(r.status, 200, "{}", r.body);
        r.json()["items"].as_array().cloned().unwrap_or_default()
    }

    pub fn item(&self, id: &str) -> Option<Value> {
        self.items().into_iter().find(|i| i["id"] == id)
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// A `Request-ID` as Sentry makes them (32 hex digits), new on every call.
pub fn fresh_request_id() -> String {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("e2e{:08x}{:021x}", std::process::id(), n)
}

fn now_secs() -> String {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs().to_string()
}

/// A worker that can be killed outright and started again on the same state
/// directory, port and mock (`kill`, `restart`): what `wrangler dev` keeps
/// across a crash is what a real restart would find.
pub struct Restartable {
    pub app: App,
    /// The restarted `run-wrangler.sh`, leader of its process group (until
    /// the first restart the group is `app.pgid`).
    child: std::sync::Mutex<Option<std::process::Child>>,
    vars: Vec<String>,
    restarts: std::sync::atomic::AtomicUsize,
}

pub fn spawn_restartable(vars: &[(&str, &str)]) -> Restartable {
    let app = spawn_app(vars);
    let mock = app.mock.url.clone();
    let vars = vars.iter().map(|(k, v)| format!("{k}:{}", v.replace("{mock}", &mock))).collect();
    Restartable { app, child: std::sync::Mutex::new(None), vars, restarts: Default::default() }
}

impl Drop for Restartable {
    /// The restarted group too (the app's own drop stops the first one).
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-TERM", "--", &format!("-{}", self.group())]).status();
    }
}

impl Restartable {
    fn port(&self) -> u16 {
        self.app.base.rsplit(':').next().and_then(|p| p.parse().ok()).expect("base ends with the port")
    }

    fn state(&self) -> PathBuf {
        self.app.log.parent().expect("run dir").join("state")
    }

    fn group(&self) -> u32 {
        self.child.lock().unwrap().as_ref().map_or(self.app.pgid, |c| c.id())
    }

    /// SIGKILL to the whole process group (the script, wrangler, workerd):
    /// no shutdown hook runs, nothing is flushed. Returns once the port is
    /// closed.
    pub fn kill(&self) {
        let group = format!("-{}", self.group());
        let status = Command::new("kill").args(["-KILL", "--", &group]).status().expect("kill runs");
        assert!(status.success(), "kill -KILL -- {group}: {status}");
        if let Some(mut child) = self.child.lock().unwrap().take() {
            let _ = child.wait();
        }
        let addr = format!("127.0.0.1:{}", self.port());
        let start = Instant::now();
        while std::net::TcpStream::connect(&addr).is_ok() {
            assert!(start.elapsed() < Duration::from_secs(20), "{addr} still answers after SIGKILL");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Starts `wrangler dev` again on the same state, port and mock; returns
    /// the time until it answers. The previous log is kept as `wrangler.log.N`.
    pub fn restart(&self) -> Duration {
        let n = self.restarts.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        let _ = std::fs::rename(&self.app.log, self.app.log.with_extension(format!("log.{n}")));
        let mut cmd = Command::new("bash");
        cmd.arg(root().join("tests/e2e/run-wrangler.sh"))
            .args([
                &std::process::id().to_string(),
                &self.port().to_string(),
                self.state().to_str().unwrap(),
                &self.app.mock.url,
                SECRET,
                self.app.log.to_str().unwrap(),
            ])
            .args(&self.vars)
            .current_dir(root())
            .stdin(Stdio::null());
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let started = Instant::now();
        *self.child.lock().unwrap() = Some(cmd.spawn().expect("wrangler dev starts again"));
        self.app.wait_ready(Duration::from_secs(180));
        started.elapsed()
    }
}

impl App {
    /// Rows of a query on this worker's local D1 files (`wrangler d1
    /// execute --local`): for counts beyond what the JSON API lists.
    pub fn d1_rows(&self, sql: &str) -> Vec<Value> {
        let state = self.log.parent().expect("run dir").join("state");
        let out = Command::new("bash")
            .arg("-c")
            .arg(r#"source tools/env.sh && "${WRANGLER[@]}" d1 execute DB --local --persist-to "$0" --json --command "$1""#)
            .arg(&state)
            .arg(sql)
            .current_dir(root())
            .output()
            .expect("wrangler d1 execute runs");
        let text = String::from_utf8_lossy(&out.stdout);
        let v: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("d1 execute {sql:?} ({e}): {text}{}", String::from_utf8_lossy(&out.stderr)));
        v[0]["results"].as_array().cloned().unwrap_or_default()
    }

    /// `SELECT COUNT(*) AS n …` (or any query whose first row has `n`).
    pub fn d1_count(&self, sql: &str) -> i64 {
        self.d1_rows(sql).first().and_then(|r| r["n"].as_i64()).unwrap_or_else(|| panic!("no n from {sql}"))
    }
}
