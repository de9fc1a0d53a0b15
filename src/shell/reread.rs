//! Runs a re-read job: what to read and how to apply it is decided in
//! `sentry::reread`; this reads the token, calls the API, and runs the batch.

use super::d1::{self, text};
use super::fetch;
use super::tokens::storage;
use crate::config::Config;
use crate::jobs::Outcome;
use crate::outbound::CallError;
use crate::sentry::reread::{self, RereadJob, Target};
use crate::store::{installations, rereads};
use crate::time::format_millis;
use serde_json::Value;
use worker::{D1Database, Date};

pub async fn run(cfg: &Config, db: &D1Database, job: &RereadJob) -> Result<Outcome, CallError> {
    let pending = d1::first(db, rereads::PENDING, &[job.issue.as_str().into()]).await.map_err(storage)?;
    let Some(pending) = pending else { return Ok(Outcome::done()) };
    let comments = pending.get("comments").and_then(Value::as_f64).is_some_and(|n| n != 0.0);
    let (org, installation) = match target(cfg, db, job).await? {
        Target::Read { org, installation } => (org, installation),
        Target::Skip(why) => return Ok(Outcome::Fail { error: why.to_string() }),
    };
    let bearer = super::tokens::bearer(cfg, db, installation.as_deref()).await?;
    let started_at = now();
    let reply =
        fetch::send("read issue", &reread::issue_call(cfg, &org, &job.issue, &bearer), cfg.http_timeout_ms).await?;
    let state = reread::parse_issue(&reply, installation.as_deref())?;
    let notes = if reread::reads_comments(comments, state.as_ref()) {
        let call = reread::comments_call(cfg, &org, &job.issue, &bearer);
        let reply = fetch::send("read comments", &call, cfg.http_timeout_ms).await?;
        Some(reread::parse_comments(&reply, &job.issue, &started_at)?)
    } else {
        None
    };
    let stmts = reread::statements(state.as_ref(), notes.as_deref(), job, &started_at, &now());
    let changed = d1::run_counted(db, &stmts).await.map_err(storage)?;
    Ok(crate::jobs::after_reread(&changed, job))
}

async fn target(cfg: &Config, db: &D1Database, job: &RereadJob) -> Result<Target, CallError> {
    let row = match (&cfg.internal, &job.installation) {
        (None, Some(uuid)) => {
            d1::first(db, installations::INSTALLATION, &[uuid.as_str().into()]).await.map_err(storage)?
        }
        _ => None,
    };
    let org = row.as_ref().and_then(|r| text(r, "org_slug"));
    let deleted = row.as_ref().and_then(|r| text(r, "status")).as_deref() == Some("deleted");
    Ok(reread::target(cfg, job, org.as_deref(), deleted))
}

fn now() -> String {
    format_millis(Date::now().as_millis() as i64)
}
