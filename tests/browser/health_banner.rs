//! Browser: the board's "Webhooks silent" banner (issue 20) in headless
//! Chromium against a worker of its own (`WEBHOOK_SILENCE_MINUTES=1`): it
//! shows, with the reason and a link to the delivery log, after a sync finds
//! changes no webhook reported, and hides once a verified delivery arrives.

use crate::app;
use crate::issues;
use crate::webdriver;

use app::{spawn_app, App, INTERNAL_ORG, INTERNAL_TOKEN};
use issues::{issue, serve};
use serde_json::json;
use std::time::Duration;
use webdriver::Browser;

const CRON: &str = "browser-health-cron-secret";
const WAIT: Duration = Duration::from_secs(30);

fn sync(app: &App) {
    let auth = format!("Bearer {CRON}");
    let r = app.request("POST", "/api/cron/sentry-sync", &[("Authorization", auth.as_str())], b"");
    assert_eq!(r.status, 200, "{}", r.body);
    let run = r.json()["runs"][0]["run"].as_str().expect("a run started").to_string();
    app.wait_for(&format!("run {run} done"), Duration::from_secs(90), || {
        app.list("/api/sync/status", "runs").into_iter().find(|r| r["id"] == run && r["status"] == "done")
    });
}

fn banner_shown(b: &Browser) -> bool {
    b.execute("var e = document.getElementById('webhook-silence'); return !!e && !e.hidden", vec![]) == json!(true)
}

#[test]
fn the_silence_banner_shows_with_its_reason_and_hides_after_a_verified_delivery() {
    let a = spawn_app(&[
        ("SENTRY_AUTH_TOKEN", INTERNAL_TOKEN),
        ("SENTRY_ORG_SLUG", INTERNAL_ORG),
        ("CRON_SECRET", CRON),
        ("WEBHOOK_SILENCE_MINUTES", "1"),
    ]);
    let b = Browser::new();
    b.goto(&format!("{}/", a.base));
    b.wait_find("#refreshed", WAIT);
    std::thread::sleep(Duration::from_secs(1));
    assert!(!banner_shown(&b), "no alarm before any sync");

    serve(&a, &[issue(601, "unresolved")], 0);
    sync(&a);
    b.goto(&format!("{}/", a.base));
    b.wait_for("the banner", WAIT, |b| banner_shown(b).then_some(()));
    let banner = b.find("#webhook-silence");
    let text = b.text(&banner);
    assert!(text.contains("Webhooks silent."), "{text}");
    assert!(text.contains("Sentry has 1 change since 2026-11-01 10:00 UTC that no webhook reported"), "{text}");
    let link = b.find("#webhook-silence a");
    assert_eq!(b.attribute(&link, "href").as_deref(), Some("/deliveries"));
    b.save_screenshot("board-webhooks-silent");

    // The delivery page lists the run with what it found, under the same banner.
    b.goto(&format!("{}/deliveries", a.base));
    let cells = b.wait_for("the sync run's drift", WAIT, |b| {
        let got = b.execute(
            "var r = document.querySelector('#sync-runs tr.sync-run'); return r ? \
             [r.querySelector('.drift-missing').textContent, r.querySelector('.drift-status').textContent, \
              r.querySelector('.drift-assignee').textContent] : null",
            vec![],
        );
        (!got.is_null()).then_some(got)
    });
    assert_eq!(cells, json!(["1", "0", "0"]));
    b.save_screenshot("deliveries-sync-runs");
    b.wait_for("the banner on the delivery page", WAIT, |b| banner_shown(b).then_some(()));

    let body = json!({"action": "created", "installation": {"uuid": "browser-health"},
        "data": {"issue": {"id": "602", "title": "Boom 602", "status": "unresolved", "assignedTo": null}},
        "actor": {"type": "application", "id": "sentry", "name": "Sentry"}});
    assert_eq!(a.send_sentry("issue", &body.to_string()).status, 200);
    // Shown again (as when the tab comes back), the page checks at once.
    b.goto(&format!("{}/", a.base));
    b.wait_for("the banner to hide", WAIT, |b| (!banner_shown(b)).then_some(()));
    a.stop();
}
