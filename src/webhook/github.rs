//! A GitHub delivery's ack as one batch. A team or membership event is
//! claimed under its delivery id and body digest: the batch first writes
//! whether the claim will take (`store::github::CLAIMABLE`), then claims,
//! then logs the delivery with the verdict that fact chose (`queued`, or
//! `duplicate`), then clears the fact. The job is queued only if the claim
//! returned its row.

use super::{Ack, Done, Undo, Unseen};
use crate::error::AppError;
use crate::github::hook::Handled;
use crate::log::{DeliveryLog, LogDeliveries};
use crate::plan::{Guarded, Reply, Verdict};
use crate::store::{self, github as sync_store};
use crate::webhook::verdict::Outcome;
use serde_json::json;

/// What the delivery log says of `result` before the batch runs.
pub fn done<'a>(
    result: &'a Result<Handled, AppError>,
    digest: Option<&'a str>,
    detail: &'a Option<String>,
) -> Done<'a> {
    let (status, verdict, action) = match result {
        Ok(Handled::Answer { reply, verdict } | Handled::Sync { reply, verdict, .. }) => {
            (reply.status, verdict.outcome.as_str(), Some(verdict.action.as_str()))
        }
        Err(e) => (e.status(), e.code(), None),
    };
    let digest = digest.filter(|_| result.is_ok());
    Done { status, verdict, action: action.filter(|a| !a.is_empty()), detail: detail.as_deref(), digest }
}

/// An error's message, or why a verified delivery was unusable.
pub fn detail(result: &Result<Handled, AppError>) -> Option<String> {
    match result {
        Ok(Handled::Answer { reply, .. } | Handled::Sync { reply, .. }) => {
            reply.body["detail"].as_str().map(str::to_string)
        }
        Err(e) => e.body()["message"].as_str().map(str::to_string),
    }
}

/// The ack of `handled`, logged as `log`; `now` and `stuck_before` date the
/// claim. An unauthenticated request leaves nothing behind but the log line.
pub fn ack(
    result: &Result<Handled, AppError>,
    log: &DeliveryLog,
    now: &str,
    stuck_before: &str,
) -> (Ack, Result<Reply, AppError>) {
    let nothing =
        |statements| Ack { statements, jobs: vec![], guard: None, unseen: None, undo: Undo::Delivery { digest: None } };
    match result {
        Err(e) if e.status() == 401 => (nothing(vec![]), Err(e.clone())),
        Err(e) => (nothing(store::record_delivery(log)), Err(e.clone())),
        Ok(Handled::Answer { reply, .. }) => (nothing(store::record_delivery(log)), Ok(reply.clone())),
        Ok(Handled::Sync { record, job, reply, .. }) => {
            let key = format!("github:{}:{}", record.delivery, record.body_sha256);
            let mut statements = vec![
                sync_store::claimable(record, now, stuck_before, &key),
                crate::sql::Stmt {
                    sql: sync_store::CLAIM,
                    params: sync_store::claim_params(record, now, stuck_before),
                },
            ];
            statements.extend(store::deliveries::record_unless_seen(log, &key, "duplicate"));
            statements.push(store::gate::clear(&key));
            let seen_reply = Reply::ok(json!({ "ok": true, "delivery": record.delivery, "duplicate": true }));
            let unseen = Unseen {
                stmt: 0,
                reply: seen_reply,
                verdict: Verdict::new(record.event, &record.action, Outcome::Duplicate),
            };
            let ack = Ack {
                statements,
                jobs: vec![],
                guard: job.clone().map(|job| Guarded { stmt: 1, job }),
                unseen: Some(unseen),
                undo: Undo::Claim { delivery: record.delivery.clone(), digest: record.body_sha256.clone() },
            };
            (ack, Ok(reply.clone()))
        }
    }
}

/// The answer once the batch ran (`ran`), and the log line. Only a claim
/// must apply: a log row that could not be written does not fail an answer.
pub fn answer(
    ran: Result<super::Settled, AppError>,
    claimed: bool,
    reply: Result<Reply, AppError>,
    record: DeliveryLog<'_>,
    policy: LogDeliveries,
) -> (Result<Reply, AppError>, Option<String>) {
    let (reply, line) = match (ran, reply) {
        (Err(e), Ok(_)) if claimed => {
            let line = DeliveryLog { verdict: e.code(), status: e.status(), ..record }.line_for(policy, false);
            (Err(e), line)
        }
        (Ok(super::Settled { seen: Some((reply, verdict)), .. }), Ok(_)) => {
            let seen = DeliveryLog { verdict: verdict.outcome.as_str(), detail: None, ..record };
            (Ok(reply), seen.line_for(policy, true))
        }
        (Err(e), reply) => {
            // The answer stands, but the delivery has no row: the line says why.
            let why = format!("the delivery log row was not written: {e:?}");
            (reply, DeliveryLog { detail: Some(&why), ..record }.line_for(policy, false))
        }
        (Ok(_), reply) => (reply, record.line_for(policy, true)),
    };
    (reply, line)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> DeliveryLog<'static> {
        DeliveryLog { source: "github", resource: Some("ping"), verdict: "pong", status: 200, ..Default::default() }
    }

    fn ok() -> Result<Reply, AppError> {
        Ok(Reply::ok(serde_json::json!({"ok": true})))
    }

    #[test]
    fn a_delivery_whose_row_was_not_written_is_logged_with_why_and_its_answer_stands() {
        let settled = || Ok(super::super::Settled { jobs: vec![], seen: None });
        let quiet = LogDeliveries::Problems;
        assert_eq!(answer(settled(), false, ok(), record(), quiet), (ok(), None), "on the delivery page only");
        let (reply, line) = answer(Err(AppError::Internal("D1 down".into())), false, ok(), record(), quiet);
        assert_eq!(reply, ok(), "an answer that needs no claim stands");
        let line = line.expect("no row, so a line");
        assert!(line.contains("the delivery log row was not written") && line.contains("D1 down"), "{line}");
        let (reply, line) = answer(Err(AppError::Internal("D1 down".into())), true, ok(), record(), quiet);
        assert_eq!(reply.map_err(|e| e.status()), Err(500), "a claim that did not apply fails the answer");
        assert!(line.is_some_and(|l| l.contains("\"status\":500")));
        let all = answer(settled(), false, ok(), record(), LogDeliveries::All);
        assert_eq!(all, (ok(), Some(record().line())));
    }
}
