//! The UI components' queries (options for issues and users, at most a
//! hundred rows) and the issue links' cards.

use super::*;

// ---- 9. UI queries -------------------------------------------------------

fn option_items(conn: &Connection, installation: &str, q: Option<&str>) -> Vec<String> {
    query(conn, inst::OPTION_ITEMS, &[installation.into(), inst::like_pattern(q).into()])
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn option_items_filter_by_installation_and_query() {
    let conn = fresh_db();
    insert_card(&conn, "1", Some("u1"), "FRONT-1", "TypeError in Checkout", &ts(1));
    insert_card(&conn, "2", Some("u1"), "BACK-2", "Database timeout", &ts(2));
    insert_card(&conn, "3", Some("u2"), "FRONT-3", "TypeError elsewhere", &ts(3));
    insert_card(&conn, "4", None, "FRONT-4", "TypeError unowned", &ts(4));

    assert_eq!(option_items(&conn, "u1", None), ["2", "1"], "all of u1's, newest first");
    assert_eq!(option_items(&conn, "u1", Some("typeerror")), ["1"], "title, case-insensitive");
    assert_eq!(option_items(&conn, "u1", Some("  back-")), ["2"], "short id, trimmed, case-insensitive");
    assert_eq!(option_items(&conn, "u1", Some("CHECKOUT")), ["1"]);
    assert!(option_items(&conn, "u1", Some("nothing")).is_empty());
    assert_eq!(option_items(&conn, "u2", Some("typeerror")), ["3"]);
    let cols = query(&conn, inst::OPTION_ITEMS, &["u1".into(), "%".into()]);
    assert_eq!(
        cols[0],
        json!({"id": "2", "short_id": "BACK-2", "title": "Database timeout"}).as_object().unwrap().clone()
    );
}

#[test]
fn option_items_take_like_wildcards_literally() {
    let conn = fresh_db();
    insert_card(&conn, "1", Some("u1"), "A-1", "50% off", &ts(1));
    insert_card(&conn, "2", Some("u1"), "A-2", "500 off", &ts(2));
    insert_card(&conn, "3", Some("u1"), "A-3", "snake_case", &ts(3));
    insert_card(&conn, "4", Some("u1"), "A-4", "snakeXcase", &ts(4));
    insert_card(&conn, "5", Some("u1"), "A-5", "path\\to", &ts(5));
    insert_card(&conn, "6", Some("u1"), "A-6", "pathXto", &ts(6));
    assert_eq!(option_items(&conn, "u1", Some("50%")), ["1"]);
    assert_eq!(option_items(&conn, "u1", Some("%")), ["1"]);
    assert_eq!(option_items(&conn, "u1", Some("e_c")), ["3"]);
    assert_eq!(option_items(&conn, "u1", Some("h\\t")), ["5"]);
    assert_eq!(option_items(&conn, "u1", Some("50")), ["2", "1"], "without wildcards both match");
}

#[test]
fn option_users_union_members_and_card_assignees() {
    let conn = fresh_db();
    run(
        &conn,
        &[
            inst::upsert_member("u1", &member("m1", Some("1"), Some("Jane Doe"), Some("jane@example.com")), &ts(1)),
            inst::upsert_member("u1", &member("m2", None, Some(""), Some("pending@example.com")), &ts(1)),
            inst::upsert_member(
                "u1",
                &member("m5", Some("5"), Some("carol@example.com"), Some("carol@example.com")),
                &ts(1),
            ),
            inst::upsert_member("u2", &member("m3", Some("3"), Some("Other Org"), None), &ts(1)),
        ],
    );
    insert_card(&conn, "10", Some("u1"), "A-10", "one", &ts(1));
    insert_card(&conn, "11", Some("u1"), "A-11", "two", &ts(2));
    insert_card(&conn, "12", Some("u1"), "A-12", "three", &ts(3));
    insert_card(&conn, "13", Some("u2"), "B-13", "four", &ts(4));
    insert_card(&conn, "14", Some("u1"), "A-14", "five", &ts(5));
    // Jane, also a member (same user id, differently spelled): one option.
    assign(&conn, "10", "user", "1", Some("Jane D."), Some("jane@example.com"));
    // Someone assigned before the first member sync.
    assign(&conn, "11", "user", "7", None, Some("bob@example.com"));
    // Teams and other installations' assignees are not user options.
    assign(&conn, "12", "team", "4", Some("Backend"), None);
    assign(&conn, "13", "user", "8", Some("Elsewhere"), None);
    // The same unsynced user on two cards: one option.
    assign(&conn, "14", "user", "7", None, Some("bob@example.com"));

    let users = query(&conn, inst::OPTION_USERS, &["u1".into(), inst::like_pattern(None).into()]);
    let values: Vec<&str> = users.iter().map(|r| r["value"].as_str().unwrap()).collect();
    let mut sorted = values.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), values.len(), "deduped by value: {users:?}");
    // Issue 17: the pending invite m2 has no user to assign, so it is no
    // longer offered (it used to be, under its email).
    assert_eq!(sorted, ["1", "5", "7"], "{users:?}");
    let label = |v: &str| users.iter().find(|r| r["value"] == v).unwrap()["label"].clone();
    assert_eq!(label("1"), "Jane Doe", "the member's own name wins over an assignee spelling: {users:?}");
    // Issue 17: the select answer is replayable, so no email leaves, not
    // even as the fallback label or as a name that is an email.
    assert_eq!(label("7"), "User 7", "no name: the id, not the email");
    assert_eq!(label("5"), "User 5", "a name that is an email is not shown");
    assert!(!format!("{users:?}").contains('@'), "an email reached the options: {users:?}");

    // Emails are not searchable either (a replayed request would be an
    // oracle for who is in the organization).
    let bob = query(&conn, inst::OPTION_USERS, &["u1".into(), inst::like_pattern(Some("BOB")).into()]);
    assert!(bob.is_empty(), "{bob:?}");
    let by_label = query(&conn, inst::OPTION_USERS, &["u1".into(), inst::like_pattern(Some("user 7")).into()]);
    assert_eq!(field(&by_label, "value"), [&json!("7")]);
    let jane = query(&conn, inst::OPTION_USERS, &["u1".into(), inst::like_pattern(Some("jane")).into()]);
    assert_eq!(field(&jane, "value"), [&json!("1")]);
    let none = query(&conn, inst::OPTION_USERS, &["u1".into(), inst::like_pattern(Some("Backend")).into()]);
    assert!(none.is_empty(), "{none:?}");
}

#[test]
fn option_queries_answer_at_most_a_hundred_rows() {
    let conn = fresh_db();
    for i in 0..150 {
        insert_card(&conn, &format!("{}", 1000 + i), Some("u1"), &format!("A-{i}"), "same title", &ts(i));
        let m = member(&format!("m{i}"), Some(&format!("{i}")), Some(&format!("Person {i}")), None);
        run(&conn, &[inst::upsert_member("u1", &m, &ts(1))]);
    }
    assert_eq!(option_items(&conn, "u1", None).len(), 100);
    assert_eq!(query(&conn, inst::OPTION_USERS, &["u1".into(), inst::like_pattern(None).into()]).len(), 100);
}

// ---- 10. Linked cards and links ------------------------------------------

fn linked(id: &str, title: &str) -> inst::LinkedCard {
    inst::LinkedCard {
        issue_id: id.into(),
        installation: Some(INSTALLATION.into()),
        title: title.into(),
        permalink: Some(format!("https://example.sentry.io/issues/{id}/")),
        project_id: Some("1".into()),
        project_slug: Some("front-end".into()),
    }
}

#[test]
fn a_linked_card_is_overwritten_by_the_next_issue_webhook() {
    let conn = fresh_db();
    run(&conn, &[inst::create_linked_card(&linked("401", "Linked from Sentry"), &ts(1))]);
    let c = card(&conn, "401");
    assert_eq!(c["title"], "Linked from Sentry");
    assert_eq!(c["status"], "unresolved");
    assert_eq!(c["installation"], INSTALLATION);
    assert_eq!(c["project"], "front-end");
    let applied: String =
        conn.query_row("SELECT applied_at FROM cards WHERE id = '401'", [], |r| r.get(0)).expect("applied_at");
    assert_eq!(applied, "1970-01-01T00:00:00.000Z");

    let issue = Issue::new("401").status("resolved").title("Real title").to(&jane());
    deliver_as(&conn, "issue", issue_body("resolved", &issue).as_bytes(), 100);
    let c = card(&conn, "401");
    assert_eq!(c["title"], "Real title");
    assert_eq!(c["status"], "resolved");
    assert_eq!(c["column"], "DONE");
    assert_eq!(c["short_id"], "FRONT-END-401");
    assert_eq!(c["permalink"], "https://example.sentry.io/issues/401/", "kept from the link");
    let applied: String =
        conn.query_row("SELECT applied_at FROM cards WHERE id = '401'", [], |r| r.get(0)).expect("applied_at");
    assert_eq!(applied, at(100));
}

#[test]
fn create_linked_card_leaves_an_existing_card_alone() {
    let conn = fresh_db();
    deliver_as(&conn, "issue", issue_body("created", &Issue::new("402")).as_bytes(), 100);
    let before = items(&conn);
    let raw_before = rows(&conn, "SELECT * FROM cards");
    run(&conn, &[inst::create_linked_card(&linked("402", "Other title"), &ts(1))]);
    assert_eq!(items(&conn), before);
    assert_eq!(rows(&conn, "SELECT * FROM cards"), raw_before);
    assert_ne!(before[0]["title"], "Other title");
    assert_eq!(query(&conn, inst::CARD_EXISTS, &["402".into()]).len(), 1);
    assert!(query(&conn, inst::CARD_EXISTS, &["403".into()]).is_empty());
}

#[test]
fn link_is_idempotent() {
    let conn = fresh_db();
    run(&conn, &[inst::create_linked_card(&linked("403", "t"), &ts(1)), inst::link("403", "403", Some("u1"), &ts(1))]);
    run(&conn, &[inst::link("403", "403", Some("u1"), &ts(2))]);
    let links = rows(&conn, "SELECT * FROM issue_links");
    assert_eq!(links.len(), 1);
    assert_eq!(links[0]["created_at"], ts(1), "the first link is kept");
    assert_eq!(links[0]["installation_uuid"], "u1");
    run(&conn, &[inst::link("403", "other-card", None, &ts(3))]);
    assert_eq!(rows(&conn, "SELECT * FROM issue_links").len(), 2, "another card is another link");
}
