//! Typed errors and the one place they become HTTP statuses.

use crate::verify::Rejection;
use serde_json::json;
use std::fmt;

#[derive(Debug, Clone, PartialEq)]
pub enum AppError {
    Unauthorized(Rejection),
    BadRequest(String),
    PayloadTooLarge {
        limit: usize,
    },
    NotFound,
    MethodNotAllowed,
    /// The body is not JSON; the message says which content type to pick.
    UnsupportedMediaType(String),
    /// The board's pages and API need a signed-in viewer.
    Unauthenticated,
    /// Signed in, but not allowed (e.g. a cross-origin write).
    Forbidden(String),
    /// The worker cannot serve this yet; the message says what to configure.
    Unavailable(String),
    /// Something the answer depends on is down (e.g. the Access signing
    /// keys cannot be fetched): refused, and not the caller's fault.
    UpstreamUnavailable(String),
    /// Too many failed logins from this client; retry after this many seconds.
    TooManyRequests {
        retry_after_secs: u32,
    },
    /// A binding or the database failed; the detail goes to the log only.
    Internal(String),
}

impl AppError {
    pub fn status(&self) -> u16 {
        match self {
            AppError::Unauthorized(_) => 401,
            AppError::BadRequest(_) => 400,
            AppError::PayloadTooLarge { .. } => 413,
            AppError::NotFound => 404,
            AppError::MethodNotAllowed => 405,
            AppError::UnsupportedMediaType(_) => 415,
            AppError::Unauthenticated => 401,
            AppError::Forbidden(_) => 403,
            AppError::Unavailable(_) | AppError::UpstreamUnavailable(_) => 503,
            AppError::TooManyRequests { .. } => 429,
            AppError::Internal(_) => 500,
        }
    }

    /// The `Retry-After` header's seconds, for the errors that have one.
    pub fn retry_after(&self) -> Option<u32> {
        match self {
            AppError::TooManyRequests { retry_after_secs } => Some(*retry_after_secs),
            _ => None,
        }
    }

    /// Short machine-readable code, also used as the log verdict.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Unauthorized(r) => r.as_str(),
            AppError::BadRequest(_) => "bad_request",
            AppError::PayloadTooLarge { .. } => "payload_too_large",
            AppError::NotFound => "not_found",
            AppError::MethodNotAllowed => "method_not_allowed",
            AppError::UnsupportedMediaType(_) => "unsupported_media_type",
            AppError::Unauthenticated => "unauthenticated",
            AppError::Forbidden(_) => "forbidden",
            AppError::Unavailable(_) => "not_configured",
            AppError::UpstreamUnavailable(_) => "upstream_unavailable",
            AppError::TooManyRequests { .. } => "too_many_requests",
            AppError::Internal(_) => "internal",
        }
    }

    /// The JSON body sent to the client; internal details stay in the log.
    pub fn body(&self) -> serde_json::Value {
        let message = match self {
            AppError::Unauthorized(Rejection::BadBearer) => "missing or wrong Authorization: Bearer token".to_string(),
            AppError::Unauthorized(Rejection::SecretNotConfigured) => {
                "the secret for this endpoint is not configured on the worker".to_string()
            }
            AppError::Unauthorized(_) => "signature verification failed".to_string(),
            AppError::BadRequest(m)
            | AppError::UnsupportedMediaType(m)
            | AppError::Forbidden(m)
            | AppError::Unavailable(m)
            | AppError::UpstreamUnavailable(m) => m.clone(),
            AppError::TooManyRequests { retry_after_secs } => {
                format!("too many failed logins; try again in {retry_after_secs} s")
            }
            AppError::Unauthenticated => "sign in first".to_string(),
            AppError::PayloadTooLarge { limit } => format!("body larger than {limit} bytes"),
            AppError::NotFound => "not found".to_string(),
            AppError::MethodNotAllowed => "method not allowed".to_string(),
            AppError::Internal(_) => "internal error".to_string(),
        };
        let mut body = json!({ "error": self.code(), "message": message });
        if let Some(secs) = self.retry_after() {
            body["retry_after"] = json!(secs);
        }
        if *self == AppError::Unauthenticated {
            body["login"] = json!("/login");
        }
        body
    }
}

/// A job the queue did not take. The shell's producer returns it; each
/// caller decides what the failure means for its request or job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueueError {
    /// The `JOBS` binding is missing from the worker's configuration.
    Binding { name: &'static str, detail: String },
    /// The queue refused or failed the send.
    Send(String),
}

impl fmt::Display for QueueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QueueError::Binding { name, detail } => write!(f, "queue binding {name}: {detail}"),
            QueueError::Send(detail) => write!(f, "queue send: {detail}"),
        }
    }
}

/// Unqueued work on a request is the worker's failure, never the caller's.
impl From<QueueError> for AppError {
    fn from(e: QueueError) -> Self {
        AppError::Internal(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_mapped_in_one_place() {
        assert_eq!(AppError::Unauthorized(Rejection::BadSignature).status(), 401);
        assert_eq!(AppError::BadRequest("x".into()).status(), 400);
        assert_eq!(AppError::PayloadTooLarge { limit: 1 }.status(), 413);
        assert_eq!(AppError::NotFound.status(), 404);
        assert_eq!(AppError::MethodNotAllowed.status(), 405);
        assert_eq!(AppError::UnsupportedMediaType("pick json".into()).status(), 415);
        assert_eq!(AppError::Internal("db down".into()).status(), 500);
        assert_eq!(AppError::Unauthenticated.status(), 401);
        assert_eq!(AppError::Forbidden("x".into()).status(), 403);
        assert_eq!(AppError::Unavailable("x".into()).status(), 503);
        assert_eq!(AppError::UpstreamUnavailable("keys".into()).status(), 503);
        let throttled = AppError::TooManyRequests { retry_after_secs: 42 };
        assert_eq!((throttled.status(), throttled.retry_after()), (429, Some(42)));
        assert_eq!(throttled.body()["retry_after"], 42);
        assert_eq!(AppError::NotFound.retry_after(), None);
        assert_eq!(AppError::Unauthenticated.body()["login"], "/login");
    }

    #[test]
    fn an_unqueued_job_is_an_internal_error_whose_detail_says_which_step_failed() {
        let missing = QueueError::Binding { name: "JOBS", detail: "no binding".into() };
        assert_eq!(AppError::from(missing), AppError::Internal("queue binding JOBS: no binding".into()));
        let refused = AppError::from(QueueError::Send("full".into()));
        assert_eq!((refused.status(), refused.code()), (500, "internal"));
        assert!(!refused.body().to_string().contains("full"));
    }

    #[test]
    fn internal_detail_never_reaches_the_client() {
        let body = AppError::Internal("D1_ERROR secret-ish detail".into()).body().to_string();
        assert!(!body.contains("secret-ish"), "{body}");
    }
}
