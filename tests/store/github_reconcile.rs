//! The GitHub reconcile's SQL (src/store/reconcile.rs) on SQLite with the
//! real migrations (0018_github_reconcile.sql on top of the GitHub sync's):
//! the backfill of who the worker added, the claim that records a
//! correction unless a newer or unfinished event covers it, the members a
//! job leaves recorded, the map read, the runs and their lease, and the
//! newest finished run's findings in the health row.

use crate::support::db;

use rusqlite::Connection;
use sentry_kanban::github::hook::SyncRecord;
use sentry_kanban::github::reconcile::{Correction, Counts, Kind};
use sentry_kanban::github::sync::{MemberAction, MembershipJob, Ownership};
use sentry_kanban::jobs::Job;
use sentry_kanban::store::{github as gh, health, reconcile as store};
use serde_json::{json, Map, Value};

type Row = Map<String, Value>;

const T0: &str = "2026-01-01T00:00:00.000Z";
const T1: &str = "2026-01-01T00:01:00.000Z";
const T2: &str = "2026-01-01T00:02:00.000Z";
const T3: &str = "2026-01-01T00:03:00.000Z";

fn webhook(delivery: &str, event: &'static str, action: &str, team: &str, login: Option<&str>) -> SyncRecord {
    SyncRecord {
        delivery: delivery.into(),
        body_sha256: format!("sha-{delivery}"),
        event,
        action: action.into(),
        team_id: Some(team.into()),
        team_slug: Some("web".into()),
        login: login.map(str::to_string),
        org: Some("acme".into()),
        status: "queued",
        detail: None,
    }
}

/// A webhook's event, recorded at `at` and left with `status`.
fn received(conn: &Connection, r: &SyncRecord, at: &str, status: &str) {
    assert_eq!(db::query(conn, gh::CLAIM, &gh::claim_params(r, at, "2000-01-01T00:00:00.000Z")).len(), 1);
    db::run(conn, &[gh::set_status((&r.delivery, &r.body_sha256), status, None, 1, at)]);
}

fn fix(kind: Kind, team: &str, login: Option<&str>, since: &str) -> Correction {
    let (event, action) = match kind {
        Kind::TeamMissing => ("team", "created"),
        Kind::TeamRenamed => ("team", "edited"),
        Kind::MemberMissing => ("membership", "added"),
        Kind::MemberExtra => ("membership", "removed"),
    };
    let delivery = format!("reconcile:r1:{team}:{}", login.unwrap_or(""));
    let record = SyncRecord {
        body_sha256: String::new(),
        status: "queued",
        detail: Some("reconcile r1: found".into()),
        ..webhook(&delivery, event, action, team, login)
    };
    Correction { kind, record, job: None, since: since.into() }
}

fn claimed(conn: &Connection, c: &Correction, now: &str) -> bool {
    db::try_run_first_rows(conn, &[store::claim(c, now)]).expect("claim")[0].is_some()
}

fn recorded(conn: &Connection, team: &str) -> Vec<String> {
    store::recorded(&db::query(conn, store::RECORDED, &[team.into()]))
}

fn member_job(action: MemberAction, team: &str, login: &str) -> MembershipJob {
    MembershipJob {
        delivery: "d".into(),
        body_sha256: String::new(),
        action,
        team_id: team.into(),
        team_slug: Some("web".into()),
        login: login.into(),
        org: Some("acme".into()),
    }
}

#[test]
fn the_migration_records_whom_earlier_jobs_added() {
    let conn = Connection::open_in_memory().unwrap();
    let files = db::migration_files();
    let (before, after): (Vec<_>, Vec<_>) =
        files.iter().partition(|f| f.file_name().unwrap().to_str().unwrap() < "0018");
    assert!(!after.is_empty(), "0018 exists");
    for f in &before {
        conn.execute_batch(&std::fs::read_to_string(f).unwrap()).unwrap();
    }
    received(&conn, &webhook("a1", "membership", "added", "42", Some("ann")), T0, "done");
    received(&conn, &webhook("b1", "membership", "added", "42", Some("bob")), T0, "done");
    received(&conn, &webhook("b2", "membership", "removed", "42", Some("BOB")), T1, "done");
    received(&conn, &webhook("c1", "membership", "added", "42", Some("cara")), T0, "unmapped");
    received(&conn, &webhook("a2", "membership", "removed", "42", Some("ann")), T2, "failed");
    for f in &after {
        conn.execute_batch(&std::fs::read_to_string(f).unwrap()).unwrap();
    }
    assert_eq!(recorded(&conn, "42"), vec!["ann".to_string()], "bob was removed since; cara never added");
}

#[test]
fn a_correction_is_recorded_once_unless_a_newer_or_unfinished_event_covers_it() {
    let conn = db::fresh_db();
    let add = fix(Kind::MemberMissing, "42", Some("ann"), T1);
    assert!(claimed(&conn, &add, T2));
    assert!(!claimed(&conn, &add, T3), "the same correction twice: recorded once");
    let row =
        db::query(&conn, "SELECT * FROM github_sync WHERE delivery_id = ?1", &[add.record.delivery.as_str().into()]);
    assert_eq!(row[0]["status"], "queued");
    assert_eq!((row[0]["event"].clone(), row[0]["action"].clone()), (json!("membership"), json!("added")));

    // A webhook for the same member since the listing: it is newer, it decides.
    received(&conn, &webhook("w1", "membership", "removed", "43", Some("BOB")), T2, "done");
    assert!(!claimed(&conn, &fix(Kind::MemberMissing, "43", Some("bob"), T1), T3));
    assert!(claimed(&conn, &fix(Kind::MemberMissing, "43", Some("bob"), T3), T3), "older than the listing");
    // One still under way, however old, decides too.
    received(&conn, &webhook("w2", "membership", "added", "44", Some("cara")), T0, "retrying");
    assert!(!claimed(&conn, &fix(Kind::MemberExtra, "44", Some("cara"), T1), T3));
    assert!(claimed(&conn, &fix(Kind::MemberExtra, "44", Some("dan"), T1), T3), "another login");
    // A team correction only yields to the team's own events.
    received(&conn, &webhook("w3", "membership", "added", "45", Some("eve")), T2, "queued");
    assert!(claimed(&conn, &fix(Kind::TeamMissing, "45", None, T1), T3));
    received(&conn, &webhook("w4", "team", "created", "46", None), T2, "done");
    assert!(!claimed(&conn, &fix(Kind::TeamMissing, "46", None, T1), T3));
}

#[test]
fn a_recorded_correction_is_an_event_the_sync_and_its_sweep_know() {
    let conn = db::fresh_db();
    let add = fix(Kind::MemberMissing, "42", Some("ann"), T1);
    assert!(claimed(&conn, &add, T1));
    let read = gh::prelude_read("42", (add.record.delivery.as_str(), ""), Some("ann"));
    let newer = || gh::read_prelude(&[db::query(&conn, read.sql, &read.params).pop()]).unwrap().superseded;
    assert!(!newer());
    received(&conn, &webhook("w1", "membership", "removed", "42", Some("ann")), T2, "queued");
    assert!(newer(), "a later webhook supersedes it");
    let stuck = db::query(&conn, gh::STUCK, &["2026-01-01T00:10:00.000Z".into(), "2026-01-01T00:00:00.000Z".into()]);
    let jobs: Vec<Job> = stuck.iter().filter_map(gh::stuck_job).collect();
    let Some(Job::GithubMembership(job)) = jobs.first() else { panic!("{stuck:?}") };
    assert_eq!(
        (job.delivery.as_str(), job.login.as_str(), job.action),
        (add.record.delivery.as_str(), "ann", MemberAction::Added)
    );
}

#[test]
fn a_finished_membership_job_leaves_who_is_on_the_team() {
    let conn = db::fresh_db();
    db::run(&conn, &[store::member_applied(&member_job(MemberAction::Added, "42", "Ann"), T0)]);
    db::run(&conn, &[store::member_applied(&member_job(MemberAction::Added, "42", "ann"), T1)]);
    db::run(&conn, &[store::member_applied(&member_job(MemberAction::Added, "42", "bob"), T1)]);
    db::run(&conn, &[store::member_applied(&member_job(MemberAction::Added, "7", "bob"), T1)]);
    assert_eq!(recorded(&conn, "42"), vec!["Ann".to_string(), "bob".to_string()], "logins compare without case");
    db::run(&conn, &[store::member_applied(&member_job(MemberAction::Removed, "42", "BOB"), T2)]);
    assert_eq!(recorded(&conn, "42"), vec!["Ann".to_string()]);
    assert_eq!(recorded(&conn, "7"), vec!["bob".to_string()], "only that team");
}

#[test]
fn the_map_is_read_for_the_listed_teams_with_their_ownership() {
    let conn = db::fresh_db();
    db::run(&conn, &[gh::map_team("42", "web", "acme", "web", Ownership::Owned, T0)]);
    db::run(&conn, &[gh::map_team("43", "api", "acme", "api", Ownership::Conflict, T0)]);
    db::run(&conn, &[gh::map_team("44", "old", "acme", "old", Ownership::Owned, T0), gh::team_deleted("44", T1)]);
    let ids = vec!["42".to_string(), "43".to_string(), "44".to_string(), "99".to_string()];
    let mut entries = store::map_entries(&db::query(&conn, store::MAP_FOR, &store::map_params(&ids)));
    entries.sort_by(|a, b| a.team_id.cmp(&b.team_id));
    let got: Vec<_> = entries
        .iter()
        .map(|e| (e.team_id.as_str(), e.github_slug.as_deref(), e.team.ownership, e.team.deleted))
        .collect();
    assert_eq!(
        got,
        vec![
            ("42", Some("web"), Ownership::Owned, false),
            ("43", Some("api"), Ownership::Conflict, false),
            ("44", Some("old"), Ownership::Owned, true),
        ]
    );
    assert!(store::map_entries(&db::query(&conn, store::MAP_FOR, &store::map_params(&[]))).is_empty());
}

fn run_row(conn: &Connection, id: &str) -> Row {
    db::query(conn, "SELECT * FROM github_reconciles WHERE id = ?1", &[id.into()]).pop().expect("run row")
}

fn start(conn: &Connection, run: &str, now: &str, until: &str) -> bool {
    !db::query(conn, store::START, &store::start_params(run, "acme", "cron", false, now, until)).is_empty()
}

#[test]
fn one_run_at_a_time_and_a_run_whose_lease_ran_out_is_closed() {
    let conn = db::fresh_db();
    assert!(start(&conn, "r1", T0, T2));
    assert!(!start(&conn, "r2", T1, T3), "r1 holds the lease");
    assert_eq!(db::query(&conn, store::RUNNING, &[])[0]["id"], "r1");
    assert_eq!(db::query(&conn, store::HOLDS, &["r1".into()]).len(), 1);
    let so_far = Counts { teams: 3, members_missing: 2, ..Counts::default() };
    db::run(&conn, &[store::progress("r1", &so_far, Some("HTTP 429"), T2, T1)]);
    assert_eq!(
        (run_row(&conn, "r1")["members_missing"].clone(), run_row(&conn, "r1")["last_error"].clone()),
        (json!(2), json!("HTTP 429"))
    );
    db::run(&conn, &[store::expire(T3)]);
    let closed = run_row(&conn, "r1");
    assert_eq!(closed["status"], "failed");
    assert!(closed["last_error"].as_str().unwrap().contains("lease ran out"), "{closed:?}");
    assert!(db::query(&conn, store::HOLDS, &["r1".into()]).is_empty(), "its messages stop");
    assert!(start(&conn, "r2", T3, "2026-01-01T00:20:00.000Z"));
    let found = Counts { teams: 4, teams_missing: 1, teams_renamed: 1, members_missing: 2, members_extra: 3 };
    db::run(&conn, &[store::finish("r2", "done", &found, None, T3)]);
    db::run(&conn, &[store::finish("r2", "failed", &Counts::default(), Some("late"), T3)]);
    let done = run_row(&conn, "r2");
    assert_eq!(
        (done["status"].clone(), done["members_extra"].clone(), done["finished_at"].clone()),
        (json!("done"), json!(3), json!(T3)),
        "a finished run stays finished"
    );
    let listed = db::query(&conn, store::LIST_RUNS, &[]);
    assert_eq!(listed.iter().map(|r| r["id"].clone()).collect::<Vec<_>>(), vec![json!("r2"), json!("r1")]);
}

#[test]
fn the_org_defaults_to_the_newest_webhooks() {
    let conn = db::fresh_db();
    assert_eq!(store::last_org(db::query(&conn, store::LAST_ORG, &[]).first()), None);
    received(
        &conn,
        &SyncRecord { org: Some("old-org".into()), ..webhook("a", "team", "created", "1", None) },
        T0,
        "done",
    );
    received(&conn, &webhook("b", "team", "created", "2", None), T1, "done");
    assert_eq!(store::last_org(db::query(&conn, store::LAST_ORG, &[]).first()).as_deref(), Some("acme"));
}

#[test]
fn the_health_row_carries_the_newest_finished_reconcile() {
    let conn = db::fresh_db();
    let facts = |conn: &Connection| health::facts_from_row(db::rows(conn, health::HEALTH).first());
    assert_eq!(facts(&conn).github_drift, Default::default());
    let found = Counts { teams: 2, teams_missing: 1, teams_renamed: 0, members_missing: 4, members_extra: 1 };
    assert!(!db::query(&conn, store::START, &store::start_params("r1", "acme", "manual", true, T0, T1)).is_empty());
    db::run(&conn, &[store::finish("r1", "done", &found, None, T1)]);
    assert!(start(&conn, "r2", T2, T3));
    db::run(&conn, &[store::finish("r2", "failed", &Counts { members_extra: 9, ..Counts::default() }, Some("x"), T3)]);
    let drift = facts(&conn).github_drift;
    assert_eq!(drift.last_reconcile_at.as_deref(), Some(T1), "the failed one is not a finding");
    assert!(drift.dry_run);
    assert_eq!((drift.teams_missing, drift.members_missing, drift.members_extra), (1, 4, 1));
}

#[test]
fn a_runs_lease_moves_past_the_wait_it_asks_for() {
    let now = sentry_kanban::time::parse_rfc3339("2026-01-01T00:00:00.000Z").unwrap();
    assert_eq!(sentry_kanban::store::reconcile::lease_until(now, 0), "2026-01-01T00:15:00.000Z");
    assert_eq!(sentry_kanban::store::reconcile::lease_until(now, 60), "2026-01-01T00:16:00.000Z");
}
