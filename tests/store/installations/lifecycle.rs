//! An installation's row through its life: the order-guarded upsert, the
//! delete (final, its cards kept), the internal installation, and its
//! installed and error state.

use super::*;

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
