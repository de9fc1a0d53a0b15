//! Cloudflare Access tokens, verified with the team's keys (good, wrong
//! audience, expired, unknown key, other key, tampered), and a team whose keys
//! cannot be fetched.

use super::*;

// ---- Cloudflare Access ----------------------------------------------------------

const AUD: &str = "e2e-access-aud";

fn access_app() -> &'static App {
    static APP: Scenario = Scenario::new(module_path!(), || {
        let app = spawn_app(&[("ACCESS_AUD", AUD), ("ACCESS_TEAM_DOMAIN", "{mock}")]);
        let certs =
            json!({"keys": [{"kid": "k1", "kty": "RSA", "alg": "RS256", "use": "sig", "e": "AQAB", "n": key("k1").n}]});
        app.mock.route(Canned::new("GET", "/cdn-cgi/access/certs", 200, &certs.to_string()));
        app
    });
    APP.app()
}

/// An RSA key made with the openssl command line (no crate needed).
#[derive(Clone)]
struct Key {
    pem: std::path::PathBuf,
    n: String,
}

/// Tests of this group run in parallel and share "k1": each name is made once
/// per process, under a lock, so no test reads a key another is still writing
/// (or signs with a key the mock's certs no longer publish).
fn key(name: &str) -> Key {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static KEYS: OnceLock<Mutex<HashMap<String, Key>>> = OnceLock::new();
    let mut keys = KEYS.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
    keys.entry(name.to_string()).or_insert_with(|| make_key(name)).clone()
}

fn make_key(name: &str) -> Key {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/e2e/keys");
    std::fs::create_dir_all(&dir).unwrap();
    let pem = dir.join(format!("{name}-{}.pem", std::process::id()));
    openssl(
        &["genpkey", "-quiet", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", pem.to_str().unwrap()],
        b"",
    );
    let out = openssl(&["rsa", "-in", pem.to_str().unwrap(), "-noout", "-modulus"], b"");
    let hex = String::from_utf8(out).unwrap().trim().trim_start_matches("Modulus=").to_string();
    let bytes = hex::decode(hex).unwrap();
    Key { pem, n: sentry_kanban::auth::jwt::base64url_encode(&bytes) }
}

fn openssl(args: &[&str], stdin: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut child = std::process::Command::new("openssl")
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("openssl runs");
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "openssl {args:?} failed");
    out.stdout
}

fn jwt(signer: &Key, kid: &str, claims: Value) -> String {
    let b64 = |v: &Value| sentry_kanban::auth::jwt::base64url_encode(v.to_string().as_bytes());
    let input = format!("{}.{}", b64(&json!({"alg": "RS256", "kid": kid, "typ": "JWT"})), b64(&claims));
    let sig = openssl(&["dgst", "-sha256", "-sign", signer.pem.to_str().unwrap()], input.as_bytes());
    format!("{input}.{}", sentry_kanban::auth::jwt::base64url_encode(&sig))
}

fn claims(app: &App, aud: &str, exp_in: i64) -> Value {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    json!({"aud": [aud], "iss": app.mock.url, "email": "viewer@example.com", "exp": now + exp_in, "iat": now, "sub": "u1"})
}

#[test]
fn cloudflare_access_tokens_are_verified_with_the_teams_keys() {
    let app = access_app();
    let k1 = key("k1");
    let with = |token: &str| app.request("GET", "/api/items", &[("Cf-Access-Jwt-Assertion", token)], b"").status;
    let good = jwt(&k1, "k1", claims(app, AUD, 600));
    assert_eq!(with(&good), 200);
    let s = app.request("GET", "/api/session", &[("Cookie", &format!("CF_Authorization={good}"))], b"").json();
    assert_eq!((s["mode"].as_str(), s["user"].as_str()), (Some("access"), Some("viewer@example.com")));
    assert_eq!(app.request("GET", "/api/items", &[], b"").status, 401, "no token");
    assert_eq!(with(&jwt(&k1, "k1", claims(app, "other-aud", 600))), 401, "wrong audience");
    assert_eq!(with(&jwt(&k1, "k1", claims(app, AUD, -120))), 401, "expired");
    assert_eq!(with(&jwt(&k1, "k9", claims(app, AUD, 600))), 401, "unknown key id");
    assert_eq!(with(&jwt(&key("other"), "k1", claims(app, AUD, 600))), 401, "signed by another key");
    let mut tampered = good.clone();
    let dot = tampered.find('.').unwrap() + 3;
    tampered.replace_range(dot..dot + 1, if &good[dot..dot + 1] == "A" { "B" } else { "A" });
    assert_eq!(with(&tampered), 401, "claims changed after signing");
    let page = app.request("GET", "/", &[], b"");
    assert_eq!(page.status, 401, "no login form to send an Access user to: {}", page.body);
}

/// An Access worker whose team's key endpoint answers 500 until told otherwise.
fn keys_down_app() -> &'static App {
    static APP: Scenario = Scenario::new(module_path!(), || {
        let app = spawn_app(&[("ACCESS_AUD", AUD), ("ACCESS_TEAM_DOMAIN", "{mock}")]);
        app.mock.route(Canned::new("GET", "/cdn-cgi/access/certs", 500, r#"{"error":"down"}"#));
        app
    });
    APP.app()
}

#[test]
fn without_the_teams_keys_access_fails_closed_with_a_503() {
    let app = keys_down_app();
    let k1 = key("k1");
    let good = jwt(&k1, "k1", claims(app, AUD, 600));
    let api = app.request("GET", "/api/items", &[("Cf-Access-Jwt-Assertion", &good)], b"");
    assert_eq!(api.status, 503, "not the viewer's fault, and nothing served: {}", api.body);
    assert_eq!(api.json()["error"], "upstream_unavailable");
    assert!(api.json()["message"].as_str().unwrap_or("").contains("/cdn-cgi/access/certs"), "{}", api.body);
    let page = app.request("GET", "/", &[("Cf-Access-Jwt-Assertion", &good)], b"");
    assert_eq!(page.status, 503);
    assert!(page.body.contains("signing keys") && App::header(&page, "Content-Security-Policy").is_some());
    assert!(app.mock.calls().iter().any(|c| c.path == "/cdn-cgi/access/certs"), "the keys were asked for");
    // The team's keys come back: the same token is accepted.
    let certs = json!({"keys": [{"kid": "k1", "kty": "RSA", "alg": "RS256", "e": "AQAB", "n": k1.n}]});
    app.mock.unroute("/cdn-cgi/access/certs", 500);
    app.mock.route(Canned::new("GET", "/cdn-cgi/access/certs", 200, &certs.to_string()));
    assert_eq!(app.request("GET", "/api/items", &[("Cf-Access-Jwt-Assertion", &good)], b"").status, 200);
}
