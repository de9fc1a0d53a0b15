//! Who may see and change the board: open on loopback, refused through a
//! tunnel or when deployed unconfigured or misconfigured, the token login and
//! its throttle, server-side logout; and the CSP on every HTML answer.

use super::*;

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
    static APP: Scenario = Scenario::new(module_path!(), || spawn_app(&[("DASHBOARD_TOKEN", DASHBOARD_TOKEN)]));
    APP.app()
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
    static APP: Scenario = Scenario::new(module_path!(), || {
        spawn_app(&[
            ("DASHBOARD_TOKEN", "short-token"),
            ("ACCESS_AUD", "aud"),
            ("ACCESS_TEAM_DOMAIN", "http://team.example.com"),
        ])
    });
    APP.app()
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
