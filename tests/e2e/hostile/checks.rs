//! What an accepted (or ignored) case must have written, or must not have:
//! the `Check`s of the table.

use super::bodies::{issue, SQL_1, SQL_2};
use super::harness::{assert_nothing_written, github_events, new_deliveries, state, team_posts, Check};
use super::request::sentry;
use crate::app::App;
use serde_json::Value;
use std::time::Duration;

/// A good Sentry delivery after a hostile one: the worker still answers.
pub fn still_serves(id: &'static str) -> Check {
    Box::new(move |app, _, _, _| {
        let r = sentry("issue", issue(id)).send(app);
        assert_eq!(r.status, 200, "the worker no longer serves: {}", r.body);
        assert!(app.item(id).is_some(), "the good delivery after it wrote no card");
    })
}

/// The card `id` exists, with `title`.
pub fn card_written(id: &'static str) -> Check {
    Box::new(move |app, _, _, _| {
        let c = app.item(id).unwrap_or_else(|| panic!("no card {id}"));
        assert_eq!(c["title"], format!("Hostile {id}"));
    })
}

pub fn huge_counts_kept(id: &'static str) -> Check {
    Box::new(move |app, _, _, _| {
        let c = app.item(id).unwrap_or_else(|| panic!("no card {id}"));
        assert_eq!(c["count"], "184467440737095516161844674407370955161");
        assert_eq!(c["user_count"], Value::Null, "a user count past i64 is dropped, not wrapped");
    })
}

pub fn team_created_once() -> Check {
    Box::new(|app, _, _, _| {
        app.wait_for("the team created in Sentry", Duration::from_secs(30), || {
            (team_posts(app, "hostile-replay-team") >= 1).then_some(())
        });
        app.wait_for("the event done", Duration::from_secs(30), || {
            github_events(app).iter().find(|e| e["delivery"] == "hx880081" && e["status"] == "done").map(|_| ())
        });
    })
}

/// A GitHub team delivery was synced: the team posted, the event done.
pub fn github_team_synced(delivery: &'static str, slug: &'static str) -> Check {
    Box::new(move |app, _, _, _| {
        app.wait_for("the team created in Sentry", Duration::from_secs(30), || {
            (team_posts(app, slug) >= 1).then_some(())
        });
        app.wait_for("the event done", Duration::from_secs(30), || {
            github_events(app).iter().find(|e| e["delivery"] == delivery && e["status"] == "done").map(|_| ())
        });
    })
}

pub fn team_replay_repeats_nothing() -> Check {
    Box::new(|app, before, req, reply| {
        assert_eq!(reply.json()["duplicate"], true, "{}", reply.body);
        std::thread::sleep(Duration::from_secs(3));
        assert_eq!(team_posts(app, "hostile-replay-team"), 1, "the replay created the team again");
        assert_nothing_written(before, &state(app), req, 200);
    })
}

pub fn duplicate_changed_nothing(id: &'static str) -> Check {
    Box::new(move |app, before, req, reply| {
        assert_eq!(reply.json()["duplicate"], true, "{}", reply.body);
        let after = state(app);
        assert_nothing_written(before, &after, req, 200);
        assert_eq!(new_deliveries(before, &after)[0]["verdict"], "duplicate");
        assert!(app.item(id).is_some());
    })
}

/// Ignored (200, nothing written), and the header is in the delivery log as sent.
pub fn logged_verbatim(column: &'static str, value: &'static str) -> Check {
    Box::new(move |app, before, req, _| {
        let after = state(app);
        assert_nothing_written(before, &after, req, 200);
        assert_eq!(new_deliveries(before, &after)[0][column], value, "{column} is logged verbatim");
    })
}

pub fn sql_checks(id: &'static str, s: &'static str) -> Check {
    Box::new(move |app, _, _, _| {
        let c = app.item(id).unwrap_or_else(|| panic!("no card {id}"));
        for field in
            ["title", "short_id", "culprit", "platform", "substatus", "permalink", "count", "project", "project_name"]
        {
            assert_eq!(c[field], s, "{field} not stored verbatim: {c}");
        }
        for field in ["id", "name", "email"] {
            assert_eq!(c["assignee"][field], s, "assignee.{field} not stored verbatim: {c}");
        }
        assert_eq!(c["column"], "DOING");
    })
}

pub fn sql_comment_stored(id: &'static str) -> Check {
    Box::new(move |app, _, _, _| {
        let c = app.item(id).unwrap_or_else(|| panic!("no card {id}"));
        assert_eq!(c["comment_count"], 1, "{c}");
        // The board loads a card's comments from its own endpoint (issue 17.5).
        let r = app.request("GET", &format!("/api/items/{id}/comments"), &[], b"");
        assert_eq!(r.status, 200, "{}", r.body);
        let comments = r.json()["comments"].as_array().cloned().unwrap_or_default();
        assert_eq!(comments.len(), 1, "{c}");
        assert_eq!((comments[0]["text"].as_str(), comments[0]["author"].as_str()), (Some(SQL_2), Some(SQL_1)));
    })
}

pub fn sql_error_group(issue_id: &'static str) -> Check {
    Box::new(move |app, _, _, _| {
        let group = app.wait_for("the error group", Duration::from_secs(30), || {
            let r = app.request("GET", &format!("/api/errors/{issue_id}"), &[], b"");
            (r.status == 200).then(|| r.json())
        });
        assert_eq!(group["group"]["title"], SQL_1, "{group}");
        assert_eq!(group["group"]["culprit"], SQL_1, "{group}");
    })
}

/// A login that is not a GitHub login is no member: recorded as a noop,
/// no API called with it.
pub fn sql_login_is_no_login(delivery: &'static str) -> Check {
    Box::new(move |app, before, _, reply| {
        assert_eq!(reply.json()["outcome"], "noop", "{}", reply.body);
        std::thread::sleep(Duration::from_secs(1));
        let calls = &app.mock.calls()[before.calls.len()..];
        assert!(calls.is_empty(), "a login that is not a login reached an API: {calls:?}");
        let e = github_events(app).into_iter().find(|e| e["delivery"] == delivery).expect("event recorded");
        assert_eq!((e["status"].as_str(), e["login"].as_str()), (Some("noop"), None), "{e}");
    })
}

pub fn html_checks(id: &'static str, title: &'static str) -> Check {
    Box::new(move |app, _, _, _| {
        let r = app.request("GET", "/api/items", &[], b"");
        let ct = App::header(&r, "Content-Type").unwrap_or("");
        assert!(ct.starts_with("application/json"), "the API answers JSON, not HTML: {ct}");
        let c = app.item(id).unwrap_or_else(|| panic!("no card {id}"));
        assert_eq!(c["title"], title, "the title is stored and served verbatim");
        for page in ["/", "/errors", "/deliveries", "/board.js", "/board/cards.js", "/lib/dom.js"] {
            let p = app.request("GET", page, &[], b"");
            assert_eq!(p.status, 200, "{page}");
            assert!(
                !p.body.contains(title) && !p.body.contains(id),
                "{page} has the title in it: the pages must be static"
            );
        }
    })
}
