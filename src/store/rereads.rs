//! SQL for the authoritative re-reads (schema: migrations/0009_delivery_semantics.sql).
//! A row stands for the one re-read job in flight for an issue.

use crate::plan::Stmt;

/// Asks for a re-read at `?4`; a request already there only moves forward
/// (and keeps asking for comments once any delivery asked for them).
const REQUEST: &str = "\
INSERT INTO rereads (issue_id, installation_uuid, comments, requested_at)
VALUES (?1, ?2, ?3, ?4)
ON CONFLICT (issue_id) DO UPDATE SET
    installation_uuid = COALESCE(excluded.installation_uuid, rereads.installation_uuid),
    comments = MAX(rereads.comments, excluded.comments),
    requested_at = MAX(rereads.requested_at, excluded.requested_at)";

pub fn request(issue: &str, installation: Option<&str>, comments: bool, now: &str) -> Stmt {
    Stmt {
        sql: REQUEST,
        params: vec![issue.into(), installation.map(str::to_string).into(), comments.into(), now.into()],
    }
}

/// What the job reads first: whether comments were asked for.
pub const PENDING: &str = "SELECT comments, requested_at FROM rereads WHERE issue_id = ?1";

/// Ends the request the job answered. A request made after the job started
/// reading (`?2`) keeps the row: the job then reads once more.
const FINISH: &str = "DELETE FROM rereads WHERE issue_id = ?1 AND requested_at <= ?2";

pub fn finish(issue: &str, started_at: &str) -> Stmt {
    Stmt { sql: FINISH, params: vec![issue.into(), started_at.into()] }
}

/// Forgets the request of a job that failed for good, so the next delivery
/// queues a new one instead of waiting for a job that is gone.
const FORGET: &str = "DELETE FROM rereads WHERE issue_id = ?1";

pub fn forget(issue: &str) -> Stmt {
    Stmt { sql: FORGET, params: vec![issue.into()] }
}
