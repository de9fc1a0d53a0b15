//! The board's gate: who the viewer is, the login and logout forms, and
//! Cloudflare Access tokens checked with WebCrypto. The rules are in
//! `crate::auth`; this file only gathers the request's facts.

use super::{config, fetch, http};
use crate::auth::{self, jwt, session, Mode};
use crate::config::{AccessConfig, Config};
use crate::error::AppError;
use crate::outbound::HttpCall;
use crate::routes::{Gate, Route};
use serde_json::json;
use std::cell::RefCell;
use worker::js_sys::{Array, Function, Object, Promise, Reflect, Uint8Array};
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::wasm_bindgen_futures::JsFuture;
use worker::{console_log, Date, Env, Headers, Request, Response, Result};

/// Lets a request through `gate`, or says why not. Writes must come from
/// the board's own origin in every mode, the open one included (a page on
/// another site must not drive a local board).
/// `Ok(Some(name))` when the viewer has a name to show (Access).
pub async fn check(req: &Request, env: &Env, gate: Gate) -> std::result::Result<Option<String>, AppError> {
    let cfg = config(env);
    let mode = mode(req, &cfg);
    if gate == Gate::Public {
        return Ok(None);
    }
    if gate == Gate::ViewerWrite && !same_origin(req) {
        return Err(AppError::Forbidden("cross-origin write refused".into()));
    }
    match mode {
        Mode::Open => Ok(None),
        Mode::Unconfigured => Err(AppError::Unavailable(auth::HOW_TO_CONFIGURE.into())),
        Mode::Protected { .. } => signed_in(req, &cfg).await,
    }
}

fn mode(req: &Request, cfg: &Config) -> Mode {
    let host = req.url().ok().and_then(|u| u.host_str().map(str::to_string)).unwrap_or_default();
    Mode::of(cfg, &host)
}

fn same_origin(req: &Request) -> bool {
    let own = req.url().map(|u| u.origin().ascii_serialization()).unwrap_or_default();
    auth::same_origin(&own, http::header(req, "Origin").as_deref(), http::header(req, "Sec-Fetch-Site").as_deref())
}

/// A valid session cookie, else a valid Access token. `Ok(None)` is a
/// session login (no name to show).
async fn signed_in(req: &Request, cfg: &Config) -> std::result::Result<Option<String>, AppError> {
    let cookies = http::header(req, "Cookie");
    let now = now_secs();
    if let (Some(token), Some(value)) = (&cfg.dashboard_token, auth::cookie(cookies.as_deref(), session::COOKIE)) {
        if session::valid(token, value, now) {
            return Ok(None);
        }
    }
    if let Some(access) = &cfg.access {
        let presented = http::header(req, "Cf-Access-Jwt-Assertion")
            .or_else(|| auth::cookie(cookies.as_deref(), "CF_Authorization").map(str::to_string));
        if let Some(token) = presented {
            match verify_access(cfg, access, &token, now).await {
                Ok(user) => return Ok(Some(user.unwrap_or_else(|| "Access user".into()))),
                Err(why) => log("access_token_refused", why),
            }
        }
    }
    Err(AppError::Unauthenticated)
}

/// What an API caller or a browser is told when the gate says no: pages
/// go to the login form (token mode) or get a short page, the API gets JSON.
pub fn refused(route: Route, req: &Request, env: &Env, e: &AppError) -> Result<Response> {
    if route != Route::Page {
        return http::error_response(e);
    }
    let token_login = config(env).dashboard_token.is_some();
    match e {
        AppError::Unauthenticated if token_login => {
            let next = req.url().map(|u| path_and_query(&u)).unwrap_or_else(|_| "/".into());
            redirect(&format!("/login?next={}", crate::outbound::encode(&next)), None)
        }
        _ => {
            let html = format!(
                "<!doctype html><meta charset=utf-8><title>sentry-kanban</title><link rel=stylesheet href=/app.css>\
                 <main class=notice><h1>sentry-kanban</h1><p>{}</p></main>",
                html_escape(e.body()["message"].as_str().unwrap_or_default())
            );
            Ok(Response::from_html(html)?.with_status(e.status()))
        }
    }
}

fn path_and_query(u: &worker::Url) -> String {
    match u.query() {
        Some(q) => format!("{}?{q}", u.path()),
        None => u.path().to_string(),
    }
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// `POST /api/login`: the token form. A wrong token goes back to the form.
pub async fn login(mut req: Request, env: &Env) -> Result<Response> {
    if !same_origin(&req) {
        return http::error_response(&AppError::Forbidden("cross-origin write refused".into()));
    }
    let Some(expected) = config(env).dashboard_token else {
        return http::error_response(&AppError::BadRequest("DASHBOARD_TOKEN is not set on this worker".into()));
    };
    let body = match http::read_body(&mut req, 8 * 1024).await {
        Ok(b) => String::from_utf8_lossy(&b).into_owned(),
        Err(e) => return http::error_response(&e),
    };
    let next = auth::safe_next(auth::form_field(&body, "next").as_deref());
    let presented = auth::form_field(&body, "token").unwrap_or_default();
    if !session::token_matches(&expected, presented.trim()) {
        log("login_refused", "wrong token");
        return redirect(&format!("/login?error=1&next={}", crate::outbound::encode(&next)), None);
    }
    let value = session::issue(&expected, now_secs() + session::MAX_AGE_SECS);
    redirect(&next, Some(&session::set_cookie(&value)))
}

/// `POST /api/logout`.
pub fn logout(req: &Request) -> Result<Response> {
    if !same_origin(req) {
        return http::error_response(&AppError::Forbidden("cross-origin write refused".into()));
    }
    redirect("/login", Some(&session::clear_cookie()))
}

/// `GET /api/session`: what the pages need to know about the viewer.
pub async fn session_info(req: &Request, env: &Env) -> Result<Response> {
    let result = check(req, env, Gate::Viewer).await;
    let mode = mode(req, &config(env));
    let user = result.as_ref().ok().cloned().flatten();
    Response::from_json(&json!({
        "mode": mode.name(),
        "authenticated": result.is_ok(),
        "unprotected": mode == Mode::Open,
        "user": user,
        "login": matches!(mode, Mode::Protected { token: true, .. }),
        "message": (mode == Mode::Unconfigured).then_some(auth::HOW_TO_CONFIGURE),
    }))
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

/// The team's keys, kept per isolate: fetched at most once a minute, and
/// reused for an hour.
struct CachedKeys {
    origin: String,
    fetched_ms: f64,
    keys: jwt::Jwks,
}

thread_local! {
    static KEYS: RefCell<Option<CachedKeys>> = const { RefCell::new(None) };
}

const KEYS_TTL_MS: f64 = 60.0 * 60.0 * 1000.0;
const KEYS_REFETCH_MS: f64 = 60.0 * 1000.0;

async fn verify_access(
    cfg: &Config,
    access: &AccessConfig,
    token: &str,
    now: i64,
) -> std::result::Result<Option<String>, &'static str> {
    let parsed = jwt::parse(token).map_err(jwt::JwtError::as_str)?;
    jwt::check_claims(&parsed.claims, access, now).map_err(jwt::JwtError::as_str)?;
    let key = signing_key(cfg, access, parsed.header.kid.as_deref()).await?;
    let good = rs256_verify(&key, parsed.signing_input.as_bytes(), &parsed.signature)
        .await
        .map_err(|_| "WebCrypto could not check the signature")?;
    if !good {
        return Err(jwt::JwtError::BadSignature.as_str());
    }
    Ok(jwt::viewer(&parsed.claims))
}

async fn signing_key(
    cfg: &Config,
    access: &AccessConfig,
    kid: Option<&str>,
) -> std::result::Result<jwt::Jwk, &'static str> {
    let now = Date::now().as_millis() as f64;
    let cached = KEYS.with(|k| {
        k.borrow()
            .as_ref()
            .filter(|c| c.origin == access.team_origin)
            .map(|c| (c.fetched_ms, c.keys.key_for(kid).cloned()))
    });
    match cached {
        Some((at, Some(key))) if now - at < KEYS_TTL_MS => return Ok(key),
        Some((at, None)) if now - at < KEYS_REFETCH_MS => return Err(jwt::JwtError::UnknownKey.as_str()),
        _ => {}
    }
    let call =
        HttpCall { method: "GET", url: jwt::certs_url(&access.team_origin), bearer: None, body: None, headers: vec![] };
    let reply = fetch::send("access certs", &call, cfg.http_timeout_ms).await.map_err(|_| "team keys unreachable")?;
    let keys: jwt::Jwks = crate::outbound::json("access certs", &reply).map_err(|_| "team keys unreadable")?;
    let key = keys.key_for(kid).cloned();
    KEYS.with(|k| *k.borrow_mut() = Some(CachedKeys { origin: access.team_origin.clone(), fetched_ms: now, keys }));
    key.ok_or(jwt::JwtError::UnknownKey.as_str())
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
