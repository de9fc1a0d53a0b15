//! The wasm-only layer: turns requests into core calls and carries out the
//! resulting plans on D1. Nothing outside this module touches `worker::`.

mod d1;
mod http;
mod sentry;

pub use sentry::webhook as sentry_webhook;

pub use http::error_response;

use crate::config::Config;
use crate::error::AppError;
use crate::store;
use worker::{console_log, Env, MessageBatch, MessageExt, Request, Response, Result};

const DB: &str = "DB";

pub fn install_panic_hook() {
    console_error_panic_hook::set_once();
}

pub(crate) fn config(env: &Env) -> Config {
    Config::from_lookup(|name| {
        env.secret(name).ok().map(|s| s.to_string()).or_else(|| env.var(name).ok().map(|v| v.to_string()))
    })
}

pub(crate) fn db(env: &Env) -> std::result::Result<worker::D1Database, AppError> {
    env.d1(DB).map_err(|e| AppError::Internal(format!("D1 binding {DB}: {e}")))
}

/// Cards and comments come from one D1 batch: one round trip per board poll.
pub async fn items(env: &Env) -> Result<Response> {
    let read = match db(env) {
        Ok(db) => d1::rows_batch(&db, &[store::LIST_ITEMS, store::LIST_COMMENTS]).await,
        Err(e) => Err(e),
    };
    match read.as_deref() {
        Ok([rows, comments]) => Response::from_json(&store::board_json(rows, comments)),
        Ok(_) => read_failed("items", &AppError::Internal("D1 batch returned an unexpected result count".into())),
        Err(e) => read_failed("items", e),
    }
}

pub async fn deliveries(env: &Env) -> Result<Response> {
    match read(env, store::LIST_DELIVERIES).await {
        Ok(rows) => Response::from_json(&serde_json::json!({ "deliveries": rows })),
        Err(e) => read_failed("deliveries", &e),
    }
}

async fn read(env: &Env, sql: &str) -> std::result::Result<Vec<serde_json::Map<String, serde_json::Value>>, AppError> {
    d1::rows(&db(env)?, sql).await
}

fn read_failed(what: &str, e: &AppError) -> Result<Response> {
    console_log!("{}", serde_json::json!({"event": "read_failed", "what": what, "error": format!("{e:?}")}));
    error_response(e)
}

pub fn health() -> Result<Response> {
    Response::from_json(&serde_json::json!({ "ok": true }))
}

pub async fn asset(req: Request, env: &Env) -> Result<Response> {
    env.assets("ASSETS")?.fetch_request(req).await
}

/// No job kinds exist yet; messages are acknowledged and logged so the
/// consumer never traps (an `Err` here would retry the whole batch).
pub async fn queue(batch: MessageBatch<serde_json::Value>, _env: &Env) {
    for message in batch.raw_iter() {
        console_log!("{}", serde_json::json!({"event": "queue_message_unhandled", "id": message.id()}));
        message.ack();
    }
}

pub async fn scheduled(cron: &str, _env: &Env) {
    console_log!("{}", serde_json::json!({"event": "scheduled", "cron": cron}));
}
