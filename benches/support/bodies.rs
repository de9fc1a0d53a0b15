//! The bodies the benchmarks sign and send, one per index so no two are
//! the same bytes (a verbatim replay is answered without work).

use super::github::{membership_body, team_body};
use serde_json::{json, Value};

/// The Sentry issue id of `sentry_issue(i)`.
pub fn issue_id(i: usize) -> usize {
    700_000_000 + i
}

pub fn sentry_issue(i: usize) -> String {
    format!(
        r#"{{"action":"created","installation":{{"uuid":"bench"}},"data":{{"issue":{{"id":"{}","shortId":"BENCH-{i}","title":"Bench error \u00e9 {i}","level":"error","status":"unresolved","project":{{"id":"1","slug":"bench"}},"assignedTo":null}}}},"actor":{{"type":"application","id":"sentry","name":"Sentry"}}}}"#,
        issue_id(i)
    )
}

/// A comment on `sentry_issue(issue)`'s card.
pub fn comment(i: usize, issue: usize) -> String {
    json!({"action": "created", "installation": {"uuid": "bench"},
        "data": {"comment": format!("bench comment \u{e9} {i}"), "project_slug": "bench", "comment_id": 80_000_000 + i,
            "issue_id": issue_id(issue), "timestamp": "2026-11-01T10:00:00.000000Z"},
        "actor": {"type": "user", "id": 1, "name": "bench"}})
    .to_string()
}

/// An issue alert that fired on `sentry_issue(issue)`.
pub fn event_alert(i: usize, issue: usize) -> String {
    json!({"action": "triggered", "installation": {"uuid": "bench"},
        "data": {"event": {"event_id": format!("ea{i:030}"), "issue_id": issue_id(issue).to_string(),
            "title": format!("Bench alert \u{e9} {i}"), "culprit": "handler", "level": "error",
            "datetime": "2026-11-01T10:00:00.000000Z", "web_url": "https://sentry.example/issues/1/events/1/"},
            "triggered_rule": "Bench rule"},
        "actor": {"type": "application", "id": "sentry", "name": "Sentry"}})
    .to_string()
}

/// A metric alert incident of its own (one alert card each).
pub fn metric_alert(i: usize) -> String {
    json!({"action": "critical", "installation": {"uuid": "bench"},
        "data": {"description_text": format!("{i} events"), "description_title": "Too many errors",
            "metric_alert": {"id": (90_000_000 + i).to_string(), "alert_rule": {"id": "7", "name": "Too many errors",
                "projects": ["bench"]}, "status": 2}, "web_url": "https://sentry.example/alerts/7/"},
        "actor": {"type": "application", "id": "sentry", "name": "Sentry"}})
    .to_string()
}

/// A small `error.created` (one frame) of 20 issues; `run` keeps event ids
/// apart between runs on one worker.
pub fn error_event(i: usize, run: &str) -> String {
    format!(
        r#"{{"action":"created","installation":{{"uuid":"bench"}},"data":{{"error":{{"event_id":"{run}{i:08}","issue_id":"{}","title":"Bench \u00e9 {}","level":"error","project":1,"datetime":"2026-11-01T00:00:00Z","exception":{{"values":[{{"type":"E","value":"v","stacktrace":{{"frames":[{{"filename":"a.js","function":"f","lineno":1}}]}}}}]}}}}}},"actor":{{"type":"application","id":"sentry","name":"Sentry"}}}}"#,
        990_000 + i % 20,
        i % 20
    )
}

/// A Sentry error delivery with `frames` stack frames carrying source
/// context and local variables, request headers and cookies (600 frames:
/// about 195 KB).
pub fn big_error_event(frames: usize) -> String {
    let frames: Vec<Value> = (0..frames)
        .map(|i| {
            json!({"filename": format!("app/module_{i}.js"), "function": format!("handler{i}"), "lineno": i, "colno": 7,
                "in_app": i % 3 == 0, "context_line": "    const result = await doSomething(request, response, next);",
                "pre_context": ["// a", "// b", "// c"], "post_context": ["// d", "// e"],
                "vars": {"request": "<Request>", "i": i, "token": "x".repeat(40)}})
        })
        .collect();
    let body = json!({"action": "created", "installation": {"uuid": "bench"}, "data": {"error": {
        "event_id": "bench0000000000000000000000000000", "issue_id": "1", "title": "TypeError: caf\u{e9} is undefined",
        "culprit": "handler599", "level": "error", "platform": "javascript", "project": 1, "datetime": "2026-01-01T00:00:00Z",
        "exception": {"values": [{"type": "TypeError", "value": "x is undefined", "stacktrace": {"frames": frames}}]},
        "request": {"url": "https://x.example/p?q=1", "headers": [["Cookie", "a=b"], ["User-Agent", "bench"]]},
        "tags": [["browser", "Chrome"], ["user", "ip:10.0.0.1"]]}}});
    serde_json::to_string(&body).unwrap()
}

/// An error event of about `bytes`: as many frames as it takes.
pub fn error_event_of_size(bytes: usize) -> String {
    let (base, one) = (big_error_event(0).len(), big_error_event(1).len());
    big_error_event(bytes.saturating_sub(base) / (one - base).max(1) + 1)
}

pub fn github_team(i: usize) -> String {
    team_body("created", 5_000_000 + i as u64, &format!("bench-team-{i}"))
}

pub fn github_membership(i: usize) -> String {
    membership_body("added", 5_000_000 + i as u64, &format!("bench-team-{i}"), &format!("bench-user-{i}"))
}

/// `body` grown to about `bytes` by a list `key` of small tag objects in the
/// object at `pointer` (where the real payload carries its bulk).
pub fn padded(body: &str, pointer: &str, key: &str, bytes: usize) -> String {
    let mut v: Value = serde_json::from_str(body).expect("a JSON body");
    let tag = |i: usize| json!({"key": format!("tag.{i}"), "name": "Bench tag", "value": format!("value \u{e9} {i}"), "count": i});
    let per = tag(10_000).to_string().len() + 1;
    let n = bytes.saturating_sub(body.len()) / per;
    v.pointer_mut(pointer)
        .and_then(Value::as_object_mut)
        .expect("an object to pad")
        .insert(key.to_string(), Value::Array((10_000..10_000 + n).map(tag).collect()));
    v.to_string()
}
