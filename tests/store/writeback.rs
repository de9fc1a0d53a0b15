//! Board changes and their write-back on rusqlite with the real migrations:
//! the change shows at once, deliveries leave the pending fields alone until
//! the push is done, and a newer change supersedes an older job.

use crate::support;

use rusqlite::Connection;
use sentry_kanban::board::{Assignee, Status};
use sentry_kanban::sql::{SqlValue, Stmt};
use sentry_kanban::store::writeback as wb;
use sentry_kanban::writeback::{self as core, Change, Push, WriteBackJob};
use support::db::{self, card, fresh_db};
use support::hook::{at, cfg, deliver_as};
use support::sentry::{issue_body, jane, Issue};

fn change(conn: &Connection, id: &str, c: &Change, t: i64) -> Option<WriteBackJob> {
    let rows = db::query(conn, wb::BOARD_CHANGE, &wb::board_change_params(id, c, &at(t)));
    rows.first().map(|r| WriteBackJob {
        card: id.into(),
        requested_at: at(t),
        installation: r.get("installation_uuid").and_then(|v| v.as_str()).map(str::to_string),
    })
}

fn pending(conn: &Connection, id: &str) -> core::Pending {
    wb::pending_from_row(&db::query(conn, wb::PENDING, &[id.into()])[0])
}

fn resolve() -> Change {
    Change { status: Some(Status::Resolved), assignee: None, substatus: None }
}

fn send(conn: &Connection, action: &str, issue: &Issue, t: i64) {
    deliver_as(conn, "issue", issue_body(action, issue).as_bytes(), t);
}

fn settle(conn: &Connection, job: &WriteBackJob, status: &str, error: Option<&str>) {
    db::run(conn, &[wb::settle(job, status, error, &job.requested_at)]);
}

#[test]
fn a_change_moves_the_card_at_once_and_marks_it_pending() {
    let conn = fresh_db();
    send(&conn, "created", &Issue::new("100"), 0);
    let job = change(&conn, "100", &resolve(), 10).expect("card exists");
    let c = card(&conn, "100");
    assert_eq!(c["column"], "DONE");
    assert_eq!(c["writeback"]["state"], "pending");
    assert_eq!(c["writeback"]["at"], at(10));
    let p = pending(&conn, "100");
    assert!(p.push_status && !p.push_assignee);
    assert_eq!(p.writeback_at.as_deref(), Some(job.requested_at.as_str()));
    assert!(change(&conn, "nope", &resolve(), 10).is_none(), "no card, no job");
}

#[test]
fn deliveries_leave_pending_fields_alone_until_the_push_is_done() {
    let conn = fresh_db();
    send(&conn, "created", &Issue::new("101"), 0);
    let job = change(&conn, "101", &resolve(), 10).unwrap();
    // Sentry has not applied it yet: a newer delivery still says unresolved.
    send(&conn, "unresolved", &Issue::new("101").title("Renamed meanwhile"), 20);
    let c = card(&conn, "101");
    assert_eq!((c["column"].as_str(), c["title"].as_str()), (Some("DONE"), Some("Renamed meanwhile")));
    settle(&conn, &job, "done", None);
    assert_eq!(card(&conn, "101")["writeback"], serde_json::Value::Null);
    // Done: Sentry's state counts again.
    send(&conn, "unresolved", &Issue::new("101"), 30);
    assert_eq!(card(&conn, "101")["column"], "TODO");
}

#[test]
fn an_older_delivery_cannot_undo_a_board_change() {
    let conn = fresh_db();
    send(&conn, "created", &Issue::new("102"), 0);
    let job = change(&conn, "102", &resolve(), 50).unwrap();
    settle(&conn, &job, "done", None);
    send(&conn, "unresolved", &Issue::new("102"), 40);
    assert_eq!(card(&conn, "102")["column"], "DONE");
}

#[test]
fn assignments_are_kept_while_pending_and_unassigning_empties_the_card() {
    let conn = fresh_db();
    send(&conn, "created", &Issue::new("103"), 0);
    let ann = Assignee { kind: "user".into(), id: Some("9".into()), name: Some("Ann".into()), email: None };
    let job = change(&conn, "103", &Change { status: None, assignee: Some(Some(ann)), substatus: None }, 10).unwrap();
    send(&conn, "assigned", &Issue::new("103").to(&jane()), 20);
    assert_eq!(card(&conn, "103")["assignee"]["name"], "Ann", "the pending assignment wins");
    assert_eq!(core::body(&pending(&conn, "103")), serde_json::json!({"assignedTo": "user:9"}));
    settle(&conn, &job, "done", None);
    let job = change(&conn, "103", &Change { status: None, assignee: Some(None), substatus: None }, 30).unwrap();
    assert_eq!(card(&conn, "103")["column"], "TODO");
    assert_eq!(core::body(&pending(&conn, "103")), serde_json::json!({"assignedTo": ""}));
    settle(&conn, &job, "done", None);
}

#[test]
fn a_newer_change_supersedes_the_older_job_and_both_fields_are_sent() {
    let conn = fresh_db();
    send(&conn, "created", &Issue::new("104"), 0);
    let first = change(&conn, "104", &resolve(), 10).unwrap();
    let team = Assignee { kind: "team".into(), id: Some("4".into()), name: Some("web".into()), email: None };
    let second =
        change(&conn, "104", &Change { status: None, assignee: Some(Some(team)), substatus: None }, 11).unwrap();
    let card_now = pending(&conn, "104");
    assert_eq!(core::plan(&cfg(), &first, Some(&card_now)), Push::Skip("superseded by a newer change"));
    let Push::Send { body, .. } = core::plan(&cfg_with_org(), &second, Some(&card_now)) else {
        panic!("the newer job sends: {:?}", core::plan(&cfg_with_org(), &second, Some(&card_now)))
    };
    assert_eq!(body, serde_json::json!({"status": "resolved", "assignedTo": "team:4"}));
    // The older job's outcome never clears or marks the newer change.
    settle(&conn, &first, "failed", Some("late failure"));
    settle(&conn, &first, "done", None);
    assert_eq!(card(&conn, "104")["writeback"]["state"], "pending");
    settle(&conn, &second, "retrying", Some("update issue: HTTP 503"));
    let w = card(&conn, "104")["writeback"].clone();
    assert_eq!((w["state"].as_str(), w["error"].as_str()), (Some("retrying"), Some("update issue: HTTP 503")));
    settle(&conn, &second, "failed", Some("update issue: HTTP 403"));
    assert_eq!(card(&conn, "104")["writeback"]["state"], "failed");
    // A failed push no longer holds Sentry's state back.
    send(&conn, "unresolved", &Issue::new("104"), 60);
    assert_eq!(card(&conn, "104")["status"], "unresolved");
}

fn cfg_with_org() -> sentry_kanban::config::Config {
    sentry_kanban::config::Config {
        internal: Some(sentry_kanban::config::Internal { token: "t".into(), org_slug: "acme".into() }),
        ..cfg()
    }
}

#[test]
fn the_assignee_picker_offers_members_with_users_and_known_assignees() {
    let conn = fresh_db();
    let inst = support::sentry::INSTALLATION;
    send(&conn, "created", &Issue::new("105"), 0);
    send(&conn, "assigned", &Issue::new("106").to(&support::sentry::backend_team()), 0);
    let member = |id: &str, user: Option<&str>, name: &str| {
        Stmt {
        sql: "INSERT INTO members (installation_uuid, member_id, user_id, name, email, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, 'x')",
        params: vec![inst.into(), id.into(), user.map(str::to_string).into(), name.into(), SqlValue::Null],
    }
    };
    db::run(&conn, &[member("m1", Some("11"), "Bea"), member("m2", None, "Invited")]);
    let rows = db::query(&conn, wb::ASSIGNEES, &["105".into()]);
    let got: Vec<(String, String)> = rows
        .iter()
        .map(|r| (r["type"].as_str().unwrap().to_string(), r["name"].as_str().unwrap().to_string()))
        .collect();
    assert!(got.contains(&("user".into(), "Bea".into())), "{got:?}");
    assert!(got.iter().any(|(t, _)| t == "team"), "the team assigned on a card is offered: {got:?}");
    assert!(!got.iter().any(|(_, n)| n == "Invited"), "a pending invite has no user to assign: {got:?}");
}

/// A re-read (or a sync page) that read the issue before the push reached
/// Sentry, and writes after the push was done, must not undo the change:
/// settling moves `applied_at` to the moment Sentry answered.
#[test]
fn a_read_from_before_the_push_landed_cannot_undo_the_change() {
    use sentry_kanban::outbound::HttpReply;
    use sentry_kanban::sentry::reread::{self, RereadJob};
    let conn = fresh_db();
    send(&conn, "created", &Issue::new("105"), 0);
    let job = change(&conn, "105", &resolve(), 10).unwrap();
    // The read starts at 15 and sees Sentry before the push: unresolved.
    let old = HttpReply { status: 200, body: Issue::new("105").to_json(true), ..Default::default() };
    let state = reread::parse_issue(&old, None).unwrap();
    // The push is answered at 20 and settled.
    db::run(&conn, &[wb::settle(&job, "done", None, &at(20))]);
    // The read's batch commits at 25.
    let read = RereadJob { issue: "105".into(), installation: None };
    db::run(&conn, &reread::statements(state.as_ref(), None, &read, &at(15), &at(25)));
    assert_eq!(card(&conn, "105")["column"], "DONE", "the board's change stands");
}
