//! A card opened on the board: its comments, loaded when opened and
//! following an edit, and its history told in words.

use super::*;

/// Issue 17.5: the board gets each card's comment count with the cards and
/// loads a card's comments only when they are opened; an edit made while
/// they are open shows on the next poll.
#[test]
fn a_cards_comments_load_when_opened_and_follow_an_edit() {
    let a = board_app();
    let id = "771601";
    send_issue(a, id, "unresolved", "TypeError: comments 771601", "browser-comments");
    let comment = |action: &str, text: &str, ago: i64| {
        let body = format!(
            r#"{{"action":"{action}","installation":{{"uuid":"browser-inst"}},"data":{{"comment":"{text}","project_slug":"x","comment_id":771601,"issue_id":{id},"timestamp":"2022-03-02T21:51:44.118160Z"}},"actor":{{"type":"user","id":1,"name":"colleen"}}}}"#
        );
        let r = a.send_sentry_at("comment", &body, Some(past(ago)));
        assert_eq!(r.status, 200, "{}", r.body);
    };
    comment("created", "first look", 30);

    let b = Browser::new();
    b.goto(&url(a, "/"));
    wait_cards(&b, &[(id, "TODO")]);
    let summary = b.wait_find(&format!("article.card[data-id=\"{id}\"] details.comments summary"), WAIT);
    assert_eq!(b.text(&summary), "1 comment");
    let text_css = format!("article.card[data-id=\"{id}\"] .comment-text");
    assert!(b.try_find(&text_css).is_none(), "the comments were loaded before they were opened");
    b.click(&summary);
    let shown = |want: &'static str| {
        let css = text_css.clone();
        move |b: &Browser| b.try_find(&css).and_then(|e| b.try_text(&e)).filter(|t| t == want)
    };
    b.wait_for("the comment, once opened", WAIT, shown("first look"));
    comment("updated", "second look", 20);
    b.wait_for("the edited comment", WAIT, shown("second look"));
}

/// A card's History, opened on the board, tells its changes in words:
/// Sentry's assignment, the move made on the board, Sentry re-opening it.
#[test]
fn a_cards_history_shows_who_moved_it_and_how() {
    let a = board_app();
    let id = "771801";
    send_assigned(a, id, "TypeError: history 771801", "browser-history");
    let b = Browser::new();
    b.goto(&url(a, "/"));
    wait_cards(&b, &[(id, "DOING")]);
    b.send_keys(&card_element(&b, id), ARROW_RIGHT);
    wait_put(a, id, "status", "resolved");
    a.wait_for("the write-back settled", QUEUE_WAIT, || a.item(id).filter(|c| c["writeback"].is_null()));
    let reopened =
        issue_body("unresolved", id, "unresolved", "TypeError: history 771801", "browser-history", Some(ALICE));
    assert_eq!(a.send_sentry_at("issue", &reopened, Some(past(0))).status, 200);
    wait_cards(&b, &[(id, "DOING")]);

    let summary = b.wait_find(&format!("article.card[data-id=\"{id}\"] details.history summary"), WAIT);
    assert_eq!(b.text(&summary), "History");
    let entries = format!("article.card[data-id=\"{id}\"] .history-entry");
    assert!(b.try_find(&entries).is_none(), "the history was loaded before it was opened");
    b.click(&summary);
    let script = format!(
        "return Array.prototype.map.call(document.querySelectorAll('{}'), function (e) {{ return e.textContent; }})",
        entries.replace('\'', "\\'")
    );
    let lines = b.wait_for("the card's history", WAIT, |b| {
        let got = b.execute(&script, vec![]);
        let lines: Vec<String> = got.as_array()?.iter().filter_map(|v| v.as_str().map(str::to_string)).collect();
        lines.iter().any(|l| l.starts_with("re-opened")).then_some(lines)
    });
    // (With lanes, a status change also moves the substatus: more entries.)
    let starts: Vec<&str> =
        lines.iter().map(|l| l.split(',').next().unwrap_or("")).filter(|l| !l.starts_with("substatus")).collect();
    assert_eq!(
        starts,
        [
            "moved to DOING by Sentry",
            "assigned to Alice by Sentry",
            "moved to DONE via the board",
            "re-opened into DOING by Sentry"
        ],
        "{lines:#?}"
    );
    b.save_screenshot("history");
}
