//! Issue 16 end to end on workerd: deliveries exactly as Sentry sends them
//! (`support::sender`, from wire-formats §5.4), the named defects, the
//! authoritative re-read against the mock API, and property-generated
//! histories.

use crate::app;
use crate::mock;
use crate::support;

use crate::scenario::Scenario;
use app::{spawn_app, App, INTERNAL_ORG, INTERNAL_TOKEN};
use mock::Canned;
use serde_json::Value;
use std::time::Duration;
use support::arbitrary::Rng;
use support::sender::{actions, play, Network, SimIssue};
use support::sentry::{backend_team, issue_body, jane, js, Assigned, Issue, INSTALLATION};

/// No token: the rules hold on their own.
fn plain() -> &'static App {
    static APP: Scenario = Scenario::new(module_path!(), || spawn_app(&[]));
    APP.app()
}

/// An internal integration: its token re-reads what cannot be ordered.
fn with_token() -> &'static App {
    static APP: Scenario = Scenario::new(module_path!(), || {
        spawn_app(&[("SENTRY_AUTH_TOKEN", INTERNAL_TOKEN), ("SENTRY_ORG_SLUG", INTERNAL_ORG)])
    });
    APP.app()
}

fn send(app: &App, resource: &str, body: &str) -> Value {
    let r = app.send_sentry(resource, body);
    assert_eq!(r.status, 200, "{resource}: {}", r.body);
    r.json()
}

/// The card, with its comments as the board loads them when it is opened.
fn card(app: &App, id: &str) -> Value {
    let mut c = app.item(id).unwrap_or_else(|| panic!("no card {id}"));
    c["comments"] = comments(app, id);
    c
}

fn comments(app: &App, id: &str) -> Value {
    let r = app.request("GET", &format!("/api/items/{id}/comments"), &[], b"");
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()["comments"].clone()
}

fn issue_path(id: &str) -> String {
    format!("/api/0/organizations/{INTERNAL_ORG}/issues/{id}/")
}

/// The mock API's answers for an issue: the issue now, and its notes.
fn serve(app: &App, sim: &SimIssue) {
    app.mock.set_route(Canned::new("GET", &format!("{}comments/", issue_path(&sim.id)), 200, &sim.api_notes()));
    app.mock.set_route(Canned::new("GET", &issue_path(&sim.id), 200, &sim.api_issue()));
}

fn reads_of(app: &App, id: &str) -> usize {
    app.mock.calls().iter().filter(|c| c.method == "GET" && c.path == issue_path(id)).count()
}

fn wait_card(app: &App, id: &str, what: &str, ok: impl Fn(&Value) -> bool) -> Value {
    app.wait_for(what, Duration::from_secs(30), || app.item(id).filter(|c| ok(c)))
}

// ---- the eight defects (the GitHub ones are in tests/e2e_github.rs) --------

/// 1. integration-platform-example's mocks carry the assignee only in
///    `data.issue.assignedTo`; a body with neither says nothing.
#[test]
fn assigned_without_data_assignee_takes_assigned_to_and_never_clears() {
    let app = plain();
    let issue = Issue::new("16001");
    send(app, "issue", &issue_body("created", &issue));
    let only_snapshot = issue_body("unresolved", &issue.clone().to(&jane()))
        .replace(r#""action":"unresolved""#, r#""action":"assigned""#);
    assert!(!only_snapshot.contains(r#""assignee":"#));
    send(app, "issue", &only_snapshot);
    let c = card(app, "16001");
    assert_eq!((c["column"].as_str(), c["assignee"].clone()), (Some("DOING"), jane().on_board()));
    let neither = issue_body("assigned", &issue.clone().assigned(Assigned::Absent));
    send(app, "issue", &neither);
    assert_eq!(card(app, "16001")["assignee"], jane().on_board(), "a missing field never clears an assignee");
}

/// 2. Resolve → reopen → resolve: the third body equals the first.
#[test]
fn a_repeated_action_with_identical_bytes_is_applied() {
    let app = plain();
    let issue = Issue::new("16002");
    send(app, "issue", &issue_body("created", &issue));
    let resolved = issue_body("resolved", &issue.clone().status("resolved"));
    let reopened = issue_body("unresolved", &issue.clone().status("unresolved"));
    let ignored = issue_body("ignored", &issue.clone().status("ignored"));
    for (body, column, is_ignored) in [
        (&resolved, "DONE", false),
        (&reopened, "TODO", false),
        (&resolved, "DONE", false),
        (&ignored, "TODO", true),
        (&reopened, "TODO", false),
        (&ignored, "TODO", true),
    ] {
        let reply = send(app, "issue", body);
        assert_ne!(reply["duplicate"], true);
        let c = card(app, "16002");
        assert_eq!((c["column"].as_str(), c["ignored"].as_bool()), (Some(column), Some(is_ignored)), "{reply}");
    }
}

/// 3. A retried `issue.created` (frozen body, new Request-ID) after an
///    assignment and a resolve changes neither.
#[test]
fn a_retried_created_does_not_undo_a_later_assignment() {
    let app = plain();
    let issue = Issue::new("16003");
    let created = issue_body("created", &issue);
    send(app, "issue", &created);
    send(app, "issue", &issue_body("assigned", &issue.clone().to(&jane())));
    let reply = send(app, "issue", &created);
    assert_eq!(reply["status"], "kept");
    let c = card(app, "16003");
    assert_eq!((c["column"].as_str(), c["assignee"].clone()), (Some("DOING"), jane().on_board()));
}

/// 4. A retried `issue.assigned`: `data.issue` is serialised again (today's
///    assignee) while `data.assignee` keeps the original one.
#[test]
fn a_retried_assignment_keeps_todays_assignee() {
    let app = plain();
    let issue = Issue::new("16004");
    send(app, "issue", &issue_body("created", &issue));
    send(app, "issue", &issue_body("assigned", &issue.clone().to(&jane())));
    send(app, "issue", &issue_body("assigned", &issue.clone().to(&backend_team())));
    let retry = format!(
        r#"{{"action":"assigned","installation":{{"uuid":"{INSTALLATION}"}},"data":{{"assignee":{},"issue":{}}},"actor":{{"type":"user","id":1,"name":"Jane Doe"}}}}"#,
        jane().assignee_json(),
        issue.clone().to(&backend_team()).to_json(false)
    );
    send(app, "issue", &retry);
    assert_eq!(card(app, "16004")["assignee"], backend_team().on_board());
}

fn comment_body(action: &str, issue: &str, id: u64, text: &str) -> String {
    format!(
        r#"{{"action":"{action}","installation":{{"uuid":"{INSTALLATION}"}},"data":{{"comment_id":{id},"issue_id":{issue},"project_slug":"front-end","timestamp":"2026-01-01T00:00:00.000000Z","comment":{}}},"actor":{{"type":"user","id":1,"name":"Jane Doe"}}}}"#,
        js(text)
    )
}

/// 5. A retried older comment edit (the same frozen bytes) after a newer edit.
#[test]
fn a_retried_older_comment_edit_does_not_overwrite_a_newer_one() {
    let app = plain();
    send(app, "issue", &issue_body("created", &Issue::new("16005")));
    send(app, "comment", &comment_body("created", "16005", 1, "first"));
    let older = comment_body("updated", "16005", 1, "older edit");
    send(app, "comment", &older);
    send(app, "comment", &comment_body("updated", "16005", 1, "newer edit \u{e9}"));
    let reply = send(app, "comment", &older);
    assert_eq!(reply["repeat"], true, "{reply}");
    assert_eq!(card(app, "16005")["comments"][0]["text"], "newer edit \u{e9}");
}

/// 6. Real `event_alert.triggered` captures (zulip's fixtures) have no
///    `data.event.issue_id`: the issue is in `issue_url` / `web_url` / `url`.
#[test]
fn an_event_alert_without_issue_id_finds_its_issue_in_the_urls() {
    let app = plain();
    let body = r#"{"action":"triggered","installation":{"uuid":"a8e5d37a-696c-4c54-adb5-b3f28d64c7de"},"data":{"event":{"event_id":"f1e2","title":"Exception: boom","level":"error","url":"https://sentry.io/api/0/projects/acme/app/events/f1e2/","web_url":"https://sentry.io/organizations/acme/issues/16006/events/f1e2/","issue_url":"https://sentry.io/api/0/issues/16006/","datetime":"2026-11-30T10:00:00.000000Z"},"triggered_rule":"Send a notification"},"actor":{"type":"application","id":"sentry","name":"Sentry"}}"#;
    let reply = send(app, "event_alert", body);
    assert_eq!(reply["issue"], "16006", "{reply}");
    let alert = app.items().into_iter().find(|i| i["kind"] == "event_alert" && i["sentry_issue_id"] == "16006");
    assert!(alert.is_some(), "no alert card for the issue");
}

/// A verified delivery whose content cannot be used: 2xx and the reason.
#[test]
fn a_verified_unusable_delivery_is_2xx_with_its_reason() {
    let app = plain();
    let rid = app::fresh_request_id();
    let r =
        app.send_sentry_with("issue", r#"{"action":"resolved","data":{"issue":{}}}"#, None, &[("Request-ID", &rid)]);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(App::header(&r, "Sentry-Kanban-Verdict"), Some("unusable"));
    let logged = app.deliveries().into_iter().find(|d| d["request_id"] == rid.as_str()).expect("logged");
    assert_eq!(logged["verdict"], "unusable");
    assert!(logged["error"].as_str().is_some_and(|e| e.contains("data.issue")), "{logged}");
}

// ---- the authoritative re-read ------------------------------------------------

/// Someone replays a captured `resolved` with fresh headers after the issue
/// was reopened: the card settles to the API's answer.
#[test]
fn a_replayed_stale_resolve_settles_to_the_apis_state() {
    let app = with_token();
    let mut sim = SimIssue::new("16101");
    serve(app, &sim);
    let issue = Issue::new("16101");
    send(app, "issue", &issue_body("created", &issue));
    let resolved = issue_body("resolved", &issue.clone().status("resolved"));
    send(app, "issue", &resolved);
    send(app, "issue", &issue_body("unresolved", &issue.clone().status("unresolved")));
    sim.status = "unresolved";
    serve(app, &sim);
    let before = reads_of(app, "16101");
    let reply = send(app, "issue", &resolved);
    assert_eq!(reply["reread"], true, "{reply}");
    // Bytes seen before, with a token: nothing is written but the re-read,
    // so the card never flips to DONE, and the API is asked.
    assert_eq!(card(app, "16101")["column"], "TODO", "the replay flipped the card");
    app.wait_for("the re-read", Duration::from_secs(30), || (reads_of(app, "16101") > before).then_some(()));
    wait_card(app, "16101", "the card in TODO", |c| c["column"] == "TODO");
    let call = app.mock.calls().into_iter().rev().find(|c| c.path == issue_path("16101")).expect("a read");
    let auth = call.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("Authorization")).map(|(_, v)| v.clone());
    assert_eq!(auth.as_deref(), Some(format!("Bearer {INTERNAL_TOKEN}").as_str()));
}

/// A legitimate second resolve (the API agrees) ends DONE.
#[test]
fn a_legitimate_second_resolve_ends_done() {
    let app = with_token();
    let mut sim = SimIssue::new("16102");
    serve(app, &sim);
    let issue = Issue::new("16102");
    send(app, "issue", &issue_body("created", &issue));
    let resolved = issue_body("resolved", &issue.clone().status("resolved"));
    sim.status = "resolved";
    serve(app, &sim);
    send(app, "issue", &resolved);
    sim.status = "unresolved";
    serve(app, &sim);
    send(app, "issue", &issue_body("unresolved", &issue.clone().status("unresolved")));
    sim.status = "resolved";
    serve(app, &sim);
    send(app, "issue", &resolved);
    // Give any re-read time to run: it must agree.
    std::thread::sleep(Duration::from_secs(3));
    wait_card(app, "16102", "DONE", |c| c["column"] == "DONE");
}

/// 1,000 deliveries for one issue make a handful of API reads, not 1,000.
#[test]
fn a_burst_for_one_issue_makes_a_handful_of_reads() {
    let app = with_token();
    let mut sim = SimIssue::new("16103");
    sim.status = "resolved";
    serve(app, &sim);
    let issue = Issue::new("16103");
    send(app, "issue", &issue_body("created", &issue));
    let resolved = issue_body("resolved", &issue.clone().status("resolved"));
    let reopened = issue_body("unresolved", &issue.clone().status("unresolved"));
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let (resolved, reopened) = (resolved.clone(), reopened.clone());
            std::thread::spawn(move || {
                for i in 0..250 {
                    let body = if (i + t) % 2 == 0 { &resolved } else { &reopened };
                    assert_eq!(with_token().send_sentry("issue", body).status, 200);
                }
            })
        })
        .collect();
    threads.into_iter().for_each(|t| t.join().expect("sender thread"));
    wait_card(app, "16103", "DONE after the burst", |c| c["column"] == "DONE");
    std::thread::sleep(Duration::from_secs(3));
    let reads = reads_of(app, "16103");
    eprintln!("1000 deliveries → {reads} reads");
    assert!((1..=40).contains(&reads), "{reads} reads for one burst");
}

// ---- property-generated histories ------------------------------------------

/// A few dozen histories from the native property test's generator, with
/// retries, duplicates and reordering, sent to the real worker while the
/// mock API follows Sentry's state: every card converges.
#[test]
fn generated_histories_converge_on_workerd() {
    let app = with_token();
    let mut rng = Rng::new(0x16E2E);
    let net = Network { max_delay: 40, retry_one_in: 3, duplicate_one_in: 8 };
    let runs: Vec<_> = (0..30)
        .map(|n| {
            let acts = actions(&mut rng, 8, false, true);
            play(&mut rng, &format!("{}", 16200 + n), &acts, net)
        })
        .collect();
    for run in &runs {
        serve(app, &run.states[0].1);
        for a in run.in_arrival_order() {
            serve(app, run.state_at(a.arrives_at));
            let r = app.send_sentry_with(a.resource, &a.body, None, &[("Request-ID", &a.request_id)]);
            assert_eq!(r.status, 200, "{}", r.body);
        }
        serve(app, run.last());
    }
    for run in &runs {
        let want = run.last();
        let assignee = want.assignee.as_ref().map_or(Value::Null, |p| p.on_board());
        let mut texts: Vec<String> = want.comments.values().cloned().collect();
        texts.sort();
        let converged = |c: &Value| {
            let mut got: Vec<String> = c["comments"]
                .as_array()
                .map(|cs| cs.iter().filter_map(|x| x["text"].as_str().map(str::to_string)).collect())
                .unwrap_or_default();
            got.sort();
            c["column"] == want.column() && c["status"] == want.status && c["assignee"] == assignee && got == texts
        };
        let start = std::time::Instant::now();
        let mut last = None;
        while start.elapsed() < Duration::from_secs(30) {
            last = app.item(&want.id).map(|mut c| {
                c["comments"] = comments(app, &want.id);
                c
            });
            if last.as_ref().is_some_and(converged) {
                break;
            }
            std::thread::sleep(Duration::from_millis(300));
        }
        let card = last.unwrap_or(Value::Null);
        let calls: Vec<String> =
            app.mock.calls().iter().filter(|c| c.path.contains(&want.id)).map(|c| c.path.clone()).collect();
        assert!(converged(&card), "card {} did not converge to {want:?}:\n{card}\nAPI calls: {calls:?}", want.id);
    }
}
