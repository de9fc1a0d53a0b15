//! Deliveries that arrive late, retried or replayed: the order guard, and a
//! worker with a token re-reading what no header can order.

use super::*;

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
    assert_eq!(plan.verdict.outcome.as_str(), "applied");
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
    assert_eq!(plan.verdict.outcome.as_str(), "repeat");
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
    assert_eq!(plan.verdict.outcome.as_str(), "applied");
    deliver(&conn, unresolved.as_bytes(), 300);
    assert_eq!(card(&conn, "120")["column"], "TODO");
    // An attacker replays the first delivery with its own headers: a no-op.
    let plan = deliver_full(&conn, &cfg(), "issue", resolved.as_bytes(), arrival(400), &rid);
    assert_eq!(plan.verdict.outcome.as_str(), "duplicate");
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
