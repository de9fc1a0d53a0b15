//! The literal fixtures: one issue through its life, the files as the
//! builder makes them, and Sentry's JSON escaping.

use super::*;

#[test]
fn the_literal_fixtures_drive_one_issue_through_its_life() {
    let conn = fresh_db();
    let steps: [(&str, i64, &str, bool, Value); 8] = [
        ("issue-created", 10, "TODO", false, Value::Null),
        ("issue-assigned", 20, "DOING", false, jane().on_board()),
        ("issue-assigned-team", 30, "DOING", false, backend_team().on_board()),
        ("issue-assigned", 40, "DOING", false, jane().on_board()),
        ("issue-resolved", 50, "DONE", false, jane().on_board()),
        ("issue-unresolved", 60, "DOING", false, jane().on_board()),
        ("issue-ignored", 70, "DOING", true, jane().on_board()),
        ("issue-archived", 80, "DOING", true, jane().on_board()),
    ];
    for (stem, t, column, ignored, assignee) in steps {
        let plan = deliver(&conn, &fixture(stem), t);
        assert_eq!(plan.reply.body["issue"], FIXTURE_ISSUE, "{stem}");
        let c = card(&conn, FIXTURE_ISSUE);
        assert_eq!(c["column"], column, "{stem}");
        assert_eq!(c["ignored"], ignored, "{stem}");
        assert_eq!(c["assignee"], assignee, "{stem}");
        assert_eq!(c["title"], TITLE, "{stem}");
        assert_eq!(c["first_seen"], "2019-08-19T20:58:37.391Z", "{stem}");
    }
    assert_eq!(card_count(&conn), 1);
    // Replaying the created delivery (a retry of a frozen body) changes nothing.
    let before = items(&conn);
    let plan = deliver(&conn, &fixture("issue-created"), 90);
    assert_eq!(plan.verdict.outcome.as_str(), "filled");
    assert_eq!(items(&conn), before);
}

/// Whitespace outside JSON strings, if any: Sentry's bodies have none.
fn whitespace_outside_strings(body: &[u8]) -> Option<usize> {
    let (mut in_string, mut escaped) = (false, false);
    for (i, &b) in body.iter().enumerate() {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
        } else if b == b'"' {
            in_string = true;
        } else if b.is_ascii_whitespace() {
            return Some(i);
        }
    }
    None
}

#[test]
fn fixture_files_match_the_builder_and_look_like_sentry_bodies() {
    let regenerate = std::env::var_os("REGENERATE_FIXTURES").is_some();
    for (stem, body) in literal_fixtures() {
        if regenerate {
            std::fs::write(fixtures_dir().join(format!("{stem}.json")), &body).unwrap();
        }
        assert_eq!(
            String::from_utf8(fixture(stem)).unwrap(),
            body,
            "{stem}.json is stale; REGENERATE_FIXTURES=1 rewrites it"
        );
        assert!(body.is_ascii(), "{stem}: non-ASCII must be \\u-escaped");
        assert_eq!(whitespace_outside_strings(body.as_bytes()), None, "{stem}: not compact");
        assert!(body.contains(r#"TypeError: Caf\u00e9 \u2013 \u201cd\u00e9j\u00e0 vu\u201d \ud83d\ude00"#), "{stem}");
        let action = stem.trim_start_matches("issue-").trim_end_matches("-team");
        assert!(
            body.starts_with(&format!(r#"{{"action":"{action}","installation":{{"uuid":"{INSTALLATION}"}},"data":{{"#)),
            "{stem}"
        );
        let actor = body.rfind(r#","actor":{"#).expect("actor");
        assert!(body[actor..].matches('{').count() == 1 && body.ends_with("}}"), "{stem}: actor is last");
        let v: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{stem}: {e}"));
        assert_eq!(v["data"]["issue"]["title"], TITLE, "{stem}");
        assert_eq!(v.as_object().unwrap().len(), 4, "{stem}");
    }
    let created: Value = serde_json::from_slice(&fixture("issue-created")).unwrap();
    assert_eq!(created["data"]["issue"]["firstSeen"], "2019-08-19T20:58:37.391000+00:00");
    assert_eq!(created["data"]["issue"]["web_url"], "https://example.sentry.io/issues/1170820242/");
    let resolved: Value = serde_json::from_slice(&fixture("issue-resolved")).unwrap();
    assert_eq!(resolved["data"]["resolution_type"], "now");
    let assigned: Value = serde_json::from_slice(&fixture("issue-assigned")).unwrap();
    assert_eq!(
        assigned["data"]["assignee"],
        json!({"type": "user", "name": "Jane Doe", "id": 1, "email": "jane@example.com"})
    );
    let team: Value = serde_json::from_slice(&fixture("issue-assigned-team")).unwrap();
    assert_eq!(team["data"]["assignee"], json!({"type": "team", "name": "Backend", "id": 4}));
}

#[test]
fn js_escapes_like_python_ensure_ascii() {
    assert_eq!(js("Caf\u{e9}"), r#""Caf\u00e9""#);
    assert_eq!(js("\u{1f600}"), r#""\ud83d\ude00""#);
    assert_eq!(js("a\"b\\c\nd\u{1}\u{7f}/"), r#""a\"b\\c\nd\u0001\u007f/""#);
    for s in [TITLE, "\u{7f}\u{80}\u{ffff}\u{10000}\t\u{8}\u{c}", "'); DROP TABLE cards;--"] {
        assert_eq!(serde_json::from_str::<String>(&js(s)).unwrap(), s);
    }
}
