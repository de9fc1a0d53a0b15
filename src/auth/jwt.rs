//! Cloudflare Access JWTs (`Cf-Access-Jwt-Assertion`): parsing and every
//! check except the RS256 signature itself, which the shell does with
//! WebCrypto against the team's published keys.

use crate::config::AccessConfig;
use serde::Deserialize;

/// Clock skew allowed on `exp` and `nbf`.
pub const LEEWAY_SECS: i64 = 30;

/// Longest token accepted; real Access tokens are about 1 KB.
const MAX_TOKEN_BYTES: usize = 16 * 1024;

#[derive(Debug, Clone, PartialEq)]
pub struct Jwt {
    pub header: Header,
    pub claims: Claims,
    /// `base64url(header) "." base64url(payload)`: the signed bytes.
    pub signing_input: String,
    pub signature: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Header {
    pub alg: String,
    #[serde(default)]
    pub kid: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Claims {
    #[serde(default, deserialize_with = "one_or_many")]
    pub aud: Vec<String>,
    #[serde(default)]
    pub iss: Option<String>,
    #[serde(default)]
    pub exp: Option<f64>,
    #[serde(default)]
    pub nbf: Option<f64>,
    #[serde(default)]
    pub email: Option<String>,
    /// Service tokens carry a common name instead of an email.
    #[serde(default)]
    pub common_name: Option<String>,
    #[serde(default)]
    pub sub: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwtError {
    Malformed,
    UnsupportedAlgorithm,
    Expired,
    NotYetValid,
    WrongAudience,
    WrongIssuer,
    UnknownKey,
    BadSignature,
}

impl JwtError {
    pub fn as_str(self) -> &'static str {
        match self {
            JwtError::Malformed => "malformed token",
            JwtError::UnsupportedAlgorithm => "algorithm is not RS256",
            JwtError::Expired => "token expired",
            JwtError::NotYetValid => "token not yet valid",
            JwtError::WrongAudience => "wrong audience",
            JwtError::WrongIssuer => "wrong issuer",
            JwtError::UnknownKey => "signing key not published by the team",
            JwtError::BadSignature => "bad signature",
        }
    }
}

fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Aud {
        One(String),
        Many(Vec<String>),
    }
    Ok(match Aud::deserialize(d)? {
        Aud::One(s) => vec![s],
        Aud::Many(v) => v,
    })
}

/// Splits and decodes a compact JWS. Only RS256 is accepted: an `alg` of
/// `none` or an HMAC algorithm never reaches the signature check.
pub fn parse(token: &str) -> Result<Jwt, JwtError> {
    let token = token.trim();
    if token.len() > MAX_TOKEN_BYTES {
        return Err(JwtError::Malformed);
    }
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(JwtError::Malformed);
    };
    let header: Header = decode_json(h)?;
    if header.alg != "RS256" {
        return Err(JwtError::UnsupportedAlgorithm);
    }
    let claims: Claims = decode_json(p)?;
    let signature = base64url_decode(s).ok_or(JwtError::Malformed)?;
    if signature.is_empty() {
        return Err(JwtError::Malformed);
    }
    Ok(Jwt { header, claims, signing_input: format!("{h}.{p}"), signature })
}

fn decode_json<T: serde::de::DeserializeOwned>(part: &str) -> Result<T, JwtError> {
    let bytes = base64url_decode(part).ok_or(JwtError::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| JwtError::Malformed)
}

/// Audience, issuer and lifetime. The issuer is the team's own origin.
pub fn check_claims(claims: &Claims, access: &AccessConfig, now_secs: i64) -> Result<(), JwtError> {
    if !claims.aud.iter().any(|a| a == &access.aud) {
        return Err(JwtError::WrongAudience);
    }
    if claims.iss.as_deref().map(|i| i.trim_end_matches('/')) != Some(access.team_origin.as_str()) {
        return Err(JwtError::WrongIssuer);
    }
    let exp = claims.exp.ok_or(JwtError::Expired)?;
    if !still_valid(exp, now_secs) {
        return Err(JwtError::Expired);
    }
    if claims.nbf.is_some_and(|nbf| !already_valid(nbf, now_secs)) {
        return Err(JwtError::NotYetValid);
    }
    Ok(())
}

/// `exp + leeway > now`, without overflow: a claim is any JSON number, so
/// 1e300 or -1e300 must decide, not wrap or panic. `as` saturates, and an
/// addition past `i64::MAX` can only mean "far in the future".
fn still_valid(exp: f64, now_secs: i64) -> bool {
    !exp.is_nan() && (exp as i64).checked_add(LEEWAY_SECS).is_none_or(|until| until > now_secs)
}

/// `nbf - leeway <= now`, without overflow: below `i64::MIN` is "long ago".
fn already_valid(nbf: f64, now_secs: i64) -> bool {
    !nbf.is_nan() && (nbf as i64).checked_sub(LEEWAY_SECS).is_none_or(|from| from <= now_secs)
}

/// Who the page says is signed in.
pub fn viewer(claims: &Claims) -> Option<String> {
    claims.email.clone().or_else(|| claims.common_name.clone()).or_else(|| claims.sub.clone())
}

/// The team's signing keys (`/cdn-cgi/access/certs`).
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
pub struct Jwks {
    #[serde(default)]
    pub keys: Vec<Jwk>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Jwk {
    #[serde(default)]
    pub kid: Option<String>,
    pub kty: String,
    #[serde(default)]
    pub n: Option<String>,
    #[serde(default)]
    pub e: Option<String>,
}

impl Jwks {
    /// The RSA key the token names. A token without `kid` matches only a
    /// set of exactly one key.
    pub fn key_for(&self, kid: Option<&str>) -> Option<&Jwk> {
        let rsa = |k: &&Jwk| k.kty == "RSA" && k.n.is_some() && k.e.is_some();
        match kid {
            Some(kid) => self.keys.iter().filter(rsa).find(|k| k.kid.as_deref() == Some(kid)),
            None if self.keys.len() == 1 => self.keys.iter().find(rsa),
            None => None,
        }
    }
}

pub fn certs_url(team_origin: &str) -> String {
    format!("{team_origin}/cdn-cgi/access/certs")
}

/// Unpadded (or padded) base64url, as JWTs and JWKs use it.
pub fn base64url_decode(s: &str) -> Option<Vec<u8>> {
    let s = s.trim_end_matches('=');
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    // A single leftover character cannot encode a byte.
    (bits < 6).then_some(out)
}

pub fn base64url_encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(header: &str, claims: &str) -> String {
        format!("{}.{}.{}", base64url_encode(header.as_bytes()), base64url_encode(claims.as_bytes()), "c2ln")
    }

    fn access() -> AccessConfig {
        AccessConfig { aud: "aud-1".into(), team_origin: "https://team.cloudflareaccess.com".into() }
    }

    fn claims(json: &str) -> Claims {
        parse(&token(r#"{"alg":"RS256","kid":"k1"}"#, json)).unwrap().claims
    }

    #[test]
    fn base64url_round_trips_every_length() {
        for n in 0..40u8 {
            let bytes: Vec<u8> = (0..n).map(|i| i.wrapping_mul(37).wrapping_add(250)).collect();
            assert_eq!(base64url_decode(&base64url_encode(&bytes)), Some(bytes));
        }
        assert_eq!(base64url_decode("aGk="), Some(b"hi".to_vec()));
        assert_eq!(base64url_decode("a"), None);
        assert_eq!(base64url_decode("a+b/"), None, "standard base64 is not base64url");
    }

    #[test]
    fn a_token_is_split_into_its_signed_part_and_signature() {
        let t = token(r#"{"alg":"RS256","kid":"k1","typ":"JWT"}"#, r#"{"aud":["aud-1"],"email":"a@x.io"}"#);
        let jwt = parse(&t).unwrap();
        assert_eq!(jwt.header.kid.as_deref(), Some("k1"));
        assert_eq!(jwt.signature, b"sig");
        assert_eq!(jwt.signing_input, t.rsplit_once('.').unwrap().0);
        assert_eq!(viewer(&jwt.claims).as_deref(), Some("a@x.io"));
    }

    #[test]
    fn only_rs256_is_accepted() {
        for alg in ["none", "HS256", "RS512", "rs256"] {
            let t = token(&format!(r#"{{"alg":"{alg}"}}"#), "{}");
            assert_eq!(parse(&t), Err(JwtError::UnsupportedAlgorithm), "{alg}");
        }
    }

    #[test]
    fn malformed_tokens_are_refused() {
        let good = token(r#"{"alg":"RS256"}"#, "{}");
        for bad in ["", "a.b", "a.b.c.d", "!!.e30.c2ln", &format!("{good}.x"), &good.replace(".c2ln", ".")] {
            assert_eq!(parse(bad), Err(JwtError::Malformed), "{bad:?}");
        }
        assert_eq!(parse(&"a".repeat(20_000)), Err(JwtError::Malformed));
    }

    #[test]
    fn audience_issuer_and_lifetime_are_checked() {
        let now = 1_000_000;
        let ok = r#"{"aud":"aud-1","iss":"https://team.cloudflareaccess.com","exp":1000100,"nbf":999990}"#;
        assert_eq!(check_claims(&claims(ok), &access(), now), Ok(()));
        let many = ok.replace(r#""aud-1""#, r#"["x","aud-1"]"#);
        assert_eq!(check_claims(&claims(&many), &access(), now), Ok(()));
        let cases = [
            (ok.replace("aud-1", "aud-2"), JwtError::WrongAudience),
            (ok.replace("team.", "evil."), JwtError::WrongIssuer),
            (ok.replace("1000100", "999900"), JwtError::Expired),
            (ok.replace(r#","exp":1000100"#, ""), JwtError::Expired),
            (ok.replace("999990", "1000100"), JwtError::NotYetValid),
        ];
        for (json, want) in cases {
            assert_eq!(check_claims(&claims(&json), &access(), now), Err(want), "{json}");
        }
        let within_leeway = ok.replace("1000100", "999990");
        assert_eq!(check_claims(&claims(&within_leeway), &access(), now), Ok(()));
    }

    #[test]
    fn huge_and_negative_lifetimes_decide_without_overflow() {
        let now = 1_000_000;
        let with = |exp: &str, nbf: &str| {
            let json =
                format!(r#"{{"aud":"aud-1","iss":"https://team.cloudflareaccess.com","exp":{exp},"nbf":{nbf}}}"#);
            check_claims(&claims(&json), &access(), now)
        };
        // i64::MAX and beyond: a far future, not an overflow.
        for exp in ["9223372036854775807", "9223372036854775808", "1e300", "1.7976931348623157e308"] {
            assert_eq!(with(exp, "0"), Ok(()), "exp {exp}");
        }
        for exp in ["-9223372036854775808", "-1e300", "-1.7976931348623157e308", "0", "-30"] {
            assert_eq!(with(exp, "0"), Err(JwtError::Expired), "exp {exp}");
        }
        // i64::MIN and below: long ago, not an overflow.
        for nbf in ["-9223372036854775808", "-1e300", "-1.7976931348623157e308"] {
            assert_eq!(with("1000100", nbf), Ok(()), "nbf {nbf}");
        }
        for nbf in ["9223372036854775807", "1e300", "1.7976931348623157e308"] {
            assert_eq!(with("1e300", nbf), Err(JwtError::NotYetValid), "nbf {nbf}");
        }
        assert!(!still_valid(f64::NAN, now) && !already_valid(f64::NAN, now), "NaN is never valid");
        assert!(still_valid(f64::INFINITY, now) && !still_valid(f64::NEG_INFINITY, now));
        assert!(already_valid(f64::NEG_INFINITY, now) && !already_valid(f64::INFINITY, now));
    }

    #[test]
    fn the_key_is_chosen_by_kid() {
        let jwks: Jwks = serde_json::from_str(
            r#"{"keys":[{"kid":"a","kty":"RSA","alg":"RS256","use":"sig","e":"AQAB","n":"xx"},
                        {"kid":"b","kty":"RSA","e":"AQAB","n":"yy"}],"public_cert":{"kid":"a","cert":"…"}}"#,
        )
        .unwrap();
        assert_eq!(jwks.key_for(Some("b")).and_then(|k| k.n.as_deref()), Some("yy"));
        assert_eq!(jwks.key_for(Some("c")), None);
        assert_eq!(jwks.key_for(None), None, "two keys and no kid: ambiguous");
        assert_eq!(certs_url("https://t.example"), "https://t.example/cdn-cgi/access/certs");
    }
}
