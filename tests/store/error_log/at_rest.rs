//! What is at rest: no secret of an event anywhere in the database, and a
//! failed batch leaving no trace.

use super::*;

// ---- 9. sanitised at rest -----------------------------------------------------------

/// Every TEXT (and BLOB, as text) value of every table, as (table, column, text).
fn every_text(conn: &Connection) -> Vec<(String, String, String)> {
    let mut tables = conn.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").unwrap();
    let names: Vec<String> = tables.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect();
    assert!(names.iter().any(|n| n == "error_groups"), "{names:?}");
    let mut out = vec![];
    for table in names {
        let mut stmt = conn.prepare(&format!("SELECT * FROM \"{table}\"")).unwrap();
        let columns: Vec<String> = stmt.column_names().iter().map(|c| c.to_string()).collect();
        let mut rows = stmt.query([]).unwrap();
        while let Some(row) = rows.next().unwrap() {
            for (i, column) in columns.iter().enumerate() {
                let text = match row.get_ref(i).unwrap() {
                    ValueRef::Text(t) | ValueRef::Blob(t) => String::from_utf8_lossy(t).into_owned(),
                    _ => continue,
                };
                out.push((table.clone(), column.clone(), text));
            }
        }
    }
    out
}

#[test]
fn no_secret_of_the_event_is_stored() {
    let body = serde_json::to_vec(&json!({
        "action": "created",
        "installation": { "uuid": INSTALL },
        "data": { "error": {
            "event_id": "5ec12e7a1b2c4d5e8f90a1b2c3d4e5f6",
            "issue_id": "900",
            "title": "TypeError: cannot read properties of undefined",
            "culprit": "checkout/pay in submit",
            "level": "error",
            "platform": "javascript",
            "project": 7,
            "environment": "production",
            "release": "shop@3.1.4",
            "datetime": "2026-02-01T10:00:00.123456Z",
            "web_url": "https://example.sentry.io/issues/900/events/5ec12e7a1b2c4d5e8f90a1b2c3d4e5f6/",
            "request": {
                "url": "https://shop.example/checkout/pay?token=MARKER_QUERY#MARKER_FRAGMENT",
                "method": "POST",
                "query_string": "token=MARKER_QS",
                "cookies": [["session", "MARKER_COOKIE"]],
                "headers": [
                    ["Authorization", "Bearer MARKER_AUTH"],
                    ["Cookie", "session=MARKER_COOKIE_HEADER"],
                    ["User-Agent", "Mozilla/5.0 MARKER_UA"]
                ],
                "data": { "card": "MARKER_BODY_4111111111111111", "password": "MARKER_PASSWORD" },
                "env": { "REMOTE_ADDR": "198.51.100.23" }
            },
            "user": { "ip_address": "198.51.100.23", "email": "MARKER_EMAIL@example.com", "id": "MARKER_USER" },
            "tags": [["user", "ip:198.51.100.23"], ["browser", "Chrome 121"], ["session", "MARKER_TAG"]],
            "extra": { "secret": "MARKER_EXTRA" },
            "breadcrumbs": { "values": [{ "message": "MARKER_CRUMB" }] },
            "exception": { "values": [{ "type": "TypeError", "value": "cannot read properties of undefined",
                "stacktrace": { "frames": [{ "filename": "checkout/pay.js", "function": "submit", "lineno": 42,
                    "in_app": true, "vars": { "apiKey": "MARKER_VAR" }, "context_line": "MARKER_SOURCE",
                    "pre_context": ["MARKER_PRE"], "post_context": ["MARKER_POST"] }] } }] }
        } },
        "actor": { "type": "application", "id": "sentry", "name": "Sentry" }
    }))
    .unwrap();
    let record = condense_body(&body, NOW_MS).unwrap();
    let conn = fresh_db();
    issue_hook(&conn, "created", "900", 100);
    ingest(&conn, &[record.clone(), record.clone()]);
    ingest(&conn, &[rec("plain", "900", "2026-01-01T00:00:00.000Z")]);

    let stored = every_text(&conn);
    let all: String = stored.iter().map(|(_, _, t)| t.as_str()).collect::<Vec<_>>().join("\n");
    // The dump is real: what the log should keep is in it.
    for kept in [
        "5ec12e7a1b2c4d5e8f90a1b2c3d4e5f6",
        "TypeError: cannot read properties of undefined",
        "https://shop.example/checkout/pay",
        "Chrome 121",
        "checkout/pay.js",
        "shop@3.1.4",
    ] {
        assert!(all.contains(kept), "{kept} was not stored");
    }
    for (table, column, text) in &stored {
        for marker in ["MARKER", "198.51.100.23", "ip:", "Bearer", "session=", "token="] {
            assert!(!text.contains(marker), "{marker} stored in {table}.{column}: {text}");
        }
    }
    let sample = &errors::group_json(&group(&conn, "900"))["sample"];
    assert_eq!(sample["request"], json!({"url": "https://shop.example/checkout/pay", "method": "POST"}));
    assert_eq!(sample["tags"], json!({"browser": "Chrome 121"}));
    assert_eq!(group(&conn, "900")["event_count"], 2);
}

// ---- 10. all or nothing -------------------------------------------------------------

fn bad_statement() -> Stmt {
    Stmt { sql: "INSERT INTO no_such_table VALUES (1)", params: vec![] }
}

#[test]
fn a_failed_batch_leaves_no_trace() {
    let conn = fresh_db();
    let batch = [
        rec("f1", "91", "2026-02-01T00:00:00.000Z"),
        rec("f2", "92", "2026-02-01T01:00:00.000Z"),
        rec("f3", "91", "2026-02-01T02:00:00.000Z"),
    ];
    let mut stmts = errors::ingest(&batch, &now());
    stmts.push(bad_statement());
    assert!(try_run(&conn, &stmts).is_err());
    for table in ["error_events", "error_groups", "error_hourly", "error_seen"] {
        assert_eq!(scalar(&conn, &format!("SELECT COUNT(*) FROM {table}")), 0, "{table}");
    }

    // The queue retries the batch: it then counts every event once.
    ingest(&conn, &batch);
    assert_eq!(group(&conn, "91")["event_count"], 2);
    assert_eq!(group(&conn, "92")["event_count"], 1);
    assert_eq!(scalar(&conn, "SELECT SUM(count) FROM error_hourly"), 3);
}

#[test]
fn a_failed_later_batch_leaves_the_earlier_ones_as_they_were() {
    let conn = fresh_db();
    ingest(&conn, &[rec("p1", "95", "2026-02-01T00:00:00.000Z"), rec("p2", "95", "2026-02-01T00:30:00.000Z")]);
    let before = error_log(&conn);

    let second = [
        rec("p3", "95", "2026-02-02T00:00:00.000Z"),
        rec("p1", "95", "2026-02-01T00:00:00.000Z"),
        rec("q1", "96", "2026-02-02T00:00:00.000Z"),
    ];
    for at_index in [3, errors::ingest(&second, &now()).len() - 1, usize::MAX] {
        let mut stmts = errors::ingest(&second, &now());
        // Fail after the inserts, before the marking, or at the very end.
        stmts.insert(at_index.min(stmts.len()), bad_statement());
        assert!(try_run(&conn, &stmts).is_err());
        assert_eq!(error_log(&conn), before, "failing at {at_index}");
        assert_eq!(uncounted(&conn), 0);
    }

    ingest(&conn, &second);
    assert_eq!(group(&conn, "95")["event_count"], 3);
    assert_eq!(group(&conn, "96")["event_count"], 1);
    assert_eq!(scalar(&conn, "SELECT SUM(count) FROM error_hourly"), 4);
    assert_eq!(uncounted(&conn), 0);
}

#[test]
fn a_known_event_under_another_issue_makes_no_empty_group() {
    let conn = fresh_db();
    ingest(&conn, &[rec("x", "1", "2026-02-01T00:00:00.000Z")]);
    // Sentry merged issue 1 into 2 and redelivers the same event under 2.
    ingest(&conn, &[rec("x", "2", "2026-02-01T00:00:00.000Z")]);
    assert!(group_row(&conn, "2").is_none(), "a group with no events was created");
    assert_eq!(group(&conn, "1")["event_count"], 1);
}
