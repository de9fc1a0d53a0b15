//! The Cloudflare Access JWT parser (`auth::jwt::parse`) and its base64url
//! codec: never panics; a parsed token is exactly three base64url parts with
//! `alg` RS256 and a non-empty signature; decoding inverts encoding.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sentry_kanban::auth::jwt::{base64url_decode, base64url_encode, parse};

fuzz_target!(|data: &[u8]| {
    assert_eq!(base64url_decode(&base64url_encode(data)).as_deref(), Some(data));
    let token = String::from_utf8_lossy(data);
    if let Ok(jwt) = parse(&token) {
        let parts: Vec<&str> = token.trim().split('.').collect();
        assert_eq!(parts.len(), 3, "{token:?}");
        assert_eq!(jwt.header.alg, "RS256");
        assert!(!jwt.signature.is_empty());
        assert_eq!(jwt.signing_input, format!("{}.{}", parts[0], parts[1]));
        assert_eq!(base64url_decode(parts[2]).as_deref(), Some(jwt.signature.as_slice()));
    }
});
