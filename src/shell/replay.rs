//! A kept delivery read back (`GET /api/deliveries/{id}/body`) or run again
//! (`POST /api/deliveries/{id}/replay`) through the webhook's own path. Its
//! signature was checked when it arrived (only verified deliveries keep a
//! body), so the replay skips verification and logs a new entry with
//! `replay_of` set.

use super::d1::{self, text};
use super::env::{config, db};
use super::http;
use super::sentry::{decide, finish, Outcome, Received};
use crate::error::AppError;
use crate::sentry::hook::{self, Delivery};
use crate::store::deliveries;
use worker::{Date, Env, Response, Result};

/// The kept delivery: its resource, Request-ID and exact bytes.
struct Kept {
    source: String,
    resource: Option<String>,
    request_id: Option<String>,
    body: Vec<u8>,
}

async fn kept(env: &Env, id: i64) -> std::result::Result<Kept, AppError> {
    let id = i32::try_from(id).map_err(|_| AppError::NotFound)?;
    let row = d1::first(&db(env)?, deliveries::KEPT, &[id.into()]).await?.ok_or(AppError::NotFound)?;
    let body = text(&row, "body_hex").and_then(|h| hex::decode(h).ok());
    let body = body.ok_or_else(|| AppError::Internal("a kept body is not hex".into()))?;
    Ok(Kept {
        source: text(&row, "source").unwrap_or_default(),
        resource: text(&row, "resource"),
        request_id: text(&row, "request_id"),
        body,
    })
}

pub async fn body(env: &Env, id: i64) -> Result<Response> {
    match kept(env, id).await {
        Ok(k) => {
            let mut resp = Response::from_bytes(k.body)?;
            resp.headers_mut().set("Content-Type", "application/octet-stream")?;
            Ok(resp)
        }
        Err(e) => http::error_response(&e),
    }
}

pub async fn replay(env: &Env, id: i64) -> Result<Response> {
    let started = Date::now().as_millis();
    let k = match kept(env, id).await.and_then(|k| deliveries::replayable(&k.source).map(|()| k)) {
        Ok(k) => k,
        Err(e) => return http::error_response(&e),
    };
    let cfg = config(env);
    let delivery = Delivery {
        resource: k.resource.as_deref(),
        request_id: k.request_id.as_deref(),
        body: &k.body,
        ..Default::default()
    };
    let outcome = match hook::handle_verified(&cfg, &delivery, started as i64) {
        Ok(step) => decide(&cfg, step),
        Err(e) => Outcome::rejected(e),
    };
    let received =
        Received { started, request_id: k.request_id.as_deref(), resource: k.resource.as_deref(), body: &k.body };
    finish(env, received, outcome, Some(id)).await
}
