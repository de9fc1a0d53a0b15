//! Comments and alert cards as stored: signed `comment`, `event_alert` and
//! `metric_alert` deliveries go through the real `hook::handle`, the planned
//! statements run on SQLite with the real migrations, and the board is read
//! back with `LIST_ITEMS` + `LIST_COMMENTS` through `store::board_json`, and
//! a card's comments with `LIST_CARD_COMMENTS` through `store::comments_json`.

use crate::support;

use rusqlite::Connection;
use sentry_kanban::plan::Plan;
use sentry_kanban::store;
use serde_json::{json, Value};
use support::db::{self, fresh_db};
use support::hook::{arrival, at, deliver_as, deliver_full, request_id};
use support::reread::{requested, serve, token_cfg, Answer};
use support::sentry::{issue_body, jane, js, Issue, INSTALLATION};

/// Signs `body`, delivers it as `resource` arriving at `T0 + t`, runs the plan.
fn deliver(conn: &Connection, resource: &str, body: &str, t: i64) -> Plan {
    deliver_as(conn, resource, body.as_bytes(), t)
}

/// `GET /api/items`, as the worker builds it.
fn board(conn: &Connection) -> Vec<Value> {
    let items = db::rows(conn, store::LIST_ITEMS);
    let comments = db::rows(conn, store::LIST_COMMENTS);
    let body = store::board_json(&items, &comments);
    body["items"].as_array().expect("items array").clone()
}

fn item(conn: &Connection, id: &str) -> Value {
    let found: Vec<Value> = board(conn).into_iter().filter(|i| i["id"] == id).collect();
    assert_eq!(found.len(), 1, "items with id {id}: {found:?}");
    found.into_iter().next().unwrap()
}

fn count(conn: &Connection, table: &str) -> i64 {
    conn.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0)).expect("count")
}

fn create_issue(conn: &Connection, id: &str) {
    deliver(conn, "issue", &issue_body("created", &Issue::new(id)), 10);
}

/// A `comment.<action>` body as `build_comment_webhook` makes it: int ids.
fn comment_body(action: &str, comment_id: u64, issue_id: &str, text: &str, timestamp: &str) -> String {
    format!(
        r#"{{"action":{},"installation":{{"uuid":"{INSTALLATION}"}},"data":{{"comment_id":{comment_id},"issue_id":{issue_id},"project_slug":"front-end","timestamp":{},"comment":{}}},"actor":{{"type":"user","id":1,"name":"Jane Doe"}}}}"#,
        js(action),
        js(timestamp),
        js(text)
    )
}

/// `GET /api/items/{issue}/comments`, as the worker builds it. The card on
/// `/api/items` agrees on the count and the version.
fn comments(conn: &Connection, issue: &str) -> Value {
    let body = store::comments_json(&db::query(conn, store::LIST_CARD_COMMENTS, &[issue.into()]));
    let card = item(conn, issue);
    assert_eq!(card["comment_count"], json!(body["comments"].as_array().unwrap().len()), "{card}");
    assert_eq!(card["comments_version"], body["version"], "{card}");
    assert!(card.get("comments").is_none(), "the board does not carry the comments: {card}");
    body["comments"].clone()
}

const T_WRITTEN: &str = "2022-03-02T21:51:44.118160Z";
const T_EDITED: &str = "2022-03-02T22:00:00.000000Z";

#[test]
fn a_comment_shows_on_its_issue_card() {
    let conn = fresh_db();
    create_issue(&conn, "201");
    assert_eq!(comments(&conn, "201"), json!([]), "no comments: an empty array");
    let text = "Caf\u{e9} <b>bold</b> \u{1f600}";
    let plan = deliver(&conn, "comment", &comment_body("created", 1234, "201", text, T_WRITTEN), 100);
    assert_eq!(plan.verdict.outcome.as_str(), "applied");
    assert_eq!(
        comments(&conn, "201"),
        json!([{"id": "1234", "author": "Jane Doe", "text": text, "time": "2022-03-02T21:51:44.118Z"}])
    );
}

#[test]
fn an_update_edits_in_place_and_keeps_the_written_time() {
    let conn = fresh_db();
    create_issue(&conn, "202");
    deliver(&conn, "comment", &comment_body("created", 1, "202", "first", T_WRITTEN), 100);
    deliver(&conn, "comment", &comment_body("updated", 1, "202", "second", T_EDITED), 200);
    assert_eq!(
        comments(&conn, "202"),
        json!([{"id": "1", "author": "Jane Doe", "text": "second", "time": "2022-03-02T21:51:44.118Z"}])
    );
    // A retry of the first edit (the same frozen bytes) arriving late does
    // not overwrite the newer text.
    let first_edit = comment_body("updated", 1, "202", "first edit", T_EDITED);
    deliver(&conn, "comment", &first_edit, 150);
    deliver(&conn, "comment", &comment_body("updated", 1, "202", "second edit", T_EDITED), 160);
    let plan = deliver(&conn, "comment", &first_edit, 170);
    assert_eq!(plan.verdict.outcome.as_str(), "repeat");
    assert_eq!(comments(&conn, "202")[0]["text"], "second edit");
    assert_eq!(count(&conn, "comments"), 1);
}

/// An older edit that was never delivered before cannot be told from a new
/// one: with a token, the comments are read back and the API's text wins.
#[test]
fn with_a_token_a_late_older_edit_settles_to_the_api() {
    let conn = fresh_db();
    let issue = Issue::new("203");
    let created = issue_body("created", &issue);
    deliver_full(&conn, &token_cfg(), "issue", created.as_bytes(), arrival(1), &request_id());
    let send = |text: &str, t| {
        let body = comment_body("updated", 1, "203", text, T_EDITED);
        deliver_full(&conn, &token_cfg(), "comment", body.as_bytes(), arrival(t), &request_id())
    };
    send("second", 200);
    let plan = send("stale", 150);
    assert_eq!(plan.verdict.outcome.as_str(), "applied");
    assert_eq!(requested(&conn), ["203"]);
    let notes = r#"[{"id":"1","user":{"name":"Jane Doe"},"type":"note","data":{"text":"second"},"dateCreated":"2022-03-02T21:51:44.118160Z"}]"#;
    serve(&conn, 210, |_| Answer::issue(issue.to_json(true)).with_comments(notes));
    assert_eq!(comments(&conn, "203")[0]["text"], "second");
    assert!(requested(&conn).is_empty());
}

#[test]
fn a_duplicate_delivery_is_one_unchanged_comment() {
    let conn = fresh_db();
    create_issue(&conn, "203");
    let body = comment_body("created", 5, "203", "hello", T_WRITTEN);
    deliver(&conn, "comment", &body, 100);
    let before = board(&conn);
    deliver(&conn, "comment", &body, 100);
    deliver(&conn, "comment", &body, 300);
    assert_eq!(board(&conn), before);
    assert_eq!(count(&conn, "comments"), 1);
}

#[test]
fn the_board_carries_a_count_and_a_version_that_moves_only_with_the_comments() {
    let conn = fresh_db();
    create_issue(&conn, "206");
    let version = |conn: &Connection| item(conn, "206")["comments_version"].clone();
    assert_eq!((item(&conn, "206")["comment_count"].clone(), version(&conn)), (json!(0), Value::Null));
    deliver(&conn, "comment", &comment_body("created", 11, "206", "one", T_WRITTEN), 100);
    let v1 = version(&conn);
    assert!(v1.is_string(), "{v1}");
    deliver(&conn, "comment", &comment_body("updated", 11, "206", "one!", T_EDITED), 200);
    let v2 = version(&conn);
    assert_ne!(v1, v2, "an edit keeps the count but moves the version");
    assert_eq!(item(&conn, "206")["comment_count"], 1);
    deliver(&conn, "comment", &comment_body("updated", 11, "206", "one!", T_EDITED), 300);
    assert_eq!(version(&conn), v2, "a duplicate does not");
    assert_eq!(comments(&conn, "206")[0]["text"], "one!");
}

#[test]
fn deleted_removes_the_comment_and_nothing_revives_it() {
    let conn = fresh_db();
    create_issue(&conn, "204");
    deliver(&conn, "comment", &comment_body("created", 7, "204", "keep", T_WRITTEN), 100);
    deliver(&conn, "comment", &comment_body("created", 8, "204", "drop", T_WRITTEN), 100);
    deliver(&conn, "comment", &comment_body("deleted", 8, "204", "drop", T_EDITED), 300);
    let ids: Vec<Value> = comments(&conn, "204").as_array().unwrap().iter().map(|c| c["id"].clone()).collect();
    assert_eq!(ids, ["7"]);
    // An older update after the delete, and a retried one stamped later.
    deliver(&conn, "comment", &comment_body("updated", 8, "204", "zombie", T_WRITTEN), 200);
    deliver(&conn, "comment", &comment_body("updated", 8, "204", "zombie", T_WRITTEN), 400);
    deliver(&conn, "comment", &comment_body("created", 8, "204", "zombie", T_WRITTEN), 500);
    assert_eq!(comments(&conn, "204").as_array().unwrap().len(), 1);
    let raw = db::rows(&conn, "SELECT text, deleted FROM comments WHERE id = '8'");
    assert_eq!(raw[0]["text"], Value::Null, "the deleted text is not kept");
    assert_eq!(raw[0]["deleted"], 1);
}

#[test]
fn a_delete_before_the_create_arrives_still_wins() {
    let conn = fresh_db();
    create_issue(&conn, "205");
    deliver(&conn, "comment", &comment_body("deleted", 9, "205", "gone", T_EDITED), 300);
    deliver(&conn, "comment", &comment_body("created", 9, "205", "gone", T_WRITTEN), 100);
    assert_eq!(comments(&conn, "205"), json!([]));
}

#[test]
fn a_comment_on_an_issue_without_a_card_stores_nothing() {
    let conn = fresh_db();
    for action in ["created", "updated", "deleted"] {
        let plan = deliver(&conn, "comment", &comment_body(action, 11, "299", "orphan", T_WRITTEN), 100);
        assert_eq!(plan.reply.status, 200);
    }
    assert_eq!(count(&conn, "comments"), 0);
    assert!(board(&conn).is_empty());
}

#[test]
fn comments_are_ordered_by_time_and_stay_on_their_own_card() {
    let conn = fresh_db();
    create_issue(&conn, "206");
    create_issue(&conn, "207");
    deliver(&conn, "comment", &comment_body("created", 21, "206", "later", "2022-03-03T00:00:00Z"), 100);
    deliver(&conn, "comment", &comment_body("created", 22, "206", "earlier", "2022-03-02T00:00:00+00:00"), 110);
    deliver(&conn, "comment", &comment_body("created", 23, "207", "other", "2022-03-01T00:00:00Z"), 120);
    let texts: Vec<Value> = comments(&conn, "206").as_array().unwrap().iter().map(|c| c["text"].clone()).collect();
    assert_eq!(texts, ["earlier", "later"]);
    assert_eq!(comments(&conn, "207").as_array().unwrap().len(), 1);
}

#[test]
fn unknown_comment_actions_write_nothing() {
    let conn = fresh_db();
    create_issue(&conn, "208");
    let plan = deliver(&conn, "comment", &comment_body("reacted", 31, "208", "x", T_WRITTEN), 100);
    assert_eq!(plan.verdict.outcome.as_str(), "skipped");
    assert!(plan.statements.is_empty());
    assert_eq!(count(&conn, "comments"), 0);
}

// ---- Event alerts ----------------------------------------------------------

fn event_alert_body(issue_id: &str, event_id: &str, title: &str, datetime: &str, rule: &str) -> String {
    format!(
        r#"{{"action":"triggered","installation":{{"uuid":"{INSTALLATION}"}},"data":{{"event":{{"event_id":{ev},"issue_id":{issue},"culprit":"?(<anonymous>)","datetime":{dt},"level":"error","project":1,"tags":[["level","error"]],"title":{title},"issue_url":"https://sentry.io/api/0/issues/{issue_raw}/","web_url":"https://sentry.io/organizations/test-org/issues/{issue_raw}/events/{event_id}/"}},"triggered_rule":{rule}}},"actor":{{"type":"application","id":"sentry","name":"Sentry"}}}}"#,
        ev = js(event_id),
        issue = js(issue_id),
        dt = js(datetime),
        title = js(title),
        issue_raw = issue_id,
        rule = js(rule),
    )
}

const RULE: &str = "Very Important Alert Rule!";

fn event_card_id(issue: &str, rule: &str) -> String {
    format!("event_alert:{issue}:{rule}")
}

#[test]
fn an_event_alert_is_a_card_linked_to_its_issue() {
    let conn = fresh_db();
    create_issue(&conn, "301");
    let body =
        event_alert_body("301", "e1", "ReferenceError: heck is not defined", "2019-08-19T21:06:17.677000Z", RULE);
    let plan = deliver(&conn, "event_alert", &body, 100);
    assert_eq!(plan.verdict.outcome.as_str(), "applied");
    let a = item(&conn, &event_card_id("301", RULE));
    assert_eq!(a["kind"], "event_alert");
    assert_eq!(a["sentry_issue_id"], "301");
    assert_eq!(a["rule"], RULE);
    assert_eq!(a["title"], "ReferenceError: heck is not defined");
    assert_eq!(a["level"], "error");
    assert_eq!(a["column"], "TODO");
    assert_eq!(a["status"], "triggered");
    assert_eq!(a["ignored"], false);
    assert_eq!(a["assignee"], Value::Null);
    assert_eq!(a["short_id"], "FRONT-END-301", "the linked card's short id");
    assert_eq!(a["project"], "front-end");
    assert_eq!(a["permalink"], "https://sentry.io/organizations/test-org/issues/301/events/e1/");
    assert_eq!(a["trigger_count"], 1);
    assert_eq!(a["last_seen"], "2019-08-19T21:06:17.677Z");
    assert!(a.get("comments").is_none(), "alert items carry no comments");
    assert!(a.get("comment_count").is_none(), "nor a comment count");
    let issue = item(&conn, "301");
    assert_eq!(issue["kind"], "issue");
    assert_eq!(comments(&conn, "301"), json!([]));
}

#[test]
fn a_retrigger_updates_the_same_card_and_a_redelivery_counts_once() {
    let conn = fresh_db();
    let first = event_alert_body("302", "e1", "first title", "2019-08-19T21:06:17Z", RULE);
    deliver(&conn, "event_alert", &first, 100);
    deliver(&conn, "event_alert", &first, 150);
    let second = event_alert_body("302", "e2", "second title", "2019-08-20T08:00:00Z", RULE);
    deliver(&conn, "event_alert", &second, 200);
    assert_eq!(count(&conn, "alerts"), 1);
    let a = item(&conn, &event_card_id("302", RULE));
    assert_eq!(a["title"], "second title");
    assert_eq!(a["trigger_count"], 2);
    assert_eq!(a["first_seen"], "2019-08-19T21:06:17.000Z");
    assert_eq!(a["last_seen"], "2019-08-20T08:00:00.000Z");
    assert_eq!(a["short_id"], Value::Null, "no issue card to borrow one from");
    assert_eq!(a["sentry_issue_id"], "302");

    // An older trigger arriving late counts, but does not overwrite the card.
    let older = event_alert_body("302", "e0", "older title", "2019-08-18T00:00:00Z", RULE);
    deliver(&conn, "event_alert", &older, 50);
    let a = item(&conn, &event_card_id("302", RULE));
    assert_eq!(a["title"], "second title");
    assert_eq!(a["trigger_count"], 3);
    assert_eq!(a["first_seen"], "2019-08-18T00:00:00.000Z");

    // Another rule on the same issue is another card.
    deliver(&conn, "event_alert", &event_alert_body("302", "e2", "t", "2019-08-20T08:00:00Z", "Other rule"), 300);
    assert_eq!(count(&conn, "alerts"), 2);
    assert_eq!(board(&conn).len(), 2);
}

#[test]
fn an_event_alert_follows_its_issue_to_done() {
    let conn = fresh_db();
    let issue = Issue::new("303");
    create_issue(&conn, "303");
    deliver(&conn, "event_alert", &event_alert_body("303", "e1", "t", "2019-08-19T21:06:17Z", RULE), 100);
    deliver(&conn, "issue", &issue_body("assigned", &issue.clone().to(&jane())), 150);
    assert_eq!(item(&conn, &event_card_id("303", RULE))["column"], "TODO", "alert cards are never DOING");
    deliver(&conn, "issue", &issue_body("resolved", &issue.clone().status("resolved")), 200);
    assert_eq!(item(&conn, &event_card_id("303", RULE))["column"], "DONE");
    assert_eq!(item(&conn, "303")["column"], "DONE");
}

// ---- Metric alerts ---------------------------------------------------------

fn metric_body(action: &str, id: &str) -> String {
    let title = match action {
        "resolved" => "Resolved",
        "critical" => "Critical",
        _ => "Warning",
    };
    format!(
        r#"{{"action":{},"installation":{{"uuid":"{INSTALLATION}"}},"data":{{"metric_alert":{{"id":{},"identifier":"1","organization_id":"5","projects":["bar"],"status":2,"status_method":3,"title":"Sacred Marmot","type":2,"date_started":"2020-09-13T12:26:40.000000Z","date_detected":"2020-09-13T12:26:40.000000Z","date_closed":null,"alert_rule":{{"id":"7","name":"Too many errors","aggregate":"count()","triggers":[]}}}},"description_text":"1000 events in the last 10 minutes\nFilter: level:error","description_title":"{title}: Too many errors","web_url":"https://sentry.io/organizations/baz/alerts/1/"}},"actor":{{"type":"application","id":"sentry","name":"Sentry"}}}}"#,
        js(action),
        js(id)
    )
}

#[test]
fn a_metric_alert_goes_critical_warning_resolved_on_one_card() {
    let conn = fresh_db();
    let id = "metric_alert:4";
    deliver(&conn, "metric_alert", &metric_body("critical", "4"), 100);
    let a = item(&conn, id);
    assert_eq!(a["kind"], "metric_alert");
    assert_eq!(a["column"], "TODO");
    assert_eq!(a["level"], "fatal");
    assert_eq!(a["status"], "critical");
    assert_eq!(a["title"], "Too many errors");
    assert_eq!(a["culprit"], "1000 events in the last 10 minutes\nFilter: level:error");
    assert_eq!(a["permalink"], "https://sentry.io/organizations/baz/alerts/1/");
    assert_eq!(a["project"], "bar");
    assert_eq!(a["sentry_issue_id"], Value::Null);
    assert_eq!(a["assignee"], Value::Null);
    assert_eq!(a["ignored"], false);
    assert_eq!(a["first_seen"], "2020-09-13T12:26:40.000Z");
    assert_eq!(a["last_seen"], at(100));

    deliver(&conn, "metric_alert", &metric_body("warning", "4"), 200);
    let a = item(&conn, id);
    assert_eq!(
        (a["column"].as_str(), a["level"].as_str(), a["status"].as_str()),
        (Some("TODO"), Some("warning"), Some("warning"))
    );

    deliver(&conn, "metric_alert", &metric_body("resolved", "4"), 300);
    let a = item(&conn, id);
    assert_eq!(a["column"], "DONE");
    assert_eq!(a["status"], "resolved");
    assert_eq!(a["level"], "warning", "resolved keeps the last level shown");
    assert_eq!(count(&conn, "alerts"), 1);
    assert_eq!(board(&conn).len(), 1);
}

#[test]
fn an_older_metric_delivery_does_not_undo_a_newer_one() {
    let conn = fresh_db();
    let id = "metric_alert:5";
    deliver(&conn, "metric_alert", &metric_body("resolved", "5"), 300);
    deliver(&conn, "metric_alert", &metric_body("critical", "5"), 100);
    deliver(&conn, "metric_alert", &metric_body("warning", "5"), 200);
    let a = item(&conn, id);
    assert_eq!(a["column"], "DONE");
    assert_eq!(a["status"], "resolved");
    assert_eq!(a["level"], "info", "never critical or warning as of its newest state");
    let before = board(&conn);
    deliver(&conn, "metric_alert", &metric_body("resolved", "5"), 300);
    assert_eq!(board(&conn), before, "a redelivery changes nothing");

    // A new incident of the same rule is another card; open reads as warning.
    deliver(&conn, "metric_alert", &metric_body("open", "6"), 400);
    let b = item(&conn, "metric_alert:6");
    assert_eq!((b["status"].as_str(), b["level"].as_str()), (Some("warning"), Some("warning")));
}

#[test]
fn issue_cards_alert_cards_and_comments_share_one_board() {
    let conn = fresh_db();
    create_issue(&conn, "401");
    deliver(&conn, "comment", &comment_body("created", 41, "401", "looking", T_WRITTEN), 100);
    deliver(&conn, "event_alert", &event_alert_body("401", "e1", "t", "2019-08-19T21:06:17Z", RULE), 100);
    deliver(&conn, "metric_alert", &metric_body("critical", "9"), 100);
    let items = board(&conn);
    let mut kinds: Vec<&str> = items.iter().map(|i| i["kind"].as_str().unwrap()).collect();
    kinds.sort();
    assert_eq!(kinds, ["event_alert", "issue", "metric_alert"]);
    // The worker's plain item mapping sees the same items, minus the
    // comment count and version.
    let plain: Vec<Value> = db::rows(&conn, store::LIST_ITEMS).iter().map(store::item_from_row).collect();
    for (with, without) in items.iter().zip(&plain) {
        let mut stripped = with.clone();
        stripped.as_object_mut().unwrap().remove("comment_count");
        stripped.as_object_mut().unwrap().remove("comments_version");
        assert_eq!(&stripped, without);
    }
    assert_eq!(comments(&conn, "401")[0]["text"], "looking");
}
