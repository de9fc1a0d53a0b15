//! What becomes of a Sentry delivery once its ack ran, or could not: the
//! answer, the log line, and what to write about a failure. A plan on the
//! core's guess whose batch SQLite refused is decided again from D1 (it
//! rolled back, so nothing of it was written); any other failure answers 5xx
//! so Sentry retries, and is recorded on its own with the body kept for a
//! replay.

use super::verdict::Outcome;
use super::Failed;
use crate::error::AppError;
use crate::log::{DeliveryLog, LogDeliveries};
use crate::plan::Reply;
use crate::sql::Stmt;
use crate::store::deliveries;
use crate::time::Millis;

/// How an ack is carried out, by the plan's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Path {
    /// A queued error event: only the queue, no D1 on its ack path (one
    /// arrives for every event of every issue); a log row only if it fails.
    Enqueue,
    /// One D1 batch: the plan's statements, its guard, and the log row.
    Batch,
}

pub fn path(verdict: &str) -> Path {
    if verdict == Outcome::Queued.as_str() {
        Path::Enqueue
    } else {
        Path::Batch
    }
}

#[derive(Debug, PartialEq)]
pub enum After<F> {
    /// Read D1 and decide again from its answer, with the guess's fallback.
    DecideAgain(F),
    Answer(Answered),
}

/// The reply, its log line, and the record of a failure (none on success).
#[derive(Debug, PartialEq)]
pub struct Answered {
    pub reply: Result<Reply, AppError>,
    /// The console line, if the policy shows it (a failure's always).
    pub line: Option<String>,
    pub writes: Vec<Stmt>,
}

/// After the batch: `ran` its result, `fallback` what to decide again from
/// if the plan stood on the core's guess, `body` the delivery's bytes (kept
/// when it failed).
pub fn after_batch<F>(
    ran: Result<(), Failed>,
    fallback: Option<F>,
    reply: Result<Reply, AppError>,
    record: DeliveryLog<'_>,
    body: &[u8],
    (now, policy): (Millis, LogDeliveries),
) -> After<F> {
    match (ran, fallback) {
        (Ok(()), _) => After::Answer(Answered { reply, line: record.line_for(policy, true), writes: vec![] }),
        (Err(Failed::Refused(_)), Some(f)) => After::DecideAgain(f),
        (Err(failed), _) => After::Answer(failure("store_failed", failed.into(), record, body, now)),
    }
}

/// After queueing an error event (no D1 on its ack path, so no row in the
/// delivery log: its console line is its one record).
pub fn after_enqueue(
    queued: Result<(), AppError>,
    reply: Result<Reply, AppError>,
    record: DeliveryLog<'_>,
    body: &[u8],
    (now, policy): (Millis, LogDeliveries),
) -> Answered {
    match queued {
        Ok(()) => Answered { reply, line: record.line_for(policy, false), writes: vec![] },
        Err(e) => failure("enqueue_failed", e, record, body, now),
    }
}

fn failure(verdict: &'static str, e: AppError, record: DeliveryLog<'_>, body: &[u8], now: Millis) -> Answered {
    let detail = format!("{e:?}");
    let failed = DeliveryLog { verdict, status: e.status(), detail: Some(&detail), ..record };
    Answered { line: Some(failed.line()), writes: deliveries::record_with_body(&failed, body, now), reply: Err(e) }
}

/// The `Request-ID` Sentry's request log shows next to a failed delivery,
/// echoed back only when it is plainly an id.
pub fn echoed_request_id(request_id: Option<&str>) -> Option<&str> {
    request_id.filter(|id| id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_queued_delivery_skips_the_batch() {
        assert_eq!(path(Outcome::Queued.as_str()), Path::Enqueue);
        for other in [Outcome::Applied, Outcome::Repeat, Outcome::Duplicate, Outcome::Unusable, Outcome::Skipped] {
            assert_eq!(path(other.as_str()), Path::Batch, "{other:?}");
        }
        assert_eq!(path("bad_signature"), Path::Batch, "a refusal is logged in a batch");
    }

    const NOW: Millis = 1_764_763_200_000;

    fn record() -> DeliveryLog<'static> {
        DeliveryLog {
            received_at: "2026-12-03T12:00:00.000Z",
            source: "sentry",
            resource: Some("issue"),
            action: Some("created"),
            verdict: "applied",
            status: 200,
            body_sha256: Some("ab"),
            ..Default::default()
        }
    }

    const ALL: LogDeliveries = LogDeliveries::All;

    fn ok() -> Result<Reply, AppError> {
        Ok(Reply::ok(serde_json::json!({"ok": true})))
    }

    #[test]
    fn an_applied_batch_answers_the_plans_reply_and_writes_nothing_more() {
        let After::Answer(a) = after_batch(Ok(()), Some(()), ok(), record(), b"{}", (NOW, ALL)) else { panic!() };
        assert_eq!((a.reply, a.line, a.writes), (ok(), Some(record().line()), vec![]));
        let After::Answer(quiet) = after_batch(Ok(()), Some(()), ok(), record(), b"{}", (NOW, LogDeliveries::Problems))
        else {
            panic!()
        };
        assert_eq!(quiet.line, None, "an applied delivery is on the delivery page, not in the console");
    }

    #[test]
    fn only_a_refused_guess_is_decided_again() {
        let refused = || Failed::Refused(AppError::Internal("SQLITE_CONSTRAINT".into()));
        assert_eq!(after_batch(Err(refused()), Some(7), ok(), record(), b"{}", (NOW, ALL)), After::DecideAgain(7));
        let After::Answer(a) = after_batch(Err(refused()), None::<()>, ok(), record(), b"{}", (NOW, ALL)) else {
            panic!()
        };
        assert_eq!(a.reply.unwrap_err().status(), 500, "a refused plan that was not a guess is a failure");
        for unsure in
            [Failed::Unknown(AppError::Internal("lost".into())), Failed::Unqueued(AppError::Unavailable("q".into()))]
        {
            assert!(matches!(after_batch(Err(unsure), Some(()), ok(), record(), b"{}", (NOW, ALL)), After::Answer(_)));
        }
    }

    #[test]
    fn a_failure_answers_5xx_and_is_recorded_with_its_body() {
        let e = AppError::Internal("Network connection lost.".into());
        let After::Answer(a) =
            after_batch(Err(Failed::Unknown(e.clone())), Some(()), ok(), record(), b"{\"x\":1}", (NOW, ALL))
        else {
            panic!()
        };
        let detail = format!("{e:?}");
        let failed = DeliveryLog { verdict: "store_failed", status: 500, detail: Some(&detail), ..record() };
        assert_eq!(a.reply, Err(e));
        assert_eq!(a.line, Some(failed.line()));
        assert_eq!(a.writes, deliveries::record_with_body(&failed, b"{\"x\":1}", NOW));
        assert!(a.writes.iter().any(|s| s.sql.contains("delivery_bodies")), "the body is kept for a replay");
    }

    #[test]
    fn an_unqueued_error_event_is_5xx_and_kept() {
        let a = after_enqueue(Err(AppError::Unavailable("q".into())), ok(), record(), b"{}", (NOW, ALL));
        assert_eq!(a.reply.as_ref().unwrap_err().status(), 503);
        assert!(
            a.line.is_some_and(|l| l.contains("enqueue_failed"))
                && a.writes.iter().any(|s| s.sql.contains("delivery_bodies"))
        );
        let a = after_enqueue(Ok(()), ok(), record(), b"{}", (NOW, LogDeliveries::Problems));
        assert_eq!(
            (a.reply, a.writes, a.line),
            (ok(), vec![], Some(record().line())),
            "a queued ack's line is its record"
        );
    }

    #[test]
    fn only_a_plain_request_id_is_echoed() {
        assert_eq!(echoed_request_id(Some("0f-AB")), Some("0f-AB"));
        for bad in ["a b", "a\r\nX-Evil: 1", &"a".repeat(65)] {
            assert_eq!(echoed_request_id(Some(bad)), None, "{bad}");
        }
    }
}
