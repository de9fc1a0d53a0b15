//! A card's history on rusqlite with the real migrations: each writer
//! (webhook, sync, re-read, board) records exactly the changes it made, with
//! its source, action and actor; nothing for a no-op, a repeat or a field a
//! pending write-back holds; at most 100 entries per card.

use crate::support;

use rusqlite::Connection;
use sentry_kanban::board::{Assignee, Status};
use sentry_kanban::outbound::HttpReply;
use sentry_kanban::sentry::sync::{page_statements, parse_page};
use sentry_kanban::store::{history, writeback as wb};
use sentry_kanban::writeback::Change;
use serde_json::Value;
use support::db::{self, card, fresh_db};
use support::hook::{arrival, at, cfg, deliver_as, deliver_full, request_id};
use support::reread::{serve, token_cfg, Answer};
use support::sentry::{issue_body, jane, Issue};

/// The card's history as the API answers it.
fn history(conn: &Connection, id: &str) -> Vec<Value> {
    let body = history::history_json(&db::query(conn, history::CARD_HISTORY, &[id.into()]));
    body["history"].as_array().cloned().unwrap_or_default()
}

/// `source action field: from -> to (actor)`, one line per entry.
fn lines(conn: &Connection, id: &str) -> Vec<String> {
    let t = |v: &Value| v.as_str().map_or("-".to_string(), str::to_string);
    history(conn, id)
        .iter()
        .map(|e| {
            format!(
                "{} {} {}: {} -> {} ({})",
                t(&e["source"]),
                t(&e["action"]),
                t(&e["field"]),
                t(&e["from"]),
                t(&e["to"]),
                t(&e["actor"])
            )
        })
        .collect()
}

fn send(conn: &Connection, action: &str, issue: &Issue, t: i64) {
    deliver_as(conn, "issue", issue_body(action, issue).as_bytes(), t);
}

fn board(conn: &Connection, id: &str, c: &Change, t: i64, user: Option<&str>) {
    let rows = db::query(conn, wb::BOARD_CHANGE, &wb::board_change_params_by(id, c, &at(t), user));
    assert_eq!(rows.len(), 1, "the card exists");
}

/// A board change as the board sends it (`writeback::parse_change`).
fn change(status: Option<Status>, assignee: Option<Option<&Assignee>>) -> Change {
    let mut body = serde_json::Map::new();
    if let Some(s) = status {
        body.insert("status".into(), s.as_str().into());
    }
    if let Some(a) = assignee {
        let a = a.map(|a| serde_json::json!({"type": a.kind, "id": a.id, "name": a.name, "email": a.email}));
        body.insert("assignee".into(), a.unwrap_or(Value::Null));
    }
    sentry_kanban::writeback::parse_change(Value::Object(body).to_string().as_bytes()).expect("a valid change")
}

fn status(s: Status) -> Change {
    change(Some(s), None)
}

fn sync_page(conn: &Connection, issues: &[&Issue], t: i64) {
    let body = format!("[{}]", issues.iter().map(|i| i.to_json(false)).collect::<Vec<_>>().join(","));
    let reply = HttpReply { status: 200, body, ..Default::default() };
    let page = parse_page(&reply, Some("u1")).expect("page parses");
    let fetched = sentry_kanban::time::format_millis(arrival(t));
    db::run(conn, &page_statements(&page, "r1", &fetched, &fetched, &fetched));
}

#[test]
fn a_webhook_records_each_field_it_changed_with_its_action_and_actor() {
    let conn = fresh_db();
    let issue = Issue::new("1");
    send(&conn, "created", &issue, 0);
    assert_eq!(lines(&conn, "1"), Vec::<String>::new(), "a new card is not a change");

    let assigned = issue.clone().to(&jane());
    send(&conn, "assigned", &assigned, 10);
    assert_eq!(
        lines(&conn, "1"),
        ["sentry assigned column: TODO -> DOING (Jane Doe)", "sentry assigned assignee: - -> Jane Doe (Jane Doe)"]
    );
    let entry = &history(&conn, "1")[0];
    assert_eq!(entry["at"], at(10));

    let resolved = assigned.clone().status("resolved");
    send(&conn, "resolved", &resolved, 20);
    assert_eq!(
        lines(&conn, "1")[2..],
        ["sentry resolved column: DOING -> DONE (Jane Doe)", "sentry resolved substatus: new -> - (Jane Doe)"]
    );

    // Sentry itself re-opens it (a regression): the actor is "Sentry".
    let reopened = assigned.status("unresolved");
    let body = issue_body("unresolved", &reopened).replace(
        r#""actor":{"type":"user","id":1,"name":"Jane Doe"}"#,
        r#""actor":{"type":"application","id":"sentry","name":"Sentry"}"#,
    );
    deliver_as(&conn, "issue", body.as_bytes(), 30);
    assert_eq!(
        lines(&conn, "1")[4..],
        ["sentry unresolved column: DONE -> DOING (Sentry)", "sentry unresolved substatus: - -> ongoing (Sentry)"]
    );
}

#[test]
fn repeats_replays_births_and_older_states_record_nothing() {
    let conn = fresh_db();
    let issue = Issue::new("2");
    send(&conn, "created", &issue, 0);
    let ignored = issue.clone().status("ignored");
    let body = issue_body("ignored", &ignored);
    deliver_as(&conn, "issue", body.as_bytes(), 10);
    assert_eq!(lines(&conn, "2").len(), 2, "ignored and substatus");

    // The same bytes under a new Request-ID, and an exact replay.
    deliver_as(&conn, "issue", body.as_bytes(), 20);
    let rid = request_id();
    deliver_full(&conn, &cfg(), "issue", body.as_bytes(), arrival(30), &rid);
    deliver_full(&conn, &cfg(), "issue", body.as_bytes(), arrival(31), &rid);
    // A late retry of the birth certificate.
    send(&conn, "created", &issue, 40);
    // A sync page that agrees with the card.
    sync_page(&conn, &[&ignored], 50);
    assert_eq!(lines(&conn, "2").len(), 2, "{:#?}", lines(&conn, "2"));
    assert!(card(&conn, "2")["ignored"].as_bool().unwrap_or(false));

    // A late birth does change a card whose substatus is empty (it fills
    // it): that is a real change, and shows as one.
    send(&conn, "resolved", &issue.clone().status("resolved"), 60);
    let before = lines(&conn, "2").len();
    send(&conn, "created", &issue, 70);
    assert_eq!(lines(&conn, "2")[before..], ["sentry created substatus: - -> new (Sentry)"]);
}

#[test]
fn the_sync_and_the_reread_record_under_their_own_names() {
    let conn = fresh_db();
    let issue = Issue::new("3");
    send(&conn, "created", &issue, 0);
    sync_page(&conn, &[&issue.clone().to(&jane())], 10);
    assert_eq!(lines(&conn, "3"), ["sync sync column: TODO -> DOING (-)", "sync sync assignee: - -> Jane Doe (-)"]);

    // A delivery whose order cannot be proven asks for a re-read; the API
    // says the issue is ignored.
    let conn2 = fresh_db();
    let cfg = token_cfg();
    let body = issue_body("created", &issue);
    deliver_full(&conn2, &cfg, "issue", body.as_bytes(), arrival(20), &request_id());
    deliver_full(
        &conn2,
        &cfg,
        "issue",
        issue_body("resolved", &issue.clone().status("resolved")).as_bytes(),
        arrival(21),
        &request_id(),
    );
    let ignored = issue.clone().status("ignored");
    serve(&conn2, 30, |_| Answer::issue(ignored.to_json(false)));
    let got = lines(&conn2, "3");
    assert_eq!(
        got[got.len() - 3..],
        [
            "reread reread column: DONE -> TODO (-)",
            "reread reread ignored: not ignored -> ignored (-)",
            "reread reread substatus: - -> archived_until_escalating (-)",
        ],
        "{got:#?}"
    );
    assert_eq!(got.iter().filter(|l| l.starts_with("sentry resolved")).count(), 2, "{got:#?}");
}

#[test]
fn a_board_change_records_its_verb_and_user_and_holds_its_fields_from_deliveries() {
    let conn = fresh_db();
    let issue = Issue::new("4");
    send(&conn, "created", &issue, 0);
    board(&conn, "4", &status(Status::Resolved), 10, Some("Ann Board"));
    assert_eq!(lines(&conn, "4")[0], "board resolve column: TODO -> DONE (Ann Board)");
    // (With lanes, a board status change also clears the substatus: a real
    // change, recorded too; the entries below are counted from here.)
    let base = lines(&conn, "4").len();
    assert_eq!(history(&conn, "4")[0]["at"], at(10));

    // While the push is pending, Sentry's older state does not move the
    // card, so it is not in the history either.
    send(&conn, "unresolved", &issue, 20);
    sync_page(&conn, &[&issue], 30);
    assert_eq!(card(&conn, "4")["column"], "DONE");
    assert_eq!(lines(&conn, "4").len(), base, "{:#?}", lines(&conn, "4"));

    let ann = Assignee { kind: "user".into(), id: Some("9".into()), name: Some("Ann".into()), email: None };
    board(&conn, "4", &change(Some(Status::Unresolved), Some(Some(&ann))), 40, None);
    assert_eq!(
        lines(&conn, "4")[base..base + 2],
        ["board unresolve+assign column: DONE -> DOING (-)", "board unresolve+assign assignee: - -> Ann (-)"]
    );
    let base = lines(&conn, "4").len();
    board(&conn, "4", &change(None, Some(None)), 50, None);
    board(&conn, "4", &change(None, Some(None)), 60, None);
    assert_eq!(
        lines(&conn, "4")[base..],
        ["board unassign column: DOING -> TODO (-)", "board unassign assignee: Ann -> - (-)"],
        "the second unassign changed nothing"
    );
}

#[test]
fn a_card_keeps_its_newest_hundred_entries() {
    let conn = fresh_db();
    send(&conn, "created", &Issue::new("5"), 0);
    send(&conn, "created", &Issue::new("6"), 0);
    board(&conn, "6", &status(Status::Ignored), 1, None);
    for n in 0..130 {
        let s = if n % 2 == 0 { Status::Resolved } else { Status::Unresolved };
        board(&conn, "5", &status(s), 10 + n, None);
    }
    let h = history(&conn, "5");
    assert_eq!(h.len(), history::KEPT);
    assert_eq!(h.last().unwrap()["at"], at(10 + 129), "newest last");
    assert_eq!(h[0]["at"], at(10 + 30), "the oldest thirty went");
    assert_eq!(h.last().unwrap()["to"], "TODO");
    let other = history(&conn, "6");
    assert!(!other.is_empty() && other.iter().all(|e| e["at"] == at(1)), "another card's history is its own");
    let kept = db::rows(&conn, "SELECT COUNT(*) AS n FROM card_history WHERE card_id = '5'");
    assert_eq!(kept[0]["n"], 100, "pruned in the table, not only in the answer");
}

#[test]
fn an_assignee_is_compared_by_who_not_by_how_the_name_is_spelled() {
    let conn = fresh_db();
    let issue = Issue::new("7");
    send(&conn, "created", &issue, 0);
    let bare = Assignee { kind: "user".into(), id: Some("1".into()), name: None, email: None };
    board(&conn, "7", &change(None, Some(Some(&bare))), 10, None);
    assert_eq!(lines(&conn, "7")[1], "board assign assignee: - -> 1 (-)");
    // Sentry names the same user once the push is done.
    let job = sentry_kanban::writeback::WriteBackJob { card: "7".into(), requested_at: at(10), installation: None };
    db::run(&conn, &[wb::settle(&job, "done", None, &at(10))]);
    sync_page(&conn, &[&issue.to(&jane())], 20);
    assert_eq!(card(&conn, "7")["assignee"]["name"], "Jane Doe");
    assert_eq!(lines(&conn, "7").len(), 2, "{:#?}", lines(&conn, "7"));
}

/// What the board shows of a card, in the history's words.
fn facts(conn: &Connection, id: &str) -> [(&'static str, Option<String>); 4] {
    let c = card(conn, id);
    let text = |v: &Value| v.as_str().map(str::to_string);
    let a = &c["assignee"];
    let who =
        if a.is_null() { None } else { text(&a["name"]).or_else(|| text(&a["email"])).or_else(|| text(&a["id"])) };
    let ignored = if c["ignored"].as_bool().unwrap_or(false) { "ignored" } else { "not ignored" };
    [
        ("column", text(&c["column"])),
        ("ignored", Some(ignored.to_string())),
        ("assignee", who),
        ("substatus", text(&c["substatus"])),
    ]
}

/// A small deterministic generator (no dependency needed).
struct Lcg(u64);

impl Lcg {
    fn pick(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % n
    }
}

/// Random webhooks, sync pages, board changes and settled pushes: after
/// each step the entries it added are exactly the fields that changed on the
/// card, from the old value to the new, under that step's source.
#[test]
fn every_step_records_exactly_the_fields_it_changed() {
    use support::sentry::{backend_team, Assigned};
    let (mut changes, mut by_source) = (0, std::collections::BTreeMap::new());
    for seed in 1..=12u64 {
        let conn = fresh_db();
        let mut rng = Lcg(seed);
        let id = "900";
        send(&conn, "created", &Issue::new(id), 0);
        let mut pending_at: Option<i64> = None;
        for step in 1..=40i64 {
            let t = step * 10;
            let mut issue = Issue::new(id).status(["unresolved", "resolved", "ignored"][rng.pick(3)]);
            issue = match rng.pick(4) {
                0 => issue.assigned(Assigned::Null),
                1 => issue.to(&jane()),
                2 => issue.to(&backend_team()),
                _ => issue.assigned(Assigned::Absent),
            };
            let before = facts(&conn, id);
            let seen = history(&conn, id).len();
            let source = match rng.pick(4) {
                0 => {
                    let action = ["created", "assigned", "resolved", "unresolved", "ignored"][rng.pick(5)];
                    send(&conn, action, &issue, t);
                    "sentry"
                }
                1 => {
                    sync_page(&conn, &[&issue], t);
                    "sync"
                }
                2 => {
                    let status =
                        [None, Some(Status::Resolved), Some(Status::Unresolved), Some(Status::Ignored)][rng.pick(4)];
                    let ann =
                        Assignee { kind: "user".into(), id: Some("9".into()), name: Some("Ann".into()), email: None };
                    let assignee = [None, Some(None), Some(Some(ann))][rng.pick(3)].clone();
                    let assignee = if status.is_none() && assignee.is_none() { Some(None) } else { assignee };
                    board(&conn, id, &change(status, assignee.as_ref().map(Option::as_ref)), t, Some("Board User"));
                    pending_at = Some(t);
                    "board"
                }
                _ => {
                    if let Some(p) = pending_at.take() {
                        let job = sentry_kanban::writeback::WriteBackJob {
                            card: id.into(),
                            requested_at: at(p),
                            installation: None,
                        };
                        db::run(
                            &conn,
                            &[wb::settle(&job, if rng.pick(2) == 0 { "done" } else { "failed" }, None, &at(t))],
                        );
                    }
                    "none"
                }
            };
            let after = facts(&conn, id);
            let expected: Vec<String> = before
                .iter()
                .zip(after.iter())
                .filter(|(b, a)| b.1 != a.1)
                .map(|(b, a)| {
                    let w = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
                    format!("{}: {} -> {}", b.0, w(&b.1), w(&a.1))
                })
                .collect();
            let added: Vec<String> = lines(&conn, id)[seen..].to_vec();
            let shown: Vec<String> = added
                .iter()
                .map(|l| l.splitn(3, ' ').nth(2).unwrap_or("").rsplit_once(" (").map_or("", |p| p.0).to_string())
                .collect();
            assert_eq!(shown, expected, "seed {seed} step {step} ({source}): {added:#?}");
            assert!(
                added.iter().all(|l| l.starts_with(source)),
                "seed {seed} step {step}: {added:#?} not from {source}"
            );
            changes += added.len();
            *by_source.entry(source).or_insert(0) += added.len();
        }
    }
    assert!(changes > 200, "the steps change cards: {changes}");
    assert!(["sentry", "sync", "board"].iter().all(|s| by_source.get(s).is_some_and(|n| *n > 20)), "{by_source:?}");
}

/// A priority change (migrations/0013's column) is an entry too.
#[test]
fn a_priority_change_is_in_the_history() {
    let conn = fresh_db();
    let issue = Issue::new("8");
    send(&conn, "created", &issue, 0);
    let low = issue.to_json(false).replace(r#""priority":"high""#, r#""priority":"low""#);
    let reply = HttpReply { status: 200, body: format!("[{low}]"), ..Default::default() };
    let page = parse_page(&reply, Some("u1")).expect("page parses");
    let fetched = sentry_kanban::time::format_millis(arrival(10));
    db::run(&conn, &page_statements(&page, "r1", &fetched, &fetched, &fetched));
    assert_eq!(lines(&conn, "8"), ["sync sync priority: high -> low (-)"]);
}
