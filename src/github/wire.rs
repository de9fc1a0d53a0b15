//! The parts of GitHub's `team` and `membership` payloads the sync reads.
//! Everything is optional here; `hook` decides what is required.

use crate::sentry::wire::{opt_id, opt_text};
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Deserialize)]
pub struct Envelope {
    #[serde(default, deserialize_with = "opt_text")]
    pub action: Option<String>,
    /// `team` for team memberships (the only scope GitHub sends today).
    #[serde(default, deserialize_with = "opt_text")]
    pub scope: Option<String>,
    #[serde(default)]
    pub team: Option<Team>,
    /// Nullable in GitHub's schema.
    #[serde(default)]
    pub member: Option<User>,
}

#[derive(Debug, Deserialize)]
pub struct Team {
    #[serde(default, deserialize_with = "opt_id")]
    pub id: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    pub slug: Option<String>,
    /// `true` on membership events for a team that was deleted (no slug then).
    #[serde(default)]
    pub deleted: Option<Value>,
}

impl Team {
    pub fn is_deleted(&self) -> bool {
        self.deleted == Some(Value::Bool(true))
    }
}

#[derive(Debug, Deserialize)]
pub struct User {
    #[serde(default, deserialize_with = "opt_text")]
    pub login: Option<String>,
}

/// A GitHub team slug or login, safe to put in a URL path: ASCII letters,
/// digits, `-` and `_`, at most 100 characters.
pub fn is_name(s: &str) -> bool {
    !s.is_empty() && s.len() <= 100 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}
