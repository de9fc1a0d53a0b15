//! End to end: Sentry error events through the queue into the error log,
//! against `wrangler dev`. Each test uses its own issue ids.

use crate::app;

use crate::scenario::Scenario;
use app::App;
use serde_json::{json, Value};
use std::path::Path;
use std::time::Duration;

/// This module's worker, default settings (its scenario group).
fn app() -> &'static App {
    static APP: Scenario = Scenario::new(module_path!(), app::spawn_default);
    APP.app()
}

/// A compact error delivery shaped like Sentry's, with `extra` spliced into
/// the event object.
fn error_body(action: &str, event_id: &str, issue_id: &str, title: &str, extra: &str) -> String {
    format!(
        concat!(
            r#"{{"action":"{action}","installation":{{"uuid":"e2e-errors"}},"data":{{"error":{{"event_id":"{event}","#,
            r#""issue_id":"{issue}","title":"{title}","culprit":"?(runner)","level":"error","platform":"javascript","#,
            r#""project":1,"environment":"prod","release":"1.0","datetime":"{time}","#,
            r#""exception":{{"values":[{{"type":"ReferenceError","value":"x","stacktrace":{{"frames":[{{"filename":"a.js","function":"f","lineno":1}}]}}}}]}},"#,
            r#""web_url":"https://sentry.example/issues/{issue}/events/{event}/"{extra}}}}},"actor":{{"type":"application","id":"sentry","name":"Sentry"}}}}"#
        ),
        action = action,
        event = event_id,
        issue = issue_id,
        title = title,
        time = hours_ago(event_id.bytes().map(u64::from).sum::<u64>() % 72),
        extra = extra,
    )
}

/// An event time `h` hours ago, spread over recent hourly buckets.
fn hours_ago(h: u64) -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    sentry_kanban::time::format_millis(now - h as i64 * 3_600_000)
}

fn group(a: &App, issue: &str) -> Option<Value> {
    let r = a.request("GET", &format!("/api/errors/{issue}"), &[], b"");
    (r.status == 200).then(|| r.json())
}

fn wait_count(a: &App, issue: &str, n: i64) -> Value {
    a.wait_for(&format!("{n} events in group {issue}"), Duration::from_secs(120), || {
        group(a, issue).filter(|g| g["group"]["event_count"].as_i64() == Some(n))
    })
}

#[test]
fn a_burst_with_duplicates_is_counted_exactly() {
    let a = app();
    let issues = [("880001", 120), ("880002", 80), ("880003", 40)];
    let mut bodies: Vec<(String, String)> = vec![];
    for (issue, n) in issues {
        for i in 0..n {
            let event = format!("{issue}e{i:04}");
            bodies.push((event.clone(), error_body("created", &event, issue, &format!("Burst {issue}"), "")));
        }
    }
    // Every fourth event is delivered twice (Sentry retries, or a replay).
    let dupes: Vec<(String, String)> = bodies.iter().step_by(4).cloned().collect();
    bodies.extend(dupes);
    std::thread::scope(|s| {
        for chunk in bodies.chunks(bodies.len().div_ceil(8)) {
            s.spawn(move || {
                for (event, body) in chunk {
                    let r = a.send_sentry("error", body);
                    assert_eq!(r.status, 200, "{event}: {}", r.body);
                    assert_eq!(r.json()["queued"], event.as_str());
                }
            });
        }
    });
    for (issue, n) in issues {
        let g = wait_count(a, issue, n);
        // All events are from the last three days: the series add up.
        let daily: i64 = g["daily"].as_array().unwrap().iter().map(|d| d["count"].as_i64().unwrap()).sum();
        let hourly: i64 = g["hourly"].as_array().unwrap().iter().map(|h| h["count"].as_i64().unwrap()).sum();
        assert_eq!((daily, hourly), (n, n), "{g}");
        assert!(g["hourly"].as_array().unwrap().len() > 1, "events spread over several hours");
        assert!(g["events"].as_array().unwrap().len() <= 50);
        assert_eq!(g["group"]["title"], format!("Burst {issue}"));
    }
    let listed = a.list("/api/errors?q=Burst&sort=count", "groups");
    let counts: Vec<(String, i64)> = listed
        .iter()
        .map(|g| (g["issue_id"].as_str().unwrap().to_string(), g["event_count"].as_i64().unwrap()))
        .collect();
    assert_eq!(counts, issues.iter().map(|(i, n)| (i.to_string(), *n)).collect::<Vec<_>>());
    for (g, (_, n)) in listed.iter().zip(issues) {
        let trend: Vec<i64> = g["trend"].as_array().unwrap().iter().map(|v| v.as_i64().unwrap()).collect();
        assert_eq!((trend.len(), trend.iter().sum::<i64>()), (14, n), "{g}");
    }
    // Error events never touch D1 on the ack path: not in the delivery log
    // table, so their console line is their record (whatever LOG_DELIVERIES
    // says), and the consumer's batches log what they wrote.
    assert!(!a.deliveries().iter().any(|d| d["resource"] == "error"));
    assert!(a.log_text().contains(r#""verdict":"queued""#));
    assert!(a.log_text().contains(r#""event":"errors_ingested""#));
}

#[test]
fn non_ascii_titles_and_the_event_created_spelling() {
    let a = app();
    let body = error_body("event.created", "881001e1", "881001", r"Caf\u00e9 \u2603 \ud83d\udca5", "");
    let r = a.send_sentry("event", &body);
    assert_eq!(r.status, 200, "{}", r.body);
    let g = wait_count(a, "881001", 1);
    assert_eq!(g["group"]["title"], "Café ☃ 💥");
    assert_eq!(g["group"]["status"], "OPEN");
    assert_eq!(g["group"]["sample"]["exceptions"][0]["type"], "ReferenceError");
}

#[test]
fn group_status_follows_the_issue() {
    let a = app();
    a.send_sentry("error", &error_body("created", "882001e1", "882001", "Status", ""));
    wait_count(a, "882001", 1);
    let resolved = r#"{"action":"resolved","installation":{"uuid":"e2e-errors"},"data":{"issue":{"id":"882001","title":"Status","status":"resolved"}},"actor":{"type":"application","id":"sentry","name":"Sentry"}}"#;
    assert_eq!(a.send_sentry("issue", resolved).status, 200);
    let listed = a.list("/api/errors?status=resolved&q=882001", "groups");
    assert_eq!(listed.len(), 1, "{listed:#?}");
    assert_eq!(listed[0]["status"], "RESOLVED");
    assert_eq!(listed[0]["has_card"], true);
    assert!(a.list("/api/errors?status=OPEN&q=882001", "groups").is_empty());
}

#[test]
fn cookies_auth_headers_and_ip_addresses_are_stored_nowhere() {
    let a = app();
    let extra = concat!(
        r#","request":{"url":"https://shop.example/cart?session=MARK_QUERY","method":"POST","cookies":"sid=MARK_COOKIE","#,
        r#""headers":[["Authorization","Bearer MARK_AUTH"],["Cookie","MARK_COOKIE_HEADER"]],"data":{"card":"MARK_BODY"},"#,
        r#""env":{"REMOTE_ADDR":"203.0.113.77"}},"user":{"ip_address":"203.0.113.99","email":"MARK_EMAIL"},"#,
        r#""tags":[["user","ip:203.0.113.99"],["browser","Firefox"]]"#
    );
    let r = a.send_sentry("error", &error_body("created", "883001e1", "883001", "Sanitised", extra));
    assert_eq!(r.status, 200, "{}", r.body);
    let g = wait_count(a, "883001", 1);
    assert_eq!(g["group"]["sample"]["request"]["url"], "https://shop.example/cart");
    assert_eq!(g["group"]["sample"]["tags"], json!({"browser": "Firefox"}));
    // Every byte the local D1 (and queue) keeps, WAL included.
    let state = a.log.parent().unwrap().join("state");
    let mut files = vec![];
    collect_files(&state, &mut files);
    assert!(files.iter().any(|f| f.to_string_lossy().ends_with(".sqlite")), "no D1 file under {}", state.display());
    for file in files {
        let bytes = std::fs::read(&file).unwrap_or_default();
        for mark in ["MARK_", "203.0.113.77", "203.0.113.99"] {
            assert!(!contains(&bytes, mark.as_bytes()), "{mark} stored in {}", file.display());
        }
    }
}

fn collect_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_files(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn the_error_log_page_is_served() {
    let a = app();
    let page = a.request("GET", "/errors", &[], b"");
    assert_eq!(page.status, 200);
    let old_link = a.request("GET", "/errors.html", &[], b"");
    assert_eq!((old_link.status, App::header(&old_link, "Location")), (307, Some("/errors")));
    assert!(
        page.body.contains(r#"<script type="module" src="/errors.js""#) && page.body.contains(r#"id="groups""#),
        "{}",
        page.body
    );
    let script = a.request("GET", "/errors.js", &[], b"");
    assert_eq!(script.status, 200);
    assert!(script.body.contains("/api/errors"));
    let shared = a.request("GET", "/lib/dom.js", &[], b"");
    assert!(shared.status == 200 && shared.body.contains("export function el("), "{}", shared.body);
    let stats = a.request("GET", "/api/errors/stats", &[], b"");
    assert_eq!(stats.status, 200);
    for key in ["groups", "events", "distinct_events", "dead_letters"] {
        assert!(stats.json()[key].is_number(), "{key}: {}", stats.body);
    }
    assert_eq!(a.request("GET", "/api/errors/999999999", &[], b"").status, 404);
}
