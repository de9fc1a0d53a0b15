//! Which Sentry organization the team sync writes to, and with whose token;
//! or, typed, why there is none.

use crate::config::{Config, Internal};
use std::fmt;

/// Where Sentry calls go and with whose token.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    Internal { org: String, token: String },
    Installation { uuid: String, org: String },
}

impl Target {
    pub fn org(&self) -> &str {
        match self {
            Target::Internal { org, .. } | Target::Installation { org, .. } => org,
        }
    }
}

/// Why the sync has no organization to write to. Its words are the job's
/// error, shown on the sync status page: they say what to configure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoTarget {
    /// `SENTRY_ORG_SLUG` names an organization with no installation.
    NotInstalledIn(String),
    /// No internal integration and nothing installed.
    Nothing,
    /// Several installations and no `SENTRY_ORG_SLUG` to choose.
    Ambiguous(usize),
}

impl fmt::Display for NoTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NoTarget::NotInstalledIn(org) => write!(f, "the Sentry integration is not installed in organization {org}"),
            NoTarget::Nothing => f.write_str(
                "no Sentry organization to sync into: install the integration, or set \
                SENTRY_AUTH_TOKEN and SENTRY_ORG_SLUG",
            ),
            NoTarget::Ambiguous(n) => {
                write!(f, "{n} Sentry organizations are installed; set SENTRY_ORG_SLUG to the one GitHub teams go to")
            }
        }
    }
}

/// Picks the Sentry organization: the internal integration's, else the one
/// installed organization (`SENTRY_ORG_SLUG` chooses among several).
/// `installed` lists `(uuid, org slug)` of installed installations.
/// Whether `target` looks at the installations at all: an internal
/// integration's token and organization are its configuration.
pub fn needs_installations(cfg: &Config) -> bool {
    cfg.internal.is_none()
}

pub fn target(cfg: &Config, installed: &[(String, String)]) -> Result<Target, NoTarget> {
    if let Some(Internal { token, org_slug }) = &cfg.internal {
        return Ok(Target::Internal { org: org_slug.clone(), token: token.clone() });
    }
    let wanted = cfg.sentry_org.as_deref();
    let candidates: Vec<&(String, String)> =
        installed.iter().filter(|(_, org)| wanted.is_none_or(|w| w.eq_ignore_ascii_case(org))).collect();
    match (candidates.as_slice(), wanted) {
        ([(uuid, org)], _) => Ok(Target::Installation { uuid: uuid.clone(), org: org.clone() }),
        ([], Some(w)) => Err(NoTarget::NotInstalledIn(w.to_string())),
        ([], None) => Err(NoTarget::Nothing),
        (many, _) => Err(NoTarget::Ambiguous(many.len())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> Config {
        Config { sentry_api_base: "https://s".into(), ..Config::default() }
    }

    fn why(r: Result<Target, NoTarget>) -> String {
        r.expect_err("no target").to_string()
    }

    #[test]
    fn the_target_is_the_internal_org_or_the_one_installation() {
        let one = vec![("u1".to_string(), "acme".to_string())];
        assert_eq!(target(&cfg(), &one), Ok(Target::Installation { uuid: "u1".into(), org: "acme".into() }));
        assert_eq!(target(&cfg(), &[]), Err(NoTarget::Nothing));
        assert!(why(target(&cfg(), &[])).contains("install the integration"));
        let two = vec![one[0].clone(), ("u2".to_string(), "beta".to_string())];
        assert!(why(target(&cfg(), &two)).contains("SENTRY_ORG_SLUG"));
        let chosen = Config { sentry_org: Some("beta".into()), ..cfg() };
        assert_eq!(target(&chosen, &two).unwrap().org(), "beta");
        assert!(why(target(&Config { sentry_org: Some("gamma".into()), ..cfg() }, &two)).contains("gamma"));
        let internal = Config { internal: Some(Internal { token: "t".into(), org_slug: "in".into() }), ..cfg() };
        assert_eq!(target(&internal, &two), Ok(Target::Internal { org: "in".into(), token: "t".into() }));
        assert_eq!(target(&internal, &[]), target(&internal, &two), "the installations do not matter to it");
        assert!(!needs_installations(&internal) && needs_installations(&cfg()));
    }
}
