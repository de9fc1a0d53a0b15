//! The Cron Trigger: runs the task `schedule::task` names for the
//! expression, and logs one line with its result; the GitHub reconcile
//! starts on the expression `GITHUB_RECONCILE_CRON` names.

use super::env::{config, db};
use super::{github, github_reconcile, retention, sentry_sync};
use crate::config::Config;
use crate::error::AppError;
use crate::schedule::{task, Task};
use serde_json::{json, Value};
use worker::{console_log, D1Database, Env};

pub async fn scheduled(cron: &str, env: &Env) {
    let cfg = config(env);
    let result = match db(env) {
        Ok(db) => match task(cron) {
            Task::Retention => retention::run(&cfg, &db).await,
            Task::SyncAndSweep => sync_and_sweep(&cfg, env, &db).await,
        },
        Err(e) => Err(e),
    };
    let line = match result {
        Ok(v) => json!({ "event": "scheduled", "cron": cron, "result": v }),
        Err(e) => json!({ "event": "scheduled_failed", "cron": cron, "error": format!("{e:?}") }),
    };
    console_log!("{line}");
    // Beside whatever else runs on its cron (the daily one by default).
    if cfg.github.reconciles_on(cron) {
        github_reconcile::scheduled(cron, &cfg, env).await;
    }
}

/// The five-minute cron: a sync run per organization, and the GitHub events
/// whose job was lost queued again. Neither waits on the other's failure.
async fn sync_and_sweep(cfg: &Config, env: &Env, db: &D1Database) -> std::result::Result<Value, AppError> {
    let runs = sentry_sync::start_runs(cfg, env, db, "cron").await;
    let requeued = github::requeue_stuck(env, db).await;
    Ok(json!({ "runs": runs?, "github_requeued": requeued? }))
}
