//! Access in the browser: the token login (the form and `make dev`'s link),
//! 401 or the login page for the unauthenticated, and a cross-origin write
//! refused even with a valid session.

use super::*;

// ---------------------------------------------------------------- access

#[test]
fn login_with_the_dashboard_token() {
    let a = token_app();
    let b = Browser::new();
    b.goto(&url(a, "/"));
    b.wait_for("/ to send an unauthenticated visitor to /login", WAIT, |b| {
        location(b, a).starts_with("/login").then_some(())
    });
    b.find("#login-form");
    let error = b.try_find("#login-error");
    assert!(error.is_none_or(|e| !b.displayed(&e)), "#login-error shown before any attempt");

    submit_token(&b, "not-the-token");
    let error = b.wait_for("#login-error after a wrong token", WAIT, |b| {
        (location(b, a).contains("error=1")).then(|| b.try_find("#login-error")).flatten().filter(|e| b.displayed(e))
    });
    assert!(b.text(&error).contains("Wrong token"), "{}", b.text(&error));
    assert!(b.cookie("sk_session").is_none(), "a wrong token got a session cookie");

    submit_token(&b, DASHBOARD_TOKEN);
    b.wait_for("the board after the right token", WAIT, |b| {
        (location(b, a).split('?').next() == Some("/"))
            .then(|| b.try_find("section.column[data-column=\"TODO\"]"))
            .flatten()
    });
    let cookie = b.cookie("sk_session").expect("sk_session cookie after login");
    assert_eq!(cookie["httpOnly"], true, "{cookie}");
    assert!(b.try_find("#logout").is_some(), "no #logout in token mode");
}

#[test]
fn the_login_link_make_dev_prints_logs_in_and_leaves_no_token_in_the_address() {
    let a = token_app();
    let b = Browser::new();
    b.goto(&url(a, &format!("/login#token={DASHBOARD_TOKEN}")));
    b.wait_for("the board after the login link", WAIT, |b| {
        (location(b, a).split('?').next() == Some("/"))
            .then(|| b.try_find("section.column[data-column=\"TODO\"]"))
            .flatten()
    });
    assert!(b.cookie("sk_session").is_some(), "no session from the link");
    assert!(!b.current_url().contains(DASHBOARD_TOKEN), "{}", b.current_url());
    let history = b.execute("return history.length;", vec![]);
    b.execute("history.back();", vec![]);
    std::thread::sleep(Duration::from_millis(500));
    assert!(!b.current_url().contains(DASHBOARD_TOKEN), "the token is in the history: {} ({history})", b.current_url());

    // A wrong link shows the form's error, once, without looping.
    let c = Browser::new();
    c.goto(&url(a, "/login#token=not-the-token"));
    c.wait_for("the wrong link's error", WAIT, |b| {
        location(b, a).contains("error=1").then(|| b.try_find("#login-error")).flatten().filter(|e| b.displayed(e))
    });
    assert!(c.cookie("sk_session").is_none());
}

#[test]
fn unauthenticated_requests_get_401_or_go_to_login_and_come_back() {
    let a = token_app();
    let r = raw(a, "GET", "/api/items", &[], "");
    assert_eq!(r.status, 401, "{}", r.body);
    let body = r.json();
    assert_eq!((body["error"].as_str(), body["login"].as_str()), (Some("unauthenticated"), Some("/login")), "{body}");

    let r = raw(a, "GET", "/errors.html?level=error", &[("Accept", "text/html")], "");
    // The contract says 302; any redirect a browser follows with a GET will do.
    assert!(matches!(r.status, 302 | 303 | 307), "not a redirect: {} {}", r.status, r.body);
    let to = App::header(&r, "Location").unwrap_or_default();
    let to = to.strip_prefix(&a.base).unwrap_or(to);
    assert!(to.starts_with("/login?next=") && to.contains("errors.html"), "redirected to {to}");

    let s = raw(a, "GET", "/api/session", &[], "");
    assert_eq!(s.status, 200, "{}", s.body);
    assert_eq!((s.json()["mode"].as_str(), s.json()["authenticated"].as_bool()), (Some("token"), Some(false)));
    assert_eq!(raw(a, "GET", "/api/health", &[], "").status, 200);

    // The browser is sent to /login and, once logged in, back where it was.
    let b = Browser::new();
    b.goto(&url(a, "/errors.html?level=error"));
    b.wait_for("/errors.html to go to /login", WAIT, |b| location(b, a).starts_with("/login?next=").then_some(()));
    submit_token(&b, DASHBOARD_TOKEN);
    // The error log page may drop `.html` and add its defaults to the query.
    b.wait_for("the login to return to the error log with level=error", WAIT, |b| {
        let at = location(b, a);
        let (path, query) = at.split_once('?').unwrap_or((&at, ""));
        (matches!(path, "/errors.html" | "/errors") && query.split('&').any(|kv| kv == "level=error")).then_some(())
    });
    b.wait_find("#groups", WAIT);
}

#[test]
fn a_cross_origin_write_with_a_valid_session_is_403() {
    let a = token_app();
    let id = "771501";
    send_issue(a, id, "unresolved", "Cross-origin target 771501", "browser-csrf");
    let b = Browser::new();
    log_in(&b, a);
    let cookie = b.cookie("sk_session").expect("sk_session cookie after login");
    let cookie = format!("sk_session={}", cookie["value"].as_str().unwrap());
    let path = format!("/api/items/{id}/actions");
    let write = |headers: &[(&str, &str)]| {
        let mut all = vec![("Cookie", cookie.as_str()), ("Content-Type", "application/json")];
        all.extend_from_slice(headers);
        raw(a, "POST", &path, &all, r#"{"status":"resolved"}"#)
    };

    let evil = write(&[("Origin", "http://evil.example")]);
    assert_eq!(evil.status, 403, "{}", evil.body);
    assert_eq!(evil.json()["error"], "forbidden", "{}", evil.body);
    let no_origin = write(&[("Sec-Fetch-Site", "cross-site")]);
    assert_eq!(no_origin.status, 403, "no Origin and a cross-site fetch: {}", no_origin.body);

    let items = raw(a, "GET", "/api/items", &[("Cookie", &cookie)], "");
    assert_eq!(items.status, 200, "the session cookie does not authenticate the API: {}", items.body);
    let card = items.json()["items"].as_array().into_iter().flatten().find(|i| i["id"] == id).cloned();
    assert_eq!(card.expect("card")["column"], "TODO", "a refused write changed the card");

    // The same write from the worker's own origin is accepted.
    let own = write(&[("Origin", a.base.as_str())]);
    assert_eq!(own.status, 202, "same-origin write: {}", own.body);
}
