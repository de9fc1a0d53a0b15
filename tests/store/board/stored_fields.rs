//! What is stored as sent: seen times, huge ids, SQL-looking text, the
//! board's order, skipped deliveries, and one batch as all or nothing.

use super::*;

#[test]
fn seen_times_in_either_sentry_form_are_stored_canonically() {
    let conn = fresh_db();
    let issue = Issue::new("118").seen("2019-08-19T20:58:37.391000+00:00", "2019-08-19T20:58:37.391000Z");
    let c = send(&conn, "created", &issue, 100);
    assert_eq!(c["first_seen"], "2019-08-19T20:58:37.391Z");
    assert_eq!(c["last_seen"], "2019-08-19T20:58:37.391Z");

    let later = issue.clone().status("resolved").seen("2019-08-19T20:58:37Z", "2019-08-20T01:02:03.4+02:00");
    let c = send(&conn, "resolved", &later, 200);
    assert_eq!(c["first_seen"], "2019-08-19T20:58:37.000Z");
    assert_eq!(c["last_seen"], "2019-08-19T23:02:03.400Z");
    let raw = &db::rows(&conn, "SELECT first_seen, last_seen FROM cards")[0];
    assert_eq!(raw["last_seen"], "2019-08-19T23:02:03.400Z");
}

#[test]
fn unparseable_seen_times_keep_the_stored_ones() {
    let conn = fresh_db();
    let issue = Issue::new("119");
    send(&conn, "created", &issue, 100);
    let c = send(&conn, "resolved", &issue.clone().status("resolved").seen("yesterday", ""), 200);
    assert_eq!(c["first_seen"], "2019-08-19T20:58:37.391Z");
    assert_eq!(c["last_seen"], "2019-08-19T20:58:37.391Z");
}

#[test]
fn a_huge_id_round_trips_exactly_as_text() {
    let conn = fresh_db();
    // 2^53 + 1 and + 3: a JS number would round both.
    send(&conn, "created", &Issue::new("9007199254740993"), 100);
    send(&conn, "created", &Issue::new("9007199254740995").numeric_id(), 100);
    let body = issue_body("created", &Issue::new("9007199254740995").numeric_id());
    assert!(body.contains(r#""id":9007199254740995,"#), "the id is sent as a bare number");
    for id in ["9007199254740993", "9007199254740995"] {
        let c = card(&conn, id);
        assert_eq!(c["id"], id);
        assert_eq!(c["sentry_issue_id"], id);
        assert_eq!(c["short_id"], format!("FRONT-END-{id}"));
    }
    let types = db::rows(&conn, "SELECT DISTINCT typeof(id) AS t FROM cards");
    assert_eq!(types.len(), 1);
    assert_eq!(types[0]["t"], "text");
    assert_eq!(card_count(&conn), 2);
}

#[test]
fn sql_looking_text_is_stored_verbatim() {
    let conn = fresh_db();
    let title = "'); DROP TABLE cards;-- \"quoted\" \\ back\\slash";
    let body = issue_body("created", &Issue::new("120").title(title));
    assert!(body.contains(&js(title)));
    deliver(&conn, body.as_bytes(), 100);
    send(&conn, "created", &Issue::new("121"), 100);
    assert_eq!(card(&conn, "120")["title"], title);
    assert_eq!(card_count(&conn), 2, "the cards table is intact");
}

#[test]
fn the_board_lists_newest_last_seen_first() {
    let conn = fresh_db();
    send(&conn, "created", &Issue::new("130").seen("2020-01-01T00:00:00Z", "2020-01-01T00:00:00Z"), 100);
    send(&conn, "created", &Issue::new("131").seen("2020-01-01T00:00:00Z", "2021-06-01T00:00:00Z"), 100);
    send(&conn, "created", &Issue::new("132").seen("2020-01-01T00:00:00Z", "2020-06-01T00:00:00+00:00"), 100);
    let ids: Vec<Value> = items(&conn).into_iter().map(|i| i["id"].clone()).collect();
    assert_eq!(ids, ["131", "132", "130"]);
}

#[test]
fn skipped_deliveries_write_nothing() {
    let conn = fresh_db();
    let unknown_action = issue_body("escalated_to_the_moon", &Issue::new("140"));
    let plan = deliver(&conn, unknown_action.as_bytes(), 100);
    assert_eq!(plan.verdict.outcome.as_str(), "skipped");
    let plan = deliver_as(&conn, "preprod_artifact", issue_body("created", &Issue::new("141")).as_bytes(), 100);
    assert_eq!(plan.verdict.outcome.as_str(), "skipped");
    assert!(plan.statements.is_empty());
    assert_eq!(card_count(&conn), 0);
}

#[test]
fn a_batch_is_all_or_nothing() {
    let conn = fresh_db();
    let body = issue_body("created", &Issue::new("150"));
    let sig = sign_hex(SECRET.as_bytes(), body.as_bytes());
    let d = Delivery {
        resource: Some("issue"),
        signature: Some(&sig),
        timestamp: None,
        body: body.as_bytes(),
        ..Default::default()
    };
    let Step::Lookup(pending) = handle(&cfg(), &d, NOW).unwrap() else { panic!("an issue is looked up") };
    let mut stmts = decide(*pending, &Prior::default()).statements;
    stmts.push(Stmt { sql: "INSERT INTO no_such_table VALUES (1)", params: vec![] });
    assert!(db::try_run(&conn, &stmts).is_err());
    assert_eq!(card_count(&conn), 0, "the upsert before the failure was rolled back");
    db::run(&conn, &stmts[..1]);
    assert_eq!(card_count(&conn), 1);
}

/// The card a birth writes on an empty database, through its plan's
/// statements as given or as the fast path runs them (`without_card`).
fn born(body: &[u8], fast: bool) -> Vec<serde_json::Map<String, Value>> {
    let conn = fresh_db();
    let sig = sign_hex(SECRET.as_bytes(), body);
    let d = Delivery { resource: Some("issue"), signature: Some(&sig), body, ..Default::default() };
    let Step::Lookup(pending) = handle(&cfg(), &d, NOW).unwrap() else { panic!("an issue is looked up") };
    let mut stmts = decide(*pending, &Prior::default()).statements;
    if fast {
        stmts = stmts.into_iter().map(sentry_kanban::store::cards::without_card).collect();
    }
    db::run(&conn, &stmts);
    db::rows(&conn, "SELECT * FROM cards")
}

#[test]
fn a_birth_without_a_card_is_the_insert_alone_and_writes_the_same_card() {
    let issues = [
        Issue::new("160"),
        Issue::new("161").status("resolved").title(""),
        Issue::new("162").assigned(Assigned::To(jane())),
        Issue::new("163").assigned(Assigned::To(backend_team())).status("ignored"),
    ];
    let mut bodies: Vec<Vec<u8>> = issues.iter().map(|i| issue_body("created", i).into_bytes()).collect();
    bodies.extend(literal_fixtures().into_iter().filter(|(n, _)| n.contains("created")).map(|(_, b)| b.into_bytes()));
    for body in &bodies {
        let (fast, upsert) = (born(body, true), born(body, false));
        assert_eq!(fast.len(), 1, "{}", String::from_utf8_lossy(body));
        assert_eq!(fast, upsert, "{}", String::from_utf8_lossy(body));
    }
    let resolve = Stmt { sql: "UPDATE cards SET status = ?1", params: vec!["resolved".into()] };
    assert_eq!(sentry_kanban::store::cards::without_card(resolve.clone()), resolve, "only a birth changes");
}
