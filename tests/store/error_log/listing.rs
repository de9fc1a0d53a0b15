//! The error log's list: filters, literal search, sorting, the card flag,
//! and the fourteen-day trend.

use super::*;

// ---- 5. list ------------------------------------------------------------------------

/// 101: 3 events, error, project 1, has a card (unresolved → OPEN)
/// 102: 1 event, warning, project 2, has a card (resolved)
/// 103: 5 events, error, project 1, no card, ignored by sync_status
/// 104: 2 events, fatal, project 2, no card, OPEN
fn listed_db() -> Connection {
    let conn = fresh_db();
    let mut batch = vec![];
    let g101 = |e: &str, t: &str| described(e, "101", t, "TypeError: x is undefined", "app/main.js in render", "error");
    batch.push(g101("l1", "2026-02-01T10:00:00.000Z"));
    batch.push(g101("l2", "2026-02-05T10:00:00.000Z"));
    batch.push(g101("l3", "2026-02-20T10:00:00.000Z"));
    batch.push(ErrorRecord {
        project: Some("2".into()),
        ..described(
            "l4",
            "102",
            "2026-02-10T10:00:00.000Z",
            "Discount 50% off failed",
            "checkout/cart_total",
            "warning",
        )
    });
    for (i, t) in
        ["2026-02-15T01", "2026-02-15T02", "2026-02-15T03", "2026-02-16T04", "2026-02-16T05"].iter().enumerate()
    {
        batch.push(described(
            &format!("l5{i}"),
            "103",
            &format!("{t}:00:00.000Z"),
            "Discount 500 off",
            "cartXtotal",
            "error",
        ));
    }
    for (e, t) in [("l60", "2026-01-20T10:00:00.000Z"), ("l61", "2026-02-25T10:00:00.000Z")] {
        batch.push(ErrorRecord { project: Some("2".into()), ..described(e, "104", t, "Timeout", "api", "fatal") });
    }
    issue_hook(&conn, "created", "101", 100);
    ingest(&conn, &batch);
    issue_hook(&conn, "resolved", "102", 100);
    run(&conn, &[errors::sync_status("103", "ignored", &at(100))]);
    conn
}

fn filter(status: Option<&str>, level: Option<&str>, project: Option<&str>, q: Option<&str>) -> Filter {
    Filter {
        status: status.map(Into::into),
        level: level.map(Into::into),
        project: project.map(Into::into),
        q: q.map(Into::into),
        sort: None,
    }
}

fn sorted(sort: &str) -> Filter {
    Filter { sort: Some(sort.into()), ..Filter::default() }
}

#[test]
fn list_filters_by_status_level_and_project() {
    let conn = listed_db();
    assert_eq!(list(&conn, Filter::default()), ["104", "101", "103", "102"]);
    assert_eq!(list(&conn, filter(Some("resolved"), None, None, None)), ["102"], "lower-case input");
    assert_eq!(list(&conn, filter(Some("Ignored"), None, None, None)), ["103"]);
    assert_eq!(list(&conn, filter(Some("OPEN"), None, None, None)), ["104", "101"]);
    assert_eq!(list(&conn, filter(Some("open"), None, None, None)), ["104", "101"]);
    assert_eq!(list(&conn, filter(Some(""), None, None, None)).len(), 4, "blank means any");
    assert!(list(&conn, filter(Some("bogus"), None, None, None)).is_empty());
    assert_eq!(list(&conn, filter(None, Some("error"), None, None)), ["101", "103"]);
    assert_eq!(list(&conn, filter(None, Some("fatal"), None, None)), ["104"]);
    assert_eq!(list(&conn, filter(None, None, Some("2"), None)), ["104", "102"]);
    assert_eq!(list(&conn, filter(Some("open"), Some("error"), Some("1"), None)), ["101"]);
    assert!(list(&conn, filter(Some("resolved"), Some("error"), None, None)).is_empty());
}

#[test]
fn list_search_matches_title_culprit_literally_or_the_exact_issue_id() {
    let conn = listed_db();
    let q = |s: &str| list(&conn, filter(None, None, None, Some(s)));
    assert_eq!(q("undefined"), ["101"], "title substring");
    assert_eq!(q("render"), ["101"], "culprit substring");
    assert_eq!(q("typeerror"), ["101"], "ASCII case-insensitive");
    assert_eq!(q("Discount"), ["103", "102"]);
    assert_eq!(q("50%"), ["102"], "% is literal: '500 off' does not match");
    assert_eq!(q("cart_total"), ["102"], "_ is literal: 'cartXtotal' does not match");
    assert_eq!(q("%"), ["102"]);
    assert_eq!(q("_"), ["102"]);
    assert!(q("\\").is_empty(), "a backslash is literal too");
    assert_eq!(q("104"), ["104"], "exact issue id");
    assert_eq!(q(" 104 "), ["104"], "trimmed");
    assert!(q("10").is_empty(), "a partial id matches nothing");
    assert!(q("nothing like it").is_empty());
    assert_eq!(q("   ").len(), 4, "blank means any");
    assert_eq!(list(&conn, filter(Some("ignored"), None, None, Some("Discount"))), ["103"]);
}

#[test]
fn list_sorts_by_count_first_seen_or_last_seen() {
    let conn = listed_db();
    assert_eq!(list(&conn, sorted("count")), ["103", "101", "104", "102"]);
    assert_eq!(list(&conn, sorted("first_seen")), ["103", "102", "101", "104"]);
    assert_eq!(list(&conn, sorted("last_seen")), ["104", "101", "103", "102"]);
    assert_eq!(list(&conn, sorted("whatever")), ["104", "101", "103", "102"], "unknown: last_seen");
    let counts: Vec<Value> = query(&conn, errors::LIST_GROUPS, &errors::list_params(&sorted("count")))
        .into_iter()
        .map(|r| r["event_count"].clone())
        .collect();
    assert_eq!(counts, [json!(5), json!(3), json!(2), json!(1)]);
}

#[test]
fn list_rows_say_whether_the_issue_has_a_card() {
    let conn = listed_db();
    let listed = query(&conn, errors::LIST_GROUPS, &errors::list_params(&Filter::default()));
    let has_card: BTreeMap<String, Value> = listed
        .iter()
        .map(|r| (r["issue_id"].as_str().unwrap().to_string(), errors::group_json(r)["has_card"].clone()))
        .collect();
    assert_eq!(
        has_card,
        BTreeMap::from([
            ("101".to_string(), json!(true)),
            ("102".to_string(), json!(true)),
            ("103".to_string(), json!(false)),
            ("104".to_string(), json!(false)),
        ])
    );
    let g102 = listed.iter().find(|r| r["issue_id"] == "102").unwrap();
    assert_eq!(g102["status"], "RESOLVED");
    assert_eq!(g102["title"], "Discount 50% off failed");
}

// ---- 6. trends ----------------------------------------------------------------------

#[test]
fn list_json_gives_a_fourteen_day_trend_of_the_events_in_the_window() {
    let conn = fresh_db();
    assert_eq!(now(), "2026-03-01T12:00:00.000Z");
    let days = errors::days_ending(NOW_MS, 14);
    assert_eq!(days.len(), 14);
    assert_eq!((days[0].as_str(), days[13].as_str()), ("2026-02-16", "2026-03-01"));

    let a = [
        ("t1", "2026-02-10T10:00:00.000Z"), // outside
        ("t2", "2026-02-10T11:00:00.000Z"), // outside
        ("t3", "2026-02-15T23:59:59.999Z"), // the day before the window
        ("t4", "2026-02-16T00:00:00.000Z"), // its first instant
        ("t5", "2026-02-20T01:00:00.000Z"),
        ("t6", "2026-02-20T02:00:00.000Z"),
        ("t7", "2026-02-20T02:30:00.000Z"),
        ("t8", "2026-03-01T00:00:00.000Z"),
        ("t9", "2026-03-01T11:59:59.000Z"),
    ];
    let mut batch: Vec<ErrorRecord> = a.iter().map(|(e, t)| rec(e, "61", t)).collect();
    batch.push(rec("u1", "62", "2026-02-28T08:00:00.000Z"));
    batch.push(rec("v1", "63", "2026-01-01T08:00:00.000Z"));
    // Two batches: buckets add up across them.
    let later = batch.split_off(5);
    ingest(&conn, &batch);
    ingest(&conn, &later);

    let groups = query(&conn, errors::LIST_GROUPS, &errors::list_params(&Filter::default()));
    let daily = query(&conn, errors::DAILY_SINCE, &text_params(&[days[0].as_str()]));
    assert!(daily.iter().all(|r| r["day"].as_str().unwrap() >= days[0].as_str()), "{daily:?}");
    let out = errors::list_json(&groups, &daily, &days);
    assert_eq!(out["days"], json!(days));
    let trend = |issue: &str| -> Vec<i64> {
        let g = out["groups"].as_array().unwrap().iter().find(|g| g["issue_id"] == issue).unwrap();
        g["trend"].as_array().unwrap().iter().map(|n| n.as_i64().unwrap()).collect()
    };
    let t61 = trend("61");
    assert_eq!(t61, [1, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
    assert_eq!(t61.iter().sum::<i64>(), 6, "only the events inside the window");
    assert_eq!(group(&conn, "61")["event_count"], 9, "the count is all time");
    assert_eq!(trend("62"), [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0]);
    assert_eq!(trend("63"), [0; 14], "no events in the window");
    for g in out["groups"].as_array().unwrap() {
        assert_eq!(g["trend"].as_array().unwrap().len(), 14);
        assert!(g["has_card"].is_boolean());
    }
}
