//! Unmapped memberships replayed once their login maps, the sync status
//! reads, and the installations an installation-mode sync targets.

use super::*;

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
