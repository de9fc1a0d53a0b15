//! The delivery log: every verified delivery (it doubles as the replay
//! window), and a fixed ring of requests refused before verification.

use crate::board::{CardFacts, Status};
use crate::log::DeliveryLog;
use crate::prior::{Lookup, Prior};
use crate::sql::{SqlValue, Stmt};
use serde_json::{Map, Value};

/// How many verified deliveries are kept: older rows are trimmed inside
/// every 16th insert, except each source's newest webhook
/// (`migrations/0023_delivery_log_trim_keeps_newest.sql`).
pub const DELIVERY_LOG_ROWS: i32 = 10_000;
/// How many refused requests are kept (a ring: the newest overwrite the oldest).
pub const REJECTION_SLOTS: i32 = 50;
/// The longest text kept from a request header or an error.
pub const MAX_TEXT: usize = 200;

const INSERT_DELIVERY: &str = "\
INSERT INTO deliveries (received_at, source, resource, action, request_id, body_sha256, verdict, status, latency_ms, error,
    replay_of)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";

/// `INSERT_DELIVERY` for a batch whose first statement wrote the
/// `webhook_facts` row `?12`: an unseen delivery is logged with `?7` and
/// `?10`, a seen one with `?13` and no detail.
const INSERT_DELIVERY_UNLESS_SEEN: &str = "\
INSERT INTO deliveries (received_at, source, resource, action, request_id, body_sha256, verdict, status, latency_ms, error,
    replay_of)
SELECT ?1, ?2, ?3, ?4, ?5, ?6, CASE WHEN f.unseen THEN ?7 ELSE ?13 END, ?8, ?9, CASE WHEN f.unseen THEN ?10 END, ?11
FROM (SELECT 1) AS one LEFT JOIN webhook_facts AS f ON f.key = ?12";

/// The body of the delivery just inserted (same batch, so `last_insert_rowid()` is its id).
const KEEP_BODY: &str = "\
INSERT INTO delivery_bodies (delivery_id, body_hex, kept_until) VALUES (last_insert_rowid(), ?1, ?2)";

/// The largest body kept for a replay.
pub const MAX_KEPT_BODY: usize = 256 * 1024;
/// How long a kept body stays.
pub const BODY_DAYS: i64 = 7;

/// Only a Sentry delivery can be replayed: it enters the Sentry path again
/// with its verification record (a GitHub delivery's claim is its own).
pub fn replayable(source: &str) -> Result<(), crate::error::AppError> {
    match source {
        "sentry" => Ok(()),
        _ => Err(crate::error::AppError::BadRequest("only Sentry deliveries can be replayed".into())),
    }
}

/// Which verdicts keep the delivery's body: verified deliveries that could
/// not be used, or whose processing failed, so they can be replayed.
pub fn keeps_body(verdict: &str) -> bool {
    matches!(verdict, "unusable" | "store_failed" | "enqueue_failed")
}

/// The stored delivery and its body (`?1` delivery id).
pub const KEPT: &str = "\
SELECT d.id, d.source, d.resource, d.action, d.request_id, b.body_hex
FROM delivery_bodies AS b JOIN deliveries AS d ON d.id = b.delivery_id WHERE b.delivery_id = ?1";

/// Writes the next slot of the ring in one statement.
const INSERT_REJECTION: &str = "\
INSERT INTO rejections (slot, seq, received_at, source, resource, request_id, verdict, status, error)
SELECT n % ?8, n, ?1, ?2, ?3, ?4, ?5, ?6, ?7 FROM (SELECT COALESCE(MAX(seq), 0) + 1 AS n FROM rejections)
WHERE true
ON CONFLICT (slot) DO UPDATE SET seq = excluded.seq, received_at = excluded.received_at, source = excluded.source,
    resource = excluded.resource, request_id = excluded.request_id, verdict = excluded.verdict,
    status = excluded.status, error = excluded.error";

pub const LIST_DELIVERIES: &str = "\
SELECT d.id, d.received_at, d.source, d.resource, d.action, d.request_id, d.verdict, d.status, d.latency_ms, d.error,
    d.replay_of, EXISTS (SELECT 1 FROM delivery_bodies AS b WHERE b.delivery_id = d.id) AS body_kept
FROM deliveries AS d ORDER BY d.id DESC LIMIT 200";

pub const LIST_REJECTIONS: &str = "\
SELECT seq, received_at, source, resource, request_id, verdict, status, error FROM rejections ORDER BY seq DESC";

/// Whether a request was refused before its signature could be trusted:
/// such a request must not grow storage or touch the replay window. A
/// Sentry delivery is never answered 400 once verified (unusable content is
/// 2xx), so its 400s (an unreadable body) are refusals too; GitHub's 400s
/// come after verification.
pub fn unauthenticated(source: &str, status: u16) -> bool {
    matches!(status, 401 | 403 | 413) || (source == "sentry" && status == 400)
}

fn capped(v: Option<&str>) -> SqlValue {
    SqlValue::from(v.map(|s| s.chars().take(MAX_TEXT).collect::<String>()))
}

/// Records one delivery: a verified one in the log (kept bounded), a
/// refused one in the ring.
pub fn record_delivery(d: &DeliveryLog) -> Vec<Stmt> {
    record(d, None)
}

/// Like `record_delivery`, keeping `body` when the verdict asks for it
/// (`keeps_body`) and it is small enough; `now` dates its expiry.
pub fn record_with_body(d: &DeliveryLog, body: &[u8], now: crate::time::Millis) -> Vec<Stmt> {
    let keep = keeps_body(d.verdict) && !unauthenticated(d.source, d.status) && body.len() <= MAX_KEPT_BODY;
    let kept_until = crate::time::format_millis(now + BODY_DAYS * 24 * 60 * 60 * 1000);
    record(d, keep.then(|| Stmt { sql: KEEP_BODY, params: vec![hex::encode(body).into(), kept_until.into()] }))
}

/// Records a verified delivery whose verdict the batch decides: `d`'s if the
/// batch's `webhook_facts` row `key` says unseen, else `if_seen`.
pub fn record_unless_seen(d: &DeliveryLog, key: &str, if_seen: &str) -> Vec<Stmt> {
    let mut params = delivery_params(d);
    params.extend([key.into(), if_seen.into()]);
    vec![Stmt { sql: INSERT_DELIVERY_UNLESS_SEEN, params }]
}

fn record(d: &DeliveryLog, body: Option<Stmt>) -> Vec<Stmt> {
    if unauthenticated(d.source, d.status) {
        return vec![rejection(d)];
    }
    let mut stmts = vec![Stmt { sql: INSERT_DELIVERY, params: delivery_params(d) }];
    stmts.extend(body);
    stmts
}

fn delivery_params(d: &DeliveryLog) -> Vec<SqlValue> {
    vec![
        d.received_at.into(),
        d.source.into(),
        capped(d.resource),
        capped(d.action),
        capped(d.request_id),
        SqlValue::from(d.body_sha256.map(str::to_string)),
        d.verdict.into(),
        i32::from(d.status).into(),
        i32::try_from(d.latency_ms).unwrap_or(i32::MAX).into(),
        capped(d.detail),
        d.replay_of.and_then(|id| i32::try_from(id).ok()).map_or(SqlValue::Null, SqlValue::Int),
    ]
}

fn rejection(d: &DeliveryLog) -> Stmt {
    Stmt {
        sql: INSERT_REJECTION,
        params: vec![
            d.received_at.into(),
            d.source.into(),
            capped(d.resource),
            capped(d.request_id),
            d.verdict.into(),
            i32::from(d.status).into(),
            capped(d.detail),
            REJECTION_SLOTS.into(),
        ],
    }
}

/// The accepted delivery of this body could not finish (its jobs were not
/// queued): mark it failed so a retry of the same body is applied again.
const DELIVERY_FAILED: &str = "\
UPDATE deliveries SET status = 503, verdict = ?2, error = ?3
WHERE id = (SELECT MAX(id) FROM deliveries WHERE body_sha256 = ?1)";

pub fn delivery_failed(body_sha256: &str, verdict: &str, error: &str) -> Stmt {
    let error: String = error.chars().take(MAX_TEXT).collect();
    Stmt { sql: DELIVERY_FAILED, params: vec![body_sha256.into(), verdict.into(), error.into()] }
}

/// What the core needs to decide a Sentry delivery, in one read: whether
/// this exact delivery (Request-ID and body) or these bytes under another
/// Request-ID were accepted before, the card's status and assignee, whether
/// a token can re-read the issue.
pub const LOOKUP: &str = "\
SELECT
    EXISTS (SELECT 1 FROM deliveries WHERE request_id = ?1 AND body_sha256 = ?2 AND source = 'sentry'
        AND status < 300) AS exact_replay,
    EXISTS (SELECT 1 FROM deliveries WHERE body_sha256 = ?2 AND source = 'sentry' AND COALESCE(resource, '') = ?3
        AND status < 300) AS body_seen,
    c.status AS card_status, c.assignee_type, c.assignee_id, c.assignee_name,
    EXISTS (SELECT 1 FROM installation_tokens WHERE installation_uuid = ?5) AS has_token
FROM (SELECT 1) AS one LEFT JOIN cards AS c ON c.id = ?4";

pub fn lookup_params(l: &Lookup) -> Vec<SqlValue> {
    vec![
        l.request_id.clone().into(),
        l.body_sha256.as_str().into(),
        l.resource.as_str().into(),
        l.issue_id.clone().into(),
        l.installation.clone().into(),
    ]
}

/// Reads `LOOKUP`'s row (`None`: no row, as for an empty database).
/// `internal`: the internal integration's token can always re-read.
pub fn prior_from_row(row: Option<&Map<String, Value>>, internal: bool) -> Prior {
    let Some(row) = row else { return Prior { has_token: internal, ..Prior::default() } };
    let flag = |k: &str| row.get(k).and_then(Value::as_f64).is_some_and(|n| n != 0.0);
    let text = |k: &str| crate::sql::row_text(row, k);
    let card = text("card_status").and_then(|s| Status::parse(&s)).map(|status| CardFacts {
        status,
        assignee: match (text("assignee_id"), text("assignee_name")) {
            (None, None) => None,
            (id, name) => Some(format!(
                "{}:{}",
                text("assignee_type").unwrap_or_else(|| "user".into()),
                id.or(name).unwrap_or_default()
            )),
        },
    });
    Prior {
        exact_replay: flag("exact_replay"),
        body_seen: flag("body_seen"),
        card,
        has_token: internal || flag("has_token"),
    }
}
