//! An issue's life on its card: created, assigned (to a user or a team),
//! resolved, ignored and reopened, each delivery once or twice.

use super::*;

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
    assert_eq!(plan.verdict.outcome.as_str(), "filled");
    let c = card(&conn, "119");
    assert_eq!((c["column"].as_str(), c["assignee"].clone()), (Some("DOING"), jane().on_board()));
}
