//! The worker's bindings and configuration, read from `Env`.

use super::http;
use crate::config::Config;
use crate::error::AppError;
use crate::verify::check_configured_bearer;
use worker::{Env, Request};

const DB: &str = "DB";

thread_local! {
    /// Read once per isolate: vars and secrets change only with a new
    /// deployment, which starts new isolates, and reading them is two
    /// crossings into JS per name on every request.
    static CONFIG: std::cell::OnceCell<Config> = const { std::cell::OnceCell::new() };
}

pub(crate) fn config(env: &Env) -> Config {
    CONFIG.with(|cached| cached.get_or_init(|| read_config(env)).clone())
}

fn read_config(env: &Env) -> Config {
    Config::from_lookup(|name| {
        env.secret(name).ok().map(|s| s.to_string()).or_else(|| env.var(name).ok().map(|v| v.to_string()))
    })
}

pub(crate) fn db(env: &Env) -> std::result::Result<worker::D1Database, AppError> {
    env.d1(DB).map_err(|e| AppError::Internal(format!("D1 binding {DB}: {e}")))
}

/// The configuration, for a request that carries the cron secret (the
/// manual triggers of the cron's tasks).
pub(crate) fn cron_caller(req: &Request, env: &Env) -> Result<Config, AppError> {
    let cfg = config(env);
    check_configured_bearer(cfg.cron_secret.as_deref(), http::header(req, "Authorization").as_deref())
        .map_err(AppError::Unauthorized)?;
    Ok(cfg)
}
