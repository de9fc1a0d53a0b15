//! The GitHub team-sync SQL (src/store/github.rs) on SQLite with the real
//! migrations (0006_github_sync.sql, 0004_installations.sql,
//! 0010_github_hardening.sql): the delivery claim keyed on (delivery id,
//! body digest), its redelivery rule (processed again unless the first
//! attempt succeeded), unclaim, status updates, team ownership, the
//! "superseded by a newer delivery" check, the team map (rename, final
//! deletion), the login → member mapping (case-insensitive, CHECK), the
//! replay of unmapped membership events, the sync status reads, and the
//! installations an installation-mode sync can target.

#[path = "support/db.rs"]
mod db;

use rusqlite::Connection;
use sentry_kanban::github::hook::SyncRecord;
use sentry_kanban::github::sync::{MappedTeam, MemberAction, MembershipJob, Ownership, TeamAction};
use sentry_kanban::github::users::Mapping;
use sentry_kanban::jobs::Job;
use sentry_kanban::store::github as gh;
use serde_json::{json, Map, Value};

type Row = Map<String, Value>;

const T0: &str = "2026-01-01T00:00:00.000Z";
const T1: &str = "2026-01-01T00:01:00.000Z";
const T2: &str = "2026-01-01T00:02:00.000Z";

fn membership(delivery: &str, action: &str, team: &str, login: &str) -> SyncRecord {
    SyncRecord {
        delivery: delivery.into(),
        body_sha256: digest(delivery),
        event: "membership",
        action: action.into(),
        team_id: Some(team.into()),
        team_slug: Some(format!("slug-{team}")),
        login: Some(login.into()),
        org: Some("acme".into()),
        status: "queued",
        detail: None,
    }
}

fn team_event(delivery: &str, action: &str, team: &str) -> SyncRecord {
    SyncRecord {
        delivery: delivery.into(),
        body_sha256: digest(delivery),
        event: "team",
        action: action.into(),
        team_id: Some(team.into()),
        team_slug: Some(format!("slug-{team}")),
        login: None,
        org: Some("acme".into()),
        status: "queued",
        detail: None,
    }
}

/// The body digest the test records carry: one body per delivery id.
fn digest(delivery: &str) -> String {
    format!("sha-of-{delivery}")
}

/// A row's key: the delivery id and its record's digest.
fn key(delivery: &str) -> (&str, String) {
    (delivery, digest(delivery))
}

/// Runs `CLAIM` at `T0`; the rows it returns (one on first sight, none after).
fn claim(conn: &Connection, r: &SyncRecord) -> Vec<Row> {
    claim_at(conn, r, T0, "2025-12-31T23:50:00.000Z")
}

fn claim_at(conn: &Connection, r: &SyncRecord, now: &str, stuck_before: &str) -> Vec<Row> {
    db::query(conn, gh::CLAIM, &gh::claim_params(r, now, stuck_before))
}

fn claim_all(conn: &Connection, records: &[SyncRecord]) {
    for r in records {
        assert_eq!(claim(conn, r).len(), 1, "claiming {}", r.delivery);
    }
}

fn sync_row(conn: &Connection, delivery: &str) -> Option<Row> {
    db::query(conn, "SELECT * FROM github_sync WHERE delivery_id = ?1", &[delivery.into()]).pop()
}

fn superseded(conn: &Connection, delivery: &str) -> bool {
    let found = db::query(conn, gh::SUPERSEDED, &[delivery.into(), digest(delivery).into()]);
    assert!(found.len() <= 1, "LIMIT 1");
    !found.is_empty()
}

fn team(conn: &Connection, id: &str) -> Option<MappedTeam> {
    db::query(conn, gh::TEAM, &[id.into()]).first().and_then(gh::mapped_team)
}

fn user(conn: &Connection, login: &str) -> Option<Mapping> {
    db::query(conn, gh::USER, &[login.into()]).first().map(gh::mapping)
}

fn mapping(member_id: Option<&str>, email: Option<&str>) -> Mapping {
    Mapping { member_id: member_id.map(str::to_string), email: email.map(str::to_string) }
}

fn set(conn: &Connection, delivery: &str, status: &str, detail: Option<&str>, attempts: u32) {
    let (d, h) = key(delivery);
    db::run(conn, &[gh::set_status((d, &h), status, detail, attempts, T1)]);
}

fn col<'a>(row: &'a Row, key: &str) -> &'a Value {
    row.get(key).unwrap_or_else(|| panic!("no column {key} in {row:?}"))
}

#[test]
fn a_redelivery_of_an_event_whose_job_never_ran_is_claimed_again_once() {
    let conn = db::fresh_db();
    let stuck = membership("s-1", "added", "42", "octo");
    let done = membership("s-2", "added", "42", "cat");
    claim_all(&conn, &[stuck.clone(), done.clone()]);
    db::run(&conn, &[gh::set_status(("s-2", &digest("s-2")), "done", None, 1, T0)]);
    let (later, cutoff) = ("2026-01-01T00:20:00.000Z", "2026-01-01T00:10:00.000Z");
    assert_eq!(claim_at(&conn, &stuck, later, cutoff).len(), 1, "queued for 20 min: its job was lost");
    assert!(claim_at(&conn, &stuck, later, cutoff).is_empty(), "re-claimed once, not on every redelivery");
    assert!(claim_at(&conn, &done, later, cutoff).is_empty(), "a finished event is a duplicate");
    let recent = membership("s-3", "added", "42", "dog");
    assert_eq!(claim_at(&conn, &recent, "2026-01-01T00:15:00.000Z", cutoff).len(), 1);
    assert!(claim_at(&conn, &recent, later, cutoff).is_empty(), "queued 5 min ago: still in flight");
}

#[test]
fn the_cron_finds_events_whose_job_was_lost_and_requeues_each_once() {
    let conn = db::fresh_db();
    claim_all(&conn, &[team_event("t-1", "edited", "5"), membership("m-1", "removed", "5", "octo")]);
    claim_all(&conn, &[team_event("t-2", "created", "6")]);
    db::run(&conn, &[gh::set_status(("t-2", &digest("t-2")), "done", None, 1, T0)]);
    let cutoff = "2026-01-01T00:10:00.000Z";
    let rows = db::query(&conn, gh::STUCK, &[cutoff.into()]);
    let jobs: Vec<Job> = rows.iter().filter_map(gh::stuck_job).collect();
    assert_eq!(jobs.len(), 2, "only the queued ones: {rows:?}");
    let Job::GithubTeam(t) = &jobs[0] else { panic!("{:?}", jobs[0]) };
    assert_eq!(
        (t.delivery.as_str(), t.action, t.team_id.as_str(), t.slug.as_deref()),
        ("t-1", TeamAction::Edited, "5", Some("slug-5"))
    );
    let Job::GithubMembership(m) = &jobs[1] else { panic!("{:?}", jobs[1]) };
    assert_eq!((m.action, m.login.as_str()), (MemberAction::Removed, "octo"));
    let now = "2026-01-01T00:20:00.000Z";
    let claims = [gh::unstick(("t-1", &digest("t-1")), now, cutoff), gh::unstick(("m-1", &digest("m-1")), now, cutoff)];
    db::run(&conn, &claims);
    assert!(db::query(&conn, gh::STUCK, &[cutoff.into()]).is_empty(), "claimed: a second sweep finds nothing");
    let recheck = db::query(&conn, gh::STUCK, &["2026-01-01T00:30:00.000Z".into()]);
    assert_eq!(recheck.len(), 2, "still queued 10 minutes after the re-queue: swept again");
}

#[test]
fn claim_dedupes_redelivery_and_stores_the_record() {
    let conn = db::fresh_db();
    let rec = membership("d-1", "added", "42", "octo");
    let first = claim(&conn, &rec);
    assert_eq!(first.len(), 1);
    assert_eq!(first[0]["delivery_id"], "d-1");
    assert!(claim(&conn, &rec).is_empty(), "a redelivery is not claimed again");
    let mut other = rec.clone();
    other.action = "removed".into();
    assert!(claim(&conn, &other).is_empty(), "same id, same digest: still a duplicate");
    // Changed (issue 17): the key is (id, body digest), so the same id with
    // another body is another delivery (see the_claim_is_keyed_on_the_body_digest).

    let row = sync_row(&conn, "d-1").expect("row");
    let expect = [
        ("body_sha256", json!(digest("d-1"))),
        ("github_org", json!("acme")),
        ("event", json!("membership")),
        ("action", json!("added")),
        ("team_id", json!("42")),
        ("team_slug", json!("slug-42")),
        ("login", json!("octo")),
        ("status", json!("queued")),
        ("detail", Value::Null),
        ("attempts", json!(0)),
        ("received_at", json!(T0)),
        ("updated_at", json!(T0)),
    ];
    for (key, want) in expect {
        assert_eq!(col(&row, key), &want, "column {key}");
    }
    assert_eq!(db::rows(&conn, "SELECT * FROM github_sync").len(), 1);
}

#[test]
fn claim_keeps_null_login_and_detail_of_a_noop() {
    let conn = db::fresh_db();
    let mut rec = team_event("t-1", "deleted", "7");
    rec.team_slug = None;
    rec.status = "noop";
    rec.detail = Some("why".into());
    claim_all(&conn, &[rec]);
    let row = sync_row(&conn, "t-1").expect("row");
    assert_eq!(row["login"], Value::Null);
    assert_eq!(row["team_slug"], Value::Null);
    assert_eq!(row["status"], "noop");
    assert_eq!(row["detail"], "why");
}

#[test]
fn unclaim_deletes_only_a_queued_row() {
    let conn = db::fresh_db();
    claim_all(&conn, &[membership("q", "added", "1", "a"), membership("d", "added", "1", "b")]);
    set(&conn, "d", "done", None, 1);
    db::run(&conn, &[gh::unclaim("q", &digest("q")), gh::unclaim("d", &digest("d"))]);
    assert!(sync_row(&conn, "q").is_none(), "queued row forgotten");
    assert_eq!(sync_row(&conn, "d").expect("done row kept")["status"], "done");
    assert_eq!(claim(&conn, &membership("q", "added", "1", "a")).len(), 1, "redelivery taken as new");
}

#[test]
fn set_status_updates_and_attempts_only_grow() {
    let conn = db::fresh_db();
    claim_all(&conn, &[membership("d-1", "added", "1", "octo")]);
    set(&conn, "d-1", "retrying", Some("429"), 3);
    let row = sync_row(&conn, "d-1").unwrap();
    assert_eq!((&row["status"], &row["detail"], &row["attempts"]), (&json!("retrying"), &json!("429"), &json!(3)));
    assert_eq!(row["updated_at"], T1);
    assert_eq!(row["received_at"], T0, "arrival time kept");

    set(&conn, "d-1", "done", None, 1);
    let row = sync_row(&conn, "d-1").unwrap();
    assert_eq!((&row["status"], &row["detail"], &row["attempts"]), (&json!("done"), &Value::Null, &json!(3)));

    set(&conn, "d-1", "failed", Some("x"), u32::MAX);
    assert_eq!(sync_row(&conn, "d-1").unwrap()["attempts"], json!(i32::MAX), "clamped, not wrapped");
    assert!(
        db::try_run(&conn, &[gh::set_status(("d-1", &digest("d-1")), "bogus", None, 0, T2)]).is_err(),
        "status CHECK"
    );
}

#[test]
fn newer_membership_for_same_team_and_login_supersedes() {
    let conn = db::fresh_db();
    claim_all(
        &conn,
        &[
            membership("m-1", "added", "1", "octo"),
            membership("m-2", "added", "1", "other"),
            membership("m-3", "added", "2", "octo"),
        ],
    );
    assert!(!superseded(&conn, "m-1"), "other login / other team do not supersede");
    claim_all(&conn, &[membership("m-4", "removed", "1", "octo")]);
    assert!(superseded(&conn, "m-1"), "older delivery superseded");
    assert!(!superseded(&conn, "m-4"), "newest is not");
    assert!(!superseded(&conn, "m-2"));
    assert!(!superseded(&conn, "m-3"));
    assert!(!superseded(&conn, "unknown"), "unknown delivery");
}

#[test]
fn team_events_supersede_older_team_events_of_that_team_only() {
    let conn = db::fresh_db();
    claim_all(
        &conn,
        &[
            team_event("t-1", "created", "1"),
            team_event("t-2", "created", "2"),
            membership("m-1", "added", "1", "octo"),
        ],
    );
    assert!(!superseded(&conn, "t-1"), "a membership does not supersede a team event");
    claim_all(&conn, &[team_event("t-3", "edited", "1")]);
    assert!(superseded(&conn, "t-1"));
    assert!(!superseded(&conn, "t-2"), "other team");
    assert!(!superseded(&conn, "t-3"));
    assert!(!superseded(&conn, "m-1"), "a team event does not supersede a membership");
}

#[test]
fn map_team_renames_and_deletion_is_final() {
    let conn = db::fresh_db();
    assert_eq!(team(&conn, "9"), None);
    db::run(&conn, &[gh::map_team("9", "gh-a", "org", "team-a", Ownership::Owned, T0)]);
    assert_eq!(
        team(&conn, "9"),
        Some(MappedTeam { sentry_slug: "team-a".into(), deleted: false, ownership: Ownership::Owned })
    );

    db::run(&conn, &[gh::map_team("9", "gh-b", "org", "team-b", Ownership::Owned, T1)]);
    assert_eq!(
        team(&conn, "9"),
        Some(MappedTeam { sentry_slug: "team-b".into(), deleted: false, ownership: Ownership::Owned })
    );
    assert_eq!(db::rows(&conn, gh::LIST_TEAMS).len(), 1, "renamed in place");

    db::run(&conn, &[gh::team_deleted("9", T2)]);
    assert_eq!(
        team(&conn, "9"),
        Some(MappedTeam { sentry_slug: "team-b".into(), deleted: true, ownership: Ownership::Owned })
    );

    db::run(&conn, &[gh::map_team("9", "gh-c", "org", "team-c", Ownership::Linked, T2)]);
    assert_eq!(
        team(&conn, "9"),
        Some(MappedTeam { sentry_slug: "team-b".into(), deleted: true, ownership: Ownership::Owned }),
        "not revived"
    );
    let listed = db::rows(&conn, gh::LIST_TEAMS);
    assert_eq!((&listed[0]["github_slug"], &listed[0]["state"]), (&json!("gh-b"), &json!("deleted")));
}

#[test]
fn users_map_case_insensitively_and_replace() {
    let conn = db::fresh_db();
    assert_eq!(user(&conn, "octo"), None);
    db::run(&conn, &[gh::put_user("Octo", &mapping(Some("m1"), None), T0)]);
    assert_eq!(user(&conn, "octo"), Some(mapping(Some("m1"), None)));
    assert_eq!(user(&conn, "OCTO"), Some(mapping(Some("m1"), None)));

    db::run(&conn, &[gh::put_user("octo", &mapping(None, Some("o@x.io")), T1)]);
    assert_eq!(user(&conn, "Octo"), Some(mapping(None, Some("o@x.io"))), "replaced, member id cleared");
    assert_eq!(db::rows(&conn, gh::LIST_USERS).len(), 1, "one row per login whatever its case");

    db::run(&conn, &[gh::delete_user("OCTO")]);
    assert_eq!(user(&conn, "octo"), None);
    assert!(db::rows(&conn, gh::LIST_USERS).is_empty());
}

#[test]
fn a_user_needs_a_member_id_or_an_email() {
    let conn = db::fresh_db();
    assert!(db::try_run(&conn, &[gh::put_user("octo", &mapping(None, None), T0)]).is_err());
    assert_eq!(user(&conn, "octo"), None);
    db::run(&conn, &[gh::put_user("octo", &mapping(Some("m1"), None), T0)]);
    assert!(db::try_run(&conn, &[gh::put_user("octo", &mapping(None, None), T1)]).is_err(), "nor by update");
    assert_eq!(user(&conn, "octo"), Some(mapping(Some("m1"), None)));
}

fn unmapped(conn: &Connection, login: &str) -> Vec<MembershipJob> {
    let rows = db::query(conn, gh::UNMAPPED_FOR, &[login.into()]);
    rows.iter().map(|r| gh::replay_job(r).expect("complete row")).collect()
}

fn job(delivery: &str, action: MemberAction, team: &str, login: &str) -> MembershipJob {
    let body_sha256 = digest(delivery);
    let (delivery, team_id, login) = (delivery.into(), team.into(), login.into());
    let (team_slug, org) = (Some(format!("slug-{team}")), Some("acme".to_string()));
    MembershipJob { delivery, body_sha256, action, team_id, team_slug, login, org }
}

#[test]
fn unmapped_for_replays_only_that_logins_unmapped_memberships() {
    let conn = db::fresh_db();
    claim_all(
        &conn,
        &[
            membership("u-1", "added", "1", "octo"),
            membership("u-2", "added", "2", "other"),
            membership("u-3", "removed", "2", "octo"),
            membership("u-4", "added", "3", "octo"),
            membership("u-5", "added", "4", "octo"),
        ],
    );
    for d in ["u-1", "u-2", "u-3", "u-5"] {
        set(&conn, d, "unmapped", Some("no member"), 1);
    }
    set(&conn, "u-4", "done", None, 1);
    let want = vec![
        job("u-1", MemberAction::Added, "1", "octo"),
        job("u-3", MemberAction::Removed, "2", "octo"),
        job("u-5", MemberAction::Added, "4", "octo"),
    ];
    assert_eq!(unmapped(&conn, "Octo"), want, "arrival order, case-insensitive login");
    assert_eq!(unmapped(&conn, "other"), vec![job("u-2", MemberAction::Added, "2", "other")]);
    assert!(unmapped(&conn, "nobody").is_empty());
}

#[test]
fn requeued_flips_unmapped_to_queued_only() {
    let conn = db::fresh_db();
    claim_all(&conn, &[membership("u-1", "added", "1", "octo"), membership("u-2", "added", "2", "octo")]);
    set(&conn, "u-1", "unmapped", Some("no member"), 1);
    set(&conn, "u-2", "done", Some("added"), 1);
    db::run(&conn, &[gh::requeued(("u-1", &digest("u-1")), T2), gh::requeued(("u-2", &digest("u-2")), T2)]);

    let row = sync_row(&conn, "u-1").unwrap();
    assert_eq!((&row["status"], &row["detail"], &row["updated_at"]), (&json!("queued"), &Value::Null, &json!(T2)));
    let row = sync_row(&conn, "u-2").unwrap();
    assert_eq!((&row["status"], &row["detail"], &row["updated_at"]), (&json!("done"), &json!("added"), &json!(T1)));
    assert!(unmapped(&conn, "octo").is_empty(), "nothing left to replay");
}

fn unmapped_list(conn: &Connection) -> Vec<String> {
    db::rows(conn, gh::LIST_UNMAPPED).iter().map(|r| r["delivery"].as_str().unwrap().to_string()).collect()
}

#[test]
fn list_unmapped_drops_a_login_once_a_newer_event_is_done() {
    let conn = db::fresh_db();
    claim_all(&conn, &[membership("u-1", "added", "1", "octo"), membership("u-2", "added", "1", "other")]);
    set(&conn, "u-1", "unmapped", Some("no public email"), 1);
    set(&conn, "u-2", "unmapped", Some("no member"), 1);
    assert_eq!(unmapped_list(&conn), ["u-2", "u-1"], "newest first");
    let first = &db::rows(&conn, gh::LIST_UNMAPPED)[1];
    assert_eq!(
        (&first["login"], &first["why"], &first["team_slug"]),
        (&json!("octo"), &json!("no public email"), &json!("slug-1"))
    );

    claim_all(&conn, &[membership("u-0", "removed", "1", "OCTO")]);
    set(&conn, "u-0", "unmapped", Some("no public email"), 1);
    assert_eq!(unmapped_list(&conn), ["u-0", "u-2"], "one row per login (any case): its newest");
    claim_all(&conn, &[membership("u-3", "added", "2", "octo")]);
    assert_eq!(unmapped_list(&conn), ["u-0", "u-2"], "a newer queued event does not clear it");
    set(&conn, "u-3", "done", None, 1);
    assert_eq!(unmapped_list(&conn), ["u-2"], "octo mapped since");

    claim_all(&conn, &[membership("u-4", "added", "2", "other")]);
    set(&conn, "u-4", "dry_run", None, 1);
    assert!(unmapped_list(&conn).is_empty(), "a dry run counts as mapped too");
}

#[test]
fn status_json_counts_and_mode() {
    let conn = db::fresh_db();
    claim_all(
        &conn,
        &[
            membership("s-1", "added", "1", "a"),
            membership("s-2", "added", "1", "b"),
            membership("s-3", "added", "1", "c"),
            team_event("s-4", "created", "1"),
        ],
    );
    set(&conn, "s-1", "done", None, 1);
    set(&conn, "s-2", "unmapped", Some("no member"), 1);
    db::run(&conn, &[gh::map_team("1", "gh", "org", "sentry", Ownership::Owned, T0)]);

    let (events, unmapped, teams) =
        (db::rows(&conn, gh::LIST_EVENTS), db::rows(&conn, gh::LIST_UNMAPPED), db::rows(&conn, gh::LIST_TEAMS));
    let counts = db::rows(&conn, gh::COUNTS);
    let live = gh::status_json(false, &events, &unmapped, &teams, &counts);
    assert_eq!(live["mode"], "live");
    assert_eq!(live["counts"], json!({ "done": 1, "queued": 2, "unmapped": 1 }));
    assert_eq!(live["events"].as_array().unwrap().len(), 4);
    assert_eq!(live["events"][0]["delivery"], "s-4", "newest first");
    assert_eq!(live["unmapped"][0]["login"], "b");
    assert_eq!(live["teams"][0]["sentry_slug"], "sentry");
    assert_eq!(gh::status_json(true, &[], &[], &[], &[])["mode"], "dry_run");
    assert_eq!(gh::status_json(true, &[], &[], &[], &[])["counts"], json!({}));
}

fn insert_installation(conn: &Connection, uuid: &str, org: Option<&str>, status: &str) {
    let sql = "INSERT INTO installations (uuid, org_slug, status, applied_at, created_at, updated_at)
        VALUES (?1, ?2, ?3, ?4, ?4, ?4)";
    conn.execute(sql, rusqlite::params![uuid, org, status, T0]).expect("insert installation");
}

#[test]
fn installed_lists_installed_orgs_only() {
    let conn = db::fresh_db();
    insert_installation(&conn, "u-c", Some("gamma"), "installed");
    insert_installation(&conn, "u-a", Some("alpha"), "installed");
    insert_installation(&conn, "u-b", Some("beta"), "pending");
    insert_installation(&conn, "u-d", Some("delta"), "deleted");
    insert_installation(&conn, "u-e", None, "installed");
    assert_eq!(db::rows(&conn, "SELECT * FROM installations").len(), 5);
    let got = gh::installed(&db::rows(&conn, gh::INSTALLED));
    assert_eq!(got, vec![("u-a".to_string(), "alpha".to_string()), ("u-c".to_string(), "gamma".to_string())]);
}

#[test]
fn a_redelivery_is_processed_again_unless_the_first_attempt_succeeded_or_is_under_way() {
    let conn = db::fresh_db();
    let again = ["failed", "dead", "unmapped", "conflict", "unmanaged", "dry_run"];
    let settled = ["done", "noop", "retrying"];
    for status in again.iter().chain(&settled) {
        let rec = membership(&format!("r-{status}"), "added", "42", "octo");
        claim_all(&conn, std::slice::from_ref(&rec));
        set(&conn, &rec.delivery, status, Some("first attempt"), 2);
    }
    for status in again {
        let rec = membership(&format!("r-{status}"), "added", "42", "octo");
        assert_eq!(claim_at(&conn, &rec, T2, T0).len(), 1, "a {status} delivery is claimed again");
        let row = sync_row(&conn, &rec.delivery).unwrap();
        assert_eq!((&row["status"], &row["detail"]), (&json!("queued"), &Value::Null), "{status}");
        assert_eq!((&row["received_at"], &row["updated_at"], &row["attempts"]), (&json!(T0), &json!(T2), &json!(2)));
        assert!(claim_at(&conn, &rec, T2, T0).is_empty(), "{status}: claimed once; now queued and in flight");
    }
    for status in settled {
        let rec = membership(&format!("r-{status}"), "added", "42", "octo");
        assert!(claim_at(&conn, &rec, T2, T2).is_empty(), "a {status} delivery stays a duplicate");
        assert_eq!(sync_row(&conn, &rec.delivery).unwrap()["status"], status);
    }
    assert_eq!(db::rows(&conn, "SELECT * FROM github_sync").len(), 9, "re-claimed in place, no new rows");
}

#[test]
fn the_claim_is_keyed_on_the_body_digest() {
    let conn = db::fresh_db();
    let real = membership("d-1", "added", "42", "octo");
    // The same delivery id with another signed body is not swallowed.
    let mut other_body = real.clone();
    other_body.body_sha256 = "sha-of-another-body".into();
    claim_all(&conn, &[real.clone(), other_body.clone()]);
    assert!(claim(&conn, &real).is_empty() && claim(&conn, &other_body).is_empty(), "each is deduped on its own");
    // A captured body replayed under another id cannot pre-claim that id.
    let mut captured = real.clone();
    captured.delivery = "d-2".into();
    claim_all(&conn, &[captured]);
    let mut genuine = membership("d-2", "removed", "42", "octo");
    genuine.body_sha256 = "sha-of-the-genuine-d-2".into();
    assert_eq!(claim(&conn, &genuine).len(), 1, "the genuine d-2 is still processed");
    // Each row is updated, re-queued and swept by its own key.
    db::run(&conn, &[gh::set_status(("d-1", "sha-of-another-body"), "done", None, 1, T1)]);
    let statuses: Vec<Value> =
        db::rows(&conn, "SELECT status FROM github_sync WHERE delivery_id = 'd-1' ORDER BY rowid")
            .into_iter()
            .map(|r| r["status"].clone())
            .collect();
    assert_eq!(statuses, [json!("queued"), json!("done")]);
    db::run(&conn, &[gh::unclaim("d-1", &digest("d-1"))]);
    assert_eq!(db::rows(&conn, "SELECT * FROM github_sync WHERE delivery_id = 'd-1'").len(), 1, "only that key");
}

#[test]
fn team_ownership_is_recorded_and_conflicts_are_listed() {
    let conn = db::fresh_db();
    db::run(
        &conn,
        &[
            gh::map_team("1", "ours", "org", "ours", Ownership::Owned, T0),
            gh::map_team("2", "theirs", "org", "theirs", Ownership::Conflict, T1),
            gh::map_team("3", "linked", "org", "linked", Ownership::Linked, T2),
        ],
    );
    assert_eq!(team(&conn, "1").unwrap().ownership, Ownership::Owned);
    assert_eq!(team(&conn, "2").unwrap().ownership, Ownership::Conflict);
    assert_eq!(team(&conn, "3").unwrap().ownership, Ownership::Linked);
    db::run(&conn, &[gh::map_team("2", "theirs", "org", "theirs", Ownership::Linked, T2)]);
    assert_eq!(team(&conn, "2").unwrap().ownership, Ownership::Linked, "a conflict can be linked later");
    db::run(&conn, &[gh::map_team("1", "ours", "org", "ours", Ownership::Conflict, T2)]);
    let teams = db::rows(&conn, gh::LIST_TEAMS);
    let status = gh::status_json(false, &[], &[], &teams, &[]);
    let conflicts = status["conflicts"].as_array().unwrap();
    assert_eq!(conflicts.len(), 1, "{status}");
    assert_eq!((&conflicts[0]["github_team_id"], &conflicts[0]["ownership"]), (&json!("1"), &json!("conflict")));
    assert!(db::try_run(&conn, &[gh::set_status(("x", ""), "conflict", None, 0, T0)]).is_ok(), "a known status");
}

#[test]
fn migration_0010_keeps_earlier_rows_under_an_empty_digest_and_unknown_ownership() {
    let conn = Connection::open_in_memory().unwrap();
    let (before, after): (Vec<_>, Vec<_>) =
        db::migration_files().into_iter().partition(|f| f.file_name().unwrap().to_str().unwrap() < "0010");
    for f in &before {
        conn.execute_batch(&std::fs::read_to_string(f).unwrap()).unwrap();
    }
    conn.execute_batch(
        "INSERT INTO github_sync (delivery_id, event, action, team_id, team_slug, login, status, received_at, updated_at)
         VALUES ('old-1', 'membership', 'added', '5', 'web', 'octo', 'failed', 'T', 'T'),
                ('old-2', 'team', 'created', '5', 'web', NULL, 'done', 'T', 'T');
         INSERT INTO github_teams (github_team_id, github_slug, sentry_org, sentry_slug, state, updated_at)
         VALUES ('5', 'web', 'org', 'web', 'active', 'T');",
    )
    .unwrap();
    for f in &after {
        conn.execute_batch(&std::fs::read_to_string(f).unwrap()).unwrap();
    }
    let rows = db::rows(&conn, "SELECT delivery_id, body_sha256, status FROM github_sync ORDER BY rowid");
    assert_eq!(rows.len(), 2);
    assert_eq!((&rows[0]["delivery_id"], &rows[0]["body_sha256"]), (&json!("old-1"), &json!("")), "order kept");
    assert_eq!(team(&conn, "5").unwrap().ownership, Ownership::Unknown, "mapped before 0010: not trusted");
    // An in-flight message from before carries no digest, and still finds its row.
    db::run(&conn, &[gh::set_status(("old-1", ""), "done", None, 1, T1)]);
    assert_eq!(db::rows(&conn, "SELECT status FROM github_sync WHERE delivery_id = 'old-1'")[0]["status"], "done");
}

#[test]
fn an_admin_link_turns_a_conflict_into_a_linked_team_and_leaves_the_rest() {
    let conn = db::fresh_db();
    db::run(
        &conn,
        &[
            gh::map_team("1", "theirs", "org", "theirs", Ownership::Conflict, T0),
            gh::map_team("2", "ours", "org", "ours", Ownership::Owned, T0),
            gh::map_team("3", "gone", "org", "gone", Ownership::Conflict, T0),
            gh::team_deleted("3", T0),
        ],
    );
    db::run(&conn, &[gh::link_team("1", T1), gh::link_team("2", T1), gh::link_team("3", T1), gh::link_team("9", T1)]);
    assert_eq!(team(&conn, "1").unwrap().ownership, Ownership::Linked);
    assert_eq!(team(&conn, "2").unwrap().ownership, Ownership::Owned, "ours stays ours");
    assert_eq!(team(&conn, "3").unwrap().ownership, Ownership::Conflict, "a deleted team stays closed");
    assert_eq!(team(&conn, "9"), None, "no row is made up");
}

#[test]
fn team_pending_sees_only_that_teams_own_unfinished_events() {
    let conn = db::fresh_db();
    let pending = |team: &str| !db::query(&conn, gh::TEAM_PENDING, &[team.into()]).is_empty();
    claim_all(&conn, &[team_event("t-1", "created", "1"), membership("m-1", "added", "2", "octo")]);
    assert!(pending("1"), "queued");
    assert!(!pending("2"), "a membership is not the team's own event");
    set(&conn, "t-1", "retrying", Some("429"), 1);
    assert!(pending("1"), "retrying");
    for status in ["done", "failed", "conflict", "dead"] {
        set(&conn, "t-1", status, None, 2);
        assert!(!pending("1"), "{status}: settled");
    }
}
