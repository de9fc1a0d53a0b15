//! Browser tests: the pages in headless Chromium (Debian's, driven through
//! chromedriver by the small WebDriver client in browser/webdriver.rs)
//! against the real worker under `wrangler dev`. Cards come from signed
//! Sentry webhooks; write-backs are asserted on the mock Sentry API.
//! Each test has a browser of its own and its own issue ids, so tests share
//! the workers. Screenshots land in target/screenshots/.

#[path = "e2e/app.rs"]
mod app;
#[path = "e2e/mock.rs"]
mod mock;
#[path = "browser/webdriver.rs"]
mod webdriver;

use app::{spawn_app, App, INTERNAL_ORG};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::sync::OnceLock;
use std::time::Duration;
use webdriver::{Browser, Element, ARROW_RIGHT};

/// Page loads, renders and round trips through the queue all finish well
/// within this on a loaded two-core machine; it bounds polling, not speed.
const WAIT: Duration = Duration::from_secs(30);
/// A write-back goes through the queue (batch timeout, retries).
const QUEUE_WAIT: Duration = Duration::from_secs(90);

/// At least 32 characters: a shorter token refuses protected mode.
const DASHBOARD_TOKEN: &str = "e2e-dashboard-token-0123456789abcdef";
const ALICE: &str = r#"{"type":"user","id":"7","name":"Alice","email":"alice@example.com"}"#;

static TOKEN_APP: OnceLock<App> = OnceLock::new();

/// A worker in token mode (`DASHBOARD_TOKEN`): pages and the API need a login.
fn token_app() -> &'static App {
    TOKEN_APP.get_or_init(|| spawn_app(&[("DASHBOARD_TOKEN", DASHBOARD_TOKEN)]))
}

/// The board worker: internal-integration mode, so a card's org has a token
/// and moves are written back to the mock Sentry; no dashboard credentials
/// and a loopback host, so the pages are open.
fn board_app() -> &'static App {
    app::internal_app()
}

/// An issue webhook body shaped like Sentry's.
fn issue_body(action: &str, id: &str, status: &str, title: &str, project: &str, assignee: Option<&str>) -> String {
    let assigned: Value = assignee.map(|a| serde_json::from_str(a).unwrap()).unwrap_or(Value::Null);
    let mut data = json!({
        "issue": {
            "id": id, "shortId": format!("{}-{id}", project.to_uppercase()), "title": title, "culprit": "?(runner)",
            "permalink": format!("https://sentry.example/issues/{id}/"), "level": "error", "status": status,
            "substatus": "ongoing",
            "project": {"id": "1", "name": project, "slug": project, "platform": ""},
            "count": "3", "userCount": 1,
            "firstSeen": "2019-08-19T20:58:37.391000Z", "lastSeen": "2019-08-19T21:58:37.391000+00:00",
            "assignedTo": assigned,
        }
    });
    if assignee.is_some() {
        data["assignee"] = assigned;
    }
    json!({
        "action": action,
        "installation": {"uuid": "e2e-browser-installation"},
        "data": data,
        "actor": {"type": "application", "id": "sentry", "name": "Sentry"},
    })
    .to_string()
}

/// An epoch-seconds hook timestamp `secs` ago (later deliveries must be newer).
fn past(secs: i64) -> i64 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    now - secs
}

/// A card in TODO (`unresolved`), DONE (`resolved`) or flagged ignored.
fn send_issue(a: &App, id: &str, status: &str, title: &str, project: &str) {
    let r = a.send_sentry_at("issue", &issue_body("created", id, status, title, project, None), Some(past(60)));
    assert_eq!(r.status, 200, "{}", r.body);
}

/// A card in DOING: created, then assigned to Alice.
fn send_assigned(a: &App, id: &str, title: &str, project: &str) {
    send_issue(a, id, "unresolved", title, project);
    let body = issue_body("assigned", id, "unresolved", title, project, Some(ALICE));
    let r = a.send_sentry_at("issue", &body, Some(past(30)));
    assert_eq!(r.status, 200, "{}", r.body);
}

fn url(a: &App, path: &str) -> String {
    format!("{}{path}", a.base)
}

/// The path and query of the browser's location on `a`.
fn location(b: &Browser, a: &App) -> String {
    let u = b.current_url();
    u.strip_prefix(&a.base).map(str::to_string).unwrap_or(u)
}

/// Every column as rendered: the `.count` text and the visible cards.
const BOARD_STATE: &str = r#"
    var out = {};
    document.querySelectorAll('section.column[data-column]').forEach(function (col) {
        var count = col.querySelector('.count');
        var cards = [].slice.call(col.querySelectorAll('.cards article.card')).filter(function (c) {
            return c.getClientRects().length > 0 && getComputedStyle(c).visibility !== 'hidden';
        });
        out[col.dataset.column] = {
            count: count ? count.textContent.trim() : null,
            cards: cards.map(function (c) {
                var t = c.querySelector('.card-title');
                return {
                    id: c.dataset.id,
                    title: t ? t.textContent : null,
                    title_children: t ? t.children.length : null,
                    ignored: c.classList.contains('ignored'),
                    opacity: parseFloat(getComputedStyle(c).opacity),
                    tabindex: c.getAttribute('tabindex'),
                    draggable: c.getAttribute('draggable'),
                };
            }),
        };
    });
    return out;
"#;

fn board_state(b: &Browser) -> Value {
    b.execute(BOARD_STATE, vec![])
}

/// The column a card is rendered (and visible) in, if any.
fn column_of(state: &Value, id: &str) -> Option<String> {
    let cols = state.as_object()?;
    cols.iter()
        .find(|(_, c)| c["cards"].as_array().is_some_and(|cs| cs.iter().any(|x| x["id"] == id)))
        .map(|(k, _)| k.clone())
}

fn card_in(state: &Value, id: &str) -> Option<Value> {
    let col = column_of(state, id)?;
    state[&col]["cards"].as_array()?.iter().find(|c| c["id"] == id).cloned()
}

fn visible_ids(state: &Value) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    for col in state.as_object().into_iter().flat_map(|m| m.values()) {
        for c in col["cards"].as_array().into_iter().flatten() {
            ids.insert(c["id"].as_str().unwrap_or_default().to_string());
        }
    }
    ids
}

/// Waits until every `(id, column)` is rendered in that column.
fn wait_cards(b: &Browser, want: &[(&str, &str)]) -> Value {
    b.wait_for(&format!("cards {want:?} on the board"), WAIT, |b| {
        let s = board_state(b);
        want.iter().all(|(id, col)| column_of(&s, id).as_deref() == Some(*col)).then_some(s)
    })
}

fn card_element(b: &Browser, id: &str) -> Element {
    b.find(&format!("article.card[data-id=\"{id}\"]"))
}

/// Waits for the mock Sentry to be sent `PUT .../issues/{id}/` whose JSON
/// body has `key` equal to `value`; returns the body.
fn wait_put(a: &App, id: &str, key: &str, value: &str) -> Value {
    let path = format!("/api/0/organizations/{INTERNAL_ORG}/issues/{id}/");
    a.wait_for(&format!("PUT {path} with {key}={value}"), QUEUE_WAIT, || {
        a.mock.calls().into_iter().filter(|c| c.method == "PUT" && c.path == path).find_map(|c| {
            let body: Value = serde_json::from_str(&c.body).ok()?;
            (body[key] == value).then_some(body)
        })
    })
}

/// Logs in through the form on /login (the browser must be on it).
fn submit_token(b: &Browser, token: &str) {
    let input = b.wait_find("#login-form input#token", WAIT);
    b.clear(&input);
    b.send_keys(&input, token);
    b.click(&b.find("#login-submit"));
}

fn log_in(b: &Browser, a: &App) {
    b.goto(&url(a, "/login"));
    submit_token(b, DASHBOARD_TOKEN);
    b.wait_for("the login to leave /login", WAIT, |b| (!location(b, a).starts_with("/login")).then_some(()));
}

/// A reply of the worker without following redirects.
fn raw(a: &App, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> app::Reply {
    let agent = ureq::AgentBuilder::new().redirects(0).timeout(Duration::from_secs(30)).build();
    let mut req = agent.request(method, &url(a, path));
    for (k, v) in headers {
        req = req.set(k, v);
    }
    let resp = match req.send_string(body) {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{method} {path}: {e}"),
    };
    let status = resp.status();
    let headers = resp.headers_names().iter().map(|n| (n.clone(), resp.header(n).unwrap_or("").to_string())).collect();
    app::Reply { status, headers, body: resp.into_string().unwrap_or_default() }
}

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

// ---------------------------------------------------------------- board

#[test]
fn the_board_renders_webhook_cards_in_their_columns() {
    let a = board_app();
    let xss = "<img src=x onerror=alert(1)>";
    send_issue(a, "771101", "unresolved", "TypeError: board todo 771101", "browser-board");
    send_assigned(a, "771102", "TypeError: board doing 771102", "browser-board");
    send_issue(a, "771103", "resolved", "TypeError: board done 771103", "browser-board");
    send_issue(a, "771104", "ignored", "TypeError: board ignored 771104", "browser-board");
    send_issue(a, "771105", "unresolved", xss, "browser-board");

    let b = Browser::new();
    b.goto(&url(a, "/"));
    let s = wait_cards(
        &b,
        &[("771101", "TODO"), ("771102", "DOING"), ("771103", "DONE"), ("771104", "TODO"), ("771105", "TODO")],
    );
    assert_eq!(b.alert_text(), None, "a card title ran script");

    for (id, title) in [
        ("771101", "TypeError: board todo 771101"),
        ("771102", "TypeError: board doing 771102"),
        ("771103", "TypeError: board done 771103"),
        ("771104", "TypeError: board ignored 771104"),
    ] {
        let c = card_in(&s, id).unwrap();
        assert_eq!(c["title"], title, "{c}");
        assert_eq!((c["tabindex"].as_str(), c["draggable"].as_str()), (Some("0"), Some("true")), "{c}");
    }
    for col in ["TODO", "DOING", "DONE"] {
        let shown = s[col]["cards"].as_array().map(Vec::len).unwrap_or(0);
        assert_eq!(s[col]["count"], shown.to_string(), "{col} count vs cards: {}", s[col]);
    }

    let ignored = card_in(&s, "771104").unwrap();
    assert_eq!(ignored["ignored"], true, "{ignored}");
    assert!(ignored["opacity"].as_f64().unwrap() < 1.0, "an ignored card is not dimmed: {ignored}");
    let plain = card_in(&s, "771101").unwrap();
    assert_eq!(plain["ignored"], false, "{plain}");
    assert!(plain["opacity"].as_f64().unwrap() > 0.9, "a plain card is dimmed: {plain}");

    // Markup in a title is text, never elements.
    let x = card_in(&s, "771105").unwrap();
    assert_eq!((x["title"].as_str(), x["title_children"].as_u64()), (Some(xss), Some(0)), "{x}");
    let imgs = b.execute("return document.querySelectorAll('main img, .cards img').length", vec![]);
    assert_eq!(imgs, 0, "a title became an <img>");
    let el = card_element(&b, "771105");
    assert!(b.text(&el).contains(xss), "{}", b.text(&el));
    let link = b.find("article.card[data-id=\"771101\"] .short-id a");
    assert_eq!(b.attribute(&link, "href").as_deref(), Some("https://sentry.example/issues/771101/"));
}

#[test]
fn arrow_right_on_a_doing_card_resolves_it_in_sentry() {
    let a = board_app();
    let id = "771201";
    send_assigned(a, id, "TypeError: keyboard move 771201", "browser-move");
    assert_eq!(a.item(id).expect("card")["column"], "DOING");

    let b = Browser::new();
    b.goto(&url(a, "/"));
    wait_cards(&b, &[(id, "DOING")]);
    let card = card_element(&b, id);
    b.send_keys(&card, ARROW_RIGHT);

    wait_put(a, id, "status", "resolved");
    wait_cards(&b, &[(id, "DONE")]);
    assert_eq!(a.item(id).expect("card")["column"], "DONE");
}

#[test]
fn dragging_a_todo_card_to_done_resolves_it_in_sentry() {
    let a = board_app();
    let id = "771202";
    send_issue(a, id, "unresolved", "TypeError: drag move 771202", "browser-move");

    let b = Browser::new();
    b.goto(&url(a, "/"));
    wait_cards(&b, &[(id, "TODO")]);
    let card = card_element(&b, id);
    let done = b.find("section.column[data-column=\"DONE\"]");
    // HTML5 drag and drop as the browser dispatches it, with one DataTransfer.
    b.execute(
        r#"
        var card = arguments[0], column = arguments[1];
        var target = column.querySelector('.cards') || column;
        var dt = new DataTransfer();
        function at(el) { var r = el.getBoundingClientRect(); return { x: r.left + r.width / 2, y: r.top + r.height / 2 }; }
        function fire(el, type, p) {
            var ev = new DragEvent(type, { bubbles: true, cancelable: true, composed: true,
                dataTransfer: dt, clientX: p.x, clientY: p.y });
            el.dispatchEvent(ev);
        }
        var from = at(card), to = at(target);
        fire(card, 'dragstart', from);
        fire(target, 'dragenter', to);
        fire(target, 'dragover', to);
        fire(target, 'drop', to);
        fire(card, 'dragend', to);
        "#,
        vec![card.arg(), done.arg()],
    );

    wait_put(a, id, "status", "resolved");
    wait_cards(&b, &[(id, "DONE")]);
    assert_eq!(a.item(id).expect("card")["column"], "DONE");
}

#[test]
fn the_search_filter_narrows_the_board_and_stays_in_the_url() {
    let a = board_app();
    send_issue(a, "771301", "unresolved", "RangeError: zebra stripes 771301", "browser-filter");
    send_issue(a, "771302", "unresolved", "RangeError: plain horse 771302", "browser-filter");
    send_issue(a, "771303", "resolved", "RangeError: zebra crossing 771303", "browser-filter");

    let b = Browser::new();
    b.goto(&url(a, "/"));
    wait_cards(&b, &[("771301", "TODO"), ("771302", "TODO"), ("771303", "DONE")]);
    let q = b.find("input#filter-q");
    b.send_keys(&q, "zebra");

    let want: BTreeSet<String> = ["771301", "771303"].map(String::from).into();
    let s = b.wait_for("only the zebra cards", WAIT, |b| {
        let s = board_state(b);
        (visible_ids(&s) == want).then_some(s)
    });
    assert_eq!(
        (s["TODO"]["count"].as_str(), s["DOING"]["count"].as_str(), s["DONE"]["count"].as_str()),
        (Some("1"), Some("0"), Some("1")),
        "counts follow the filter: {s}"
    );
    b.wait_for("q=zebra in the URL", WAIT, |b| location(b, a).contains("q=zebra").then_some(()));

    // The filter is part of the address: a reload keeps it.
    let here = b.current_url();
    b.goto(&here);
    b.wait_for("the filter after a reload", WAIT, |b| {
        let s = board_state(b);
        (visible_ids(&s) == want).then_some(())
    });
    assert_eq!(b.property(&b.find("input#filter-q"), "value"), "zebra");

    // Emptying it shows everything again.
    let q = b.find("input#filter-q");
    b.clear(&q);
    b.send_keys(&q, " ");
    b.send_keys(&q, "\u{E003}"); // Backspace: an input event on an empty box
    wait_cards(&b, &[("771301", "TODO"), ("771302", "TODO"), ("771303", "DONE")]);
}

#[test]
fn a_malformed_url_fragment_does_not_stop_the_board() {
    let a = board_app();
    send_issue(a, "771601", "unresolved", "TypeError: fragment 771601", "browser-fragment");
    let b = Browser::new();
    for fragment in ["#card-%E0%A4%A", "#card-%", "#%E0%A4%A", "#filter=%", "#card-771601"] {
        b.goto("about:blank");
        b.goto(&url(a, &format!("/{fragment}")));
        // Read everything the first load sets, in the same instant the cards
        // appear: a later poll would hide a first-load failure.
        let first = b.wait_for(&format!("the board under {fragment}"), WAIT, |b| {
            let s = b.execute(
                r#"var card = document.querySelector('article.card[data-id="771601"]');
                   if (!card) return null;
                   var banner = document.getElementById('error');
                   return {banner: banner.hidden ? null : banner.textContent,
                           stamp: document.getElementById('refreshed').textContent,
                           linked: card.classList.contains('linked')};"#,
                vec![],
            );
            (!s.is_null()).then_some(s)
        });
        assert_eq!(first["banner"], Value::Null, "{fragment}: {first}");
        assert!(first["stamp"].as_str().unwrap_or("").starts_with("Refreshed"), "{fragment}: {first}");
        assert_eq!(first["linked"], fragment == "#card-771601", "{fragment}: {first}");
    }
}

/// A card in TODO with Sentry's `substatus` and `priority`.
fn send_lane(a: &App, id: &str, substatus: &str, priority: &str, title: &str) {
    let mut v: Value =
        serde_json::from_str(&issue_body("created", id, "unresolved", title, "browser-lanes", None)).unwrap();
    v["data"]["issue"]["substatus"] = json!(substatus);
    v["data"]["issue"]["priority"] = json!(priority);
    let r = a.send_sentry_at("issue", &v.to_string(), Some(past(60)));
    assert_eq!(r.status, 200, "{}", r.body);
}

/// Class list, badges and left border of a rendered card.
const CARD_LOOK: &str = r#"
    var c = document.querySelector('article.card[data-id="' + arguments[0] + '"]');
    if (!c) return null;
    function texts(sel) { return [].slice.call(c.querySelectorAll(sel)).map(function (e) { return e.textContent; }); }
    return { classes: [].slice.call(c.classList), substatus: texts('.card-head .tag-substatus'),
        priority: texts('.card-head .priority'), until: texts('.card-head .tag-until'),
        border: getComputedStyle(c).borderLeftColor + ' ' + getComputedStyle(c).borderLeftWidth };
"#;

fn card_look(b: &Browser, id: &str) -> Value {
    b.execute(CARD_LOOK, vec![json!(id)])
}

#[test]
fn an_escalating_card_stands_out_and_the_priority_filter_stays_in_the_url() {
    let a = board_app();
    send_lane(a, "771701", "escalating", "high", "TypeError: escalating lane 771701");
    send_lane(a, "771702", "ongoing", "low", "TypeError: quiet lane 771702");
    send_lane(a, "771703", "regressed", "high", "TypeError: regressed lane 771703");
    let mine: BTreeSet<String> = ["771701", "771702", "771703"].map(String::from).into();

    let b = Browser::new();
    b.goto(&url(a, "/"));
    wait_cards(&b, &[("771701", "TODO"), ("771702", "TODO"), ("771703", "TODO")]);
    let loud = card_look(&b, "771701");
    let quiet = card_look(&b, "771702");
    assert!(loud["classes"].as_array().unwrap().contains(&json!("escalating")), "{loud}");
    assert_eq!((loud["substatus"].clone(), loud["priority"].clone()), (json!(["escalating"]), json!(["high"])));
    assert!(!quiet["classes"].as_array().unwrap().contains(&json!("escalating")), "{quiet}");
    assert_eq!((quiet["substatus"].clone(), quiet["priority"].clone()), (json!([]), json!(["low"])));
    assert_ne!(loud["border"], quiet["border"], "the escalating card stands out in its column");
    assert_eq!(card_look(&b, "771703")["substatus"], json!(["regressed"]));
    assert!(b.displayed(&b.find("article.card[data-id=\"771701\"] .tag-escalating")));

    // The priority filter narrows the board and is part of the address.
    b.click(&b.find("select#filter-priority"));
    b.click(&b.find("select#filter-priority option[value=\"high\"]"));
    let high: BTreeSet<String> = ["771701", "771703"].map(String::from).into();
    let only_high = |b: &Browser| {
        let shown: BTreeSet<String> = visible_ids(&board_state(b)).intersection(&mine).cloned().collect();
        (shown == high).then_some(())
    };
    b.wait_for("only the high-priority cards", WAIT, only_high);
    b.wait_for("priority=high in the URL", WAIT, |b| location(b, a).contains("priority=high").then_some(()));
    let here = b.current_url();
    b.goto(&here);
    b.wait_for("the priority filter after a reload", WAIT, only_high);
    assert_eq!(b.property(&b.find("select#filter-priority"), "value"), "high");

    // Archive until escalating, from the card menu.
    let card = card_element(&b, "771703");
    b.click(&b.find_in(&card, ".card-menu")[0]);
    b.click(&b.wait_find(".menu [data-action=\"archive-escalating\"]", WAIT));
    let put = wait_put(a, "771703", "substatus", "archived_until_escalating");
    assert_eq!(put, json!({"status": "ignored", "substatus": "archived_until_escalating"}));
    let look = b.wait_for("the archived card", WAIT, |b| {
        let l = card_look(b, "771703");
        l["classes"].as_array().is_some_and(|c| c.contains(&json!("ignored"))).then_some(l)
    });
    assert_eq!((look["substatus"].clone(), look["until"].clone()), (json!([]), json!(["until escalating"])), "{look}");
    b.save_screenshot("board-lanes");
}

// ---------------------------------------------------------------- screenshots

fn error_body(event_id: &str, issue_id: &str, title: &str) -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    json!({
        "action": "created",
        "installation": {"uuid": "e2e-browser-errors"},
        "data": {"error": {
            "event_id": event_id, "issue_id": issue_id, "title": title, "culprit": "?(runner)", "level": "error",
            "platform": "javascript", "project": 1, "environment": "prod", "release": "1.0",
            "datetime": sentry_kanban::time::format_millis(now - 3_600_000),
            "exception": {"values": [{"type": "TypeError", "value": "x",
                "stacktrace": {"frames": [{"filename": "app.js", "function": "render", "lineno": 12}]}}]},
            "web_url": format!("https://sentry.example/issues/{issue_id}/events/{event_id}/"),
        }},
        "actor": {"type": "application", "id": "sentry", "name": "Sentry"},
    })
    .to_string()
}

#[test]
fn screenshots_of_the_board_the_error_log_and_a_phone() {
    let a = board_app();
    send_issue(a, "771401", "unresolved", "TypeError: cannot read properties of undefined (reading 'id')", "web");
    send_assigned(a, "771402", "ReferenceError: checkout is not defined", "shop");
    send_issue(a, "771403", "resolved", "SyntaxError: unexpected token in JSON at position 0", "api");
    for (event, issue, title) in [
        ("771451e1", "771451", "TypeError: screenshot error one"),
        ("771451e2", "771451", "TypeError: screenshot error one"),
        ("771452e1", "771452", "RangeError: screenshot error two"),
    ] {
        assert_eq!(a.send_sentry("error", &error_body(event, issue, title)).status, 200);
    }

    let b = Browser::new();
    b.goto(&url(a, "/"));
    wait_cards(&b, &[("771401", "TODO"), ("771402", "DOING"), ("771403", "DONE")]);
    let path = b.save_screenshot("board");
    assert!(std::fs::read(&path).unwrap().starts_with(b"\x89PNG\r\n\x1a\n"), "{} is not a PNG", path.display());

    a.wait_for("the error events in the error log", QUEUE_WAIT, || {
        let r = a.request("GET", "/api/errors/771451", &[], b"");
        (r.status == 200 && r.json()["group"]["event_count"].as_i64() == Some(2)).then_some(())
    });
    b.goto(&url(a, "/errors.html"));
    b.wait_for("the error groups on /errors.html", WAIT, |b| {
        let text = b.execute("return document.body.innerText", vec![]);
        text.as_str()
            .is_some_and(|t| t.contains("screenshot error one") && t.contains("screenshot error two"))
            .then_some(())
    });
    b.save_screenshot("errors");

    // A phone: the columns stack and nothing scrolls sideways.
    b.set_window_size(375, 812);
    b.goto(&url(a, "/"));
    wait_cards(&b, &[("771401", "TODO"), ("771402", "DOING"), ("771403", "DONE")]);
    let layout = b.execute(
        r#"
        function rect(c) { return document.querySelector('section.column[data-column="' + c + '"]').getBoundingClientRect(); }
        var todo = rect('TODO'), doing = rect('DOING'), done = rect('DONE');
        return { width: window.innerWidth, scroll: document.documentElement.scrollWidth,
                 stacked: doing.top >= todo.bottom - 1 && done.top >= doing.bottom - 1 };
        "#,
        vec![],
    );
    assert!(layout["width"].as_i64().unwrap() <= 375, "the viewport is not phone-sized: {layout}");
    assert!(
        layout["scroll"].as_i64().unwrap() <= layout["width"].as_i64().unwrap(),
        "the board scrolls sideways at 375 px: {layout}"
    );
    assert_eq!(layout["stacked"], true, "the columns do not stack at 375 px: {layout}");
    b.save_screenshot("board-mobile");
}

/// Issue 17.5: the board gets each card's comment count with the cards and
/// loads a card's comments only when they are opened; an edit made while
/// they are open shows on the next poll.
#[test]
fn a_cards_comments_load_when_opened_and_follow_an_edit() {
    let a = board_app();
    let id = "771601";
    send_issue(a, id, "unresolved", "TypeError: comments 771601", "browser-comments");
    let comment = |action: &str, text: &str, ago: i64| {
        let body = format!(
            r#"{{"action":"{action}","installation":{{"uuid":"browser-inst"}},"data":{{"comment":"{text}","project_slug":"x","comment_id":771601,"issue_id":{id},"timestamp":"2022-03-02T21:51:44.118160Z"}},"actor":{{"type":"user","id":1,"name":"colleen"}}}}"#
        );
        let r = a.send_sentry_at("comment", &body, Some(past(ago)));
        assert_eq!(r.status, 200, "{}", r.body);
    };
    comment("created", "first look", 30);

    let b = Browser::new();
    b.goto(&url(a, "/"));
    wait_cards(&b, &[(id, "TODO")]);
    let summary = b.wait_find(&format!("article.card[data-id=\"{id}\"] details.comments summary"), WAIT);
    assert_eq!(b.text(&summary), "1 comment");
    let text_css = format!("article.card[data-id=\"{id}\"] .comment-text");
    assert!(b.try_find(&text_css).is_none(), "the comments were loaded before they were opened");
    b.click(&summary);
    let shown = |want: &'static str| {
        let css = text_css.clone();
        move |b: &Browser| b.try_find(&css).and_then(|e| b.try_text(&e)).filter(|t| t == want)
    };
    b.wait_for("the comment, once opened", WAIT, shown("first look"));
    comment("updated", "second look", 20);
    b.wait_for("the edited comment", WAIT, shown("second look"));
}

/// A card's History, opened on the board, tells its changes in words:
/// Sentry's assignment, the move made on the board, Sentry re-opening it.
#[test]
fn a_cards_history_shows_who_moved_it_and_how() {
    let a = board_app();
    let id = "771801";
    send_assigned(a, id, "TypeError: history 771801", "browser-history");
    let b = Browser::new();
    b.goto(&url(a, "/"));
    wait_cards(&b, &[(id, "DOING")]);
    b.send_keys(&card_element(&b, id), ARROW_RIGHT);
    wait_put(a, id, "status", "resolved");
    a.wait_for("the write-back settled", QUEUE_WAIT, || a.item(id).filter(|c| c["writeback"].is_null()));
    let reopened =
        issue_body("unresolved", id, "unresolved", "TypeError: history 771801", "browser-history", Some(ALICE));
    assert_eq!(a.send_sentry_at("issue", &reopened, Some(past(0))).status, 200);
    wait_cards(&b, &[(id, "DOING")]);

    let summary = b.wait_find(&format!("article.card[data-id=\"{id}\"] details.history summary"), WAIT);
    assert_eq!(b.text(&summary), "History");
    let entries = format!("article.card[data-id=\"{id}\"] .history-entry");
    assert!(b.try_find(&entries).is_none(), "the history was loaded before it was opened");
    b.click(&summary);
    let script = format!(
        "return Array.prototype.map.call(document.querySelectorAll('{}'), function (e) {{ return e.textContent; }})",
        entries.replace('\'', "\\'")
    );
    let lines = b.wait_for("the card's history", WAIT, |b| {
        let got = b.execute(&script, vec![]);
        let lines: Vec<String> = got.as_array()?.iter().filter_map(|v| v.as_str().map(str::to_string)).collect();
        lines.iter().any(|l| l.starts_with("re-opened")).then_some(lines)
    });
    // (With lanes, a status change also moves the substatus: more entries.)
    let starts: Vec<&str> =
        lines.iter().map(|l| l.split(',').next().unwrap_or("")).filter(|l| !l.starts_with("substatus")).collect();
    assert_eq!(
        starts,
        [
            "moved to DOING by Sentry",
            "assigned to Alice by Sentry",
            "moved to DONE via the board",
            "re-opened into DOING by Sentry"
        ],
        "{lines:#?}"
    );
    b.save_screenshot("history");
}
