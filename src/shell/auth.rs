//! The board's gate: who the viewer is, the login and logout forms, and
//! Cloudflare Access tokens checked with WebCrypto. The rules are in
//! `crate::auth`; this file only gathers the request's facts.

use super::env::{config, db};
use super::{d1, fetch, http};
use crate::auth::sign_in::{self, Checked, Credential, LoginRefusal, Next};
use crate::auth::{self, jwt, keys, session, throttle, Admission, Mode, Refusal, RefusalPage};
use crate::config::{AccessConfig, Config};
use crate::error::AppError;
use crate::outbound::HttpCall;
use crate::routes::{Gate, Route};
use crate::store;
use serde_json::json;
use std::cell::RefCell;
use worker::js_sys::{Array, Function, Object, Promise, Reflect, Uint8Array};
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::wasm_bindgen_futures::JsFuture;
use worker::{console_log, Date, Env, Headers, Request, Response, Result};

/// Lets a request through `gate`, or says why not (`auth::admit`).
/// `Ok(Some(name))` when the viewer has a name to show (Access).
pub async fn check(req: &Request, env: &Env, gate: Gate) -> std::result::Result<Option<String>, AppError> {
    let cfg = config(env);
    match auth::admit_lazily(gate, || same_origin(req), || mode(req, &cfg)) {
        Admission::Pass => Ok(None),
        Admission::Refuse(e) => Err(e),
        Admission::Misconfigured => Err(misconfigured(&cfg)),
        Admission::SignIn => signed_in(req, env, &cfg).await,
    }
}

fn mode(req: &Request, cfg: &Config) -> Mode {
    let host = http::with_url(req, |u| u.host().to_string()).unwrap_or_default();
    Mode::of(cfg, &host, auth::forwarded(|name| http::header(req, name)))
}

/// The 503 for unusable access settings, logged each time it is served so
/// the log says why the board is down.
fn misconfigured(cfg: &Config) -> AppError {
    let problems = auth::config_problems(cfg);
    console_log!("{}", json!({ "event": "auth_misconfigured", "problems": problems }));
    AppError::Unavailable(problems.join(" "))
}

fn same_origin(req: &Request) -> bool {
    let own = http::with_url(req, |u| u.origin()).unwrap_or_default();
    auth::same_origin(&own, http::header(req, "Origin").as_deref(), http::header(req, "Sec-Fetch-Site").as_deref())
}

/// Checks the credentials `sign_in::credentials` lists, in its order, until
/// `sign_in::after` says how it ends.
async fn signed_in(req: &Request, env: &Env, cfg: &Config) -> std::result::Result<Option<String>, AppError> {
    let cookies = http::header(req, "Cookie");
    let now = now_secs();
    for credential in sign_in::credentials(cfg, cookies.as_deref(), http::header(req, "Cf-Access-Jwt-Assertion")) {
        let checked = match credential {
            Credential::Session { token, cookie } => {
                Checked::Session { valid: session::valid(token, cookie, session_version(env).await?, now) }
            }
            Credential::Access { access, token } => Checked::Access(verify_access(cfg, access, &token, now).await),
        };
        match sign_in::after(checked) {
            Next::Viewer(name) => return Ok(name),
            Next::Continue(why) => why.iter().for_each(|(event, why)| log(event, why)),
            Next::Stop(e, (event, why)) => {
                log(event, &why);
                return Err(e);
            }
        }
    }
    Err(sign_in::nobody())
}

/// Whether the request carries a session cookie of the current session
/// version. D1 is read only when there is a cookie to check.
async fn valid_session(req: &Request, env: &Env, token: &str, now: i64) -> std::result::Result<bool, AppError> {
    let cookies = http::header(req, "Cookie");
    let Some(value) = auth::cookie(cookies.as_deref(), session::COOKIE) else { return Ok(false) };
    Ok(session::valid(token, value, session_version(env).await?, now))
}

async fn session_version(env: &Env) -> std::result::Result<i64, AppError> {
    let row = d1::first(&db(env)?, store::auth::SESSION_VERSION, &[]).await.map_err(store_failed)?;
    Ok(row.and_then(|r| r.get("v").and_then(serde_json::Value::as_i64)).unwrap_or(0))
}

/// A 500 says nothing to the client; the log says which table failed (e.g.
/// migrations/0011 not applied).
fn store_failed(e: AppError) -> AppError {
    log("auth_store_failed", &format!("{e:?}"));
    e
}

/// What an API caller or a browser is told when the gate says no: pages
/// go to the login form (token mode) or get a short page, the API gets JSON.
pub fn refused(route: &Route, req: &Request, env: &Env, e: &AppError) -> Result<Response> {
    match auth::refusal_page(route, config(env).dashboard_token.is_some(), e) {
        RefusalPage::Json => http::error_response(e),
        RefusalPage::Notice => notice(e),
        RefusalPage::LoginForm => {
            let next = http::with_url(req, |u| u.path_and_query()).unwrap_or_else(|_| "/".into());
            redirect(&format!("/login?next={}", crate::percent::encode(&next)), None)
        }
    }
}

/// A short HTML page that says what went wrong (and `Retry-After` if any).
fn notice(e: &AppError) -> Result<Response> {
    let mut resp = Response::from_html(auth::notice_html(e.body()["message"].as_str().unwrap_or_default()))?
        .with_status(e.status());
    if let Some(secs) = e.retry_after() {
        resp.headers_mut().set("Retry-After", &secs.to_string())?;
    }
    Ok(resp)
}

/// The login form is posted by a browser: it gets a page; a script asking
/// for JSON gets JSON.
fn form_error(req: &Request, e: &AppError) -> Result<Response> {
    if http::header(req, "Accept").is_some_and(|a| a.contains("text/html")) {
        notice(e)
    } else {
        http::error_response(e)
    }
}

/// `POST /api/login`: the token form. A wrong token goes back to the form;
/// too many wrong tokens from one client in a minute get a 429.
pub async fn login(mut req: Request, env: &Env) -> Result<Response> {
    let cfg = config(env);
    let expected = match sign_in::login_token(&cfg, same_origin(&req)) {
        Ok(token) => token.to_string(),
        Err(LoginRefusal::Misconfigured) => return form_error(&req, &misconfigured(&cfg)),
        Err(refusal) => return http::error_response(&refusal.error(&cfg)),
    };
    match try_login(&mut req, env, &expected).await {
        Ok(resp) => Ok(resp),
        Err(e) => form_error(&req, &e),
    }
}

async fn try_login(req: &mut Request, env: &Env, expected: &str) -> std::result::Result<Response, AppError> {
    let (now, db) = (now_secs(), db(env)?);
    let client = throttle::client_key(http::header(req, "CF-Connecting-IP").as_deref());
    let minute = throttle::minute(now);
    let failures =
        d1::first(&db, store::auth::FAILURES, &[client.as_str().into(), minute.into()]).await.map_err(store_failed)?;
    let failures = failures.and_then(|r| r.get("n").and_then(serde_json::Value::as_i64)).unwrap_or(0);
    if let throttle::Verdict::Refuse { retry_after_secs } = throttle::verdict(failures, now) {
        log("login_throttled", &client);
        return Err(AppError::TooManyRequests { retry_after_secs });
    }
    let body = String::from_utf8_lossy(&http::read_body(req, 8 * 1024).await?).into_owned();
    let next = auth::safe_next(auth::form_field(&body, "next").as_deref());
    let presented = auth::form_field(&body, "token").unwrap_or_default();
    if !session::token_matches(expected, presented.trim()) {
        log("login_refused", "wrong token");
        d1::run(&db, &store::auth::record_failure(&client, minute)).await.map_err(store_failed)?;
        return shell_result(redirect(&format!("/login?error=1&next={}", crate::percent::encode(&next)), None));
    }
    let value = session::issue(expected, session_version(env).await?, now + session::MAX_AGE_SECS);
    shell_result(redirect(&next, Some(&session::set_cookie(&value))))
}

fn shell_result(r: Result<Response>) -> std::result::Result<Response, AppError> {
    r.map_err(|e| AppError::Internal(format!("response: {e}")))
}

/// `POST /api/logout`: ends the session on the server too. Only a valid
/// session may bump the version; otherwise anyone could sign everyone out.
pub async fn logout(req: &Request, env: &Env) -> Result<Response> {
    if !same_origin(req) {
        return http::error_response(&AppError::Forbidden("cross-origin write refused".into()));
    }
    if let Err(e) = end_sessions(req, env).await {
        return http::error_response(&e);
    }
    redirect("/login", Some(&session::clear_cookie()))
}

async fn end_sessions(req: &Request, env: &Env) -> std::result::Result<(), AppError> {
    let Some(token) = config(env).dashboard_token else { return Ok(()) };
    let writes = store::auth::logout(valid_session(req, env, &token, now_secs()).await?);
    if writes.is_empty() {
        return Ok(());
    }
    d1::run(&db(env)?, &writes).await.map_err(store_failed)?;
    log("logout", "session version bumped");
    Ok(())
}

/// `GET /api/session`: what the pages need to know about the viewer.
pub async fn session_info(req: &Request, env: &Env) -> Result<Response> {
    let result = check(req, env, Gate::Viewer).await;
    Response::from_json(&sign_in::session_answer(mode(req, &config(env)), &result))
}

fn redirect(location: &str, cookie: Option<&str>) -> Result<Response> {
    let headers = Headers::new();
    headers.set("Location", location)?;
    headers.set("Cache-Control", "no-store")?;
    if let Some(c) = cookie {
        headers.set("Set-Cookie", c)?;
    }
    Ok(Response::empty()?.with_status(303).with_headers(headers))
}

// ---- Cloudflare Access ----------------------------------------------------------

/// The team's last good keys, kept per isolate; `auth::keys` decides when
/// they are refreshed and how long they outlive a failed refresh.
struct CachedKeys {
    origin: String,
    fetched_ms: f64,
    keys: jwt::Jwks,
}

thread_local! {
    static KEYS: RefCell<Option<CachedKeys>> = const { RefCell::new(None) };
}

async fn verify_access(
    cfg: &Config,
    access: &AccessConfig,
    token: &str,
    now: i64,
) -> std::result::Result<Option<String>, Refusal> {
    let refuse = |e: jwt::JwtError| Refusal::Token(e.as_str());
    let parsed = jwt::parse(token).map_err(refuse)?;
    jwt::check_claims(&parsed.claims, access, now).map_err(refuse)?;
    let key = signing_key(cfg, access, parsed.header.kid.as_deref()).await?;
    let good = rs256_verify(&key, parsed.signing_input.as_bytes(), &parsed.signature)
        .await
        .map_err(|_| Refusal::Token("WebCrypto could not check the signature"))?;
    if !good {
        return Err(refuse(jwt::JwtError::BadSignature));
    }
    Ok(jwt::viewer(&parsed.claims))
}

/// The cached set's age and the key `kid` names, if the set is this team's.
fn cached_key(origin: &str, kid: Option<&str>, now_ms: f64) -> Option<(keys::Cached, Option<jwt::Jwk>)> {
    KEYS.with(|k| {
        k.borrow().as_ref().filter(|c| c.origin == origin).map(|c| {
            let key = c.keys.key_for(kid).cloned();
            (keys::Cached { age_ms: now_ms - c.fetched_ms, has_key: key.is_some() }, key)
        })
    })
}

async fn signing_key(cfg: &Config, access: &AccessConfig, kid: Option<&str>) -> std::result::Result<jwt::Jwk, Refusal> {
    let now = Date::now().as_millis() as f64;
    let cached = cached_key(&access.team_origin, kid, now);
    let (view, last_good) = (cached.as_ref().map(|c| c.0), cached.and_then(|c| c.1));
    match (keys::before_fetch(view), &last_good) {
        (keys::Before::Use, Some(key)) => return Ok(key.clone()),
        (keys::Before::Unknown, _) => return Err(Refusal::Token(jwt::JwtError::UnknownKey.as_str())),
        _ => {}
    }
    let url = jwt::certs_url(&access.team_origin);
    match fetch_keys(cfg, &url).await {
        Ok(fresh) => {
            let found = fresh.key_for(kid).cloned();
            KEYS.with(|k| {
                *k.borrow_mut() = Some(CachedKeys { origin: access.team_origin.clone(), fetched_ms: now, keys: fresh })
            });
            found.ok_or(Refusal::Token(jwt::JwtError::UnknownKey.as_str()))
        }
        Err(why) => {
            log("access_keys_fetch_failed", &why);
            match (keys::after_failed_fetch(view), last_good) {
                (keys::AfterFailure::UseStale, Some(key)) => Ok(key),
                _ => Err(Refusal::KeysUnavailable(keys::unavailable_message(&url))),
            }
        }
    }
}

/// `/cdn-cgi/access/certs`; an answer without a single key counts as a
/// failure, so it never replaces a good set.
async fn fetch_keys(cfg: &Config, url: &str) -> std::result::Result<jwt::Jwks, String> {
    let call = HttpCall { method: "GET", url: url.to_string(), bearer: None, body: None, headers: vec![] };
    let reply = fetch::send("access certs", &call, cfg.http_timeout_ms).await.map_err(|e| e.detail().to_string())?;
    let keys: jwt::Jwks = crate::outbound::json("access certs", &reply).map_err(|e| e.detail().to_string())?;
    if keys.keys.is_empty() {
        return Err("the key set is empty".into());
    }
    Ok(keys)
}

/// RSASSA-PKCS1-v1_5 with SHA-256, by the runtime's WebCrypto.
async fn rs256_verify(key: &jwt::Jwk, data: &[u8], signature: &[u8]) -> std::result::Result<bool, JsValue> {
    let subtle = Reflect::get(&Reflect::get(&worker::js_sys::global(), &"crypto".into())?, &"subtle".into())?;
    let algorithm = object(&[("name", "RSASSA-PKCS1-v1_5".into()), ("hash", "SHA-256".into())])?;
    let jwk = object(&[
        ("kty", "RSA".into()),
        ("n", key.n.as_deref().unwrap_or_default().into()),
        ("e", key.e.as_deref().unwrap_or_default().into()),
        ("alg", "RS256".into()),
        ("ext", true.into()),
    ])?;
    let usages = Array::of1(&"verify".into());
    let import_args = Array::of5(&"jwk".into(), &jwk, &algorithm, &false.into(), &usages);
    let crypto_key = call(&subtle, "importKey", &import_args).await?;
    let verify_args =
        Array::of4(&algorithm, &crypto_key, &Uint8Array::from(signature).into(), &Uint8Array::from(data).into());
    Ok(call(&subtle, "verify", &verify_args).await?.as_bool().unwrap_or(false))
}

async fn call(target: &JsValue, method: &str, args: &Array) -> std::result::Result<JsValue, JsValue> {
    let f: Function = Reflect::get(target, &method.into())?.dyn_into()?;
    let promise: Promise = Reflect::apply(&f, target, args)?.dyn_into()?;
    JsFuture::from(promise).await
}

fn object(fields: &[(&str, JsValue)]) -> std::result::Result<JsValue, JsValue> {
    let o = Object::new();
    for (k, v) in fields {
        Reflect::set(&o, &(*k).into(), v)?;
    }
    Ok(o.into())
}

fn now_secs() -> i64 {
    (Date::now().as_millis() / 1000) as i64
}

fn log(event: &str, why: &str) {
    console_log!("{}", json!({ "event": event, "why": why }));
}
