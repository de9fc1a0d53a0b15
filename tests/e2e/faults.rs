//! End to end: the mock Sentry and GitHub APIs misbehave in every way a
//! network can — 5xx, 429 with `Retry-After`, no answer within the worker's
//! deadline (`SENTRY_HTTP_TIMEOUT_MS` is 1500 in e2e), a 2xx whose body is
//! not JSON, a connection closed without an answer — against the queue jobs
//! the other e2e files cover only in part: the token exchange, verify and
//! member sync, the board's write-back, the cron sync's pages and the GitHub
//! team sync. Each job retries with backoff (1 s doubling to 2 s in e2e;
//! longer when asked), converges once the mock recovers, and a message that
//! never succeeds ends in the dead-letter queue, visibly.
//!
//! A dropped connection surfaces in the worker as `Network connection
//! lost.`; workerd resends a GET at once (once) when the dropped connection
//! was a reused keep-alive one, so a dropped GET may cost no job attempt.

use crate::app;
use crate::mock;

use crate::scenario::Scenario;
use app::{spawn_app, App, GITHUB_SECRET, INTERNAL_ORG, INTERNAL_TOKEN};
use mock::{Call, Canned};
use serde_json::{json, Value};
use std::sync::{Mutex, MutexGuard};

/// This module's worker, default settings (its scenario group).
fn app() -> &'static App {
    static APP: Scenario = Scenario::new(module_path!(), app::spawn_default);
    APP.app()
}
use std::time::Duration;

const CRON: &str = "e2e-faults-cron";
const ADMIN: &str = "e2e-faults-admin";
const FAR_FUTURE: &str = "2099-01-01T00:00:00.000000Z";
/// A 2xx whose body was cut short in transit.
const TRUNCATED: &str = r#"[{"id":"1","email":"cut@exa"#;
/// A 2xx that is not JSON at all (a proxy's error page).
const HTML: &str = "<html><body>502 Bad Gateway</body></html>";

/// Internal-integration mode: write-back, cron sync and GitHub team sync.
fn internal() -> &'static App {
    static APP: Scenario = Scenario::new(module_path!(), || {
        spawn_app(&[
            ("SENTRY_AUTH_TOKEN", INTERNAL_TOKEN),
            ("SENTRY_ORG_SLUG", INTERNAL_ORG),
            ("CRON_SECRET", CRON),
            ("GITHUB_WEBHOOK_SECRET", GITHUB_SECRET),
            // Organization-verified emails are read through GraphQL, which needs a token.
            ("GITHUB_TOKEN", "e2e-github-token"),
            ("ADMIN_TOKEN", ADMIN),
        ])
    });
    APP.app()
}

fn calls(app: &App, method: &str, prefix: &str) -> Vec<Call> {
    app.mock.calls().into_iter().filter(|c| c.method == method && c.path.starts_with(prefix)).collect()
}

/// Seconds between consecutive calls.
fn gaps(calls: &[Call]) -> Vec<f64> {
    calls.windows(2).map(|w| w[1].at.duration_since(w[0].at).as_secs_f64()).collect()
}

/// The `job` log lines the consumer wrote for jobs of `kind` whose error mentions `needle`.
fn job_errors(app: &App, kind: &str, needle: &str) -> Vec<String> {
    app.log_text()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l.trim()).ok())
        .filter(|v| v["event"] == "job" && v["kind"] == kind)
        .filter_map(|v| v["error"].as_str().map(str::to_string))
        .filter(|e| e.contains(needle))
        .collect()
}

fn job(app: &App, kind: &str, installation: &str) -> Option<Value> {
    app.list("/api/jobs", "jobs").into_iter().find(|j| j["kind"] == kind && j["installation"] == installation)
}

// ---- Installation: exchange, verify, member sync ---------------------------------

fn installation_body(uuid: &str, org: &str, actor: &str) -> String {
    json!({"action": "created", "actor": {"id": 1, "name": actor, "type": "user"},
        "data": {"installation": {"status": "pending", "organization": {"slug": org, "id": 5},
            "app": {"uuid": "2ebf071f", "slug": "kanban"}, "code": format!("grant-{uuid}"), "uuid": uuid}},
        "installation": {"uuid": uuid}})
    .to_string()
}

fn token_json(token: &str) -> String {
    json!({"id": "38", "token": token, "refreshToken": format!("r-{token}"), "expiresAt": FAR_FUTURE}).to_string()
}

fn auth_path(uuid: &str) -> String {
    format!("/api/0/sentry-app-installations/{uuid}/authorizations/")
}

fn verify_path(uuid: &str) -> String {
    format!("/api/0/sentry-app-installations/{uuid}/")
}

fn members_path(org: &str) -> String {
    format!("/api/0/organizations/{org}/members/")
}

const MEMBERS: &str = r#"[{"id":"101","email":"alice@example.com","name":"Alice","user":{"id":"7","name":"Alice"}},{"id":"102","email":"bob@example.com","name":"","user":null}]"#;

#[test]
fn installation_jobs_ride_out_dropped_connections_hangs_and_unreadable_bodies() {
    let (a, uuid, org) = (app(), "faults-inst-1", "faults-org-1");
    // Exchange: the connection drops, then a 201 whose body is cut short,
    // then the token.
    a.mock.reply_once(Canned::drop_connection("POST", &auth_path(uuid)));
    a.mock.reply_once(Canned::new("POST", &auth_path(uuid), 201, r#"{"id":"38","token":"tok-f1","refre"#));
    a.mock.reply_once(Canned::new("POST", &auth_path(uuid), 201, &token_json("tok-f1")));
    // Verify: no answer within the deadline, then a 502.
    a.mock.reply_once(Canned::new("PUT", &verify_path(uuid), 200, "{}").delayed(4000));
    a.mock.reply_once(Canned::new("PUT", &verify_path(uuid), 502, "bad gateway"));
    // Members: a 429 asking for 3 s, a dropped connection, an HTML page, then the list.
    a.mock.reply_once(Canned::new("GET", &members_path(org), 429, r#"{"detail":"slow"}"#).header("Retry-After", "3"));
    a.mock.reply_once(Canned::drop_connection("GET", &members_path(org)));
    a.mock.reply_once(Canned::new("GET", &members_path(org), 200, HTML));
    a.mock.route(Canned::new("GET", &members_path(org), 200, MEMBERS));

    assert_eq!(a.send_sentry("installation", &installation_body(uuid, org, "Meredith")).status, 200);
    a.wait_for("the installation installed with 2 members", Duration::from_secs(90), || {
        a.installation(uuid).filter(|i| i["status"] == "installed" && i["members"] == 2)
    });

    let exchange = calls(a, "POST", &auth_path(uuid));
    assert_eq!(exchange.len(), 3, "drop, truncated, success: {exchange:#?}");
    let verify: Vec<Call> = calls(a, "PUT", &verify_path(uuid));
    assert_eq!(verify.len(), 3, "hang, 502, success: {verify:#?}");
    let members = calls(a, "GET", &members_path(org));
    assert_eq!(members.len(), 4, "429, drop, HTML, success: {members:#?}");
    for c in verify.iter().chain(&members) {
        let auth = c.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("Authorization")).map(|(_, v)| v.as_str());
        assert_eq!(auth, Some("Bearer tok-f1"), "only the token that arrived whole is used");
    }
    // Backoff: 1 s then 2 s (capped) in e2e; the 429's 3 s win over 1 s.
    let g = gaps(&exchange);
    assert!(g[0] >= 0.9 && g[1] >= 1.9, "exchange retried too soon: {g:?}");
    let g = gaps(&verify);
    assert!(g[0] >= 1.5 + 0.9 && g[1] >= 1.9, "verify: the hang's 1.5 s deadline, then 1 s and 2 s: {g:?}");
    // workerd itself sends a GET again at once when a pooled keep-alive
    // connection closes before any answer (it cannot tell that from a
    // server closing an idle connection): then the drop costs no attempt.
    let g = gaps(&members);
    let resent_by_runtime = g[1] < 0.5;
    assert!(
        g[0] >= 2.9 && (resent_by_runtime || g[1] >= 1.9) && g[2] >= 1.9,
        "members: Retry-After 3, then 2 s: {g:?}"
    );
    let member_attempts = if resent_by_runtime { 3 } else { 4 };

    for (kind, attempts) in
        [("activate_installation", 3), ("verify_installation", 3), ("sync_members", member_attempts)]
    {
        let j = job(a, kind, uuid).unwrap_or_else(|| panic!("no {kind} job"));
        assert_eq!((j["status"].as_str(), j["attempts"].as_i64()), (Some("done"), Some(attempts)), "{kind}: {j}");
    }
    assert_eq!(a.installation(uuid).unwrap()["error"], Value::Null, "the error clears once the jobs succeed");
    // Each failure was seen for what it was.
    assert!(!job_errors(a, "activate_installation", "token exchange: request failed").is_empty());
    assert!(!job_errors(a, "activate_installation", "token exchange: unexpected body").is_empty());
    assert!(!job_errors(a, "verify_installation", "no answer within 1500 ms").is_empty());
    assert!(!job_errors(a, "sync_members", "list members: unexpected body").is_empty());
    // Both members were stored; the select offers Alice only: bob is a
    // pending invite, no longer offered under his email (issue 17.3).
    assert_eq!(a.installation(uuid).unwrap()["members"], 2);
    let users = a.send_ui("GET", &format!("/api/sentry/options/users?installationId={uuid}"), "", None);
    assert_eq!(users.json(), json!([{"label": "Alice", "value": "7"}]));
}

#[test]
fn a_member_list_that_is_never_readable_dies_visibly_and_a_later_sync_recovers() {
    let (a, uuid, org) = (app(), "faults-inst-2", "faults-org-2");
    a.mock.reply_once(Canned::new("POST", &auth_path(uuid), 201, &token_json("tok-f2")));
    a.mock.route(Canned::new("GET", &members_path(org), 200, TRUNCATED));
    assert_eq!(a.send_sentry("installation", &installation_body(uuid, org, "Meredith")).status, 200);
    let inst = a.wait_for("the member sync's death on the installation", Duration::from_secs(120), || {
        a.installation(uuid).filter(|i| i["error"].as_str().is_some_and(|e| e.contains("gave up")))
    });
    let error = inst["error"].as_str().unwrap();
    assert!(error.contains("sync_members gave up after 6 attempts") && error.contains("unexpected body"), "{error}");
    assert_eq!(calls(a, "GET", &members_path(org)).len(), 6, "one try and five retries");
    let dead = job(a, "sync_members", uuid).unwrap();
    assert_eq!((dead["status"].as_str(), dead["attempts"].as_i64()), (Some("dead"), Some(6)), "{dead}");
    let page = a.request("GET", &format!("/sentry/setup?installationId={uuid}&orgSlug={org}"), &[], b"");
    assert!(page.body.contains("gave up"), "the setup page shows it: {}", page.body);

    // Sentry answers again; a redelivered install (its body rebuilt) reruns
    // the sync without a second exchange, and the error clears.
    a.mock.unroute(&members_path(org), 200);
    a.mock.route(Canned::new("GET", &members_path(org), 200, MEMBERS));
    assert_eq!(a.send_sentry("installation", &installation_body(uuid, org, "Meredith H")).status, 200);
    a.wait_for("members after recovery", Duration::from_secs(60), || {
        a.installation(uuid).filter(|i| i["members"] == 2 && i["error"].is_null())
    });
    assert_eq!(calls(a, "POST", &auth_path(uuid)).len(), 1, "the grant code was spent once");
}

// ---- Write-back ------------------------------------------------------------------

fn issue(id: &str) -> String {
    json!({"action": "created", "installation": {"uuid": "faults-board"},
        "data": {"issue": {"id": id, "shortId": format!("FAULT-{id}"), "title": format!("Fault {id}"),
            "status": "unresolved", "level": "error", "project": {"id": "1", "slug": "web"}, "assignedTo": null}},
        "actor": {"type": "application", "id": "sentry", "name": "Sentry"}})
    .to_string()
}

fn issue_path(id: &str) -> String {
    format!("/api/0/organizations/{INTERNAL_ORG}/issues/{id}/")
}

fn move_card(a: &App, id: &str, body: &str) {
    let headers = [("Content-Type", "application/json"), ("Origin", a.base.as_str())];
    let r = a.request("POST", &format!("/api/items/{id}/actions"), &headers, body.as_bytes());
    assert_eq!(r.status, 202, "{}", r.body);
}

fn settled(a: &App, id: &str) -> Value {
    a.wait_for(&format!("card {id} written back"), Duration::from_secs(60), || {
        a.item(id).filter(|c| c["writeback"].is_null())
    })
}

#[test]
fn a_write_back_waits_out_retry_after_a_hang_and_a_dropped_connection() {
    let (a, id) = (internal(), "8801");
    assert_eq!(a.send_sentry("issue", &issue(id)).status, 200);
    a.mock.reply_once(Canned::new("PUT", &issue_path(id), 429, r#"{"detail":"slow"}"#).header("Retry-After", "3"));
    a.mock.reply_once(Canned::new("PUT", &issue_path(id), 200, "{}").delayed(4000));
    a.mock.reply_once(Canned::drop_connection("PUT", &issue_path(id)));
    a.mock.reply_once(Canned::new("PUT", &issue_path(id), 200, "not json, and nobody reads it"));
    move_card(a, id, r#"{"status":"resolved"}"#);
    let retrying = a.wait_for("the 429 on the card", Duration::from_secs(30), || {
        a.item(id).filter(|c| c["writeback"]["state"] == "retrying")
    });
    assert!(retrying["writeback"]["error"].as_str().unwrap_or("").contains("HTTP 429"), "{retrying}");
    assert_eq!(retrying["column"], "DONE", "the card stays where it was put meanwhile");
    let card = settled(a, id);
    assert_eq!((card["column"].as_str(), card["status"].as_str()), (Some("DONE"), Some("resolved")));
    let puts = calls(a, "PUT", &issue_path(id));
    assert_eq!(puts.len(), 4, "429, hang, drop, success: {puts:#?}");
    assert!(puts.iter().all(|c| c.body == r#"{"status":"resolved"}"#), "every attempt sends the same change");
    let g = gaps(&puts);
    assert!(g[0] >= 2.9, "Retry-After: 3 was honoured: {g:?}");
    assert!(g[1] >= 1.5 + 1.9 && g[2] >= 1.9, "the hang's deadline, then 2 s backoffs: {g:?}");
    assert!(!job_errors(a, "write_back", "update issue: no answer within 1500 ms").is_empty());
    assert!(!job_errors(a, "write_back", "update issue: request failed").is_empty());
}

#[test]
fn a_write_back_that_never_succeeds_is_dead_on_the_card_and_in_the_jobs() {
    let (a, id) = (internal(), "8802");
    assert_eq!(a.send_sentry("issue", &issue(id)).status, 200);
    a.mock.route(Canned::new("PUT", &issue_path(id), 500, r#"{"detail":"boom"}"#));
    move_card(a, id, r#"{"assignee":{"type":"user","id":"42","name":"Ann"}}"#);
    let card = a.wait_for("the dead write-back on the card", Duration::from_secs(120), || {
        a.item(id).filter(|c| c["writeback"]["state"] == "failed")
    });
    let error = card["writeback"]["error"].as_str().unwrap_or("");
    assert!(error.contains("write_back gave up after 6 attempts") && error.contains("HTTP 500"), "{card}");
    assert_eq!(card["column"], "DOING", "the board keeps the change it was asked for");
    assert_eq!(calls(a, "PUT", &issue_path(id)).len(), 6, "one try and five retries");
    let jobs = a.list("/api/jobs", "jobs");
    let dead = jobs.iter().find(|j| j["kind"] == "write_back" && j["status"] == "dead");
    let dead = dead.unwrap_or_else(|| panic!("no dead write_back job: {jobs:#?}"));
    assert_eq!(dead["attempts"], 6, "{dead}");
    assert!(dead["error"].as_str().unwrap_or("").contains("HTTP 500"), "the last error stays on the job: {dead}");
    // Sentry is back: moving the card again pushes the whole pending state.
    a.mock.unroute(&issue_path(id), 500);
    move_card(a, id, r#"{"status":"resolved"}"#);
    let card = settled(a, id);
    assert_eq!(card["column"], "DONE");
    let last = calls(a, "PUT", &issue_path(id)).pop().unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&last.body).unwrap(),
        json!({"status": "resolved", "assignedTo": "user:42"}),
        "the assignment that never got through goes with it"
    );
}

// ---- Cron sync -------------------------------------------------------------------

fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

const ISSUES: &str = "/api/0/organizations/internal-org/issues/?query=&statsPeriod=30d&limit=100";

fn page_path(page: usize) -> String {
    match page {
        0 => ISSUES.to_string(),
        n => format!("{ISSUES}&cursor=0%3A{}%3A0", n * 100),
    }
}

fn synced_issue(id: u32) -> Value {
    json!({"id": id.to_string(), "shortId": format!("FSYNC-{id}"), "title": format!("Fault synced {id}"),
        "status": "resolved", "level": "error", "project": {"id": "1", "slug": "app"}, "count": "3",
        "firstSeen": "2026-11-01T10:00:00Z", "lastSeen": "2026-11-20T10:00:00Z", "assignedTo": null})
}

/// `n` issues from `first`, 100 a page, with Sentry's `Link` header. Earlier
/// pages of these paths are replaced (the cron tests take turns).
fn serve_issues(a: &App, first: u32, n: u32) -> Vec<String> {
    for page in 0..10 {
        a.mock.unroute(&page_path(page), 200);
    }
    let ids: Vec<u32> = (first..first + n).collect();
    let pages: Vec<&[u32]> = ids.chunks(100).collect();
    // Longest paths first: the first page's path is a prefix of the others.
    for (p, chunk) in pages.iter().enumerate().rev() {
        let more = if p + 1 < pages.len() { "true" } else { "false" };
        let next = (p + 1) * 100;
        let link = format!(
            r#"<https://sentry.io{ISSUES}&cursor=0:{next}:0>; rel="next"; results="{more}"; cursor="0:{next}:0""#
        );
        let body = Value::Array(chunk.iter().map(|&id| synced_issue(id)).collect()).to_string();
        a.mock.route(Canned::new("GET", &page_path(p), 200, &body).header("Link", &link));
    }
    (0..pages.len()).map(page_path).collect()
}

fn start_sync(a: &App) -> String {
    let r = a.request("POST", "/api/cron/sentry-sync", &[("Authorization", &format!("Bearer {CRON}"))], b"");
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()["runs"][0]["run"].as_str().unwrap_or_else(|| panic!("no run started: {}", r.body)).to_string()
}

fn finished_run(a: &App, run: &str) -> Value {
    a.wait_for(&format!("run {run} finished"), Duration::from_secs(120), || {
        a.list("/api/sync/status", "runs").into_iter().find(|r| r["id"] == run && r["status"] != "running")
    })
}

fn exact_calls(a: &App, since: usize, path: &str) -> Vec<Call> {
    a.mock.calls().into_iter().skip(since).filter(|c| c.method == "GET" && c.path == path).collect()
}

#[test]
fn a_sync_page_is_asked_again_from_its_cursor_through_every_fault() {
    let _turn = serial();
    let a = internal();
    let paths = serve_issues(a, 8_900_000, 250);
    // Page 2: a 500, no answer in time, a dropped connection, a body cut
    // short, then the page.
    a.mock.reply_once(Canned::new("GET", &paths[1], 500, r#"{"detail":"boom"}"#));
    a.mock.reply_once(Canned::new("GET", &paths[1], 200, "[]").delayed(4000));
    a.mock.reply_once(Canned::drop_connection("GET", &paths[1]));
    a.mock.reply_once(Canned::new("GET", &paths[1], 200, TRUNCATED));
    let mark = a.mock.calls().len();
    let run = start_sync(a);
    let done = finished_run(a, &run);
    let page2 = exact_calls(a, mark, &paths[1]);
    assert_eq!(page2.len(), 5, "four failures, then the page: {page2:#?}");
    let g = gaps(&page2);
    // A connection dropped after it had served a request may be retried at
    // once by the runtime's HTTP client (a stale keep-alive connection),
    // and the worker never sees that fault: then the run counts three, and
    // no backoff comes between the drop and the next call. Any other count
    // or gap fails.
    let runtime_retried = done["errors"] == 3 && g[2] < 0.5;
    let errors = if runtime_retried { 3 } else { 4 };
    assert_eq!(
        (done["status"].as_str(), done["pages"].as_i64(), done["issues"].as_i64(), done["errors"].as_i64()),
        (Some("done"), Some(3), Some(250), Some(errors)),
        "{done}; gaps between the calls of page 2: {g:?}"
    );
    assert_eq!((exact_calls(a, mark, &paths[0]).len(), exact_calls(a, mark, &paths[2]).len()), (1, 1));
    let after_drop = runtime_retried || g[2] >= 1.9;
    assert!(g[0] >= 0.9 && g[1] >= 1.5 + 1.9 && after_drop && g[3] >= 1.9, "backoff between attempts: {g:?}");
    let count = a.d1_count("SELECT COUNT(*) AS n FROM cards WHERE short_id LIKE 'FSYNC-890%' AND status = 'resolved'");
    assert_eq!(count, 250, "every issue of every page is a card");
}

#[test]
fn a_sync_page_that_never_answers_fails_the_run_visibly_and_the_next_run_completes() {
    let _turn = serial();
    let a = internal();
    let paths = serve_issues(a, 8_910_000, 120);
    // Down for as long as the run keeps asking (six attempts).
    for _ in 0..6 {
        a.mock.reply_once(Canned::new("GET", &paths[1], 503, r#"{"detail":"down"}"#));
    }
    let mark = a.mock.calls().len();
    let run = start_sync(a);
    let failed = finished_run(a, &run);
    assert_eq!(failed["status"], "failed", "{failed}");
    let why = failed["last_error"].as_str().unwrap_or("");
    assert!(why.contains("gave up after 6 attempts") && why.contains("HTTP 503"), "{failed}");
    assert_eq!(exact_calls(a, mark, &paths[1]).len(), 6);
    assert_eq!(a.list("/api/sync/status", "runs").iter().filter(|r| r["status"] == "running").count(), 0);
    assert!(a.item("8910000").is_some(), "the first page was kept");

    let again = start_sync(a);
    let done = finished_run(a, &again);
    assert_eq!((done["status"].as_str(), done["issues"].as_i64()), (Some("done"), Some(120)), "{done}");
    assert!(a.item("8910119").is_some(), "the second page arrived once Sentry answered");
}

// ---- GitHub team sync ------------------------------------------------------------

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/github/{name}.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn team_created(id: u64, slug: &str) -> String {
    let mut v = fixture("team-created");
    v["team"]["id"] = json!(id);
    v["team"]["slug"] = json!(slug);
    v["team"]["name"] = json!(slug);
    v.to_string()
}

fn membership_added(team: u64, slug: &str, login: &str) -> String {
    let mut v = fixture("membership-added");
    v["team"]["id"] = json!(team);
    v["team"]["slug"] = json!(slug);
    v["member"]["login"] = json!(login);
    v.to_string()
}

fn sync_event(a: &App, delivery: &str) -> Option<Value> {
    let r = a.request("GET", "/api/github/sync", &[], b"");
    r.json()["events"].as_array()?.iter().find(|e| e["delivery"] == delivery).cloned()
}

fn wait_sync(a: &App, delivery: &str, status: &str) -> Value {
    a.wait_for(&format!("{delivery} {status}"), Duration::from_secs(120), || {
        sync_event(a, delivery).filter(|e| e["status"] == status)
    })
}

const TEAMS: &str = "/api/0/organizations/internal-org/teams/";

#[test]
fn github_jobs_retry_dropped_connections_hangs_and_unreadable_lookups() {
    let a = internal();
    let posted = |a: &App| calls(a, "POST", TEAMS).into_iter().filter(|c| c.body.contains("\"faults-nu\"")).count();
    a.mock.reply_once(Canned::drop_connection("POST", TEAMS).for_body("\"faults-nu\""));
    a.mock.reply_once(Canned::new("POST", TEAMS, 201, "{}").for_body("\"faults-nu\"").delayed(4000));
    assert_eq!(a.send_github("team", "faults-team-1", &team_created(7701, "faults-nu")).status, 200);
    let done = wait_sync(a, "faults-team-1", "done");
    assert_eq!((done["attempts"].as_i64(), posted(a)), (Some(3), 3), "drop, hang, success: {done}");

    // The login → member lookups answer garbage once each. (Changed, issue
    // 17: the login's verified emails come from GraphQL, not the profile.)
    let login = "\"faults-xi\"";
    let search = "/api/0/organizations/internal-org/members/?query=email%3Axi%40example.com";
    let emails = r#"{"data":{"user":{"organizationVerifiedDomainEmails":["xi@example.com"]}}}"#;
    a.mock.reply_once(Canned::new("POST", "/graphql", 200, HTML).for_body(login));
    a.mock.route(Canned::new("POST", "/graphql", 200, emails).for_body(login));
    a.mock.reply_once(Canned::new("GET", search, 200, TRUNCATED));
    let member =
        r#"[{"id":"909","email":"xi@example.com","user":{"emails":[{"email":"xi@example.com","is_verified":true}]}}]"#;
    a.mock.route(Canned::new("GET", search, 200, member));
    let body = membership_added(7701, "faults-nu", "faults-xi");
    assert_eq!(a.send_github("membership", "faults-member-1", &body).status, 200);
    let done = wait_sync(a, "faults-member-1", "done");
    assert_eq!(done["attempts"].as_i64(), Some(3), "bad emails, bad search, success: {done}");
    let lookups = calls(a, "POST", "/graphql").into_iter().filter(|c| c.body.contains(login)).count();
    assert_eq!(lookups, 3, "every attempt reads the verified emails");
    assert_eq!(calls(a, "GET", search).len(), 2);
    assert_eq!(calls(a, "POST", "/api/0/organizations/internal-org/members/909/teams/faults-nu/").len(), 1);
}

#[test]
fn a_github_job_whose_lookup_never_parses_is_dead_and_counted() {
    let a = internal();
    let auth = format!("Bearer {ADMIN}");
    let map = a.request(
        "PUT",
        "/api/github/users/faults-omicron",
        &[("Authorization", &auth)],
        br#"{"email":"omicron@example.com"}"#,
    );
    assert_eq!(map.status, 200, "{}", map.body);
    assert_eq!(a.send_github("team", "faults-team-2", &team_created(7702, "faults-pi")).status, 200);
    wait_sync(a, "faults-team-2", "done");
    let search = "/api/0/organizations/internal-org/members/?query=email%3Aomicron%40example.com";
    a.mock.route(Canned::new("GET", search, 200, HTML));
    let body = membership_added(7702, "faults-pi", "faults-omicron");
    assert_eq!(a.send_github("membership", "faults-member-2", &body).status, 200);
    let dead = wait_sync(a, "faults-member-2", "dead");
    let detail = dead["detail"].as_str().unwrap_or("");
    assert!(detail.contains("gave up after 6 attempts") && detail.contains("unexpected body"), "{dead}");
    assert_eq!(calls(a, "GET", search).len(), 6);
    let status = a.request("GET", "/api/github/sync", &[], b"").json();
    assert!(status["counts"]["dead"].as_i64() >= Some(1), "{}", status["counts"]);
}
