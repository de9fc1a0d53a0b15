//! The wasm-only layer: turns requests into core calls and carries out the
//! resulting plans on D1. Nothing outside this module touches `worker::`.

mod auth;
mod board;
mod cron;
mod d1;
mod env;
mod errors;
mod fetch;
mod github;
mod github_reconcile;
mod github_sync;
mod http;
mod jobs;
mod queue;
mod replay;
mod reread;
mod retention;
mod sentry;
mod sentry_sync;
mod tokens;
mod ui;
mod webhook;
mod webhook_health;

pub use replay::{body as delivery_body, replay as delivery_replay};
pub use sentry::webhook as sentry_webhook;
pub use ui::{alert_rule_action as sentry_alert_rule_action, issue_link as sentry_issue_link};
pub use ui::{options as sentry_options, setup_page as sentry_setup};

pub use auth::{check as gate, login, logout, refused, session_info};
pub use board::history as item_history;
pub use board::{action as item_action, assignees as item_assignees, comments as item_comments, items};
pub use errors::{group as error_group, list as errors, stats as error_stats};
pub use github::{list_users as github_users, sync_status as github_sync, webhook as github_webhook};
pub use github_reconcile::trigger as trigger_github_reconcile;
pub use http::error_response;
pub use retention::trigger as trigger_retention;
pub use sentry_sync::{status as sync_status, trigger_sync};
pub use webhook_health::read as webhook_health;

use crate::error::AppError;
use crate::store;
use env::db;
use worker::{console_log, Env, MessageBatch, Request, Response, Result};

pub fn install_panic_hook() {
    console_error_panic_hook::set_once();
}

/// Installations and their visible state; tokens are never listed.
pub async fn installations(env: &Env) -> Result<Response> {
    list(env, "installations", store::installations::LIST_INSTALLATIONS).await
}

/// The newest queue jobs and their fate.
pub async fn jobs(env: &Env) -> Result<Response> {
    list(env, "jobs", store::installations::LIST_JOBS).await
}

async fn list(env: &Env, key: &str, sql: &str) -> Result<Response> {
    match read(env, sql).await {
        Ok(rows) => Response::from_json(&serde_json::json!({ key: rows })),
        Err(e) => read_failed(key, &e),
    }
}

/// Verified deliveries, and the ring of requests refused before verification.
pub async fn deliveries(env: &Env) -> Result<Response> {
    let queries: [(&str, &[crate::sql::SqlValue]); 2] =
        [(store::LIST_DELIVERIES, &[]), (store::deliveries::LIST_REJECTIONS, &[])];
    let read = match db(env) {
        Ok(db) => d1::rows_batch(&db, &queries).await,
        Err(e) => Err(e),
    };
    match read.as_deref() {
        Ok([deliveries, rejections]) => {
            Response::from_json(&serde_json::json!({ "deliveries": deliveries, "rejections": rejections }))
        }
        Ok(_) => error_response(&AppError::Internal("D1 batch returned an unexpected result count".into())),
        Err(e) => read_failed("deliveries", e),
    }
}

async fn read(env: &Env, sql: &str) -> std::result::Result<Vec<serde_json::Map<String, serde_json::Value>>, AppError> {
    d1::rows(&db(env)?, sql).await
}

fn read_failed(what: &str, e: &AppError) -> Result<Response> {
    console_log!("{}", serde_json::json!({"event": "read_failed", "what": what, "error": format!("{e:?}")}));
    error_response(e)
}

/// `PUT`/`DELETE /api/github/users/{login}`.
pub use github::edit_user as github_user;
/// `PUT /api/github/teams/{id}/link`.
pub use github::link_team as github_team_link;

pub fn health() -> Result<Response> {
    Response::from_json(&serde_json::json!({ "ok": true }))
}

pub async fn asset(req: Request, env: &Env) -> Result<Response> {
    env.assets("ASSETS")?.fetch_request(req).await
}

/// An HTML page from `public/`, revalidated on every load (it is gated).
/// Its CSP comes from `secure`, as for every HTML answer.
pub async fn page(req: Request, env: &Env) -> Result<Response> {
    let resp = asset(req, env).await?;
    with_headers(resp, &[("Cache-Control", "no-cache")])
}

/// Every answer leaves through here: the CSP on anything that is HTML
/// (pages, the setup page, notices), `nosniff` on everything.
pub fn secure(resp: Result<Response>) -> Result<Response> {
    let mut resp = resp?;
    let headers = resp.headers_mut();
    let content_type = headers.get("Content-Type").ok().flatten();
    let extra = crate::routes::security_headers(content_type.as_deref());
    // The worker's own answers take them in place; an asset's headers are
    // immutable (the set fails), so it gets a copy.
    if extra.iter().all(|(k, v)| headers.set(k, v).is_ok()) {
        return Ok(resp);
    }
    with_headers(resp, &extra)
}

/// A copy of the headers with `extra` set: an asset's own headers are
/// immutable.
fn with_headers(resp: Response, extra: &[(&str, &str)]) -> Result<Response> {
    let headers = worker::Headers::new();
    for (k, v) in resp.headers().entries() {
        headers.set(&k, &v)?;
    }
    for (k, v) in extra {
        headers.set(k, v)?;
    }
    Ok(resp.with_headers(headers))
}

pub async fn queue(batch: MessageBatch<serde_json::Value>, env: &Env) {
    jobs::consume(batch, env).await;
}

pub async fn scheduled(cron: &str, env: &Env) {
    cron::scheduled(cron, env).await;
}
