//! Webhook health on SQLite with the real migrations (issue 20): what a
//! sync page finds the webhooks missed, counted before the page corrects it
//! (src/store/health.rs, `sentry::sync::page_batch`), the one read behind
//! `GET /api/webhook-health`, and the alarm state's once-only write.

use crate::support::db;

use db::{fresh_db, query, rows, run, run_counted, try_run_first_rows};
use rusqlite::Connection;
use sentry_kanban::board::{Assignee, AssigneeChange, IssueSnapshot, IssueState, Status};
use sentry_kanban::health::{self, Drift};
use sentry_kanban::log::DeliveryLog;
use sentry_kanban::outbound::HttpReply;
use sentry_kanban::sentry::sync::{page_batch, parse_page};
use sentry_kanban::store::{self, health as store_health, sync};
use sentry_kanban::time::{format_millis, Millis};
use serde_json::Value;

const NOW: Millis = 1_800_000_000_000;

fn at(ms: i64) -> String {
    format_millis(NOW + ms)
}

const MIN: i64 = 60_000;

/// A card as a webhook left it, applied at `applied_at`.
fn webhook_card(conn: &Connection, id: &str, status: Status, assignee: Option<(&str, &str)>, applied_at: &str) {
    let snapshot = IssueSnapshot { id: id.into(), title: Some(format!("Issue {id}")), ..IssueSnapshot::default() };
    let assignee = AssigneeChange::Set(assignee.map(|(kind, id)| Assignee {
        kind: kind.into(),
        id: Some(id.into()),
        name: Some(format!("{kind} {id}")),
        email: None,
    }));
    let state = IssueState { snapshot, status, assignee, birth: false };
    run(conn, &[store::upsert_card(&state, applied_at, applied_at)]);
}

/// Applies one page of issues (Sentry's JSON) for `run`, fetched at `fetched`.
fn apply_page(conn: &Connection, run_id: &str, body: &str, fetched: &str) {
    let reply = HttpReply { status: 200, body: body.into(), ..Default::default() };
    let page = parse_page(&reply, None).unwrap();
    run(conn, &page_batch(&page, run_id, fetched, &at(60 * MIN), fetched));
}

fn start(conn: &Connection, run_id: &str, t: &str) {
    run(conn, &[sync::start_run(run_id, "acme", None, "cron", t)]);
}

fn finish(conn: &Connection, run_id: &str, t: &str) {
    run(conn, &sync::finish(run_id, "done", None, t));
}

fn counts(conn: &Connection, run_id: &str) -> (i64, i64, i64) {
    let r = query(
        conn,
        "SELECT drift_missing, drift_status, drift_assignee FROM sync_runs WHERE id = ?1",
        &[run_id.into()],
    );
    let n = |k: &str| r[0][k].as_i64().unwrap();
    (n("drift_missing"), n("drift_status"), n("drift_assignee"))
}

fn card_state(conn: &Connection, id: &str) -> String {
    let r = query(conn, "SELECT status, IFNULL(assignee_id, '-') AS a FROM cards WHERE id = ?1", &[id.into()]);
    format!("{} {}", r[0]["status"].as_str().unwrap(), r[0]["a"].as_str().unwrap())
}

fn delivery(conn: &Connection, source: &str, t: &str) {
    delivery_of(conn, source, "issue", None, t);
}

fn delivery_of(conn: &Connection, source: &str, resource: &str, replay_of: Option<i64>, t: &str) {
    let d = DeliveryLog {
        received_at: t,
        source,
        resource: Some(resource),
        action: Some("resolved"),
        verdict: "applied",
        status: 200,
        request_id: Some("r"),
        detail: None,
        body_sha256: Some("abc"),
        latency_ms: 3,
        replay_of,
    };
    run(conn, &store::record_delivery(&d));
}

fn rejection(conn: &Connection, source: &str, t: &str) {
    let d = DeliveryLog {
        received_at: t,
        source,
        resource: Some("issue"),
        action: None,
        verdict: "rejected",
        status: 401,
        request_id: None,
        detail: Some("bad signature"),
        body_sha256: None,
        latency_ms: 1,
        replay_of: None,
    };
    run(conn, &store::record_delivery(&d));
}

fn facts(conn: &Connection) -> health::Facts {
    let rows = rows(conn, store_health::HEALTH);
    assert_eq!(rows.len(), 1, "the health read is one row, always");
    store_health::facts_from_row(rows.first())
}

const PAGE: &str = r#"[
    {"id":"1","status":"unresolved","firstSeen":"2027-01-15T07:00:00Z","assignedTo":null},
    {"id":"2","status":"unresolved","assignedTo":null},
    {"id":"3","status":"unresolved","assignedTo":{"type":"user","id":"8","name":"Bo"}},
    {"id":"4","status":"resolved","assignedTo":{"type":"user","id":"7","name":"Ann"}},
    {"id":"5","status":"ignored","assignedTo":{"type":"team","id":"9","name":"Core"}}
]"#;

#[test]
fn missing_status_and_assignee_drift_are_counted_once_per_issue_per_run_before_the_page_corrects_them() {
    let conn = fresh_db();
    let t0 = at(0);
    // 1: no card. 2: a resolve webhook the API contradicts. 3: assigned to
    // someone else. 4 and 5: the card agrees.
    webhook_card(&conn, "2", Status::Resolved, None, &t0);
    webhook_card(&conn, "3", Status::Unresolved, Some(("user", "7")), &t0);
    webhook_card(&conn, "4", Status::Resolved, Some(("user", "7")), &t0);
    webhook_card(&conn, "5", Status::Ignored, Some(("team", "9")), &t0);
    start(&conn, "r1", &at(MIN));
    apply_page(&conn, "r1", PAGE, &at(MIN));
    assert_eq!(counts(&conn, "r1"), (1, 1, 1));
    assert_eq!(card_state(&conn, "1"), "unresolved -");
    assert_eq!(card_state(&conn, "2"), "unresolved -", "the sync corrects what it counted");
    assert_eq!(card_state(&conn, "3"), "unresolved 8");

    // The same issues on a later page of the same run (Sentry's cursor can
    // show an issue twice) are not counted again: the cards now agree.
    apply_page(&conn, "r1", PAGE, &at(2 * MIN));
    assert_eq!(counts(&conn, "r1"), (1, 1, 1));
    let pages = query(&conn, "SELECT pages, issues FROM sync_runs WHERE id = ?1", &["r1".into()]);
    assert_eq!((pages[0]["pages"].as_i64(), pages[0]["issues"].as_i64()), (Some(2), Some(10)));
    finish(&conn, "r1", &at(3 * MIN));

    // The next run finds nothing; the first keeps its counts.
    start(&conn, "r2", &at(5 * MIN));
    apply_page(&conn, "r2", PAGE, &at(5 * MIN));
    assert_eq!(counts(&conn, "r2"), (0, 0, 0));
    assert_eq!(counts(&conn, "r1"), (1, 1, 1));
    // An issue that was missing in r1 and has drifted since counts only as
    // what it is now.
    webhook_card(&conn, "1", Status::Resolved, None, &at(6 * MIN));
    start(&conn, "r3", &at(7 * MIN));
    apply_page(&conn, "r3", PAGE, &at(7 * MIN));
    assert_eq!(counts(&conn, "r3"), (0, 1, 0));
    let listed = rows(&conn, sync::LIST_RUNS);
    let r1 = listed.iter().find(|r| r["id"] == "r1").unwrap();
    assert_eq!((&r1["drift_missing"], &r1["drift_status"], &r1["drift_assignee"]), (&1.into(), &1.into(), &1.into()));
}

#[test]
fn a_card_that_agrees_a_newer_card_or_a_pending_board_change_is_not_drift() {
    let conn = fresh_db();
    // Nobody on both sides; the same assignee; a team by id.
    webhook_card(&conn, "1", Status::Unresolved, None, &at(0));
    webhook_card(&conn, "4", Status::Resolved, Some(("user", "7")), &at(0));
    webhook_card(&conn, "5", Status::Ignored, Some(("team", "9")), &at(0));
    // Written by a webhook after the page was fetched: the page does not
    // overwrite it, so it has not drifted.
    webhook_card(&conn, "2", Status::Resolved, None, &at(2 * MIN));
    // A board change still being pushed to Sentry.
    webhook_card(&conn, "3", Status::Resolved, None, &at(0));
    conn.execute(
        "UPDATE cards SET writeback_status = 1, writeback_assignee = 1, writeback_state = 'pending' WHERE id = '3'",
        [],
    )
    .unwrap();
    start(&conn, "r1", &at(MIN));
    apply_page(&conn, "r1", PAGE, &at(MIN));
    assert_eq!(counts(&conn, "r1"), (0, 0, 0));
    assert_eq!(rows(&conn, "SELECT * FROM sync_drift").len(), 0, "nothing is recorded when the card agrees");
    assert_eq!(card_state(&conn, "2"), "resolved -", "the newer webhook state stays");
}

#[test]
fn the_health_read_finds_unreported_changes_until_a_verified_sentry_delivery_follows_them() {
    let conn = fresh_db();
    assert_eq!(facts(&conn), health::Facts::default(), "an empty database: nothing known");
    webhook_card(&conn, "2", Status::Resolved, None, &at(0));
    webhook_card(&conn, "3", Status::Unresolved, Some(("user", "7")), &at(0));
    webhook_card(&conn, "4", Status::Resolved, Some(("user", "7")), &at(0));
    webhook_card(&conn, "5", Status::Ignored, Some(("team", "9")), &at(0));
    // A GitHub delivery and a rejected Sentry request say nothing about Sentry.
    delivery(&conn, "github", &at(-5 * MIN));
    rejection(&conn, "sentry", &at(MIN / 2));
    start(&conn, "r1", &at(MIN));
    apply_page(&conn, "r1", PAGE, &at(MIN));
    finish(&conn, "r1", &at(2 * MIN));
    let f = facts(&conn);
    assert_eq!(f.sentry_verified_at, None);
    assert_eq!(f.github_verified_at, Some(at(-5 * MIN)));
    assert_eq!(f.unreported, 3);
    assert_eq!(f.unreported_since.as_deref(), Some("2027-01-15T07:00:00.000Z"), "issue 1's firstSeen");
    assert_eq!(f.drift, Drift { last_sync_at: Some(at(2 * MIN)), missing: 1, status: 1, assignee: 1 });
    assert_eq!(f.logged_alarm, None);
    let h = health::health(&f, NOW + 2 * MIN, 30);
    assert!(h.sentry.alarm, "{h:?}");
    assert!(h.sentry.reason.unwrap().starts_with("Sentry has 3 changes since 2027-01-15 07:00 UTC"));

    // A replay from the delivery page and a UI-component request are not
    // webhooks arriving: they lower nothing.
    delivery_of(&conn, "sentry", "issue", Some(1), &at(3 * MIN));
    delivery_of(&conn, "sentry", "ui_component", None, &at(3 * MIN));
    let f = facts(&conn);
    assert_eq!((f.unreported, f.sentry_verified_at.clone()), (3, None));

    // One verified Sentry delivery: every change before it counts as reported.
    delivery(&conn, "sentry", &at(3 * MIN));
    let f = facts(&conn);
    assert_eq!((f.unreported, f.sentry_verified_at.clone()), (0, Some(at(3 * MIN))));
    assert!(!health::health(&f, NOW + 3 * MIN, 30).sentry.alarm);

    // A drift found after it is unreported again, from the time it was found.
    webhook_card(&conn, "4", Status::Unresolved, Some(("user", "7")), &at(4 * MIN));
    start(&conn, "r2", &at(5 * MIN));
    apply_page(&conn, "r2", PAGE, &at(5 * MIN));
    finish(&conn, "r2", &at(6 * MIN));
    let f = facts(&conn);
    assert_eq!((f.unreported, f.unreported_since.clone()), (1, Some(at(5 * MIN))));
    assert_eq!(f.drift, Drift { last_sync_at: Some(at(6 * MIN)), missing: 0, status: 1, assignee: 0 });
}

#[test]
fn a_drift_found_again_keeps_its_first_time_while_no_delivery_followed_it() {
    let conn = fresh_db();
    let one = r#"[{"id":"2","status":"unresolved","assignedTo":null}]"#;
    for (n, run_id) in ["r1", "r2"].iter().enumerate() {
        let t = at(10 * MIN * n as i64);
        webhook_card(&conn, "2", Status::Resolved, None, &t);
        start(&conn, run_id, &at(10 * MIN * n as i64 + MIN));
        apply_page(&conn, run_id, one, &at(10 * MIN * n as i64 + MIN));
        assert_eq!(counts(&conn, run_id), (0, 1, 0));
    }
    assert_eq!(facts(&conn).unreported_since, Some(at(MIN)), "unreported since the first finding");
    delivery(&conn, "sentry", &at(20 * MIN));
    webhook_card(&conn, "2", Status::Resolved, None, &at(21 * MIN));
    start(&conn, "r3", &at(22 * MIN));
    apply_page(&conn, "r3", one, &at(22 * MIN));
    let f = facts(&conn);
    assert_eq!((f.unreported, f.unreported_since), (1, Some(at(22 * MIN))), "a new change after a delivery");
}

#[test]
fn an_unassignment_is_drift_but_not_evidence_of_silence() {
    let conn = fresh_db();
    webhook_card(&conn, "2", Status::Unresolved, Some(("user", "7")), &at(0));
    start(&conn, "r1", &at(MIN));
    apply_page(&conn, "r1", r#"[{"id":"2","status":"unresolved","assignedTo":null}]"#, &at(MIN));
    assert_eq!(counts(&conn, "r1"), (0, 0, 1));
    assert_eq!(card_state(&conn, "2"), "unresolved -");
    assert_eq!(facts(&conn).unreported, 0, "Sentry sends no webhook for an unassignment");
}

#[test]
fn a_missing_card_dates_from_its_first_seen_but_never_after_the_fetch() {
    let conn = fresh_db();
    start(&conn, "r1", &at(MIN));
    let future = r#"[{"id":"1","status":"unresolved","firstSeen":"2099-01-01T00:00:00Z"},{"id":"2"}]"#;
    apply_page(&conn, "r1", future, &at(MIN));
    let changed: Vec<Value> = rows(&conn, "SELECT changed_at FROM sync_drift ORDER BY issue_id")
        .into_iter()
        .map(|r| r["changed_at"].clone())
        .collect();
    assert_eq!(changed, [Value::from(at(MIN)), Value::from(at(MIN))], "a clock ahead, or no firstSeen: the fetch");
}

#[test]
fn the_alarm_state_changes_once_per_transition_and_rides_in_a_sync_batch() {
    let conn = fresh_db();
    let rec = |alarm, t: &str| run_counted(&conn, &[store_health::record_alarm("sentry", alarm, Some("why"), t)])[0];
    assert_eq!(rec(true, &at(0)), 1, "the first rise");
    assert_eq!(rec(true, &at(1)), 0, "a second reader that saw the same rise writes nothing");
    assert_eq!(facts(&conn).logged_alarm, Some(true));
    assert_eq!(rec(false, &at(2)), 1);
    assert_eq!(rec(false, &at(3)), 0);
    assert_eq!(facts(&conn).logged_alarm, Some(false));

    // The end of a run reads the health row in its own finishing batch.
    start(&conn, "r1", &at(MIN));
    let mut stmts = sync::finish("r1", "done", None, &at(2 * MIN));
    stmts.push(store_health::health_stmt());
    let first = try_run_first_rows(&conn, &stmts).unwrap();
    let f = store_health::facts_from_row(first.last().unwrap().as_ref());
    assert_eq!(f.drift.last_sync_at, Some(at(2 * MIN)), "the run just finished is the newest");
}
