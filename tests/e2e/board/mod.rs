//! End to end against `wrangler dev`: board changes written back to Sentry
//! (the mock records the calls), conditional polling, and who may see and
//! change the board (open on loopback, refused through a tunnel or when
//! deployed unconfigured or misconfigured, the token login and its
//! throttle, server-side logout, Cloudflare Access tokens and a team whose
//! keys cannot be fetched), and the CSP on every HTML answer.

mod access;
mod cloudflare_access;
mod writeback;

use crate::app;
use crate::mock;

use crate::scenario::Scenario;
use app::{spawn_app, App, Reply, INTERNAL_ORG, INTERNAL_TOKEN};
use mock::Canned;
use serde_json::{json, Value};
use std::time::Duration;

/// This module's worker in internal-integration mode (its scenario group).
fn internal_app() -> &'static App {
    static APP: Scenario = Scenario::new(module_path!(), app::spawn_internal);
    APP.app()
}

fn issue(action: &str, id: &str, status: &str) -> String {
    json!({"action": action, "installation": {"uuid": "board-e2e"},
        "data": {"issue": {"id": id, "shortId": format!("BOARD-{id}"), "title": format!("Board issue {id}"),
            "status": status, "level": "error", "project": {"id": "1", "slug": "web", "name": "Web"},
            "count": "2", "firstSeen": "2026-11-01T10:00:00Z", "lastSeen": "2026-11-30T10:00:00Z", "assignedTo": null}},
        "actor": {"type": "application", "id": "sentry", "name": "Sentry"}})
    .to_string()
}

fn create(app: &App, id: &str) {
    let r = app.send_sentry("issue", &issue("created", id, "unresolved"));
    assert_eq!(r.status, 200, "{}", r.body);
}

/// A board change as the page sends it: same-origin JSON.
fn act(app: &App, id: &str, body: &str) -> Reply {
    let origin = app.base.clone();
    let headers = [("Content-Type", "application/json"), ("Origin", origin.as_str())];
    app.request("POST", &format!("/api/items/{id}/actions"), &headers, body.as_bytes())
}

fn issue_path(id: &str) -> String {
    format!("/api/0/organizations/{INTERNAL_ORG}/issues/{id}/")
}

fn puts(app: &App, id: &str) -> Vec<mock::Call> {
    app.mock.calls().into_iter().filter(|c| c.method == "PUT" && c.path == issue_path(id)).collect()
}

fn wait_for_puts(app: &App, id: &str, n: usize) -> Vec<mock::Call> {
    app.wait_for(&format!("{n} PUT(s) for issue {id}"), Duration::from_secs(30), || {
        let calls = puts(app, id);
        (calls.len() >= n).then_some(calls)
    })
}

fn writeback_settled(app: &App, id: &str) -> Value {
    app.wait_for(&format!("card {id} written back"), Duration::from_secs(30), || {
        app.item(id).filter(|c| c["writeback"].is_null())
    })
}

fn body_of(call: &mock::Call) -> Value {
    serde_json::from_str(&call.body).unwrap_or_else(|e| panic!("{e}: {}", call.body))
}
