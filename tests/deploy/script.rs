//! `make deploy` (tools/deploy.sh) against a stand-in for the Cloudflare API
//! (tests/deploy/cf-standin/server.mjs on 127.0.0.1): the real wrangler creates
//! what is missing, migrates, puts the secrets and uploads the worker; a
//! second run creates nothing and puts no secret. Nothing leaves the machine.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Once;

use serde_json::Value;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The worker bundle, built once (unless the suite's runner built it already).
fn built() {
    static BUILD: Once = Once::new();
    BUILD.call_once(|| {
        if std::env::var("SK_PREBUILT").as_deref() != Ok("1") || !root().join("build/worker/shim.mjs").exists() {
            assert!(Command::new("bash").arg("tools/build.sh").current_dir(root()).status().unwrap().success());
        }
    });
}

/// The stand-in, in a process group of its own (stopped on drop).
struct StandIn {
    child: Child,
    port: u16,
    state: PathBuf,
    dir: PathBuf,
}

impl StandIn {
    fn start(tag: &str) -> StandIn {
        let dir = std::env::temp_dir().join(format!("sk-deploy-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let state = dir.join("state.json");
        let mut child = Command::new("bash")
            .args(["-c", r#"source tools/env.sh && exec "$NODE" tests/deploy/cf-standin/server.mjs "$1""#, "standin"])
            .arg(&state)
            .current_dir(root())
            .stdout(Stdio::piped())
            .process_group(0)
            .spawn()
            .expect("the stand-in starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let port = line.trim().strip_prefix("listening ").and_then(|p| p.parse().ok()).unwrap_or_else(|| {
            panic!("stand-in did not start: {line:?}");
        });
        StandIn { child, port, state, dir }
    }

    fn state(&self) -> Value {
        serde_json::from_str(&std::fs::read_to_string(&self.state).unwrap()).unwrap()
    }

    /// Runs tools/deploy.sh with no terminal, wrangler pointed at the stand-in
    /// and only the given secrets in its environment.
    fn deploy(&self, env: &[(&str, &str)]) -> (bool, String) {
        let mut cmd = Command::new("bash");
        cmd.arg("tools/deploy.sh")
            .current_dir(root())
            .stdin(Stdio::null())
            .env("CLOUDFLARE_API_BASE_URL", format!("http://127.0.0.1:{}/client/v4", self.port))
            .env("CLOUDFLARE_API_TOKEN", "fake")
            .env("CLOUDFLARE_ACCOUNT_ID", "standin-account")
            .env("SK_SKIP_BUILD", "1");
        for name in
            ALL_SECRETS.iter().chain(&["WORKER_URL", "DEPLOY_DRY_RUN", "CLOUDFLARE_API_KEY", "CLOUDFLARE_EMAIL"])
        {
            cmd.env_remove(name);
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().expect("bash runs");
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        (out.status.success(), text)
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg("--").arg(format!("-{}", self.child.id())).status();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

const ALL_SECRETS: [&str; 11] = [
    "SENTRY_CLIENT_SECRET",
    "SENTRY_CLIENT_ID",
    "SENTRY_AUTH_TOKEN",
    "SENTRY_ORG_SLUG",
    "DASHBOARD_TOKEN",
    "ACCESS_AUD",
    "ACCESS_TEAM_DOMAIN",
    "GITHUB_WEBHOOK_SECRET",
    "GITHUB_TOKEN",
    "CRON_SECRET",
    "ADMIN_TOKEN",
];

/// The calls with this method whose path ends with `suffix`.
fn calls(state: &Value, method: &str, suffix: &str) -> Vec<Value> {
    state["calls"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["method"] == method && c["path"].as_str().unwrap().ends_with(suffix))
        .cloned()
        .collect()
}

fn secrets_put(state: &Value) -> BTreeSet<String> {
    calls(state, "PUT", "/secrets").iter().map(|c| c["secret"].as_str().unwrap().to_string()).collect()
}

fn migration_files() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root().join("migrations"))
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".sql"))
        .collect();
    names.sort();
    names
}

fn assert_no_secret_in(text: &str, env: &[(&str, &str)]) {
    for (name, value) in env {
        if ALL_SECRETS.contains(name) {
            assert!(!text.contains(value), "the value of {name} appears in the output:\n{text}");
        }
    }
}

fn assert_urls(text: &str, base: &str) {
    for path in ["/api/webhooks/sentry", "/sentry/setup", "/api/webhooks/github"] {
        assert!(text.contains(&format!("{base}{path}")), "{base}{path} not printed:\n{text}");
    }
}

#[test]
fn deploy_creates_what_is_missing_then_a_second_run_changes_nothing() {
    built();
    let toml_before = std::fs::read_to_string(root().join("wrangler.toml")).unwrap();
    let cf = StandIn::start("twice");
    let env = [
        ("SENTRY_CLIENT_SECRET", "client-secret-3f9a1c77e2"),
        ("SENTRY_CLIENT_ID", "client-id-5d2b8e41"),
        ("DASHBOARD_TOKEN", "dashboard-token-0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f"),
        ("CRON_SECRET", "cron-secret-77aa66bb"),
    ];

    // First run: everything is created.
    let (ok, text) = cf.deploy(&env);
    assert!(ok, "first deploy failed:\n{text}");
    let s = cf.state();
    assert_eq!(s["unknown"], serde_json::json!([]), "wrangler called endpoints the stand-in lacks:\n{text}");
    assert_eq!(calls(&s, "POST", "/d1/database").len(), 1, "{text}");
    let dbs = s["databases"].as_array().unwrap();
    assert_eq!(dbs.len(), 1);
    assert_eq!(dbs[0]["name"], "sentry-kanban");
    let uuid = dbs[0]["uuid"].as_str().unwrap().to_string();
    let applied: Vec<String> = serde_json::from_value(dbs[0]["migrations"].clone()).unwrap();
    assert_eq!(applied, migration_files(), "every migration applied remotely, once, in order");
    assert_eq!(calls(&s, "POST", "/queues").len(), 2);
    let queues: BTreeSet<&str> =
        s["queues"].as_array().unwrap().iter().map(|q| q["queue_name"].as_str().unwrap()).collect();
    assert_eq!(queues, BTreeSet::from(["sentry-kanban-jobs", "sentry-kanban-dlq"]));
    assert_eq!(
        secrets_put(&s),
        env.iter().map(|(k, _)| k.to_string()).collect::<BTreeSet<_>>(),
        "exactly the given secrets are put"
    );
    let worker = &s["scripts"]["sentry-kanban"];
    for (k, v) in env {
        assert_eq!(worker["secrets"][k], v, "{k} reached the API unchanged");
    }
    assert_eq!(worker["uploads"], 1, "one real upload of the bundle");
    assert_eq!(worker["deployments"], 1);
    assert_eq!(worker["d1_ids"], serde_json::json!([uuid]), "the upload binds DB to the database created");
    assert_eq!(worker["schedules"].as_array().unwrap().len(), 2, "both crons set");
    for q in s["queues"].as_array().unwrap() {
        assert_eq!(q["consumers"].as_array().unwrap().len(), 1, "{} has its consumer", q["queue_name"]);
    }
    assert_urls(&text, "https://sentry-kanban.standin.workers.dev");
    assert_no_secret_in(&text, &env);
    let calls_after_first = s["calls"].as_array().unwrap().len();

    // Second run: nothing created, nothing put, deployed again.
    let (ok, text) = cf.deploy(&env);
    assert!(ok, "second deploy failed:\n{text}");
    let s2 = cf.state();
    let second = Value::Array(s2["calls"].as_array().unwrap()[calls_after_first..].to_vec());
    let second = serde_json::json!({ "calls": second });
    assert!(calls(&second, "POST", "/d1/database").is_empty(), "no second database");
    assert!(calls(&second, "POST", "/queues").is_empty(), "no queue re-created");
    assert!(secrets_put(&second).is_empty(), "no secret put again");
    assert_eq!(s2["databases"].as_array().unwrap().len(), 1);
    assert_eq!(s2["databases"][0]["migrations"], dbs[0]["migrations"], "no migration applied twice");
    assert_eq!(s2["scripts"]["sentry-kanban"]["uploads"], 2, "still deploys");
    assert_eq!(s2["scripts"]["sentry-kanban"]["deployments"], 2);
    assert!(text.contains("secrets: all set"), "{text}");
    assert_urls(&text, "https://sentry-kanban.standin.workers.dev");
    assert_no_secret_in(&text, &env);

    // The deploy never rewrote the config.
    assert_eq!(std::fs::read_to_string(root().join("wrangler.toml")).unwrap(), toml_before);
}

#[test]
fn without_a_terminal_a_missing_secret_fails_by_name_before_anything_is_created() {
    let cf = StandIn::start("missing");
    let env = [("SENTRY_CLIENT_SECRET", "client-secret-91b0"), ("SENTRY_CLIENT_ID", "client-id-2c3d")];
    let (ok, text) = cf.deploy(&env);
    assert!(!ok, "deploy succeeded without DASHBOARD_TOKEN:\n{text}");
    assert!(text.contains("DASHBOARD_TOKEN") && text.contains("not set"), "{text}");
    assert_no_secret_in(&text, &env);
    let s = cf.state();
    for c in s["calls"].as_array().unwrap() {
        assert_eq!(c["method"], "GET", "nothing may change before the secrets are known: {c}");
    }

    // Too short a board token is refused, naming it, and not echoed.
    let short = [
        ("SENTRY_CLIENT_SECRET", "client-secret-91b0"),
        ("SENTRY_CLIENT_ID", "client-id-2c3d"),
        ("DASHBOARD_TOKEN", "short-token-4e5f"),
    ];
    let (ok, text) = cf.deploy(&short);
    assert!(!ok && text.contains("DASHBOARD_TOKEN") && text.contains("32"), "{text}");
    assert_no_secret_in(&text, &short);
}

#[test]
fn internal_integration_behind_access_dry_run_puts_those_secrets_and_uploads_nothing() {
    built();
    let cf = StandIn::start("internal");
    let env = [
        ("SENTRY_CLIENT_SECRET", "client-secret-a1a1a1"),
        ("SENTRY_AUTH_TOKEN", "sntrys_token_b2b2b2b2"),
        ("SENTRY_ORG_SLUG", "acme-org-slug"),
        ("ACCESS_AUD", "access-aud-c3c3c3c3"),
        ("ACCESS_TEAM_DOMAIN", "acme-team.cloudflareaccess.com"),
        ("DEPLOY_DRY_RUN", "1"),
        ("WORKER_URL", "https://board.example.com/"),
    ];
    let (ok, text) = cf.deploy(&env);
    assert!(ok, "dry-run deploy failed:\n{text}");
    assert!(text.contains("--dry-run: exiting now"), "{text}");
    let s = cf.state();
    assert_eq!(
        secrets_put(&s),
        BTreeSet::from(
            ["SENTRY_CLIENT_SECRET", "SENTRY_AUTH_TOKEN", "SENTRY_ORG_SLUG", "ACCESS_AUD", "ACCESS_TEAM_DOMAIN"]
                .map(String::from)
        ),
        "internal mode behind Access needs neither SENTRY_CLIENT_ID nor DASHBOARD_TOKEN"
    );
    assert_eq!(s["scripts"]["sentry-kanban"]["uploads"], 0, "a dry run uploads no bundle");
    assert_eq!(s["databases"].as_array().unwrap().len(), 1);
    assert_eq!(s["queues"].as_array().unwrap().len(), 2);
    assert_urls(&text, "https://board.example.com");
    assert_no_secret_in(&text, &env);
}
