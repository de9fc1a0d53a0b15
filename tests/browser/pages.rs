//! Browser tests: the pages in headless Chromium (Debian's, driven through
//! chromedriver by the small WebDriver client in webdriver.rs)
//! against the real worker under `wrangler dev`. Cards come from signed
//! Sentry webhooks; write-backs are asserted on the mock Sentry API.
//! Each test has a browser of its own and its own issue ids, so tests share
//! the workers. Screenshots land in target/screenshots/.

mod cards;
mod login;
mod screenshots;

use crate::app;
use crate::webdriver;

use crate::scenario::Scenario;
use app::{spawn_app, App, INTERNAL_ORG};
use serde_json::{json, Value};
use std::collections::BTreeSet;
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

/// A worker in token mode (`DASHBOARD_TOKEN`): pages and the API need a login.
fn token_app() -> &'static App {
    static APP: Scenario = Scenario::new(module_path!(), || spawn_app(&[("DASHBOARD_TOKEN", DASHBOARD_TOKEN)]));
    APP.app()
}

/// The board worker: internal-integration mode, so a card's org has a token
/// and moves are written back to the mock Sentry; no dashboard credentials
/// and a loopback host, so the pages are open.
fn board_app() -> &'static App {
    static APP: Scenario = Scenario::new(module_path!(), app::spawn_internal);
    APP.app()
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
