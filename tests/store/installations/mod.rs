//! The installation-side SQL (src/store/installations.rs) on SQLite with the
//! real migrations: installations and their lifecycle, the token lease, members,
//! queue jobs, the UI component queries, issue links, the organization filter
//! on the board, and the delivery log's failure marking.

mod board_and_log;
mod lifecycle;
mod members_and_jobs;
mod token_lease;
mod ui_components;

use crate::support;

use rusqlite::Connection;
use sentry_kanban::log::DeliveryLog;
use sentry_kanban::sentry::token::Token;
use sentry_kanban::sql::{SqlValue, Stmt};
use sentry_kanban::store::{self, installations as inst};
use serde_json::{json, Map, Value};
use support::db::{card, fresh_db, items, query, rows, run};
use support::hook::{at, deliver_as};
use support::sentry::{issue_body, jane, Issue, INSTALLATION};

/// A canonical time `s` seconds after 2026-01-01T00:00:00.000Z (s < 3600).
fn ts(s: u32) -> String {
    assert!(s < 3600);
    format!("2026-01-01T00:{:02}:{:02}.000Z", s / 60, s % 60)
}

fn installation(uuid: &str, org: &str, status: &str, grant: Option<&str>) -> inst::Installation {
    inst::Installation {
        uuid: uuid.into(),
        org_slug: Some(org.into()),
        org_id: Some(format!("id-{org}")),
        app_slug: Some("kanban".into()),
        status: status.into(),
        mode: "public",
        grant_code: grant.map(str::to_string),
    }
}

/// The installations row for `uuid`, or None.
fn inst_row(conn: &Connection, uuid: &str) -> Option<Map<String, Value>> {
    let mut found = query(conn, "SELECT * FROM installations WHERE uuid = ?1", &[uuid.into()]);
    assert!(found.len() <= 1);
    found.pop()
}

fn token_row(conn: &Connection, uuid: &str) -> Option<Map<String, Value>> {
    query(conn, inst::TOKEN, &[uuid.into()]).pop()
}

fn tok(token: &str, refresh: Option<&str>) -> Token {
    Token {
        token: token.into(),
        refresh_token: refresh.map(str::to_string),
        expires_at: Some("2026-01-01T08:00:00Z".into()),
    }
}

fn claim(conn: &Connection, uuid: &str, now: &str, lease_end: &str) -> Vec<Map<String, Value>> {
    query(conn, inst::CLAIM_REFRESH, &[uuid.into(), now.into(), lease_end.into()])
}

/// A card row written directly (the UI and filter queries only read cards).
fn insert_card(conn: &Connection, id: &str, installation: Option<&str>, short_id: &str, title: &str, last_seen: &str) {
    conn.execute(
        "INSERT INTO cards (id, installation_uuid, short_id, title, status, last_seen, applied_at, created_at,
            updated_at) VALUES (?1, ?2, ?3, ?4, 'unresolved', ?5, ?5, ?5, ?5)",
        rusqlite::params![id, installation, short_id, title, last_seen],
    )
    .expect("insert card");
}

fn assign(conn: &Connection, id: &str, kind: &str, assignee: &str, name: Option<&str>, email: Option<&str>) {
    let n = conn
        .execute(
            "UPDATE cards SET assignee_type = ?2, assignee_id = ?3, assignee_name = ?4, assignee_email = ?5
            WHERE id = ?1",
            rusqlite::params![id, kind, assignee, name, email],
        )
        .expect("assign");
    assert_eq!(n, 1);
}

fn member(id: &str, user: Option<&str>, name: Option<&str>, email: Option<&str>) -> inst::Member {
    inst::Member {
        member_id: id.into(),
        user_id: user.map(str::to_string),
        name: name.map(str::to_string),
        email: email.map(str::to_string),
    }
}

fn field<'a>(rows: &'a [Map<String, Value>], key: &str) -> Vec<&'a Value> {
    rows.iter().map(|r| &r[key]).collect()
}
