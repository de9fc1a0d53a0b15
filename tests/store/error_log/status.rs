//! A group's status follows its issue: from the card when the group is new,
//! then from the issue webhooks in order.

use super::*;

// ---- 4. status ----------------------------------------------------------------------

#[test]
fn a_new_group_takes_its_status_from_the_issue_card() {
    let conn = fresh_db();
    issue_hook(&conn, "resolved", "401", 100);
    issue_hook(&conn, "ignored", "402", 100);
    issue_hook(&conn, "created", "404", 100);
    issue_hook(&conn, "archived", "405", 100);
    assert_eq!(scalar(&conn, "SELECT COUNT(*) FROM error_groups"), 0, "issue webhooks create no group");

    ingest(
        &conn,
        &[
            rec("s1", "401", "2026-02-01T00:00:00.000Z"),
            rec("s2", "402", "2026-02-01T00:00:00.000Z"),
            rec("s3", "403", "2026-02-01T00:00:00.000Z"),
            rec("s4", "404", "2026-02-01T00:00:00.000Z"),
            rec("s5", "405", "2026-02-01T00:00:00.000Z"),
        ],
    );
    assert_eq!(status(&conn, "401"), "RESOLVED");
    assert_eq!(status(&conn, "402"), "IGNORED");
    assert_eq!(status(&conn, "403"), "OPEN", "no card");
    assert_eq!(status(&conn, "404"), "OPEN", "unresolved card");
    assert_eq!(status(&conn, "405"), "IGNORED", "archived is ignored");

    // Later batches add to the group but do not re-derive its status.
    ingest(&conn, &[rec("s6", "401", "2026-02-02T00:00:00.000Z")]);
    assert_eq!(status(&conn, "401"), "RESOLVED");
    assert_eq!(group(&conn, "401")["event_count"], 2);
}

#[test]
fn issue_webhooks_move_the_group_status_in_order() {
    let conn = fresh_db();
    ingest(&conn, &[rec("w1", "410", "2026-02-01T00:00:00.000Z")]);
    assert_eq!(status(&conn, "410"), "OPEN");

    issue_hook(&conn, "resolved", "410", 100);
    assert_eq!(status(&conn, "410"), "RESOLVED");
    assert_eq!(status_at(&conn, "410"), at(100));

    issue_hook(&conn, "unresolved", "410", 200);
    assert_eq!(status(&conn, "410"), "OPEN");

    issue_hook(&conn, "ignored", "410", 300);
    assert_eq!(status(&conn, "410"), "IGNORED");
    assert_eq!(status_at(&conn, "410"), at(300));

    // Older deliveries arrive late: their snapshots apply (nothing can order
    // them), and a worker with a token re-reads the issue (see below).
    issue_hook(&conn, "resolved", "410", 250);
    assert_eq!(status(&conn, "410"), "RESOLVED");
    assert_eq!(card_status(&conn, "410"), "resolved", "the card agrees");

    // The same delivery again is idempotent; a newer one applies.
    issue_hook(&conn, "ignored", "410", 300);
    assert_eq!(status(&conn, "410"), "IGNORED");
    issue_hook(&conn, "ignored", "410", 300);
    assert_eq!(status(&conn, "410"), "IGNORED");
    issue_hook(&conn, "unresolved", "410", 400);
    assert_eq!(status(&conn, "410"), "OPEN");
    assert!(status_at(&conn, "410") >= at(400));

    // Events keep coming; the status stays where the webhooks put it.
    ingest(&conn, &[rec("w2", "410", "2026-02-02T00:00:00.000Z")]);
    assert_eq!(status(&conn, "410"), "OPEN");
    assert_eq!(group(&conn, "410")["event_count"], 2);
}

#[test]
fn sync_status_without_a_group_creates_nothing() {
    let conn = fresh_db();
    issue_hook(&conn, "resolved", "420", 100);
    assert_eq!(scalar(&conn, "SELECT COUNT(*) FROM error_groups"), 0);
    run(&conn, &[errors::sync_status("421", "ignored", &at(100))]);
    assert_eq!(scalar(&conn, "SELECT COUNT(*) FROM error_groups"), 0);
    assert_eq!(scalar(&conn, "SELECT COUNT(*) FROM cards"), 1, "only the webhook's card");

    // The first event then takes the card's status.
    ingest(&conn, &[rec("n1", "420", "2026-02-01T00:00:00.000Z")]);
    assert_eq!(status(&conn, "420"), "RESOLVED");
}

/// A group created from a resolved card keeps the default `status_at`
/// (1970). An older issue delivery arriving afterwards moves card and group
/// together, never one without the other; a worker with a token re-reads
/// the issue, and both settle to Sentry's answer.
#[test]
fn an_older_delivery_after_the_group_was_created_from_its_card_does_not_reopen_it() {
    let conn = fresh_db();
    let resolved = Issue::new("430").status("resolved");
    let send = |issue: &Issue, action: &str, t| {
        let body = issue_body(action, issue);
        deliver_full(&conn, &token_cfg(), "issue", body.as_bytes(), arrival(t), &request_id())
    };
    send(&resolved, "resolved", 200);
    ingest(&conn, &[rec("o1", "430", "2026-02-01T00:00:00.000Z")]);
    assert_eq!(status(&conn, "430"), "RESOLVED");
    send(&Issue::new("430").status("unresolved"), "unresolved", 100);
    assert_eq!((card_status(&conn, "430").as_str(), status(&conn, "430").as_str()), ("unresolved", "OPEN"), "together");
    serve(&conn, 210, |_| Answer::issue(resolved.to_json(true)));
    assert_eq!(card_status(&conn, "430"), "resolved", "the card settles to the API");
    assert_eq!(status(&conn, "430"), "RESOLVED", "so does the group");
}
