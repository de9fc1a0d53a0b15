//! Kept delivery bodies on rusqlite with the real migrations: only for
//! verified deliveries that could not be used or whose processing failed,
//! size-capped, listed, read back exactly, and pruned after 7 days.

use crate::support;

use sentry_kanban::log::DeliveryLog;
use sentry_kanban::store::{deliveries, retention};
use support::db::{query, rows, run};

const T: i64 = 1_800_000_000_000;

fn log(verdict: &str, status: u16) -> DeliveryLog<'static> {
    DeliveryLog {
        received_at: "2027-01-15T08:00:00.000Z",
        source: "sentry",
        resource: Some("issue"),
        action: Some("resolved"),
        verdict: Box::leak(verdict.to_string().into_boxed_str()),
        status,
        request_id: Some("r1"),
        ..Default::default()
    }
}

fn listed(conn: &rusqlite::Connection) -> Vec<serde_json::Map<String, serde_json::Value>> {
    rows(conn, deliveries::LIST_DELIVERIES)
}

#[test]
fn only_verified_unusable_or_failed_deliveries_keep_their_exact_bytes() {
    let conn = support::db::fresh_db();
    let body: Vec<u8> = b"{\"x\":\"\xff\xfe not utf-8\"}".to_vec();
    run(&conn, &deliveries::record_with_body(&log("unusable", 200), &body, T));
    run(&conn, &deliveries::record_with_body(&log("applied", 200), b"{}", T));
    run(&conn, &deliveries::record_with_body(&log("store_failed", 503), b"{\"a\":1}", T));
    run(&conn, &deliveries::record_with_body(&log("bad_signature", 401), b"{\"secret\":1}", T));
    run(&conn, &deliveries::record_with_body(&log("unusable", 200), &vec![b'x'; deliveries::MAX_KEPT_BODY + 1], T));
    let list = listed(&conn);
    let kept: Vec<(String, i64)> =
        list.iter().map(|d| (d["verdict"].as_str().unwrap().to_string(), d["body_kept"].as_i64().unwrap())).collect();
    assert_eq!(
        kept,
        [("unusable".into(), 0), ("store_failed".into(), 1), ("applied".into(), 0), ("unusable".into(), 1)],
        "newest first; the unverified one is in the ring, the oversized one is not kept"
    );
    let first = list.last().unwrap()["id"].as_i64().unwrap() as i32;
    let row = &query(&conn, deliveries::KEPT, &[first.into()])[0];
    assert_eq!(hex::decode(row["body_hex"].as_str().unwrap()).unwrap(), body, "the exact bytes");
    assert_eq!((row["resource"].as_str(), row["request_id"].as_str()), (Some("issue"), Some("r1")));
    assert!(rows(&conn, "SELECT * FROM delivery_bodies")
        .iter()
        .all(|r| !r["body_hex"].as_str().unwrap().contains(&hex::encode("secret"))));
}

#[test]
fn a_replay_is_a_new_entry_that_names_the_original() {
    let conn = support::db::fresh_db();
    run(&conn, &deliveries::record_with_body(&log("unusable", 200), b"x", T));
    let original = listed(&conn)[0]["id"].as_i64().unwrap();
    let replay = DeliveryLog { replay_of: Some(original), ..log("unusable", 200) };
    run(&conn, &deliveries::record_with_body(&replay, b"x", T));
    let list = listed(&conn);
    assert_eq!(list[0]["replay_of"].as_i64(), Some(original));
    assert!(list[1]["replay_of"].is_null());
}

#[test]
fn kept_bodies_go_after_seven_days_or_with_their_row() {
    let conn = support::db::fresh_db();
    run(&conn, &deliveries::record_with_body(&log("unusable", 200), b"old", T));
    run(&conn, &deliveries::record_with_body(&log("unusable", 200), b"new", T + 6 * 86_400_000));
    let count = |c: &rusqlite::Connection| rows(c, "SELECT COUNT(*) AS n FROM delivery_bodies")[0]["n"].as_i64();
    assert_eq!(count(&conn), Some(2));
    run(&conn, &retention::statements(T + 8 * 86_400_000, 30));
    assert_eq!(count(&conn), Some(1), "the 8-day-old body is gone, the 2-day-old one stays");
    conn.execute("DELETE FROM deliveries", []).unwrap();
    run(&conn, &retention::statements(T + 8 * 86_400_000, 30));
    assert_eq!(count(&conn), Some(0), "a body whose row was trimmed goes too");
}
