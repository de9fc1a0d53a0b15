//! End to end: signed Sentry deliveries into the real worker under
//! `wrangler dev`, asserted through the JSON API. Each test uses its own
//! issue ids, so they share one running worker.

use crate::app;

use crate::scenario::Scenario;
use app::{App, SECRET};
use serde_json::Value;
use std::collections::BTreeSet;
use std::time::Duration;

/// This module's worker, default settings (its scenario group).
fn app() -> &'static App {
    static APP: Scenario = Scenario::new(module_path!(), app::spawn_default);
    APP.app()
}

/// This module's worker that also requires `Authorization: Bearer BEARER`.
fn bearer_app() -> &'static App {
    static APP: Scenario = Scenario::new(module_path!(), app::spawn_bearer);
    APP.app()
}

/// A compact, ASCII-escaped body shaped like Sentry's real deliveries.
fn issue_body(action: &str, id: &str, status: &str, assigned_to: &str, extra: &str) -> String {
    format!(
        concat!(
            r#"{{"action":"{action}","installation":{{"uuid":"a8e5d37a-696c-4c54-adb5-b3f28d64c7de"}},"data":{{{extra}"issue":{{"#,
            r#""id":"{id}","shortId":"FRONT-END-{id}","title":"ReferenceError: caf\u00e9 \u2013 {id}","culprit":"?(runner)","#,
            r#""permalink":"https://sentry.example/issues/{id}/","level":"error","status":"{status}","substatus":"ongoing","#,
            r#""project":{{"id":"1","name":"front-end","slug":"front-end","platform":""}},"count":"3","userCount":1,"#,
            r#""firstSeen":"2019-08-19T20:58:37.391000Z","lastSeen":"2019-08-19T21:58:37.391000+00:00","assignedTo":{assigned}}}}},"#,
            r#""actor":{{"type":"application","id":"sentry","name":"Sentry"}}}}"#
        ),
        action = action,
        id = id,
        status = status,
        assigned = assigned_to,
        extra = extra,
    )
}

const ALICE: &str = r#"{"type":"user","id":"7","name":"Alice","email":"alice@example.com"}"#;

fn assigned_extra(who: &str) -> String {
    format!(r#""assignee":{who},"#)
}

/// An epoch-seconds hook timestamp `secs` ago: the worker clamps future ones to now.
fn past(secs: i64) -> i64 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    now - secs
}

fn card(id: &str) -> Value {
    app().item(id).unwrap_or_else(|| panic!("no card {id} on the board"))
}

#[test]
fn created_issue_becomes_a_todo_card_once() {
    let body = issue_body("created", "9001", "unresolved", "null", "");
    for _ in 0..2 {
        let r = app().send_sentry("issue", &body);
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let cards: Vec<_> = app().items().into_iter().filter(|i| i["id"] == "9001").collect();
    assert_eq!(cards.len(), 1, "a redelivery made a second card");
    let c = &cards[0];
    assert_eq!(c["column"], "TODO");
    assert_eq!(c["ignored"], false);
    assert_eq!(c["title"], "ReferenceError: café – 9001");
    assert_eq!(c["short_id"], "FRONT-END-9001");
    assert_eq!(c["sentry_issue_id"], "9001");
    assert_eq!(c["permalink"], "https://sentry.example/issues/9001/");
    assert_eq!(c["level"], "error");
    assert_eq!(c["status"], "unresolved");
    assert_eq!(c["project"], "front-end");
    assert_eq!(c["assignee"], Value::Null);
    assert_eq!(c["last_seen"], "2019-08-19T21:58:37.391Z");
}

#[test]
fn created_resolved_issue_lands_in_done() {
    app().send_sentry("issue", &issue_body("created", "9002", "resolved", "null", ""));
    assert_eq!(card("9002")["column"], "DONE");
}

#[test]
fn every_issue_action_moves_the_card() {
    let id = "9003";
    let t0 = past(3600);
    let step = |action: &str, status: &str, assigned: &str, extra: &str, ts: i64| {
        let r = app().send_sentry_at("issue", &issue_body(action, id, status, assigned, extra), Some(ts));
        assert_eq!(r.status, 200, "{action}: {}", r.body);
        card(id)
    };
    assert_eq!(step("created", "unresolved", "null", "", t0)["column"], "TODO");

    let c = step("assigned", "unresolved", ALICE, &assigned_extra(ALICE), t0 + 1);
    assert_eq!(c["column"], "DOING");
    assert_eq!(c["assignee"]["name"], "Alice");
    assert_eq!(c["assignee"]["email"], "alice@example.com");
    assert_eq!(c["assignee"]["type"], "user");

    let c = step("resolved", "resolved", ALICE, r#""resolution_type":"resolved","#, t0 + 2);
    assert_eq!((c["column"].as_str(), c["status"].as_str()), (Some("DONE"), Some("resolved")));

    let c = step("unresolved", "unresolved", ALICE, "", t0 + 3);
    assert_eq!(c["column"], "DOING", "unresolved but still assigned");

    let c = step("ignored", "ignored", ALICE, "", t0 + 4);
    assert_eq!(c["ignored"], true);

    let c = step("unresolved", "unresolved", "null", "", t0 + 5);
    assert_eq!((c["column"].as_str(), c["ignored"].as_bool()), (Some("TODO"), Some(false)));

    let c = step("archived", "ignored", "null", "", t0 + 6);
    assert_eq!(c["ignored"], true);
}

#[test]
fn team_assignment_is_stored_as_a_team() {
    let team = r#"{"type":"team","id":"4","name":"backend"}"#;
    app().send_sentry("issue", &issue_body("assigned", "9004", "unresolved", team, &assigned_extra(team)));
    let c = card("9004");
    assert_eq!(c["column"], "DOING");
    assert_eq!(c["assignee"]["type"], "team");
    assert_eq!(c["assignee"]["name"], "backend");
}

#[test]
fn a_status_webhook_without_a_card_creates_it() {
    app().send_sentry("issue", &issue_body("resolved", "9005", "resolved", "null", r#""resolution_type":"resolved","#));
    assert_eq!(card("9005")["column"], "DONE");
}

#[test]
fn an_older_delivery_does_not_undo_a_newer_state() {
    let t = past(600);
    app().send_sentry_at("issue", &issue_body("resolved", "9006", "resolved", "null", ""), Some(t + 10));
    let r = app().send_sentry_at("issue", &issue_body("created", "9006", "unresolved", "null", ""), Some(t));
    assert_eq!(r.status, 200);
    assert_eq!(card("9006")["column"], "DONE");
}

#[test]
fn bad_and_missing_signatures_are_401_and_write_nothing() {
    let body = issue_body("created", "9007", "unresolved", "null", "");
    let wrong = sentry_kanban::verify::sign_hex(b"not-the-secret", body.as_bytes());
    for headers in [
        vec![("Sentry-Hook-Resource", "issue"), ("Sentry-Hook-Signature", wrong.as_str())],
        vec![("Sentry-Hook-Resource", "issue")],
    ] {
        let r = app().request("POST", "/api/webhooks/sentry", &headers, body.as_bytes());
        assert_eq!(r.status, 401, "{}", r.body);
    }
    assert!(app().item("9007").is_none(), "an unauthenticated delivery wrote a card");
}

#[test]
fn app_signature_header_and_alternate_paths_are_accepted() {
    let body = issue_body("created", "9008", "unresolved", "null", "");
    let sig = sentry_kanban::verify::sign_hex(SECRET.as_bytes(), body.as_bytes());
    for path in ["/api/webhooks/sentry/", "/api/sentry/webhook/", "/api/sentry/webhook"] {
        let r = app().request(
            "POST",
            path,
            &[("Sentry-Hook-Resource", "issue"), ("Sentry-App-Signature", &sig)],
            body.as_bytes(),
        );
        assert_eq!(r.status, 200, "{path}: {}", r.body);
    }
    assert_eq!(card("9008")["column"], "TODO");
}

/// Verified but unusable: 2xx (Sentry never retries a 4xx, so an error
/// would only hide the reason), with the reason in the reply, its headers
/// and the delivery log.
#[test]
fn a_signed_non_json_body_is_accepted_as_unusable() {
    let rid = app::fresh_request_id();
    let r = app().send_sentry_with("issue", "this is not json", None, &[("Request-ID", &rid)]);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.json()["unusable"].as_str().unwrap_or("").contains("not a JSON webhook envelope"), "{}", r.body);
    assert_eq!(app::App::header(&r, "Sentry-Kanban-Verdict"), Some("unusable"));
    assert!(app::App::header(&r, "Sentry-Kanban-Reason").is_some_and(|v| v.contains("JSON")));
    let logged = app().deliveries().into_iter().find(|d| d["request_id"] == rid.as_str()).expect("logged");
    assert_eq!(logged["verdict"], "unusable");
    assert!(logged["error"].as_str().unwrap_or("").contains("not a JSON webhook envelope"), "{logged}");
}

#[test]
fn an_oversized_body_is_413() {
    let body = format!(r#"{{"action":"created","data":{{"pad":"{}"}}}}"#, "x".repeat(1024 * 1024));
    let r = app().send_sentry("issue", &body);
    assert_eq!(r.status, 413, "{}", r.body);
}

#[test]
fn unknown_resources_and_actions_answer_2xx_and_write_nothing() {
    let before = app().items().len();
    let r =
        app().send_sentry("seer", r#"{"action":"root_cause_started","installation":{"uuid":"x"},"data":{"run_id":1}}"#);
    assert_eq!(r.status, 200, "{}", r.body);
    let r = app().send_sentry("issue", &issue_body("exploded", "9009", "unresolved", "null", ""));
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(app().item("9009").is_none());
    assert!(app().items().len() >= before);
}

#[test]
fn deliveries_that_need_a_look_are_logged_without_secrets_or_bodies() {
    let body = issue_body("created", "9010", "unresolved", "null", "");
    let rid = [("Request-ID", "log9010applied")];
    assert_eq!(app().send_sentry_with("issue", &body, None, &rid).status, 200);
    let unusable = r#"{"action":"created","data":{"issue":{"title":"caf\u00e9 \u2013 9011 without an id"}}}"#;
    let rid = [("Request-ID", "log9011unusable")];
    assert_eq!(app().send_sentry_with("issue", unusable, None, &rid).status, 200);
    let log = app().wait_for("the unusable delivery's line", Duration::from_secs(10), || {
        let log = app().log_text();
        log.contains("log9011unusable").then_some(log)
    });
    let line = log.lines().find(|l| l.contains("log9011unusable")).unwrap_or_default();
    assert!(line.contains(r#""event":"delivery""#) && line.contains(r#""verdict":"unusable""#), "{line}");
    assert!(!log.contains("log9010applied"), "an applied delivery is on the delivery page, not in the console");
    assert!(app().deliveries().iter().any(|d| d["request_id"] == "log9010applied"), "and it is on the delivery page");
    assert!(!log.contains(SECRET), "the secret reached the log");
    assert!(!log.contains("caf\\u00e9 \\u2013 90") && !log.contains("café – 90"), "a body reached the log");
}

#[test]
fn the_board_page_is_served() {
    let r = app().request("GET", "/", &[], b"");
    assert_eq!(r.status, 200);
    assert!(r.body.contains("sentry-kanban"), "{}", &r.body[..r.body.len().min(300)]);
}

/// Each quoted value that follows `marker` in `text` (up to its closing quote).
fn quoted_after(text: &str, marker: &str) -> Vec<String> {
    text.match_indices(marker)
        .filter_map(|(at, _)| {
            let rest = &text[at + marker.len()..];
            rest.find('"').map(|end| rest[..end].to_string())
        })
        .collect()
}

/// The site paths `source` (served at `path`) imports: the `from "./x.js"`
/// or `from "../x.js"` of each `import` or `export {…}`/`export *` statement
/// (one that starts a line, up to its `;`), as the browser resolves them.
fn imports(path: &str, source: &str) -> Vec<String> {
    let statements = source.lines().scan(String::new(), |open, line| {
        let starts = ["import ", "export {", "export *"].iter().any(|s| line.starts_with(s));
        if open.is_empty() && !starts {
            return Some(None);
        }
        open.push_str(line);
        Some(line.trim_end().ends_with(';').then(|| std::mem::take(open)))
    });
    statements
        .flatten()
        .flat_map(|statement| quoted_after(&statement, " from \""))
        .map(|spec| {
            let mut parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
            parts.pop();
            for seg in spec.split('/') {
                match seg {
                    "." => {}
                    ".." => {
                        parts.pop();
                    }
                    s => parts.push(s),
                }
            }
            format!("/{}", parts.join("/"))
        })
        .collect()
}

/// The pages' scripts are ES modules: each is served as JavaScript (a module
/// of another type is refused by the browser), from this origin under the
/// pages' unchanged CSP, and each page preloads every module its scripts
/// import, so all of them arrive in one round trip.
#[test]
fn every_page_module_is_served_as_javascript_and_preloaded_by_its_page() {
    for page in ["/", "/errors", "/deliveries", "/login"] {
        let html = app().request("GET", page, &[], b"");
        assert_eq!(html.status, 200, "{page}");
        let csp = App::header(&html, "Content-Security-Policy").unwrap_or_default();
        assert_eq!(csp, sentry_kanban::routes::CSP, "{page}");
        assert!(!html.body.contains("<script src=") && !html.body.contains("<script>"), "{page}: a classic script");
        let scripts: BTreeSet<String> =
            quoted_after(&html.body, r#"<script type="module" src=""#).into_iter().collect();
        assert!(!scripts.is_empty(), "{page} loads no module");
        let preloaded: BTreeSet<String> =
            quoted_after(&html.body, r#"<link rel="modulepreload" href=""#).into_iter().collect();

        let mut loaded = BTreeSet::new();
        let mut todo: Vec<String> = scripts.iter().cloned().collect();
        while let Some(path) = todo.pop() {
            if !loaded.insert(path.clone()) {
                continue;
            }
            let js = app().request("GET", &path, &[], b"");
            assert_eq!(js.status, 200, "{page} imports {path}");
            let ct = App::header(&js, "Content-Type").unwrap_or_default();
            assert!(ct.starts_with("application/javascript") || ct.starts_with("text/javascript"), "{path}: {ct}");
            assert_eq!(App::header(&js, "X-Content-Type-Options"), Some("nosniff"), "{path}");
            todo.extend(imports(&path, &js.body));
        }
        let imported: BTreeSet<String> = loaded.difference(&scripts).cloned().collect();
        assert_eq!(preloaded, imported, "{page}: its modulepreload links are not what its scripts import");
    }
    // The shared module every page's scripts go through for the API.
    let shared = app().request("GET", "/lib/api.js", &[], b"");
    assert!(shared.body.contains("export function api("), "{}", shared.body);
}

#[test]
fn a_verbatim_replay_with_a_fresh_timestamp_changes_nothing() {
    let created = issue_body("created", "9011", "unresolved", "null", "");
    app().send_sentry_at("issue", &created, Some(past(600)));
    app().send_sentry_at("issue", &issue_body("resolved", "9011", "resolved", "null", ""), Some(past(300)));
    // The timestamp is not signed: a replayed body could claim to be newest.
    // A created body under a new Request-ID is a birth certificate: it only
    // fills empty fields.
    let r = app().send_sentry_at("issue", &created, Some(past(0)));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["status"], "kept");
    assert_eq!(card("9011")["column"], "DONE");
    // The same Request-ID with the same body is an exact replay: a no-op.
    let resolved = issue_body("resolved", "9011", "unresolved", "null", "");
    let rid = app::fresh_request_id();
    app().send_sentry_with("issue", &resolved, Some(past(0)), &[("Request-ID", &rid)]);
    assert_eq!(card("9011")["column"], "TODO");
    app().send_sentry_with("issue", &issue_body("resolved", "9011", "resolved", "null", ""), None, &[]);
    let r = app().send_sentry_with("issue", &resolved, Some(past(0)), &[("Request-ID", &rid)]);
    assert_eq!(r.json()["duplicate"], true, "{}", r.body);
    assert_eq!(card("9011")["column"], "DONE");
}

#[test]
fn every_delivery_is_recorded_in_the_delivery_log() {
    let body = issue_body("created", "9012", "unresolved", "null", "");
    let ok = app().send_sentry_with("issue", &body, None, &[("Request-ID", "a9012000000000000000000000000001")]);
    assert_eq!(ok.status, 200);
    let bad = app().request(
        "POST",
        "/api/webhooks/sentry",
        &[
            ("Sentry-Hook-Resource", "issue"),
            ("Sentry-Hook-Signature", &"0".repeat(64)),
            ("Request-ID", "a9012000000000000000000000000002"),
        ],
        body.as_bytes(),
    );
    assert_eq!(bad.status, 401);
    assert_eq!(app::App::header(&bad, "Sentry-Hook-Error"), Some("a9012000000000000000000000000002"));
    let find = |log: Vec<Value>, rid: &str| {
        log.iter().find(|d| d["request_id"] == rid).cloned().unwrap_or_else(|| panic!("{rid} not logged: {log:?}"))
    };
    let accepted = find(app().deliveries(), "a9012000000000000000000000000001");
    assert_eq!((accepted["resource"].as_str(), accepted["action"].as_str()), (Some("issue"), Some("created")));
    assert_eq!((accepted["verdict"].as_str(), accepted["status"].as_f64()), (Some("applied"), Some(200.0)));
    assert!(accepted["latency_ms"].is_number() && accepted["received_at"].is_string());
    // A refused request goes to the bounded ring, never into the log.
    assert!(app().deliveries().iter().all(|d| d["request_id"] != "a9012000000000000000000000000002"));
    let rejected = find(app().rejections(), "a9012000000000000000000000000002");
    assert_eq!((rejected["verdict"].as_str(), rejected["status"].as_f64()), (Some("bad_signature"), Some(401.0)));
}

#[test]
fn the_project_id_is_echoed_to_sentry() {
    let r = app().send_sentry("issue", &issue_body("created", "9013", "unresolved", "null", ""));
    assert_eq!(app::App::header(&r, "Sentry-Hook-Project"), Some("1"));
}

#[test]
fn bearer_mode_requires_the_token_in_addition_to_the_signature() {
    let bearer = bearer_app();
    let body = issue_body("created", "9014", "unresolved", "null", "");
    let auth = format!("Bearer {}", app::BEARER);
    assert_eq!(bearer.send_sentry("issue", &body).status, 401, "signature alone must not do");
    assert_eq!(bearer.send_sentry_with("issue", &body, None, &[("Authorization", "Bearer wrong")]).status, 401);
    let unsigned = bearer.request(
        "POST",
        "/api/webhooks/sentry",
        &[("Sentry-Hook-Resource", "issue"), ("Authorization", &auth)],
        body.as_bytes(),
    );
    assert_eq!(unsigned.status, 401, "the token alone must not do");
    assert!(bearer.item("9014").is_none());
    let r = bearer.send_sentry_with("issue", &body, None, &[("Authorization", &auth)]);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(bearer.item("9014").expect("card")["column"], "TODO");
}

fn comment_body(action: &str, comment_id: u64, issue_id: &str, text: &str) -> String {
    format!(
        r#"{{"action":"{action}","installation":{{"uuid":"eac5a0ae-60ec-418f-9318-46dc5e7e52ec"}},"data":{{"comment":"{text}","project_slug":"sentry","comment_id":{comment_id},"issue_id":{issue_id},"timestamp":"2022-03-02T21:51:44.118160Z"}},"actor":{{"type":"user","id":1,"name":"colleen"}}}}"#
    )
}

/// `GET /api/items/{id}/comments`; a repeat with its ETag is a 304.
fn card_comments(id: &str) -> Value {
    let r = app().request("GET", &format!("/api/items/{id}/comments"), &[], b"");
    assert_eq!(r.status, 200, "{}", r.body);
    let tag = app::App::header(&r, "ETag").expect("an ETag").to_string();
    let again = app().request("GET", &format!("/api/items/{id}/comments"), &[("If-None-Match", &tag)], b"");
    assert_eq!(again.status, 304, "{}", again.body);
    r.json()
}

#[test]
fn comments_follow_their_card_and_need_one() {
    app().send_sentry("issue", &issue_body("created", "9020", "unresolved", "null", ""));
    let r =
        app().send_sentry_at("comment", &comment_body("created", 77001, "9020", "first look \\u00e9"), Some(past(30)));
    assert_eq!(r.status, 200, "{}", r.body);
    // Issue 17.5: the board carries a count and a version; the comments
    // come from the card's own endpoint.
    let c = card("9020");
    assert_eq!(c["comment_count"], 1, "{c}");
    assert!(c.get("comments").is_none(), "{c}");
    let comments = card_comments("9020");
    assert_eq!(comments["comments"].as_array().map(Vec::len), Some(1), "{comments}");
    assert_eq!(comments["comments"][0]["text"], "first look é");
    assert_eq!(comments["comments"][0]["author"], "colleen");
    assert_eq!(comments["version"], c["comments_version"]);

    app().send_sentry_at("comment", &comment_body("updated", 77001, "9020", "second look"), Some(past(20)));
    assert_eq!(card_comments("9020")["comments"][0]["text"], "second look");
    assert_ne!(card("9020")["comments_version"], c["comments_version"], "an edit moves the version");
    app().send_sentry_at("comment", &comment_body("deleted", 77001, "9020", "second look"), Some(past(10)));
    assert_eq!(card_comments("9020")["comments"].as_array().map(Vec::len), Some(0));
    assert_eq!(card("9020")["comment_count"], 0);

    let orphan = app().send_sentry("comment", &comment_body("created", 77002, "9999020", "no card"));
    assert_eq!(orphan.status, 200, "{}", orphan.body);
    assert!(app().item("9999020").is_none(), "a comment created a card");
}

#[test]
fn alerts_become_their_own_cards() {
    let event_alert = r#"{"action":"triggered","installation":{"uuid":"u"},"data":{"event":{"event_id":"e4874d664c3540c1a32eab185f12c5ab","issue_id":"9021","title":"ReferenceError: heck is not defined","culprit":"?(<anonymous>)","level":"error","datetime":"2019-08-19T21:06:17.677000Z","web_url":"https://sentry.example/issues/9021/events/e48/"},"triggered_rule":"Send a notification for new issues"},"actor":{"type":"application","id":"sentry","name":"Sentry"}}"#;
    let r = app().send_sentry("event_alert", event_alert);
    assert_eq!(r.status, 200, "{}", r.body);
    let alert = app()
        .items()
        .into_iter()
        .find(|i| i["kind"] == "event_alert" && i["sentry_issue_id"] == "9021")
        .expect("event alert card");
    assert_eq!(alert["column"], "TODO");

    let metric = |action: &str| {
        format!(
            r#"{{"action":"{action}","installation":{{"uuid":"u"}},"data":{{"description_text":"1000 events","description_title":"Too many errors","metric_alert":{{"id":"90210","alert_rule":{{"id":"7","name":"Too many errors","projects":["bar"]}},"status":1}},"web_url":"https://sentry.example/alerts/7/"}},"actor":{{"type":"application","id":"sentry","name":"Sentry"}}}}"#
        )
    };
    app().send_sentry_at("metric_alert", &metric("critical"), Some(past(20)));
    let find = || {
        app()
            .items()
            .into_iter()
            .filter(|i| i["kind"] == "metric_alert" && i["id"] == "metric_alert:90210")
            .collect::<Vec<_>>()
    };
    assert_eq!(find().len(), 1);
    assert_eq!(find()[0]["column"], "TODO");
    app().send_sentry_at("metric_alert", &metric("warning"), Some(past(15)));
    let warned = find();
    assert_eq!(
        (warned.len(), warned[0]["column"].as_str(), warned[0]["status"].as_str()),
        (1, Some("TODO"), Some("warning"))
    );
    app().send_sentry_at("metric_alert", &metric("resolved"), Some(past(10)));
    let cards = find();
    assert_eq!(cards.len(), 1, "a metric alert is one card, updated in place");
    assert_eq!(cards[0]["column"], "DONE");
}

#[test]
fn the_webhook_ack_path_calls_no_api() {
    let r = app().send_sentry("issue", &issue_body("created", "9030", "unresolved", "null", ""));
    assert_eq!(r.status, 200);
    let calls = app().mock.calls();
    assert!(calls.is_empty(), "the ack path reached out to the API: {calls:?}");
}
