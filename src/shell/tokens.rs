//! The one way a job gets a Sentry token: use the stored one while it is
//! fresh, otherwise refresh it, single-flight across jobs and isolates.

use super::d1::{self, text};
use super::fetch;
use crate::config::Config;
use crate::outbound::CallError;
use crate::sentry::token::{self, Decision, Stored, REFRESH_LEASE_MS};
use crate::sql::SqlValue;
use crate::store::installations as store;
use crate::time::format_millis;
use worker::{D1Database, Date, Delay};

/// The token for a Sentry call about `installation` (`token::bearer`).
pub async fn bearer(cfg: &Config, db: &D1Database, installation: Option<&str>) -> Result<String, CallError> {
    match token::bearer(cfg, installation)? {
        token::Bearer::Internal(t) => Ok(t),
        token::Bearer::Installation(uuid) => access_token(cfg, db, &uuid).await,
    }
}

pub async fn access_token(cfg: &Config, db: &D1Database, installation: &str) -> Result<String, CallError> {
    let mut reads = 0;
    loop {
        reads += 1;
        let stored = read(db, installation).await?;
        let now = Date::now().as_millis() as i64;
        match token::decide(cfg, stored.as_ref(), now) {
            Decision::Use(t) => return Ok(t),
            Decision::Missing(why) => return Err(CallError::Permanent { detail: why.to_string() }),
            Decision::NeedsReinstall(why) => return Err(CallError::Permanent { detail: why }),
            Decision::Refresh(_) => {
                if let Some(refresh) = claim(db, installation, now).await? {
                    return refresh_with(cfg, db, installation, &refresh).await;
                }
                // Another job is refreshing: its new token shows up here.
                let ms = token::refresh_wait(reads)?;
                Delay::from(std::time::Duration::from_millis(ms)).await;
            }
        }
    }
}

async fn read(db: &D1Database, installation: &str) -> Result<Option<Stored>, CallError> {
    let row = d1::first(db, store::TOKEN, &[installation.into()]).await.map_err(storage)?;
    Ok(row.and_then(|r| {
        Some(Stored {
            token: text(&r, "token")?,
            refresh_token: text(&r, "refresh_token"),
            expires_at: text(&r, "expires_at"),
            needs_reinstall: text(&r, "needs_reinstall"),
        })
    }))
}

/// Takes the lease; `Some(refresh token)` only for the one job that won it.
async fn claim(db: &D1Database, installation: &str, now: i64) -> Result<Option<String>, CallError> {
    let params: [SqlValue; 3] =
        [installation.into(), format_millis(now).into(), format_millis(now + REFRESH_LEASE_MS).into()];
    let row = d1::first(db, store::CLAIM_REFRESH, &params).await.map_err(storage)?;
    Ok(row.and_then(|r| text(&r, "refresh_token")))
}

async fn refresh_with(cfg: &Config, db: &D1Database, installation: &str, refresh: &str) -> Result<String, CallError> {
    let result = async {
        let call = token::refresh_call(cfg, installation, refresh)?;
        let reply = fetch::send("token refresh", &call, cfg.http_timeout_ms).await?;
        token::parse("token refresh", &reply)
    }
    .await;
    match result {
        Ok(fresh) => {
            save_rotated(db, installation, &fresh).await;
            // Saved or not, the new token is good for this job.
            Ok(fresh.token)
        }
        Err(e) => {
            // Let the next job try instead of waiting out the lease.
            let _ = d1::run(db, &[release(installation)]).await;
            Err(e)
        }
    }
}

/// Saves a refreshed pair, retrying: Sentry has already retired the old
/// refresh token, so a lost save cannot be redone by refreshing again. If
/// every attempt fails the installation is marked "needs reinstall", which
/// stops further refreshes with the spent token and says what to do.
async fn save_rotated(db: &D1Database, installation: &str, fresh: &token::Token) {
    let mut attempt = 1;
    loop {
        let now = format_millis(Date::now().as_millis() as i64);
        let Err(e) = d1::run(db, &store::save_token(installation, fresh, false, &now)).await else { return };
        match token::save_retry_ms(attempt) {
            Some(ms) => Delay::from(std::time::Duration::from_millis(ms)).await,
            None => {
                let reason = token::lost_pair_reason(&format!("{e:?}"));
                let marked = d1::run(db, &[store::mark_needs_reinstall(installation, &reason, &now)]).await;
                let line = serde_json::json!({"event": "token_pair_lost", "installation": installation,
                    "attempts": attempt, "marked": marked.is_ok(), "error": format!("{e:?}")});
                worker::console_log!("{line}");
                return;
            }
        }
        attempt += 1;
    }
}

fn release(installation: &str) -> crate::sql::Stmt {
    crate::sql::Stmt { sql: store::RELEASE_REFRESH, params: vec![installation.into()] }
}

/// D1 trouble is transient as far as a job is concerned.
pub(crate) fn storage(e: crate::error::AppError) -> CallError {
    CallError::Retryable { after: None, detail: format!("storage: {e:?}") }
}
