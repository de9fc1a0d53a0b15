//! Settings read from the environment, as plain data the core can test with.

/// Largest webhook body accepted; Sentry and GitHub bodies are far smaller.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

#[derive(Debug, Clone, Default)]
pub struct Config {
    /// The integration's client secret (`SENTRY_CLIENT_SECRET`, or the
    /// `SENTRY_WEBHOOK_SECRET` name older set-ups use).
    pub sentry_secret: Option<String>,
    /// When set, Sentry deliveries must also carry `Authorization: Bearer <it>`
    /// (a custom webhook header some set-ups configure).
    pub sentry_bearer: Option<String>,
}

impl Config {
    /// Builds the config from a lookup of variable names, so the same rules
    /// apply to the worker's Env and to tests.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Self {
        let non_empty = |name: &str| get(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        Config {
            sentry_secret: non_empty("SENTRY_CLIENT_SECRET").or_else(|| non_empty("SENTRY_WEBHOOK_SECRET")),
            sentry_bearer: non_empty("SENTRY_WEBHOOK_BEARER"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_secret_wins_and_webhook_secret_is_the_fallback() {
        let both = Config::from_lookup(|k| Some(format!("v-{k}")));
        assert_eq!(both.sentry_secret.as_deref(), Some("v-SENTRY_CLIENT_SECRET"));
        let fallback = Config::from_lookup(|k| (k == "SENTRY_WEBHOOK_SECRET").then(|| "old".to_string()));
        assert_eq!(fallback.sentry_secret.as_deref(), Some("old"));
        let blank = Config::from_lookup(|_| Some("  ".to_string()));
        assert_eq!(blank.sentry_secret, None);
    }
}
