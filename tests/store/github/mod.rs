//! The GitHub team-sync SQL (src/store/github.rs) on SQLite with the real
//! migrations (0006_github_sync.sql, 0004_installations.sql,
//! 0010_github_hardening.sql): the delivery claim keyed on (delivery id,
//! body digest), its redelivery rule (processed again unless the first
//! attempt succeeded), unclaim, status updates, team ownership, the
//! "superseded by a newer delivery" check, the team map (rename, final
//! deletion), the login → member mapping (case-insensitive, CHECK), the
//! replay of unmapped membership events, the sync status reads, and the
//! installations an installation-mode sync can target.

mod claims;
mod teams_and_users;
mod unmapped_and_status;

use crate::support::db;

use rusqlite::Connection;
use sentry_kanban::github::hook::SyncRecord;
use sentry_kanban::github::lost::Cutoffs;
use sentry_kanban::github::sync::{MappedTeam, MemberAction, MembershipJob, Ownership, TeamAction};
use sentry_kanban::github::users::Mapping;
use sentry_kanban::jobs::Job;
use sentry_kanban::store::github as gh;
use serde_json::{json, Map, Value};

type Row = Map<String, Value>;

const T0: &str = "2026-01-01T00:00:00.000Z";
const T1: &str = "2026-01-01T00:01:00.000Z";
const T2: &str = "2026-01-01T00:02:00.000Z";

fn membership(delivery: &str, action: &str, team: &str, login: &str) -> SyncRecord {
    SyncRecord {
        delivery: delivery.into(),
        body_sha256: digest(delivery),
        event: "membership",
        action: action.into(),
        team_id: Some(team.into()),
        team_slug: Some(format!("slug-{team}")),
        login: Some(login.into()),
        org: Some("acme".into()),
        status: "queued",
        detail: None,
    }
}

fn team_event(delivery: &str, action: &str, team: &str) -> SyncRecord {
    SyncRecord {
        delivery: delivery.into(),
        body_sha256: digest(delivery),
        event: "team",
        action: action.into(),
        team_id: Some(team.into()),
        team_slug: Some(format!("slug-{team}")),
        login: None,
        org: Some("acme".into()),
        status: "queued",
        detail: None,
    }
}

/// The body digest the test records carry: one body per delivery id.
fn digest(delivery: &str) -> String {
    format!("sha-of-{delivery}")
}

/// A row's key: the delivery id and its record's digest.
fn key(delivery: &str) -> (&str, String) {
    (delivery, digest(delivery))
}

/// Runs `CLAIM` at `T0`; the rows it returns (one on first sight, none after).
fn claim(conn: &Connection, r: &SyncRecord) -> Vec<Row> {
    claim_at(conn, r, T0, "2025-12-31T23:50:00.000Z")
}

fn claim_at(conn: &Connection, r: &SyncRecord, now: &str, stuck_before: &str) -> Vec<Row> {
    db::query(conn, gh::CLAIM, &gh::claim_params(r, now, stuck_before))
}

fn claim_all(conn: &Connection, records: &[SyncRecord]) {
    for r in records {
        assert_eq!(claim(conn, r).len(), 1, "claiming {}", r.delivery);
    }
}

fn sync_row(conn: &Connection, delivery: &str) -> Option<Row> {
    db::query(conn, "SELECT * FROM github_sync WHERE delivery_id = ?1", &[delivery.into()]).pop()
}

fn superseded(conn: &Connection, delivery: &str) -> bool {
    prelude_of(conn, delivery, &digest(delivery)).superseded
}

/// What the prelude of the job for row `(delivery, digest)` reads (marking nothing).
fn prelude_of(conn: &Connection, delivery: &str, digest: &str) -> gh::Prelude {
    let row = db::query(
        conn,
        "SELECT event, team_id FROM github_sync WHERE delivery_id = ?1 AND body_sha256 = ?2",
        &[delivery.into(), digest.into()],
    );
    // An unknown delivery: any team, a membership's prelude.
    let (team, team_job) =
        row.first().map_or(("none", false), |r| (r["team_id"].as_str().unwrap(), r["event"] == "team"));
    let read = gh::prelude_read(team, (delivery, digest), (!team_job).then_some("someone"));
    let rows = db::query(conn, read.sql, &read.params);
    assert_eq!(rows.len(), 1, "one row, whatever is mapped");
    gh::read_prelude(&[rows.into_iter().next()]).expect("the prelude row")
}

fn team(conn: &Connection, id: &str) -> Option<MappedTeam> {
    db::query(conn, gh::TEAM, &[id.into()]).first().and_then(gh::mapped_team)
}

fn user(conn: &Connection, login: &str) -> Option<Mapping> {
    db::query(conn, gh::USER, &[login.into()]).first().map(gh::mapping)
}

fn mapping(member_id: Option<&str>, email: Option<&str>) -> Mapping {
    Mapping { member_id: member_id.map(str::to_string), email: email.map(str::to_string) }
}

fn set(conn: &Connection, delivery: &str, status: &str, detail: Option<&str>, attempts: u32) {
    let (d, h) = key(delivery);
    db::run(conn, &[gh::set_status((d, &h), status, detail, attempts, T1)]);
}

fn col<'a>(row: &'a Row, key: &str) -> &'a Value {
    row.get(key).unwrap_or_else(|| panic!("no column {key} in {row:?}"))
}
