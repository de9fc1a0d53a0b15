//! Webhook signatures and shared secrets. Everything here works on the raw
//! request bytes and fails closed: a missing secret or header never verifies.

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Why a delivery was not authenticated. Kept apart from the HTTP error so
/// the delivery log can say which check failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    SecretNotConfigured,
    MissingSignature,
    MalformedSignature,
    BadSignature,
    BadBearer,
}

impl Rejection {
    pub fn as_str(self) -> &'static str {
        match self {
            Rejection::SecretNotConfigured => "secret_not_configured",
            Rejection::MissingSignature => "missing_signature",
            Rejection::MalformedSignature => "malformed_signature",
            Rejection::BadSignature => "bad_signature",
            Rejection::BadBearer => "bad_bearer",
        }
    }
}

/// HMAC-SHA256 of `body` under `secret`, lowercase hex.
pub fn sign_hex(secret: &[u8], body: &[u8]) -> String {
    hex::encode(mac(secret, body).finalize().into_bytes())
}

fn mac(secret: &[u8], body: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = HmacSha256::new_from_slice(secret).expect("hmac takes any key length");
    mac.update(body);
    mac
}

/// SHA-256 of the raw body, lowercase hex: the replay key of a delivery.
pub fn body_digest(body: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(Sha256::digest(body))
}

/// Checks a bare hex HMAC (Sentry's `Sentry-Hook-Signature` format).
pub fn check_hex_hmac(secret: Option<&str>, body: &[u8], sig: Option<&str>) -> Result<(), Rejection> {
    let secret = secret.filter(|s| !s.is_empty()).ok_or(Rejection::SecretNotConfigured)?;
    let sig = sig.map(str::trim).filter(|s| !s.is_empty()).ok_or(Rejection::MissingSignature)?;
    // Sentry sends exactly 64 lowercase hex digits; anything else is not a
    // Sentry signature, even if it would decode.
    if sig.len() != 64 || !sig.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        return Err(Rejection::MalformedSignature);
    }
    let raw = hex::decode(sig).map_err(|_| Rejection::MalformedSignature)?;
    mac(secret.as_bytes(), body).verify_slice(&raw).map_err(|_| Rejection::BadSignature)
}

/// Checks GitHub's `X-Hub-Signature-256: sha256=<hex>`.
pub fn check_github(secret: Option<&str>, body: &[u8], header: Option<&str>) -> Result<(), Rejection> {
    let header = header.map(str::trim).filter(|s| !s.is_empty());
    let hex_part = match header {
        None => None,
        Some(h) => Some(h.strip_prefix("sha256=").ok_or(Rejection::MalformedSignature)?),
    };
    check_hex_hmac(secret, body, hex_part)
}

/// The signature of a request that may carry it under either of two header
/// names (Sentry: `Sentry-Hook-Signature`, `Sentry-App-Signature`). Taken
/// only when unambiguous: both present with different values yields the
/// two joined, as the runtime joins two values of one header, which never
/// verifies (401).
pub fn one_signature(first: Option<String>, second: Option<String>) -> Option<String> {
    match (first, second) {
        (Some(a), Some(b)) if a.trim() != b.trim() => Some(format!("{a}, {b}")),
        (a, b) => a.or(b),
    }
}

/// Constant-time comparison of a presented bearer token with the expected one.
pub fn check_bearer(expected: &str, authorization: Option<&str>) -> Result<(), Rejection> {
    let presented =
        authorization.and_then(|h| h.trim().strip_prefix("Bearer ")).map(str::trim).ok_or(Rejection::BadBearer)?;
    if constant_time_eq(expected.as_bytes(), presented.as_bytes()) && !expected.is_empty() {
        Ok(())
    } else {
        Err(Rejection::BadBearer)
    }
}

/// A bearer-protected endpoint (`ADMIN_TOKEN`, `CRON_SECRET`): refused
/// while its secret is not set, else the header must carry it.
pub fn check_configured_bearer(secret: Option<&str>, authorization: Option<&str>) -> Result<(), Rejection> {
    check_bearer(secret.ok_or(Rejection::SecretNotConfigured)?, authorization)
}

/// Compares without an early exit, so timing reveals only the lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = (a.len() ^ b.len()) as u8 | ((a.len() ^ b.len()) >> 8) as u8;
    for (i, x) in a.iter().enumerate() {
        diff |= x ^ b.get(i % b.len().max(1)).copied().unwrap_or(0);
    }
    diff == 0 && a.len() == b.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    const GH_SECRET: &str = "It's a Secret to Everybody";
    const GH_SIG: &str = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

    #[test]
    fn github_doc_vector_verifies() {
        assert_eq!(check_github(Some(GH_SECRET), b"Hello, World!", Some(GH_SIG)), Ok(()));
    }

    #[test]
    fn github_without_prefix_is_malformed() {
        let bare = GH_SIG.trim_start_matches("sha256=");
        assert_eq!(check_github(Some(GH_SECRET), b"Hello, World!", Some(bare)), Err(Rejection::MalformedSignature));
    }

    #[test]
    fn missing_secret_fails_closed() {
        let sig = sign_hex(b"", b"body");
        assert_eq!(check_hex_hmac(None, b"body", Some(&sig)), Err(Rejection::SecretNotConfigured));
        assert_eq!(check_hex_hmac(Some(""), b"body", Some(&sig)), Err(Rejection::SecretNotConfigured));
    }

    #[test]
    fn missing_or_empty_signature_is_rejected() {
        assert_eq!(check_hex_hmac(Some("s"), b"b", None), Err(Rejection::MissingSignature));
        assert_eq!(check_hex_hmac(Some("s"), b"b", Some("  ")), Err(Rejection::MissingSignature));
    }

    #[test]
    fn uppercase_truncated_and_non_hex_signatures_are_malformed() {
        let sig = sign_hex(b"s", b"b");
        for bad in [sig.to_uppercase(), sig[..63].to_string(), format!("{}0", sig), "z".repeat(64)] {
            assert_eq!(check_hex_hmac(Some("s"), b"b", Some(&bad)), Err(Rejection::MalformedSignature), "{bad}");
        }
    }

    #[test]
    fn two_different_signatures_never_verify() {
        let good = sign_hex(b"s", b"b");
        let bad = "0".repeat(64);
        let check = |a: Option<&str>, b: Option<&str>| {
            let sig = one_signature(a.map(str::to_string), b.map(str::to_string));
            check_hex_hmac(Some("s"), b"b", sig.as_deref())
        };
        assert_eq!(check(Some(&good), None), Ok(()));
        assert_eq!(check(None, Some(&good)), Ok(()));
        assert_eq!(check(Some(&good), Some(&good)), Ok(()));
        assert_eq!(check(Some(&good), Some(&bad)), Err(Rejection::MalformedSignature));
        assert_eq!(check(Some(&bad), Some(&good)), Err(Rejection::MalformedSignature));
        // Two values of one header arrive joined the same way.
        assert_eq!(check(Some(&format!("{good}, {good}")), None), Err(Rejection::MalformedSignature));
    }

    #[test]
    fn empty_body_signature_verifies() {
        let sig = sign_hex(b"s", b"");
        assert_eq!(check_hex_hmac(Some("s"), b"", Some(&sig)), Ok(()));
    }

    #[test]
    fn every_flipped_bit_in_body_or_signature_is_rejected() {
        let body = br#"{"action":"created"}"#.to_vec();
        let sig = sign_hex(b"k", &body);
        for i in 0..body.len() * 8 {
            let mut b = body.clone();
            b[i / 8] ^= 1 << (i % 8);
            assert_eq!(check_hex_hmac(Some("k"), &b, Some(&sig)), Err(Rejection::BadSignature));
        }
        let raw = hex::decode(&sig).unwrap();
        for i in 0..raw.len() * 8 {
            let mut r = raw.clone();
            r[i / 8] ^= 1 << (i % 8);
            assert_eq!(check_hex_hmac(Some("k"), &body, Some(&hex::encode(r))), Err(Rejection::BadSignature));
        }
    }

    #[test]
    fn an_unset_secret_refuses_every_bearer() {
        assert_eq!(check_configured_bearer(None, Some("Bearer x")), Err(Rejection::SecretNotConfigured));
        assert_eq!(check_configured_bearer(Some("s3"), Some("Bearer s3")), Ok(()));
        assert_eq!(check_configured_bearer(Some("s3"), None), Err(Rejection::BadBearer));
    }

    #[test]
    fn bearer_is_compared_exactly() {
        assert_eq!(check_bearer("tok", Some("Bearer tok")), Ok(()));
        assert_eq!(check_bearer("tok", Some("Bearer tok2")), Err(Rejection::BadBearer));
        assert_eq!(check_bearer("tok", Some("Bearer to")), Err(Rejection::BadBearer));
        assert_eq!(check_bearer("tok", Some("tok")), Err(Rejection::BadBearer));
        assert_eq!(check_bearer("tok", None), Err(Rejection::BadBearer));
        assert_eq!(check_bearer("", Some("Bearer ")), Err(Rejection::BadBearer));
    }

    #[test]
    fn constant_time_eq_matches_plain_equality() {
        let cases: [(&[u8], &[u8]); 5] = [(b"", b""), (b"a", b""), (b"", b"a"), (b"abc", b"abc"), (b"abc", b"abd")];
        for (a, b) in cases {
            assert_eq!(constant_time_eq(a, b), a == b, "{a:?} {b:?}");
        }
    }
}
