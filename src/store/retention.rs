//! The daily clean-up, as bounded deletes: each statement removes at most
//! `bound(table)` rows (`BATCH`, more for the small event keys), and the
//! caller repeats the batch while any statement still hit its bound (up to a
//! fixed number of rounds), so one run stays inside the CPU budget and the
//! next run picks up what is left.

use crate::sql::Stmt;
use crate::time::{format_millis, Millis};

pub const BATCH: i32 = 1000;
/// The bound for `error_seen`, whose rows are small and many (one per
/// distinct error event): the shell's rounds must delete a day of a busy
/// log (a million keys) in one run.
pub const SEEN_BATCH: i32 = 200_000;
/// Resolved error groups not seen for this long are deleted.
pub const RESOLVED_GROUP_DAYS: i64 = 90;
/// The delivery log, finished GitHub sync events, finished jobs and sync
/// runs; also how long a deleted comment's tombstone is kept (it only has to
/// outlive Sentry's retries of an older created/updated delivery).
pub const LOG_DAYS: i64 = 30;
/// The newest live comments kept per card; older ones are deleted, so the
/// comments table (and what the board loads) is bounded by the cards.
pub const COMMENTS_PER_CARD: i32 = 100;

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// Table names, in the order of `statements`.
pub const TABLES: [&str; 11] = [
    "error_events",
    "error_hourly",
    "error_seen",
    "error_groups",
    "sync_drift",
    "deliveries",
    "github_sync",
    "jobs",
    "sync_runs",
    "comments",
    "delivery_bodies",
];

/// Bounded-delete rounds per retention run (the next day goes on).
pub const ROUNDS: usize = 10;

/// Whether a round's deletes (`counts`, in `TABLES` order) left nothing:
/// every statement deleted fewer rows than its bound.
pub fn complete(counts: &[usize]) -> bool {
    counts.iter().zip(TABLES).all(|(&c, t)| c < bound(t) as usize)
}

/// The most rows a run's statement for `table` deletes; a statement that
/// deleted as many may have left some.
pub fn bound(table: &str) -> i32 {
    if table == "error_seen" {
        SEEN_BATCH
    } else {
        BATCH
    }
}

/// Event keys of days before `?1` (days since 1970), a range of the key.
const PRUNE_SEEN: &str = "\
DELETE FROM error_seen WHERE (day, event_id) IN (SELECT day, event_id FROM error_seen WHERE day < ?1 LIMIT ?2)";

/// Kept delivery bodies past their time (`?1`), or whose delivery-log row
/// was trimmed.
const PRUNE_BODIES: &str = "\
DELETE FROM delivery_bodies WHERE delivery_id IN (SELECT b.delivery_id FROM delivery_bodies AS b
    LEFT JOIN deliveries AS d ON d.id = b.delivery_id WHERE b.kept_until < ?1 OR d.id IS NULL LIMIT ?2)";

/// Comments that are gone for good: tombstones older than `?1`, comments of
/// an issue that has no card, and live comments past the newest `?3` of
/// their card (live ones rank first, newest first).
const PRUNE_COMMENTS: &str = "\
DELETE FROM comments WHERE id IN (SELECT id FROM (
        SELECT c.id, c.deleted, c.updated_at, k.id AS card,
            ROW_NUMBER() OVER (PARTITION BY c.issue_id ORDER BY c.deleted, c.time DESC, c.id DESC) AS n
        FROM comments AS c LEFT JOIN cards AS k ON k.id = c.issue_id)
    WHERE (deleted = 1 AND updated_at < ?1) OR card IS NULL OR (deleted = 0 AND n > ?3)
    LIMIT ?2)";

/// Drift that is no longer the silence alarm's evidence (a verified Sentry
/// delivery followed it, or it never was) once its run has counted it. The
/// delivery that followed it stays: the newest of its source is never
/// pruned (`PRUNE_DELIVERIES`).
const PRUNE_DRIFT: &str = concat!(
    "\
DELETE FROM sync_drift WHERE issue_id IN (SELECT issue_id FROM sync_drift
    WHERE NOT (evidence = 1 AND changed_at > COALESCE(",
    last_webhook!("sentry"),
    ", ''))
    AND run_id NOT IN (SELECT id FROM sync_runs WHERE status = 'running') LIMIT ?1)"
);

/// Delivery-log rows older than `?1`, except the newest webhook of each
/// source: the health page's "last verified" and the drift it followed
/// outlive a silence longer than `LOG_DAYS`.
const PRUNE_DELIVERIES: &str = "\
DELETE FROM deliveries WHERE id IN (SELECT d.id FROM deliveries AS d WHERE d.received_at < ?1
    AND d.received_at < COALESCE((SELECT MAX(n.received_at) FROM deliveries AS n WHERE n.source = d.source
        AND n.replay_of IS NULL AND COALESCE(n.resource, '') != 'ui_component'), ?1)
    LIMIT ?2)";

/// `now` minus `days`, in the stored time format.
pub fn cutoff(now: Millis, days: i64) -> String {
    format_millis(now - days * DAY_MS)
}

/// Days since 1970-01-01 (the key of `error_seen`).
fn day_of(ms: Millis) -> i32 {
    ms.div_euclid(DAY_MS) as i32
}

pub fn statements(now: Millis, retention_days: u32) -> Vec<Stmt> {
    let events = cutoff(now, i64::from(retention_days));
    let hour = events.get(..13).unwrap_or(&events).to_string();
    let groups = cutoff(now, RESOLVED_GROUP_DAYS);
    let logs = cutoff(now, LOG_DAYS);
    let bounded = |sql: &'static str, before: &str| Stmt { sql, params: vec![before.into(), BATCH.into()] };
    vec![
        bounded(
            "DELETE FROM error_events WHERE rowid IN (SELECT rowid FROM error_events WHERE time < ?1 LIMIT ?2)",
            &events,
        ),
        bounded(
            "DELETE FROM error_hourly WHERE rowid IN (SELECT rowid FROM error_hourly WHERE hour < ?1 LIMIT ?2)",
            &hour,
        ),
        Stmt {
            sql: PRUNE_SEEN,
            params: vec![day_of(now - i64::from(retention_days) * DAY_MS).into(), SEEN_BATCH.into()],
        },
        bounded(
            "DELETE FROM error_groups WHERE rowid IN (SELECT rowid FROM error_groups
                WHERE status = 'RESOLVED' AND COALESCE(last_seen, updated_at) < ?1 LIMIT ?2)",
            &groups,
        ),
        Stmt { sql: PRUNE_DRIFT, params: vec![BATCH.into()] },
        bounded(PRUNE_DELIVERIES, &logs),
        bounded(
            "DELETE FROM github_sync WHERE rowid IN (SELECT rowid FROM github_sync
                WHERE updated_at < ?1 AND status NOT IN ('queued', 'retrying') LIMIT ?2)",
            &logs,
        ),
        bounded(
            "DELETE FROM jobs WHERE id IN (SELECT id FROM jobs
                WHERE updated_at < ?1 AND status IN ('done', 'failed', 'dead') LIMIT ?2)",
            &logs,
        ),
        bounded(
            "DELETE FROM sync_runs WHERE id IN (SELECT id FROM sync_runs
                WHERE started_at < ?1 AND status != 'running' LIMIT ?2)",
            &logs,
        ),
        Stmt { sql: PRUNE_COMMENTS, params: vec![logs.as_str().into(), BATCH.into(), COMMENTS_PER_CARD.into()] },
        bounded(PRUNE_BODIES, &format_millis(now)),
    ]
}
