//! The daily clean-up: bounded deletes, in rounds, of what is older than
//! the retention (the SQL is `store::retention`).

use super::env::{cron_caller, db};
use super::{d1, http};
use crate::config::Config;
use crate::error::AppError;
use crate::store::retention;
use serde_json::{json, Value};
use worker::{D1Database, Date, Env, Request, Response, Result};

/// `GET|POST /api/cron/retention`: the daily clean-up, now.
pub async fn trigger(req: Request, env: &Env) -> Result<Response> {
    let run_now = async {
        let cfg = cron_caller(&req, env)?;
        run(&cfg, &db(env)?).await
    };
    http::json_or_error(run_now.await)
}

/// Deletes in rounds of `retention::bound` rows per table until a round
/// is `retention::complete`, or `retention::ROUNDS` ran.
pub(crate) async fn run(cfg: &Config, db: &D1Database) -> std::result::Result<Value, AppError> {
    let mut totals = [0usize; retention::TABLES.len()];
    let mut complete = false;
    for _ in 0..retention::ROUNDS {
        let stmts = retention::statements(Date::now().as_millis() as i64, cfg.retention_days);
        let counts = d1::run_counted(db, &stmts).await?;
        totals.iter_mut().zip(&counts).for_each(|(t, c)| *t += c);
        if retention::complete(&counts) {
            complete = true;
            break;
        }
    }
    let deleted: serde_json::Map<String, Value> =
        retention::TABLES.iter().zip(totals).map(|(t, n)| (t.to_string(), json!(n))).collect();
    Ok(json!({ "deleted": deleted, "complete": complete, "retention_days": cfg.retention_days }))
}
