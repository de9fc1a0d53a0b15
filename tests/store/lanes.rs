//! Sentry's lanes (issue 20, part 3) on rusqlite with the real migrations:
//! `priority` and `substatus` from every snapshot (webhook, sync page,
//! re-read) reach the card, a missing field keeps what the card has, the
//! `/api/items` filters are applied in SQL, and "archive until escalating"
//! made on the board is what the write-back job sends.

use crate::support;

use rusqlite::Connection;
use sentry_kanban::board::{ItemFilter, MetricAlert, MetricStatus, Status};
use sentry_kanban::outbound::HttpReply;
use sentry_kanban::sentry::{reread, sync};
use sentry_kanban::store::{self, writeback as wb};
use sentry_kanban::writeback::{self as core, Change, WriteBackJob};
use serde_json::{json, Value};
use support::db::{self, card, fresh_db};
use support::hook::{at, deliver_as};
use support::sentry::{issue_body, jane, Issue, INSTALLATION};

/// `issue_body(action, issue)` with `data.issue` fields set (`Value::Null`
/// sends null) or removed (`None`).
fn body(action: &str, issue: &Issue, fields: &[(&str, Option<Value>)]) -> String {
    let mut v: Value = serde_json::from_str(&issue_body(action, issue)).unwrap();
    let i = v["data"]["issue"].as_object_mut().unwrap();
    for (k, val) in fields {
        match val {
            Some(val) => i.insert(k.to_string(), val.clone()),
            None => i.remove(*k),
        };
    }
    v.to_string()
}

fn send(conn: &Connection, action: &str, issue: &Issue, fields: &[(&str, Option<Value>)], t: i64) -> Value {
    deliver_as(conn, "issue", body(action, issue, fields).as_bytes(), t);
    card(conn, &issue.id)
}

fn lanes(c: &Value) -> (Value, Value) {
    (c["substatus"].clone(), c["priority"].clone())
}

fn set(v: &str) -> Option<Value> {
    Some(json!(v))
}

#[test]
fn a_webhook_snapshot_carries_priority_and_substatus_and_missing_fields_keep_them() {
    let conn = fresh_db();
    let issue = Issue::new("2001");
    let c = send(&conn, "created", &issue, &[("priority", set("medium"))], 100);
    assert_eq!(lanes(&c), (json!("new"), json!("medium")));
    let escalating = issue.clone().status("unresolved");
    let c = send(&conn, "unresolved", &escalating, &[("substatus", set("escalating")), ("priority", set("high"))], 200);
    assert_eq!(lanes(&c), (json!("escalating"), json!("high")));
    // Same status, neither field in the snapshot: the card keeps both.
    let c = send(&conn, "unresolved", &escalating, &[("substatus", None), ("priority", None)], 300);
    assert_eq!(lanes(&c), (json!("escalating"), json!("high")));
    // A null priority is no priority: kept. A null substatus is Sentry's "none".
    let c = send(&conn, "resolved", &issue.clone().status("resolved"), &[("priority", Some(Value::Null))], 400);
    assert_eq!((c["column"].as_str(), lanes(&c)), (Some("DONE"), (Value::Null, json!("high"))));
}

#[test]
fn a_status_change_without_a_substatus_clears_the_old_one() {
    let conn = fresh_db();
    let issue = Issue::new("2002");
    send(&conn, "created", &issue, &[("substatus", set("regressed"))], 100);
    assert_eq!(card(&conn, "2002")["substatus"], "regressed");
    let c = send(&conn, "resolved", &issue.clone().status("resolved"), &[("substatus", None)], 200);
    assert_eq!(c["substatus"], Value::Null, "a resolved card is not regressed any more");
}

#[test]
fn a_birth_only_fills_an_empty_priority() {
    let conn = fresh_db();
    let issue = Issue::new("2003");
    // The assignment arrives first, without a priority.
    send(&conn, "assigned", &issue.clone().to(&jane()), &[("priority", None)], 100);
    assert_eq!(card(&conn, "2003")["priority"], Value::Null);
    let c = send(&conn, "created", &issue, &[("priority", set("low"))], 50);
    assert_eq!(c["priority"], "low", "the birth fills the empty priority");
    send(&conn, "unresolved", &issue.clone().to(&jane()), &[("priority", set("high"))], 200);
    let c = send(&conn, "created", &issue, &[("priority", set("low"))], 60);
    assert_eq!(c["priority"], "high", "a late birth certificate changes nothing");
}

#[test]
fn an_unknown_priority_is_kept_as_text_but_capped() {
    let conn = fresh_db();
    let issue = Issue::new("2004");
    let long = "critical".repeat(50);
    let c = send(&conn, "created", &issue, &[("priority", set(&long))], 100);
    let p = c["priority"].as_str().expect("kept as text");
    assert_eq!(p.chars().count(), sentry_kanban::board::MAX_PRIORITY_CHARS);
    assert!(long.starts_with(p));
    let c = send(&conn, "unresolved", &issue, &[("priority", Some(json!(3)))], 200);
    assert_eq!(c["priority"], p, "a number is no priority: kept");
}

#[test]
fn an_archived_card_that_escalates_comes_back_marked_escalating() {
    let conn = fresh_db();
    for (id, assigned, column) in [("2005", false, "TODO"), ("2006", true, "DOING")] {
        let mut issue = Issue::new(id);
        if assigned {
            issue = issue.to(&jane());
        }
        send(&conn, "created", &issue, &[], 100);
        let c = send(&conn, "ignored", &issue.clone().status("ignored"), &[], 200);
        assert_eq!((c["ignored"].as_bool(), c["substatus"].as_str()), (Some(true), Some("archived_until_escalating")));
        let back = issue.clone().status("unresolved");
        let c = send(&conn, "unresolved", &back, &[("substatus", set("escalating"))], 300);
        assert_eq!(c["ignored"], false, "{id}");
        assert_eq!(c["column"], column, "{id}");
        assert_eq!(c["substatus"], "escalating", "{id}");
    }
}

#[test]
fn the_sync_page_and_the_re_read_carry_priority_and_substatus() {
    let conn = fresh_db();
    let page = json!([
        {"id": "2007", "title": "from the sync", "status": "unresolved", "substatus": "escalating", "priority": "high"},
        {"id": "2008", "title": "no lanes", "status": "unresolved"},
    ]);
    let reply = HttpReply { status: 200, body: page.to_string(), ..Default::default() };
    let page = sync::parse_page(&reply, Some(INSTALLATION)).unwrap();
    db::run(&conn, &sync::page_statements(&page, "r1", &at(100), &at(1000), &at(100)));
    assert_eq!(lanes(&card(&conn, "2007")), (json!("escalating"), json!("high")));
    assert_eq!(lanes(&card(&conn, "2008")), (Value::Null, Value::Null));

    let read = json!({"id": "2008", "title": "re-read", "status": "ignored",
        "substatus": "archived_until_escalating", "priority": "low"});
    let reply = HttpReply { status: 200, body: read.to_string(), ..Default::default() };
    let state = reread::parse_issue(&reply, Some(INSTALLATION)).unwrap().expect("the issue");
    db::run(&conn, &[store::upsert_card(&state, &at(200), &at(200))]);
    let c = card(&conn, "2008");
    assert_eq!((c["ignored"].as_bool(), lanes(&c)), (Some(true), (json!("archived_until_escalating"), json!("low"))));
}

fn filtered(conn: &Connection, query: &[(&str, &str)]) -> Vec<String> {
    let f = ItemFilter::parse(query.iter().copied()).expect("a valid filter");
    let mut ids: Vec<String> = db::query(conn, store::LIST_ITEMS, &store::list_items_params(&f))
        .iter()
        .map(store::item_from_row)
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

#[test]
fn the_items_filters_keep_the_lanes_asked_for_in_sql() {
    let conn = fresh_db();
    for (id, sub, prio) in [
        ("3001", "escalating", "high"),
        ("3002", "regressed", "medium"),
        ("3003", "ongoing", "high"),
        ("3004", "new", "low"),
    ] {
        send(&conn, "created", &Issue::new(id), &[("substatus", set(sub)), ("priority", set(prio))], 100);
    }
    let alert = MetricAlert {
        id: "9".into(),
        status: MetricStatus::Critical,
        installation_uuid: Some(INSTALLATION.into()),
        rule: Some("p95".into()),
        title: None,
        detail: None,
        permalink: None,
        project: None,
        started_at: at(100),
    };
    db::run(&conn, &[store::metric_alert(&alert, &at(100), &at(100))]);
    assert_eq!(filtered(&conn, &[]).len(), 5, "no filter: every card, the alert too");
    assert_eq!(filtered(&conn, &[("substatus", "escalating")]), ["3001"]);
    assert_eq!(filtered(&conn, &[("substatus", "escalating,regressed")]), ["3001", "3002"]);
    assert_eq!(filtered(&conn, &[("priority", "high")]), ["3001", "3003"]);
    assert_eq!(filtered(&conn, &[("substatus", "escalating,regressed"), ("priority", "high")]), ["3001"]);
    assert_eq!(filtered(&conn, &[("priority", "low,medium")]), ["3002", "3004"]);
    assert!(filtered(&conn, &[("substatus", "archived_forever")]).is_empty());
    assert!(filtered(&conn, &[("priority", "high"), ("org", "no-such-org")]).is_empty(), "filters and org combine");
    assert_eq!(filtered(&conn, &[("substatus", ""), ("priority", "")]).len(), 5, "empty values filter nothing");
}

fn pending(conn: &Connection, id: &str) -> core::Pending {
    wb::pending_from_row(&db::query(conn, wb::PENDING, &[id.into()])[0])
}

fn change(conn: &Connection, id: &str, c: &Change, t: i64) -> WriteBackJob {
    let rows = db::query(conn, wb::BOARD_CHANGE, &wb::board_change_params(id, c, &at(t)));
    assert_eq!(rows.len(), 1, "card {id} exists");
    WriteBackJob { card: id.into(), requested_at: at(t), installation: Some(INSTALLATION.into()) }
}

fn archive_until_escalating() -> Change {
    core::parse_change(br#"{"status":"ignored","substatus":"archived_until_escalating"}"#).unwrap()
}

#[test]
fn archive_until_escalating_shows_at_once_and_is_what_the_job_sends() {
    let conn = fresh_db();
    let issue = Issue::new("4001");
    send(&conn, "created", &issue, &[("substatus", set("escalating"))], 100);
    let job = change(&conn, "4001", &archive_until_escalating(), 110);
    let c = card(&conn, "4001");
    assert_eq!((c["ignored"].as_bool(), c["substatus"].as_str()), (Some(true), Some("archived_until_escalating")));
    assert_eq!(
        core::body(&pending(&conn, "4001")),
        json!({"status": "ignored", "substatus": "archived_until_escalating"})
    );
    // Sentry has not applied it yet: a newer delivery leaves status and substatus alone.
    send(&conn, "unresolved", &issue.clone().status("unresolved"), &[("substatus", set("escalating"))], 120);
    let c = card(&conn, "4001");
    assert_eq!((c["status"].as_str(), c["substatus"].as_str()), (Some("ignored"), Some("archived_until_escalating")));
    db::run(&conn, &[wb::settle(&job, "done", None, &job.requested_at)]);
    // It escalates later: back on the board, marked.
    let c = send(&conn, "unresolved", &issue.clone().status("unresolved"), &[("substatus", set("escalating"))], 130);
    assert_eq!((c["ignored"].as_bool(), c["substatus"].as_str()), (Some(false), Some("escalating")));
}

#[test]
fn a_plain_status_change_sends_no_substatus_and_supersedes_an_archive() {
    let conn = fresh_db();
    send(&conn, "created", &Issue::new("4002"), &[], 100);
    change(&conn, "4002", &archive_until_escalating(), 110);
    let plain = Change { status: Some(Status::Ignored), ..Change::default() };
    change(&conn, "4002", &plain, 120);
    assert_eq!(core::body(&pending(&conn, "4002")), json!({"status": "ignored"}));
    assert_eq!(card(&conn, "4002")["substatus"], Value::Null, "Sentry will say which archive");
    change(&conn, "4002", &archive_until_escalating(), 130);
    let reopen = Change { status: Some(Status::Unresolved), ..Change::default() };
    change(&conn, "4002", &reopen, 140);
    assert_eq!(core::body(&pending(&conn, "4002")), json!({"status": "unresolved"}));
    // An assignment alone keeps the pending status change as it was.
    change(&conn, "4002", &archive_until_escalating(), 150);
    let assign = Change { assignee: Some(None), ..Change::default() };
    change(&conn, "4002", &assign, 160);
    assert_eq!(
        core::body(&pending(&conn, "4002")),
        json!({"status": "ignored", "substatus": "archived_until_escalating", "assignedTo": ""})
    );
}
