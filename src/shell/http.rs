//! HTTP plumbing: headers, bounded bodies, JSON replies.

use crate::body::Bounded;
use crate::error::AppError;
use crate::plan::Reply;
use crate::request_url::RequestUrl;
use futures_util::StreamExt;
use worker::{Request, Response, Result};

pub fn header(req: &Request, name: &str) -> Option<String> {
    req.headers().get(name).ok().flatten()
}

/// The request's absolute URL as workerd serialised it; read with
/// `RequestUrl::parse` (not `Request::url`, which pulls the `url` crate in).
pub fn url(req: &Request) -> String {
    req.inner().url()
}

/// The request's URL, split; a 400 if it is not absolute.
pub fn with_url<T>(req: &Request, read: impl FnOnce(RequestUrl) -> T) -> std::result::Result<T, AppError> {
    let raw = url(req);
    RequestUrl::parse(&raw).map(read).ok_or_else(|| AppError::BadRequest(format!("bad URL: {raw}")))
}

/// Reads the raw body, refusing anything over `limit` bytes. A declared
/// length over the limit is refused before reading; one within it is read
/// in one piece (`Bounded::in_one_piece`). A chunked upload that declares
/// none is streamed and counted as it arrives, so it is never buffered
/// past the limit: reading stops at the first chunk over it (the rest is
/// cancelled) and the answer is 413.
pub async fn read_body(req: &mut Request, limit: usize) -> std::result::Result<Vec<u8>, AppError> {
    let declared = crate::body::declared_length(
        header(req, "Content-Length").as_deref(),
        header(req, "Transfer-Encoding").as_deref(),
    );
    let mut body = Bounded::new(limit, declared)?;
    // A GET (Sentry's select options) has no body stream at all.
    if req.inner().body().is_none() {
        return Ok(body.finish());
    }
    let unreadable = |e: worker::Error| AppError::BadRequest(format!("unreadable body: {e}"));
    if body.in_one_piece() {
        return body.whole(req.bytes().await.map_err(unreadable)?);
    }
    let mut stream = req.stream().map_err(unreadable)?;
    while let Some(chunk) = stream.next().await {
        body.push(&chunk.map_err(unreadable)?)?;
    }
    Ok(body.finish())
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
