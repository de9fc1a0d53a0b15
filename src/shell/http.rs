//! HTTP plumbing: headers, bounded bodies, JSON replies.

use crate::error::AppError;
use crate::plan::Reply;
use worker::{Request, Response, Result};

pub fn header(req: &Request, name: &str) -> Option<String> {
    req.headers().get(name).ok().flatten()
}

/// Reads the raw body, refusing anything over `limit` bytes. The declared
/// length is checked first so an oversized body is never buffered.
pub async fn read_body(req: &mut Request, limit: usize) -> std::result::Result<Vec<u8>, AppError> {
    let declared = header(req, "Content-Length").and_then(|v| v.trim().parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(AppError::PayloadTooLarge { limit });
    }
    let body = req.bytes().await.map_err(|e| AppError::BadRequest(format!("unreadable body: {e}")))?;
    if body.len() > limit {
        return Err(AppError::PayloadTooLarge { limit });
    }
    Ok(body)
}

pub fn json_response(reply: &Reply) -> Result<Response> {
    let mut resp = Response::from_json(&reply.body)?.with_status(reply.status);
    for (name, value) in &reply.headers {
        resp.headers_mut().set(name, value)?;
    }
    Ok(resp)
}

pub fn error_response(e: &AppError) -> Result<Response> {
    let mut resp = Response::from_json(&e.body())?.with_status(e.status());
    if let Some(secs) = e.retry_after() {
        resp.headers_mut().set("Retry-After", &secs.to_string())?;
    }
    Ok(resp)
}

/// A JSON body, or the error's status and body.
pub fn json_or_error(result: std::result::Result<serde_json::Value, AppError>) -> Result<Response> {
    match result {
        Ok(v) => Response::from_json(&v),
        Err(e) => error_response(&e),
    }
}
