//! The wasm-only layer: turns requests into core calls and carries out the
//! resulting plans on D1. Nothing outside this module touches `worker::`.

mod d1;
mod http;

pub use http::error_response;

use crate::config::{Config, MAX_BODY_BYTES};
use crate::error::AppError;
use crate::log::DeliveryLog;
use crate::sentry::hook::{self, Delivery};
use crate::store;
use worker::{console_log, Date, Env, MessageBatch, MessageExt, Request, Response, Result};

const DB: &str = "DB";

pub fn install_panic_hook() {
    console_error_panic_hook::set_once();
}

fn config(env: &Env) -> Config {
    Config::from_lookup(|name| {
        env.secret(name).ok().map(|s| s.to_string()).or_else(|| env.var(name).ok().map(|v| v.to_string()))
    })
}

pub async fn sentry_webhook(mut req: Request, env: &Env) -> Result<Response> {
    let request_id = http::header(&req, "Request-ID");
    let resource = http::header(&req, "Sentry-Hook-Resource");
    let outcome = sentry_outcome(&mut req, env, resource.as_deref()).await;
    let (status, verdict, action, detail, response) = match outcome {
        Ok((plan, action)) => (plan.reply.status, plan.verdict.outcome, action, None, http::json_response(&plan.reply)),
        Err(e) => {
            let detail = match &e {
                AppError::Internal(d) => Some(d.clone()),
                _ => None,
            };
            (e.status(), e.code(), None, detail, error_response(&e))
        }
    };
    let line = DeliveryLog {
        source: "sentry",
        resource: resource.as_deref(),
        action: action.as_deref(),
        verdict,
        status,
        request_id: request_id.as_deref(),
        detail: detail.as_deref(),
    }
    .line();
    console_log!("{}", line);
    response
}

async fn sentry_outcome(
    req: &mut Request,
    env: &Env,
    resource: Option<&str>,
) -> std::result::Result<(crate::plan::Plan, Option<String>), AppError> {
    let body = http::read_body(req, MAX_BODY_BYTES).await?;
    let signature = http::header(req, "Sentry-Hook-Signature").or_else(|| http::header(req, "Sentry-App-Signature"));
    let timestamp = http::header(req, "Sentry-Hook-Timestamp");
    let delivery = Delivery { resource, signature: signature.as_deref(), timestamp: timestamp.as_deref(), body: &body };
    let plan = hook::handle(&config(env), &delivery, Date::now().as_millis() as i64)?;
    d1::run(&db(env)?, &plan.statements).await?;
    let action = Some(plan.verdict.action.clone());
    Ok((plan, action))
}

fn db(env: &Env) -> std::result::Result<worker::D1Database, AppError> {
    env.d1(DB).map_err(|e| AppError::Internal(format!("D1 binding {DB}: {e}")))
}

pub async fn items(env: &Env) -> Result<Response> {
    let rows = match db(env) {
        Ok(db) => d1::rows(&db, store::LIST_ITEMS).await,
        Err(e) => Err(e),
    };
    match rows {
        Ok(rows) => {
            let items: Vec<_> = rows.iter().map(store::item_from_row).collect();
            Response::from_json(&serde_json::json!({ "items": items }))
        }
        Err(e) => {
            console_log!("{}", serde_json::json!({"event": "items_failed", "error": format!("{e:?}")}));
            error_response(&e)
        }
    }
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
