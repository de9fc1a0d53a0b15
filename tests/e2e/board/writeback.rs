//! Board changes written back to Sentry (the exact calls the mock received),
//! their failures shown on the card and retried, refused changes, the 304,
//! and the assignee picker.

use super::*;

#[test]
fn a_card_moved_to_done_is_resolved_in_sentry_and_the_echo_changes_nothing() {
    let app = internal_app();
    create(app, "7101");
    let r = act(app, "7101", r#"{"status":"resolved"}"#);
    assert_eq!(r.status, 202, "{}", r.body);
    assert_eq!(app.item("7101").unwrap()["column"], "DONE", "the board shows the move at once");
    let calls = wait_for_puts(app, "7101", 1);
    assert_eq!(body_of(&calls[0]), json!({"status": "resolved"}));
    let auth = calls[0].headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("Authorization")).map(|(_, v)| v.clone());
    assert_eq!(auth, Some(format!("Bearer {INTERNAL_TOKEN}")));
    let settled = writeback_settled(app, "7101");
    assert_eq!(settled["column"], "DONE");
    // Sentry echoes the change as a webhook, with our app as the actor.
    let echo = issue("resolved", "7101", "resolved")
        .replace(r#""id":"sentry","name":"Sentry""#, r#""id":"kanban-app","name":"sentry-kanban""#);
    assert_eq!(app.send_sentry("issue", &echo).status, 200);
    let after = app.item("7101").unwrap();
    assert_eq!((after["column"].as_str(), after["writeback"].is_null()), (Some("DONE"), true));
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(puts(app, "7101").len(), 1, "the echo made no further Sentry call");
}

#[test]
fn assign_unassign_ignore_and_reopen_are_written_back() {
    let app = internal_app();
    create(app, "7102");
    let steps: [(&str, Value, &str); 4] = [
        (
            r#"{"assignee":{"type":"user","id":"42","name":"Ann","email":"ann@example.com"}}"#,
            json!({"assignedTo":"user:42"}),
            "DOING",
        ),
        (r#"{"assignee":null}"#, json!({"assignedTo":""}), "TODO"),
        (r#"{"status":"ignored"}"#, json!({"status":"ignored"}), "TODO"),
        (r#"{"status":"unresolved"}"#, json!({"status":"unresolved"}), "TODO"),
    ];
    for (n, (change, sent, column)) in steps.iter().enumerate() {
        let r = act(app, "7102", change);
        assert_eq!(r.status, 202, "{change}: {}", r.body);
        let calls = wait_for_puts(app, "7102", n + 1);
        assert_eq!(&body_of(&calls[n]), sent, "{change}");
        let card = writeback_settled(app, "7102");
        assert_eq!(card["column"], *column, "{change}");
    }
    assert_eq!(app.item("7102").unwrap()["ignored"], false);
    let r = act(app, "7102", r#"{"status":"ignored"}"#);
    assert_eq!(r.status, 202);
    assert_eq!(app.item("7102").unwrap()["ignored"], true, "ignored shows at once");
    writeback_settled(app, "7102");
}

#[test]
fn a_failing_write_back_shows_on_the_card_retries_and_converges() {
    let app = internal_app();
    create(app, "7103");
    app.mock.route(Canned::new("PUT", &issue_path("7103"), 503, r#"{"detail":"down"}"#));
    assert_eq!(act(app, "7103", r#"{"status":"resolved"}"#).status, 202);
    let shown = app.wait_for("the retry shown on the card", Duration::from_secs(30), || {
        app.item("7103").filter(|c| c["writeback"]["state"] == "retrying")
    });
    assert!(shown["writeback"]["error"].as_str().unwrap_or("").contains("HTTP 503"), "{shown}");
    assert_eq!(shown["column"], "DONE", "the card stays where it was put");
    remove_route(app, &issue_path("7103"), 503);
    let card = writeback_settled(app, "7103");
    assert_eq!(card["column"], "DONE");
    assert!(puts(app, "7103").len() >= 2, "it was retried");
}

/// Drops one standing reply (others' routes stay): the mock recovers.
fn remove_route(app: &App, path: &str, status: u16) {
    app.mock.unroute(path, status);
}

#[test]
fn a_refused_write_back_marks_the_card_failed() {
    let app = internal_app();
    create(app, "7104");
    app.mock.route(Canned::new("PUT", &issue_path("7104"), 403, r#"{"detail":"You do not have permission"}"#));
    assert_eq!(act(app, "7104", r#"{"status":"resolved"}"#).status, 202);
    let card = app.wait_for("the failure on the card", Duration::from_secs(30), || {
        app.item("7104").filter(|c| c["writeback"]["state"] == "failed")
    });
    assert!(card["writeback"]["error"].as_str().unwrap_or("").contains("403"), "{card}");
    assert_eq!(puts(app, "7104").len(), 1, "a 403 is not retried");
}

#[test]
fn cross_origin_malformed_and_unknown_changes_are_refused() {
    let app = internal_app();
    create(app, "7105");
    let path = "/api/items/7105/actions";
    let body = br#"{"status":"resolved"}"#;
    let evil =
        app.request("POST", path, &[("Origin", "http://evil.example"), ("Content-Type", "application/json")], body);
    assert_eq!((evil.status, evil.json()["error"].as_str()), (403, Some("forbidden")), "{}", evil.body);
    let bare = app.request("POST", path, &[("Content-Type", "application/json")], body);
    assert_eq!(bare.status, 403, "no Origin and no Sec-Fetch-Site: {}", bare.body);
    let fetch_site = app.request("POST", path, &[("Sec-Fetch-Site", "cross-site")], body);
    assert_eq!(fetch_site.status, 403);
    assert_eq!(act(app, "7105", r#"{"status":"archived"}"#).status, 400);
    assert_eq!(act(app, "7105", "not json").status, 400);
    assert_eq!(act(app, "999999", r#"{"status":"resolved"}"#).status, 404);
    assert_eq!(act(app, "metric_alert:5", r#"{"status":"resolved"}"#).status, 400);
    let card = app.item("7105").unwrap();
    assert_eq!((card["column"].as_str(), card["writeback"].is_null()), (Some("TODO"), true), "nothing changed");
    std::thread::sleep(Duration::from_secs(1));
    assert!(puts(app, "7105").is_empty());
}

#[test]
fn an_unchanged_board_costs_a_304() {
    let app = internal_app();
    create(app, "7106");
    // Other tests share this worker and change its board now and then (their
    // deliveries, write-backs and re-reads): look for a quiet moment.
    let mut quiet = None;
    for _ in 0..20 {
        let first = app.request("GET", "/api/items", &[], b"");
        let tag = App::header(&first, "ETag").expect("an ETag").to_string();
        assert!(first.json()["synced_at"].is_null() || first.json()["synced_at"].is_string());
        let same = app.request("GET", "/api/items", &[("If-None-Match", &tag)], b"");
        if same.status == 304 {
            assert_eq!(same.body, "");
            quiet = Some(tag);
            break;
        }
        assert_eq!(same.status, 200, "{}", same.body);
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    let tag = quiet.expect("an unchanged board answers 304");
    create(app, "7107");
    let changed = app.request("GET", "/api/items", &[("If-None-Match", &tag)], b"");
    assert_eq!(changed.status, 200);
    assert_ne!(App::header(&changed, "ETag"), Some(tag.as_str()));
}

#[test]
fn the_assignee_picker_lists_known_assignees() {
    let app = internal_app();
    let assigned = issue("created", "7108", "unresolved").replace(
        r#""assignedTo":null"#,
        r#""assignedTo":{"type":"user","id":"77","name":"Zed","email":"zed@example.com"}"#,
    );
    assert_eq!(app.send_sentry("issue", &assigned).status, 200);
    let r = app.request("GET", "/api/items/7108/assignees", &[], b"");
    assert_eq!(r.status, 200, "{}", r.body);
    let list = r.json()["assignees"].as_array().cloned().unwrap_or_default();
    assert!(list.iter().any(|a| a["id"] == "77" && a["type"] == "user" && a["name"] == "Zed"), "{list:?}");
}
