//! Which credentials a request is checked with, in which order, and what
//! each check's result means; the login form's checks before the token; the
//! `/api/session` answer. The shell runs the checks (D1, WebCrypto).

use super::{access_verdict, config_problems, cookie, session, AccessVerdict, Mode, Refusal};
use crate::config::{AccessConfig, Config};
use crate::error::AppError;
use serde_json::{json, Value};

/// One credential the request carries, for the shell to check.
#[derive(Debug, Clone, PartialEq)]
pub enum Credential<'a> {
    /// A session cookie, valid if signed with `token` at the current session
    /// version (one D1 read).
    Session { token: &'a str, cookie: &'a str },
    /// A Cloudflare Access token (a signature check, perhaps a key fetch).
    Access { access: &'a AccessConfig, token: String },
}

/// The session cookie first: it costs one D1 read where an Access token
/// may cost a key fetch, and a session is as good a sign-in. Of the Access
/// tokens, the header (set by Access itself) comes before the cookie.
pub fn credentials<'a>(
    cfg: &'a Config,
    cookies: Option<&'a str>,
    access_header: Option<String>,
) -> Vec<Credential<'a>> {
    let session = cfg.dashboard_token.as_deref().zip(cookie(cookies, session::COOKIE));
    let session = session.map(|(token, cookie)| Credential::Session { token, cookie });
    let presented = access_header.or_else(|| cookie(cookies, "CF_Authorization").map(str::to_string));
    let access = cfg.access.as_ref().zip(presented).map(|(access, token)| Credential::Access { access, token });
    session.into_iter().chain(access).collect()
}

/// What a credential's check came to.
#[derive(Debug, Clone, PartialEq)]
pub enum Checked {
    Session { valid: bool },
    Access(Result<Option<String>, Refusal>),
}

/// What the shell does after a check.
#[derive(Debug, Clone, PartialEq)]
pub enum Next {
    /// Signed in; `Some(name)` when the viewer has a name to show (Access).
    Viewer(Option<String>),
    /// Try the next credential (none left: `nobody`), logging why if any.
    Continue(Option<(&'static str, String)>),
    /// Stop with this error, logging why.
    Stop(AppError, (&'static str, String)),
}

pub fn after(checked: Checked) -> Next {
    match checked {
        Checked::Session { valid: true } => Next::Viewer(None),
        Checked::Session { valid: false } => Next::Continue(None),
        Checked::Access(result) => match access_verdict(result) {
            AccessVerdict::Viewer(name) => Next::Viewer(Some(name)),
            AccessVerdict::Refused(why) => Next::Continue(Some(("access_token_refused", why.to_string()))),
            AccessVerdict::Unavailable(e) => {
                let why = e.body()["message"].as_str().unwrap_or_default().to_string();
                Next::Stop(e, ("access_keys_unavailable", why))
            }
        },
    }
}

/// No credential signed the request in.
pub fn nobody() -> AppError {
    AppError::Unauthenticated
}

/// Why the login form is refused before its token is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginRefusal {
    /// A login posted from another site (JSON 403).
    CrossOrigin,
    /// Unusable access settings: the form's 503 (a page for a browser),
    /// logged with what to fix.
    Misconfigured,
    /// No `DASHBOARD_TOKEN`: there is no form to post to (JSON 400).
    NoTokenLogin,
}

impl LoginRefusal {
    pub fn error(self, cfg: &Config) -> AppError {
        match self {
            LoginRefusal::CrossOrigin => AppError::Forbidden("cross-origin write refused".into()),
            LoginRefusal::Misconfigured => AppError::Unavailable(config_problems(cfg).join(" ")),
            LoginRefusal::NoTokenLogin => AppError::BadRequest("DASHBOARD_TOKEN is not set on this worker".into()),
        }
    }
}

/// The token the form must match, once the origin and settings allow a
/// login at all. The origin comes first: another site learns nothing about
/// this worker's settings.
pub fn login_token(cfg: &Config, same_origin: bool) -> Result<&str, LoginRefusal> {
    if !same_origin {
        return Err(LoginRefusal::CrossOrigin);
    }
    if !config_problems(cfg).is_empty() {
        return Err(LoginRefusal::Misconfigured);
    }
    cfg.dashboard_token.as_deref().ok_or(LoginRefusal::NoTokenLogin)
}

/// `GET /api/session`: the mode, whether the viewer is signed in (and as
/// whom), and a message when the board can't be reached for a reason the
/// viewer should read (nothing configured, the Access keys out of reach).
pub fn session_answer(mode: Mode, signed_in: &Result<Option<String>, AppError>) -> Value {
    let message = match (mode, signed_in) {
        (Mode::Unconfigured, _) => Some(super::HOW_TO_CONFIGURE.to_string()),
        (_, Err(e @ (AppError::Unavailable(_) | AppError::UpstreamUnavailable(_)))) => {
            e.body()["message"].as_str().map(str::to_string)
        }
        _ => None,
    };
    json!({
        "mode": mode.name(),
        "authenticated": signed_in.is_ok(),
        "unprotected": mode == Mode::Open,
        "user": signed_in.as_ref().ok().cloned().flatten(),
        "login": matches!(mode, Mode::Protected { token: true, .. }),
        "message": message,
    })
}

#[cfg(test)]
#[path = "sign_in_tests.rs"]
mod tests;
