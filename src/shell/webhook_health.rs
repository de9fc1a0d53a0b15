//! `GET /api/webhook-health`, and the log lines of the Sentry silence
//! alarm. One D1 read; the answer and any rise or fall are decided by
//! `crate::health`. A rise or fall is noticed here and at the end of every
//! sync run, never on the webhook ack path (that would add a read to it).

use super::env::{config, db};
use super::{d1, http};
use crate::error::AppError;
use crate::health::{self, Facts, SourceHealth};
use crate::store::health as store;
use crate::time::format_millis;
use serde_json::json;
use worker::{console_log, D1Database, Date, Env, Response, Result};

pub async fn read(env: &Env) -> Result<Response> {
    http::json_or_error(
        async {
            let cfg = config(env);
            let db = db(env)?;
            let row = d1::first(&db, store::HEALTH, &[]).await?;
            let facts = store::facts_from_row(row.as_ref());
            let answer = health::health(&facts, Date::now().as_millis() as i64, cfg.webhook_silence_minutes);
            note(&db, &facts, &answer.sentry, "health_read").await;
            serde_json::to_value(answer).map_err(|e| AppError::Internal(e.to_string()))
        }
        .await,
    )
}

/// Records and logs the Sentry alarm's rise or fall, once
/// (`health::alarm_line`).
pub async fn note(db: &D1Database, facts: &Facts, sentry: &SourceHealth, seen_by: &str) {
    let Some(alarm) = health::transition(facts.logged_alarm, sentry.alarm) else { return };
    let now = format_millis(Date::now().as_millis() as i64);
    let stmt = store::record_alarm("sentry", alarm, sentry.reason.as_deref(), &now);
    let line = match d1::run_counted(db, &[stmt]).await {
        Ok(changed) => health::alarm_line(alarm, changed.first().copied().unwrap_or(0), sentry, facts, seen_by),
        Err(e) => Some(json!({ "event": "webhook_alarm_record_failed", "error": format!("{e:?}") })),
    };
    line.iter().for_each(|line| console_log!("{line}"));
}

/// The end of a sync run: the health row read in the run's finishing batch.
pub async fn after_sync(db: &D1Database, row: Option<&serde_json::Map<String, serde_json::Value>>, silence: u32) {
    let facts = store::facts_from_row(row);
    let sentry = health::sentry(&facts, Date::now().as_millis() as i64, silence);
    note(db, &facts, &sentry, "sync").await;
}
