//! Settings read from the environment, as plain data the core can test with.

/// Largest webhook body accepted; Sentry and GitHub bodies are far smaller.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

#[derive(Clone, Default)]
pub struct Config {
    /// The integration's client secret (`SENTRY_CLIENT_SECRET`, or the
    /// `SENTRY_WEBHOOK_SECRET` name older set-ups use).
    pub sentry_secret: Option<String>,
    /// When set, Sentry deliveries must also carry `Authorization: Bearer <it>`
    /// (a custom webhook header some set-ups configure).
    pub sentry_bearer: Option<String>,
    /// `SENTRY_CLIENT_ID`, sent with the secret when exchanging grant codes.
    pub sentry_client_id: Option<String>,
    /// Internal-integration mode: `SENTRY_AUTH_TOKEN` + `SENTRY_ORG_SLUG`.
    pub internal: Option<Internal>,
    /// `SENTRY_API_BASE`, without a trailing slash.
    pub sentry_api_base: String,
    pub retry: RetryPolicy,
    /// `SENTRY_HTTP_TIMEOUT_MS`: one outbound API call, connect to last byte.
    pub http_timeout_ms: u32,
    /// `ERROR_LOG_MODE=direct`: write error events on the ack path instead
    /// of through the queue. Only for the benchmark that compares the two.
    pub error_log_direct: bool,
    pub github: GithubConfig,
    /// `SENTRY_ORG_SLUG`: the Sentry organization GitHub teams are mirrored
    /// into (with `SENTRY_AUTH_TOKEN` it also selects internal mode).
    pub sentry_org: Option<String>,
    /// `ADMIN_TOKEN`: the bearer for the mapping API. Unset = no API writes.
    pub admin_token: Option<String>,
    /// `CRON_SECRET`: the bearer for the manual sync and retention triggers.
    pub cron_secret: Option<String>,
    /// `RETENTION_DAYS`: error events (and hourly buckets) older than this go.
    pub retention_days: u32,
    /// `WEBHOOK_SILENCE_MINUTES`: how long a change a sync found may go
    /// unreported by any verified Sentry delivery before the alarm rises.
    pub webhook_silence_minutes: u32,
    /// Which deliveries get a console line (`LOG_DELIVERIES`).
    pub log_deliveries: crate::log::LogDeliveries,
    /// `DASHBOARD_TOKEN`: the shared login of the board's pages and API.
    pub dashboard_token: Option<String>,
    /// Cloudflare Access in front of the worker (`ACCESS_AUD` + `ACCESS_TEAM_DOMAIN`).
    pub access: Option<AccessConfig>,
    /// Why the Access settings present could not be used (the board then
    /// refuses to serve rather than run without the protection asked for).
    pub access_error: Option<String>,
}

/// The Cloudflare Access application whose JWTs the worker accepts.
#[derive(Debug, Clone, PartialEq)]
pub struct AccessConfig {
    /// The application's audience tag (`ACCESS_AUD`).
    pub aud: String,
    /// `https://<team>.cloudflareaccess.com`, from `ACCESS_TEAM_DOMAIN`: the
    /// tokens' issuer and where the signing keys are published.
    pub team_origin: String,
}

impl AccessConfig {
    /// `ACCESS_TEAM_DOMAIN` is an `https://` origin or a bare host (which
    /// means https). The keys that prove who a viewer is come from there, so
    /// plain `http://` is refused, except for a loopback host: a local mock
    /// in tests, which a deployed worker cannot reach anyway.
    pub fn parse(aud: String, team_domain: &str) -> Result<Self, String> {
        let d = team_domain.trim().trim_end_matches('/');
        let (scheme, authority) = match d.split_once("://") {
            Some((scheme, rest)) => (scheme.to_ascii_lowercase(), rest),
            None => ("https".to_string(), d),
        };
        let refuse = |why: &str| {
            Err(format!(
                "ACCESS_TEAM_DOMAIN {d:?} {why}. Set it to your team's domain, e.g. \
                 `https://<team>.cloudflareaccess.com` (or just `<team>.cloudflareaccess.com`)."
            ))
        };
        let Some(host) = authority_host(authority) else { return refuse("is not a plain host name") };
        match scheme.as_str() {
            "https" => {}
            "http" if crate::loopback::is_loopback(host) => {}
            "http" => return refuse("uses http://; the team's signing keys must come over https://"),
            _ => return refuse("is not an https:// address"),
        }
        Ok(AccessConfig { aud, team_origin: format!("{scheme}://{}", authority.to_ascii_lowercase()) })
    }
}

/// The host of `host[:port]`, or `None` for anything more (a path, a query,
/// credentials, spaces) or less (no host).
fn authority_host(authority: &str) -> Option<&str> {
    let split = if authority.starts_with('[') { authority.find(']').map(|i| i + 1) } else { authority.find(':') };
    let (host, port) = authority.split_at(split.unwrap_or(authority.len()));
    let port_ok = port.is_empty()
        || port.strip_prefix(':').is_some_and(|p| (1..=5).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()));
    let host_ok = host == "[::1]"
        || (!host.is_empty() && host.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-'));
    (host_ok && port_ok).then_some(host)
}

/// The GitHub side of the team sync.
#[derive(Clone, Default)]
pub struct GithubConfig {
    /// `GITHUB_WEBHOOK_SECRET`, or `GH_WEBHOOK_TOKEN` (the Flask handler's name).
    pub secret: Option<String>,
    /// `GITHUB_TOKEN` or `GH_TOKEN`, for `GET /users/{login}`; optional.
    pub token: Option<String>,
    /// `GITHUB_API_BASE`, without a trailing slash.
    pub api_base: String,
    /// `GITHUB_SYNC_DRY_RUN=true`: record the Sentry calls instead of making them.
    pub dry_run: bool,
    /// `GITHUB_REQUEUE_AFTER_SECONDS`: an event still `queued` this long lost
    /// its job; the cron (or a redelivery) queues it again.
    pub requeue_after_secs: u32,
    /// `GITHUB_LINK_TEAMS="slug1,slug2"`: existing Sentry teams a GitHub team
    /// of the same slug may be linked to. Any other team the worker did not
    /// create itself is never written to.
    pub link_teams: Vec<String>,
    /// `GITHUB_VERIFIED_DOMAINS="acme.com,acme.io"`: when set, only
    /// organization-verified emails under these domains map a login.
    pub verified_domains: Vec<String>,
    /// `GITHUB_ORG`: the organization whose teams the reconcile lists (else
    /// the one named by the newest recorded webhook).
    pub org: Option<String>,
    /// `GITHUB_RECONCILE_DRY_RUN=true`: the reconcile only reports.
    pub reconcile_dry_run: bool,
    /// `GITHUB_RECONCILE_CRON`: the cron expression that starts the
    /// reconcile (default: the daily one); `off` never does.
    pub reconcile_cron: String,
}

/// The daily cron of wrangler.toml (retention runs on it too).
pub const DEFAULT_RECONCILE_CRON: &str = crate::schedule::RETENTION_CRON;

impl GithubConfig {
    /// Whether the scheduled event of `cron` starts a reconcile.
    pub fn reconciles_on(&self, cron: &str) -> bool {
        !self.reconcile_cron.is_empty() && self.reconcile_cron == cron.trim()
    }
}

fn truthy(v: &str) -> bool {
    matches!(v.to_ascii_lowercase().as_str(), "true" | "1" | "yes")
}

/// A comma-separated list, trimmed, lowercased, empty items dropped.
fn list(value: Option<String>) -> Vec<String> {
    let value = value.unwrap_or_default();
    value.split(',').map(|s| s.trim().to_ascii_lowercase()).filter(|s| !s.is_empty()).collect()
}

/// An internal integration's fixed token and the one organization it serves.
#[derive(Clone, PartialEq)]
pub struct Internal {
    pub token: String,
    pub org_slug: String,
}

/// Queue retry backoff: `base * 2^(attempt-1)`, capped at `max` seconds
/// (`JOB_RETRY_BASE_SECONDS`, `JOB_RETRY_MAX_SECONDS`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    pub base_secs: u32,
    pub max_secs: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy { base_secs: 10, max_secs: 3600 }
    }
}

pub const DEFAULT_SENTRY_API_BASE: &str = "https://sentry.io";
pub const DEFAULT_HTTP_TIMEOUT_MS: u32 = 10_000;
pub const DEFAULT_RETENTION_DAYS: u32 = 30;
pub const DEFAULT_GITHUB_API_BASE: &str = "https://api.github.com";
/// Far past any queue delay a healthy worker sees.
pub const DEFAULT_REQUEUE_AFTER_SECS: u32 = 600;

impl Config {
    /// Builds the config from a lookup of variable names, so the same rules
    /// apply to the worker's Env and to tests.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Self {
        let non_empty = |name: &str| get(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        let number = |name: &str, default: u32| non_empty(name).and_then(|v| v.parse().ok()).unwrap_or(default);
        let internal = match (non_empty("SENTRY_AUTH_TOKEN"), non_empty("SENTRY_ORG_SLUG")) {
            (Some(token), Some(org_slug)) => Some(Internal { token, org_slug }),
            _ => None,
        };
        let defaults = RetryPolicy::default();
        let access = access_settings(non_empty("ACCESS_AUD"), non_empty("ACCESS_TEAM_DOMAIN"));
        Config {
            sentry_secret: non_empty("SENTRY_CLIENT_SECRET").or_else(|| non_empty("SENTRY_WEBHOOK_SECRET")),
            sentry_bearer: non_empty("SENTRY_WEBHOOK_BEARER"),
            sentry_client_id: non_empty("SENTRY_CLIENT_ID"),
            internal,
            sentry_api_base: non_empty("SENTRY_API_BASE")
                .unwrap_or_else(|| DEFAULT_SENTRY_API_BASE.to_string())
                .trim_end_matches('/')
                .to_string(),
            retry: RetryPolicy {
                base_secs: number("JOB_RETRY_BASE_SECONDS", defaults.base_secs).max(1),
                max_secs: number("JOB_RETRY_MAX_SECONDS", defaults.max_secs).max(1),
            },
            http_timeout_ms: number("SENTRY_HTTP_TIMEOUT_MS", DEFAULT_HTTP_TIMEOUT_MS).max(100),
            error_log_direct: non_empty("ERROR_LOG_MODE").is_some_and(|m| m.eq_ignore_ascii_case("direct")),
            github: GithubConfig {
                secret: non_empty("GITHUB_WEBHOOK_SECRET").or_else(|| non_empty("GH_WEBHOOK_TOKEN")),
                token: non_empty("GITHUB_TOKEN").or_else(|| non_empty("GH_TOKEN")),
                api_base: non_empty("GITHUB_API_BASE")
                    .unwrap_or_else(|| DEFAULT_GITHUB_API_BASE.to_string())
                    .trim_end_matches('/')
                    .to_string(),
                dry_run: non_empty("GITHUB_SYNC_DRY_RUN").is_some_and(|v| truthy(&v)),
                requeue_after_secs: number("GITHUB_REQUEUE_AFTER_SECONDS", DEFAULT_REQUEUE_AFTER_SECS).max(1),
                link_teams: list(non_empty("GITHUB_LINK_TEAMS")),
                verified_domains: list(non_empty("GITHUB_VERIFIED_DOMAINS"))
                    .into_iter()
                    .map(|d| d.trim_start_matches('@').to_string())
                    .collect(),
                org: non_empty("GITHUB_ORG"),
                reconcile_dry_run: non_empty("GITHUB_RECONCILE_DRY_RUN").is_some_and(|v| truthy(&v)),
                reconcile_cron: match non_empty("GITHUB_RECONCILE_CRON") {
                    Some(off) if off.eq_ignore_ascii_case("off") => String::new(),
                    Some(cron) => cron.split_whitespace().collect::<Vec<_>>().join(" "),
                    None => DEFAULT_RECONCILE_CRON.to_string(),
                },
            },
            sentry_org: non_empty("SENTRY_ORG_SLUG"),
            admin_token: non_empty("ADMIN_TOKEN"),
            cron_secret: non_empty("CRON_SECRET"),
            retention_days: number("RETENTION_DAYS", DEFAULT_RETENTION_DAYS).clamp(1, 3650),
            webhook_silence_minutes: number("WEBHOOK_SILENCE_MINUTES", crate::health::DEFAULT_SILENCE_MINUTES)
                .clamp(1, 7 * 24 * 60),
            log_deliveries: crate::log::LogDeliveries::from_setting(non_empty("LOG_DELIVERIES").as_deref()),
            dashboard_token: non_empty("DASHBOARD_TOKEN"),
            access: access.as_ref().ok().cloned().flatten(),
            access_error: access.err(),
        }
    }
}

/// Access needs both settings; one without the other is a mistake to show,
/// not a reason to run without Access.
fn access_settings(aud: Option<String>, domain: Option<String>) -> Result<Option<AccessConfig>, String> {
    match (aud, domain) {
        (Some(aud), Some(domain)) => AccessConfig::parse(aud, &domain).map(Some),
        (None, None) => Ok(None),
        (Some(_), None) => {
            Err("ACCESS_AUD is set but ACCESS_TEAM_DOMAIN is not; set both for Cloudflare Access.".into())
        }
        (None, Some(_)) => {
            Err("ACCESS_TEAM_DOMAIN is set but ACCESS_AUD is not; set both for Cloudflare Access.".into())
        }
    }
}

impl std::fmt::Debug for Internal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Internal").field("token", &"<redacted>").field("org_slug", &self.org_slug).finish()
    }
}

/// Secrets never reach a log line, even through `{:?}`.
impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let set = |v: &Option<String>| if v.is_some() { "set" } else { "unset" };
        f.debug_struct("Config")
            .field("sentry_secret", &set(&self.sentry_secret))
            .field("sentry_bearer", &set(&self.sentry_bearer))
            .field("sentry_client_id", &self.sentry_client_id)
            .field("internal_org", &self.internal.as_ref().map(|i| &i.org_slug))
            .field("sentry_api_base", &self.sentry_api_base)
            .field("retry", &self.retry)
            .field("http_timeout_ms", &self.http_timeout_ms)
            .field("error_log_direct", &self.error_log_direct)
            .field("github_secret", &set(&self.github.secret))
            .field("github_token", &set(&self.github.token))
            .field("github_api_base", &self.github.api_base)
            .field("github_dry_run", &self.github.dry_run)
            .field("github_link_teams", &self.github.link_teams)
            .field("github_verified_domains", &self.github.verified_domains)
            .field("github_org", &self.github.org)
            .field("github_reconcile_dry_run", &self.github.reconcile_dry_run)
            .field("github_reconcile_cron", &self.github.reconcile_cron)
            .field("sentry_org", &self.sentry_org)
            .field("admin_token", &set(&self.admin_token))
            .field("cron_secret", &set(&self.cron_secret))
            .field("retention_days", &self.retention_days)
            .field("webhook_silence_minutes", &self.webhook_silence_minutes)
            .field("log_deliveries", &self.log_deliveries)
            .field("dashboard_token", &set(&self.dashboard_token))
            .field("access", &self.access)
            .field("access_error", &self.access_error)
            .finish()
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

    #[test]
    fn internal_mode_needs_both_the_token_and_the_org() {
        let only_token = Config::from_lookup(|k| (k == "SENTRY_AUTH_TOKEN").then(|| "t".to_string()));
        assert!(only_token.internal.is_none());
        let both = Config::from_lookup(|k| match k {
            "SENTRY_AUTH_TOKEN" => Some("t".into()),
            "SENTRY_ORG_SLUG" => Some("acme".into()),
            _ => None,
        });
        assert_eq!(both.internal, Some(Internal { token: "t".into(), org_slug: "acme".into() }));
    }

    #[test]
    fn the_webhook_silence_is_read_in_minutes_with_a_default() {
        let with = |v: &str| {
            let v = v.to_string();
            Config::from_lookup(move |k| (k == "WEBHOOK_SILENCE_MINUTES").then(|| v.clone())).webhook_silence_minutes
        };
        assert_eq!(with("1"), 1);
        assert_eq!(with(" 45 "), 45);
        assert_eq!(with("soon"), crate::health::DEFAULT_SILENCE_MINUTES);
        assert_eq!(with("0"), 1, "no window at all would alarm on every change");
        assert_eq!(Config::from_lookup(|_| None).webhook_silence_minutes, 30);
    }

    #[test]
    fn numbers_and_bases_fall_back_to_defaults() {
        let cfg = Config::from_lookup(|k| match k {
            "SENTRY_API_BASE" => Some("http://127.0.0.1:9/".into()),
            "JOB_RETRY_BASE_SECONDS" => Some("nope".into()),
            "JOB_RETRY_MAX_SECONDS" => Some("2".into()),
            _ => None,
        });
        assert_eq!(cfg.sentry_api_base, "http://127.0.0.1:9");
        assert_eq!(cfg.retry, RetryPolicy { base_secs: 10, max_secs: 2 });
        assert_eq!(cfg.http_timeout_ms, DEFAULT_HTTP_TIMEOUT_MS);
        assert_eq!(cfg.retention_days, DEFAULT_RETENTION_DAYS);
        assert_eq!(cfg.webhook_silence_minutes, crate::health::DEFAULT_SILENCE_MINUTES);
        assert_eq!(Config::default().sentry_api_base, "", "Default is only for tests; from_lookup sets the base");
    }

    #[test]
    fn github_settings_accept_the_flask_handler_names() {
        let old = Config::from_lookup(|k| match k {
            "GH_WEBHOOK_TOKEN" => Some("flask".into()),
            "GH_TOKEN" => Some("ght".into()),
            "GITHUB_SYNC_DRY_RUN" => Some("TRUE".into()),
            _ => None,
        });
        assert_eq!(old.github.secret.as_deref(), Some("flask"));
        assert_eq!(old.github.token.as_deref(), Some("ght"));
        assert!(old.github.dry_run);
        assert_eq!(old.github.api_base, DEFAULT_GITHUB_API_BASE);
        assert_eq!(old.github.requeue_after_secs, DEFAULT_REQUEUE_AFTER_SECS);
        let new = Config::from_lookup(|k| Some(format!("v-{k}")));
        assert_eq!(new.github.secret.as_deref(), Some("v-GITHUB_WEBHOOK_SECRET"));
        assert_eq!(new.github.token.as_deref(), Some("v-GITHUB_TOKEN"));
        assert!(!new.github.dry_run, "only true/1/yes turn dry run on");
    }

    #[test]
    fn the_reconcile_runs_daily_unless_told_otherwise() {
        let none = Config::from_lookup(|_| None);
        assert!(none.github.reconciles_on("17 3 * * *") && !none.github.reconciles_on("*/5 * * * *"));
        assert!(!none.github.reconcile_dry_run && none.github.org.is_none());
        let set = Config::from_lookup(|k| match k {
            "GITHUB_RECONCILE_CRON" => Some(" 5  4 * * 1 ".into()),
            "GITHUB_RECONCILE_DRY_RUN" => Some("yes".into()),
            "GITHUB_ORG" => Some("acme".into()),
            _ => None,
        });
        assert!(set.github.reconciles_on("5 4 * * 1") && !set.github.reconciles_on("17 3 * * *"));
        assert!(set.github.reconcile_dry_run);
        assert_eq!(set.github.org.as_deref(), Some("acme"));
        let off = Config::from_lookup(|k| (k == "GITHUB_RECONCILE_CRON").then(|| "OFF".to_string()));
        assert!(!off.github.reconciles_on("17 3 * * *") && !off.github.reconciles_on(""));
    }

    fn team(domain: &str) -> Result<String, String> {
        AccessConfig::parse("a".into(), domain).map(|a| a.team_origin)
    }

    #[test]
    fn github_link_teams_and_verified_domains_are_trimmed_lowercased_lists() {
        let cfg = Config::from_lookup(|k| match k {
            "GITHUB_LINK_TEAMS" => Some(" Platform, web ,,".into()),
            "GITHUB_VERIFIED_DOMAINS" => Some("@Acme.com, acme.io".into()),
            _ => None,
        });
        assert_eq!(cfg.github.link_teams, vec!["platform".to_string(), "web".to_string()]);
        assert_eq!(cfg.github.verified_domains, vec!["acme.com".to_string(), "acme.io".to_string()]);
        let none = Config::from_lookup(|_| None);
        assert!(none.github.link_teams.is_empty() && none.github.verified_domains.is_empty());
    }

    #[test]
    fn access_needs_both_settings_and_a_bare_domain_means_https() {
        let only_aud = Config::from_lookup(|k| (k == "ACCESS_AUD").then(|| "a".to_string()));
        assert!(only_aud.access.is_none());
        assert!(only_aud.access_error.as_deref().unwrap_or("").contains("ACCESS_TEAM_DOMAIN is not"));
        let both = Config::from_lookup(|k| match k {
            "ACCESS_AUD" => Some("aud".into()),
            "ACCESS_TEAM_DOMAIN" => Some("acme.cloudflareaccess.com/".into()),
            _ => None,
        });
        assert_eq!(both.access.map(|a| a.team_origin).as_deref(), Some("https://acme.cloudflareaccess.com"));
        assert_eq!(both.access_error, None);
        assert_eq!(team("http://127.0.0.1:9").as_deref(), Ok("http://127.0.0.1:9"), "a local mock");
        assert_eq!(team("HTTPS://Acme.cloudflareaccess.com").as_deref(), Ok("https://acme.cloudflareaccess.com"));
        assert_eq!(team("acme.example:8443").as_deref(), Ok("https://acme.example:8443"));
    }

    #[test]
    fn the_access_team_domain_must_be_https() {
        for bad in [
            "http://acme.cloudflareaccess.com",
            "ftp://acme.cloudflareaccess.com",
            "javascript:alert(1)",
            "https://acme.cloudflareaccess.com/cdn-cgi",
            "https://user@acme.cloudflareaccess.com",
            "https://acme.cloudflareaccess.com?x=1",
            "https://",
            "acme team.example",
            "https://acme.example:port",
        ] {
            let err = team(bad).expect_err(bad);
            assert!(err.contains("ACCESS_TEAM_DOMAIN") && err.contains("https://"), "{bad}: {err}");
        }
        let cfg = Config::from_lookup(|k| match k {
            "ACCESS_AUD" => Some("aud".into()),
            "ACCESS_TEAM_DOMAIN" => Some("http://acme.cloudflareaccess.com".into()),
            _ => None,
        });
        assert!(cfg.access.is_none());
        assert!(cfg.access_error.as_deref().unwrap_or("").contains("http://"), "{:?}", cfg.access_error);
    }

    #[test]
    fn debug_output_hides_secrets() {
        let cfg = Config::from_lookup(|k| Some(format!("secret-value-{k}")));
        let shown = format!("{cfg:?}");
        assert!(!shown.contains("secret-value-SENTRY_CLIENT_SECRET"), "{shown}");
        assert!(!shown.contains("secret-value-SENTRY_AUTH_TOKEN"), "{shown}");
        assert!(!shown.contains("secret-value-SENTRY_WEBHOOK_BEARER"), "{shown}");
        for hidden in ["GITHUB_WEBHOOK_SECRET", "GITHUB_TOKEN", "ADMIN_TOKEN", "CRON_SECRET", "DASHBOARD_TOKEN"] {
            assert!(!shown.contains(&format!("secret-value-{hidden}")), "{shown}");
        }
    }
}
