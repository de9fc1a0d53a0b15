//! The login's state on rusqlite with the real migrations: the session
//! version logout bumps, and the failed-login counters the throttle reads.

use crate::support::db;

use db::{fresh_db, query, run};
use rusqlite::Connection;
use sentry_kanban::auth::throttle::{self, Verdict};
use sentry_kanban::store::auth;

fn version(conn: &Connection) -> i64 {
    query(conn, auth::SESSION_VERSION, &[])[0]["v"].as_i64().expect("a version")
}

fn failures(conn: &Connection, client: &str, minute: i32) -> i64 {
    query(conn, auth::FAILURES, &[client.into(), minute.into()])[0]["n"].as_i64().expect("a count")
}

#[test]
fn logout_bumps_the_session_version() {
    let conn = fresh_db();
    assert_eq!(version(&conn), 0, "the migration seeds version 0");
    run(&conn, &[auth::bump_session_version()]);
    run(&conn, &[auth::bump_session_version()]);
    assert_eq!(version(&conn), 2);
    conn.execute("DELETE FROM auth_state", []).unwrap();
    run(&conn, &[auth::bump_session_version()]);
    assert_eq!(version(&conn), 1, "a missing row is created past version 0");
    run(&conn, &auth::logout(false));
    assert_eq!(version(&conn), 1, "a logout without a valid session ends nobody's session");
    run(&conn, &auth::logout(true));
    assert_eq!(version(&conn), 2);
}

#[test]
fn failures_are_counted_per_client_and_minute_and_old_minutes_pruned() {
    let conn = fresh_db();
    let now = 1_800_000_000;
    let m = throttle::minute(now);
    for _ in 0..throttle::MAX_FAILURES {
        assert_eq!(throttle::verdict(failures(&conn, "203.0.113.7", m), now), Verdict::Allow);
        run(&conn, &auth::record_failure("203.0.113.7", m));
    }
    assert_eq!(failures(&conn, "203.0.113.7", m), throttle::MAX_FAILURES);
    assert!(matches!(throttle::verdict(failures(&conn, "203.0.113.7", m), now), Verdict::Refuse { .. }));
    assert_eq!(failures(&conn, "198.51.100.1", m), 0, "another client is not throttled");
    run(&conn, &auth::record_failure("198.51.100.1", m + 1));
    assert_eq!(failures(&conn, "203.0.113.7", m + 1), 0, "a new minute starts from zero");
    let rows: i64 = conn.query_row("SELECT COUNT(*) FROM login_failures", [], |r| r.get(0)).unwrap();
    assert_eq!(rows, 1, "the past minute's rows are pruned");
}
