//! Installation tokens: the grant-code exchange, the refresh, and when a
//! stored token may still be used. Tokens expire after 8 hours, and each
//! refresh returns a new refresh token that replaces the stored one.

use crate::config::Config;
use crate::outbound::{self, CallError, HttpCall, HttpReply};
use crate::time::{format_millis, parse_rfc3339, Millis};
use serde::Deserialize;
use serde_json::{json, Value};

/// A token is refreshed this long before it expires, so a call started with
/// it does not run past expiry.
pub const REFRESH_MARGIN_MS: Millis = 5 * 60 * 1000;

/// How long one job may hold the refresh lease before another may take over.
pub const REFRESH_LEASE_MS: Millis = 30 * 1000;

/// What Sentry returns from `…/authorizations/` (201).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Token {
    pub token: String,
    pub refresh_token: Option<String>,
    pub expires_at: Option<String>,
}

impl Token {
    /// Expiry in canonical form. `None` means the token does not expire; an
    /// unreadable one counts as expired, so the next call refreshes instead
    /// of using a dead token.
    pub fn expires_at_canonical(&self) -> Option<String> {
        let raw = self.expires_at.as_deref()?;
        Some(parse_rfc3339(raw).map_or_else(|| format_millis(0), format_millis))
    }
}

/// The stored token row, as the shell reads it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Stored {
    pub token: String,
    pub refresh_token: Option<String>,
    pub expires_at: Option<String>,
    /// Set once a refreshed pair was lost: why the installation needs a reinstall.
    pub needs_reinstall: Option<String>,
}

/// What a job needing a token should do.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    Use(String),
    /// Take the refresh lease, then refresh with this refresh token.
    Refresh(String),
    /// No usable token and no way to get one.
    Missing(&'static str),
    /// The refresh token was spent on a refresh whose result was lost: only
    /// a reinstall (a new grant code) gets a token again.
    NeedsReinstall(String),
}

/// How many times a refreshed pair is written before it is given up on.
pub const SAVE_ATTEMPTS: u32 = 3;

/// After the `attempt`-th failed save of a refreshed pair (counting from
/// 1): wait this long and save again, or `None` to give up. Giving up is
/// costly (Sentry already rotated the refresh token, so the stored one is
/// spent), hence the retries; the waits stay short because the job holds
/// the refresh lease and other jobs wait on it.
pub fn save_retry_ms(attempt: u32) -> Option<u64> {
    (attempt < SAVE_ATTEMPTS).then(|| 200 * u64::from(attempt))
}

/// What the installation shows once a refreshed pair could not be saved.
pub fn lost_pair_reason(save_error: &str) -> String {
    let cause: String = save_error.chars().filter(|c| !c.is_control()).take(200).collect();
    format!(
        "needs reinstall: the refreshed Sentry token could not be saved after {SAVE_ATTEMPTS} attempts \
         ({cause}), and Sentry has already retired the previous refresh token. Uninstall and install the \
         integration again."
    )
}

pub fn decide(cfg: &Config, stored: Option<&Stored>, now: Millis) -> Decision {
    if let Some(internal) = &cfg.internal {
        return Decision::Use(internal.token.clone());
    }
    let Some(s) = stored else { return Decision::Missing("the installation has no token yet") };
    if let Some(why) = &s.needs_reinstall {
        return Decision::NeedsReinstall(why.clone());
    }
    let expires = s.expires_at.as_deref().and_then(parse_rfc3339);
    match (expires, &s.refresh_token) {
        // Sentry tokens without an expiry do not expire.
        (None, _) if s.expires_at.is_none() => Decision::Use(s.token.clone()),
        (Some(t), _) if t > now + REFRESH_MARGIN_MS => Decision::Use(s.token.clone()),
        (_, Some(refresh)) => Decision::Refresh(refresh.clone()),
        (_, None) => Decision::Missing("the token expired and there is no refresh token"),
    }
}

fn authorizations_url(cfg: &Config, installation: &str) -> String {
    format!("{}/api/0/sentry-app-installations/{}/authorizations/", cfg.sentry_api_base, installation)
}

fn credentials(cfg: &Config) -> Result<(&str, &str), CallError> {
    match (cfg.sentry_client_id.as_deref(), cfg.sentry_secret.as_deref()) {
        (Some(id), Some(secret)) => Ok((id, secret)),
        _ => Err(CallError::Permanent { detail: "SENTRY_CLIENT_ID and SENTRY_CLIENT_SECRET must be set".into() }),
    }
}

/// A job that lost the refresh race reads the token again every
/// `REFRESH_WAIT_MS`, at most `REFRESH_READS` times, then gives its message
/// back to the queue (the other job's refresh shows up in the meantime).
pub const REFRESH_WAIT_MS: u64 = 250;
pub const REFRESH_READS: u32 = 40;

/// After `reads` reads found another job refreshing: how long to wait
/// before the next read, or the retry that ends the wait.
pub fn refresh_wait(reads: u32) -> Result<u64, CallError> {
    if reads < REFRESH_READS {
        Ok(REFRESH_WAIT_MS)
    } else {
        Err(CallError::Retryable { after: None, detail: "token refresh still in progress in another job".into() })
    }
}

/// Whose token a Sentry call carries: the internal integration's when one is
/// configured, else its installation's. Neither is a job that can't run (a
/// call with an empty token would only earn a 401).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bearer {
    Internal(String),
    Installation(String),
}

pub fn bearer(cfg: &Config, installation: Option<&str>) -> Result<Bearer, CallError> {
    match (&cfg.internal, installation) {
        (Some(internal), _) => Ok(Bearer::Internal(internal.token.clone())),
        (None, Some(uuid)) => Ok(Bearer::Installation(uuid.to_string())),
        (None, None) => Err(CallError::Permanent {
            detail: "no installation to take a token from, and no SENTRY_AUTH_TOKEN".into(),
        }),
    }
}

/// `POST …/authorizations/` exchanging the grant code from installation.created.
pub fn exchange_call(cfg: &Config, installation: &str, code: &str) -> Result<HttpCall, CallError> {
    authorization_call(cfg, installation, json!({"grant_type": "authorization_code", "code": code}))
}

/// `POST …/authorizations/` trading the refresh token for a new pair.
pub fn refresh_call(cfg: &Config, installation: &str, refresh_token: &str) -> Result<HttpCall, CallError> {
    authorization_call(cfg, installation, json!({"grant_type": "refresh_token", "refresh_token": refresh_token}))
}

/// The grant plus the client id and secret, which authenticate the call
/// (no bearer).
fn authorization_call(cfg: &Config, installation: &str, mut grant: Value) -> Result<HttpCall, CallError> {
    let (id, secret) = credentials(cfg)?;
    grant["client_id"] = json!(id);
    grant["client_secret"] = json!(secret);
    Ok(HttpCall {
        method: "POST",
        url: authorizations_url(cfg, installation),
        bearer: None,
        body: Some(grant.to_string()),
        headers: vec![],
    })
}

/// `PUT …/sentry-app-installations/{uuid}/` marking the install verified.
pub fn verify_call(cfg: &Config, installation: &str, token: &str) -> HttpCall {
    HttpCall {
        method: "PUT",
        url: format!("{}/api/0/sentry-app-installations/{}/", cfg.sentry_api_base, installation),
        bearer: Some(token.to_string()),
        body: Some(json!({"status": "installed"}).to_string()),
        headers: vec![],
    }
}

pub fn parse(what: &str, reply: &HttpReply) -> Result<Token, CallError> {
    let token: Token = outbound::json(what, reply)?;
    if token.token.is_empty() {
        return Err(CallError::Permanent { detail: format!("{what}: empty token") });
    }
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Internal;

    const NOW: Millis = 1_700_000_000_000;

    fn cfg() -> Config {
        Config {
            sentry_secret: Some("sec".into()),
            sentry_client_id: Some("cid".into()),
            sentry_api_base: "http://mock".into(),
            ..Default::default()
        }
    }

    fn stored(expires_in_ms: Option<Millis>, refresh: Option<&str>) -> Stored {
        Stored {
            token: "tok".into(),
            refresh_token: refresh.map(str::to_string),
            expires_at: expires_in_ms.map(|d| format_millis(NOW + d)),
            needs_reinstall: None,
        }
    }

    #[test]
    fn a_fresh_token_is_used_and_a_nearly_expired_one_refreshed() {
        let c = cfg();
        assert_eq!(decide(&c, Some(&stored(Some(3_600_000), Some("r"))), NOW), Decision::Use("tok".into()));
        assert_eq!(decide(&c, Some(&stored(Some(60_000), Some("r"))), NOW), Decision::Refresh("r".into()));
        assert_eq!(decide(&c, Some(&stored(Some(-1), Some("r"))), NOW), Decision::Refresh("r".into()));
        assert!(matches!(decide(&c, Some(&stored(Some(-1), None)), NOW), Decision::Missing(_)));
        assert!(matches!(decide(&c, None, NOW), Decision::Missing(_)));
        assert_eq!(decide(&c, Some(&stored(None, None)), NOW), Decision::Use("tok".into()));
        let garbled = Stored { expires_at: Some("soon".into()), ..stored(None, Some("r")) };
        assert_eq!(decide(&c, Some(&garbled), NOW), Decision::Refresh("r".into()));
    }

    #[test]
    fn a_lost_pair_means_reinstall_even_with_a_fresh_looking_token() {
        let c = cfg();
        let lost = Stored { needs_reinstall: Some("needs reinstall: x".into()), ..stored(Some(3_600_000), Some("r")) };
        assert_eq!(decide(&c, Some(&lost), NOW), Decision::NeedsReinstall("needs reinstall: x".into()));
        let expired = Stored { expires_at: Some(format_millis(NOW - 1)), ..lost };
        assert!(matches!(decide(&c, Some(&expired), NOW), Decision::NeedsReinstall(_)), "no refresh is tried");
    }

    #[test]
    fn a_failed_save_of_a_refreshed_pair_is_retried_then_given_up() {
        let waits: Vec<Option<u64>> = (1..=SAVE_ATTEMPTS).map(save_retry_ms).collect();
        assert_eq!(waits, vec![Some(200), Some(400), None]);
        // The waits fit well inside the refresh lease the job holds.
        assert!(waits.iter().flatten().sum::<u64>() < REFRESH_LEASE_MS as u64 / 10);
        let reason = lost_pair_reason("D1_ERROR: disk full\nmore");
        assert!(reason.starts_with("needs reinstall:") && reason.contains("disk full") && !reason.contains('\n'));
    }

    #[test]
    fn internal_mode_always_uses_the_configured_token() {
        let c = Config { internal: Some(Internal { token: "int".into(), org_slug: "acme".into() }), ..cfg() };
        assert_eq!(decide(&c, None, NOW), Decision::Use("int".into()));
    }

    #[test]
    fn the_exchange_and_refresh_bodies_carry_client_credentials() {
        let call = exchange_call(&cfg(), "u1", "code1").unwrap();
        assert_eq!(call.url, "http://mock/api/0/sentry-app-installations/u1/authorizations/");
        assert_eq!(call.bearer, None);
        let body: serde_json::Value = serde_json::from_str(call.body.as_deref().unwrap()).unwrap();
        assert_eq!(
            body,
            json!({"grant_type":"authorization_code","code":"code1","client_id":"cid","client_secret":"sec"})
        );
        let body: serde_json::Value =
            serde_json::from_str(refresh_call(&cfg(), "u1", "r1").unwrap().body.as_deref().unwrap()).unwrap();
        assert_eq!(body["grant_type"], "refresh_token");
        assert_eq!(body["refresh_token"], "r1");
        let missing = Config { sentry_client_id: None, ..cfg() };
        assert!(matches!(exchange_call(&missing, "u1", "c"), Err(CallError::Permanent { .. })));
    }

    #[test]
    fn the_verify_call_is_a_put_with_the_bearer() {
        let call = verify_call(&cfg(), "u1", "tok");
        assert_eq!((call.method, call.url.as_str()), ("PUT", "http://mock/api/0/sentry-app-installations/u1/"));
        assert_eq!(call.bearer.as_deref(), Some("tok"));
        assert_eq!(call.body.as_deref(), Some(r#"{"status":"installed"}"#));
    }

    #[test]
    fn token_replies_are_parsed_from_sentrys_shape() {
        let body = include_str!("../../tests/fixtures/sentry/token-exchange-response.json");
        let t = parse("exchange", &HttpReply { status: 201, body: body.into(), ..Default::default() }).unwrap();
        assert_eq!(
            t.refresh_token.as_deref(),
            Some("c866f154a65841638d44ee26364409b0a1a67bd642bd46e7a476f34f810712d6")
        );
        assert_eq!(t.expires_at_canonical().as_deref(), Some("2019-08-08T04:25:09.870Z"));
        let no_expiry = Token { token: "t".into(), refresh_token: None, expires_at: None };
        assert_eq!(no_expiry.expires_at_canonical(), None);
        let garbled = Token { expires_at: Some("tomorrow".into()), ..no_expiry };
        assert_eq!(garbled.expires_at_canonical().as_deref(), Some("1970-01-01T00:00:00.000Z"));
        let bad = HttpReply { status: 201, body: "{}".into(), ..Default::default() };
        assert!(matches!(parse("exchange", &bad), Err(CallError::Permanent { .. })));
        let denied = HttpReply { status: 403, body: r#"{"error":"Invalid grant"}"#.into(), ..Default::default() };
        assert!(matches!(parse("exchange", &denied), Err(CallError::Permanent { .. })));
    }

    #[test]
    fn the_internal_token_wins_then_the_installation_and_neither_is_permanent() {
        let mut cfg = Config::from_lookup(|_| None);
        assert_eq!(bearer(&cfg, Some("u1")), Ok(Bearer::Installation("u1".into())));
        assert!(matches!(bearer(&cfg, None), Err(CallError::Permanent { .. })), "never an empty token");
        cfg.internal = Some(crate::config::Internal { token: "sntrys_x".into(), org_slug: "acme".into() });
        assert_eq!(bearer(&cfg, Some("u1")), Ok(Bearer::Internal("sntrys_x".into())));
        assert_eq!(bearer(&cfg, None), Ok(Bearer::Internal("sntrys_x".into())));
    }

    #[test]
    fn a_job_waits_out_another_jobs_refresh_for_ten_seconds_then_retries() {
        assert_eq!(refresh_wait(1), Ok(REFRESH_WAIT_MS));
        assert_eq!(refresh_wait(REFRESH_READS - 1), Ok(REFRESH_WAIT_MS));
        assert!(matches!(refresh_wait(REFRESH_READS), Err(CallError::Retryable { .. })));
        assert_eq!(u64::from(REFRESH_READS) * REFRESH_WAIT_MS, 10_000);
    }
}
