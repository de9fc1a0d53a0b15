//! The derived signature vectors in `tests/fixtures/signature-test-vectors.json`
//! (copied from the shared reference): HMAC over the raw bytes Sentry sends,
//! and why a re-serialized body can never verify.

use sentry_kanban::verify::{check_github, check_hex_hmac, sign_hex, Rejection};
use serde_json::Value;

fn vectors() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/signature-test-vectors.json");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    serde_json::from_str(&text).expect("vectors are JSON")
}

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or_else(|| panic!("vector field {key} missing"))
}

#[test]
fn the_sentry_vector_verifies_over_the_raw_body() {
    let v = vectors();
    let (secret, body, sig) = (s(&v, "secret"), s(&v, "raw_body"), s(&v, "expected_sentry_hook_signature"));
    assert!(
        body.is_ascii() && body.contains(r"Caf\u00e9") && body.contains("1e-05"),
        "raw_body is Sentry's exact bytes"
    );
    assert_eq!(sign_hex(secret.as_bytes(), body.as_bytes()), sig);
    assert_eq!(check_hex_hmac(Some(secret), body.as_bytes(), Some(sig)), Ok(()));
    assert_eq!(check_hex_hmac(Some("wrong-secret"), body.as_bytes(), Some(sig)), Err(Rejection::BadSignature));
}

#[test]
fn a_js_reserialized_body_does_not_verify() {
    let v = vectors();
    let secret = s(&v, "secret");
    let raw = s(&v, "raw_body");
    let reserialized = s(&v, "js_reserialized_body_would_be");
    let expected = s(&v, "expected_sentry_hook_signature");
    let mismatch = s(&v, "signature_of_reserialized_body_(mismatch)");
    // Same JSON value, different bytes.
    assert_ne!(raw, reserialized);
    assert!(reserialized.contains("Caf\u{e9}") && reserialized.contains("0.00001"));
    assert_eq!(check_hex_hmac(Some(secret), reserialized.as_bytes(), Some(expected)), Err(Rejection::BadSignature));
    assert_eq!(sign_hex(secret.as_bytes(), reserialized.as_bytes()), mismatch);
    assert_ne!(mismatch, expected);
    assert_eq!(check_hex_hmac(Some(secret), reserialized.as_bytes(), Some(mismatch)), Ok(()));
}

#[test]
fn the_github_doc_vector_verifies() {
    let v = vectors();
    let g = &v["github_doc_vector"];
    let (secret, payload, header) = (s(g, "secret"), s(g, "payload"), s(g, "x_hub_signature_256"));
    assert_eq!(check_github(Some(secret), payload.as_bytes(), Some(header)), Ok(()));
    let hex = header.strip_prefix("sha256=").expect("sha256= prefix");
    assert_eq!(sign_hex(secret.as_bytes(), payload.as_bytes()), hex);
    assert_eq!(check_github(Some(secret), b"Hello, World!\n", Some(header)), Err(Rejection::BadSignature));
}
