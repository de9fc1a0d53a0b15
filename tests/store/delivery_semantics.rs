//! Issue 16, natively: Sentry's sender (`support::sender`, written from
//! wire-formats §5.4) plays random histories of user actions against the
//! real core and the rusqlite store with the real migrations.
//!
//! - With a token, whatever the network does (retries, duplicates,
//!   reordering), every card converges to Sentry's final state once the
//!   queued re-reads have run.
//! - Without a token, every run whose original deliveries arrive in order
//!   (retries and repeats anywhere) ends in Sentry's final state, except
//!   what only the API can tell (see `sender::actions`): unassignments and
//!   edits back to an earlier text are left to the token runs and the sync.

use crate::support;

use rusqlite::Connection;
use sentry_kanban::config::Config;
use sentry_kanban::store;
use serde_json::Value;
use support::arbitrary::Rng;
use support::db::{self, fresh_db};
use support::hook::{arrival, cfg, deliver_full};
use support::reread::{serve, token_cfg, Answer};
use support::sender::{actions, play, Network, Run, SimIssue};

/// The card as `/api/items` shows it, with its live comments as
/// `/api/items/{id}/comments` shows them.
fn board_card(conn: &Connection, id: &str) -> Option<Value> {
    let items = db::rows(conn, store::LIST_ITEMS);
    let all_comments = db::rows(conn, store::LIST_COMMENTS);
    let board = store::board_json(&items, &all_comments);
    let mut card = board["items"].as_array()?.iter().find(|i| i["id"] == id).cloned()?;
    let rows = db::query(conn, store::LIST_CARD_COMMENTS, &[id.into()]);
    card["comments"] = store::comments_json(&rows)["comments"].clone();
    Some(card)
}

/// Why the card differs from Sentry's state, if it does.
fn mismatch(conn: &Connection, want: &SimIssue) -> Option<String> {
    let Some(card) = board_card(conn, &want.id) else { return Some("no card".into()) };
    let assignee = want.assignee.as_ref().map(|p| p.on_board());
    let comments: Vec<(String, String)> = want.comments.iter().map(|(id, t)| (id.to_string(), t.clone())).collect();
    let got_comments: Vec<(String, String)> = card["comments"]
        .as_array()
        .map(|cs| {
            cs.iter()
                .map(|c| (c["id"].as_str().unwrap_or("").to_string(), c["text"].as_str().unwrap_or("").to_string()))
                .collect()
        })
        .unwrap_or_default();
    let mut got_sorted = got_comments.clone();
    got_sorted.sort();
    let checks = [
        (card["status"] == want.status, format!("status {} != {}", card["status"], want.status)),
        (card["column"] == want.column(), format!("column {} != {}", card["column"], want.column())),
        (
            card["assignee"] == assignee.clone().unwrap_or(Value::Null),
            format!("assignee {} != {assignee:?}", card["assignee"]),
        ),
        (got_sorted == comments, format!("comments {got_sorted:?} != {comments:?}")),
    ];
    checks.into_iter().find(|(ok, _)| !ok).map(|(_, why)| why)
}

/// Delivers the run's attempts in arrival order; with `serve_every`, the
/// queued re-reads run now and then in between, answered with Sentry's
/// state at that moment, and all of them at the end.
fn drive(conn: &Connection, cfg: &Config, run: &Run, rng: &mut Rng, rereads: bool) {
    for a in run.in_arrival_order() {
        let plan = deliver_full(conn, cfg, a.resource, a.body.as_bytes(), arrival(a.arrives_at), &a.request_id);
        assert_eq!(plan.reply.status, 200);
        assert_ne!(plan.verdict.outcome.as_str(), "unusable", "{}", a.body);
        if rereads && rng.chance(3) {
            let state = run.state_at(a.arrives_at).clone();
            serve(conn, a.arrives_at, |_| Answer::issue(state.api_issue()).with_comments(&state.api_notes()));
        }
    }
    if rereads {
        let last = run.last().clone();
        let end = run.attempts.iter().map(|a| a.arrives_at).max().unwrap_or(0) + 1;
        serve(conn, end, |_| Answer::issue(last.api_issue()).with_comments(&last.api_notes()));
    }
}

fn explain(run: &Run) -> String {
    let acts: Vec<String> = run
        .states
        .iter()
        .map(|(t, s)| format!("t{t}: {} {:?} {:?}", s.status, s.assignee.as_ref().map(|p| &p.name), s.comments))
        .collect();
    let attempts: Vec<String> = run
        .in_arrival_order()
        .iter()
        .map(|a| {
            format!(
                "built {} arrives {} {} rid {} {}",
                a.built_at,
                a.arrives_at,
                a.resource,
                &a.request_id[24..],
                &a.body[..a.body.len().min(60)]
            )
        })
        .collect();
    format!("states:\n  {}\nattempts:\n  {}", acts.join("\n  "), attempts.join("\n  "))
}

#[test]
fn with_a_token_every_card_converges_to_sentry_whatever_the_network_does() {
    let mut rng = Rng::new(0x16_5E17);
    let net = Network { max_delay: 40, retry_one_in: 3, duplicate_one_in: 8 };
    let mut calls = 0;
    for round in 0..1500 {
        let conn = fresh_db();
        let acts = actions(&mut rng, 10, false, true);
        let run = play(&mut rng, "4242", &acts, net);
        drive(&conn, &token_cfg(), &run, &mut rng, true);
        if let Some(why) = mismatch(&conn, run.last()) {
            panic!("round {round}: {why}\n{}", explain(&run));
        }
        assert!(support::reread::requested(&conn).is_empty(), "round {round}: a re-read left behind");
        calls += run.attempts.len();
    }
    eprintln!("1500 histories, {calls} attempts");
}

#[test]
fn without_a_token_in_order_originals_with_retries_and_repeats_anywhere_end_right() {
    let mut rng = Rng::new(0x16_0A0B);
    let net = Network { max_delay: 0, retry_one_in: 3, duplicate_one_in: 6 };
    for round in 0..2000 {
        let conn = fresh_db();
        let acts = actions(&mut rng, 10, true, false);
        let run = play(&mut rng, "4343", &acts, net);
        drive(&conn, &cfg(), &run, &mut rng, false);
        if let Some(why) = mismatch(&conn, run.last()) {
            panic!("round {round}: {why}\n{}", explain(&run));
        }
        assert!(support::reread::requested(&conn).is_empty(), "no token, no re-read");
    }
}

#[test]
fn a_burst_for_one_issue_makes_a_handful_of_reads() {
    let conn = fresh_db();
    support::hook::take_queued();
    let mut rng = Rng::new(7);
    let acts: Vec<_> = (0..1000)
        .map(|i| if i % 2 == 0 { support::sender::Act::Resolve } else { support::sender::Act::Unresolve })
        .collect();
    let run = play(&mut rng, "4444", &acts, Network { max_delay: 30, retry_one_in: 4, duplicate_one_in: 10 });
    assert!(run.attempts.len() > 1000);
    // All within a few seconds, as a burst arrives.
    for a in run.in_arrival_order() {
        deliver_full(&conn, &token_cfg(), a.resource, a.body.as_bytes(), arrival(0), &a.request_id);
    }
    let rows = db::rows(&conn, "SELECT COUNT(*) AS n FROM rereads")[0]["n"].as_i64();
    assert_eq!(rows, Some(1), "one request in flight for the issue");
    assert_eq!(support::hook::queued_count(), 1, "the whole burst queued one re-read job");
    let last = run.last().clone();
    let reads = serve(&conn, 1_000_000, |_| Answer::issue(last.api_issue()));
    assert_eq!(reads, 1, "the whole burst is answered by one read");
    assert!(mismatch(&conn, &last).is_none());
}
