//! The team map (rename, final deletion, ownership, conflicts and an
//! admin's link, migration 0010's defaults) and the login → member mapping.

use super::*;

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
fn a_link_answers_a_live_mapped_team_and_404_otherwise() {
    let conn = db::fresh_db();
    let row = |conn: &Connection| db::query(conn, gh::TEAM, &["9".into()]).first().cloned();
    assert_eq!(gh::linked(row(&conn).as_ref()).map_err(|e| e.status()), Err(404), "no row");
    db::run(&conn, &[gh::map_team("9", "gh-a", "org", "team-a", Ownership::Linked, T0)]);
    assert_eq!(gh::linked(row(&conn).as_ref()).map(|t| t.sentry_slug), Ok("team-a".to_string()));
    db::run(&conn, &[gh::team_deleted("9", T1)]);
    assert_eq!(gh::linked(row(&conn).as_ref()).map_err(|e| e.status()), Err(404), "a deleted team");
}
