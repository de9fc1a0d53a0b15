//! The installation-side SQL (src/store/installations.rs) on SQLite with the
//! real migrations: installations and their lifecycle, the token lease, members,
//! queue jobs, the UI component queries, issue links, the organization filter
//! on the board, and the delivery log's failure marking.

mod support;

use rusqlite::Connection;
use sentry_kanban::log::DeliveryLog;
use sentry_kanban::sentry::token::Token;
use sentry_kanban::sql::{SqlValue, Stmt};
use sentry_kanban::store::{self, installations as inst};
use serde_json::{json, Map, Value};
use support::db::{card, fresh_db, items, query, rows, run};
use support::hook::{at, deliver_as};
use support::sentry::{issue_body, jane, Issue, INSTALLATION};

/// A canonical time `s` seconds after 2026-01-01T00:00:00.000Z (s < 3600).
fn ts(s: u32) -> String {
    assert!(s < 3600);
    format!("2026-01-01T00:{:02}:{:02}.000Z", s / 60, s % 60)
}

fn installation(uuid: &str, org: &str, status: &str, grant: Option<&str>) -> inst::Installation {
    inst::Installation {
        uuid: uuid.into(),
        org_slug: Some(org.into()),
        org_id: Some(format!("id-{org}")),
        app_slug: Some("kanban".into()),
        status: status.into(),
        mode: "public",
        grant_code: grant.map(str::to_string),
    }
}

/// The installations row for `uuid`, or None.
fn inst_row(conn: &Connection, uuid: &str) -> Option<Map<String, Value>> {
    let mut found = query(conn, "SELECT * FROM installations WHERE uuid = ?1", &[uuid.into()]);
    assert!(found.len() <= 1);
    found.pop()
}

fn token_row(conn: &Connection, uuid: &str) -> Option<Map<String, Value>> {
    query(conn, inst::TOKEN, &[uuid.into()]).pop()
}

fn tok(token: &str, refresh: Option<&str>) -> Token {
    Token {
        token: token.into(),
        refresh_token: refresh.map(str::to_string),
        expires_at: Some("2026-01-01T08:00:00Z".into()),
    }
}

fn claim(conn: &Connection, uuid: &str, now: &str, lease_end: &str) -> Vec<Map<String, Value>> {
    query(conn, inst::CLAIM_REFRESH, &[uuid.into(), now.into(), lease_end.into()])
}

/// A card row written directly (the UI and filter queries only read cards).
fn insert_card(conn: &Connection, id: &str, installation: Option<&str>, short_id: &str, title: &str, last_seen: &str) {
    conn.execute(
        "INSERT INTO cards (id, installation_uuid, short_id, title, status, last_seen, applied_at, created_at,
            updated_at) VALUES (?1, ?2, ?3, ?4, 'unresolved', ?5, ?5, ?5, ?5)",
        rusqlite::params![id, installation, short_id, title, last_seen],
    )
    .expect("insert card");
}

fn assign(conn: &Connection, id: &str, kind: &str, assignee: &str, name: Option<&str>, email: Option<&str>) {
    let n = conn
        .execute(
            "UPDATE cards SET assignee_type = ?2, assignee_id = ?3, assignee_name = ?4, assignee_email = ?5
            WHERE id = ?1",
            rusqlite::params![id, kind, assignee, name, email],
        )
        .expect("assign");
    assert_eq!(n, 1);
}

fn member(id: &str, user: Option<&str>, name: Option<&str>, email: Option<&str>) -> inst::Member {
    inst::Member {
        member_id: id.into(),
        user_id: user.map(str::to_string),
        name: name.map(str::to_string),
        email: email.map(str::to_string),
    }
}

fn field<'a>(rows: &'a [Map<String, Value>], key: &str) -> Vec<&'a Value> {
    rows.iter().map(|r| &r[key]).collect()
}

// ---- 1. upsert_installation ----------------------------------------------

#[test]
fn upsert_installation_inserts_the_row() {
    let conn = fresh_db();
    run(&conn, &[inst::upsert_installation(&installation("u1", "acme", "pending", Some("g1")), &ts(10), &ts(11))]);
    let r = inst_row(&conn, "u1").expect("row");
    assert_eq!(r["org_slug"], "acme");
    assert_eq!(r["org_id"], "id-acme");
    assert_eq!(r["app_slug"], "kanban");
    assert_eq!(r["status"], "pending");
    assert_eq!(r["mode"], "public");
    assert_eq!(r["grant_code"], "g1");
    assert_eq!(r["applied_at"], ts(10));
    assert_eq!(r["created_at"], ts(11));
    assert_eq!(r["updated_at"], ts(11));
    assert_eq!(r["error"], Value::Null);
}

#[test]
fn upsert_installation_is_order_guarded() {
    let conn = fresh_db();
    run(&conn, &[inst::upsert_installation(&installation("u1", "acme", "pending", Some("g1")), &ts(100), &ts(100))]);
    let before = inst_row(&conn, "u1");

    let older = inst::Installation { org_id: Some("old-id".into()), ..installation("u1", "old", "pending", None) };
    run(&conn, &[inst::upsert_installation(&older, &ts(50), &ts(200))]);
    assert_eq!(inst_row(&conn, "u1"), before, "an older delivery changes nothing");

    let newer = inst::Installation { org_id: Some("new-id".into()), ..installation("u1", "acme2", "pending", None) };
    run(&conn, &[inst::upsert_installation(&newer, &ts(150), &ts(300))]);
    let r = inst_row(&conn, "u1").unwrap();
    assert_eq!(r["org_slug"], "acme2");
    assert_eq!(r["org_id"], "new-id");
    assert_eq!(r["applied_at"], ts(150));
    assert_eq!(r["updated_at"], ts(300));
    assert_eq!(r["created_at"], ts(100), "created_at stays");
    assert_eq!(r["grant_code"], "g1", "a delivery without a code keeps the stored one");
}

#[test]
fn upsert_installation_never_downgrades_installed_to_pending() {
    let conn = fresh_db();
    run(&conn, &[inst::upsert_installation(&installation("u1", "acme", "installed", None), &ts(10), &ts(10))]);
    run(&conn, &[inst::upsert_installation(&installation("u1", "acme", "pending", Some("g2")), &ts(20), &ts(20))]);
    let r = inst_row(&conn, "u1").unwrap();
    assert_eq!(r["status"], "installed");
    assert_eq!(r["applied_at"], ts(20), "the newer delivery was otherwise applied");

    // pending → installed is an upgrade and is applied.
    run(&conn, &[inst::upsert_installation(&installation("u2", "acme", "pending", None), &ts(10), &ts(10))]);
    run(&conn, &[inst::upsert_installation(&installation("u2", "acme", "installed", None), &ts(20), &ts(20))]);
    assert_eq!(inst_row(&conn, "u2").unwrap()["status"], "installed");
}

#[test]
fn a_deleted_installation_is_not_brought_back_by_a_newer_upsert() {
    let conn = fresh_db();
    let i = installation("u1", "acme", "installed", Some("g1"));
    run(&conn, &[inst::upsert_installation(&i, &ts(10), &ts(10))]);
    run(&conn, &inst::delete_installation(&i, &ts(20), &ts(20)));
    let deleted = inst_row(&conn, "u1").unwrap();
    assert_eq!(deleted["status"], "deleted");

    let retried = installation("u1", "other", "installed", Some("g9"));
    run(&conn, &[inst::upsert_installation(&retried, &ts(30), &ts(30))]);
    run(&conn, &[inst::upsert_installation(&installation("u1", "other", "pending", None), &ts(40), &ts(40))]);
    assert_eq!(inst_row(&conn, "u1"), Some(deleted), "deleted is final");
}

#[test]
fn the_grant_code_is_kept_only_while_no_token_exists() {
    let conn = fresh_db();
    // A token row exists before the installation row (e.g. a stale retry).
    run(&conn, &inst::save_token("u1", &tok("t1", Some("r1")), false, &ts(5)));
    run(&conn, &[inst::upsert_installation(&installation("u1", "acme", "pending", Some("g1")), &ts(10), &ts(10))]);
    assert_eq!(inst_row(&conn, "u1").unwrap()["grant_code"], Value::Null);
    // …and on conflict as well.
    run(&conn, &[inst::upsert_installation(&installation("u1", "acme", "pending", Some("g2")), &ts(20), &ts(20))]);
    assert_eq!(inst_row(&conn, "u1").unwrap()["grant_code"], Value::Null);

    // No token: the code is stored.
    run(&conn, &[inst::upsert_installation(&installation("u2", "acme", "pending", Some("g3")), &ts(10), &ts(10))]);
    assert_eq!(inst_row(&conn, "u2").unwrap()["grant_code"], "g3");
}

// ---- 2. delete_installation ----------------------------------------------

#[test]
fn delete_installation_drops_tokens_and_grant_code() {
    let conn = fresh_db();
    let i = installation("u1", "acme", "pending", Some("g1"));
    run(&conn, &[inst::upsert_installation(&i, &ts(10), &ts(10))]);
    run(&conn, &inst::save_token("u1", &tok("t1", Some("r1")), false, &ts(11)));
    run(&conn, &[inst::upsert_installation(&installation("u2", "beta", "pending", Some("g2")), &ts(10), &ts(10))]);
    run(&conn, &inst::save_token("u2", &tok("t2", Some("r2")), false, &ts(11)));
    assert!(token_row(&conn, "u1").is_some());
    assert_eq!(inst_row(&conn, "u1").unwrap()["grant_code"], "g1");

    let bare = inst::Installation { uuid: "u1".into(), status: "deleted".into(), mode: "public", ..Default::default() };
    run(&conn, &inst::delete_installation(&bare, &ts(20), &ts(21)));
    let r = inst_row(&conn, "u1").unwrap();
    assert_eq!(r["status"], "deleted");
    assert_eq!(r["grant_code"], Value::Null);
    assert_eq!(r["org_slug"], "acme", "a delete without org fields keeps them");
    assert_eq!(r["applied_at"], ts(20));
    assert_eq!(r["updated_at"], ts(21));
    assert_eq!(token_row(&conn, "u1"), None);
    assert!(token_row(&conn, "u2").is_some(), "other installations keep their tokens");
    assert_eq!(inst_row(&conn, "u2").unwrap()["status"], "pending");
}

#[test]
fn an_older_delete_still_deletes_and_keeps_the_newer_applied_at() {
    let conn = fresh_db();
    let i = installation("u1", "acme", "installed", None);
    run(&conn, &[inst::upsert_installation(&i, &ts(100), &ts(100))]);
    run(&conn, &inst::delete_installation(&i, &ts(50), &ts(101)));
    let r = inst_row(&conn, "u1").unwrap();
    assert_eq!(r["status"], "deleted");
    assert_eq!(r["applied_at"], ts(100));
}

#[test]
fn delete_of_an_unknown_installation_records_it_deleted() {
    let conn = fresh_db();
    run(&conn, &inst::delete_installation(&installation("u9", "ghost", "deleted", Some("g")), &ts(10), &ts(11)));
    let r = inst_row(&conn, "u9").expect("a deleted row is inserted");
    assert_eq!(r["status"], "deleted");
    assert_eq!(r["org_slug"], "ghost");
    assert_eq!(r["mode"], "public");
    assert_eq!(r["grant_code"], Value::Null, "a delete never stores a grant code");
    assert_eq!(r["applied_at"], ts(10));
    assert_eq!(r["created_at"], ts(11));
    // …and a created delivery retried later does not revive it.
    run(&conn, &[inst::upsert_installation(&installation("u9", "ghost", "pending", Some("g")), &ts(20), &ts(20))]);
    assert_eq!(inst_row(&conn, "u9").unwrap()["status"], "deleted");
}

#[test]
fn cards_of_a_deleted_installation_stay_on_the_board() {
    let conn = fresh_db();
    let i = installation(INSTALLATION, "acme", "installed", None);
    run(&conn, &[inst::upsert_installation(&i, &ts(10), &ts(10))]);
    deliver_as(&conn, "issue", issue_body("created", &Issue::new("301")).as_bytes(), 100);
    run(&conn, &inst::delete_installation(&i, &ts(20), &ts(20)));
    let c = card(&conn, "301");
    assert_eq!(c["installation"], INSTALLATION);
    assert_eq!(c["org"], "acme", "the organization stays known");
    assert_eq!(c["column"], "TODO");
}

// ---- 3. ensure_internal --------------------------------------------------

#[test]
fn ensure_internal_inserts_once_and_never_overwrites() {
    let conn = fresh_db();
    run(&conn, &[inst::ensure_internal("u1", "acme", &ts(10))]);
    let r = inst_row(&conn, "u1").unwrap();
    assert_eq!(r["mode"], "internal");
    assert_eq!(r["status"], "installed");
    assert_eq!(r["org_slug"], "acme");
    assert_eq!(r["applied_at"], "1970-01-01T00:00:00.000Z");
    assert_eq!(r["created_at"], ts(10));
    run(&conn, &[inst::ensure_internal("u1", "other", &ts(20))]);
    assert_eq!(inst_row(&conn, "u1"), Some(r));

    // An existing public (or deleted) row is left alone.
    run(&conn, &[inst::upsert_installation(&installation("u2", "beta", "pending", Some("g")), &ts(10), &ts(10))]);
    let before = inst_row(&conn, "u2");
    run(&conn, &[inst::ensure_internal("u2", "acme", &ts(20))]);
    assert_eq!(inst_row(&conn, "u2"), before);
    run(&conn, &inst::delete_installation(&installation("u3", "gamma", "deleted", None), &ts(10), &ts(10)));
    run(&conn, &[inst::ensure_internal("u3", "acme", &ts(20))]);
    let r3 = inst_row(&conn, "u3").unwrap();
    assert_eq!((&r3["status"], &r3["mode"], &r3["org_slug"]), (&json!("deleted"), &json!("public"), &json!("gamma")));
}

// ---- 4. Token lease ------------------------------------------------------

#[test]
fn an_exchange_stores_the_token_and_spends_the_grant_code() {
    let conn = fresh_db();
    run(&conn, &[inst::upsert_installation(&installation("u1", "acme", "pending", Some("g1")), &ts(1), &ts(1))]);
    assert_eq!(token_row(&conn, "u1"), None);
    run(&conn, &inst::save_token("u1", &tok("t1", Some("r1")), true, &ts(2)));
    let r = inst_row(&conn, "u1").unwrap();
    assert_eq!(r["grant_code"], Value::Null);
    assert_eq!(r["updated_at"], ts(2));
    let t = token_row(&conn, "u1").expect("token");
    assert_eq!(t["token"], "t1");
    assert_eq!(t["refresh_token"], "r1");
    assert_eq!(t["expires_at"], "2026-01-01T08:00:00.000Z", "stored canonically");
    assert_eq!(t["refresh_lease_until"], Value::Null);
}

#[test]
fn the_refresh_lease_is_single_flight() {
    let conn = fresh_db();
    run(&conn, &[inst::upsert_installation(&installation("u1", "acme", "installed", Some("g1")), &ts(1), &ts(1))]);
    run(&conn, &inst::save_token("u1", &tok("t1", Some("r1")), true, &ts(2)));

    let first = claim(&conn, "u1", &ts(10), &ts(40));
    assert_eq!(first.len(), 1, "the first claim wins");
    assert_eq!(first[0]["refresh_token"], "r1");
    assert_eq!(token_row(&conn, "u1").unwrap()["refresh_lease_until"], ts(40));

    assert!(claim(&conn, "u1", &ts(10), &ts(40)).is_empty(), "a second claim at the same time loses");
    assert!(claim(&conn, "u1", &ts(39), &ts(69)).is_empty(), "so does one before the lease ends");
    assert!(claim(&conn, "u1", &ts(40), &ts(70)).is_empty(), "the lease holds up to its end");
    assert_eq!(token_row(&conn, "u1").unwrap()["refresh_lease_until"], ts(40), "a lost claim changes nothing");

    let after = claim(&conn, "u1", &ts(41), &ts(71));
    assert_eq!(after.len(), 1, "an expired lease can be taken over");
    assert_eq!(token_row(&conn, "u1").unwrap()["refresh_lease_until"], ts(71));

    run(&conn, &[Stmt { sql: inst::RELEASE_REFRESH, params: vec!["u1".into()] }]);
    assert_eq!(token_row(&conn, "u1").unwrap()["refresh_lease_until"], Value::Null);
    assert_eq!(claim(&conn, "u1", &ts(42), &ts(72)).len(), 1, "a released lease is free at once");

    assert!(claim(&conn, "u2", &ts(42), &ts(72)).is_empty(), "no token row, nothing to claim");
}

#[test]
fn saving_a_refreshed_token_replaces_the_pair_and_releases_the_lease() {
    let conn = fresh_db();
    run(&conn, &[inst::upsert_installation(&installation("u1", "acme", "installed", Some("g1")), &ts(1), &ts(1))]);
    run(&conn, &inst::save_token("u1", &tok("t1", Some("r1")), true, &ts(2)));
    assert_eq!(claim(&conn, "u1", &ts(10), &ts(40)).len(), 1);

    let refreshed = Token { expires_at: Some("2026-01-01T16:00:00+00:00".into()), ..tok("t2", Some("r2")) };
    let stmts = inst::save_token("u1", &refreshed, false, &ts(20));
    assert_eq!(stmts.len(), 1, "a refresh does not touch the installation row");
    run(&conn, &stmts);
    let t = token_row(&conn, "u1").unwrap();
    assert_eq!(t["token"], "t2");
    assert_eq!(t["refresh_token"], "r2");
    assert_eq!(t["expires_at"], "2026-01-01T16:00:00.000Z");
    assert_eq!(t["refresh_lease_until"], Value::Null);
    assert_eq!(claim(&conn, "u1", &ts(21), &ts(51)).len(), 1, "the lease was released");

    let no_refresh = Token { token: "t3".into(), refresh_token: None, expires_at: None };
    run(&conn, &inst::save_token("u1", &no_refresh, false, &ts(30)));
    let t = token_row(&conn, "u1").unwrap();
    assert_eq!(t["token"], "t3");
    assert_eq!(t["refresh_token"], "r2", "a reply without a refresh token keeps the old one");
    assert_eq!(t["expires_at"], Value::Null);
    assert_eq!(t["refresh_lease_until"], Value::Null);
}

#[test]
fn a_lost_refreshed_pair_marks_the_installation_until_a_new_exchange() {
    let conn = fresh_db();
    run(&conn, &[inst::upsert_installation(&installation("u1", "acme", "installed", Some("g1")), &ts(1), &ts(1))]);
    run(&conn, &[inst::upsert_installation(&installation("u2", "beta", "installed", None), &ts(1), &ts(1))]);
    run(&conn, &inst::save_token("u1", &tok("t1", Some("r1")), true, &ts(2)));
    assert_eq!(token_row(&conn, "u1").unwrap()["needs_reinstall"], Value::Null);

    run(&conn, &[inst::mark_needs_reinstall("u1", "needs reinstall: lost", &ts(5))]);
    assert_eq!(token_row(&conn, "u1").unwrap()["needs_reinstall"], "needs reinstall: lost", "the token read sees it");
    // A later job that succeeds clears `error`, not the reinstall state.
    run(&conn, &[inst::set_error("u1", None, &ts(6))]);
    let listed = |conn: &Connection| {
        rows(conn, inst::LIST_INSTALLATIONS).into_iter().find(|r| r["uuid"] == "u1").expect("u1 listed")
    };
    let row = listed(&conn);
    assert_eq!((&row["needs_reinstall"], &row["needs_reinstall_at"]), (&json!("needs reinstall: lost"), &json!(ts(5))));
    assert_eq!(
        (&row["error"], &row["error_at"]),
        (&json!("needs reinstall: lost"), &json!(ts(5))),
        "shown as the error"
    );
    let view = query(&conn, inst::INSTALLATION_VIEW, &["u1".into()]);
    assert_eq!(view[0]["error"], "needs reinstall: lost", "the setup page says so too");
    let other = rows(&conn, inst::LIST_INSTALLATIONS).into_iter().find(|r| r["uuid"] == "u2").unwrap();
    assert_eq!((&other["needs_reinstall"], &other["error"]), (&Value::Null, &Value::Null));

    // A refresh's save does not clear it; a new grant code's exchange does.
    run(&conn, &inst::save_token("u1", &tok("t2", Some("r2")), false, &ts(7)));
    assert_eq!(listed(&conn)["needs_reinstall"], "needs reinstall: lost");
    run(&conn, &inst::save_token("u1", &tok("t3", Some("r3")), true, &ts(8)));
    let row = listed(&conn);
    assert_eq!((&row["needs_reinstall"], &row["error"]), (&Value::Null, &Value::Null), "{row:?}");
    assert_eq!(token_row(&conn, "u1").unwrap()["needs_reinstall"], Value::Null);

    // An uninstalled installation is not marked.
    run(&conn, &inst::delete_installation(&installation("u2", "beta", "deleted", None), &ts(9), &ts(9)));
    run(&conn, &[inst::mark_needs_reinstall("u2", "needs reinstall: x", &ts(10))]);
    assert_eq!(inst_row(&conn, "u2").unwrap()["needs_reinstall"], Value::Null);
}

// ---- 5. mark_installed and set_error -------------------------------------

#[test]
fn mark_installed_never_revives_a_deleted_installation() {
    let conn = fresh_db();
    run(&conn, &[inst::upsert_installation(&installation("u1", "acme", "pending", None), &ts(1), &ts(1))]);
    run(&conn, &[inst::mark_installed("u1", &ts(5))]);
    let r = inst_row(&conn, "u1").unwrap();
    assert_eq!(r["status"], "installed");
    assert_eq!(r["updated_at"], ts(5));

    let d = installation("u2", "acme", "pending", None);
    run(&conn, &[inst::upsert_installation(&d, &ts(1), &ts(1))]);
    run(&conn, &inst::delete_installation(&d, &ts(2), &ts(2)));
    let before = inst_row(&conn, "u2");
    run(&conn, &[inst::mark_installed("u2", &ts(5))]);
    assert_eq!(inst_row(&conn, "u2"), before);
    assert_eq!(before.unwrap()["status"], "deleted");

    run(&conn, &[inst::mark_installed("unknown", &ts(5))]);
    assert_eq!(inst_row(&conn, "unknown"), None, "mark_installed does not insert");
}

#[test]
fn set_error_sets_and_clears_error_and_its_time() {
    let conn = fresh_db();
    run(&conn, &[inst::upsert_installation(&installation("u1", "acme", "pending", None), &ts(1), &ts(1))]);
    run(&conn, &[inst::set_error("u1", Some("exchange failed: 403"), &ts(5))]);
    let r = inst_row(&conn, "u1").unwrap();
    assert_eq!(r["error"], "exchange failed: 403");
    assert_eq!(r["error_at"], ts(5));
    assert_eq!(r["updated_at"], ts(5));
    let view = query(&conn, inst::INSTALLATION_VIEW, &["u1".into()]);
    assert_eq!(
        view,
        vec![json!({"status": "pending", "org_slug": "acme", "error": "exchange failed: 403"})
            .as_object()
            .unwrap()
            .clone()]
    );

    run(&conn, &[inst::set_error("u1", None, &ts(9))]);
    let r = inst_row(&conn, "u1").unwrap();
    assert_eq!(r["error"], Value::Null);
    assert_eq!(r["error_at"], Value::Null);
    assert_eq!(r["updated_at"], ts(9));
}

// ---- 6. Members ----------------------------------------------------------

#[test]
fn upsert_member_updates_in_place() {
    let conn = fresh_db();
    run(&conn, &[inst::upsert_member("u1", &member("m1", Some("1"), Some("Jane"), Some("j@x")), &ts(1))]);
    run(&conn, &[inst::upsert_member("u1", &member("m1", Some("1"), Some("Jane Doe"), None), &ts(2))]);
    let all = rows(&conn, "SELECT * FROM members");
    assert_eq!(all.len(), 1);
    assert_eq!(all[0]["name"], "Jane Doe");
    assert_eq!(all[0]["email"], Value::Null, "the newest listing is taken as is");
    assert_eq!(all[0]["updated_at"], ts(2));
    // The same member id in another installation is another row.
    run(&conn, &[inst::upsert_member("u2", &member("m1", Some("1"), Some("Jane"), None), &ts(2))]);
    assert_eq!(rows(&conn, "SELECT * FROM members").len(), 2);
}

#[test]
fn prune_members_drops_only_unseen_members_of_that_installation() {
    let conn = fresh_db();
    run(
        &conn,
        &[
            inst::upsert_member("u1", &member("old", None, Some("Old"), None), &ts(1)),
            inst::upsert_member("u1", &member("kept", None, Some("Kept"), None), &ts(1)),
            inst::upsert_member("u2", &member("other", None, Some("Other"), None), &ts(1)),
        ],
    );
    // A sync starting at ts(10) sees "kept" (and a new member) but not "old".
    run(
        &conn,
        &[
            inst::upsert_member("u1", &member("kept", None, Some("Kept"), None), &ts(10)),
            inst::upsert_member("u1", &member("new", None, Some("New"), None), &ts(11)),
            inst::prune_members("u1", &ts(10)),
        ],
    );
    let left = rows(&conn, "SELECT installation_uuid, member_id FROM members ORDER BY installation_uuid, member_id");
    let left: Vec<(String, String)> = left
        .iter()
        .map(|r| (r["installation_uuid"].as_str().unwrap().into(), r["member_id"].as_str().unwrap().into()))
        .collect();
    assert_eq!(
        left,
        vec![("u1".into(), "kept".into()), ("u1".into(), "new".into()), ("u2".into(), "other".into())],
        "only u1's unseen member is pruned; updated_at == sync start is kept"
    );
}

// ---- 7. Jobs -------------------------------------------------------------

fn start(conn: &Connection, id: &str, kind: &str, installation: &str, now: &str) -> Vec<Map<String, Value>> {
    query(conn, inst::START_JOB, &inst::start_job_params(id, kind, installation, now))
}

fn job(conn: &Connection, id: &str) -> Map<String, Value> {
    query(conn, "SELECT * FROM jobs WHERE id = ?1", &[id.into()]).pop().unwrap_or_else(|| panic!("no job {id}"))
}

fn last_job(conn: &Connection, id: &str, kind: &str, installation: &str) -> Option<String> {
    let found = query(conn, inst::LAST_JOB, &[id.into(), kind.into(), installation.into()]);
    assert!(found.len() <= 1);
    found.first().map(|r| r["id"].as_str().unwrap().to_string())
}

#[test]
fn start_job_counts_attempts() {
    let conn = fresh_db();
    assert_eq!(start(&conn, "m1", "exchange", "u1", &ts(1)), vec![json!({"attempts": 1}).as_object().unwrap().clone()]);
    run(&conn, &inst::finish_job("m1", "retrying", Some("boom"), &ts(2)));
    assert_eq!(start(&conn, "m1", "exchange", "u1", &ts(3))[0]["attempts"], 2);
    let j = job(&conn, "m1");
    assert_eq!(j["status"], "running");
    assert_eq!(j["created_at"], ts(1));
    assert_eq!(j["updated_at"], ts(3));
    assert_eq!(start(&conn, "m2", "exchange", "u1", &ts(4))[0]["attempts"], 1, "another message counts apart");
}

#[test]
fn finish_job_sets_status_and_error() {
    let conn = fresh_db();
    start(&conn, "m1", "exchange", "u1", &ts(1));
    run(&conn, &inst::finish_job("m1", "retrying", Some("HTTP 502"), &ts(2)));
    let j = job(&conn, "m1");
    assert_eq!(
        (&j["status"], &j["last_error"], &j["updated_at"]),
        (&json!("retrying"), &json!("HTTP 502"), &json!(ts(2)))
    );
    start(&conn, "m1", "exchange", "u1", &ts(3));
    run(&conn, &inst::finish_job("m1", "done", None, &ts(4)));
    let j = job(&conn, "m1");
    assert_eq!((&j["status"], &j["last_error"], &j["attempts"]), (&json!("done"), &Value::Null, &json!(2)));
}

#[test]
fn dead_job_keeps_the_last_error_and_records_unknown_messages() {
    let conn = fresh_db();
    start(&conn, "m1", "exchange", "u1", &ts(1));
    run(&conn, &inst::finish_job("m1", "retrying", Some("HTTP 502"), &ts(2)));
    run(&conn, &[inst::dead_job("m1", "exchange", "u1", "dead-lettered", &ts(3))]);
    let j = job(&conn, "m1");
    assert_eq!(j["status"], "dead");
    assert_eq!(j["last_error"], "HTTP 502", "the real failure is kept");
    assert_eq!(j["attempts"], 1);
    assert_eq!(j["updated_at"], ts(3));

    run(&conn, &[inst::dead_job("m9", "sync_members", "u1", "dead-lettered", &ts(4))]);
    let j = job(&conn, "m9");
    assert_eq!(j["status"], "dead");
    assert_eq!(j["attempts"], 0);
    assert_eq!(j["last_error"], "dead-lettered");
    assert_eq!(j["kind"], "sync_members");
    assert_eq!(j["installation_uuid"], "u1");
}

#[test]
fn last_job_finds_by_id_or_by_a_retrying_job_of_the_same_kind() {
    let conn = fresh_db();
    start(&conn, "m1", "exchange", "u1", &ts(1));
    run(&conn, &inst::finish_job("m1", "retrying", Some("HTTP 502"), &ts(2)));

    let by_id = query(&conn, inst::LAST_JOB, &["m1".into(), "other".into(), "u9".into()]);
    assert_eq!(by_id.len(), 1);
    assert_eq!(
        (&by_id[0]["id"], &by_id[0]["attempts"], &by_id[0]["last_error"]),
        (&json!("m1"), &json!(1), &json!("HTTP 502"))
    );

    assert_eq!(last_job(&conn, "dlq-1", "exchange", "u1").as_deref(), Some("m1"), "a new id finds the retrying job");
    assert_eq!(last_job(&conn, "dlq-1", "exchange", "u2"), None, "not another installation's");
    assert_eq!(last_job(&conn, "dlq-1", "verify", "u1"), None, "not another kind's");

    run(&conn, &inst::finish_job("m1", "done", None, &ts(3)));
    assert_eq!(last_job(&conn, "dlq-1", "exchange", "u1"), None, "a finished job is not the dead message's");
    assert_eq!(last_job(&conn, "m1", "exchange", "u1").as_deref(), Some("m1"), "by id, whatever its status");

    // The id match wins over a newer job of the same kind.
    start(&conn, "m2", "exchange", "u1", &ts(5));
    run(&conn, &inst::finish_job("m2", "retrying", Some("x"), &ts(6)));
    assert_eq!(last_job(&conn, "m1", "exchange", "u1").as_deref(), Some("m1"));
    assert_eq!(last_job(&conn, "dlq-2", "exchange", "u1").as_deref(), Some("m2"));
}

#[test]
fn finish_job_trims_only_done_rows_beyond_the_kept_window() {
    let conn = fresh_db();
    let top = 2 * i64::from(inst::JOB_ROWS);
    let boundary = top - i64::from(inst::JOB_ROWS);
    // Explicit rowids stand in for thousands of jobs in between.
    let jobs: [(i64, &str, &str); 7] = [
        (1, "old-done", "done"),
        (2, "old-failed", "failed"),
        (3, "old-retrying", "retrying"),
        (4, "old-dead", "dead"),
        (boundary, "edge-done", "done"),
        (boundary + 1, "kept-done", "done"),
        (top, "newest", "running"),
    ];
    for (rowid, id, status) in jobs {
        conn.execute(
            "INSERT INTO jobs (rowid, id, kind, attempts, status, created_at, updated_at)
            VALUES (?1, ?2, 'exchange', 1, ?3, ?4, ?4)",
            rusqlite::params![rowid, id, status, ts(1)],
        )
        .expect("insert job");
    }
    run(&conn, &inst::finish_job("newest", "done", None, &ts(2)));
    let left: Vec<String> = rows(&conn, "SELECT id FROM jobs ORDER BY rowid")
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(left, ["old-failed", "old-retrying", "old-dead", "kept-done", "newest"]);
}

// ---- 8. LIST_INSTALLATIONS -----------------------------------------------

#[test]
fn list_installations_never_shows_tokens() {
    let conn = fresh_db();
    run(&conn, &[inst::upsert_installation(&installation("u1", "acme", "installed", Some("g1")), &ts(1), &ts(1))]);
    run(&conn, &[inst::upsert_installation(&installation("u2", "beta", "pending", Some("g2")), &ts(1), &ts(2))]);
    run(&conn, &inst::save_token("u1", &tok("secret-token", Some("secret-refresh")), true, &ts(3)));
    run(
        &conn,
        &[
            inst::upsert_member("u1", &member("m1", None, Some("A"), None), &ts(3)),
            inst::upsert_member("u1", &member("m2", None, Some("B"), None), &ts(3)),
        ],
    );
    let list = rows(&conn, inst::LIST_INSTALLATIONS);
    assert_eq!(field(&list, "uuid"), [&json!("u2"), &json!("u1")], "newest first");
    for r in &list {
        for k in r.keys() {
            assert!(!k.contains("token") || k == "has_token", "{k} listed");
            assert!(!k.contains("grant"), "{k} listed");
        }
        let text = serde_json::to_string(r).unwrap();
        assert!(!text.contains("secret"), "{text}");
        assert!(!text.contains("g1") && !text.contains("g2"), "{text}");
    }
    assert_eq!((&list[1]["has_token"], &list[1]["members"]), (&json!(1), &json!(2)));
    assert_eq!((&list[0]["has_token"], &list[0]["members"]), (&json!(0), &json!(0)));
    assert_eq!(list[1]["org_slug"], "acme");
    assert_eq!(list[1]["status"], "installed");
}

// ---- 9. UI queries -------------------------------------------------------

fn option_items(conn: &Connection, installation: &str, q: Option<&str>) -> Vec<String> {
    query(conn, inst::OPTION_ITEMS, &[installation.into(), inst::like_pattern(q).into()])
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn option_items_filter_by_installation_and_query() {
    let conn = fresh_db();
    insert_card(&conn, "1", Some("u1"), "FRONT-1", "TypeError in Checkout", &ts(1));
    insert_card(&conn, "2", Some("u1"), "BACK-2", "Database timeout", &ts(2));
    insert_card(&conn, "3", Some("u2"), "FRONT-3", "TypeError elsewhere", &ts(3));
    insert_card(&conn, "4", None, "FRONT-4", "TypeError unowned", &ts(4));

    assert_eq!(option_items(&conn, "u1", None), ["2", "1"], "all of u1's, newest first");
    assert_eq!(option_items(&conn, "u1", Some("typeerror")), ["1"], "title, case-insensitive");
    assert_eq!(option_items(&conn, "u1", Some("  back-")), ["2"], "short id, trimmed, case-insensitive");
    assert_eq!(option_items(&conn, "u1", Some("CHECKOUT")), ["1"]);
    assert!(option_items(&conn, "u1", Some("nothing")).is_empty());
    assert_eq!(option_items(&conn, "u2", Some("typeerror")), ["3"]);
    let cols = query(&conn, inst::OPTION_ITEMS, &["u1".into(), "%".into()]);
    assert_eq!(
        cols[0],
        json!({"id": "2", "short_id": "BACK-2", "title": "Database timeout"}).as_object().unwrap().clone()
    );
}

#[test]
fn option_items_take_like_wildcards_literally() {
    let conn = fresh_db();
    insert_card(&conn, "1", Some("u1"), "A-1", "50% off", &ts(1));
    insert_card(&conn, "2", Some("u1"), "A-2", "500 off", &ts(2));
    insert_card(&conn, "3", Some("u1"), "A-3", "snake_case", &ts(3));
    insert_card(&conn, "4", Some("u1"), "A-4", "snakeXcase", &ts(4));
    insert_card(&conn, "5", Some("u1"), "A-5", "path\\to", &ts(5));
    insert_card(&conn, "6", Some("u1"), "A-6", "pathXto", &ts(6));
    assert_eq!(option_items(&conn, "u1", Some("50%")), ["1"]);
    assert_eq!(option_items(&conn, "u1", Some("%")), ["1"]);
    assert_eq!(option_items(&conn, "u1", Some("e_c")), ["3"]);
    assert_eq!(option_items(&conn, "u1", Some("h\\t")), ["5"]);
    assert_eq!(option_items(&conn, "u1", Some("50")), ["2", "1"], "without wildcards both match");
}

#[test]
fn option_users_union_members_and_card_assignees() {
    let conn = fresh_db();
    run(
        &conn,
        &[
            inst::upsert_member("u1", &member("m1", Some("1"), Some("Jane Doe"), Some("jane@example.com")), &ts(1)),
            inst::upsert_member("u1", &member("m2", None, Some(""), Some("pending@example.com")), &ts(1)),
            inst::upsert_member(
                "u1",
                &member("m5", Some("5"), Some("carol@example.com"), Some("carol@example.com")),
                &ts(1),
            ),
            inst::upsert_member("u2", &member("m3", Some("3"), Some("Other Org"), None), &ts(1)),
        ],
    );
    insert_card(&conn, "10", Some("u1"), "A-10", "one", &ts(1));
    insert_card(&conn, "11", Some("u1"), "A-11", "two", &ts(2));
    insert_card(&conn, "12", Some("u1"), "A-12", "three", &ts(3));
    insert_card(&conn, "13", Some("u2"), "B-13", "four", &ts(4));
    insert_card(&conn, "14", Some("u1"), "A-14", "five", &ts(5));
    // Jane, also a member (same user id, differently spelled): one option.
    assign(&conn, "10", "user", "1", Some("Jane D."), Some("jane@example.com"));
    // Someone assigned before the first member sync.
    assign(&conn, "11", "user", "7", None, Some("bob@example.com"));
    // Teams and other installations' assignees are not user options.
    assign(&conn, "12", "team", "4", Some("Backend"), None);
    assign(&conn, "13", "user", "8", Some("Elsewhere"), None);
    // The same unsynced user on two cards: one option.
    assign(&conn, "14", "user", "7", None, Some("bob@example.com"));

    let users = query(&conn, inst::OPTION_USERS, &["u1".into(), inst::like_pattern(None).into()]);
    let values: Vec<&str> = users.iter().map(|r| r["value"].as_str().unwrap()).collect();
    let mut sorted = values.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), values.len(), "deduped by value: {users:?}");
    // Issue 17: the pending invite m2 has no user to assign, so it is no
    // longer offered (it used to be, under its email).
    assert_eq!(sorted, ["1", "5", "7"], "{users:?}");
    let label = |v: &str| users.iter().find(|r| r["value"] == v).unwrap()["label"].clone();
    assert_eq!(label("1"), "Jane Doe", "the member's own name wins over an assignee spelling: {users:?}");
    // Issue 17: the select answer is replayable, so no email leaves, not
    // even as the fallback label or as a name that is an email.
    assert_eq!(label("7"), "User 7", "no name: the id, not the email");
    assert_eq!(label("5"), "User 5", "a name that is an email is not shown");
    assert!(!format!("{users:?}").contains('@'), "an email reached the options: {users:?}");

    // Emails are not searchable either (a replayed request would be an
    // oracle for who is in the organization).
    let bob = query(&conn, inst::OPTION_USERS, &["u1".into(), inst::like_pattern(Some("BOB")).into()]);
    assert!(bob.is_empty(), "{bob:?}");
    let by_label = query(&conn, inst::OPTION_USERS, &["u1".into(), inst::like_pattern(Some("user 7")).into()]);
    assert_eq!(field(&by_label, "value"), [&json!("7")]);
    let jane = query(&conn, inst::OPTION_USERS, &["u1".into(), inst::like_pattern(Some("jane")).into()]);
    assert_eq!(field(&jane, "value"), [&json!("1")]);
    let none = query(&conn, inst::OPTION_USERS, &["u1".into(), inst::like_pattern(Some("Backend")).into()]);
    assert!(none.is_empty(), "{none:?}");
}

#[test]
fn option_queries_answer_at_most_a_hundred_rows() {
    let conn = fresh_db();
    for i in 0..150 {
        insert_card(&conn, &format!("{}", 1000 + i), Some("u1"), &format!("A-{i}"), "same title", &ts(i));
        let m = member(&format!("m{i}"), Some(&format!("{i}")), Some(&format!("Person {i}")), None);
        run(&conn, &[inst::upsert_member("u1", &m, &ts(1))]);
    }
    assert_eq!(option_items(&conn, "u1", None).len(), 100);
    assert_eq!(query(&conn, inst::OPTION_USERS, &["u1".into(), inst::like_pattern(None).into()]).len(), 100);
}

// ---- 10. Linked cards and links ------------------------------------------

fn linked(id: &str, title: &str) -> inst::LinkedCard {
    inst::LinkedCard {
        issue_id: id.into(),
        installation: Some(INSTALLATION.into()),
        title: title.into(),
        permalink: Some(format!("https://example.sentry.io/issues/{id}/")),
        project_id: Some("1".into()),
        project_slug: Some("front-end".into()),
    }
}

#[test]
fn a_linked_card_is_overwritten_by_the_next_issue_webhook() {
    let conn = fresh_db();
    run(&conn, &[inst::create_linked_card(&linked("401", "Linked from Sentry"), &ts(1))]);
    let c = card(&conn, "401");
    assert_eq!(c["title"], "Linked from Sentry");
    assert_eq!(c["status"], "unresolved");
    assert_eq!(c["installation"], INSTALLATION);
    assert_eq!(c["project"], "front-end");
    let applied: String =
        conn.query_row("SELECT applied_at FROM cards WHERE id = '401'", [], |r| r.get(0)).expect("applied_at");
    assert_eq!(applied, "1970-01-01T00:00:00.000Z");

    let issue = Issue::new("401").status("resolved").title("Real title").to(&jane());
    deliver_as(&conn, "issue", issue_body("resolved", &issue).as_bytes(), 100);
    let c = card(&conn, "401");
    assert_eq!(c["title"], "Real title");
    assert_eq!(c["status"], "resolved");
    assert_eq!(c["column"], "DONE");
    assert_eq!(c["short_id"], "FRONT-END-401");
    assert_eq!(c["permalink"], "https://example.sentry.io/issues/401/", "kept from the link");
    let applied: String =
        conn.query_row("SELECT applied_at FROM cards WHERE id = '401'", [], |r| r.get(0)).expect("applied_at");
    assert_eq!(applied, at(100));
}

#[test]
fn create_linked_card_leaves_an_existing_card_alone() {
    let conn = fresh_db();
    deliver_as(&conn, "issue", issue_body("created", &Issue::new("402")).as_bytes(), 100);
    let before = items(&conn);
    let raw_before = rows(&conn, "SELECT * FROM cards");
    run(&conn, &[inst::create_linked_card(&linked("402", "Other title"), &ts(1))]);
    assert_eq!(items(&conn), before);
    assert_eq!(rows(&conn, "SELECT * FROM cards"), raw_before);
    assert_ne!(before[0]["title"], "Other title");
    assert_eq!(query(&conn, inst::CARD_EXISTS, &["402".into()]).len(), 1);
    assert!(query(&conn, inst::CARD_EXISTS, &["403".into()]).is_empty());
}

#[test]
fn link_is_idempotent() {
    let conn = fresh_db();
    run(&conn, &[inst::create_linked_card(&linked("403", "t"), &ts(1)), inst::link("403", "403", Some("u1"), &ts(1))]);
    run(&conn, &[inst::link("403", "403", Some("u1"), &ts(2))]);
    let links = rows(&conn, "SELECT * FROM issue_links");
    assert_eq!(links.len(), 1);
    assert_eq!(links[0]["created_at"], ts(1), "the first link is kept");
    assert_eq!(links[0]["installation_uuid"], "u1");
    run(&conn, &[inst::link("403", "other-card", None, &ts(3))]);
    assert_eq!(rows(&conn, "SELECT * FROM issue_links").len(), 2, "another card is another link");
}

// ---- 11. LIST_ITEMS organization filter ----------------------------------

fn board_for(conn: &Connection, org: Option<&str>) -> Vec<Value> {
    let param = org.map_or(SqlValue::Null, |o| SqlValue::Text(o.into()));
    query(conn, store::LIST_ITEMS, &[param]).iter().map(store::item_from_row).collect()
}

fn ids(items: &[Value]) -> Vec<String> {
    let mut ids: Vec<String> = items.iter().map(|i| i["id"].as_str().unwrap().to_string()).collect();
    ids.sort();
    ids
}

#[test]
fn list_items_filters_by_organization() {
    let conn = fresh_db();
    run(
        &conn,
        &[
            inst::upsert_installation(&installation("ua", "a", "installed", None), &ts(1), &ts(1)),
            inst::upsert_installation(&installation("ub", "b", "installed", None), &ts(1), &ts(1)),
        ],
    );
    insert_card(&conn, "a1", Some("ua"), "A-1", "a one", &ts(1));
    insert_card(&conn, "a2", Some("ua"), "A-2", "a two", &ts(2));
    insert_card(&conn, "b1", Some("ub"), "B-1", "b one", &ts(3));
    insert_card(&conn, "n1", None, "N-1", "no installation", &ts(4));
    insert_card(&conn, "x1", Some("unknown"), "X-1", "unknown installation", &ts(5));
    conn.execute(
        "INSERT INTO alerts (id, kind, installation_uuid, alert_id, title, status, applied_at, created_at,
            updated_at) VALUES ('metric_alert:9', 'metric_alert', 'ua', '9', 'CPU', 'critical', ?1, ?1, ?1)",
        [ts(6)],
    )
    .expect("insert alert");

    let a = board_for(&conn, Some("a"));
    assert_eq!(ids(&a), ["a1", "a2", "metric_alert:9"]);
    assert!(a.iter().all(|i| i["org"] == "a"), "{a:?}");
    let b = board_for(&conn, Some("b"));
    assert_eq!(ids(&b), ["b1"]);
    assert_eq!(b[0]["org"], "b");
    assert!(board_for(&conn, Some("c")).is_empty());

    let all = board_for(&conn, None);
    assert_eq!(ids(&all), ["a1", "a2", "b1", "metric_alert:9", "n1", "x1"]);
    assert_eq!(all, items(&conn), "the unfiltered read is the board");
    let org = |id: &str| all.iter().find(|i| i["id"] == id).unwrap()["org"].clone();
    assert_eq!(org("a1"), "a");
    assert_eq!(org("n1"), Value::Null);
    assert_eq!(org("x1"), Value::Null);
}

// ---- 12. delivery_failed -------------------------------------------------

fn log(received_at: &str, digest: &str, status: u16) -> Vec<Stmt> {
    store::record_delivery(&DeliveryLog {
        received_at,
        source: "sentry",
        resource: Some("issue"),
        action: Some("created"),
        verdict: "applied",
        status,
        body_sha256: Some(digest),
        ..Default::default()
    })
}

fn seen(conn: &Connection, digest: &str) -> bool {
    let lookup =
        sentry_kanban::prior::Lookup { body_sha256: digest.into(), resource: "issue".into(), ..Default::default() };
    let rows = query(conn, store::deliveries::LOOKUP, &store::deliveries::lookup_params(&lookup));
    store::deliveries::prior_from_row(rows.first(), false).body_seen
}

#[test]
fn a_failed_delivery_is_no_longer_seen() {
    let conn = fresh_db();
    assert!(!seen(&conn, "abc"));
    run(&conn, &log(&ts(1), "abc", 200));
    run(&conn, &log(&ts(2), "def", 200));
    assert!(seen(&conn, "abc"));
    assert!(seen(&conn, "def"));

    run(&conn, &[store::delivery_failed("abc", "enqueue_failed", "x")]);
    assert!(!seen(&conn, "abc"), "a retry of the same body is applied again");
    assert!(seen(&conn, "def"), "other bodies are untouched");
    let r = query(&conn, "SELECT status, verdict, error FROM deliveries WHERE body_sha256 = 'abc'", &[]);
    assert_eq!(r, vec![json!({"status": 503, "verdict": "enqueue_failed", "error": "x"}).as_object().unwrap().clone()]);
}
