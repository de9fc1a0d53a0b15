//! Screenshots of the board, the error log and the board at phone width
//! (saved to target/screenshots/).

use super::*;

// ---------------------------------------------------------------- screenshots

fn error_body(event_id: &str, issue_id: &str, title: &str) -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    json!({
        "action": "created",
        "installation": {"uuid": "e2e-browser-errors"},
        "data": {"error": {
            "event_id": event_id, "issue_id": issue_id, "title": title, "culprit": "?(runner)", "level": "error",
            "platform": "javascript", "project": 1, "environment": "prod", "release": "1.0",
            "datetime": sentry_kanban::time::format_millis(now - 3_600_000),
            "exception": {"values": [{"type": "TypeError", "value": "x",
                "stacktrace": {"frames": [{"filename": "app.js", "function": "render", "lineno": 12}]}}]},
            "web_url": format!("https://sentry.example/issues/{issue_id}/events/{event_id}/"),
        }},
        "actor": {"type": "application", "id": "sentry", "name": "Sentry"},
    })
    .to_string()
}

#[test]
fn screenshots_of_the_board_the_error_log_and_a_phone() {
    let a = board_app();
    send_issue(a, "771401", "unresolved", "TypeError: cannot read properties of undefined (reading 'id')", "web");
    send_assigned(a, "771402", "ReferenceError: checkout is not defined", "shop");
    send_issue(a, "771403", "resolved", "SyntaxError: unexpected token in JSON at position 0", "api");
    for (event, issue, title) in [
        ("771451e1", "771451", "TypeError: screenshot error one"),
        ("771451e2", "771451", "TypeError: screenshot error one"),
        ("771452e1", "771452", "RangeError: screenshot error two"),
    ] {
        assert_eq!(a.send_sentry("error", &error_body(event, issue, title)).status, 200);
    }

    let b = Browser::new();
    b.goto(&url(a, "/"));
    wait_cards(&b, &[("771401", "TODO"), ("771402", "DOING"), ("771403", "DONE")]);
    let path = b.save_screenshot("board");
    assert!(std::fs::read(&path).unwrap().starts_with(b"\x89PNG\r\n\x1a\n"), "{} is not a PNG", path.display());

    a.wait_for("the error events in the error log", QUEUE_WAIT, || {
        let r = a.request("GET", "/api/errors/771451", &[], b"");
        (r.status == 200 && r.json()["group"]["event_count"].as_i64() == Some(2)).then_some(())
    });
    b.goto(&url(a, "/errors.html"));
    b.wait_for("the error groups on /errors.html", WAIT, |b| {
        let text = b.execute("return document.body.innerText", vec![]);
        text.as_str()
            .is_some_and(|t| t.contains("screenshot error one") && t.contains("screenshot error two"))
            .then_some(())
    });
    b.save_screenshot("errors");

    // A phone: the columns stack and nothing scrolls sideways.
    b.set_window_size(375, 812);
    b.goto(&url(a, "/"));
    wait_cards(&b, &[("771401", "TODO"), ("771402", "DOING"), ("771403", "DONE")]);
    let layout = b.execute(
        r#"
        function rect(c) { return document.querySelector('section.column[data-column="' + c + '"]').getBoundingClientRect(); }
        var todo = rect('TODO'), doing = rect('DOING'), done = rect('DONE');
        return { width: window.innerWidth, scroll: document.documentElement.scrollWidth,
                 stacked: doing.top >= todo.bottom - 1 && done.top >= doing.bottom - 1 };
        "#,
        vec![],
    );
    assert!(layout["width"].as_i64().unwrap() <= 375, "the viewport is not phone-sized: {layout}");
    assert!(
        layout["scroll"].as_i64().unwrap() <= layout["width"].as_i64().unwrap(),
        "the board scrolls sideways at 375 px: {layout}"
    );
    assert_eq!(layout["stacked"], true, "the columns do not stack at 375 px: {layout}");
    b.save_screenshot("board-mobile");
}
