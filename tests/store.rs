//! The board as stored: signed Sentry deliveries go through the real
//! `hook::handle` (verify → parse → plan), the planned statements run on
//! SQLite with the real migrations, and the board is read back with the
//! worker's own `LIST_ITEMS` and `item_from_row`.

mod support;

use rusqlite::Connection;
use sentry_kanban::plan::Plan;
use sentry_kanban::prior::Prior;
use sentry_kanban::sentry::hook::{decide, handle, Delivery, Step};
use sentry_kanban::sql::Stmt;
use sentry_kanban::verify::sign_hex;
use serde_json::{json, Value};
use support::db::{self, card, card_count, fresh_db, items};
use support::hook::{arrival, at, cfg, deliver_as, deliver_full, request_id, NOW, SECRET};
use support::reread::{requested, serve, token_cfg, Answer};
use support::sentry::{
    backend_team, fixture, fixtures_dir, issue_body, jane, js, literal_fixtures, Assigned, Issue, FIXTURE_ISSUE,
    INSTALLATION,
};

fn deliver(conn: &Connection, body: &[u8], t: i64) -> Plan {
    deliver_as(conn, "issue", body, t)
}

/// Sends `issue.<action>` for `issue` at `t` and returns its card.
fn send(conn: &Connection, action: &str, issue: &Issue, t: i64) -> Value {
    let plan = deliver(conn, issue_body(action, issue).as_bytes(), t);
    let want = if plan.reply.body["status"] == "kept" { "filled" } else { "applied" };
    assert_eq!(plan.verdict.outcome, want, "{action}: {:?}", plan.reply);
    card(conn, &issue.id)
}

/// Same, by a worker with a token (internal integration): what it cannot
/// order is re-read.
fn send_with_token(conn: &Connection, action: &str, issue: &Issue, t: i64) -> Plan {
    let body = issue_body(action, issue);
    deliver_full(conn, &token_cfg(), "issue", body.as_bytes(), arrival(t), &request_id())
}

/// What Sentry's API answers for `issue` now.
fn api(issue: &Issue) -> Answer {
    Answer::issue(issue.to_json(true))
}

/// The `applied_at` stored for a card, which the API does not expose.
fn applied_at(conn: &Connection, id: &str) -> String {
    conn.query_row("SELECT applied_at FROM cards WHERE id = ?1", [id], |r| r.get(0)).expect("applied_at")
}

const TITLE: &str = "TypeError: Caf\u{e9} \u{2013} \u{201c}d\u{e9}j\u{e0} vu\u{201d} \u{1f600}";

#[test]
fn migrations_give_an_empty_board() {
    let conn = fresh_db();
    assert!(items(&conn).is_empty());
    assert_eq!(card_count(&conn), 0);
}

#[test]
fn created_issue_is_a_todo_card_with_its_fields() {
    let conn = fresh_db();
    let issue = Issue::new("101");
    let c = send(&conn, "created", &issue, 100);
    assert_eq!(c["column"], "TODO");
    assert_eq!(c["ignored"], false);
    assert_eq!(c["status"], "unresolved");
    assert_eq!(c["substatus"], "new");
    assert_eq!(c["id"], "101");
    assert_eq!(c["sentry_issue_id"], "101");
    assert_eq!(c["title"], TITLE, "\\u escapes are decoded before storing");
    assert_eq!(c["short_id"], "FRONT-END-101");
    assert_eq!(c["level"], "error");
    assert_eq!(c["culprit"], "?(runner)");
    assert_eq!(c["project"], "front-end");
    assert_eq!(c["project_name"], "Front End");
    assert_eq!(c["platform"], "javascript");
    assert_eq!(c["installation"], INSTALLATION);
    assert_eq!(c["permalink"], "https://example.sentry.io/issues/101/", "web_url stands in for a null permalink");
    assert_eq!(c["count"], "1");
    assert_eq!(c["user_count"], 1);
    assert_eq!(c["assignee"], Value::Null);
    assert_eq!(c["updated_at"], at(100));
    assert_eq!(applied_at(&conn, "101"), at(100), "applied_at is the arrival");
}

#[test]
fn the_same_created_delivery_twice_is_one_unchanged_card() {
    let conn = fresh_db();
    let body = issue_body("created", &Issue::new("102"));
    deliver(&conn, body.as_bytes(), 100);
    let first = items(&conn);
    deliver(&conn, body.as_bytes(), 100);
    assert_eq!(card_count(&conn), 1);
    assert_eq!(items(&conn), first);
    assert_eq!(first.len(), 1);
}

#[test]
fn created_already_resolved_is_done() {
    let conn = fresh_db();
    let c = send(&conn, "created", &Issue::new("103").status("resolved"), 100);
    assert_eq!(c["column"], "DONE");
    assert_eq!(c["status"], "resolved");
    assert_eq!(c["ignored"], false);
}

#[test]
fn assigned_to_a_user_is_doing_with_the_assignee() {
    let conn = fresh_db();
    let issue = Issue::new("104");
    send(&conn, "created", &issue, 100);
    let c = send(&conn, "assigned", &issue.clone().to(&jane()), 200);
    assert_eq!(c["column"], "DOING");
    assert_eq!(c["status"], "unresolved");
    assert_eq!(c["assignee"], json!({"type": "user", "id": "1", "name": "Jane Doe", "email": "jane@example.com"}));
}

#[test]
fn assigned_to_a_team_is_doing_as_a_team() {
    let conn = fresh_db();
    let issue = Issue::new("105");
    send(&conn, "created", &issue, 100);
    let c = send(&conn, "assigned", &issue.clone().to(&backend_team()), 200);
    assert_eq!(c["column"], "DOING");
    assert_eq!(c["assignee"], json!({"type": "team", "id": "4", "name": "Backend", "email": null}));
}

#[test]
fn assignment_follows_data_assignee_even_if_the_issue_snapshot_lags() {
    let conn = fresh_db();
    let issue = Issue::new("106");
    send(&conn, "created", &issue, 100);
    // data.assignee names Jane; the serialized issue still says nobody.
    let lagging = issue_body("assigned", &issue.clone().to(&jane())).replacen(&jane().assigned_to_json(), "null", 1);
    assert!(lagging.contains(r#""assignedTo":null"#) && lagging.contains(r#""assignee":{"type":"user""#));
    deliver(&conn, lagging.as_bytes(), 200);
    assert_eq!(card(&conn, "106")["assignee"], jane().on_board());
}

#[test]
fn resolved_is_done_and_keeps_what_the_status_webhook_lacks() {
    let conn = fresh_db();
    let issue = Issue::new("107");
    send(&conn, "created", &issue, 100);
    let c = send(&conn, "resolved", &issue.clone().status("resolved"), 200);
    assert_eq!(c["column"], "DONE");
    assert_eq!(c["status"], "resolved");
    assert_eq!(c["substatus"], Value::Null);
    // Only issue.created carries web_url; permalink is null elsewhere.
    assert_eq!(c["permalink"], "https://example.sentry.io/issues/107/");
    assert_eq!(c["installation"], INSTALLATION);
}

#[test]
fn ignored_and_archived_set_the_ignored_flag() {
    for (n, action) in ["ignored", "archived"].into_iter().enumerate() {
        let conn = fresh_db();
        let issue = Issue::new(&format!("10{}", 8 + n));
        send(&conn, "created", &issue, 100);
        let c = send(&conn, action, &issue.clone().status("ignored"), 200);
        assert_eq!(c["ignored"], true, "{action}");
        assert_eq!(c["status"], "ignored", "{action}");
        assert_eq!(c["column"], "TODO", "{action}: unassigned and unresolved");
    }
}

#[test]
fn unresolved_clears_ignored_and_returns_to_todo() {
    let conn = fresh_db();
    let issue = Issue::new("111");
    send(&conn, "created", &issue, 100);
    assert_eq!(send(&conn, "ignored", &issue.clone().status("ignored"), 200)["ignored"], true);
    let c = send(&conn, "unresolved", &issue.clone().status("unresolved"), 300);
    assert_eq!(c["ignored"], false);
    assert_eq!(c["status"], "unresolved");
    assert_eq!(c["column"], "TODO");

    send(&conn, "resolved", &issue.clone().status("resolved"), 400);
    let c = send(&conn, "unresolved", &issue.clone().status("unresolved"), 500);
    assert_eq!(c["column"], "TODO", "a regression reopens a resolved card");
}

#[test]
fn unresolved_on_an_assigned_card_is_doing() {
    let conn = fresh_db();
    let issue = Issue::new("112");
    send(&conn, "created", &issue, 100);
    send(&conn, "assigned", &issue.clone().to(&jane()), 200);
    assert_eq!(send(&conn, "resolved", &issue.clone().status("resolved").to(&jane()), 300)["column"], "DONE");
    // The unresolve does not repeat the assignee: the card remembers it.
    let c = send(&conn, "unresolved", &issue.clone().status("unresolved").assigned(Assigned::Absent), 400);
    assert_eq!(c["column"], "DOING");
    assert_eq!(c["assignee"], jane().on_board());
}

#[test]
fn a_status_webhook_for_an_unknown_issue_creates_the_card() {
    let conn = fresh_db();
    let c = send(&conn, "resolved", &Issue::new("113").status("resolved"), 100);
    assert_eq!(card_count(&conn), 1);
    assert_eq!(c["column"], "DONE");
    assert_eq!(c["title"], TITLE);
    assert_eq!(c["short_id"], "FRONT-END-113");
    assert_eq!(c["permalink"], Value::Null, "no URL was ever sent");
}

#[test]
fn an_older_created_does_not_reopen_a_resolved_card() {
    let conn = fresh_db();
    let issue = Issue::new("114");
    send(&conn, "resolved", &issue.clone().status("resolved"), 200);
    let c = send(&conn, "created", &issue.clone().title("stale title"), 100);
    assert_eq!(c["column"], "DONE");
    assert_eq!(c["status"], "resolved");
    assert_eq!(c["title"], TITLE, "a birth certificate never overwrites");
    assert_eq!(c["permalink"], "https://example.sentry.io/issues/114/", "it fills what was empty");
    assert_eq!(applied_at(&conn, "114"), at(200));
}

#[test]
fn a_retried_created_after_an_assignment_keeps_the_assignment() {
    let conn = fresh_db();
    let issue = Issue::new("119");
    let created = issue_body("created", &issue);
    deliver(&conn, created.as_bytes(), 100);
    send(&conn, "assigned", &issue.clone().to(&jane()), 200);
    // The retry of `created` is byte-identical, under a new Request-ID.
    let plan = deliver(&conn, created.as_bytes(), 300);
    assert_eq!(plan.verdict.outcome, "filled");
    let c = card(&conn, "119");
    assert_eq!((c["column"].as_str(), c["assignee"].clone()), (Some("DOING"), jane().on_board()));
}

/// Built before the assignment (nobody assigned) but delivered after it:
/// no header can tell, so the snapshot applies, and a worker with a token
/// re-reads the issue and settles to what Sentry says. Without a token the
/// late snapshot stands until the next sync.
#[test]
fn an_older_unresolve_does_not_undo_a_newer_assignment() {
    let conn = fresh_db();
    let issue = Issue::new("115");
    let now = issue.clone().status("unresolved").to(&jane());
    send_with_token(&conn, "assigned", &now, 300);
    let plan = send_with_token(&conn, "unresolved", &issue.clone().status("unresolved").assigned(Assigned::Null), 250);
    assert_eq!(plan.verdict.outcome, "applied");
    assert_eq!(requested(&conn), ["115"], "the change cannot be ordered: re-read");
    assert_eq!(serve(&conn, 260, |_| api(&now)), 1);
    let c = card(&conn, "115");
    assert_eq!(c["column"], "DOING");
    assert_eq!(c["assignee"], jane().on_board());

    // The same holds for a resolved card: an older unresolve leaves it DONE.
    let resolved = issue.clone().status("resolved").to(&jane());
    send_with_token(&conn, "resolved", &resolved, 400);
    serve(&conn, 410, |_| api(&resolved));
    send_with_token(&conn, "unresolved", &issue.clone().status("unresolved"), 350);
    serve(&conn, 420, |_| api(&resolved));
    assert_eq!(card(&conn, "115")["column"], "DONE");

    // Without a token: the late snapshot is applied; the sync corrects it.
    let conn = fresh_db();
    send(&conn, "assigned", &now, 300);
    let c = send(&conn, "unresolved", &issue.clone().status("unresolved").assigned(Assigned::Null), 250);
    assert_eq!(c["column"], "TODO");
    assert!(requested(&conn).is_empty());
}

/// Jane is assigned; the user unassigns her (no webhook); Sentry's retry of
/// the assignment arrives with `data.assignee` still Jane (frozen) and
/// `assignedTo: null` (serialised again). The card agrees with the frozen
/// field, so only the snapshot tells: it is re-read and settles unassigned.
#[test]
fn a_retried_assignment_after_an_unassignment_is_re_read() {
    let conn = fresh_db();
    let assigned = Issue::new("121").status("unresolved").to(&jane());
    send_with_token(&conn, "created", &Issue::new("121"), 100);
    send_with_token(&conn, "assigned", &assigned, 200);
    serve(&conn, 210, |_| api(&assigned));
    let retry = format!(
        r#"{{"action":"assigned","installation":{{"uuid":"{INSTALLATION}"}},"data":{{"assignee":{},"issue":{}}},"actor":{{"type":"user","id":1,"name":"Jane Doe"}}}}"#,
        jane().assignee_json(),
        Issue::new("121").status("unresolved").assigned(Assigned::Null).to_json(false)
    );
    deliver_full(&conn, &token_cfg(), "issue", retry.as_bytes(), arrival(500), &request_id());
    assert_eq!(card(&conn, "121")["assignee"], jane().on_board(), "the rule alone keeps the named assignee");
    assert_eq!(requested(&conn), ["121"]);
    let now = Issue::new("121").status("unresolved").assigned(Assigned::Null);
    assert_eq!(serve(&conn, 510, |_| api(&now)), 1);
    assert_eq!(card(&conn, "121")["assignee"], Value::Null);
}

/// With a token, bytes seen before are not written: a replayed capture does
/// not flip the card even for a moment; the re-read settles it.
#[test]
fn with_a_token_a_replayed_capture_never_flips_the_card() {
    let conn = fresh_db();
    let issue = Issue::new("122");
    send_with_token(&conn, "created", &issue, 100);
    let resolved = issue.clone().status("resolved");
    send_with_token(&conn, "resolved", &resolved, 200);
    serve(&conn, 210, |_| api(&resolved));
    let reopened = issue.clone().status("unresolved");
    send_with_token(&conn, "unresolved", &reopened, 300);
    serve(&conn, 310, |_| api(&reopened));
    let plan = send_with_token(&conn, "resolved", &resolved, 400);
    assert_eq!(plan.verdict.outcome, "repeat");
    assert_eq!(card(&conn, "122")["column"], "TODO", "not flipped");
    serve(&conn, 410, |_| api(&reopened));
    assert_eq!(card(&conn, "122")["column"], "TODO");
    // A real third resolve (the API agrees) ends DONE through the re-read.
    send_with_token(&conn, "resolved", &resolved, 500);
    serve(&conn, 510, |_| api(&resolved));
    assert_eq!(card(&conn, "122")["column"], "DONE");
}

#[test]
fn an_equal_timestamp_redelivery_is_idempotent() {
    let conn = fresh_db();
    let issue = Issue::new("116");
    send(&conn, "created", &issue, 100);
    let assigned = issue_body("assigned", &issue.clone().to(&jane()));
    deliver(&conn, assigned.as_bytes(), 300);
    let before = items(&conn);
    assert_eq!(before[0]["column"], "DOING");
    // The same bytes again (a new Request-ID) are applied again: same card.
    deliver(&conn, assigned.as_bytes(), 300);
    let without_time = |mut v: Vec<Value>| {
        v.iter_mut().for_each(|i| i["updated_at"] = Value::Null);
        v
    };
    assert_eq!(without_time(items(&conn)), without_time(before));
}

#[test]
fn an_exact_replay_changes_nothing_and_a_repeated_action_applies() {
    let conn = fresh_db();
    let issue = Issue::new("120");
    send(&conn, "created", &issue, 100);
    let resolved = issue_body("resolved", &issue.clone().status("resolved"));
    let unresolved = issue_body("unresolved", &issue.clone().status("unresolved"));
    let rid = request_id();
    let plan = deliver_full(&conn, &cfg(), "issue", resolved.as_bytes(), arrival(200), &rid);
    assert_eq!(plan.verdict.outcome, "applied");
    deliver(&conn, unresolved.as_bytes(), 300);
    assert_eq!(card(&conn, "120")["column"], "TODO");
    // An attacker replays the first delivery with its own headers: a no-op.
    let plan = deliver_full(&conn, &cfg(), "issue", resolved.as_bytes(), arrival(400), &rid);
    assert_eq!(plan.verdict.outcome, "duplicate");
    assert_eq!(card(&conn, "120")["column"], "TODO");
    // Sentry's third action (resolve again) has the same bytes, a new Request-ID.
    deliver(&conn, resolved.as_bytes(), 500);
    assert_eq!(card(&conn, "120")["column"], "DONE");
}

#[test]
fn a_missing_assigned_to_keeps_the_assignee_and_null_clears_it() {
    let conn = fresh_db();
    let issue = Issue::new("117");
    send(&conn, "assigned", &issue.clone().to(&backend_team()), 100);
    let c = send(&conn, "ignored", &issue.clone().status("ignored").assigned(Assigned::Absent), 200);
    assert_eq!(c["assignee"], backend_team().on_board(), "absent assignedTo means unchanged");
    assert_eq!(c["column"], "DOING");
    assert_eq!(c["ignored"], true);

    let c = send(&conn, "unresolved", &issue.clone().status("unresolved").assigned(Assigned::Null), 300);
    assert_eq!(c["assignee"], Value::Null, "assignedTo:null means nobody");
    assert_eq!(c["column"], "TODO");
    let raw = &db::rows(&conn, "SELECT assignee_type, assignee_id, assignee_name, assignee_email FROM cards")[0];
    assert!(raw.values().all(Value::is_null), "every assignee column is cleared: {raw:?}");
}

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
    assert_eq!(plan.verdict.outcome, "skipped");
    let plan = deliver_as(&conn, "preprod_artifact", issue_body("created", &Issue::new("141")).as_bytes(), 100);
    assert_eq!(plan.verdict.outcome, "skipped");
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

#[test]
fn the_literal_fixtures_drive_one_issue_through_its_life() {
    let conn = fresh_db();
    let steps: [(&str, i64, &str, bool, Value); 8] = [
        ("issue-created", 10, "TODO", false, Value::Null),
        ("issue-assigned", 20, "DOING", false, jane().on_board()),
        ("issue-assigned-team", 30, "DOING", false, backend_team().on_board()),
        ("issue-assigned", 40, "DOING", false, jane().on_board()),
        ("issue-resolved", 50, "DONE", false, jane().on_board()),
        ("issue-unresolved", 60, "DOING", false, jane().on_board()),
        ("issue-ignored", 70, "DOING", true, jane().on_board()),
        ("issue-archived", 80, "DOING", true, jane().on_board()),
    ];
    for (stem, t, column, ignored, assignee) in steps {
        let plan = deliver(&conn, &fixture(stem), t);
        assert_eq!(plan.reply.body["issue"], FIXTURE_ISSUE, "{stem}");
        let c = card(&conn, FIXTURE_ISSUE);
        assert_eq!(c["column"], column, "{stem}");
        assert_eq!(c["ignored"], ignored, "{stem}");
        assert_eq!(c["assignee"], assignee, "{stem}");
        assert_eq!(c["title"], TITLE, "{stem}");
        assert_eq!(c["first_seen"], "2019-08-19T20:58:37.391Z", "{stem}");
    }
    assert_eq!(card_count(&conn), 1);
    // Replaying the created delivery (a retry of a frozen body) changes nothing.
    let before = items(&conn);
    let plan = deliver(&conn, &fixture("issue-created"), 90);
    assert_eq!(plan.verdict.outcome, "filled");
    assert_eq!(items(&conn), before);
}

/// Whitespace outside JSON strings, if any: Sentry's bodies have none.
fn whitespace_outside_strings(body: &[u8]) -> Option<usize> {
    let (mut in_string, mut escaped) = (false, false);
    for (i, &b) in body.iter().enumerate() {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
        } else if b == b'"' {
            in_string = true;
        } else if b.is_ascii_whitespace() {
            return Some(i);
        }
    }
    None
}

#[test]
fn fixture_files_match_the_builder_and_look_like_sentry_bodies() {
    let regenerate = std::env::var_os("REGENERATE_FIXTURES").is_some();
    for (stem, body) in literal_fixtures() {
        if regenerate {
            std::fs::write(fixtures_dir().join(format!("{stem}.json")), &body).unwrap();
        }
        assert_eq!(
            String::from_utf8(fixture(stem)).unwrap(),
            body,
            "{stem}.json is stale; REGENERATE_FIXTURES=1 rewrites it"
        );
        assert!(body.is_ascii(), "{stem}: non-ASCII must be \\u-escaped");
        assert_eq!(whitespace_outside_strings(body.as_bytes()), None, "{stem}: not compact");
        assert!(body.contains(r#"TypeError: Caf\u00e9 \u2013 \u201cd\u00e9j\u00e0 vu\u201d \ud83d\ude00"#), "{stem}");
        let action = stem.trim_start_matches("issue-").trim_end_matches("-team");
        assert!(
            body.starts_with(&format!(r#"{{"action":"{action}","installation":{{"uuid":"{INSTALLATION}"}},"data":{{"#)),
            "{stem}"
        );
        let actor = body.rfind(r#","actor":{"#).expect("actor");
        assert!(body[actor..].matches('{').count() == 1 && body.ends_with("}}"), "{stem}: actor is last");
        let v: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{stem}: {e}"));
        assert_eq!(v["data"]["issue"]["title"], TITLE, "{stem}");
        assert_eq!(v.as_object().unwrap().len(), 4, "{stem}");
    }
    let created: Value = serde_json::from_slice(&fixture("issue-created")).unwrap();
    assert_eq!(created["data"]["issue"]["firstSeen"], "2019-08-19T20:58:37.391000+00:00");
    assert_eq!(created["data"]["issue"]["web_url"], "https://example.sentry.io/issues/1170820242/");
    let resolved: Value = serde_json::from_slice(&fixture("issue-resolved")).unwrap();
    assert_eq!(resolved["data"]["resolution_type"], "now");
    let assigned: Value = serde_json::from_slice(&fixture("issue-assigned")).unwrap();
    assert_eq!(
        assigned["data"]["assignee"],
        json!({"type": "user", "name": "Jane Doe", "id": 1, "email": "jane@example.com"})
    );
    let team: Value = serde_json::from_slice(&fixture("issue-assigned-team")).unwrap();
    assert_eq!(team["data"]["assignee"], json!({"type": "team", "name": "Backend", "id": 4}));
}

#[test]
fn js_escapes_like_python_ensure_ascii() {
    assert_eq!(js("Caf\u{e9}"), r#""Caf\u00e9""#);
    assert_eq!(js("\u{1f600}"), r#""\ud83d\ude00""#);
    assert_eq!(js("a\"b\\c\nd\u{1}\u{7f}/"), r#""a\"b\\c\nd\u0001\u007f/""#);
    for s in [TITLE, "\u{7f}\u{80}\u{ffff}\u{10000}\t\u{8}\u{c}", "'); DROP TABLE cards;--"] {
        assert_eq!(serde_json::from_str::<String>(&js(s)).unwrap(), s);
    }
}
