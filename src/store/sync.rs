//! SQL for the cron sync's runs and per-organization leases (schema:
//! migrations/0007_sentry_sync.sql).

use crate::config::Config;
use crate::sql::row_text as text;
use crate::sql::{SqlValue, Stmt};
use serde_json::{Map, Value};

/// Takes the organization's lease for run `?2` until `?3`, unless another
/// run holds one that is still valid at `?4`; a row comes back only when
/// taken.
pub const CLAIM_LEASE: &str = "\
INSERT INTO sync_leases (org_slug, run_id, lease_until) VALUES (?1, ?2, ?3)
ON CONFLICT (org_slug) DO UPDATE SET run_id = excluded.run_id, lease_until = excluded.lease_until
WHERE sync_leases.lease_until < ?4
RETURNING run_id";

pub fn claim_params(org: &str, run: &str, lease_until: &str, now: &str) -> Vec<SqlValue> {
    vec![org.into(), run.into(), lease_until.into(), now.into()]
}

pub const LEASE_HOLDER: &str = "SELECT run_id FROM sync_leases WHERE org_slug = ?1";

/// Whether run `?2` still holds organization `?1`'s lease.
pub const HOLDS_LEASE: &str = "SELECT 1 AS held FROM sync_leases WHERE org_slug = ?1 AND run_id = ?2";

const START_RUN: &str = "\
INSERT INTO sync_runs (id, org_slug, installation_uuid, trigger, status, started_at, updated_at)
VALUES (?1, ?2, ?3, ?4, 'running', ?5, ?5)";

pub fn start_run(run: &str, org: &str, installation: Option<&str>, trigger: &str, now: &str) -> Stmt {
    Stmt {
        sql: START_RUN,
        params: vec![run.into(), org.into(), installation.map(str::to_string).into(), trigger.into(), now.into()],
    }
}

/// One page written: counts (drift from the run's findings, see
/// `store::health::RECORD_DRIFT`), and the lease moves on.
/// The sync_drift rows of the run hold one finding per issue, so each
/// issue counts once per kind however many pages show it.
const PROGRESS: &str = "\
UPDATE sync_runs SET pages = pages + 1, issues = issues + ?2, updated_at = ?3,
    drift_missing = (SELECT COUNT(*) FROM sync_drift AS d WHERE d.run_id = ?1 AND d.missing = 1),
    drift_status = (SELECT COUNT(*) FROM sync_drift AS d WHERE d.run_id = ?1 AND d.status = 1),
    drift_assignee = (SELECT COUNT(*) FROM sync_drift AS d WHERE d.run_id = ?1 AND d.assignee = 1)
WHERE id = ?1";

/// One page written: counts, and the lease moves on.
pub fn progress(run: &str, issues: i32, lease_until: &str, now: &str) -> Vec<Stmt> {
    vec![
        Stmt { sql: PROGRESS, params: vec![run.into(), issues.into(), now.into()] },
        Stmt {
            sql: "UPDATE sync_leases SET lease_until = ?2 WHERE run_id = ?1",
            params: vec![run.into(), lease_until.into()],
        },
    ]
}

/// A failed page attempt (it will be tried again).
pub fn page_failed(run: &str, error: &str, now: &str) -> Stmt {
    Stmt {
        sql: "UPDATE sync_runs SET errors = errors + 1, last_error = ?2, updated_at = ?3 WHERE id = ?1",
        params: vec![run.into(), error.into(), now.into()],
    }
}

/// Ends a run (`done` or `failed`) and frees its lease.
pub fn finish(run: &str, status: &str, error: Option<&str>, now: &str) -> Vec<Stmt> {
    vec![
        Stmt {
            sql: "UPDATE sync_runs SET status = ?2, last_error = COALESCE(?3, last_error), finished_at = ?4,
                updated_at = ?4 WHERE id = ?1 AND status = 'running'",
            params: vec![run.into(), status.into(), error.map(str::to_string).into(), now.into()],
        },
        Stmt { sql: "DELETE FROM sync_leases WHERE run_id = ?1", params: vec![run.into()] },
    ]
}

/// Marks failed the run still holding an expired lease on organization
/// `?1` at `?2`: it stopped without finishing (e.g. its message died).
const EXPIRE_STALE: &str = "\
UPDATE sync_runs SET status = 'failed', last_error = COALESCE(last_error, 'stopped: its lease expired'),
    finished_at = ?2, updated_at = ?2
WHERE status = 'running' AND id IN (SELECT run_id FROM sync_leases WHERE org_slug = ?1 AND lease_until < ?2)";

pub fn expire_stale(org: &str, now: &str) -> Stmt {
    Stmt { sql: EXPIRE_STALE, params: vec![org.into(), now.into()] }
}

/// The newest runs, with their duration so far.
pub const LIST_RUNS: &str = "\
SELECT id, org_slug AS org, trigger, status, pages, issues, errors, last_error, started_at, finished_at,
    drift_missing, drift_status, drift_assignee,
    CAST(ROUND((julianday(COALESCE(finished_at, updated_at)) - julianday(started_at)) * 86400000) AS INTEGER)
        AS duration_ms
FROM sync_runs ORDER BY started_at DESC, id DESC LIMIT 50";

/// Installations a sync can run for: installed ones, and internal ones.
pub const TARGETS: &str = "\
SELECT uuid, org_slug, mode FROM installations
WHERE org_slug IS NOT NULL AND status != 'deleted' AND (status = 'installed' OR mode = 'internal')
ORDER BY uuid";

/// `(org, installation)` pairs to sync: the internal integration's one
/// organization (with its installation row, if a webhook created one), or
/// every installed organization.
pub fn targets(cfg: &Config, rows: &[Map<String, Value>]) -> Vec<(String, Option<String>)> {
    if let Some(internal) = &cfg.internal {
        let uuid = rows
            .iter()
            .find(|r| {
                text(r, "mode").as_deref() == Some("internal")
                    && text(r, "org_slug").as_deref() == Some(&internal.org_slug)
            })
            .and_then(|r| text(r, "uuid"));
        return vec![(internal.org_slug.clone(), uuid)];
    }
    rows.iter()
        .filter(|r| text(r, "mode").as_deref() != Some("internal"))
        .filter_map(|r| Some((text(r, "org_slug")?, Some(text(r, "uuid")?))))
        .collect()
}
