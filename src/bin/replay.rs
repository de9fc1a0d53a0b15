//! `make demo` / `cargo run --bin replay -- [options] [FILE…]`: signs webhook
//! bodies with the local secret and posts them to a running worker
//! (`make dev`), the way Sentry (or GitHub) would, so a new user sees a
//! populated board without Sentry or a tunnel.
//!
//! Without files it sends a generated demo set (issues across three
//! projects, assignments, comments, alerts and error events); with files it
//! sends each file's bytes verbatim, signed as they are.
//!
//! Only `http://` to a loopback address (localhost, 127.x, ::1) is accepted:
//! this is a local development tool with a tiny HTTP/1.1 client of its own.

use sentry_kanban::time::format_millis;
use sentry_kanban::verify::sign_hex;
use serde_json::{json, Value};
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const USAGE: &str = "\
Usage: replay [OPTIONS] [FILE…]

Signs webhook bodies with the local secret and posts them to a running worker
(`make dev`). Without FILEs (or with --demo) it sends a generated demo set.

Options:
  --url URL               the worker (default http://localhost:$PORT, PORT defaults to 8787)
  --secret S              Sentry client secret (default: SENTRY_CLIENT_SECRET or
                          SENTRY_WEBHOOK_SECRET from .dev.vars, else .dev.vars.example)
  --github-secret S       GitHub webhook secret (default: GITHUB_WEBHOOK_SECRET likewise)
  --resource R            Sentry-Hook-Resource for the FILEs (issue, comment, error,
                          event_alert, metric_alert, installation, …); guessed from
                          the file name when left out
  --github-event E        send the FILEs to /api/webhooks/github as X-GitHub-Event E
  --demo                  send the demo set (the default without FILEs)
  --timeout SECS          per-request timeout (default 10)
  -h, --help              this text

Examples:
  make demo
  cargo run --bin replay -- tests/fixtures/sentry/issue-assigned.json --resource issue
  cargo run --bin replay -- tests/fixtures/github/team-created.json --github-event team
";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let opts = match parse_args(&args, std::env::var("PORT").ok().as_deref()) {
        Ok(Some(o)) => o,
        Ok(None) => {
            print!("{USAGE}");
            return;
        }
        Err(e) => {
            eprintln!("replay: {e}\n(run with --help for the options)");
            std::process::exit(2);
        }
    };
    match run(&opts) {
        Ok(true) => {}
        Ok(false) => std::process::exit(1),
        Err(e) => {
            eprintln!("replay: {e}");
            std::process::exit(1);
        }
    }
}

// ---------------------------------------------------------------------------
// Options

#[derive(Debug, Clone, PartialEq)]
struct Options {
    url: Url,
    secret: Option<String>,
    github_secret: Option<String>,
    resource: Option<String>,
    github_event: Option<String>,
    demo: bool,
    files: Vec<PathBuf>,
    timeout: Duration,
}

/// `Ok(None)` means: print the help.
fn parse_args(args: &[String], port_env: Option<&str>) -> Result<Option<Options>, String> {
    let mut url = None;
    let mut secret = None;
    let mut github_secret = None;
    let mut resource = None;
    let mut github_event = None;
    let mut demo = false;
    let mut files = Vec::new();
    let mut timeout = Duration::from_secs(10);
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
            _ => (arg.as_str(), None),
        };
        let mut value = |name: &str| -> Result<String, String> {
            inline.clone().or_else(|| it.next().cloned()).ok_or_else(|| format!("{name} needs a value"))
        };
        match flag {
            "-h" | "--help" => return Ok(None),
            "--url" => url = Some(parse_url(&value("--url")?)?),
            "--secret" => secret = Some(value("--secret")?),
            "--github-secret" => github_secret = Some(value("--github-secret")?),
            "--resource" => resource = Some(value("--resource")?.trim().to_ascii_lowercase()),
            "--github-event" => github_event = Some(value("--github-event")?.trim().to_string()),
            "--timeout" => {
                let v = value("--timeout")?;
                let secs: f64 = v.parse().map_err(|_| format!("--timeout takes seconds, not {v:?}"))?;
                if !(secs.is_finite() && secs > 0.0) {
                    return Err(format!("--timeout must be positive, not {v}"));
                }
                timeout = Duration::from_secs_f64(secs);
            }
            "--demo" => demo = true,
            "--" => files.extend(it.by_ref().map(PathBuf::from)),
            f if f.starts_with('-') && f.len() > 1 => return Err(format!("unknown option {f}")),
            _ => files.push(PathBuf::from(arg)),
        }
    }
    if resource.is_some() && github_event.is_some() {
        return Err("--resource (Sentry) and --github-event (GitHub) do not go together".into());
    }
    if (resource.is_some() || github_event.is_some()) && files.is_empty() {
        return Err("--resource / --github-event apply to FILE arguments; none given".into());
    }
    let url = match url {
        Some(u) => u,
        None => {
            let port = port_env.map(str::trim).filter(|p| !p.is_empty()).unwrap_or("8787");
            parse_url(&format!("http://localhost:{port}")).map_err(|e| format!("PORT={port}: {e}"))?
        }
    };
    Ok(Some(Options {
        url,
        secret,
        github_secret,
        resource,
        github_event,
        demo: demo || files.is_empty(),
        files,
        timeout,
    }))
}

/// A plain-http URL of a worker on this machine.
#[derive(Debug, Clone, PartialEq)]
struct Url {
    /// As written in the Host header (`[::1]` with brackets).
    host: String,
    port: u16,
    /// A path prefix without its trailing slash ("" for none).
    base: String,
}

impl Url {
    fn connect_host(&self) -> &str {
        self.host.trim_start_matches('[').trim_end_matches(']')
    }

    fn display(&self) -> String {
        format!("http://{}:{}{}", self.host, self.port, self.base)
    }
}

fn parse_url(s: &str) -> Result<Url, String> {
    let s = s.trim();
    let rest = match s.split_once("://") {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("http") => rest,
        Some((scheme, _)) => {
            return Err(format!("{s}: only http:// to a local worker is supported, not {scheme}://"));
        }
        None => s,
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    if path.contains(['?', '#']) || authority.contains('@') {
        return Err(format!("{s}: give just the worker's address, e.g. http://localhost:8787"));
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (h, after) = v6.split_once(']').ok_or_else(|| format!("{s}: unclosed [ in the host"))?;
        (format!("[{h}]"), after.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), Some(p)),
            None => (authority.to_string(), None),
        }
    };
    let port = match port {
        None => 80,
        Some(p) => p.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(|| format!("{s}: bad port {p:?}"))?,
    };
    let host = host.to_ascii_lowercase();
    if !is_loopback(&host) {
        return Err(format!(
            "{s}: only a worker on this machine (localhost, 127.0.0.1, [::1]) is supported, not {host:?}"
        ));
    }
    Ok(Url { host, port, base: path.trim_end_matches('/').to_string() })
}

fn is_loopback(host: &str) -> bool {
    if host == "localhost" || host == "[::1]" {
        return true;
    }
    let parts: Vec<&str> = host.split('.').collect();
    parts.len() == 4 && parts[0] == "127" && parts.iter().all(|p| p.parse::<u8>().is_ok())
}

// ---------------------------------------------------------------------------
// Secrets from .dev.vars

/// `KEY=VALUE` lines as wrangler reads `.dev.vars` (dotenv): comments,
/// `export `, single or double quotes, and `#` comments after unquoted values.
fn parse_dotenv(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").map_or(line, str::trim_start);
        let Some((key, raw)) = line.split_once('=') else { continue };
        let key = key.trim();
        if key.is_empty() || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-') {
            continue;
        }
        let raw = raw.trim();
        let value = if let Some(q) = raw.strip_prefix('"').and_then(|r| r.rfind('"').map(|i| &r[..i])) {
            q.replace("\\n", "\n").replace("\\\"", "\"")
        } else if let Some(q) = raw.strip_prefix('\'').and_then(|r| r.rfind('\'').map(|i| &r[..i])) {
            q.to_string()
        } else {
            match raw.find(" #").or_else(|| raw.find("\t#")) {
                Some(i) => raw[..i].trim_end().to_string(),
                None => raw.to_string(),
            }
        };
        out.push((key.to_string(), value));
    }
    out
}

/// The first non-empty value of `names` (in that order of preference) in
/// the first of `files` that has one, and which file it came from.
fn secret_from(files: &[PathBuf], names: &[&str]) -> Option<(String, PathBuf)> {
    for file in files {
        let Ok(text) = std::fs::read_to_string(file) else { continue };
        let vars = parse_dotenv(&text);
        for name in names {
            if let Some((_, v)) = vars.iter().rev().find(|(k, v)| k == name && !v.is_empty()) {
                return Some((v.clone(), file.clone()));
            }
        }
    }
    None
}

/// `.dev.vars` then `.dev.vars.example`, in the current directory and, when
/// run from elsewhere, in the project's own.
fn vars_files() -> Vec<PathBuf> {
    let mut dirs = vec![PathBuf::from(".")];
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let same = std::env::current_dir().ok().and_then(|d| d.canonicalize().ok()) == manifest.canonicalize().ok();
    if !same {
        dirs.push(manifest);
    }
    let mut files: Vec<PathBuf> = dirs.iter().map(|d| d.join(".dev.vars")).collect();
    files.extend(dirs.iter().map(|d| d.join(".dev.vars.example")));
    files
}

/// The secret and where it came from: the flag, else the vars files.
fn resolve_secret(given: &Option<String>, flag: &str, names: &[&str], what: &str) -> Result<(String, String), String> {
    if let Some(s) = given.as_ref().filter(|s| !s.is_empty()) {
        return Ok((s.clone(), flag.into()));
    }
    let shown = |f: PathBuf| f.strip_prefix(".").map_or_else(|_| f.display().to_string(), |r| r.display().to_string());
    secret_from(&vars_files(), names).map(|(s, f)| (s, shown(f))).ok_or_else(|| {
        format!("no {what} secret: pass {flag} or set {} in .dev.vars (see .dev.vars.example)", names[0])
    })
}

// ---------------------------------------------------------------------------
// Deliveries

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    /// `Sentry-Hook-Resource`.
    Sentry(String),
    /// `X-GitHub-Event`.
    GitHub(String),
}

#[derive(Debug, Clone)]
struct Delivery {
    kind: Kind,
    action: String,
    /// Shown after the status: a short id, a title, a file name.
    label: String,
    body: Vec<u8>,
}

impl Delivery {
    fn sentry(resource: &str, body: &Value, label: impl Into<String>) -> Delivery {
        Delivery {
            kind: Kind::Sentry(resource.into()),
            action: body["action"].as_str().unwrap_or("").into(),
            label: label.into(),
            body: sentry_json(body).into_bytes(),
        }
    }

    fn what(&self) -> String {
        let name = match &self.kind {
            Kind::Sentry(r) => r.clone(),
            Kind::GitHub(e) => format!("github:{e}"),
        };
        if self.action.is_empty() {
            name
        } else {
            format!("{name}.{}", self.action)
        }
    }
}

/// Compact JSON with every non-ASCII character escaped as `\uXXXX`
/// (surrogate pairs beyond the BMP), as Sentry's `json.dumps` sends it.
fn sentry_json(v: &Value) -> String {
    ensure_ascii(&v.to_string())
}

fn ensure_ascii(compact: &str) -> String {
    // serde_json escapes quotes, backslashes and control characters itself;
    // other non-ASCII characters can only occur inside strings, where a
    // \u escape means the same.
    let mut out = String::with_capacity(compact.len());
    for c in compact.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                let _ = write!(out, "\\u{u:04x}");
            }
        }
    }
    out
}

/// Sentry resources the worker knows, longest first for prefix matching.
const SENTRY_RESOURCES: [&str; 9] =
    ["preprod_artifact", "installation", "metric_alert", "event_alert", "comment", "issue", "error", "event", "seer"];

/// Reads one file as a delivery: `--resource` / `--github-event`, else a
/// guess from the name (`issue-assigned.json`, `sentry-comment-created.json`,
/// `github/team-created.json`, `github-team-created.json`).
fn file_delivery(path: &Path, resource: Option<&str>, github_event: Option<&str>) -> Result<Delivery, String> {
    let body = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let kind = match (resource, github_event) {
        (Some(r), _) => Kind::Sentry(r.to_string()),
        (_, Some(e)) => Kind::GitHub(e.to_string()),
        _ => guess_kind(path).ok_or_else(|| {
            format!("{}: cannot tell the resource from the name; add --resource R or --github-event E", path.display())
        })?,
    };
    let action = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v.get("action").and_then(Value::as_str).map(str::to_string))
        .unwrap_or_default();
    let label = path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
    Ok(Delivery { kind, action, label, body })
}

fn guess_kind(path: &Path) -> Option<Kind> {
    let stem = path.file_stem()?.to_str()?.to_ascii_lowercase();
    let in_github_dir = path.parent().and_then(Path::file_name).is_some_and(|d| d == "github");
    if let Some(rest) = stem.strip_prefix("github-").or(in_github_dir.then_some(stem.as_str())) {
        let event = rest.split(['-', '.']).next().filter(|e| !e.is_empty())?;
        return Some(Kind::GitHub(event.to_string()));
    }
    let name = stem.strip_prefix("sentry-").unwrap_or(&stem).replace('-', "_");
    SENTRY_RESOURCES
        .iter()
        .find(|r| name == **r || name.starts_with(&format!("{r}_")))
        .map(|r| Kind::Sentry((*r).to_string()))
}

// ---------------------------------------------------------------------------
// The demo set

const DEMO_INSTALLATION: &str = "5e7d2c1a-9f3b-4c8e-a1d6-0b2f4e6a8c10";
const ORG_URL: &str = "https://example.sentry.io";

struct Project {
    id: &'static str,
    slug: &'static str,
    name: &'static str,
    platform: &'static str,
}

const PROJECTS: [Project; 3] = [
    Project { id: "4504011", slug: "web-frontend", name: "Web Frontend", platform: "javascript" },
    Project { id: "4504012", slug: "checkout-api", name: "Checkout API", platform: "python" },
    Project { id: "4504013", slug: "payments-worker", name: "Payments Worker", platform: "go" },
];

#[derive(Clone, Copy)]
enum Who {
    User(u64, &'static str, &'static str),
    Team(u64, &'static str, &'static str),
}

const ANA: Who = Who::User(101, "Ana Souza", "ana.souza@example.com");
const JONAS: Who = Who::User(102, "Jonas Müller", "jonas.mueller@example.com");
const PRIYA: Who = Who::User(103, "Priya Raman", "priya.raman@example.com");
const BACKEND: Who = Who::Team(11, "backend", "Backend");
const PAYMENTS: Who = Who::Team(12, "payments", "Payments");

impl Who {
    /// `data.assignee` of `issue.assigned`.
    fn assignee(self) -> Value {
        match self {
            Who::User(id, name, email) => json!({"type": "user", "name": name, "id": id, "email": email}),
            Who::Team(id, _, name) => json!({"type": "team", "name": name, "id": id}),
        }
    }

    /// `issue.assignedTo`: ids as strings.
    fn assigned_to(self) -> Value {
        match self {
            Who::User(id, name, email) => {
                json!({"id": id.to_string(), "name": name, "email": email, "type": "user"})
            }
            Who::Team(id, slug, name) => json!({"id": id.to_string(), "slug": slug, "name": name, "type": "team"}),
        }
    }

    fn actor(self) -> Value {
        match self {
            Who::User(id, name, _) => json!({"type": "user", "id": id, "name": name}),
            Who::Team(..) => ANA.actor(),
        }
    }
}

#[derive(Clone, Copy)]
enum Step {
    Assign(Who),
    Resolve,
    Ignore,
    Unresolve,
}

struct DemoIssue {
    id: &'static str,
    project: usize,
    short: &'static str,
    level: &'static str,
    kind: &'static str,
    value: &'static str,
    culprit: &'static str,
    /// Hours before now.
    first_seen: f64,
    last_seen: f64,
    count: u32,
    users: u32,
    steps: &'static [Step],
}

impl DemoIssue {
    fn title(&self) -> String {
        if self.kind.is_empty() {
            self.value.to_string()
        } else {
            format!("{}: {}", self.kind, self.value)
        }
    }

    fn short_id(&self) -> String {
        format!("{}-{}", PROJECTS[self.project].slug.to_ascii_uppercase(), self.short)
    }
}

const ISSUES: [DemoIssue; 12] = [
    DemoIssue {
        id: "4711000101",
        project: 0,
        short: "3F",
        level: "error",
        kind: "TypeError",
        value: "Cannot read properties of undefined (reading 'price')",
        culprit: "CartSummary(src/components/CartSummary.tsx)",
        first_seen: 70.0,
        last_seen: 0.3,
        count: 1284,
        users: 311,
        steps: &[Step::Assign(ANA)],
    },
    DemoIssue {
        id: "4711000102",
        project: 0,
        short: "3G",
        level: "warning",
        kind: "",
        value: "ResizeObserver loop completed with undelivered notifications.",
        culprit: "?(app.4f9c1e.js)",
        first_seen: 140.0,
        last_seen: 1.0,
        count: 5210,
        users: 2044,
        steps: &[Step::Ignore],
    },
    DemoIssue {
        id: "4711000103",
        project: 0,
        short: "3H",
        level: "error",
        kind: "ChunkLoadError",
        value: "Loading chunk 712 failed.",
        culprit: "__webpack_require__.f.j(webpack/runtime/jsonp chunk loading)",
        first_seen: 30.0,
        last_seen: 2.0,
        count: 87,
        users: 61,
        steps: &[Step::Resolve],
    },
    DemoIssue {
        id: "4711000104",
        project: 0,
        short: "3J",
        level: "info",
        kind: "",
        value: "User feedback: \u{201c}The checkout button does nothing\u{201d} \u{1f615}",
        culprit: "/checkout",
        first_seen: 20.0,
        last_seen: 20.0,
        count: 1,
        users: 1,
        steps: &[],
    },
    DemoIssue {
        id: "4711000105",
        project: 1,
        short: "8A",
        level: "error",
        kind: "KeyError",
        value: "'currency'",
        culprit: "checkout.pricing in convert_total",
        first_seen: 50.0,
        last_seen: 0.1,
        count: 342,
        users: 97,
        steps: &[Step::Assign(BACKEND)],
    },
    DemoIssue {
        id: "4711000106",
        project: 1,
        short: "8B",
        level: "error",
        kind: "UnicodeDecodeError",
        value: "'utf-8' codec can't decode byte 0xe9 in position 14 (caf\u{e9}_men\u{fc}.csv)",
        culprit: "importers.csv in read_rows",
        first_seen: 100.0,
        last_seen: 5.0,
        count: 29,
        users: 3,
        steps: &[Step::Assign(JONAS)],
    },
    DemoIssue {
        id: "4711000107",
        project: 1,
        short: "8C",
        level: "warning",
        kind: "",
        value: "Slow DB query: SELECT \u{2026} FROM orders WHERE customer_id = %s (2.4 s)",
        culprit: "checkout.views.orders in list_orders",
        first_seen: 160.0,
        last_seen: 0.5,
        count: 9120,
        users: 1870,
        steps: &[],
    },
    DemoIssue {
        id: "4711000108",
        project: 1,
        short: "8D",
        level: "info",
        kind: "",
        value: "Locale 'pt_BR' not found \u{2013} falling back to 'en'",
        culprit: "i18n.loader in resolve_locale",
        first_seen: 200.0,
        last_seen: 3.0,
        count: 640,
        users: 412,
        steps: &[Step::Resolve],
    },
    DemoIssue {
        id: "4711000109",
        project: 2,
        short: "2K",
        level: "fatal",
        kind: "OOMKilled",
        value: "payments-worker exceeded its 512 MiB memory limit",
        culprit: "main.(*Worker).processBatch",
        first_seen: 6.0,
        last_seen: 0.2,
        count: 14,
        users: 0,
        steps: &[Step::Assign(PAYMENTS)],
    },
    DemoIssue {
        id: "4711000110",
        project: 2,
        short: "2L",
        level: "error",
        kind: "panic",
        value: "runtime error: index out of range [3] with length 3",
        culprit: "ledger.(*Reconciler).Match",
        first_seen: 90.0,
        last_seen: 26.0,
        count: 57,
        users: 0,
        steps: &[Step::Assign(PRIYA), Step::Resolve],
    },
    DemoIssue {
        id: "4711000111",
        project: 2,
        short: "2M",
        level: "error",
        kind: "",
        value: "dial tcp 10.0.3.17:6379: i/o timeout",
        culprit: "cache.(*Client).Get",
        first_seen: 40.0,
        last_seen: 0.8,
        count: 233,
        users: 0,
        steps: &[],
    },
    DemoIssue {
        id: "4711000112",
        project: 2,
        short: "2N",
        level: "fatal",
        kind: "CardDeclined",
        value: "Zahlung fehlgeschlagen: Kartenpr\u{fc}fung abgelehnt (3-D Secure)",
        culprit: "stripe.(*Gateway).Confirm",
        first_seen: 120.0,
        last_seen: 4.0,
        count: 18,
        users: 11,
        steps: &[Step::Resolve, Step::Unresolve],
    },
];

/// `YYYY-MM-DDTHH:MM:SS.ffffffZ`, Sentry's timestamp format.
fn sentry_time(ms: i64) -> String {
    let t = format_millis(ms);
    format!("{}000Z", t.trim_end_matches('Z'))
}

fn hours_ago(now_ms: i64, hours: f64) -> i64 {
    now_ms - (hours * 3_600_000.0) as i64
}

/// A stable 32-hex id (event ids: a second run of the demo adds no events).
fn hex_id(seed: &str) -> String {
    sentry_kanban::verify::body_digest(seed.as_bytes())[..32].to_string()
}

#[derive(Clone, Copy)]
struct State {
    status: &'static str,
    substatus: Option<&'static str>,
    assigned: Option<Who>,
}

/// The `issue` object as Sentry's GroupSerializer sends it (trimmed).
fn issue_json(i: &DemoIssue, s: State, urls: bool, now_ms: i64) -> Value {
    let p = &PROJECTS[i.project];
    let mut v = json!({
        "id": i.id,
        "shareId": null,
        "shortId": i.short_id(),
        "title": i.title(),
        "culprit": i.culprit,
        "permalink": format!("{ORG_URL}/issues/{}/", i.id),
        "logger": null,
        "level": i.level,
        "status": s.status,
        "statusDetails": {},
        "substatus": s.substatus,
        "isPublic": false,
        "platform": p.platform,
        "project": {"id": p.id, "name": p.name, "slug": p.slug, "platform": p.platform},
        "type": "error",
        "metadata": {"type": if i.kind.is_empty() { "Error" } else { i.kind }, "value": i.value},
        "numComments": 0,
        "assignedTo": s.assigned.map(Who::assigned_to),
        "isBookmarked": false,
        "isSubscribed": false,
        "subscriptionDetails": null,
        "hasSeen": false,
        "annotations": [],
        "issueType": "error",
        "issueCategory": "error",
        "priority": match i.level { "fatal" | "error" => "high", "warning" => "medium", _ => "low" },
        "priorityLockedAt": null,
        "isUnhandled": i.level == "fatal",
        "count": i.count.to_string(),
        "userCount": i.users,
        "firstSeen": sentry_time(hours_ago(now_ms, i.first_seen)),
        "lastSeen": sentry_time(hours_ago(now_ms, i.last_seen)),
    });
    if urls {
        v["url"] = json!(format!("https://sentry.io/api/0/organizations/example/issues/{}/", i.id));
        v["web_url"] = json!(format!("{ORG_URL}/issues/{}/", i.id));
        v["project_url"] = json!(format!("{ORG_URL}/issues/?project={}", p.id));
    }
    v
}

fn envelope(action: &str, data: Value, actor: Value) -> Value {
    json!({"action": action, "installation": {"uuid": DEMO_INSTALLATION}, "data": data, "actor": actor})
}

fn sentry_actor() -> Value {
    json!({"type": "application", "id": "sentry", "name": "Sentry"})
}

/// One issue's life: `created`, then each step, each body the issue's state
/// after that step.
fn issue_deliveries(i: &DemoIssue, now_ms: i64) -> Vec<Delivery> {
    let label = format!("{}  {}", i.short_id(), i.title());
    let mut s = State { status: "unresolved", substatus: Some("new"), assigned: None };
    let created = envelope("created", json!({"issue": issue_json(i, s, true, now_ms)}), sentry_actor());
    let mut out = vec![Delivery::sentry("issue", &created, label.clone())];
    let mut last_actor = ANA;
    for step in i.steps {
        let (action, data) = match *step {
            Step::Assign(who) => {
                s = State { status: "unresolved", substatus: Some("ongoing"), assigned: Some(who) };
                ("assigned", json!({"assignee": who.assignee(), "issue": issue_json(i, s, false, now_ms)}))
            }
            Step::Resolve => {
                s = State { status: "resolved", substatus: None, ..s };
                ("resolved", json!({"resolution_type": "now", "issue": issue_json(i, s, false, now_ms)}))
            }
            Step::Ignore => {
                s = State { status: "ignored", substatus: Some("archived_until_escalating"), ..s };
                ("ignored", json!({"issue": issue_json(i, s, false, now_ms)}))
            }
            Step::Unresolve => {
                s = State { status: "unresolved", substatus: Some("regressed"), ..s };
                ("unresolved", json!({"issue": issue_json(i, s, false, now_ms)}))
            }
        };
        if let Step::Assign(who @ Who::User(..)) = *step {
            last_actor = who;
        }
        out.push(Delivery::sentry("issue", &envelope(action, data, last_actor.actor()), label.clone()));
    }
    out
}

fn comment(id: u64, issue: &DemoIssue, who: Who, text: &str, at_ms: i64) -> Delivery {
    let data = json!({
        "comment": text,
        "project_slug": PROJECTS[issue.project].slug,
        "comment_id": id,
        "issue_id": issue.id.parse::<u64>().unwrap_or_default(),
        "timestamp": sentry_time(at_ms),
    });
    Delivery::sentry("comment", &envelope("created", data, who.actor()), format!("{}  {text}", issue.short_id()))
}

/// A Sentry event (as `error.created` and `event_alert.triggered` carry it).
fn event_json(i: &DemoIssue, n: usize, at_ms: i64) -> Value {
    let p = &PROJECTS[i.project];
    let event_id = hex_id(&format!("sentry-kanban demo event {} {n}", i.id));
    let (frames, request, release) = match p.platform {
        "javascript" => (
            json!([
                {"filename": "webpack:///node_modules/react-dom/cjs/react-dom.production.min.js", "function": "renderWithHooks", "module": "react-dom", "lineno": 167, "colno": 137, "in_app": false},
                {"filename": "webpack:///src/components/CartSummary.tsx", "function": "CartSummary", "module": "components/CartSummary", "lineno": 42, "colno": 31, "in_app": true}
            ]),
            json!({"url": "https://shop.example.com/checkout?step=2&coupon=SPRING", "method": "GET",
                   "headers": [["Cookie", "session=demo-not-a-secret"], ["User-Agent", "Mozilla/5.0"]]}),
            "web-frontend@2.14.0",
        ),
        "python" => (
            json!([
                {"filename": "checkout/views/orders.py", "function": "create_order", "module": "checkout.views.orders", "lineno": 88, "in_app": true},
                {"filename": "checkout/pricing.py", "function": "convert_total", "module": "checkout.pricing", "lineno": 131, "in_app": true}
            ]),
            json!({"url": "https://api.example.com/v2/orders", "method": "POST", "data": {"card": "4242 \u{2022}\u{2022}\u{2022}\u{2022}"}}),
            "checkout-api@2025.11.3",
        ),
        _ => (
            json!([
                {"filename": "cmd/worker/main.go", "function": "main.main", "module": "main", "lineno": 57, "in_app": true},
                {"filename": "internal/cache/client.go", "function": "(*Client).Get", "module": "cache", "lineno": 203, "in_app": true}
            ]),
            Value::Null,
            "payments-worker@1.9.2",
        ),
    };
    json!({
        "event_id": event_id,
        "issue_id": i.id,
        "project": p.id.parse::<u64>().unwrap_or_default(),
        "title": i.title(),
        "message": "",
        "culprit": i.culprit,
        "level": i.level,
        "platform": p.platform,
        "environment": "production",
        "release": release,
        "datetime": sentry_time(at_ms),
        "timestamp": at_ms as f64 / 1000.0,
        "url": format!("https://sentry.io/api/0/projects/example/{}/events/{event_id}/", p.slug),
        "web_url": format!("{ORG_URL}/issues/{}/events/{event_id}/", i.id),
        "issue_url": format!("https://sentry.io/api/0/issues/{}/", i.id),
        "exception": {"values": [{
            "type": if i.kind.is_empty() { "Error" } else { i.kind },
            "value": i.value,
            "mechanism": {"type": "generic", "handled": i.level != "fatal"},
            "stacktrace": {"frames": frames},
        }]},
        "tags": [["environment", "production"], ["level", i.level], ["release", release], ["user", "ip:203.0.113.7"]],
        "request": request,
        "user": {"ip_address": "203.0.113.7"},
    })
}

fn error_created(i: &DemoIssue, n: usize, at_ms: i64) -> Delivery {
    let data = json!({"error": event_json(i, n, at_ms)});
    Delivery::sentry("error", &envelope("created", data, sentry_actor()), format!("{}  event {}", i.short_id(), n + 1))
}

fn issue_by_id(id: &str) -> &'static DemoIssue {
    ISSUES.iter().find(|i| i.id == id).expect("a demo issue")
}

/// The whole demo: issues first (cards), then comments and alerts, then the
/// error events (their groups take the status of the cards).
fn demo_set(now_ms: i64) -> Vec<Delivery> {
    let mut out: Vec<Delivery> = ISSUES.iter().flat_map(|i| issue_deliveries(i, now_ms)).collect();

    let cart = issue_by_id("4711000101");
    let oom = issue_by_id("4711000109");
    out.push(comment(
        880_001,
        cart,
        ANA,
        "Reproduced on staging \u{2014} only for carts in EUR. Fix in review.",
        hours_ago(now_ms, 0.7),
    ));
    out.push(comment(
        880_002,
        oom,
        PRIYA,
        "Heap profile attached; batch size 5\u{a0}000 \u{2192} 500 as a stopgap.",
        hours_ago(now_ms, 0.25),
    ));
    out.push(comment(880_003, oom, JONAS, "Danke! Watching the next deploy.", hours_ago(now_ms, 0.1)));

    let rule = "Fatal in payments \u{2192} page on-call";
    let alert = envelope(
        "triggered",
        json!({
            "event": event_json(oom, 99, hours_ago(now_ms, 0.2)),
            "triggered_rule": rule,
            "issue_alert": {"title": rule, "settings": []},
        }),
        sentry_actor(),
    );
    out.push(Delivery::sentry("event_alert", &alert, format!("{}  {rule}", oom.short_id())));

    let started = sentry_time(hours_ago(now_ms, 0.4));
    let rule_name = "Checkout p95 latency > 2 s";
    let metric = envelope(
        "critical",
        json!({
            "description_text": "p95(transaction.duration) was 2.41 s over the last 10 minutes (threshold 2 s)",
            "description_title": format!("Critical: {rule_name}"),
            "metric_alert": {
                "id": "7301",
                "identifier": "12",
                "organization_id": "4504000",
                "projects": ["checkout-api"],
                "status": 20,
                "status_method": 3,
                "title": rule_name,
                "type": 2,
                "date_started": started,
                "date_detected": started,
                "date_created": started,
                "date_closed": null,
                "alert_rule": {
                    "id": "31",
                    "name": rule_name,
                    "aggregate": "p95(transaction.duration)",
                    "dataset": "transactions",
                    "query": "transaction:/v2/orders",
                    "time_window": 10,
                    "threshold_type": 0,
                    "resolve_threshold": null,
                    "environment": "production",
                    "organization_id": "4504000",
                    "projects": ["checkout-api"],
                    "include_all_projects": false,
                    "status": 0,
                    "triggers": [],
                },
            },
            "web_url": format!("{ORG_URL}/alerts/rules/details/31/"),
        }),
        sentry_actor(),
    );
    out.push(Delivery::sentry("metric_alert", &metric, rule_name));

    // Error events spread over the past days: the error log's trends.
    let events: [(&str, &[f64]); 5] = [
        ("4711000101", &[60.0, 30.0, 6.0, 0.3]),
        ("4711000105", &[48.0, 20.0, 0.1]),
        ("4711000109", &[5.0, 2.0, 0.2]),
        ("4711000111", &[38.0, 0.8]),
        ("4711000110", &[80.0, 26.0]),
    ];
    for (id, hours) in events {
        let issue = issue_by_id(id);
        for (n, h) in hours.iter().enumerate() {
            out.push(error_created(issue, n, hours_ago(now_ms, *h)));
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Sending

/// A new 32-hex id per request (Sentry's `Request-ID`).
fn request_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    hex_id(&format!("{nanos}/{}/{n}", std::process::id()))
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// The path and headers of one delivery, as Sentry (or GitHub) sends them.
fn request_parts(d: &Delivery, secret: &str, now_secs: i64) -> (&'static str, Vec<(&'static str, String)>) {
    let sig = sign_hex(secret.as_bytes(), &d.body);
    let id = request_id();
    match &d.kind {
        Kind::Sentry(resource) => (
            "/api/webhooks/sentry",
            vec![
                ("Content-Type", "application/json".into()),
                ("Request-ID", id),
                ("Sentry-Hook-Resource", resource.clone()),
                ("Sentry-Hook-Timestamp", now_secs.to_string()),
                ("Sentry-Hook-Signature", sig),
            ],
        ),
        Kind::GitHub(event) => (
            "/api/webhooks/github",
            vec![
                ("Content-Type", "application/json".into()),
                ("X-GitHub-Event", event.clone()),
                (
                    "X-GitHub-Delivery",
                    format!("{}-{}-{}-{}-{}", &id[..8], &id[8..12], &id[12..16], &id[16..20], &id[20..32]),
                ),
                ("X-Hub-Signature-256", format!("sha256={sig}")),
            ],
        ),
    }
}

#[derive(Debug)]
enum SendError {
    /// Nothing listens there (or it never answered the connection).
    Unreachable(String),
    Failed(String),
}

#[derive(Debug, PartialEq)]
struct Response {
    status: u16,
    body: Vec<u8>,
}

fn post(
    url: &Url,
    path: &str,
    headers: &[(&str, String)],
    body: &[u8],
    timeout: Duration,
) -> Result<Response, SendError> {
    let addrs: Vec<_> = (url.connect_host(), url.port)
        .to_socket_addrs()
        .map_err(|e| SendError::Unreachable(format!("cannot resolve {}: {e}", url.host)))?
        .collect();
    let mut last = String::from("no address");
    let mut stream = None;
    for addr in &addrs {
        match TcpStream::connect_timeout(addr, timeout) {
            Ok(s) => {
                stream = Some(s);
                break;
            }
            Err(e) => last = format!("{addr}: {e}"),
        }
    }
    let mut stream = stream.ok_or(SendError::Unreachable(last))?;
    let io = |e: std::io::Error| {
        if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) {
            SendError::Failed(format!("no answer within {:.0?}", timeout))
        } else {
            SendError::Failed(e.to_string())
        }
    };
    stream.set_read_timeout(Some(timeout)).map_err(io)?;
    stream.set_write_timeout(Some(timeout)).map_err(io)?;
    let mut head = format!(
        "POST {}{path} HTTP/1.1\r\nHost: {}:{}\r\nUser-Agent: sentry-kanban-replay/{}\r\nAccept: */*\r\n",
        url.base,
        url.host,
        url.port,
        env!("CARGO_PKG_VERSION")
    );
    for (k, v) in headers {
        let _ = write!(head, "{k}: {v}\r\n");
    }
    let _ = write!(head, "Content-Length: {}\r\nConnection: close\r\n\r\n", body.len());
    stream.write_all(head.as_bytes()).map_err(io)?;
    stream.write_all(body).map_err(io)?;
    stream.flush().map_err(io)?;
    read_response(&mut stream).map_err(|e| match e {
        ReadError::Io(e) => io(e),
        ReadError::Malformed(m) => SendError::Failed(m),
    })
}

#[derive(Debug)]
enum ReadError {
    Io(std::io::Error),
    Malformed(String),
}

/// Reads one HTTP/1.1 response: status, then the body by Content-Length,
/// chunked encoding or until the connection closes.
fn read_response(r: &mut impl Read) -> Result<Response, ReadError> {
    const MAX: usize = 4 << 20;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let mut eof = false;
    let mut fill = |buf: &mut Vec<u8>, eof: &mut bool| -> Result<(), ReadError> {
        let n = r.read(&mut chunk).map_err(ReadError::Io)?;
        if n == 0 {
            *eof = true;
        }
        buf.extend_from_slice(&chunk[..n]);
        if buf.len() > MAX {
            return Err(ReadError::Malformed("response larger than 4 MiB".into()));
        }
        Ok(())
    };
    let head_end = loop {
        if let Some(i) = find(&buf, b"\r\n\r\n") {
            break i + 4;
        }
        if eof {
            return Err(ReadError::Malformed("the connection closed before a complete HTTP response".into()));
        }
        fill(&mut buf, &mut eof)?;
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let status = status_line
        .strip_prefix("HTTP/1.")
        .and_then(|r| r.get(2..5))
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| ReadError::Malformed(format!("not an HTTP response: {status_line:?}")))?;
    let header = |name: &str| {
        head.split("\r\n").skip(1).find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
    };
    let chunked = header("transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    let length = header("content-length").and_then(|v| v.parse::<usize>().ok());
    let body = if chunked {
        loop {
            if let Some(body) = decode_chunked(&buf[head_end..])? {
                break body;
            }
            if eof {
                return Err(ReadError::Malformed("the connection closed inside a chunked body".into()));
            }
            fill(&mut buf, &mut eof)?;
        }
    } else if let Some(len) = length {
        while buf.len() < head_end + len {
            if eof {
                return Err(ReadError::Malformed("the connection closed before the whole body".into()));
            }
            fill(&mut buf, &mut eof)?;
        }
        buf[head_end..head_end + len].to_vec()
    } else {
        while !eof {
            fill(&mut buf, &mut eof)?;
        }
        buf[head_end..].to_vec()
    };
    Ok(Response { status, body })
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The decoded body once the final chunk is in, `None` while incomplete.
fn decode_chunked(mut data: &[u8]) -> Result<Option<Vec<u8>>, ReadError> {
    let mut out = Vec::new();
    loop {
        let Some(eol) = find(data, b"\r\n") else { return Ok(None) };
        let size_text = String::from_utf8_lossy(&data[..eol]);
        let size_text = size_text.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| ReadError::Malformed(format!("bad chunk size {size_text:?}")))?;
        data = &data[eol + 2..];
        if size == 0 {
            // Trailers, if any, end with an empty line; not needed here.
            return Ok(Some(out));
        }
        if data.len() < size + 2 {
            return Ok(None);
        }
        out.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}

/// One line of a reply body for the terminal.
fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() > 200 {
        format!("{}…", line.chars().take(200).collect::<String>())
    } else {
        line
    }
}

fn run(opts: &Options) -> Result<bool, String> {
    let mut deliveries = if opts.demo { demo_set(now_ms()) } else { Vec::new() };
    for f in &opts.files {
        deliveries.push(file_delivery(f, opts.resource.as_deref(), opts.github_event.as_deref())?);
    }
    let needs_sentry = deliveries.iter().any(|d| matches!(d.kind, Kind::Sentry(_)));
    let needs_github = deliveries.iter().any(|d| matches!(d.kind, Kind::GitHub(_)));
    let sentry = if needs_sentry {
        Some(resolve_secret(&opts.secret, "--secret", &["SENTRY_CLIENT_SECRET", "SENTRY_WEBHOOK_SECRET"], "Sentry")?)
    } else {
        None
    };
    let github = if needs_github {
        Some(resolve_secret(
            &opts.github_secret,
            "--github-secret",
            &["GITHUB_WEBHOOK_SECRET", "GH_WEBHOOK_TOKEN"],
            "GitHub",
        )?)
    } else {
        None
    };
    let base = opts.url.display();
    let mut from = Vec::new();
    if let Some((_, f)) = &sentry {
        from.push(format!("Sentry secret from {f}"));
    }
    if let Some((_, f)) = &github {
        from.push(format!("GitHub secret from {f}"));
    }
    let n = deliveries.len();
    println!("replay: {n} deliver{} to {base} ({})", if n == 1 { "y" } else { "ies" }, from.join(", "));

    let width = deliveries.iter().map(|d| d.what().len()).max().unwrap_or(0);
    let (mut ok, mut failed, mut unauthorized) = (0usize, 0usize, false);
    for d in &deliveries {
        let secret = match d.kind {
            Kind::Sentry(_) => sentry.as_ref().map(|(s, _)| s.as_str()),
            Kind::GitHub(_) => github.as_ref().map(|(s, _)| s.as_str()),
        }
        .unwrap_or_default();
        let now_secs = now_ms() / 1000;
        let (path, headers) = request_parts(d, secret, now_secs);
        match post(&opts.url, path, &headers, &d.body, opts.timeout) {
            Ok(r) if (200..300).contains(&r.status) => {
                ok += 1;
                let dup = serde_json::from_slice::<Value>(&r.body).ok().is_some_and(|v| v["duplicate"] == true);
                let note = if dup { "  (duplicate: already delivered)" } else { "" };
                println!("  {} {:width$}  {}{note}", r.status, d.what(), d.label);
            }
            Ok(r) => {
                failed += 1;
                unauthorized |= r.status == 401;
                println!("  {} {:width$}  {}  -> {}", r.status, d.what(), d.label, excerpt(&r.body));
            }
            Err(SendError::Unreachable(e)) => {
                return Err(format!(
                    "cannot reach the worker at {base} ({e}): is `make dev` running on port {}?",
                    opts.url.port
                ));
            }
            Err(SendError::Failed(e)) => {
                failed += 1;
                println!("  --- {:width$}  {}  -> {e}", d.what(), d.label);
            }
        }
    }
    println!(
        "replay: {ok} of {} accepted, {failed} failed; board: {base}/  error log: {base}/errors.html",
        deliveries.len()
    );
    if unauthorized {
        eprintln!(
            "replay: 401 means the signature did not verify: the worker's secret differs from the one used here \
             (restart `make dev` after editing .dev.vars, or pass --secret / --github-secret)"
        );
    }
    Ok(failed == 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::io::Cursor;

    const NOW: i64 = 1_764_000_000_000;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_demo_set_is_ascii_json_with_unique_ids() {
        let set = demo_set(NOW);
        let mut cards = HashSet::new();
        let mut events = HashSet::new();
        let mut comments = HashSet::new();
        let mut resources = HashSet::new();
        for d in &set {
            assert!(d.body.is_ascii(), "{}: non-ASCII left unescaped", d.what());
            let text = std::str::from_utf8(&d.body).unwrap();
            let v: Value = serde_json::from_slice(&d.body).unwrap_or_else(|e| panic!("{}: {e}", d.what()));
            assert_eq!(text, ensure_ascii(&v.to_string()), "not compact");
            assert_eq!(v["installation"]["uuid"], DEMO_INSTALLATION);
            assert_eq!(v["action"], d.action.as_str());
            let Kind::Sentry(r) = &d.kind else { panic!("a GitHub delivery in the demo") };
            resources.insert(format!("{r}.{}", d.action));
            match r.as_str() {
                "issue" => {
                    cards.insert(v["data"]["issue"]["id"].as_str().unwrap().to_string());
                }
                "error" => assert!(events.insert(v["data"]["error"]["event_id"].as_str().unwrap().to_string())),
                "comment" => assert!(comments.insert(v["data"]["comment_id"].as_u64().unwrap())),
                _ => {}
            }
        }
        assert_eq!(cards.len(), 12);
        assert_eq!(comments.len(), 3);
        assert!(events.len() >= 10, "{events:?}");
        for r in ["issue.created", "issue.assigned", "issue.resolved", "issue.ignored", "issue.unresolved"] {
            assert!(resources.contains(r), "{r} missing: {resources:?}");
        }
        for r in ["comment.created", "event_alert.triggered", "metric_alert.critical", "error.created"] {
            assert!(resources.contains(r), "{r} missing");
        }
        // Short ids too, and every delivery body differs.
        let shorts: HashSet<_> = ISSUES.iter().map(DemoIssue::short_id).collect();
        assert_eq!(shorts.len(), ISSUES.len());
        let bodies: HashSet<_> = set.iter().map(|d| d.body.clone()).collect();
        assert_eq!(bodies.len(), set.len());
    }

    #[test]
    fn the_worker_core_accepts_every_demo_delivery() {
        use sentry_kanban::config::Config;
        use sentry_kanban::sentry::hook::{handle, Delivery as Hook};
        let cfg = Config { sentry_secret: Some("k".into()), ..Default::default() };
        for d in demo_set(NOW) {
            let Kind::Sentry(resource) = &d.kind else { unreachable!() };
            let (_, headers) = request_parts(&d, "k", NOW / 1000);
            let get = |k: &str| headers.iter().find(|(n, _)| *n == k).map(|(_, v)| v.as_str());
            let hook = Hook {
                resource: get("Sentry-Hook-Resource"),
                signature: get("Sentry-Hook-Signature"),
                timestamp: get("Sentry-Hook-Timestamp"),
                body: &d.body,
                ..Default::default()
            };
            let plan = handle(&cfg, &hook, NOW).unwrap_or_else(|e| panic!("{}: {e:?}", d.what()));
            assert_eq!(plan.reply.status, 200, "{}", d.what());
            let want = if resource == "error" { "queued" } else { "applied" };
            assert_eq!(plan.verdict.outcome, want, "{}: {:?}", d.what(), plan.reply.body);
        }
    }

    #[test]
    fn the_demo_covers_projects_levels_assignees_and_non_ascii() {
        let levels: HashSet<_> = ISSUES.iter().map(|i| i.level).collect();
        assert_eq!(levels, HashSet::from(["fatal", "error", "warning", "info"]));
        let projects: HashSet<_> = ISSUES.iter().map(|i| i.project).collect();
        assert_eq!(projects.len(), 3);
        let set = demo_set(NOW);
        let assigned: Vec<Value> = set
            .iter()
            .filter(|d| d.action == "assigned")
            .map(|d| serde_json::from_slice::<Value>(&d.body).unwrap()["data"]["assignee"]["type"].clone())
            .collect();
        assert!(assigned.contains(&json!("user")) && assigned.contains(&json!("team")), "{assigned:?}");
        let all: String = set.iter().map(|d| String::from_utf8_lossy(&d.body).into_owned()).collect();
        assert!(all.contains(r"Kartenpr\u00fcfung"), "BMP escapes");
        assert!(all.contains(r"\ud83d\ude15"), "surrogate pairs beyond the BMP");
        // Parsing gives the characters back.
        let v: Value = serde_json::from_str(r#""Kartenpr\u00fcfung \ud83d\ude15""#).unwrap();
        assert_eq!(v, "Kartenpr\u{fc}fung \u{1f615}");
    }

    #[test]
    fn demo_times_are_in_the_past_and_in_sentry_format() {
        let now = format_millis(NOW);
        for d in demo_set(NOW) {
            let v: Value = serde_json::from_slice(&d.body).unwrap();
            let issue = &v["data"]["issue"];
            if issue.is_object() {
                let (first, last) = (issue["firstSeen"].as_str().unwrap(), issue["lastSeen"].as_str().unwrap());
                assert_eq!(first.len(), "2025-11-24T12:00:00.000000Z".len(), "{first}");
                assert!(first.ends_with("000Z") && first <= last, "{first} {last}");
                assert!(sentry_kanban::time::canonical(last).unwrap() < now, "{last}");
            }
            if let Some(t) = v["data"]["error"]["datetime"].as_str() {
                assert!(sentry_kanban::time::canonical(t).unwrap() < now, "{t}");
            }
        }
        assert_eq!(sentry_time(0), "1970-01-01T00:00:00.000000Z");
    }

    #[test]
    fn headers_are_sentrys_and_the_signature_covers_the_raw_body() {
        let d = &demo_set(NOW)[0];
        let (path, h) = request_parts(d, "s3cret", 1_764_000_000);
        assert_eq!(path, "/api/webhooks/sentry");
        let get = |k: &str| h.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone()).unwrap();
        assert_eq!(get("Content-Type"), "application/json");
        assert_eq!(get("Sentry-Hook-Resource"), "issue");
        assert_eq!(get("Sentry-Hook-Timestamp"), "1764000000");
        assert_eq!(
            sentry_kanban::verify::check_hex_hmac(Some("s3cret"), &d.body, Some(&get("Sentry-Hook-Signature"))),
            Ok(())
        );
        let id = get("Request-ID");
        assert!(id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
        assert_ne!(id, request_parts(d, "s3cret", 1).1.iter().find(|(n, _)| *n == "Request-ID").unwrap().1);

        let gh = Delivery {
            kind: Kind::GitHub("team".into()),
            action: "created".into(),
            label: "x".into(),
            body: b"{}".to_vec(),
        };
        let (path, h) = request_parts(&gh, "gh", 1);
        assert_eq!(path, "/api/webhooks/github");
        let sig = h.iter().find(|(n, _)| *n == "X-Hub-Signature-256").unwrap().1.clone();
        assert_eq!(sentry_kanban::verify::check_github(Some("gh"), b"{}", Some(&sig)), Ok(()));
        let delivery = &h.iter().find(|(n, _)| *n == "X-GitHub-Delivery").unwrap().1;
        assert_eq!(delivery.split('-').map(str::len).collect::<Vec<_>>(), [8, 4, 4, 4, 12]);
    }

    #[test]
    fn dotenv_lines_parse_like_wranglers() {
        let text = "\
# comment
SENTRY_CLIENT_SECRET=local-dev-sentry-secret
# SENTRY_CLIENT_ID=
export GITHUB_WEBHOOK_SECRET = \"quoted # not a comment\"
SINGLE='it''s'
INLINE=value # a comment
EMPTY=
  SPACED  =  padded  
not a line
=nokey
URL=http://x/?a=b
";
        let vars = parse_dotenv(text);
        let get = |k: &str| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("SENTRY_CLIENT_SECRET"), Some("local-dev-sentry-secret"));
        assert_eq!(get("SENTRY_CLIENT_ID"), None);
        assert_eq!(get("GITHUB_WEBHOOK_SECRET"), Some("quoted # not a comment"));
        assert_eq!(get("SINGLE"), Some("it''s"));
        assert_eq!(get("INLINE"), Some("value"));
        assert_eq!(get("EMPTY"), Some(""));
        assert_eq!(get("SPACED"), Some("padded"));
        assert_eq!(get("URL"), Some("http://x/?a=b"));
        assert_eq!(vars.len(), 7, "{vars:?}");
    }

    #[test]
    fn secrets_come_from_dev_vars_then_the_example_and_names_in_order() {
        let dir = std::env::temp_dir().join(format!("replay-vars-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (vars, example) = (dir.join(".dev.vars"), dir.join(".dev.vars.example"));
        std::fs::write(&example, "SENTRY_CLIENT_SECRET=from-example\nGITHUB_WEBHOOK_SECRET=gh-example\n").unwrap();
        std::fs::write(&vars, "SENTRY_CLIENT_SECRET=\nSENTRY_WEBHOOK_SECRET=old-name\n").unwrap();
        let files = [vars.clone(), example.clone()];
        let names = ["SENTRY_CLIENT_SECRET", "SENTRY_WEBHOOK_SECRET"];
        assert_eq!(secret_from(&files, &names), Some(("old-name".into(), vars.clone())));
        assert_eq!(secret_from(&files, &["GITHUB_WEBHOOK_SECRET"]), Some(("gh-example".into(), example.clone())));
        std::fs::write(&vars, "SENTRY_CLIENT_SECRET=new\nSENTRY_WEBHOOK_SECRET=old-name\n").unwrap();
        assert_eq!(secret_from(&files, &names).map(|(s, _)| s), Some("new".into()));
        assert_eq!(secret_from(&[dir.join("missing")], &names), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn urls_must_be_plain_http_on_loopback() {
        let u = parse_url("http://localhost:8787").unwrap();
        assert_eq!((u.host.as_str(), u.port, u.base.as_str()), ("localhost", 8787, ""));
        assert_eq!(parse_url("http://127.0.0.1:9000/").unwrap().display(), "http://127.0.0.1:9000");
        assert_eq!(parse_url("127.0.0.1:9000").unwrap().port, 9000);
        assert_eq!(parse_url("HTTP://LocalHost").unwrap().port, 80);
        let v6 = parse_url("http://[::1]:8787").unwrap();
        assert_eq!((v6.host.as_str(), v6.connect_host(), v6.port), ("[::1]", "::1", 8787));
        assert_eq!(parse_url("http://localhost:8787/prefix/").unwrap().base, "/prefix");
        for bad in [
            "https://localhost:8787",
            "http://example.com:8787",
            "http://10.0.0.1:8787",
            "http://127.0.0.1.evil.com",
            "http://localhost:0",
            "http://localhost:99999",
            "http://localhost:x",
            "http://user@localhost:8787",
            "http://localhost:8787/?q",
            "http://[::1:8787",
        ] {
            assert!(parse_url(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn arguments_default_to_the_demo_on_port_or_8787() {
        let o = parse_args(&[], None).unwrap().unwrap();
        assert_eq!(
            (o.url.display(), o.demo, o.timeout),
            ("http://localhost:8787".into(), true, Duration::from_secs(10))
        );
        assert_eq!(parse_args(&[], Some("9911")).unwrap().unwrap().url.port, 9911);
        assert!(parse_args(&[], Some("nope")).is_err());
        let o =
            parse_args(&args(&["a.json", "--resource", "Issue", "--url=http://127.0.0.1:1234", "--secret", "s"]), None)
                .unwrap()
                .unwrap();
        assert_eq!(o.files, [PathBuf::from("a.json")]);
        assert_eq!((o.resource.as_deref(), o.secret.as_deref(), o.demo), (Some("issue"), Some("s"), false));
        assert_eq!(o.url.port, 1234);
        assert!(parse_args(&args(&["--demo", "a.json"]), None).unwrap().unwrap().demo);
        assert_eq!(parse_args(&args(&["--help"]), None).unwrap(), None);
        for bad in [
            &["--secret"][..],
            &["--bogus"],
            &["--resource", "issue"],
            &["a.json", "--resource", "issue", "--github-event", "team"],
            &["--timeout", "0"],
            &["--url", "https://localhost"],
        ] {
            assert!(parse_args(&args(bad), None).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn file_names_tell_the_resource() {
        let cases = [
            ("tests/fixtures/sentry/issue-assigned-team.json", Some(Kind::Sentry("issue".into()))),
            ("tests/fixtures/sentry/error-created.json", Some(Kind::Sentry("error".into()))),
            ("payloads/sentry-metric-alert-resolved.json", Some(Kind::Sentry("metric_alert".into()))),
            ("payloads/sentry-event-alert-triggered.json", Some(Kind::Sentry("event_alert".into()))),
            ("payloads/sentry-comment-created.json", Some(Kind::Sentry("comment".into()))),
            ("payloads/sentry-installation-created.json", Some(Kind::Sentry("installation".into()))),
            ("payloads/github-membership-added.json", Some(Kind::GitHub("membership".into()))),
            ("tests/fixtures/github/team-created.json", Some(Kind::GitHub("team".into()))),
            ("tests/fixtures/github/ping.json", Some(Kind::GitHub("ping".into()))),
            ("tests/fixtures/sentry/token-exchange-response.json", None),
            ("payloads/sentry-api-list-org-issues-response.json", None),
            ("issues.json", None),
        ];
        for (path, want) in cases {
            assert_eq!(guess_kind(Path::new(path)), want, "{path}");
        }
    }

    #[test]
    fn responses_parse_by_length_chunks_or_close() {
        let mut r = Cursor::new(b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n{\"ok\":true}EXTRA".to_vec());
        assert_eq!(read_response(&mut r).unwrap(), Response { status: 200, body: b"{\"ok\":true}".to_vec() });
        let mut r = Cursor::new(
            b"HTTP/1.1 401 Unauthorized\r\ntransfer-encoding: Chunked\r\n\r\n4\r\n{\"a\"\r\n3;x=y\r\n:1}\r\n0\r\n\r\n"
                .to_vec(),
        );
        assert_eq!(read_response(&mut r).unwrap(), Response { status: 401, body: b"{\"a\":1}".to_vec() });
        let mut r = Cursor::new(b"HTTP/1.0 503 Busy\r\nServer: x\r\n\r\nlater".to_vec());
        assert_eq!(read_response(&mut r).unwrap(), Response { status: 503, body: b"later".to_vec() });
        for bad in [&b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab"[..], b"SSH-2.0\r\n\r\n", b"HTTP/1.1 200"] {
            assert!(read_response(&mut Cursor::new(bad.to_vec())).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn ensure_ascii_escapes_like_python() {
        assert_eq!(
            ensure_ascii(&json!({"t": "Caf\u{e9} \u{1f600}\n\"x\""}).to_string()),
            r#"{"t":"Caf\u00e9 \ud83d\ude00\n\"x\""}"#
        );
    }
}
