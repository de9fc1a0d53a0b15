//! The token: the exchange spends the grant code, one refresh at a time
//! under a lease, a lost refreshed pair, and no token in the listing.

use super::*;

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
