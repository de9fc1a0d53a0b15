//! End to end: hostile input against both webhooks of the real worker under
//! `wrangler dev` (issue 8). One data-driven table, run in order against a
//! worker of its own: every case sends one request, asserts the exact
//! documented status and then that nothing was written that should not
//! have been — cards (`/api/items`), the error log (`/api/errors`), the
//! team sync (`/api/github/sync`), jobs, installations and the calls the
//! mock API received are compared before and after; a rejected Sentry
//! delivery (or a non-401 GitHub one) may only add its own row to the
//! delivery log. Every case carries its own ids and a marker string, and a
//! final sweep (after the queue has drained) checks that no rejected
//! case's marker reached any of that state.
//!
//! Rule for duplicated signature headers: a signature is taken only when it
//! is unambiguous — one header, one value. Two values of one header (which
//! the Workers runtime joins with ", "), or `Sentry-Hook-Signature` and
//! `Sentry-App-Signature` that disagree, are never verified (401).

#[path = "e2e/app.rs"]
mod app;
#[path = "e2e/mock.rs"]
mod mock;

use app::{spawn_app, App, Reply, GITHUB_SECRET, INTERNAL_ORG, INTERNAL_TOKEN, SECRET};
use sentry_kanban::verify::sign_hex;
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::OnceLock;
use std::time::Duration;

const MIB: usize = 1024 * 1024;
const SQL_1: &str = "'); DROP TABLE cards; --";
const SQL_2: &str = "\" OR 1=1 --";
const XSS_1: &str = "<script>alert(1)</script>";
const XSS_2: &str = "<img src=x onerror=alert(1)>";

/// A worker of its own (the table compares whole-state snapshots), in
/// internal mode so GitHub team events reach the mock's Sentry.
fn hostile() -> &'static App {
    static APP: OnceLock<App> = OnceLock::new();
    APP.get_or_init(|| {
        spawn_app(&[
            ("SENTRY_AUTH_TOKEN", INTERNAL_TOKEN),
            ("SENTRY_ORG_SLUG", INTERNAL_ORG),
            ("GITHUB_WEBHOOK_SECRET", GITHUB_SECRET),
        ])
    })
}

// ------------------------------------------------------------------ bodies

fn issue_json(action: &str, id: &str, title: &str) -> Value {
    json!({"action": action, "installation": {"uuid": "hostile-inst"},
        "data": {"issue": {"id": id, "shortId": format!("HOST-{id}"), "title": title, "culprit": "app.main",
            "permalink": format!("https://sentry.example/issues/{id}/"), "level": "error", "status": "unresolved",
            "project": {"id": "1", "slug": "web", "name": "Web"}, "count": "1", "userCount": 1,
            "firstSeen": "2026-11-01T10:00:00Z", "lastSeen": "2026-11-30T10:00:00Z", "assignedTo": null}},
        "actor": {"type": "application", "id": "sentry", "name": "Sentry"}, "skipped": "not read"})
}

fn issue(id: &str) -> Vec<u8> {
    issue_json("created", id, &format!("Hostile {id}")).to_string().into_bytes()
}

fn team(action: &str, id: u64, slug: &str) -> Vec<u8> {
    json!({"action": action, "team": {"id": id, "slug": slug, "name": slug, "privacy": "closed"},
        "organization": {"login": "acme"}, "sender": {"login": "octocat"}})
    .to_string()
    .into_bytes()
}

/// Bytes that are not UTF-8 at the start of the string value of `key` —
/// one the worker reads (a title, a slug) or one it skips.
fn bad_utf8(json: Vec<u8>, key: &str) -> Vec<u8> {
    let s = String::from_utf8(json).unwrap();
    let needle = format!(r#""{key}":""#);
    let at = s.find(&needle).unwrap_or_else(|| panic!("{needle} not in {s}")) + needle.len();
    let mut b = s.into_bytes();
    b.splice(at..at, [0xff, 0xfe, 0xc3]);
    b
}

fn nested(depth: usize) -> String {
    format!("{}{}", "[".repeat(depth), "]".repeat(depth))
}

fn sentry_sig(body: &[u8]) -> String {
    sentry_kanban::verify::sign_hex(SECRET.as_bytes(), body)
}

fn github_sig(body: &[u8]) -> String {
    format!("sha256={}", sentry_kanban::verify::sign_hex(GITHUB_SECRET.as_bytes(), body))
}

fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in bytes.chunks(3) {
        let n = (c[0] as u32) << 16 | (*c.get(1).unwrap_or(&0) as u32) << 8 | *c.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            out.push(if i <= c.len() { A[(n >> (18 - 6 * i) & 63) as usize] as char } else { '=' });
        }
    }
    out
}

fn now_secs() -> String {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs().to_string()
}

// ---------------------------------------------------------------- requests

#[derive(Clone, Copy, PartialEq, Debug)]
enum Hook {
    Sentry,
    Github,
}

#[derive(Clone, Copy, PartialEq)]
enum Transport {
    /// ureq: one value per header name, `Content-Length` set.
    Ureq,
    /// Hand-written HTTP/1.1: headers exactly as listed (duplicates kept).
    Raw,
    /// Same, with the body sent chunked (no declared length).
    Chunked,
}

#[derive(Clone)]
struct Req {
    hook: Hook,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    transport: Transport,
}

/// A Sentry delivery signed the way Sentry signs it.
fn sentry<B: Into<Vec<u8>>>(resource: &str, body: B) -> Req {
    let body = body.into();
    let headers = vec![
        ("Content-Type".into(), "application/json".into()),
        ("Sentry-Hook-Resource".into(), resource.into()),
        ("Sentry-Hook-Timestamp".into(), now_secs()),
        ("Sentry-Hook-Signature".into(), sentry_sig(&body)),
    ];
    Req { hook: Hook::Sentry, headers, body, transport: Transport::Ureq }
}

/// A GitHub delivery signed with the webhook secret.
fn github<B: Into<Vec<u8>>>(event: &str, delivery: &str, body: B) -> Req {
    let body = body.into();
    let headers = vec![
        ("Content-Type".into(), "application/json".into()),
        ("X-GitHub-Event".into(), event.into()),
        ("X-GitHub-Delivery".into(), delivery.into()),
        ("User-Agent".into(), "GitHub-Hookshot/hostile".into()),
        ("X-Hub-Signature-256".into(), github_sig(&body)),
    ];
    Req { hook: Hook::Github, headers, body, transport: Transport::Ureq }
}

impl Req {
    /// Replaces (or adds) one header.
    fn set(mut self, name: &str, value: &str) -> Req {
        self.headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Adds a second value for a header (sent raw, so it is not folded away).
    fn add(mut self, name: &str, value: &str) -> Req {
        self.headers.push((name.into(), value.into()));
        self.transport = Transport::Raw;
        self
    }

    fn without(mut self, name: &str) -> Req {
        self.headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
        self
    }

    fn signature(self, value: &str) -> Req {
        match self.hook {
            Hook::Sentry => self.set("Sentry-Hook-Signature", value),
            Hook::Github => self.set("X-Hub-Signature-256", value),
        }
    }

    fn chunked(mut self) -> Req {
        self.transport = Transport::Chunked;
        self
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    fn path(&self) -> &'static str {
        match self.hook {
            Hook::Sentry => "/api/webhooks/sentry",
            Hook::Github => "/api/webhooks/github",
        }
    }

    fn send(&self, app: &App) -> Reply {
        let headers: Vec<(&str, &str)> = self.headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        match self.transport {
            Transport::Ureq => app.request("POST", self.path(), &headers, &self.body),
            Transport::Raw => raw_post(app, self.path(), &headers, &self.body, false),
            Transport::Chunked => raw_post(app, self.path(), &headers, &self.body, true),
        }
    }
}

/// POST over a plain socket: every header line goes out as written.
fn raw_post(app: &App, path: &str, headers: &[(&str, &str)], body: &[u8], chunked: bool) -> Reply {
    let addr = app.base.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).expect("connect to wrangler dev");
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut head = format!("POST {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&if chunked {
        "Transfer-Encoding: chunked\r\n\r\n".to_string()
    } else {
        format!("Content-Length: {}\r\n\r\n", body.len())
    });
    // The worker may answer (413) before it has read the body: a failed
    // write is fine as long as the answer arrives.
    let _ = (|| -> std::io::Result<()> {
        s.write_all(head.as_bytes())?;
        if chunked {
            for c in body.chunks(64 * 1024) {
                s.write_all(format!("{:x}\r\n", c.len()).as_bytes())?;
                s.write_all(c)?;
                s.write_all(b"\r\n")?;
            }
            s.write_all(b"0\r\n\r\n")?;
        } else {
            s.write_all(body)?;
        }
        s.flush()
    })();
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    parse_response(&buf).unwrap_or_else(|| panic!("no HTTP answer from {path}: {:?}", String::from_utf8_lossy(&buf)))
}

fn parse_response(buf: &[u8]) -> Option<Reply> {
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&buf[..end]).ok()?;
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> =
        lines.filter_map(|l| l.split_once(':')).map(|(k, v)| (k.trim().to_string(), v.trim().to_string())).collect();
    let mut rest = &buf[end + 4..];
    let is_chunked = headers.iter().any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    let body = if is_chunked {
        let mut out = Vec::new();
        loop {
            let nl = rest.windows(2).position(|w| w == b"\r\n")?;
            let n = usize::from_str_radix(std::str::from_utf8(&rest[..nl]).ok()?.split(';').next()?.trim(), 16).ok()?;
            if n == 0 {
                break;
            }
            out.extend_from_slice(rest.get(nl + 2..nl + 2 + n)?);
            rest = &rest[nl + 4 + n..];
        }
        out
    } else {
        rest.to_vec()
    };
    Some(Reply { status, headers, body: String::from_utf8_lossy(&body).into_owned() })
}

// ------------------------------------------------------------------- state

/// Everything a delivery could write, as the API shows it.
#[derive(Clone)]
struct State {
    items: Value,
    errors: Value,
    github: Value,
    jobs: Value,
    installations: Value,
    deliveries: Vec<Value>,
    calls: Vec<mock::Call>,
}

fn get(app: &App, path: &str) -> Value {
    let r = app.request("GET", path, &[], b"");
    assert_eq!(r.status, 200, "GET {path}: {}", r.body);
    r.json()
}

fn state(app: &App) -> State {
    State {
        items: get(app, "/api/items")["items"].clone(),
        errors: get(app, "/api/errors"),
        github: get(app, "/api/github/sync"),
        jobs: get(app, "/api/jobs"),
        installations: get(app, "/api/installations"),
        deliveries: get(app, "/api/deliveries")["deliveries"].as_array().cloned().unwrap_or_default(),
        calls: app.mock.calls(),
    }
}

/// Waits until two snapshots 700 ms apart agree (queue work has landed).
fn settle(app: &App) {
    let key = |s: &State| format!("{} {} {} {} {}", s.items, s.errors, s.github, s.jobs, s.calls.len());
    let mut last = key(&state(app));
    for _ in 0..40 {
        std::thread::sleep(Duration::from_millis(700));
        let now = key(&state(app));
        if now == last {
            return;
        }
        last = now;
    }
    panic!("the worker's state did not settle");
}

fn last_delivery_id(s: &State) -> f64 {
    s.deliveries.iter().filter_map(|d| d["id"].as_f64()).fold(0.0, f64::max)
}

/// Delivery-log rows written since `before`.
fn new_deliveries(before: &State, after: &State) -> Vec<Value> {
    let last = last_delivery_id(before);
    after.deliveries.iter().filter(|d| d["id"].as_f64().is_some_and(|id| id > last)).cloned().collect()
}

/// Nothing but (at most) this request's own delivery-log row changed.
fn assert_nothing_written(before: &State, after: &State, req: &Req, status: u16) {
    let same = |what: &str, a: &Value, b: &Value| assert!(a == b, "{what} changed:\nbefore {a}\nafter  {b}");
    same("/api/items", &before.items, &after.items);
    same("/api/errors", &before.errors, &after.errors);
    same("/api/github/sync", &before.github, &after.github);
    same("/api/jobs", &before.jobs, &after.jobs);
    same("/api/installations", &before.installations, &after.installations);
    let calls = &after.calls[before.calls.len()..];
    assert!(calls.is_empty(), "the mock API was called: {calls:?}");
    assert_own_delivery_row(before, after, req, status);
}

/// The delivery log gains exactly this request's row — except a GitHub
/// request that failed authentication, which leaves only a log line.
fn assert_own_delivery_row(before: &State, after: &State, req: &Req, status: u16) {
    let rows = new_deliveries(before, after);
    let (source, id_header) = match req.hook {
        Hook::Sentry => ("sentry", "Request-ID"),
        Hook::Github => ("github", "X-GitHub-Delivery"),
    };
    if req.hook == Hook::Github && status == 401 {
        assert!(rows.is_empty(), "an unauthenticated GitHub request was recorded: {rows:?}");
        return;
    }
    assert_eq!(rows.len(), 1, "expected one delivery-log row, got {rows:?}");
    let row = &rows[0];
    assert_eq!(row["source"], source, "{row}");
    assert_eq!(row["status"].as_f64(), Some(status as f64), "{row}");
    // Two values of one header reach the worker joined with ", ".
    let values: Vec<&str> =
        req.headers.iter().filter(|(k, _)| k.eq_ignore_ascii_case(id_header)).map(|(_, v)| v.as_str()).collect();
    if !values.is_empty() {
        assert_eq!(row["request_id"], values.join(", "), "{row}");
    }
}

// ------------------------------------------------------------------- table

type Check = Box<dyn Fn(&App, &State, &Req, &Reply)>;

enum Expect {
    /// Rejected or ignored: nothing but the delivery-log row.
    Nothing,
    /// Same, then a follow-up (e.g. a good request that must still work).
    NothingThen(Check),
    /// Accepted: the check asserts what was written.
    Check(Check),
}

struct Case {
    name: String,
    req: Req,
    status: u16,
    /// A string of this case only; for `Nothing` cases it must never
    /// appear in any stored state.
    marker: String,
    expect: Expect,
}

fn case(name: &str, marker: &str, req: Req, status: u16, expect: Expect) -> Case {
    Case { name: name.to_string(), req, status, marker: marker.to_string(), expect }
}

/// A good Sentry delivery after a hostile one: the worker still answers.
fn still_serves(id: &'static str) -> Check {
    Box::new(move |app, _, _, _| {
        let r = sentry("issue", issue(id)).send(app);
        assert_eq!(r.status, 200, "the worker no longer serves: {}", r.body);
        assert!(app.item(id).is_some(), "the good delivery after it wrote no card");
    })
}

/// The card `id` exists, with `title`.
fn card_written(id: &'static str) -> Check {
    Box::new(move |app, _, _, _| {
        let c = app.item(id).unwrap_or_else(|| panic!("no card {id}"));
        assert_eq!(c["title"], format!("Hostile {id}"));
    })
}

/// A good issue body padded with trailing spaces to exactly `len` bytes.
fn padded_issue(id: &str, len: usize) -> Vec<u8> {
    let mut b = issue(id);
    assert!(b.len() <= len);
    b.resize(len, b' ');
    b
}

/// Every text field of an issue (and its assignee) set to `s`.
fn sql_issue(id: &str, s: &str) -> Value {
    let mut v = issue_json("assigned", id, s);
    let who = json!({"type": "user", "id": s, "name": s, "email": s});
    let i = &mut v["data"]["issue"];
    i["shortId"] = json!(s);
    i["culprit"] = json!(s);
    i["platform"] = json!(s);
    i["substatus"] = json!(s);
    i["permalink"] = json!(s);
    i["count"] = json!(s);
    i["project"] = json!({"id": "1", "slug": s, "name": s});
    i["assignedTo"] = who.clone();
    v["data"]["assignee"] = who;
    v
}

fn comment(id: &str, comment_id: u64, text: &str, author: &str) -> Vec<u8> {
    json!({"action": "created", "installation": {"uuid": "hostile-inst"},
        "data": {"comment": text, "project_slug": text, "comment_id": comment_id, "issue_id": id,
            "timestamp": "2026-11-30T10:00:00Z"},
        "actor": {"type": "user", "id": 1, "name": author}})
    .to_string()
    .into_bytes()
}

fn error_event(event_id: &str, issue_id: &str, title: &str) -> Vec<u8> {
    json!({"action": "created", "installation": {"uuid": "hostile-inst"},
        "data": {"error": {"event_id": event_id, "issue_id": issue_id, "title": title, "culprit": title,
            "level": "error", "platform": "python", "project": 1, "datetime": "2026-11-30T10:00:00Z",
            "web_url": "https://sentry.example/e/", "tags": [["environment", title]], "skipped": "not read"}}})
    .to_string()
    .into_bytes()
}

fn sql_checks(id: &'static str, s: &'static str) -> Check {
    Box::new(move |app, _, _, _| {
        let c = app.item(id).unwrap_or_else(|| panic!("no card {id}"));
        for field in
            ["title", "short_id", "culprit", "platform", "substatus", "permalink", "count", "project", "project_name"]
        {
            assert_eq!(c[field], s, "{field} not stored verbatim: {c}");
        }
        for field in ["id", "name", "email"] {
            assert_eq!(c["assignee"][field], s, "assignee.{field} not stored verbatim: {c}");
        }
        assert_eq!(c["column"], "DOING");
    })
}

fn github_events(app: &App) -> Vec<Value> {
    get(app, "/api/github/sync")["events"].as_array().cloned().unwrap_or_default()
}

const S_SIG: &str = "Sentry-Hook-Signature";
const G_SIG: &str = "X-Hub-Signature-256";

fn cases() -> Vec<Case> {
    use Expect::*;
    let zeros = "0".repeat(64);
    // One good body per endpoint for the signature-format rows.
    let (si, gt) = (issue("880060"), team("created", 880070, "hx880070"));
    let (s_hex, g_hex) = (sentry_sig(&si), github_sig(&gt)[7..].to_string());
    let s_signed = |sig: &str| sentry("issue", si.clone()).signature(sig);
    let g_signed = |sig: &str| github("team", "hx880070", gt.clone()).signature(sig);
    let replay = issue("880080");
    let replay_team = team("created", 880081, "hostile-replay-team");
    let later = (now_secs().parse::<i64>().unwrap() + 5).to_string();
    let deep = nested(10_000);
    let num = |id: &str, to: &str| edited(issue(id), &format!(r#""id":"{id}""#), &format!(r#""id":{to}"#));
    let team_num =
        |id: u64, to: &str| edited(team("created", id, &format!("hx{id}")), &format!("{id},"), &format!("{to},"));
    let form = format!("payload={}", String::from_utf8(issue("880033")).unwrap().replace('"', "%22"));
    let gh_form = format!("payload={}", String::from_utf8(team("created", 880034, "hx880034")).unwrap());
    let membership = |delivery: &str, scope: &str, login: &str, team: u64, slug: &str| {
        let body = json!({"action": "added", "scope": scope, "member": {"login": login},
            "team": {"id": team, "slug": slug}});
        github("membership", delivery, body.to_string())
    };
    Vec::from([
        // ---- empty bodies
        case("sentry: empty body, unsigned", "880001", sentry("issue", vec![]).without(S_SIG), 401, Nothing),
        case("sentry: empty body, signed", "880002", sentry("issue", vec![]), 400, Nothing),
        case("sentry: empty body, signed, error resource", "880003", sentry("error", vec![]), 400, Nothing),
        case(
            "github: empty body, unsigned",
            "hx880004",
            github("team", "hx880004", vec![]).without(G_SIG),
            401,
            Nothing,
        ),
        case("github: empty body, signed", "hx880005", github("team", "hx880005", vec![]), 400, Nothing),
        // ---- size: the limit is 1 MiB, inclusive
        case(
            "sentry: 1 MiB + 1 byte (declared)",
            "880041",
            sentry("issue", padded_issue("880041", MIB + 1)),
            413,
            Nothing,
        ),
        case(
            "sentry: 1 MiB + 1 byte (chunked)",
            "880041",
            sentry("issue", padded_issue("880041", MIB + 1)).chunked(),
            413,
            Nothing,
        ),
        case(
            "sentry: exactly 1 MiB is accepted",
            "",
            sentry("issue", padded_issue("880042", MIB)),
            200,
            Check(card_written("880042")),
        ),
        case(
            "github: 1 MiB + 1 byte (declared)",
            "hx880043",
            github("team", "hx880043", padded_team(880043, MIB + 1)),
            413,
            Nothing,
        ),
        case(
            "github: 1 MiB + 1 byte (chunked)",
            "hx880044",
            github("team", "hx880044", padded_team(880044, MIB + 1)).chunked(),
            413,
            Nothing,
        ),
        // ---- invalid UTF-8, signed correctly
        case(
            "sentry: invalid UTF-8 in the title",
            "880010",
            sentry("issue", bad_utf8(issue("880010"), "title")),
            400,
            Nothing,
        ),
        case(
            "sentry: invalid UTF-8 in a skipped field",
            "880009",
            sentry("issue", bad_utf8(issue("880009"), "skipped")),
            400,
            Nothing,
        ),
        case(
            "sentry: invalid UTF-8 in a skipped field of an error event",
            "880011",
            sentry("error", bad_utf8(error_event("hx880011", "880011", "t"), "skipped")),
            400,
            Nothing,
        ),
        case(
            "github: invalid UTF-8 in the slug",
            "hx880012",
            github("team", "hx880012", bad_utf8(team("created", 880012, "hx880012"), "slug")),
            400,
            Nothing,
        ),
        case(
            "github: invalid UTF-8 in a skipped field",
            "hx880013",
            github("team", "hx880013", bad_utf8(team("created", 880013, "hx880013"), "login")),
            400,
            Nothing,
        ),
        // ---- deeply nested JSON: no crash, and the next request is served
        case(
            "sentry: 10,000 levels of [",
            "880014",
            sentry("issue", deep.clone()),
            400,
            NothingThen(still_serves("880015")),
        ),
        case(
            "sentry: 10,000 unclosed [",
            "880016",
            sentry("issue", "[".repeat(10_000)),
            400,
            NothingThen(still_serves("880017")),
        ),
        case(
            "sentry: 10,000 levels inside data.issue",
            "880018",
            sentry("issue", format!(r#"{{"action":"created","data":{{"issue":{{"id":"880018","x":{deep}}}}}}}"#)),
            400,
            NothingThen(still_serves("880019")),
        ),
        case(
            "sentry: 10,000 levels, error resource",
            "880020",
            sentry("error", deep.clone()),
            400,
            NothingThen(still_serves("880021")),
        ),
        case(
            "github: 10,000 levels of [",
            "hx880022",
            github("team", "hx880022", deep.clone()),
            400,
            NothingThen(still_serves("880023")),
        ),
        case(
            "github: 10,000 levels in a skipped field of an ignored event",
            "hx880024",
            github("push", "hx880024", format!(r#"{{"ref":"refs/heads/hx880024","commits":{deep}}}"#)),
            200,
            NothingThen(still_serves("880025")),
        ),
        // ---- huge numbers: ids are strings or integers that fit 64 bits
        case("sentry: issue id 1e400", "880026", sentry("issue", num("880026", "1e400")), 400, Nothing),
        case(
            "sentry: issue id 18446744073709551616",
            "880027",
            sentry("issue", num("880027", "18446744073709551616")),
            400,
            Nothing,
        ),
        case("sentry: issue id 880028.5", "880028", sentry("issue", num("880028", "880028.5")), 400, Nothing),
        case(
            "sentry: count 1e400",
            "880029",
            sentry("issue", edited(issue("880029"), r#""count":"1""#, r#""count":1e400"#)),
            400,
            Nothing,
        ),
        case(
            "sentry: huge counts as strings are kept verbatim",
            "",
            sentry("issue", huge_counts("880030")),
            200,
            Check(huge_counts_kept("880030")),
        ),
        case("github: team id 1e400", "hx880031", github("team", "hx880031", team_num(880031, "1e400")), 400, Nothing),
        case(
            "github: team id 18446744073709551616",
            "hx880032",
            github("team", "hx880032", team_num(880032, "18446744073709551616")),
            400,
            Nothing,
        ),
        // ---- content type: Sentry's is not consulted (the signed raw body
        // must be JSON); GitHub's must be JSON
        case(
            "sentry: text/plain, signed JSON body",
            "",
            sentry("issue", issue("880035")).set("Content-Type", "text/plain"),
            200,
            Check(card_written("880035")),
        ),
        case("sentry: form encoding", "880033", sentry("issue", form).set("Content-Type", FORM), 400, Nothing),
        case(
            "github: form encoding",
            "hx880034",
            github("team", "hx880034", gh_form).set("Content-Type", FORM),
            415,
            Nothing,
        ),
        case(
            "github: text/plain, JSON body",
            "hx880036",
            github("team", "hx880036", team("created", 880036, "hx880036")).set("Content-Type", "text/plain"),
            415,
            Nothing,
        ),
        // ---- duplicated headers: a signature is taken only when unambiguous
        case(
            "sentry: two Sentry-Hook-Signature values, good then bad",
            "880050",
            sentry("issue", issue("880050")).add(S_SIG, &zeros),
            401,
            Nothing,
        ),
        case(
            "sentry: two Sentry-Hook-Signature values, bad then good",
            "880051",
            bad_then_good(sentry("issue", issue("880051")), S_SIG),
            401,
            Nothing,
        ),
        case(
            "sentry: the same good Sentry-Hook-Signature twice",
            "880052",
            good_twice(sentry("issue", issue("880052")), S_SIG),
            401,
            Nothing,
        ),
        case(
            "sentry: good Hook, different App signature",
            "880053",
            sentry("issue", issue("880053")).set("Sentry-App-Signature", &zeros),
            401,
            Nothing,
        ),
        case("sentry: bad Hook, good App signature", "880054", hook_bad_app_good(issue("880054")), 401, Nothing),
        case(
            "sentry: two Sentry-Hook-Resource values",
            "880055",
            sentry("issue", issue("880055")).add("Sentry-Hook-Resource", "issue"),
            200,
            Nothing,
        ),
        case(
            "github: two X-Hub-Signature-256 values, good then bad",
            "hx880056",
            github("team", "hx880056", team("created", 880056, "hx880056")).add(G_SIG, &format!("sha256={zeros}")),
            401,
            Nothing,
        ),
        case(
            "github: two X-Hub-Signature-256 values, bad then good",
            "hx880057",
            bad_then_good(github("team", "hx880057", team("created", 880057, "hx880057")), G_SIG),
            401,
            Nothing,
        ),
        case(
            "github: two X-GitHub-Delivery values",
            "hx880058",
            github("team", "hx880058", team("created", 880058, "hx880058")).add("X-GitHub-Delivery", "hx880058-b"),
            400,
            Nothing,
        ),
        case(
            "github: two X-GitHub-Event values",
            "hx880059",
            github("team", "hx880059", team("created", 880059, "hx880059")).add("X-GitHub-Event", "team"),
            200,
            Nothing,
        ),
        // ---- signature formats and secrets
        case("sentry: sha256= prefix", "880060", s_signed(&format!("sha256={s_hex}")), 401, Nothing),
        case("sentry: uppercase hex", "880060", s_signed(&s_hex.to_uppercase()), 401, Nothing),
        case("sentry: base64", "880060", s_signed(&base64(&hex_bytes(&s_hex))), 401, Nothing),
        case("sentry: truncated to 63 hex digits", "880060", s_signed(&s_hex[..63]), 401, Nothing),
        case("sentry: truncated to 32 hex digits", "880060", s_signed(&s_hex[..32]), 401, Nothing),
        case("sentry: wrong secret", "880060", s_signed(&sign_hex(b"not-the-secret", &si)), 401, Nothing),
        case("github: bare hex (no sha256=)", "hx880070", g_signed(&g_hex), 401, Nothing),
        case("github: uppercase hex", "hx880070", g_signed(&format!("sha256={}", g_hex.to_uppercase())), 401, Nothing),
        case("github: SHA256= prefix", "hx880070", g_signed(&format!("SHA256={g_hex}")), 401, Nothing),
        case("github: base64", "hx880070", g_signed(&format!("sha256={}", base64(&hex_bytes(&g_hex)))), 401, Nothing),
        case("github: truncated", "hx880070", g_signed(&format!("sha256={}", &g_hex[..63])), 401, Nothing),
        case(
            "github: sha1= (the old header's format)",
            "hx880070",
            g_signed(&format!("sha1={}", &g_hex[..40])),
            401,
            Nothing,
        ),
        case(
            "github: wrong secret",
            "hx880070",
            g_signed(&format!("sha256={}", sign_hex(b"not-the-secret", &gt))),
            401,
            Nothing,
        ),
        // ---- replays
        case("sentry: replay, first delivery", "", sentry("issue", replay.clone()), 200, Check(card_written("880080"))),
        case(
            "sentry: replay, verbatim",
            "",
            sentry("issue", replay.clone()),
            200,
            Check(duplicate_changed_nothing("880080")),
        ),
        case(
            "sentry: replay, newer timestamp",
            "",
            sentry("issue", replay).set("Sentry-Hook-Timestamp", &later),
            200,
            Check(duplicate_changed_nothing("880080")),
        ),
        case(
            "github: replay, first delivery",
            "",
            github("team", "hx880081", replay_team.clone()),
            200,
            Check(team_created_once()),
        ),
        case(
            "github: replay, same delivery id",
            "",
            github("team", "hx880081", replay_team),
            200,
            Check(team_replay_repeats_nothing()),
        ),
        // ---- unknown resources, actions and events: 200, nothing written
        case(
            "sentry: unknown resource",
            "880090",
            sentry("seer", r#"{"action":"root_cause_started","data":{"run_id":880090}}"#),
            200,
            Nothing,
        ),
        case(
            "sentry: missing Sentry-Hook-Resource",
            "880091",
            sentry("issue", issue("880091")).without("Sentry-Hook-Resource"),
            200,
            Nothing,
        ),
        case(
            "sentry: unknown issue action",
            "880092",
            sentry("issue", issue_json("exploded", "880092", "x").to_string()),
            200,
            Nothing,
        ),
        case(
            "sentry: SQL as the resource",
            "880093",
            sentry(SQL_1, issue("880093")),
            200,
            Check(logged_verbatim("resource", SQL_1)),
        ),
        case(
            "sentry: SQL as the Request-ID",
            "880094",
            sentry("seer", "{}").set("Request-ID", SQL_2),
            200,
            Check(logged_verbatim("request_id", SQL_2)),
        ),
        case(
            "github: unknown event",
            "hx880095",
            github("push", "hx880095", r#"{"ref":"refs/heads/hx880095"}"#),
            200,
            Nothing,
        ),
        case("github: ping", "hx880096", github("ping", "hx880096", r#"{"zen":"hx880096","hook_id":1}"#), 200, Nothing),
        case(
            "github: unknown team action",
            "hx880097",
            github("team", "hx880097", team("added_to_repository", 880097, "hx880097")),
            200,
            Nothing,
        ),
        case(
            "github: organization-scoped membership",
            "hx880098",
            membership("hx880098", "organization", "hx880098", 880098, "hx880098"),
            200,
            Nothing,
        ),
        case(
            "github: SQL as the event",
            "hx880099",
            github(SQL_1, "hx880099", team("created", 880099, "hx880099")),
            200,
            Nothing,
        ),
        // ---- SQL-looking text: stored verbatim, never executed
        case(
            "sentry: SQL in every issue field (1)",
            "",
            sentry("issue", sql_issue("880100", SQL_1).to_string()),
            200,
            Check(sql_checks("880100", SQL_1)),
        ),
        case(
            "sentry: SQL in every issue field (2)",
            "",
            sentry("issue", sql_issue("880101", SQL_2).to_string()),
            200,
            Check(sql_checks("880101", SQL_2)),
        ),
        case(
            "sentry: SQL in a comment",
            "",
            sentry("comment", comment("880100", 880102, SQL_2, SQL_1)),
            200,
            Check(sql_comment_stored("880100")),
        ),
        case(
            "sentry: SQL in an error event",
            "",
            sentry("error", error_event("hx880103", "880103", SQL_1)),
            200,
            Check(sql_error_group("880103")),
        ),
        case(
            "github: SQL as the team slug",
            "hx880104",
            github("team", "hx880104", team("created", 880104, SQL_1)),
            400,
            Nothing,
        ),
        case(
            "github: SQL as the delivery id",
            "hx880105",
            github("team", SQL_2, team("created", 880105, "hx880105")),
            400,
            Nothing,
        ),
        case(
            "github: SQL as the member login",
            "",
            membership("hx880106", "team", SQL_1, 880106, "hostile-sql-member"),
            200,
            Check(sql_login_is_no_login("hx880106")),
        ),
        // ---- HTML/JS in titles: stored verbatim, served as JSON, never in a page
        case(
            "sentry: <script> title",
            "",
            sentry("issue", issue_json("created", "880110", XSS_1).to_string()),
            200,
            Check(html_checks("880110", XSS_1)),
        ),
        case(
            "sentry: <img onerror> title",
            "",
            sentry("issue", issue_json("created", "880111", XSS_2).to_string()),
            200,
            Check(html_checks("880111", XSS_2)),
        ),
    ])
}

const FORM: &str = "application/x-www-form-urlencoded";

fn padded_team(id: u64, len: usize) -> Vec<u8> {
    let mut b = team("created", id, &format!("hx{id}"));
    b.resize(len, b' ');
    b
}

/// A wrong value first, then the good one, under the same header name.
fn bad_then_good(req: Req, header: &str) -> Req {
    let good = req.header(header).unwrap().to_string();
    let bad = if good.starts_with("sha256=") { format!("sha256={}", "0".repeat(64)) } else { "0".repeat(64) };
    req.set(header, &bad).add(header, &good)
}

fn good_twice(req: Req, header: &str) -> Req {
    let good = req.header(header).unwrap().to_string();
    req.add(header, &good)
}

fn hook_bad_app_good(body: Vec<u8>) -> Req {
    let good = sentry_sig(&body);
    sentry("issue", body).set(S_SIG, &"0".repeat(64)).set("Sentry-App-Signature", &good)
}

fn huge_counts(id: &str) -> Vec<u8> {
    let b = edited(issue(id), r#""count":"1""#, r#""count":"184467440737095516161844674407370955161""#);
    edited(b, r#""userCount":1"#, r#""userCount":18446744073709551616"#)
}

fn huge_counts_kept(id: &'static str) -> Check {
    Box::new(move |app, _, _, _| {
        let c = app.item(id).unwrap_or_else(|| panic!("no card {id}"));
        assert_eq!(c["count"], "184467440737095516161844674407370955161");
        assert_eq!(c["user_count"], Value::Null, "a user count past i64 is dropped, not wrapped");
    })
}

fn team_created_once() -> Check {
    Box::new(|app, _, _, _| {
        app.wait_for("the team created in Sentry", Duration::from_secs(30), || {
            (team_posts(app, "hostile-replay-team") >= 1).then_some(())
        });
        app.wait_for("the event done", Duration::from_secs(30), || {
            github_events(app).iter().find(|e| e["delivery"] == "hx880081" && e["status"] == "done").map(|_| ())
        });
    })
}

fn team_replay_repeats_nothing() -> Check {
    Box::new(|app, before, req, reply| {
        assert_eq!(reply.json()["duplicate"], true, "{}", reply.body);
        std::thread::sleep(Duration::from_secs(3));
        assert_eq!(team_posts(app, "hostile-replay-team"), 1, "the replay created the team again");
        assert_nothing_written(before, &state(app), req, 200);
    })
}

/// Ignored (200, nothing written), and the header is in the delivery log as sent.
fn logged_verbatim(column: &'static str, value: &'static str) -> Check {
    Box::new(move |app, before, req, _| {
        let after = state(app);
        assert_nothing_written(before, &after, req, 200);
        assert_eq!(new_deliveries(before, &after)[0][column], value, "{column} is logged verbatim");
    })
}

fn sql_comment_stored(id: &'static str) -> Check {
    Box::new(move |app, _, _, _| {
        let c = app.item(id).unwrap_or_else(|| panic!("no card {id}"));
        let comments = c["comments"].as_array().cloned().unwrap_or_default();
        assert_eq!(comments.len(), 1, "{c}");
        assert_eq!((comments[0]["text"].as_str(), comments[0]["author"].as_str()), (Some(SQL_2), Some(SQL_1)));
    })
}

fn sql_error_group(issue_id: &'static str) -> Check {
    Box::new(move |app, _, _, _| {
        let group = app.wait_for("the error group", Duration::from_secs(30), || {
            let r = app.request("GET", &format!("/api/errors/{issue_id}"), &[], b"");
            (r.status == 200).then(|| r.json())
        });
        assert_eq!(group["group"]["title"], SQL_1, "{group}");
        assert_eq!(group["group"]["culprit"], SQL_1, "{group}");
    })
}

/// A login that is not a GitHub login is no member: recorded as a noop,
/// no API called with it.
fn sql_login_is_no_login(delivery: &'static str) -> Check {
    Box::new(move |app, before, _, reply| {
        assert_eq!(reply.json()["outcome"], "noop", "{}", reply.body);
        std::thread::sleep(Duration::from_secs(1));
        let calls = &app.mock.calls()[before.calls.len()..];
        assert!(calls.is_empty(), "a login that is not a login reached an API: {calls:?}");
        let e = github_events(app).into_iter().find(|e| e["delivery"] == delivery).expect("event recorded");
        assert_eq!((e["status"].as_str(), e["login"].as_str()), (Some("noop"), None), "{e}");
    })
}

/// `body` with one literal replaced (to put a raw number where JSON has a string).
fn edited(body: Vec<u8>, from: &str, to: &str) -> Vec<u8> {
    let s = String::from_utf8(body).unwrap();
    assert!(s.contains(from), "{from} not in {s}");
    s.replacen(from, to, 1).into_bytes()
}

fn hex_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len() / 2).map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap()).collect()
}

fn team_posts(app: &App, slug: &str) -> usize {
    let path = format!("/api/0/organizations/{INTERNAL_ORG}/teams/");
    app.mock.calls().iter().filter(|c| c.method == "POST" && c.path == path && c.body.contains(slug)).count()
}

fn duplicate_changed_nothing(id: &'static str) -> Check {
    Box::new(move |app, before, req, reply| {
        assert_eq!(reply.json()["duplicate"], true, "{}", reply.body);
        let after = state(app);
        assert_nothing_written(before, &after, req, 200);
        assert_eq!(new_deliveries(before, &after)[0]["verdict"], "duplicate");
        assert!(app.item(id).is_some());
    })
}

fn html_checks(id: &'static str, title: &'static str) -> Check {
    Box::new(move |app, _, _, _| {
        let r = app.request("GET", "/api/items", &[], b"");
        let ct = App::header(&r, "Content-Type").unwrap_or("");
        assert!(ct.starts_with("application/json"), "the API answers JSON, not HTML: {ct}");
        let c = app.item(id).unwrap_or_else(|| panic!("no card {id}"));
        assert_eq!(c["title"], title, "the title is stored and served verbatim");
        for page in ["/", "/errors", "/deliveries", "/board.js", "/dom.js"] {
            let p = app.request("GET", page, &[], b"");
            assert_eq!(p.status, 200, "{page}");
            assert!(
                !p.body.contains(title) && !p.body.contains(id),
                "{page} has the title in it: the pages must be static"
            );
        }
    })
}

// ------------------------------------------------------------------- tests

#[test]
fn hostile_input_gets_its_documented_status_and_writes_nothing_it_should_not() {
    let app = hostile();
    let cases = cases();
    let mut failures = Vec::new();
    let mut rejected_markers = Vec::new();
    for (n, c) in cases.into_iter().enumerate() {
        let mut req = c.req;
        if req.hook == Hook::Sentry && req.header("Request-ID").is_none() {
            req = req.set("Request-ID", &format!("hostile-{n:03}"));
        }
        let before = state(app);
        let result = catch_unwind(AssertUnwindSafe(|| {
            let reply = req.send(app);
            assert_eq!(reply.status, c.status, "status; body: {}", reply.body);
            match &c.expect {
                Expect::Nothing | Expect::NothingThen(_) => {
                    assert_nothing_written(&before, &state(app), &req, c.status);
                }
                Expect::Check(_) => {}
            }
            match &c.expect {
                Expect::Nothing => {}
                Expect::NothingThen(check) | Expect::Check(check) => {
                    check(app, &before, &req, &reply);
                    // What it queued has landed before the next snapshot.
                    settle(app);
                }
            }
        }));
        if let Err(e) = result {
            let msg = e.downcast_ref::<String>().cloned().or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()));
            failures.push(format!("[{n}] {}: {}", c.name, msg.unwrap_or_default()));
        }
        if matches!(c.expect, Expect::Nothing | Expect::NothingThen(_)) && !c.marker.is_empty() {
            rejected_markers.push((c.name, c.marker));
        }
    }
    // Let the queue drain (error events, team jobs), then sweep: no rejected
    // case's marker anywhere in stored state or the mock's calls.
    std::thread::sleep(Duration::from_secs(2));
    settle(app);
    let s = state(app);
    let stored = format!("{} {} {} {} {}", s.items, s.errors, s.github, s.jobs, s.installations);
    let calls = format!("{:?}", s.calls);
    for (name, marker) in &rejected_markers {
        if stored.contains(marker.as_str()) || calls.contains(marker.as_str()) {
            failures.push(format!("{name}: its marker {marker} reached stored state or an API call"));
        }
    }
    // The tables are all still there: every list answers and a card can be made.
    let r = sentry("issue", issue("880199")).set("Request-ID", "hostile-final").send(app);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(app.item("880199").is_some());
    for path in ["/api/items", "/api/errors", "/api/deliveries", "/api/github/sync", "/api/jobs", "/api/installations"]
    {
        get(app, path);
    }
    assert!(failures.is_empty(), "{} case(s) failed:\n{}", failures.len(), failures.join("\n\n"));
}

/// The pages put text on the page only through `textContent`: nothing in
/// `public/` parses strings as HTML, so a hostile title stays text.
#[test]
fn the_pages_never_parse_data_as_html() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("public");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("js") {
            continue;
        }
        let src = std::fs::read_to_string(&path).unwrap();
        for sink in ["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"] {
            assert!(!src.contains(sink), "{} uses {sink}", path.display());
        }
    }
}
