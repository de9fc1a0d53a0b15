//! End to end: webhook health (issue 20) on `wrangler dev` with a worker of
//! its own (`WEBHOOK_SILENCE_MINUTES=1`, internal-integration mode) and the
//! mock Sentry's issue pages: the sync counts what the webhooks missed, the
//! silence alarm rises with no verified delivery and falls on one, and a
//! resolve webhook that the API contradicts is counted as status drift by
//! the next sync, which settles the card.

use crate::app;
use crate::issues;

use app::{spawn_app, App, INTERNAL_ORG, INTERNAL_TOKEN};
use issues::{issue, serve};
use serde_json::{json, Value};
use std::time::Duration;

const CRON: &str = "e2e-health-cron-secret";

fn health(app: &App) -> Value {
    let r = app.request("GET", "/api/webhook-health", &[], b"");
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()
}

/// Runs a manual sync and waits until it is done; returns its status row.
fn sync(app: &App) -> Value {
    let auth = format!("Bearer {CRON}");
    let r = app.request("POST", "/api/cron/sentry-sync", &[("Authorization", auth.as_str())], b"");
    assert_eq!(r.status, 200, "{}", r.body);
    let run = r.json()["runs"][0]["run"].as_str().expect("a run started").to_string();
    app.wait_for(&format!("run {run} done"), Duration::from_secs(90), || {
        app.list("/api/sync/status", "runs").into_iter().find(|r| r["id"] == run && r["status"] == "done")
    })
}

fn resolve_webhook(id: u32) -> String {
    json!({"action": "resolved", "installation": {"uuid": "e2e-health"},
        "data": {"issue": {"id": id.to_string(), "shortId": format!("APP-{id}"), "title": format!("Boom {id}"),
            "status": "resolved", "project": {"id": "1", "slug": "app"}, "assignedTo": null}},
        "actor": {"type": "user", "id": "1", "name": "Ann"}})
    .to_string()
}

fn drift(run: &Value) -> (Value, Value, Value) {
    (run["drift_missing"].clone(), run["drift_status"].clone(), run["drift_assignee"].clone())
}

#[test]
fn the_silence_alarm_rises_without_deliveries_falls_on_one_and_a_contradicted_resolve_is_status_drift() {
    let app = spawn_app(&[
        ("SENTRY_AUTH_TOKEN", INTERNAL_TOKEN),
        ("SENTRY_ORG_SLUG", INTERNAL_ORG),
        ("CRON_SECRET", CRON),
        ("WEBHOOK_SILENCE_MINUTES", "1"),
    ]);

    // Nothing known yet: no delivery, no sync, no alarm.
    let h = health(&app);
    assert_eq!(h["sentry"], json!({"last_verified_at": null, "alarm": false, "reason": null}), "{h}");
    // Changed (issue 20 part 6): `github` also carries the reconcile's drift.
    let no_reconcile = json!({"last_reconcile_at": null, "dry_run": false, "teams_missing": 0, "teams_renamed": 0,
        "members_missing": 0, "members_extra": 0});
    assert_eq!(
        h["github"],
        json!({"last_verified_at": null, "alarm": false, "reason": null, "drift": no_reconcile}),
        "{h}"
    );
    assert_eq!(h["drift"], json!({"last_sync_at": null, "missing": 0, "status": 0, "assignee": 0}), "{h}");

    // A sync finds two issues (first seen weeks ago) that no webhook reported.
    serve(&app, &[issue(501, "unresolved"), issue(502, "unresolved")], 0);
    let run = sync(&app);
    assert_eq!(drift(&run), (json!(2), json!(0), json!(0)), "{run}");
    let h = health(&app);
    assert_eq!(h["drift"]["missing"], 2, "{h}");
    assert_eq!(h["drift"]["last_sync_at"], run["finished_at"], "{h}");
    assert_eq!(h["sentry"]["alarm"], true, "{h}");
    let reason = h["sentry"]["reason"].as_str().unwrap_or_default();
    assert!(reason.starts_with("Sentry has 2 changes since 2026-11-01 10:00 UTC that no webhook reported"), "{reason}");
    assert!(reason.contains("no verified Sentry delivery has ever arrived"), "{reason}");
    app.wait_for("the rise in the log", Duration::from_secs(10), || {
        (app.log_text().matches("webhook_alarm_raised").count() == 1).then_some(())
    });

    // One verified delivery lowers it. Issue 503 has no card, so the
    // resolve creates it without a re-read: the card says resolved.
    let sent = app.send_sentry("issue", &resolve_webhook(503));
    assert_eq!(sent.status, 200, "{}", sent.body);
    let h = health(&app);
    assert_eq!(h["sentry"]["alarm"], false, "{h}");
    assert_eq!(h["sentry"]["reason"], Value::Null, "{h}");
    assert!(h["sentry"]["last_verified_at"].is_string(), "{h}");
    assert_eq!(app.item("503").unwrap()["status"], "resolved");
    app.wait_for("the fall in the log", Duration::from_secs(10), || {
        (app.log_text().matches("webhook_alarm_cleared").count() == 1).then_some(())
    });
    health(&app);
    assert_eq!(app.log_text().matches("webhook_alarm_cleared").count(), 1, "a fall is logged once");

    // The API says 503 is unresolved: the next sync counts it as status
    // drift, and the card settles.
    serve(&app, &[issue(501, "unresolved"), issue(502, "unresolved"), issue(503, "unresolved")], 0);
    let run = sync(&app);
    assert_eq!(drift(&run), (json!(0), json!(1), json!(0)), "{run}");
    let card = app.item("503").unwrap();
    assert_eq!((card["status"].clone(), card["column"].clone()), (json!("unresolved"), json!("TODO")));
    let h = health(&app);
    assert_eq!(h["drift"], json!({"last_sync_at": run["finished_at"], "missing": 0, "status": 1, "assignee": 0}));
    assert_eq!(h["sentry"]["alarm"], false, "the drift is younger than the silence window: {h}");

    // Unreported for longer than a minute, it raises the alarm again.
    let h = app.wait_for("the alarm after a minute", Duration::from_secs(100), || {
        let h = health(&app);
        (h["sentry"]["alarm"] == true).then_some(h)
    });
    let reason = h["sentry"]["reason"].as_str().unwrap_or_default();
    assert!(reason.starts_with("Sentry has 1 change since "), "{reason}");
    assert!(reason.contains("the last verified Sentry delivery was at"), "{reason}");
    assert_eq!(app.log_text().matches("webhook_alarm_raised").count(), 2, "{}", app.log_text());

    // A further sync that finds nothing new leaves the run's drift at zero
    // and the earlier one listed with its own.
    let run = sync(&app);
    assert_eq!(drift(&run), (json!(0), json!(0), json!(0)), "{run}");
    let runs = app.list("/api/sync/status", "runs");
    assert_eq!(runs.iter().map(drift).filter(|d| d.1 == 1).count(), 1, "{runs:?}");
    assert_eq!(health(&app)["sentry"]["alarm"], true, "still no webhook since the change");
    app.stop();
}
