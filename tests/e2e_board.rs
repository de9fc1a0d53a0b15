//! End to end against `wrangler dev`: board changes written back to Sentry
//! (the mock records the calls), conditional polling, and who may see and
//! change the board (open on loopback, refused through a tunnel or when
//! deployed unconfigured or misconfigured, the token login and its
//! throttle, server-side logout, Cloudflare Access tokens and a team whose
//! keys cannot be fetched), and the CSP on every HTML answer.

#[path = "e2e/app.rs"]
mod app;
#[path = "e2e/mock.rs"]
mod mock;

use app::{internal_app, spawn_app, App, Reply, INTERNAL_ORG, INTERNAL_TOKEN};
use mock::Canned;
use serde_json::{json, Value};
use std::sync::OnceLock;
use std::time::Duration;

fn issue(action: &str, id: &str, status: &str) -> String {
    json!({"action": action, "installation": {"uuid": "board-e2e"},
        "data": {"issue": {"id": id, "shortId": format!("BOARD-{id}"), "title": format!("Board issue {id}"),
            "status": status, "level": "error", "project": {"id": "1", "slug": "web", "name": "Web"},
            "count": "2", "firstSeen": "2026-11-01T10:00:00Z", "lastSeen": "2026-11-30T10:00:00Z", "assignedTo": null}},
        "actor": {"type": "application", "id": "sentry", "name": "Sentry"}})
    .to_string()
}

fn create(app: &App, id: &str) {
    let r = app.send_sentry("issue", &issue("created", id, "unresolved"));
    assert_eq!(r.status, 200, "{}", r.body);
}

/// A board change as the page sends it: same-origin JSON.
fn act(app: &App, id: &str, body: &str) -> Reply {
    let origin = app.base.clone();
    let headers = [("Content-Type", "application/json"), ("Origin", origin.as_str())];
    app.request("POST", &format!("/api/items/{id}/actions"), &headers, body.as_bytes())
}

fn issue_path(id: &str) -> String {
    format!("/api/0/organizations/{INTERNAL_ORG}/issues/{id}/")
}

fn puts(app: &App, id: &str) -> Vec<mock::Call> {
    app.mock.calls().into_iter().filter(|c| c.method == "PUT" && c.path == issue_path(id)).collect()
}

fn wait_for_puts(app: &App, id: &str, n: usize) -> Vec<mock::Call> {
    app.wait_for(&format!("{n} PUT(s) for issue {id}"), Duration::from_secs(30), || {
        let calls = puts(app, id);
        (calls.len() >= n).then_some(calls)
    })
}

fn writeback_settled(app: &App, id: &str) -> Value {
    app.wait_for(&format!("card {id} written back"), Duration::from_secs(30), || {
        app.item(id).filter(|c| c["writeback"].is_null())
    })
}

fn body_of(call: &mock::Call) -> Value {
    serde_json::from_str(&call.body).unwrap_or_else(|e| panic!("{e}: {}", call.body))
}

#[test]
fn a_card_moved_to_done_is_resolved_in_sentry_and_the_echo_changes_nothing() {
    let app = internal_app();
    create(app, "7101");
    let r = act(app, "7101", r#"{"status":"resolved"}"#);
    assert_eq!(r.status, 202, "{}", r.body);
    assert_eq!(app.item("7101").unwrap()["column"], "DONE", "the board shows the move at once");
    let calls = wait_for_puts(app, "7101", 1);
    assert_eq!(body_of(&calls[0]), json!({"status": "resolved"}));
    let auth = calls[0].headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("Authorization")).map(|(_, v)| v.clone());
    assert_eq!(auth, Some(format!("Bearer {INTERNAL_TOKEN}")));
    let settled = writeback_settled(app, "7101");
    assert_eq!(settled["column"], "DONE");
    // Sentry echoes the change as a webhook, with our app as the actor.
    let echo = issue("resolved", "7101", "resolved")
        .replace(r#""id":"sentry","name":"Sentry""#, r#""id":"kanban-app","name":"sentry-kanban""#);
    assert_eq!(app.send_sentry("issue", &echo).status, 200);
    let after = app.item("7101").unwrap();
    assert_eq!((after["column"].as_str(), after["writeback"].is_null()), (Some("DONE"), true));
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(puts(app, "7101").len(), 1, "the echo made no further Sentry call");
}

#[test]
fn assign_unassign_ignore_and_reopen_are_written_back() {
    let app = internal_app();
    create(app, "7102");
    let steps: [(&str, Value, &str); 4] = [
        (
            r#"{"assignee":{"type":"user","id":"42","name":"Ann","email":"ann@example.com"}}"#,
            json!({"assignedTo":"user:42"}),
            "DOING",
        ),
        (r#"{"assignee":null}"#, json!({"assignedTo":""}), "TODO"),
        (r#"{"status":"ignored"}"#, json!({"status":"ignored"}), "TODO"),
        (r#"{"status":"unresolved"}"#, json!({"status":"unresolved"}), "TODO"),
    ];
    for (n, (change, sent, column)) in steps.iter().enumerate() {
        let r = act(app, "7102", change);
        assert_eq!(r.status, 202, "{change}: {}", r.body);
        let calls = wait_for_puts(app, "7102", n + 1);
        assert_eq!(&body_of(&calls[n]), sent, "{change}");
        let card = writeback_settled(app, "7102");
        assert_eq!(card["column"], *column, "{change}");
    }
    assert_eq!(app.item("7102").unwrap()["ignored"], false);
    let r = act(app, "7102", r#"{"status":"ignored"}"#);
    assert_eq!(r.status, 202);
    assert_eq!(app.item("7102").unwrap()["ignored"], true, "ignored shows at once");
    writeback_settled(app, "7102");
}

#[test]
fn a_failing_write_back_shows_on_the_card_retries_and_converges() {
    let app = internal_app();
    create(app, "7103");
    app.mock.route(Canned::new("PUT", &issue_path("7103"), 503, r#"{"detail":"down"}"#));
    assert_eq!(act(app, "7103", r#"{"status":"resolved"}"#).status, 202);
    let shown = app.wait_for("the retry shown on the card", Duration::from_secs(30), || {
        app.item("7103").filter(|c| c["writeback"]["state"] == "retrying")
    });
    assert!(shown["writeback"]["error"].as_str().unwrap_or("").contains("HTTP 503"), "{shown}");
    assert_eq!(shown["column"], "DONE", "the card stays where it was put");
    remove_route(app, &issue_path("7103"), 503);
    let card = writeback_settled(app, "7103");
    assert_eq!(card["column"], "DONE");
    assert!(puts(app, "7103").len() >= 2, "it was retried");
}

/// Drops one standing reply (others' routes stay): the mock recovers.
fn remove_route(app: &App, path: &str, status: u16) {
    app.mock.unroute(path, status);
}

#[test]
fn a_refused_write_back_marks_the_card_failed() {
    let app = internal_app();
    create(app, "7104");
    app.mock.route(Canned::new("PUT", &issue_path("7104"), 403, r#"{"detail":"You do not have permission"}"#));
    assert_eq!(act(app, "7104", r#"{"status":"resolved"}"#).status, 202);
    let card = app.wait_for("the failure on the card", Duration::from_secs(30), || {
        app.item("7104").filter(|c| c["writeback"]["state"] == "failed")
    });
    assert!(card["writeback"]["error"].as_str().unwrap_or("").contains("403"), "{card}");
    assert_eq!(puts(app, "7104").len(), 1, "a 403 is not retried");
}

#[test]
fn cross_origin_malformed_and_unknown_changes_are_refused() {
    let app = internal_app();
    create(app, "7105");
    let path = "/api/items/7105/actions";
    let body = br#"{"status":"resolved"}"#;
    let evil =
        app.request("POST", path, &[("Origin", "http://evil.example"), ("Content-Type", "application/json")], body);
    assert_eq!((evil.status, evil.json()["error"].as_str()), (403, Some("forbidden")), "{}", evil.body);
    let bare = app.request("POST", path, &[("Content-Type", "application/json")], body);
    assert_eq!(bare.status, 403, "no Origin and no Sec-Fetch-Site: {}", bare.body);
    let fetch_site = app.request("POST", path, &[("Sec-Fetch-Site", "cross-site")], body);
    assert_eq!(fetch_site.status, 403);
    assert_eq!(act(app, "7105", r#"{"status":"archived"}"#).status, 400);
    assert_eq!(act(app, "7105", "not json").status, 400);
    assert_eq!(act(app, "999999", r#"{"status":"resolved"}"#).status, 404);
    assert_eq!(act(app, "metric_alert:5", r#"{"status":"resolved"}"#).status, 400);
    let card = app.item("7105").unwrap();
    assert_eq!((card["column"].as_str(), card["writeback"].is_null()), (Some("TODO"), true), "nothing changed");
    std::thread::sleep(Duration::from_secs(1));
    assert!(puts(app, "7105").is_empty());
}

#[test]
fn an_unchanged_board_costs_a_304() {
    let app = internal_app();
    create(app, "7106");
    // Other tests share this worker and change its board now and then (their
    // deliveries, write-backs and re-reads): look for a quiet moment.
    let mut quiet = None;
    for _ in 0..20 {
        let first = app.request("GET", "/api/items", &[], b"");
        let tag = App::header(&first, "ETag").expect("an ETag").to_string();
        assert!(first.json()["synced_at"].is_null() || first.json()["synced_at"].is_string());
        let same = app.request("GET", "/api/items", &[("If-None-Match", &tag)], b"");
        if same.status == 304 {
            assert_eq!(same.body, "");
            quiet = Some(tag);
            break;
        }
        assert_eq!(same.status, 200, "{}", same.body);
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    let tag = quiet.expect("an unchanged board answers 304");
    create(app, "7107");
    let changed = app.request("GET", "/api/items", &[("If-None-Match", &tag)], b"");
    assert_eq!(changed.status, 200);
    assert_ne!(App::header(&changed, "ETag"), Some(tag.as_str()));
}

#[test]
fn the_assignee_picker_lists_known_assignees() {
    let app = internal_app();
    let assigned = issue("created", "7108", "unresolved").replace(
        r#""assignedTo":null"#,
        r#""assignedTo":{"type":"user","id":"77","name":"Zed","email":"zed@example.com"}"#,
    );
    assert_eq!(app.send_sentry("issue", &assigned).status, 200);
    let r = app.request("GET", "/api/items/7108/assignees", &[], b"");
    assert_eq!(r.status, 200, "{}", r.body);
    let list = r.json()["assignees"].as_array().cloned().unwrap_or_default();
    assert!(list.iter().any(|a| a["id"] == "77" && a["type"] == "user" && a["name"] == "Zed"), "{list:?}");
}

// ---- Who may see the board ------------------------------------------------------

#[test]
fn loopback_without_settings_is_open_and_says_so() {
    let app = internal_app();
    let s = app.request("GET", "/api/session", &[], b"").json();
    assert_eq!((s["mode"].as_str(), s["unprotected"].as_bool()), (Some("open"), Some(true)));
    assert_eq!(app.request("GET", "/", &[], b"").status, 200);
}

#[test]
fn a_request_through_a_tunnel_to_loopback_is_not_open() {
    let app = internal_app();
    let port = app.base.rsplit(':').next().unwrap().to_string();
    let localhost = format!("localhost:{port}");
    // What ngrok --host-header=rewrite, cloudflared and other proxies send.
    for (name, value) in [
        ("X-Forwarded-For", "203.0.113.7"),
        ("X-Forwarded-Host", "abc.ngrok-free.app"),
        ("Forwarded", "for=203.0.113.7;host=abc.ngrok-free.app;proto=https"),
        ("CF-Connecting-IP", "203.0.113.7"),
        ("X-Real-IP", "203.0.113.7"),
    ] {
        let headers = [("Host", localhost.as_str()), (name, value)];
        let api = app.request("GET", "/api/items", &headers, b"");
        assert_eq!(api.status, 503, "{name}: {}", api.body);
        assert!(!api.body.contains("Board issue"), "{name}");
        let page = app.request("GET", "/", &headers, b"");
        assert_eq!(page.status, 503, "{name}");
        assert_eq!(app.request("GET", "/api/session", &headers, b"").json()["mode"], "unconfigured", "{name}");
    }
    // wrangler dev sets CF-Connecting-IP to the local peer itself: still local.
    let local = [("Host", localhost.as_str()), ("CF-Connecting-IP", "127.0.0.1")];
    assert_eq!(app.request("GET", "/api/items", &local, b"").status, 200);
    assert_eq!(app.request("GET", "/api/session", &[], b"").json()["mode"], "open");
}

#[test]
fn a_deployed_worker_without_settings_serves_no_data_and_says_how_to_configure() {
    let app = internal_app();
    let host = [("Host", "board.example.com")];
    let api = app.request("GET", "/api/items", &host, b"");
    assert_eq!(api.status, 503, "{}", api.body);
    assert!(api.json()["message"].as_str().unwrap_or("").contains("DASHBOARD_TOKEN"), "{}", api.body);
    let page = app.request("GET", "/", &host, b"");
    assert_eq!(page.status, 503);
    assert!(page.body.contains("ACCESS_AUD") && !page.body.contains("Board issue"), "{}", page.body);
    assert_eq!(app.request("GET", "/api/deliveries", &host, b"").status, 503);
    assert_eq!(app.request("GET", "/api/health", &host, b"").status, 200);
    assert_eq!(app.request("GET", "/api/session", &host, b"").json()["mode"], "unconfigured");
}

/// At least 32 characters: a shorter token refuses protected mode.
const DASHBOARD_TOKEN: &str = "e2e-dashboard-token-0123456789abcdef";

fn token_app() -> &'static App {
    static APP: OnceLock<App> = OnceLock::new();
    APP.get_or_init(|| spawn_app(&[("DASHBOARD_TOKEN", DASHBOARD_TOKEN)]))
}

fn login(app: &App, token: &str, origin: Option<&str>) -> Reply {
    login_from(app, token, origin, &[])
}

/// A login with further headers (e.g. the client's `CF-Connecting-IP`).
fn login_from(app: &App, token: &str, origin: Option<&str>, extra: &[(&str, &str)]) -> Reply {
    let mut headers = vec![("Content-Type", "application/x-www-form-urlencoded")];
    if let Some(o) = origin {
        headers.push(("Origin", o));
    }
    headers.extend_from_slice(extra);
    let body = format!("token={}&next=%2Ferrors.html%3Flevel%3Derror", token);
    app.request("POST", "/api/login", &headers, body.as_bytes())
}

fn session_cookie(reply: &Reply) -> String {
    let set = App::header(reply, "Set-Cookie").unwrap_or_else(|| panic!("no Set-Cookie: {:?}", reply.headers));
    for part in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
        assert!(set.contains(part), "{set}");
    }
    set.split(';').next().unwrap().to_string()
}

#[test]
fn the_token_login_guards_pages_and_api() {
    let app = token_app();
    let api = app.request("GET", "/api/items", &[], b"");
    assert_eq!((api.status, api.json()["login"].as_str()), (401, Some("/login")), "{}", api.body);
    let page = app.request("GET", "/errors.html?level=error", &[], b"");
    assert_eq!(page.status, 303);
    assert_eq!(App::header(&page, "Location"), Some("/login?next=%2Ferrors.html%3Flevel%3Derror"));
    assert_eq!(app.request("GET", "/login", &[], b"").status, 200, "the login page itself is open");
    assert_eq!(app.request("GET", "/app.css", &[], b"").status, 200);

    let wrong = login(app, "nope", Some(&app.base));
    assert_eq!(wrong.status, 303);
    assert!(App::header(&wrong, "Location").unwrap_or("").starts_with("/login?error=1&next="), "{:?}", wrong.headers);
    assert!(App::header(&wrong, "Set-Cookie").is_none());
    assert_eq!(login(app, DASHBOARD_TOKEN, Some("http://evil.example")).status, 403);
    assert_eq!(login(app, DASHBOARD_TOKEN, None).status, 403);

    let ok = login(app, DASHBOARD_TOKEN, Some(&app.base));
    assert_eq!((ok.status, App::header(&ok, "Location")), (303, Some("/errors.html?level=error")));
    let cookie = session_cookie(&ok);
    assert!(!cookie.contains(DASHBOARD_TOKEN), "the token itself is never the cookie");
    let with = |path: &str| app.request("GET", path, &[("Cookie", cookie.as_str())], b"");
    assert_eq!(with("/api/items").status, 200);
    assert_eq!(with("/").status, 200);
    let s = with("/api/session").json();
    assert_eq!(
        (s["mode"].as_str(), s["authenticated"].as_bool(), s["unprotected"].as_bool()),
        (Some("token"), Some(true), Some(false))
    );

    let forged = cookie.replace("v2.", "v2.9");
    assert_eq!(app.request("GET", "/api/items", &[("Cookie", forged.as_str())], b"").status, 401);

    // A logout without a valid session ends nobody's session.
    let stranger = app.request("POST", "/api/logout", &[("Origin", app.base.as_str())], b"");
    assert_eq!(stranger.status, 303);
    assert_eq!(with("/api/items").status, 200, "an unauthenticated logout signed others out");

    let logout = app.request("POST", "/api/logout", &[("Origin", app.base.as_str()), ("Cookie", cookie.as_str())], b"");
    assert_eq!((logout.status, App::header(&logout, "Location")), (303, Some("/login")));
    assert!(App::header(&logout, "Set-Cookie").unwrap_or("").contains("Max-Age=0"));
    // The browser dropped the cookie; a copy kept elsewhere is dead too.
    assert_eq!(with("/api/items").status, 401, "the session outlived its logout on the server");
    assert_eq!(with("/").status, 303);
    let again = login(app, DASHBOARD_TOKEN, Some(&app.base));
    let fresh = session_cookie(&again);
    assert_eq!(app.request("GET", "/api/items", &[("Cookie", fresh.as_str())], b"").status, 200);
}

#[test]
fn failed_logins_are_throttled_per_client() {
    let app = token_app();
    // Ten failures and the eleventh attempt must fall in one minute.
    let sec = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() % 60;
    if sec > 40 {
        std::thread::sleep(Duration::from_secs(61 - sec));
    }
    let client = [("CF-Connecting-IP", "203.0.113.77")];
    for n in 1..=10 {
        let r = login_from(app, "wrong-token", Some(&app.base), &client);
        assert_eq!(r.status, 303, "failure {n}: {}", r.body);
    }
    let throttled = login_from(app, "wrong-token", Some(&app.base), &client);
    assert_eq!(throttled.status, 429, "{}", throttled.body);
    let after: u32 = App::header(&throttled, "Retry-After").and_then(|v| v.parse().ok()).expect("Retry-After");
    assert!((1..=60).contains(&after), "Retry-After {after}");
    assert_eq!(throttled.json()["error"], "too_many_requests");
    let right = login_from(app, DASHBOARD_TOKEN, Some(&app.base), &client);
    assert_eq!(right.status, 429, "even the right token waits: no guessing through the throttle");
    assert!(App::header(&right, "Set-Cookie").is_none());
    let page = login_from(app, "wrong", Some(&app.base), &[client[0], ("Accept", "text/html")]);
    assert_eq!(page.status, 429);
    assert!(page.body.contains("too many failed logins") && page.body.starts_with("<!doctype html>"), "{}", page.body);
    let other = login_from(app, DASHBOARD_TOKEN, Some(&app.base), &[("CF-Connecting-IP", "198.51.100.77")]);
    assert_eq!(other.status, 303, "another client is not throttled");
    assert!(App::header(&other, "Set-Cookie").is_some());
}

/// A worker whose access settings are present but unusable: a token too
/// short to resist guessing, and an Access team over plain http.
fn misconfigured_app() -> &'static App {
    static APP: OnceLock<App> = OnceLock::new();
    APP.get_or_init(|| {
        spawn_app(&[
            ("DASHBOARD_TOKEN", "short-token"),
            ("ACCESS_AUD", "aud"),
            ("ACCESS_TEAM_DOMAIN", "http://team.example.com"),
        ])
    })
}

#[test]
fn unusable_access_settings_refuse_the_board_and_say_what_to_set() {
    let app = misconfigured_app();
    let api = app.request("GET", "/api/items", &[], b"");
    assert_eq!(api.status, 503, "{}", api.body);
    let message = api.json()["message"].as_str().unwrap_or_default().to_string();
    for says in ["DASHBOARD_TOKEN is 11 characters", "at least 32", "ACCESS_TEAM_DOMAIN", "https://"] {
        assert!(message.contains(says), "{says:?} not in {message}");
    }
    let page = app.request("GET", "/", &[], b"");
    assert_eq!(page.status, 503);
    assert!(page.body.contains("at least 32") && page.body.contains("ACCESS_TEAM_DOMAIN"), "{}", page.body);
    let s = app.request("GET", "/api/session", &[], b"").json();
    assert_eq!((s["mode"].as_str(), s["authenticated"].as_bool()), (Some("misconfigured"), Some(false)), "{s}");
    let login = login(app, "short-token", Some(&app.base));
    assert_eq!(login.status, 503, "no session from a short token: {}", login.body);
    assert!(App::header(&login, "Set-Cookie").is_none());
    let hook = app.send_sentry("issue", &issue("created", "7301", "unresolved"));
    assert_eq!(hook.status, 200, "webhooks keep working: {}", hook.body);
    let logged = app.wait_for("the problem in the log", Duration::from_secs(10), || {
        app.log_text().lines().find(|l| l.contains("auth_misconfigured")).map(str::to_string)
    });
    assert!(logged.contains("at least 32"), "{logged}");
}

#[test]
fn webhooks_need_no_login() {
    let app = token_app();
    let r = app.send_sentry("issue", &issue("created", "7201", "unresolved"));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(app.request("GET", "/api/health", &[], b"").status, 200);
}

// ---- Cloudflare Access ----------------------------------------------------------

const AUD: &str = "e2e-access-aud";

fn access_app() -> &'static App {
    static APP: OnceLock<App> = OnceLock::new();
    APP.get_or_init(|| {
        let app = spawn_app(&[("ACCESS_AUD", AUD), ("ACCESS_TEAM_DOMAIN", "{mock}")]);
        let certs =
            json!({"keys": [{"kid": "k1", "kty": "RSA", "alg": "RS256", "use": "sig", "e": "AQAB", "n": key("k1").n}]});
        app.mock.route(Canned::new("GET", "/cdn-cgi/access/certs", 200, &certs.to_string()));
        app
    })
}

/// An RSA key made with the openssl command line (no crate needed).
struct Key {
    pem: std::path::PathBuf,
    n: String,
}

fn key(name: &str) -> Key {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/e2e/keys");
    std::fs::create_dir_all(&dir).unwrap();
    let pem = dir.join(format!("{name}-{}.pem", std::process::id()));
    if !pem.exists() {
        openssl(
            &[
                "genpkey",
                "-quiet",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:2048",
                "-out",
                pem.to_str().unwrap(),
            ],
            b"",
        );
    }
    let out = openssl(&["rsa", "-in", pem.to_str().unwrap(), "-noout", "-modulus"], b"");
    let hex = String::from_utf8(out).unwrap().trim().trim_start_matches("Modulus=").to_string();
    let bytes = hex::decode(hex).unwrap();
    Key { pem, n: sentry_kanban::auth::jwt::base64url_encode(&bytes) }
}

fn openssl(args: &[&str], stdin: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut child = std::process::Command::new("openssl")
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("openssl runs");
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "openssl {args:?} failed");
    out.stdout
}

fn jwt(signer: &Key, kid: &str, claims: Value) -> String {
    let b64 = |v: &Value| sentry_kanban::auth::jwt::base64url_encode(v.to_string().as_bytes());
    let input = format!("{}.{}", b64(&json!({"alg": "RS256", "kid": kid, "typ": "JWT"})), b64(&claims));
    let sig = openssl(&["dgst", "-sha256", "-sign", signer.pem.to_str().unwrap()], input.as_bytes());
    format!("{input}.{}", sentry_kanban::auth::jwt::base64url_encode(&sig))
}

fn claims(app: &App, aud: &str, exp_in: i64) -> Value {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    json!({"aud": [aud], "iss": app.mock.url, "email": "viewer@example.com", "exp": now + exp_in, "iat": now, "sub": "u1"})
}

#[test]
fn cloudflare_access_tokens_are_verified_with_the_teams_keys() {
    let app = access_app();
    let k1 = key("k1");
    let with = |token: &str| app.request("GET", "/api/items", &[("Cf-Access-Jwt-Assertion", token)], b"").status;
    let good = jwt(&k1, "k1", claims(app, AUD, 600));
    assert_eq!(with(&good), 200);
    let s = app.request("GET", "/api/session", &[("Cookie", &format!("CF_Authorization={good}"))], b"").json();
    assert_eq!((s["mode"].as_str(), s["user"].as_str()), (Some("access"), Some("viewer@example.com")));
    assert_eq!(app.request("GET", "/api/items", &[], b"").status, 401, "no token");
    assert_eq!(with(&jwt(&k1, "k1", claims(app, "other-aud", 600))), 401, "wrong audience");
    assert_eq!(with(&jwt(&k1, "k1", claims(app, AUD, -120))), 401, "expired");
    assert_eq!(with(&jwt(&k1, "k9", claims(app, AUD, 600))), 401, "unknown key id");
    assert_eq!(with(&jwt(&key("other"), "k1", claims(app, AUD, 600))), 401, "signed by another key");
    let mut tampered = good.clone();
    let dot = tampered.find('.').unwrap() + 3;
    tampered.replace_range(dot..dot + 1, if &good[dot..dot + 1] == "A" { "B" } else { "A" });
    assert_eq!(with(&tampered), 401, "claims changed after signing");
    let page = app.request("GET", "/", &[], b"");
    assert_eq!(page.status, 401, "no login form to send an Access user to: {}", page.body);
}

/// An Access worker whose team's key endpoint answers 500 until told otherwise.
fn keys_down_app() -> &'static App {
    static APP: OnceLock<App> = OnceLock::new();
    APP.get_or_init(|| {
        let app = spawn_app(&[("ACCESS_AUD", AUD), ("ACCESS_TEAM_DOMAIN", "{mock}")]);
        app.mock.route(Canned::new("GET", "/cdn-cgi/access/certs", 500, r#"{"error":"down"}"#));
        app
    })
}

#[test]
fn without_the_teams_keys_access_fails_closed_with_a_503() {
    let app = keys_down_app();
    let k1 = key("k1");
    let good = jwt(&k1, "k1", claims(app, AUD, 600));
    let api = app.request("GET", "/api/items", &[("Cf-Access-Jwt-Assertion", &good)], b"");
    assert_eq!(api.status, 503, "not the viewer's fault, and nothing served: {}", api.body);
    assert_eq!(api.json()["error"], "upstream_unavailable");
    assert!(api.json()["message"].as_str().unwrap_or("").contains("/cdn-cgi/access/certs"), "{}", api.body);
    let page = app.request("GET", "/", &[("Cf-Access-Jwt-Assertion", &good)], b"");
    assert_eq!(page.status, 503);
    assert!(page.body.contains("signing keys") && App::header(&page, "Content-Security-Policy").is_some());
    assert!(app.mock.calls().iter().any(|c| c.path == "/cdn-cgi/access/certs"), "the keys were asked for");
    // The team's keys come back: the same token is accepted.
    let certs = json!({"keys": [{"kid": "k1", "kty": "RSA", "alg": "RS256", "e": "AQAB", "n": k1.n}]});
    app.mock.unroute("/cdn-cgi/access/certs", 500);
    app.mock.route(Canned::new("GET", "/cdn-cgi/access/certs", 200, &certs.to_string()));
    assert_eq!(app.request("GET", "/api/items", &[("Cf-Access-Jwt-Assertion", &good)], b"").status, 200);
}

// ---- Security headers -----------------------------------------------------------

#[test]
fn every_html_answer_carries_the_csp() {
    let open = internal_app();
    let deployed = [("Host", "board.example.com")];
    let mut answers = vec![
        ("open /", open.request("GET", "/", &[], b"")),
        ("open /errors", open.request("GET", "/errors", &[], b"")),
        ("open /deliveries", open.request("GET", "/deliveries", &[], b"")),
        ("open /login", open.request("GET", "/login", &[], b"")),
        ("setup page", open.request("GET", "/sentry/setup?installationId=nope", &[], b"")),
        ("setup page 400", open.request("GET", "/sentry/setup", &[], b"")),
        ("unconfigured 503", open.request("GET", "/", &deployed, b"")),
        ("misconfigured 503", misconfigured_app().request("GET", "/", &[], b"")),
    ];
    answers.push(("token /login", token_app().request("GET", "/login", &[], b"")));
    for (what, r) in &answers {
        let ct = App::header(r, "Content-Type").unwrap_or_default();
        assert!(ct.starts_with("text/html"), "{what}: {} {ct}", r.status);
        let csp =
            App::header(r, "Content-Security-Policy").unwrap_or_else(|| panic!("{what}: no CSP: {:?}", r.headers));
        assert!(csp.contains("frame-ancestors 'none'") && csp.contains("default-src 'self'"), "{what}: {csp}");
        assert_eq!(App::header(r, "X-Content-Type-Options"), Some("nosniff"), "{what}");
    }
    let json = open.request("GET", "/api/health", &[], b"");
    assert_eq!(App::header(&json, "X-Content-Type-Options"), Some("nosniff"));
}
