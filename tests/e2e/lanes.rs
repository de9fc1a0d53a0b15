//! End to end against `wrangler dev` (issue 20, part 3): Sentry's priority
//! and substatus reach `/api/items` and its filters (validated, with an ETag
//! per filter), and "archive until escalating" chosen on the board is the
//! PUT the mock Sentry API gets; an escalation brings the card back marked.

use crate::app;
use crate::issues;
use crate::mock;

use crate::scenario::Scenario;
use app::{spawn_app, App, Reply, INTERNAL_ORG, INTERNAL_TOKEN};
use serde_json::{json, Value};
use std::time::Duration;

/// This module's worker in internal-integration mode (its scenario group).
fn internal_app() -> &'static App {
    static APP: Scenario = Scenario::new(module_path!(), app::spawn_internal);
    APP.app()
}

fn issue(action: &str, id: &str, status: &str, substatus: &str, priority: &str) -> String {
    json!({"action": action, "installation": {"uuid": "lanes-e2e"},
        "data": {"issue": {"id": id, "shortId": format!("LANES-{id}"), "title": format!("Lanes issue {id}"),
            "status": status, "substatus": substatus, "priority": priority, "level": "error",
            "project": {"id": "1", "slug": "web", "name": "Web"}, "count": "2",
            "firstSeen": "2026-11-01T10:00:00Z", "lastSeen": "2026-11-30T10:00:00Z", "assignedTo": null}},
        "actor": {"type": "application", "id": "sentry", "name": "Sentry"}})
    .to_string()
}

fn send(app: &App, action: &str, id: &str, status: &str, substatus: &str, priority: &str) {
    let r = app.send_sentry("issue", &issue(action, id, status, substatus, priority));
    assert_eq!(r.status, 200, "{}", r.body);
}

fn get(app: &App, path: &str, headers: &[(&str, &str)]) -> Reply {
    app.request("GET", path, headers, b"")
}

/// The ids among `mine` that `GET path` lists (other tests share the worker).
fn listed(app: &App, path: &str, mine: &[&str]) -> Vec<String> {
    let r = get(app, path, &[]);
    assert_eq!(r.status, 200, "{path}: {}", r.body);
    let mut ids: Vec<String> = r.json()["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter_map(|i| i["id"].as_str().map(str::to_string))
        .filter(|id| mine.contains(&id.as_str()))
        .collect();
    ids.sort();
    ids
}

#[test]
fn priority_and_substatus_reach_the_items_and_their_filters() {
    let app = internal_app();
    let mine = ["8101", "8102", "8103"];
    send(app, "created", "8101", "unresolved", "escalating", "high");
    send(app, "created", "8102", "unresolved", "regressed", "medium");
    send(app, "created", "8103", "unresolved", "ongoing", "low");
    let c = app.item("8101").expect("card 8101");
    assert_eq!((c["substatus"].as_str(), c["priority"].as_str()), (Some("escalating"), Some("high")));
    assert_eq!(listed(app, "/api/items", &mine), mine);
    assert_eq!(listed(app, "/api/items?substatus=escalating", &mine), ["8101"]);
    assert_eq!(listed(app, "/api/items?substatus=escalating,regressed", &mine), ["8101", "8102"]);
    assert_eq!(listed(app, "/api/items?priority=high", &mine), ["8101"]);
    assert_eq!(listed(app, "/api/items?substatus=escalating,regressed&priority=medium", &mine), ["8102"]);
    assert_eq!(listed(app, "/api/items?priority=low,medium", &mine), ["8102", "8103"]);
    assert_eq!(listed(app, &format!("/api/items?org={INTERNAL_ORG}&priority=high"), &mine), ["8101"]);
    assert_eq!(listed(app, "/api/items?org=another-org&priority=high", &mine), Vec::<String>::new());

    for (path, word) in [("/api/items?priority=urgent", "priority"), ("/api/items?substatus=escalating,bogus", "bogus")]
    {
        let r = get(app, path, &[]);
        assert_eq!(r.status, 400, "{path}: {}", r.body);
        let message = r.json()["message"].as_str().unwrap_or("").to_string();
        assert!(message.contains(word) && message.contains("one or more of"), "{path}: {message}");
    }

    // Each filter revalidates on its own.
    let high = get(app, "/api/items?priority=high", &[]);
    let tag = App::header(&high, "ETag").expect("an ETag").to_string();
    let same = get(app, "/api/items?priority=high", &[("If-None-Match", &tag)]);
    assert_eq!((same.status, same.body.as_str()), (304, ""));
    let all = get(app, "/api/items", &[("If-None-Match", &tag)]);
    assert_eq!(all.status, 200, "another filter is another body");
    send(app, "unresolved", "8103", "unresolved", "escalating", "high");
    let moved = get(app, "/api/items?priority=high", &[("If-None-Match", &tag)]);
    assert_eq!(moved.status, 200, "a card that entered the lane changes the filtered ETag");
    assert_eq!(listed(app, "/api/items?priority=high&substatus=escalating", &mine), ["8101", "8103"]);
}

fn issue_path(id: &str) -> String {
    format!("/api/0/organizations/{INTERNAL_ORG}/issues/{id}/")
}

fn act(app: &App, id: &str, body: &str) -> Reply {
    let origin = app.base.clone();
    let headers = [("Content-Type", "application/json"), ("Origin", origin.as_str())];
    app.request("POST", &format!("/api/items/{id}/actions"), &headers, body.as_bytes())
}

#[test]
fn archive_until_escalating_is_written_back_and_an_escalation_brings_the_card_back() {
    let app = internal_app();
    send(app, "created", "8111", "unresolved", "ongoing", "medium");
    let bad = act(app, "8111", r#"{"status":"resolved","substatus":"archived_until_escalating"}"#);
    assert_eq!(bad.status, 400, "{}", bad.body);
    let r = act(app, "8111", r#"{"status":"ignored","substatus":"archived_until_escalating"}"#);
    assert_eq!(r.status, 202, "{}", r.body);
    let c = app.item("8111").unwrap();
    assert_eq!((c["ignored"].as_bool(), c["substatus"].as_str()), (Some(true), Some("archived_until_escalating")));
    let puts = app.wait_for("the archive PUT", Duration::from_secs(30), || {
        let calls: Vec<mock::Call> =
            app.mock.calls().into_iter().filter(|c| c.method == "PUT" && c.path == issue_path("8111")).collect();
        (!calls.is_empty()).then_some(calls)
    });
    assert_eq!(puts.len(), 1);
    let sent: Value = serde_json::from_str(&puts[0].body).unwrap();
    assert_eq!(sent, json!({"status": "ignored", "substatus": "archived_until_escalating"}));
    app.wait_for("the write-back settled", Duration::from_secs(30), || {
        app.item("8111").filter(|c| c["writeback"].is_null())
    });
    // Sentry echoes the archive, then the issue escalates.
    send(app, "ignored", "8111", "ignored", "archived_until_escalating", "medium");
    assert_eq!(app.item("8111").unwrap()["ignored"], true);
    send(app, "unresolved", "8111", "unresolved", "escalating", "high");
    let c = app.item("8111").unwrap();
    assert_eq!(
        (c["ignored"].as_bool(), c["column"].as_str(), c["substatus"].as_str(), c["priority"].as_str()),
        (Some(false), Some("TODO"), Some("escalating"), Some("high")),
        "{c}"
    );
}

/// Priority changes send no webhook: the cron sync brings them (and the
/// substatus), and a new card from the sync has its lanes at once.
#[test]
fn the_cron_sync_brings_priority_and_substatus_changes() {
    let cron = "e2e-lanes-cron-secret";
    let own =
        spawn_app(&[("SENTRY_AUTH_TOKEN", INTERNAL_TOKEN), ("SENTRY_ORG_SLUG", INTERNAL_ORG), ("CRON_SECRET", cron)]);
    let app = &own;
    send(app, "created", "8121", "unresolved", "new", "low");
    std::thread::sleep(Duration::from_millis(1100));
    let mut changed = issues::issue(8121, "unresolved");
    changed["substatus"] = json!("escalating");
    changed["priority"] = json!("high");
    let mut fresh = issues::issue(8122, "unresolved");
    fresh["substatus"] = json!("regressed");
    fresh["priority"] = json!("medium");
    issues::serve(app, &[changed, fresh], 0);
    let auth = format!("Bearer {cron}");
    let r = app.request("POST", "/api/cron/sentry-sync", &[("Authorization", auth.as_str())], b"");
    assert_eq!(r.status, 200, "{}", r.body);
    let c = app
        .wait_for("the synced lanes", Duration::from_secs(90), || app.item("8121").filter(|c| c["priority"] == "high"));
    assert_eq!(c["substatus"], "escalating", "{c}");
    let n = app.wait_for("the synced new card", Duration::from_secs(90), || app.item("8122"));
    assert_eq!((n["substatus"].as_str(), n["priority"].as_str()), (Some("regressed"), Some("medium")));
    assert_eq!(listed(app, "/api/items?priority=high", &["8121", "8122"]), ["8121"]);
    own.stop();
}
