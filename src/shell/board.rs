//! The board's own API: the cards (with an ETag, so an unchanged board
//! costs a 304), board changes and the assignee picker.

use super::env::db;
use super::{d1, http, queue};
use crate::board::ItemFilter;
use crate::error::AppError;
use crate::etag;
use crate::jobs::Job;
use crate::settle;
use crate::sql::SqlValue;
use crate::store::{self, writeback as wb};
use crate::time::format_millis;
use crate::writeback::{self, WriteBackJob};
use serde_json::{json, Value};
use worker::{console_log, Date, Env, Headers, Request, Response, Result};

/// Cards, comments and the last sync time in one D1 batch: one round trip
/// per poll. `?org=<slug>` keeps the cards of that organization's installations;
/// `?substatus=` and `?priority=` (comma lists) keep the cards in those lanes
/// (`board::ItemFilter`; an unknown value is a 400). The ETag is of the
/// filtered body, so each filter revalidates on its own.
/// The comments are only counted and fingerprinted on the cards; the board
/// loads them per card (`comments`) when it shows them.
pub async fn items(req: &Request, env: &Env) -> Result<Response> {
    let pairs = http::with_url(req, |u| u.query_pairs()).unwrap_or_default();
    let filter = match ItemFilter::parse(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))) {
        Ok(f) => f,
        Err(e) => return http::error_response(&e),
    };
    let params = store::list_items_params(&filter);
    let read = match db(env) {
        Ok(db) => {
            let queries: [(&str, &[SqlValue]); 3] =
                [(store::LIST_ITEMS, &params), (store::LIST_COMMENTS, &[]), (store::LAST_SYNCED, &[])];
            d1::rows_batch(&db, &queries).await
        }
        Err(e) => Err(e),
    };
    let body = match read.as_deref() {
        Ok([rows, comments, synced]) => {
            let mut body = store::board_json(rows, comments);
            body["synced_at"] = synced.first().and_then(|r| r.get("synced_at")).cloned().unwrap_or(Value::Null);
            body
        }
        Ok(_) => return failed("items", &AppError::Internal("D1 batch returned an unexpected result count".into())),
        Err(e) => return failed("items", e),
    };
    conditional(req, &body)
}

/// `GET /api/items/{id}/comments`: one card's live comments, with an ETag.
pub async fn comments(req: &Request, env: &Env, id: &str) -> Result<Response> {
    let read = match db(env) {
        Ok(db) => d1::query(&db, store::LIST_CARD_COMMENTS, &[SqlValue::from(id)]).await,
        Err(e) => Err(e),
    };
    match read {
        Ok(rows) => conditional(req, &store::comments_json(&rows)),
        Err(e) => failed("comments", &e),
    }
}

/// `GET /api/items/{id}/history`: one card's changes, newest last, with an ETag.
pub async fn history(req: &Request, env: &Env, id: &str) -> Result<Response> {
    let read = match db(env) {
        Ok(db) => d1::query(&db, store::history::CARD_HISTORY, &[SqlValue::from(id)]).await,
        Err(e) => Err(e),
    };
    match read {
        Ok(rows) => conditional(req, &store::history::history_json(&rows)),
        Err(e) => failed("history", &e),
    }
}

/// A JSON reply with a strong ETag of its bytes; `If-None-Match` with the
/// same tag gets a bodiless 304.
fn conditional(req: &Request, body: &Value) -> Result<Response> {
    let text = body.to_string();
    let tag = etag::for_body(text.as_bytes());
    let headers = Headers::new();
    headers.set("ETag", &tag)?;
    headers.set("Cache-Control", "private, no-cache")?;
    if etag::matches(http::header(req, "If-None-Match").as_deref(), &tag) {
        return Ok(Response::empty()?.with_status(304).with_headers(headers));
    }
    headers.set("Content-Type", "application/json")?;
    Ok(Response::ok(text)?.with_headers(headers))
}

/// `POST /api/items/{id}/actions`: the card changes now; a queue job tells
/// Sentry. If the job cannot be queued the card says so and the answer is
/// 503, so nothing is silently dropped. `user`: the viewer's name, when the
/// sign-in gives one (Access), for the card's history.
pub async fn action(mut req: Request, env: &Env, id: &str, user: Option<&str>) -> Result<Response> {
    match apply_action(&mut req, env, id, user).await {
        Ok(()) => http::json_response(&settle::writeback_accepted()),
        Err(e) => {
            log("board_action_failed", json!({ "card": id, "error": format!("{e:?}") }));
            http::error_response(&e)
        }
    }
}

async fn apply_action(req: &mut Request, env: &Env, id: &str, user: Option<&str>) -> std::result::Result<(), AppError> {
    writeback::check_card_id(id)?;
    let body = http::read_body(req, writeback::MAX_BODY_BYTES).await?;
    let change = writeback::parse_change(&body)?;
    let db = db(env)?;
    let now = format_millis(Date::now().as_millis() as i64);
    let row = d1::first(&db, wb::BOARD_CHANGE, &wb::board_change_params_by(id, &change, &now, user)).await?;
    let Some(row) = row else { return Err(AppError::NotFound) };
    let job =
        WriteBackJob { card: id.to_string(), requested_at: now, installation: d1::text(&row, "installation_uuid") };
    log(
        "board_action",
        json!({
            "card": id, "status": change.status.map(|s| s.as_str()), "substatus": change.substatus,
            "assign": change.assignee.is_some(),
        }),
    );
    let Err(e) = queue::enqueue(env, vec![Job::WriteBack(job.clone())]).await else { return Ok(()) };
    let (write, refused) = settle::writeback_unqueued(&job, &e.to_string());
    let _ = d1::run(&db, &[write]).await;
    Err(refused)
}

/// `GET /api/items/{id}/assignees`.
pub async fn assignees(env: &Env, id: &str) -> Result<Response> {
    let rows = match db(env) {
        Ok(db) => d1::query(&db, wb::ASSIGNEES, &[id.into()]).await,
        Err(e) => Err(e),
    };
    match rows {
        Ok(rows) => {
            let list: Vec<Value> = rows
                .iter()
                .map(|r| json!({ "type": d1::text(r, "type"), "id": d1::text(r, "id"), "name": d1::text(r, "name"), "email": d1::text(r, "email") }))
                .collect();
            Response::from_json(&json!({ "assignees": list }))
        }
        Err(e) => failed("assignees", &e),
    }
}

fn failed(what: &str, e: &AppError) -> Result<Response> {
    log("read_failed", json!({ "what": what, "error": format!("{e:?}") }));
    http::error_response(e)
}

fn log(event: &str, fields: Value) {
    let mut line = fields;
    line["event"] = json!(event);
    console_log!("{line}");
}
