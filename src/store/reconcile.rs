//! SQL for the GitHub team reconcile (schema:
//! migrations/0018_github_reconcile.sql): its runs and their lease, the
//! team map and recorded members it compares GitHub with, and the claim
//! that records a correction as a `github_sync` event.

use crate::github::reconcile::{Correction, Counts, MapEntry};
use crate::github::sync::{MemberAction, MembershipJob};
use crate::sql::row_text as text;
use crate::sql::{SqlValue, Stmt};
use crate::store::github::mapped_team;
use serde_json::{Map, Value};

type Row = Map<String, Value>;

/// How long a run may go without a message before another may start;
/// every message moves it on (past any wait it asks for).
pub const LEASE_MS: i64 = 15 * 60 * 1000;

/// The end of a run's lease moved on at `now_ms`, past a wait of `delay_secs`.
pub fn lease_until(now_ms: i64, delay_secs: u32) -> String {
    crate::time::format_millis(now_ms + i64::from(delay_secs) * 1000 + LEASE_MS)
}

/// Closes the runs whose lease ran out at `?1` (their messages were lost).
pub fn expire(now: &str) -> Stmt {
    Stmt {
        sql: "UPDATE github_reconciles SET status = 'failed', finished_at = ?1, updated_at = ?1,
                last_error = COALESCE(last_error || '; ', '') || 'stopped without finishing (its lease ran out)'
            WHERE status = 'running' AND lease_until < ?1",
        params: vec![now.into()],
    }
}

/// Starts run `?1` unless another one holds a lease valid at `?5`; a row
/// comes back only when started.
pub const START: &str = "\
INSERT INTO github_reconciles (id, github_org, trigger, dry_run, status, started_at, updated_at, lease_until)
SELECT ?1, ?2, ?3, ?4, 'running', ?5, ?5, ?6
WHERE NOT EXISTS (SELECT 1 FROM github_reconciles WHERE status = 'running' AND lease_until >= ?5)
RETURNING id";

pub fn start_params(run: &str, org: &str, trigger: &str, dry_run: bool, now: &str, until: &str) -> Vec<SqlValue> {
    vec![run.into(), org.into(), trigger.into(), dry_run.into(), now.into(), until.into()]
}

pub const RUNNING: &str = "SELECT id FROM github_reconciles WHERE status = 'running' ORDER BY started_at DESC LIMIT 1";

/// Whether run `?1` is still the one running (not expired and replaced).
pub const HOLDS: &str = "SELECT 1 AS held FROM github_reconciles WHERE id = ?1 AND status = 'running'";

fn n(v: u32) -> SqlValue {
    i32::try_from(v).unwrap_or(i32::MAX).into()
}

fn counts_params(run: &str, c: &Counts) -> Vec<SqlValue> {
    let mut params = vec![run.into(), n(c.teams), n(c.teams_missing), n(c.teams_renamed)];
    params.extend([n(c.members_missing), n(c.members_extra)]);
    params
}

const PROGRESS: &str = "\
UPDATE github_reconciles SET teams = ?2, teams_missing = ?3, teams_renamed = ?4, members_missing = ?5,
    members_extra = ?6, last_error = COALESCE(?7, last_error), lease_until = ?8, updated_at = ?9
WHERE id = ?1 AND status = 'running'";

/// A message handed over: the counts so far (and the failure that made it
/// wait, if one did), and the lease until `until`.
pub fn progress(run: &str, counts: &Counts, error: Option<&str>, until: &str, now: &str) -> Stmt {
    let mut params = counts_params(run, counts);
    params.extend([error.map(str::to_string).into(), until.into(), now.into()]);
    Stmt { sql: PROGRESS, params }
}

const FINISH: &str = "\
UPDATE github_reconciles SET status = ?7, teams = ?2, teams_missing = ?3, teams_renamed = ?4,
    members_missing = ?5, members_extra = ?6, last_error = COALESCE(?8, last_error), finished_at = ?9,
    updated_at = ?9
WHERE id = ?1 AND status = 'running'";

/// Ends a run: `done` or `failed` (with why), with what it found.
pub fn finish(run: &str, status: &str, counts: &Counts, error: Option<&str>, now: &str) -> Stmt {
    let mut params = counts_params(run, counts);
    params.extend([status.into(), error.map(str::to_string).into(), now.into()]);
    Stmt { sql: FINISH, params }
}

/// The newest runs, for `GET /api/github/sync` (`reconciles`).
pub const LIST_RUNS: &str = "\
SELECT id, github_org, trigger, dry_run, status, teams, teams_missing, teams_renamed, members_missing, members_extra,
    last_error, started_at, finished_at
FROM github_reconciles ORDER BY started_at DESC, id DESC LIMIT 20";

/// The organization the newest recorded webhook came from, when
/// `GITHUB_ORG` is not set.
pub const LAST_ORG: &str = "\
SELECT github_org FROM github_sync WHERE github_org IS NOT NULL AND github_org != '' ORDER BY rowid DESC LIMIT 1";

pub fn last_org(row: Option<&Row>) -> Option<String> {
    row.and_then(|r| text(r, "github_org"))
}

/// The map's entries for the GitHub team ids in the JSON array `?1`.
pub const MAP_FOR: &str = "\
SELECT github_team_id, github_slug, sentry_slug, state, ownership FROM github_teams
WHERE github_team_id IN (SELECT value FROM json_each(?1))";

pub fn map_params(ids: &[String]) -> Vec<SqlValue> {
    vec![Value::from(ids.to_vec()).to_string().into()]
}

pub fn map_entries(rows: &[Row]) -> Vec<MapEntry> {
    let entry = |r: &Row| {
        Some(MapEntry {
            team_id: text(r, "github_team_id")?,
            github_slug: text(r, "github_slug"),
            team: mapped_team(r)?,
        })
    };
    rows.iter().filter_map(entry).collect()
}

/// Who the worker put on GitHub team `?1`'s Sentry team.
pub const RECORDED: &str = "SELECT login FROM github_members WHERE github_team_id = ?1 ORDER BY login LIMIT 10000";

pub fn recorded(rows: &[Row]) -> Vec<String> {
    rows.iter().filter_map(|r| text(r, "login")).collect()
}

/// A membership job that finished (`done`): the login is now on the team,
/// or off it.
pub fn member_applied(job: &MembershipJob, now: &str) -> Stmt {
    let (team, login) = (job.team_id.as_str().into(), job.login.as_str().into());
    match job.action {
        MemberAction::Added => Stmt {
            sql: "INSERT INTO github_members (github_team_id, login, updated_at) VALUES (?1, ?2, ?3)
                ON CONFLICT (github_team_id, login) DO UPDATE SET updated_at = excluded.updated_at",
            params: vec![team, login, now.into()],
        },
        MemberAction::Removed => Stmt {
            sql: "DELETE FROM github_members WHERE github_team_id = ?1 AND login = ?2",
            params: vec![team, login],
        },
    }
}

/// Records a correction as a `github_sync` event, as a webhook's is, unless
/// an event for the same team (and login) arrived since `?11` (the listing
/// is older than it) or is still under way: that event decides. A row comes
/// back only when recorded; only then is the job queued.
const CLAIM: &str = "\
INSERT INTO github_sync
    (delivery_id, body_sha256, event, action, team_id, team_slug, login, github_org, status, detail, received_at,
     updated_at)
SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?12, ?12
WHERE NOT EXISTS (
    SELECT 1 FROM github_sync AS e
    WHERE e.event = ?3 AND e.team_id = ?5 AND COALESCE(e.login, '') = COALESCE(?7, '') COLLATE NOCASE
        AND (e.received_at >= ?11 OR e.status IN ('queued', 'retrying')))
ON CONFLICT (delivery_id, body_sha256) DO NOTHING
RETURNING delivery_id";

pub fn claim(c: &Correction, now: &str) -> Stmt {
    let r = &c.record;
    Stmt {
        sql: CLAIM,
        params: vec![
            r.delivery.as_str().into(),
            r.body_sha256.as_str().into(),
            r.event.into(),
            r.action.as_str().into(),
            r.team_id.clone().into(),
            r.team_slug.clone().into(),
            r.login.clone().into(),
            r.org.clone().into(),
            r.status.into(),
            r.detail.clone().into(),
            c.since.as_str().into(),
            now.into(),
        ],
    }
}
