//! End to end: the cron sync of every Sentry issue of the last 30 days and
//! the daily retention, against `wrangler dev` (its local scheduled
//! endpoint), the real queue and a mock Sentry serving paginated issues.
//! The worker runs in internal-integration mode. The tests share one mock
//! organization, so they take turns (`serial()`).

use crate::app;
use crate::issues;
use crate::mock;

use crate::scenario::Scenario;
use app::{spawn_app, App, INTERNAL_ORG, INTERNAL_TOKEN};
use issues::{issue, serve};
use mock::Canned;
use serde_json::{json, Value};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

const CRON: &str = "e2e-cron-secret";

fn app() -> &'static App {
    static APP: Scenario = Scenario::new(module_path!(), || {
        spawn_app(&[("SENTRY_AUTH_TOKEN", INTERNAL_TOKEN), ("SENTRY_ORG_SLUG", INTERNAL_ORG), ("CRON_SECRET", CRON)])
    });
    APP.app()
}

fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

fn calls_to(app: &App, since: usize, path: &str) -> usize {
    app.mock.calls().iter().skip(since).filter(|c| c.method == "GET" && c.path == path).count()
}

fn trigger(app: &App, auth: Option<&str>) -> app::Reply {
    let header = auth.map(|a| format!("Bearer {a}"));
    let headers: Vec<(&str, &str)> = header.iter().map(|h| ("Authorization", h.as_str())).collect();
    app.request("POST", "/api/cron/sentry-sync", &headers, b"")
}

fn runs(app: &App) -> Vec<Value> {
    app.list("/api/sync/status", "runs")
}

fn wait_run(app: &App, run: &str, status: &str) -> Value {
    app.wait_for(&format!("run {run} {status}"), Duration::from_secs(90), || {
        runs(app).into_iter().find(|r| r["id"] == run && r["status"] == status)
    })
}

fn started_run(reply: &app::Reply) -> String {
    assert_eq!(reply.status, 200, "{}", reply.body);
    let runs = reply.json()["runs"].clone();
    assert_eq!(runs[0]["started"], true, "{runs}");
    runs[0]["run"].as_str().unwrap().to_string()
}

fn issue_webhook(id: u32) -> String {
    format!(
        concat!(
            r#"{{"action":"created","installation":{{"uuid":"e2e-sync"}},"data":{{"issue":{{"id":"{id}","shortId":"APP-{id}","#,
            r#""title":"Boom {id}","status":"unresolved","project":{{"id":"1","slug":"app"}},"assignedTo":null}}}},"#,
            r#""actor":{{"type":"application","id":"sentry","name":"Sentry"}}}}"#
        ),
        id = id
    )
}

#[test]
fn the_scheduled_sync_reads_every_page_and_updates_and_creates_cards() {
    let _turn = serial();
    let app = app();
    assert_eq!(app.send_sentry("issue", &issue_webhook(9001)).status, 200);
    assert_eq!(app.item("9001").unwrap()["column"], "TODO");
    std::thread::sleep(Duration::from_millis(1100));
    let statuses = ["resolved", "unresolved", "ignored"];
    let mut issues: Vec<Value> = (9001..9251).map(|id| issue(id, statuses[id as usize % 3])).collect();
    issues[0] = issue(9001, "resolved");
    let (paths, mark) = serve(app, &issues, 0);
    assert_eq!(paths.len(), 3);

    let earlier: Vec<Value> = runs(app).iter().map(|r| r["id"].clone()).collect();
    let r = app.request("GET", "/__scheduled?cron=*/5+*+*+*+*", &[], b"");
    assert!(r.status < 300, "{}: {}", r.status, r.body);
    let run = app.wait_for("a finished cron run", Duration::from_secs(90), || {
        runs(app).into_iter().find(|r| r["trigger"] == "cron" && r["status"] == "done" && !earlier.contains(&r["id"]))
    });
    assert_eq!((run["pages"].as_i64(), run["issues"].as_i64()), (Some(3), Some(250)), "{run}");
    for path in &paths {
        assert_eq!(calls_to(app, mark, path), 1, "{path}");
    }
    let first = app.mock.calls().into_iter().skip(mark).find(|c| c.path == paths[0]).unwrap();
    let auth = first.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("Authorization")).map(|(_, v)| v.clone());
    assert_eq!(auth, Some(format!("Bearer {INTERNAL_TOKEN}")));

    let items = app.items();
    let ours = |i: &&Value| {
        i["id"].as_str().and_then(|id| id.parse::<u32>().ok()).is_some_and(|id| (9001..9251).contains(&id))
    };
    let synced: Vec<&Value> =
        items.iter().filter(ours).filter(|i| i["short_id"].as_str().is_some_and(|s| s.starts_with("SYNC-"))).collect();
    assert_eq!(synced.len(), 250, "249 created, and the existing card updated from the page");
    let existing = app.item("9001").unwrap();
    assert_eq!((existing["status"].clone(), existing["column"].clone()), (json!("resolved"), json!("DONE")));
    assert_eq!(existing["title"], "Synced 9001");
    let resolved = app.item("9003").unwrap();
    assert_eq!((resolved["status"].clone(), resolved["column"].clone()), (json!("resolved"), json!("DONE")));
    assert_eq!(
        (app.item("9004").unwrap()["column"].clone(), app.item("9004").unwrap()["ignored"].clone()),
        (json!("TODO"), json!(false))
    );
    assert_eq!(app.item("9005").unwrap()["ignored"], true);
    assert_eq!(app.item("9250").unwrap()["title"], "Synced 9250");
}

#[test]
fn a_429_mid_run_is_waited_out_and_the_run_completes() {
    let _turn = serial();
    let app = app();
    let issues: Vec<Value> = (9301..9551).map(|id| issue(id, "unresolved")).collect();
    let (paths, mark) = serve(app, &issues, 0);
    let limited = Canned::new("GET", &paths[1], 429, r#"{"detail":"rate limited"}"#).header("Retry-After", "1");
    app.mock.reply_once(limited);
    let run = started_run(&trigger(app, Some(CRON)));
    let done = wait_run(app, &run, "done");
    assert_eq!(
        (done["pages"].as_i64(), done["issues"].as_i64(), done["errors"].as_i64()),
        (Some(3), Some(250), Some(1))
    );
    assert!(done["last_error"].as_str().unwrap().contains("429"), "{done}");
    assert_eq!(calls_to(app, mark, &paths[1]), 2, "page 2 asked again after the 429");
    assert_eq!(calls_to(app, mark, &paths[2]), 1);
    assert!(app.item("9550").is_some());
}

#[test]
fn overlapping_triggers_do_not_double_run() {
    let _turn = serial();
    let app = app();
    let issues: Vec<Value> = (9601..9701).map(|id| issue(id, "unresolved")).collect();
    // Slow pages (within the worker's fetch timeout) keep the run going.
    let (paths, mark) = serve(app, &issues, 1000);
    let run = started_run(&trigger(app, Some(CRON)));
    let second = trigger(app, Some(CRON));
    assert_eq!(second.status, 200, "{}", second.body);
    let runs_now = second.json()["runs"].clone();
    assert_eq!((runs_now[0]["started"].clone(), runs_now[0]["running"].clone()), (json!(false), json!(run.clone())));
    let r = app.request("GET", "/__scheduled?cron=*/5+*+*+*+*", &[], b"");
    assert!(r.status < 300);
    wait_run(app, &run, "done");
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(calls_to(app, mark, &paths[0]), 1, "one run read the first page");
    assert_eq!(runs(app).iter().filter(|r| r["status"] == "running").count(), 0);
}

#[test]
fn the_manual_triggers_need_the_cron_secret() {
    let _turn = serial();
    let app = app();
    serve(app, &[issue(9801, "resolved")], 0);
    assert_eq!(trigger(app, None).status, 401);
    assert_eq!(trigger(app, Some("wrong")).status, 401);
    assert_eq!(app.request("GET", "/api/cron/retention", &[], b"").status, 401);
    let get = app.request("GET", "/api/cron/sentry-sync", &[("Authorization", &format!("Bearer {CRON}"))], b"");
    let run = started_run(&get);
    let done = wait_run(app, &run, "done");
    assert_eq!((done["pages"].as_i64(), done["issues"].as_i64()), (Some(1), Some(1)));
    assert!(done["duration_ms"].as_i64().is_some(), "{done}");
    assert_eq!(app.item("9801").unwrap()["column"], "DONE");
}

fn error_event(event: &str, issue: &str, days_ago: i64) -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    let time = sentry_kanban::time::format_millis(now - days_ago * 86_400_000);
    json!({"action": "created", "installation": {"uuid": "e2e-sync"}, "actor": {"type": "application", "id": "sentry"},
        "data": {"error": {"event_id": event, "issue_id": issue, "title": format!("Old {issue}"), "level": "error",
            "platform": "python", "project": 1, "datetime": time,
            "web_url": format!("https://sentry.example/issues/{issue}/events/{event}/")}}})
    .to_string()
}

fn group(app: &App, issue: &str) -> Option<Value> {
    let r = app.request("GET", &format!("/api/errors/{issue}"), &[], b"");
    (r.status == 200).then(|| r.json())
}

#[test]
fn retention_deletes_exactly_what_is_old() {
    let _turn = serial();
    let app = app();
    let events =
        [("ret-old-1", "7701", 40), ("ret-old-2", "7701", 35), ("ret-new-1", "7701", 1), ("ret-new-2", "7701", 0)];
    let mut sent = events.to_vec();
    sent.extend([("ret-resolved", "7702", 100), ("ret-open", "7703", 100)]);
    for (event, issue, days) in &sent {
        assert_eq!(app.send_sentry("error", &error_event(event, issue, *days)).status, 200);
    }
    app.wait_for("six events ingested", Duration::from_secs(60), || {
        let counts: Vec<i64> = ["7701", "7702", "7703"]
            .iter()
            .filter_map(|i| group(app, i).and_then(|g| g["group"]["event_count"].as_i64()))
            .collect();
        (counts == [4, 1, 1]).then_some(())
    });
    let resolved = json!({"action": "resolved", "installation": {"uuid": "e2e-sync"},
        "data": {"issue": {"id": "7702", "title": "Old 7702", "status": "resolved"}},
        "actor": {"type": "application", "id": "sentry", "name": "Sentry"}});
    assert_eq!(app.send_sentry("issue", &resolved.to_string()).status, 200);

    let r = app.request("POST", "/api/cron/retention", &[("Authorization", &format!("Bearer {CRON}"))], b"");
    assert_eq!(r.status, 200, "{}", r.body);
    let report = r.json();
    assert_eq!(report["complete"], true, "{report}");
    assert_eq!(report["deleted"]["error_events"], 4, "two old events of 7701 and the 100-day-old ones: {report}");
    assert_eq!(report["deleted"]["error_groups"], 1, "{report}");

    let kept = group(app, "7701").unwrap();
    let ids: Vec<&str> = kept["events"].as_array().unwrap().iter().filter_map(|e| e["event_id"].as_str()).collect();
    assert_eq!(ids.len(), 2, "{ids:?}");
    assert!(ids.contains(&"ret-new-1") && ids.contains(&"ret-new-2"), "{ids:?}");
    assert!(group(app, "7702").is_none(), "the resolved group last seen 100 days ago is gone");
    assert!(group(app, "7703").is_some(), "an open group stays, whatever its age");
    let again = app.request("POST", "/api/cron/retention", &[("Authorization", &format!("Bearer {CRON}"))], b"");
    assert_eq!(again.json()["deleted"]["error_events"], 0, "nothing old is left");
}
