//! The board's organization filter, the delivery log's failure marking and its bound.

use super::*;

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

#[test]
fn the_log_keeps_its_newest_rows_whatever_the_bodies() {
    let bound = store::DELIVERY_LOG_ROWS as u64;
    // Distinct bodies, and one captured body replayed again and again.
    for distinct in [true, false] {
        let conn = fresh_db();
        let n = bound + 300;
        for i in 0..n {
            let digest = if distinct { format!("{i:064x}") } else { "f".repeat(64) };
            let stmts = log(&ts(1), &digest, 200);
            assert_eq!(stmts.len(), 1, "the trim is not a statement of the ack");
            run(&conn, &stmts);
        }
        let r = &query(&conn, "SELECT COUNT(*) AS n, MIN(id) AS low, MAX(id) AS high FROM deliveries", &[])[0];
        let (count, low, high) = (r["n"].as_u64().unwrap(), r["low"].as_u64().unwrap(), r["high"].as_u64().unwrap());
        assert!((bound..bound + 16).contains(&count), "{count} rows kept (distinct bodies: {distinct})");
        assert_eq!((high, high - low + 1), (n, count), "the newest, without gaps");
    }
}

/// The trim never takes the newest webhook of a source: after 10,000 newer
/// GitHub deliveries, Sentry's last one still says when Sentry last sent
/// (the health page's "last verified"), as retention's prune keeps it.
#[test]
fn the_trim_keeps_each_sources_newest_webhook() {
    let bound = store::DELIVERY_LOG_ROWS as u64;
    let conn = fresh_db();
    run(&conn, &log(&ts(1), "older-sentry", 200));
    run(&conn, &log(&ts(2), "newest-sentry", 200));
    for i in 0..bound + 300 {
        let github = DeliveryLog {
            received_at: &ts(3),
            source: "github",
            resource: Some("team"),
            verdict: "applied",
            status: 200,
            body_sha256: Some(&format!("{i:064x}")),
            ..Default::default()
        };
        run(&conn, &store::record_delivery(&github));
    }
    let sentry = query(&conn, "SELECT body_sha256 FROM deliveries WHERE source = 'sentry'", &[]);
    assert_eq!(sentry, vec![json!({"body_sha256": "newest-sentry"}).as_object().unwrap().clone()]);
    let n = query(&conn, "SELECT COUNT(*) AS n FROM deliveries", &[])[0]["n"].as_u64().unwrap();
    assert!((bound..bound + 17).contains(&n), "{n} rows kept");
}
