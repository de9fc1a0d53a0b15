//! The `DASHBOARD_TOKEN` login's session cookie:
//! `v2.<session version>.<expiry secs>.<hmac>`, signed with a key derived
//! from the token, so changing the token ends every session. The session
//! version is kept in D1 (`auth_state`); logging out bumps it, so a copy of
//! the cookie stops working on the server too, not only in the browser that
//! logged out. Nothing secret is in the cookie itself.

use crate::verify::{constant_time_eq, sign_hex};

pub const COOKIE: &str = "sk_session";

/// A session lasts a week; logging in again renews it.
pub const MAX_AGE_SECS: i64 = 7 * 24 * 60 * 60;

fn key(dashboard_token: &str) -> String {
    sign_hex(dashboard_token.as_bytes(), b"sentry-kanban session v1")
}

/// The cookie value for a session of `version` that ends at `expires_secs`.
pub fn issue(dashboard_token: &str, version: i64, expires_secs: i64) -> String {
    let claim = format!("v2.{version}.{expires_secs}");
    let mac = sign_hex(key(dashboard_token).as_bytes(), claim.as_bytes());
    format!("{claim}.{mac}")
}

/// Whether a cookie value is a session this token signed, of the current
/// session `version`, that has not expired.
pub fn valid(dashboard_token: &str, value: &str, version: i64, now_secs: i64) -> bool {
    let Some((claim, mac)) = value.rsplit_once('.') else { return false };
    let Some((v, expires)) = claim.strip_prefix("v2.").and_then(|rest| rest.split_once('.')) else { return false };
    let (Ok(v), Ok(expires)) = (v.parse::<i64>(), expires.parse::<i64>()) else { return false };
    let expected = sign_hex(key(dashboard_token).as_bytes(), claim.as_bytes());
    constant_time_eq(expected.as_bytes(), mac.as_bytes()) && v == version && now_secs < expires
}

/// Whether a presented login token is the configured one (constant time).
pub fn token_matches(dashboard_token: &str, presented: &str) -> bool {
    !dashboard_token.is_empty() && constant_time_eq(dashboard_token.as_bytes(), presented.as_bytes())
}

/// `Set-Cookie` for a new session: never readable by the page's scripts,
/// never sent cross-site, only over HTTPS (browsers treat localhost as such).
pub fn set_cookie(value: &str) -> String {
    format!("{COOKIE}={value}; Path=/; Max-Age={MAX_AGE_SECS}; HttpOnly; Secure; SameSite=Strict")
}

pub fn clear_cookie() -> String {
    format!("{COOKIE}=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_is_valid_until_it_expires() {
        let cookie = issue("secret", 0, 1_000);
        assert!(valid("secret", &cookie, 0, 999));
        assert!(!valid("secret", &cookie, 0, 1_000));
    }

    #[test]
    fn a_session_of_an_older_version_is_refused() {
        let cookie = issue("secret", 3, 1_000);
        assert!(valid("secret", &cookie, 3, 1));
        assert!(!valid("secret", &cookie, 4, 1), "logout bumped the version");
        let relabelled = cookie.replacen("v2.3.", "v2.4.", 1);
        assert!(!valid("secret", &relabelled, 4, 1), "the version is signed");
    }

    #[test]
    fn a_forged_or_foreign_session_is_refused() {
        let cookie = issue("secret", 0, 1_000);
        assert!(!valid("other", &cookie, 0, 1), "a new token ends old sessions");
        let extended = cookie.replacen("v2.0.1000", "v2.0.9999", 1);
        assert!(!valid("secret", &extended, 0, 1), "the expiry is signed");
        let v1 = format!("v1.1000.{}", sign_hex(key("secret").as_bytes(), b"v1.1000"));
        assert!(!valid("secret", &v1, 0, 1), "a cookie of the old format carries no version");
        for junk in ["", "v1", "v2.0.1000", "v2.1000.abc", "v2.x.1.abc", "v2.0.x.abc", "..", "v2...."] {
            assert!(!valid("secret", junk, 0, 1), "{junk:?}");
        }
        let mut flipped = cookie.clone().into_bytes();
        let last = flipped.len() - 1;
        flipped[last] = if flipped[last] == b'0' { b'1' } else { b'0' };
        assert!(!valid("secret", std::str::from_utf8(&flipped).unwrap(), 0, 1));
    }

    #[test]
    fn the_cookie_is_http_only_secure_and_strict() {
        let header = set_cookie("v");
        for part in ["sk_session=v", "HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
            assert!(header.contains(part), "{header}");
        }
        assert!(clear_cookie().contains("Max-Age=0"));
        assert!(token_matches("abc", "abc") && !token_matches("abc", "abd") && !token_matches("", ""));
    }
}
