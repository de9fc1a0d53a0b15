//! Performs an `HttpCall` with a deadline and turns the answer (or its
//! absence) into an `HttpReply` or a retryable `CallError`. Redirects are
//! never followed: a call carries a token or the client secret, and a
//! redirect would take it to wherever the `Location` points. A 3xx comes
//! back as the reply, which `outbound::check` refuses.

use crate::outbound::{unreachable, CallError, HttpCall, HttpReply};
use worker::{AbortSignal, Date, Fetch, Headers, Method, Request, RequestInit, RequestRedirect};

thread_local! {
    static SENT: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// How many calls this isolate has begun to send: a job whose run moved it
/// made a call (or a job beside it did, which only costs a round trip).
pub fn sent() -> u64 {
    SENT.with(std::cell::Cell::get)
}

pub async fn send(what: &str, call: &HttpCall, timeout_ms: u32) -> Result<HttpReply, CallError> {
    SENT.with(|n| n.set(n.get() + 1));
    let request = build(call).map_err(|e| CallError::Permanent { detail: format!("{what}: bad request: {e}") })?;
    // One deadline covers connecting, the headers and the body.
    let signal = AbortSignal::from(worker::web_sys::AbortSignal::timeout_with_u32(timeout_ms));
    let mut resp = Fetch::Request(request)
        .send_with_signal(&signal)
        .await
        .map_err(|e| unreachable(what, &failure_text(&signal, timeout_ms, &e)))?;
    let status = resp.status_code();
    let header = |name: &str| resp.headers().get(name).ok().flatten();
    let (retry_after, link, location) = (header("Retry-After"), header("Link"), header("Location"));
    let rate_remaining = header("X-Sentry-Rate-Limit-Remaining").or_else(|| header("X-RateLimit-Remaining"));
    let rate_reset = header("X-Sentry-Rate-Limit-Reset").or_else(|| header("X-RateLimit-Reset"));
    let received_secs = (Date::now().as_millis() / 1000) as i64;
    let body = resp.text().await.map_err(|e| unreachable(what, &failure_text(&signal, timeout_ms, &e)))?;
    Ok(HttpReply { status, retry_after, link, location, rate_remaining, rate_reset, received_secs, body })
}

fn build(call: &HttpCall) -> worker::Result<Request> {
    let headers = Headers::new();
    headers.set("Accept", "application/json")?;
    headers.set("User-Agent", "sentry-kanban")?;
    if let Some(token) = &call.bearer {
        headers.set("Authorization", &format!("Bearer {token}"))?;
    }
    for (name, value) in &call.headers {
        headers.set(name, value)?;
    }
    if call.body.is_some() {
        headers.set("Content-Type", "application/json")?;
    }
    let mut init = RequestInit::new();
    init.with_method(Method::from(call.method.to_string()))
        .with_headers(headers)
        .with_redirect(RequestRedirect::Manual);
    init.with_body(call.body.as_deref().map(Into::into));
    Request::new_with_init(&call.url, &init)
}

fn failure_text(signal: &AbortSignal, timeout_ms: u32, e: &worker::Error) -> String {
    if signal.aborted() {
        format!("no answer within {timeout_ms} ms")
    } else {
        format!("request failed: {e}")
    }
}
