//! SQL for webhook health (schema: migrations/0014_webhook_health.sql,
//! and 0018_github_reconcile.sql for the GitHub reconcile's findings):
//! what a sync page finds the webhooks missed, measured before the page is
//! written, and the one read behind `GET /api/webhook-health`.

use crate::board::{AssigneeChange, IssueState};
use crate::health::{Drift, Facts, GithubDrift};
use crate::sql::row_text as text;
use crate::sql::Stmt;
use serde_json::{Map, Value};

/// The newest delivery of a source that the source itself sent: every row
/// of `deliveries` is verified; a replay from the delivery page
/// (`replay_of`) and a UI-component request (a Sentry user's click, not a
/// webhook) are not webhooks arriving.
macro_rules! last_webhook {
    ($source:literal) => {
        concat!(
            "(SELECT MAX(received_at) FROM deliveries WHERE source = '",
            $source,
            "' AND replay_of IS NULL AND COALESCE(resource, '') != 'ui_component')"
        )
    };
}

/// Records what the webhooks missed about issue `?1`, as Sentry reports it
/// on a page of run `?2` fetched at `?8`, before the page writes it: no card
/// (`missing`), a card whose status is not `?3` (`status`), a card whose
/// assignee key (`type:id`, NULL for nobody) is not `?4` when the page says
/// who it is (`?5`). A card a board change is still pushing to Sentry, or one
/// written after the page was fetched (the page will not overwrite it, see
/// `UPSERT_CARD`), has not drifted. Nothing is written when the card agrees.
///
/// `changed_at` is the issue's firstSeen (`?6`, never later than the fetch)
/// for a missing card, and the fetch time for a drift; while no verified
/// Sentry delivery has arrived since an earlier finding, the earlier time is
/// kept (the change has gone unreported since then). `evidence`: whether the
/// finding shows the webhooks silent; an unassignment alone does not, as
/// Sentry sends no webhook for it.
const RECORD_DRIFT: &str = concat!(
    "\
INSERT INTO sync_drift (issue_id, run_id, missing, status, assignee, evidence, changed_at, seen_at)
SELECT ?1, ?2, d.missing, d.status, d.assignee, d.missing OR d.status OR (d.assignee AND ?4 IS NOT NULL),
    CASE WHEN d.missing THEN COALESCE(MIN(?6, ?8), ?8) ELSE ?8 END, ?7
FROM (SELECT
    NOT EXISTS (SELECT 1 FROM cards WHERE id = ?1) AS missing,
    EXISTS (SELECT 1 FROM cards AS c WHERE c.id = ?1 AND c.applied_at <= ?8 AND c.status != ?3
        AND NOT (c.writeback_status = 1 AND c.writeback_state IN ('pending', 'retrying'))) AS status,
    EXISTS (SELECT 1 FROM cards AS c WHERE c.id = ?1 AND ?5 AND c.applied_at <= ?8
        AND NOT (c.writeback_assignee = 1 AND c.writeback_state IN ('pending', 'retrying'))
        AND (CASE WHEN c.assignee_id IS NULL AND c.assignee_name IS NULL THEN NULL
             ELSE COALESCE(c.assignee_type, 'user') || ':' || COALESCE(c.assignee_id, c.assignee_name) END)
            IS NOT ?4) AS assignee
) AS d
WHERE d.missing OR d.status OR d.assignee
ON CONFLICT (issue_id) DO UPDATE SET
    run_id = excluded.run_id,
    missing = CASE WHEN sync_drift.run_id = excluded.run_id THEN MAX(sync_drift.missing, excluded.missing)
        ELSE excluded.missing END,
    status = CASE WHEN sync_drift.run_id = excluded.run_id THEN MAX(sync_drift.status, excluded.status)
        ELSE excluded.status END,
    assignee = CASE WHEN sync_drift.run_id = excluded.run_id THEN MAX(sync_drift.assignee, excluded.assignee)
        ELSE excluded.assignee END,
    evidence = CASE WHEN sync_drift.changed_at > COALESCE(",
    last_webhook!("sentry"),
    ", '') THEN MAX(sync_drift.evidence, excluded.evidence)
        ELSE excluded.evidence END,
    changed_at = CASE WHEN sync_drift.changed_at > COALESCE(",
    last_webhook!("sentry"),
    ", '') THEN MIN(sync_drift.changed_at, excluded.changed_at)
        ELSE excluded.changed_at END,
    seen_at = excluded.seen_at"
);

/// The drift statement for one issue of a page (see `RECORD_DRIFT`); it
/// must run before the page's card upserts, in the same batch.
pub fn record_drift(state: &IssueState, run: &str, fetched_at: &str, now: &str) -> Stmt {
    let s = &state.snapshot;
    let (known, key) = match &state.assignee {
        AssigneeChange::Keep => (false, None),
        AssigneeChange::Set(None) => (true, None),
        // An assignee with neither id nor name is stored as nobody.
        AssigneeChange::Set(Some(a)) if a.id.is_none() && a.name.is_none() => (true, None),
        AssigneeChange::Set(Some(a)) => (true, Some(a.key())),
    };
    Stmt {
        sql: RECORD_DRIFT,
        params: vec![
            s.id.clone().into(),
            run.into(),
            state.status.as_str().into(),
            key.into(),
            known.into(),
            s.first_seen.clone().into(),
            now.into(),
            fetched_at.into(),
        ],
    }
}

/// Everything `GET /api/webhook-health` needs, in one row: the newest
/// verified delivery per source, the changes found by syncs since the newest
/// Sentry one, the newest finished run's drift, the newest finished GitHub
/// reconcile's findings, the alarm state last logged.
pub const HEALTH: &str = concat!(
    "\
SELECT
    ",
    last_webhook!("sentry"),
    " AS sentry_verified_at,
    ",
    last_webhook!("github"),
    " AS github_verified_at,
    u.n AS unreported, u.since AS unreported_since,
    r.finished_at AS last_sync_at, r.drift_missing, r.drift_status, r.drift_assignee,
    g.finished_at AS last_reconcile_at, g.dry_run AS reconcile_dry_run, g.teams_missing AS github_teams_missing,
    g.teams_renamed AS github_teams_renamed, g.members_missing AS github_members_missing,
    g.members_extra AS github_members_extra,
    (SELECT alarm FROM webhook_alarms WHERE source = 'sentry') AS logged_alarm
FROM (SELECT COUNT(*) AS n, MIN(changed_at) AS since FROM sync_drift
        WHERE evidence = 1 AND changed_at > COALESCE(",
    last_webhook!("sentry"),
    ", '')
    ) AS u
LEFT JOIN (SELECT finished_at, drift_missing, drift_status, drift_assignee FROM sync_runs
        WHERE status = 'done' ORDER BY finished_at DESC, id DESC LIMIT 1) AS r ON 1
LEFT JOIN (SELECT finished_at, dry_run, teams_missing, teams_renamed, members_missing, members_extra
        FROM github_reconciles WHERE status = 'done' ORDER BY finished_at DESC, id DESC LIMIT 1) AS g ON 1"
);

pub fn health_stmt() -> Stmt {
    Stmt { sql: HEALTH, params: vec![] }
}

/// Reads `HEALTH`'s row (`None`: as for an empty database).
pub fn facts_from_row(row: Option<&Map<String, Value>>) -> Facts {
    let Some(row) = row else { return Facts::default() };
    let count = |k: &str| row.get(k).and_then(Value::as_f64).map_or(0, |n| n.max(0.0).min(f64::from(u32::MAX)) as u32);
    Facts {
        sentry_verified_at: text(row, "sentry_verified_at"),
        github_verified_at: text(row, "github_verified_at"),
        unreported: count("unreported"),
        unreported_since: text(row, "unreported_since"),
        drift: Drift {
            last_sync_at: text(row, "last_sync_at"),
            missing: count("drift_missing"),
            status: count("drift_status"),
            assignee: count("drift_assignee"),
        },
        github_drift: GithubDrift {
            last_reconcile_at: text(row, "last_reconcile_at"),
            dry_run: count("reconcile_dry_run") != 0,
            teams_missing: count("github_teams_missing"),
            teams_renamed: count("github_teams_renamed"),
            members_missing: count("github_members_missing"),
            members_extra: count("github_members_extra"),
        },
        logged_alarm: row.get("logged_alarm").and_then(Value::as_f64).map(|n| n != 0.0),
    }
}

/// Records the Sentry alarm state; changes a row only when the state is new,
/// so of two readers that saw the same change only one logs it.
const RECORD_ALARM: &str = "\
INSERT INTO webhook_alarms (source, alarm, reason, changed_at) VALUES (?1, ?2, ?3, ?4)
ON CONFLICT (source) DO UPDATE SET alarm = excluded.alarm, reason = excluded.reason, changed_at = excluded.changed_at
WHERE webhook_alarms.alarm != excluded.alarm";

pub fn record_alarm(source: &str, alarm: bool, reason: Option<&str>, now: &str) -> Stmt {
    Stmt { sql: RECORD_ALARM, params: vec![source.into(), alarm.into(), reason.map(str::to_string).into(), now.into()] }
}
