//! Browser: the delivery page's "Replay" button (issue 20.5) in headless
//! Chromium against a worker of its own. A verified Sentry delivery that
//! could not be used keeps its body, and its row offers a Replay; a click
//! runs it again through the webhook's path, and the page shows the new
//! entry, marked as the replay of the first. A delivery that was applied
//! keeps nothing and offers nothing.

use crate::app;
use crate::webdriver;

use app::{fresh_request_id, spawn_app, App, SECRET};
use serde_json::{json, Value};
use std::time::Duration;
use webdriver::{Browser, Element};

/// Page loads, renders and the replay's round trip finish well within this
/// on a loaded two-core machine; it bounds polling, not speed.
const WAIT: Duration = Duration::from_secs(30);
/// The page polls every 15 s; the replay's row must come sooner, from the
/// refresh the click itself makes.
const CLICK_WAIT: Duration = Duration::from_secs(10);

/// The rows of the delivery table whose request-id cell reads `arguments[0]`,
/// as shown: verdict, HTTP status, reason, the "replay of #n" mark and the Replay
/// button (text, tooltip, whether it is rendered and enabled).
const ROWS: &str = r#"
    var rid = arguments[0];
    var rows = [].slice.call(document.querySelectorAll('#deliveries tbody tr.delivery'));
    function text(tr, css) { var e = tr.querySelector(css); return e ? e.textContent : null; }
    return rows.filter(function (tr) { return text(tr, 'td.request-id') === rid; }).map(function (tr) {
        var b = tr.querySelector('td.replay button.replay-button');
        return {
            verdict: text(tr, 'td.verdict .verdict-tag'),
            http: text(tr, 'td.http'),
            reason: text(tr, 'td.error-text'),
            replay_of: text(tr, 'td.replay .replay-of'),
            button: b ? { text: b.textContent, title: b.title, disabled: b.disabled,
                          shown: b.getClientRects().length > 0 } : null,
        };
    });
"#;

fn rows(b: &Browser, rid: &str) -> Vec<Value> {
    b.execute(ROWS, vec![json!(rid)]).as_array().cloned().unwrap_or_default()
}

/// Signed with the webhook secret, so verified, but not JSON (and not even
/// UTF-8 in places): logged as `unusable`, with its bytes kept.
fn send_unusable(a: &App, rid: &str) -> app::Reply {
    let body: &[u8] = b"{\"action\":\"resolved\",\"data\":{\"issue\":{}}, \xff trailing";
    let sig = sentry_kanban::verify::sign_hex(SECRET.as_bytes(), body);
    a.request(
        "POST",
        "/api/webhooks/sentry",
        &[("Sentry-Hook-Resource", "issue"), ("Sentry-Hook-Signature", &sig), ("Request-ID", rid)],
        body,
    )
}

/// The Replay button in the row of `rid` that has one, found through
/// WebDriver so the click is a user's (it must be visible and enabled).
fn replay_button(b: &Browser, rid: &str) -> Option<Element> {
    b.find_all("#deliveries tbody tr.delivery").into_iter().find_map(|tr| {
        let id_cell = b.find_in(&tr, "td.request-id").into_iter().next()?;
        if b.try_text(&id_cell)? != rid {
            return None;
        }
        b.find_in(&tr, "td.replay button.replay-button").into_iter().next()
    })
}

#[test]
fn replaying_an_unusable_delivery_from_its_row_shows_the_new_entry() {
    let a = spawn_app(&[]);
    let rid = fresh_request_id();
    let r = send_unusable(&a, &rid);
    assert_eq!(r.status, 200, "{}", r.body);
    let original =
        a.deliveries().into_iter().find(|d| d["request_id"] == rid.as_str()).expect("the delivery is logged");
    assert_eq!((original["verdict"].as_str(), original["body_kept"].as_f64()), (Some("unusable"), Some(1.0)));
    let id = original["id"].as_f64().expect("an id") as i64;

    // A delivery that was applied: its row offers no replay.
    let applied = fresh_request_id();
    let body = json!({"action": "created", "installation": {"uuid": "browser-replay"},
        "data": {"issue": {"id": "20551", "title": "Boom 20551", "status": "unresolved", "assignedTo": null}},
        "actor": {"type": "application", "id": "sentry", "name": "Sentry"}});
    let r = a.send_sentry_with("issue", &body.to_string(), None, &[("Request-ID", &applied)]);
    assert_eq!(r.status, 200, "{}", r.body);

    let b = Browser::new();
    b.goto(&format!("{}/deliveries", a.base));
    let shown = b.wait_for("the unusable delivery's row", WAIT, |b| {
        let got = rows(b, &rid);
        (got.len() == 1).then(|| got[0].clone())
    });
    assert_eq!((shown["verdict"].as_str(), shown["http"].as_str()), (Some("unusable"), Some("200")), "{shown}");
    assert_eq!(shown["reason"], "the body is not UTF-8", "{shown}");
    assert_eq!(shown["replay_of"], Value::Null, "the original is no replay: {shown}");
    let button = &shown["button"];
    assert_eq!((button["text"].as_str(), button["shown"].as_bool()), (Some("Replay"), Some(true)), "{shown}");
    assert_eq!(button["disabled"], false, "{shown}");
    assert!(button["title"].as_str().unwrap_or("").contains(&format!("#{id}")), "the tooltip names #{id}: {shown}");
    let plain = b.wait_for("the applied delivery's row", WAIT, |b| rows(b, &applied).into_iter().next());
    assert_eq!(plain["button"], Value::Null, "an applied delivery kept no body to replay: {plain}");

    let button = b.wait_for("the Replay button", WAIT, |b| replay_button(b, &rid));
    assert!(b.displayed(&button));
    b.click(&button);

    // The page refreshes after the replay: a second row for the same request,
    // marked as the replay of the first, with the same verdict.
    let mark = format!("replay of #{id}");
    let after = b.wait_for("the replay's row", CLICK_WAIT, |b| {
        let got = rows(b, &rid);
        (got.len() == 2 && got.iter().any(|r| r["replay_of"] == mark.as_str())).then_some(got)
    });
    let replay = after.iter().find(|r| r["replay_of"] == mark.as_str()).unwrap();
    assert_eq!(
        (replay["verdict"].as_str(), replay["reason"].as_str()),
        (Some("unusable"), Some("the body is not UTF-8")),
        "the same body is unusable for the same reason: {replay}"
    );
    let first = after.iter().find(|r| r["replay_of"].is_null()).expect("the original row stays");
    assert_eq!(first["button"]["text"], "Replay", "{first}");
    let banner = b.execute("var e = document.getElementById('error'); return e.hidden ? null : e.textContent", vec![]);
    assert_eq!(banner, Value::Null, "the replay reported a failure");
    b.save_screenshot("deliveries-replay");

    // What the page shows is the log's new entry.
    let log = a.deliveries();
    let entry = log.iter().find(|d| d["replay_of"].as_f64() == Some(id as f64)).expect("a replay entry");
    assert_eq!((entry["request_id"].as_str(), entry["verdict"].as_str()), (Some(rid.as_str()), Some("unusable")));
    assert_ne!(entry["id"], original["id"]);
    a.stop();
}
