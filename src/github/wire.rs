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
    /// The organization whose hook this is (its `login`).
    #[serde(default)]
    pub organization: Option<User>,
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

/// The `payload` field of a form-encoded delivery
/// (`application/x-www-form-urlencoded`), decoded: `+` is a space and
/// `%XX` a byte, and the bytes must be UTF-8 (they are JSON). `Err` says
/// why the form is unusable.
pub fn form_payload(body: &[u8]) -> Result<Vec<u8>, String> {
    let field = body
        .split(|&b| b == b'&')
        .find_map(|pair| pair.strip_prefix(b"payload="))
        .ok_or("form-encoded body without a payload field")?;
    let decoded = crate::percent::decode_bytes(field).ok_or("the form's payload has a bad %-escape")?;
    std::str::from_utf8(&decoded).map_err(|_| "the form's payload is not UTF-8".to_string())?;
    Ok(decoded)
}

/// A GitHub team slug or login, safe to put in a URL path: ASCII letters,
/// digits, `-` and `_`, at most 100 characters.
pub fn is_name(s: &str) -> bool {
    !s.is_empty() && s.len() <= 100 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::form_payload;

    #[test]
    fn form_payloads_decode_plus_percent_escapes_and_multibyte_utf8() {
        let body = b"payload=%7B%22name%22%3A%22caf%C3%A9+%F0%9F%A6%80%22%7D";
        assert_eq!(form_payload(body).unwrap(), "{\"name\":\"caf\u{e9} \u{1f980}\"}".as_bytes());
        assert_eq!(form_payload(b"a=1&payload=%7b%7d&b=2").unwrap(), b"{}", "lowercase hex, other fields");
        assert_eq!(form_payload(b"payload=").unwrap(), b"");
        assert_eq!(form_payload(b"payload=a%2Bb").unwrap(), b"a+b", "an escaped + stays a plus");
    }

    #[test]
    fn unusable_forms_say_why() {
        assert!(form_payload(b"zen=hi").unwrap_err().contains("without a payload"));
        assert!(form_payload(b"").unwrap_err().contains("without a payload"));
        for bad in [&b"payload=%"[..], b"payload=%4", b"payload=%zz", b"payload=%+1"] {
            assert!(form_payload(bad).unwrap_err().contains("%-escape"), "{:?}", String::from_utf8_lossy(bad));
        }
        assert!(form_payload(b"payload=%C3%28").unwrap_err().contains("UTF-8"), "invalid UTF-8 sequence");
        assert!(form_payload(b"payload=%F0%9F%A6").unwrap_err().contains("UTF-8"), "truncated multibyte");
    }
}
