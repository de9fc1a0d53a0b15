//! SQL for the authoritative re-reads (schema: migrations/0009_delivery_semantics.sql).
//! A row stands for the one re-read job in flight for an issue.

use crate::sql::Stmt;
use crate::time::{format_millis, Millis};

/// A job queued longer ago than this and still not done is taken as lost
/// (its message died): the next request queues another.
pub const STALE_MS: i64 = 10 * 60 * 1000;

/// Asks for a re-read at `?4` on behalf of the delivery `?6` (a token of its
/// own). A request already there only moves forward (and keeps asking for
/// comments once any delivery asked for them). The row comes back with
/// `queue_job` true only for the one request that must queue the job: the
/// first, or the first after a job was lost (queued before `?5` and never
/// finished). The token, not the clock, says which: two deliveries in the
/// same millisecond must not both queue one.
const REQUEST: &str = "\
INSERT INTO rereads (issue_id, installation_uuid, comments, requested_at, queued_at, queued_by)
VALUES (?1, ?2, ?3, ?4, ?4, ?6)
ON CONFLICT (issue_id) DO UPDATE SET
    installation_uuid = COALESCE(excluded.installation_uuid, rereads.installation_uuid),
    comments = MAX(rereads.comments, excluded.comments),
    requested_at = MAX(rereads.requested_at, excluded.requested_at),
    queued_by = CASE WHEN rereads.queued_at < ?5 THEN excluded.queued_by ELSE rereads.queued_by END,
    queued_at = CASE WHEN rereads.queued_at < ?5 THEN excluded.queued_at ELSE rereads.queued_at END
RETURNING queued_by = ?6 AS queue_job";

pub fn request(issue: &str, installation: Option<&str>, comments: bool, now: Millis, token: &str) -> Stmt {
    Stmt {
        sql: REQUEST,
        params: vec![
            issue.into(),
            installation.map(str::to_string).into(),
            comments.into(),
            format_millis(now).into(),
            format_millis(now - STALE_MS).into(),
            token.into(),
        ],
    }
}

/// What the job reads first: whether comments were asked for.
pub const PENDING: &str = "SELECT comments, requested_at FROM rereads WHERE issue_id = ?1";

/// A request made after the job started reading (`?2`): the job reads once
/// more, and the row says when that job was queued (`?3`).
const AGAIN: &str =
    "UPDATE rereads SET queued_at = ?3, queued_by = 'job ' || ?3 WHERE issue_id = ?1 AND requested_at > ?2";

/// Ends the request the job answered.
const FINISH: &str = "DELETE FROM rereads WHERE issue_id = ?1 AND requested_at <= ?2";

/// The last two statements of a re-read's batch: read again if asked
/// meanwhile (its change count says so), else end the request.
pub fn finish(issue: &str, started_at: &str, now: &str) -> [Stmt; 2] {
    [
        Stmt { sql: AGAIN, params: vec![issue.into(), started_at.into(), now.into()] },
        Stmt { sql: FINISH, params: vec![issue.into(), started_at.into()] },
    ]
}

/// Marks the request as having no job (its job failed for good, or could
/// not be queued), so the next request queues one at once. The row stays:
/// a newer job that is already running still finds and ends it.
const FORGET: &str = "UPDATE rereads SET queued_at = '' WHERE issue_id = ?1";

pub fn forget(issue: &str) -> Stmt {
    Stmt { sql: FORGET, params: vec![issue.into()] }
}
