//! End to end against `wrangler dev`: a card's history
//! (`GET /api/items/{id}/history`) shows a webhook, the re-read it asked
//! for, a board change and the cron sync, each under its own source, in the
//! order they happened, and nothing for a repeated delivery.

use crate::app;
use crate::issues;
use crate::mock;

use app::{spawn_app, App, INTERNAL_ORG, INTERNAL_TOKEN};
use mock::Canned;
use serde_json::{json, Value};
use std::time::Duration;

const CRON: &str = "e2e-history-cron";

fn snapshot(id: &str, status: &str, assigned: Value) -> Value {
    json!({"id": id, "shortId": format!("HIST-{id}"), "title": format!("History {id}"), "status": status,
        "level": "error", "project": {"id": "1", "slug": "app", "name": "App"}, "count": "2",
        "firstSeen": "2026-11-01T10:00:00Z", "lastSeen": "2026-11-30T10:00:00Z", "assignedTo": assigned})
}

fn webhook(action: &str, issue: Value, actor: &str) -> String {
    json!({"action": action, "installation": {"uuid": "history-e2e"}, "data": {"issue": issue},
        "actor": {"type": "user", "id": 1, "name": actor}})
    .to_string()
}

fn history(app: &App, id: &str) -> Vec<Value> {
    let r = app.request("GET", &format!("/api/items/{id}/history"), &[], b"");
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()["history"].as_array().cloned().unwrap_or_default()
}

/// `source action field: from -> to (actor)`.
fn line(e: &Value) -> String {
    let t = |v: &Value| v.as_str().map_or("-".to_string(), str::to_string);
    format!(
        "{} {} {}: {} -> {} ({})",
        t(&e["source"]),
        t(&e["action"]),
        t(&e["field"]),
        t(&e["from"]),
        t(&e["to"]),
        t(&e["actor"])
    )
}

fn lines(app: &App, id: &str) -> Vec<String> {
    history(app, id).iter().map(line).collect()
}

#[test]
fn a_webhook_a_reread_a_board_change_and_a_sync_each_show_with_their_source() {
    let app =
        spawn_app(&[("SENTRY_AUTH_TOKEN", INTERNAL_TOKEN), ("SENTRY_ORG_SLUG", INTERNAL_ORG), ("CRON_SECRET", CRON)]);
    let id = "9701";
    let created = webhook("created", snapshot(id, "unresolved", Value::Null), "Sentry");
    assert_eq!(app.send_sentry("issue", &created).status, 200);
    assert_eq!(lines(&app, id), Vec::<String>::new(), "a new card has no changes yet");

    // Sentry's API, asked by the re-read the resolve queues, also knows an
    // assignee the webhook did not carry.
    let ann = json!({"type": "user", "id": "5", "name": "Ann Api", "email": "ann@example.com"});
    let api = snapshot(id, "resolved", ann.clone()).to_string();
    app.mock.route(Canned::new("GET", &format!("/api/0/organizations/{INTERNAL_ORG}/issues/{id}/"), 200, &api));
    let resolved = webhook("resolved", snapshot(id, "resolved", Value::Null), "Jane Doe");
    assert_eq!(app.send_sentry("issue", &resolved).status, 200);
    let got = app.wait_for("the re-read in the history", Duration::from_secs(30), || {
        let l = lines(&app, id);
        l.iter().any(|l| l.starts_with("reread ")).then_some(l)
    });
    assert_eq!(
        got,
        ["sentry resolved column: TODO -> DONE (Jane Doe)", "reread reread assignee: - -> Ann Api (-)"],
        "the re-read found the card DONE already: only the assignee changed"
    );

    // The board re-opens it; the push to Sentry settles.
    let origin = app.base.clone();
    let headers = [("Content-Type", "application/json"), ("Origin", origin.as_str())];
    let r = app.request("POST", &format!("/api/items/{id}/actions"), &headers, br#"{"status":"unresolved"}"#);
    assert_eq!(r.status, 202, "{}", r.body);
    app.wait_for("the write-back settled", Duration::from_secs(30), || {
        app.item(id).filter(|c| c["writeback"].is_null())
    });
    assert_eq!(lines(&app, id)[2..], ["board unresolve column: DONE -> DOING (-)"]);

    // The cron sync finds it ignored in Sentry.
    std::thread::sleep(Duration::from_millis(1100));
    let (_, _) = issues::serve(&app, &[snapshot(id, "ignored", ann)], 0);
    let r = app.request("POST", "/api/cron/sentry-sync", &[("Authorization", &format!("Bearer {CRON}"))], b"");
    assert_eq!(r.status, 200, "{}", r.body);
    let got = app.wait_for("the sync in the history", Duration::from_secs(90), || {
        let l = lines(&app, id);
        l.iter().any(|l| l.starts_with("sync ")).then_some(l)
    });
    assert_eq!(got[3..], ["sync sync ignored: not ignored -> ignored (-)"], "{got:#?}");
    let entries = history(&app, id);
    let times: Vec<&str> = entries.iter().filter_map(|e| e["at"].as_str()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "newest last: {times:?}");

    // The same delivery again changes nothing, so it adds nothing.
    assert_eq!(app.send_sentry("issue", &created).status, 200);
    assert_eq!(history(&app, id).len(), 4);
    assert_eq!(app.request("GET", "/api/items/nope/history", &[], b"").json(), json!({"history": []}));
    app.stop();
}
