//! End to end: the GitHub team reconcile (issue 20 part 6) against `wrangler
//! dev`, the real queue and the mock GitHub + Sentry APIs. Webhooks are
//! "lost" by simply not sending them: GitHub's listing says otherwise, and
//! the next reconcile corrects it through the webhooks' own jobs.
//! The organization is the one the webhooks name (no `GITHUB_ORG`). Each
//! test lists its own teams; a reconcile lists every team, so they take
//! turns.

use crate::app;
use crate::github;
use crate::mock;

use crate::scenario::Scenario;
use app::{spawn_app, App, GITHUB_SECRET, INTERNAL_ORG, INTERNAL_TOKEN};
use github::{membership_body, team_body};
use mock::{Call, Canned};
use serde_json::{json, Value};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

const ADMIN: &str = "e2e-admin-token";
const CRON: &str = "e2e-cron-secret";
const ORG: &str = "Octocoders";

fn app() -> &'static App {
    static APP: Scenario = Scenario::new(module_path!(), || {
        spawn_app(&[
            ("SENTRY_AUTH_TOKEN", INTERNAL_TOKEN),
            ("SENTRY_ORG_SLUG", INTERNAL_ORG),
            ("GITHUB_WEBHOOK_SECRET", GITHUB_SECRET),
            ("GITHUB_TOKEN", "e2e-github-token"),
            ("ADMIN_TOKEN", ADMIN),
            ("CRON_SECRET", CRON),
        ])
    });
    APP.app()
}

/// One test at a time: each one's listing is all of GitHub.
fn turn() -> MutexGuard<'static, ()> {
    static TURN: Mutex<()> = Mutex::new(());
    TURN.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn sync_status(app: &App) -> Value {
    let r = app.request("GET", "/api/github/sync", &[], b"");
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()
}

fn wait_event(app: &App, delivery: &str, status: &str) {
    app.wait_for(&format!("{delivery} {status}"), Duration::from_secs(60), || {
        let events = sync_status(app)["events"].as_array().cloned().unwrap_or_default();
        events.into_iter().find(|e| e["delivery"] == delivery && e["status"] == status)
    });
}

/// A webhook that did arrive, processed.
fn webhook(app: &App, event: &str, delivery: &str, body: &str, status: &str) {
    assert_eq!(app.send_github(event, delivery, body).status, 200);
    wait_event(app, delivery, status);
}

fn map_login(app: &App, login: &str, member: &str) {
    let auth = format!("Bearer {ADMIN}");
    let body = json!({ "member_id": member }).to_string();
    let r = app.request("PUT", &format!("/api/github/users/{login}"), &[("Authorization", &auth)], body.as_bytes());
    assert_eq!(r.status, 200, "{}", r.body);
}

fn teams(list: &[(u64, &str)]) -> String {
    list.iter().map(|(id, slug)| json!({"id": id, "slug": slug, "name": slug})).collect::<Value>().to_string()
}

fn users(logins: &[&str]) -> String {
    logins.iter().map(|l| json!({"login": l, "id": 1, "type": "User"})).collect::<Value>().to_string()
}

fn next(app: &App, path: &str) -> String {
    format!("<{}{path}>; rel=\"next\", <{}{path}>; rel=\"last\"", app.mock.url, app.mock.url)
}

/// GitHub's answer for the organization's teams (first page).
fn github_teams(app: &App, body: String, link: Option<String>) {
    let canned = Canned::new("GET", &format!("/orgs/{ORG}/teams?per_page=100"), 200, &body);
    app.mock.set_route(link.map_or(canned.clone(), |l| canned.header("Link", &l)));
}

fn github_members(app: &App, slug: &str, logins: &[&str]) {
    let path = format!("/orgs/{ORG}/teams/{slug}/members?per_page=100");
    app.mock.set_route(Canned::new("GET", &path, 200, &users(logins)));
}

fn trigger(app: &App, query: &str) -> Value {
    let auth = format!("Bearer {CRON}");
    let r = app.request("POST", &format!("/api/cron/github-reconcile{query}"), &[("Authorization", &auth)], b"");
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    assert_eq!(v["started"], true, "{v}");
    v
}

fn run_row(app: &App, run: &str) -> Option<Value> {
    sync_status(app)["reconciles"].as_array()?.iter().find(|r| r["id"] == run).cloned()
}

/// Waits for the run to finish and for every job it queued to settle.
fn finished(app: &App, run: &str) -> Value {
    let row = app.wait_for(&format!("reconcile {run}"), Duration::from_secs(90), || {
        run_row(app, run).filter(|r| r["status"] != "running")
    });
    assert_eq!(row["status"], "done", "{row}");
    let prefix = format!("reconcile:{run}:");
    app.wait_for("its corrections settled", Duration::from_secs(90), || {
        let events = sync_status(app)["events"].as_array().cloned().unwrap_or_default();
        let open = events
            .iter()
            .filter(|e| e["delivery"].as_str().is_some_and(|d| d.starts_with(&prefix)))
            .any(|e| e["status"] == "queued" || e["status"] == "retrying");
        (!open).then_some(())
    });
    row
}

fn corrections(app: &App, run: &str) -> Vec<Value> {
    let prefix = format!("reconcile:{run}:");
    let events = sync_status(app)["events"].as_array().cloned().unwrap_or_default();
    events.into_iter().filter(|e| e["delivery"].as_str().is_some_and(|d| d.starts_with(&prefix))).collect()
}

fn counts(row: &Value) -> [i64; 5] {
    ["teams", "teams_missing", "teams_renamed", "members_missing", "members_extra"]
        .map(|k| row[k].as_i64().unwrap_or_else(|| panic!("{k} in {row}")))
}

fn calls(app: &App, method: &str, path: &str) -> Vec<Call> {
    app.mock.calls().into_iter().filter(|c| c.method == method && c.path.starts_with(path)).collect()
}

fn member_path(member: &str, slug: &str) -> String {
    format!("/api/0/organizations/{INTERNAL_ORG}/members/{member}/teams/{slug}/")
}

fn sentry_calls(app: &App) -> Vec<Call> {
    app.mock.calls().into_iter().filter(|c| c.path.starts_with("/api/0/")).collect()
}

fn github_drift(app: &App) -> Value {
    let r = app.request("GET", "/api/webhook-health", &[], b"");
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()["github"]["drift"].clone()
}

#[test]
fn a_membership_whose_webhook_never_came_is_added_and_an_extra_member_removed() {
    let app = app();
    let _turn = turn();
    webhook(app, "team", "rc-1", &team_body("created", 3001, "recon-web"), "done");
    for (login, member) in [("ann-gh", "501"), ("bob-gh", "502"), ("cara-gh", "503")] {
        map_login(app, login, member);
    }
    webhook(app, "membership", "rc-2", &membership_body("added", 3001, "recon-web", "bob-gh"), "done");
    webhook(app, "membership", "rc-3", &membership_body("added", 3001, "recon-web", "cara-gh"), "done");
    // On GitHub since: ann joined, bob left (neither webhook came), and a
    // team was created whose webhook never came either. Two pages of teams,
    // two of members, and GitHub's rate limit on the first members page.
    github_teams(app, teams(&[(3001, "recon-web")]), Some(next(app, "/organizations/38302899/teams?page=2")));
    let page2 = Canned::new("GET", "/organizations/38302899/teams?page=2", 200, &teams(&[(3002, "recon-new")]));
    app.mock.set_route(page2);
    let members = format!("/orgs/{ORG}/teams/recon-web/members?per_page=100");
    let members2 = "/organizations/38302899/team/3001/members?page=2";
    app.mock.set_route(Canned::new("GET", &members, 200, &users(&["ann-gh"])).header("Link", &next(app, members2)));
    app.mock.set_route(Canned::new("GET", members2, 200, &users(&["cara-gh"])));
    github_members(app, "recon-new", &["ann-gh"]);
    let limited = Canned::new("GET", &members, 429, r#"{"message":"API rate limit exceeded"}"#);
    app.mock.reply_once(limited.header("Retry-After", "1"));

    let started = trigger(app, "");
    assert_eq!((started["org"].clone(), started["dry_run"].clone()), (json!(ORG), json!(false)), "{started}");
    let run = started["run"].as_str().unwrap().to_string();
    let row = finished(app, &run);
    assert_eq!(counts(&row), [2, 1, 0, 2, 1], "{row}");

    assert_eq!(calls(app, "GET", &members).len(), 2, "the rate-limited page was asked again");
    let listing = &calls(app, "GET", &format!("/orgs/{ORG}/teams?per_page=100"))[0];
    let header = |c: &Call, k: &str| c.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(k)).map(|(_, v)| v.clone());
    assert_eq!(header(listing, "Authorization").as_deref(), Some("Bearer e2e-github-token"));
    assert_eq!(header(listing, "X-GitHub-Api-Version").as_deref(), Some("2022-11-28"));
    assert_eq!(calls(app, "POST", &member_path("501", "recon-web")).len(), 1, "ann added");
    assert_eq!(calls(app, "DELETE", &member_path("502", "recon-web")).len(), 1, "bob removed");
    assert!(calls(app, "DELETE", &member_path("503", "recon-web")).is_empty(), "cara is on page 2");
    let created = calls(app, "POST", &format!("/api/0/organizations/{INTERNAL_ORG}/teams/"));
    assert_eq!(created.iter().filter(|c| c.body.contains("\"recon-new\"")).count(), 1);
    assert_eq!(calls(app, "POST", &member_path("501", "recon-new")).len(), 1, "added once the team is there");
    let done: Vec<Value> = corrections(app, &run);
    assert_eq!(done.len(), 4, "{done:?}");
    assert!(done.iter().all(|e| e["status"] == "done"), "{done:?}");
    let drift = github_drift(app);
    assert_eq!(drift["last_reconcile_at"], row["finished_at"]);
    assert_eq!(
        (drift["teams_missing"].clone(), drift["members_missing"].clone(), drift["members_extra"].clone()),
        (json!(1), json!(2), json!(1)),
        "{drift}"
    );
    assert_eq!(drift["dry_run"], false);

    // Corrected: the next reconcile finds nothing and calls nothing.
    let before = sentry_calls(app).len();
    let again = finished(app, trigger(app, "")["run"].as_str().unwrap());
    assert_eq!(counts(&again), [2, 0, 0, 0, 0], "{again}");
    assert_eq!(sentry_calls(app).len(), before);
    assert_eq!(github_drift(app)["members_missing"], 0);
}

#[test]
fn a_dry_run_changes_nothing_and_reports_the_counts() {
    let app = app();
    let _turn = turn();
    webhook(app, "team", "rd-1", &team_body("created", 3101, "recon-dry"), "done");
    map_login(app, "dan-gh", "601");
    map_login(app, "erin-gh", "602");
    webhook(app, "membership", "rd-2", &membership_body("added", 3101, "recon-dry", "dan-gh"), "done");
    github_teams(app, teams(&[(3101, "recon-dry"), (3102, "recon-dry-new")]), None);
    github_members(app, "recon-dry", &["erin-gh"]);
    github_members(app, "recon-dry-new", &["erin-gh"]);
    std::thread::sleep(Duration::from_secs(1));
    let before = sentry_calls(app).len();

    let started = trigger(app, "?dry_run=1");
    assert_eq!(started["dry_run"], true, "{started}");
    let run = started["run"].as_str().unwrap().to_string();
    let row = finished(app, &run);
    assert_eq!(counts(&row), [2, 1, 0, 2, 1], "{row}");
    assert_eq!(row["dry_run"], 1);
    let recorded = corrections(app, &run);
    assert_eq!(recorded.len(), 4, "{recorded:?}");
    assert!(recorded.iter().all(|e| e["status"] == "dry_run"), "{recorded:?}");
    assert!(recorded.iter().all(|e| e["detail"].as_str().unwrap().contains("(dry run)")), "{recorded:?}");
    let drift = github_drift(app);
    assert_eq!(drift["dry_run"], true, "{drift}");
    assert_eq!((drift["teams_missing"].clone(), drift["members_extra"].clone()), (json!(1), json!(1)));
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(sentry_calls(app).len(), before, "no Sentry call: {:?}", &sentry_calls(app)[before..]);

    // Nothing changed: a live run finds the same and corrects it.
    let live = finished(app, trigger(app, "")["run"].as_str().unwrap());
    assert_eq!(counts(&live), [2, 1, 0, 2, 1], "{live}");
    assert_eq!(calls(app, "DELETE", &member_path("601", "recon-dry")).len(), 1);
    assert_eq!(calls(app, "POST", &member_path("602", "recon-dry")).len(), 1);
}

#[test]
fn a_team_the_worker_does_not_own_is_untouched() {
    let app = app();
    let _turn = turn();
    let teams_path = format!("/api/0/organizations/{INTERNAL_ORG}/teams/");
    let exists = Canned::new("POST", &teams_path, 409, r#"{"detail":"A team with this slug already exists."}"#);
    app.mock.reply_once(exists.for_body("\"recon-theirs\""));
    webhook(app, "team", "rt-1", &team_body("created", 3201, "recon-theirs"), "conflict");
    map_login(app, "frank-gh", "701");
    github_teams(app, teams(&[(3201, "recon-theirs")]), None);
    github_members(app, "recon-theirs", &["frank-gh"]);

    let row = finished(app, trigger(app, "")["run"].as_str().unwrap());
    assert_eq!(counts(&row), [0, 0, 0, 0, 0], "{row}");
    assert!(calls(app, "GET", &format!("/orgs/{ORG}/teams/recon-theirs/")).is_empty(), "its members not even read");
    let touched: Vec<Call> = sentry_calls(app).into_iter().filter(|c| c.path.contains("/recon-theirs/")).collect();
    assert!(touched.is_empty(), "{touched:?}");
    let creates = calls(app, "POST", &teams_path).into_iter().filter(|c| c.body.contains("\"recon-theirs\"")).count();
    assert_eq!(creates, 1, "only the webhook's own attempt");

    // The manual trigger needs the cron secret; the daily cron starts one too.
    assert_eq!(app.request("POST", "/api/cron/github-reconcile", &[], b"").status, 401);
    let wrong = app.request("POST", "/api/cron/github-reconcile", &[("Authorization", "Bearer nope")], b"");
    assert_eq!(wrong.status, 401);
    assert_eq!(app.request("GET", "/__scheduled?cron=17+3+*+*+*", &[], b"").status, 200);
    let cron = app.wait_for("a cron reconcile", Duration::from_secs(90), || {
        let runs = sync_status(app)["reconciles"].as_array().cloned().unwrap_or_default();
        runs.into_iter().find(|r| r["trigger"] == "cron" && r["status"] == "done")
    });
    assert_eq!(counts(&cron), [0, 0, 0, 0, 0], "{cron}");
    assert_eq!(app.request("GET", "/__scheduled?cron=*/5+*+*+*+*", &[], b"").status, 200);
    std::thread::sleep(Duration::from_secs(2));
    let crons = sync_status(app)["reconciles"].as_array().unwrap().iter().filter(|r| r["trigger"] == "cron").count();
    assert_eq!(crons, 1, "the five-minute cron does not reconcile");
}
