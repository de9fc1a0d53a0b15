//! The board as stored: signed Sentry deliveries go through the real
//! `hook::handle` (verify → parse → plan), the planned statements run on
//! SQLite with the real migrations, and the board is read back with the
//! worker's own `LIST_ITEMS` and `item_from_row`.

mod fixtures;
mod late_deliveries;
mod lifecycle;
mod stored_fields;

use crate::support;

use rusqlite::Connection;
use sentry_kanban::plan::Plan;
use sentry_kanban::prior::Prior;
use sentry_kanban::sentry::decide::decide;
use sentry_kanban::sentry::hook::{handle, Delivery, Step};
use sentry_kanban::sql::Stmt;
use sentry_kanban::verify::sign_hex;
use serde_json::{json, Value};
use support::db::{self, card, card_count, fresh_db, items};
use support::hook::{arrival, at, cfg, deliver_as, deliver_full, request_id, NOW, SECRET};
use support::reread::{requested, serve, token_cfg, Answer};
use support::sentry::{
    backend_team, fixture, fixtures_dir, issue_body, jane, js, literal_fixtures, Assigned, Issue, FIXTURE_ISSUE,
    INSTALLATION,
};

fn deliver(conn: &Connection, body: &[u8], t: i64) -> Plan {
    deliver_as(conn, "issue", body, t)
}

/// Sends `issue.<action>` for `issue` at `t` and returns its card.
fn send(conn: &Connection, action: &str, issue: &Issue, t: i64) -> Value {
    let plan = deliver(conn, issue_body(action, issue).as_bytes(), t);
    let want = if plan.reply.body["status"] == "kept" { "filled" } else { "applied" };
    assert_eq!(plan.verdict.outcome.as_str(), want, "{action}: {:?}", plan.reply);
    card(conn, &issue.id)
}

/// Same, by a worker with a token (internal integration): what it cannot
/// order is re-read.
fn send_with_token(conn: &Connection, action: &str, issue: &Issue, t: i64) -> Plan {
    let body = issue_body(action, issue);
    deliver_full(conn, &token_cfg(), "issue", body.as_bytes(), arrival(t), &request_id())
}

/// What Sentry's API answers for `issue` now.
fn api(issue: &Issue) -> Answer {
    Answer::issue(issue.to_json(true))
}

/// The `applied_at` stored for a card, which the API does not expose.
fn applied_at(conn: &Connection, id: &str) -> String {
    conn.query_row("SELECT applied_at FROM cards WHERE id = ?1", [id], |r| r.get(0)).expect("applied_at")
}

const TITLE: &str = "TypeError: Caf\u{e9} \u{2013} \u{201c}d\u{e9}j\u{e0} vu\u{201d} \u{1f600}";
