//! Who may see and change the board. Pure decisions; the shell supplies the
//! request's facts and, for Cloudflare Access, checks the RS256 signature
//! with WebCrypto.
//!
//! Modes: a `DASHBOARD_TOKEN` login (a signed session cookie), Cloudflare
//! Access (`ACCESS_AUD` + `ACCESS_TEAM_DOMAIN`), both, or neither. With
//! neither, a worker reached directly on a loopback address (`wrangler dev`)
//! is open and says so; anywhere else, and through any proxy or tunnel, it
//! refuses to serve data. A setting that is present but unusable (a short
//! token, an `http://` team domain) refuses too, and says what to fix.

pub mod jwt;
pub mod keys;
pub mod session;
pub mod sign_in;
pub mod throttle;

use crate::config::Config;
use crate::error::AppError;
use crate::loopback::{is_loopback, is_loopback_ip};
use crate::percent::decode;
use crate::routes::{Gate, Route};

/// How this worker authenticates viewers, for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Nothing configured, reached on loopback: open, with a banner.
    Open,
    /// `DASHBOARD_TOKEN` and/or Cloudflare Access.
    Protected { token: bool, access: bool },
    /// Nothing configured on a public host: no data is served.
    Unconfigured,
    /// An access setting is present but unusable (`config_problems`): no
    /// data is served, rather than a weaker protection than the one asked for.
    Misconfigured,
}

impl Mode {
    /// `forwarded`: the request carries a proxy's header (`forwarded`), so
    /// even a loopback `Host` is someone else's request relayed by a tunnel.
    pub fn of(cfg: &Config, host: &str, forwarded: bool) -> Mode {
        if !config_problems(cfg).is_empty() {
            return Mode::Misconfigured;
        }
        let token = cfg.dashboard_token.is_some();
        let access = cfg.access.is_some();
        match (token || access, is_loopback(host) && !forwarded) {
            (true, _) => Mode::Protected { token, access },
            (false, true) => Mode::Open,
            (false, false) => Mode::Unconfigured,
        }
    }

    /// The name `/api/session` reports.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Open => "open",
            Mode::Protected { access: true, .. } => "access",
            Mode::Protected { .. } => "token",
            Mode::Unconfigured => "unconfigured",
            Mode::Misconfigured => "misconfigured",
        }
    }
}

/// Shortest `DASHBOARD_TOKEN` accepted: 32 random characters are beyond
/// guessing even without the login throttle.
pub const MIN_TOKEN_CHARS: usize = 32;

/// What is wrong with the access settings, as sentences that say what to set.
pub fn config_problems(cfg: &Config) -> Vec<String> {
    let mut problems = Vec::new();
    if let Some(token) = &cfg.dashboard_token {
        let n = token.chars().count();
        if n < MIN_TOKEN_CHARS {
            problems.push(format!(
                "DASHBOARD_TOKEN is {n} characters long; it must be at least {MIN_TOKEN_CHARS}. \
                 Set a longer one, e.g. `openssl rand -hex 32 | wrangler secret put DASHBOARD_TOKEN`."
            ));
        }
    }
    problems.extend(cfg.access_error.iter().cloned());
    problems
}

/// The headers a proxy or tunnel adds (ngrok, cloudflared, nginx, and the
/// Cloudflare edge itself). Any of them makes a request remote.
pub const FORWARDING_HEADERS: [&str; 5] =
    ["X-Forwarded-For", "X-Forwarded-Host", "Forwarded", "CF-Connecting-IP", "X-Real-IP"];

/// Whether a proxy relayed the request (`get` reads a header by name).
/// `wrangler dev` itself sets `CF-Connecting-IP` to the peer's address
/// (loopback for a local browser) and adds none of the others, so only a
/// loopback `CF-Connecting-IP` is local; on a deployed worker Cloudflare
/// always sets it to the real client.
pub fn forwarded(get: impl Fn(&str) -> Option<String>) -> bool {
    FORWARDING_HEADERS.iter().any(|h| match get(h) {
        None => false,
        Some(ip) if *h == "CF-Connecting-IP" => !is_loopback_ip(&ip),
        Some(_) => true,
    })
}

/// What the gate does with a request before any credential is read.
#[derive(Debug, Clone, PartialEq)]
pub enum Admission {
    Pass,
    Refuse(AppError),
    /// Unusable access settings: a 503 whose log line says why.
    Misconfigured,
    /// Look for a session cookie, then an Access token.
    SignIn,
}

/// `admit`, reading the request's facts only when the gate needs them: a
/// public route (every webhook) is let through without parsing its URL or
/// reading its headers.
pub fn admit_lazily(gate: Gate, same_origin: impl FnOnce() -> bool, mode: impl FnOnce() -> Mode) -> Admission {
    match gate {
        Gate::Public => Admission::Pass,
        Gate::Viewer => admit(gate, true, mode()),
        Gate::ViewerWrite => admit(gate, same_origin(), mode()),
    }
}

/// Writes must come from the board's own origin in every mode, the open one
/// included (a page on another site must not drive a local board).
pub fn admit(gate: Gate, same_origin: bool, mode: Mode) -> Admission {
    match (gate, mode) {
        (Gate::Public, _) => Admission::Pass,
        (Gate::ViewerWrite, _) if !same_origin => {
            Admission::Refuse(AppError::Forbidden("cross-origin write refused".into()))
        }
        (_, Mode::Open) => Admission::Pass,
        (_, Mode::Unconfigured) => Admission::Refuse(AppError::Unavailable(HOW_TO_CONFIGURE.into())),
        (_, Mode::Misconfigured) => Admission::Misconfigured,
        (_, Mode::Protected { .. }) => Admission::SignIn,
    }
}

/// How a refusal is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalPage {
    /// The API's JSON error.
    Json,
    /// A page without a session, with a token login: to the login form.
    LoginForm,
    /// A short HTML page that says what went wrong.
    Notice,
}

pub fn refusal_page(route: &Route, token_login: bool, e: &AppError) -> RefusalPage {
    match (route, e) {
        (Route::Page, AppError::Unauthenticated) if token_login => RefusalPage::LoginForm,
        (Route::Page, _) => RefusalPage::Notice,
        _ => RefusalPage::Json,
    }
}

/// What the page is told about how to configure an unprotected deployment.
pub const HOW_TO_CONFIGURE: &str = "This worker has no access control configured, so it serves no data \
(without one, only a direct request to localhost is let in, never one through a tunnel or proxy). \
Set DASHBOARD_TOKEN, at least 32 characters (`wrangler secret put DASHBOARD_TOKEN`), for a login form, \
or put the worker behind Cloudflare Access and set ACCESS_AUD and ACCESS_TEAM_DOMAIN.";

/// The short page a refused browser sees (503, 429, 401 without a login
/// form): the message, escaped, and nothing else.
pub fn notice_html(message: &str) -> String {
    let escaped = message.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    format!(
        "<!doctype html><meta charset=utf-8><title>sentry-kanban</title><link rel=stylesheet href=/app.css>\
         <main class=notice><h1>sentry-kanban</h1><p>{escaped}</p></main>"
    )
}

/// A write from a browser must come from the board's own origin: `Origin`
/// names it, or, when a browser leaves `Origin` out, `Sec-Fetch-Site` says
/// `same-origin`. A request with neither is refused.
pub fn same_origin(own_origin: &str, origin: Option<&str>, fetch_site: Option<&str>) -> bool {
    match origin.map(str::trim) {
        Some(o) if !o.is_empty() && o != "null" => o.eq_ignore_ascii_case(own_origin.trim_end_matches('/')),
        Some(_) => false,
        None => fetch_site.map(str::trim) == Some("same-origin"),
    }
}

/// One cookie's value from a `Cookie` header.
pub fn cookie<'a>(header: Option<&'a str>, name: &str) -> Option<&'a str> {
    header?.split(';').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k.trim() == name).then(|| v.trim().trim_matches('"'))
    })
}

/// Where to go after logging in: only a path on this site, never another
/// host (`//evil`, `/\evil`) or a scheme.
pub fn safe_next(next: Option<&str>) -> String {
    match next.map(str::trim) {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.starts_with("/\\")
                && n.len() <= 2000
                && !n.chars().any(|c| c.is_control()) =>
        {
            n.to_string()
        }
        _ => "/".to_string(),
    }
}

/// A form-encoded body's field (`application/x-www-form-urlencoded`).
pub fn form_field(body: &str, name: &str) -> Option<String> {
    body.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (decode(k)? == name).then(|| decode(v)).flatten()
    })
}

/// Why an Access token was not accepted: the token's fault, or the keys
/// to check it with could not be had.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    Token(&'static str),
    KeysUnavailable(String),
}

/// What an Access token's check means for the request.
#[derive(Debug, Clone, PartialEq)]
pub enum AccessVerdict {
    /// Signed in; a token without a name shows as "Access user".
    Viewer(String),
    /// A bad token: the request goes on as not signed in (401 unless a
    /// session says otherwise), and the reason is logged.
    Refused(&'static str),
    /// The signing keys are out of reach: 503, not the caller's fault.
    Unavailable(AppError),
}

pub fn access_verdict(checked: Result<Option<String>, Refusal>) -> AccessVerdict {
    match checked {
        Ok(name) => AccessVerdict::Viewer(name.unwrap_or_else(|| "Access user".into())),
        Err(Refusal::Token(why)) => AccessVerdict::Refused(why),
        Err(Refusal::KeysUnavailable(message)) => AccessVerdict::Unavailable(AppError::UpstreamUnavailable(message)),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn writes_need_the_boards_origin_even_when_open() {
        let open = Mode::Open;
        assert_eq!(admit(Gate::Public, false, Mode::Unconfigured), Admission::Pass);
        assert!(matches!(admit(Gate::ViewerWrite, false, open), Admission::Refuse(AppError::Forbidden(_))));
        assert_eq!(admit(Gate::ViewerWrite, true, open), Admission::Pass);
        assert_eq!(admit(Gate::Viewer, false, open), Admission::Pass);
        let protected = Mode::Protected { token: true, access: false };
        assert_eq!(admit(Gate::Viewer, true, protected), Admission::SignIn);
        assert!(
            matches!(admit(Gate::Viewer, true, Mode::Unconfigured), Admission::Refuse(AppError::Unavailable(m)) if m == HOW_TO_CONFIGURE)
        );
        assert_eq!(admit(Gate::ViewerWrite, true, Mode::Misconfigured), Admission::Misconfigured);
    }

    #[test]
    fn the_lazy_gate_reads_only_the_facts_its_gate_needs_and_agrees_with_admit() {
        let modes =
            [Mode::Open, Mode::Unconfigured, Mode::Misconfigured, Mode::Protected { token: true, access: false }];
        for gate in [Gate::Public, Gate::Viewer, Gate::ViewerWrite] {
            for mode in modes {
                for origin in [true, false] {
                    let (read_origin, read_mode) = (std::cell::Cell::new(false), std::cell::Cell::new(false));
                    let lazy = admit_lazily(
                        gate,
                        || {
                            read_origin.set(true);
                            origin
                        },
                        || {
                            read_mode.set(true);
                            mode
                        },
                    );
                    assert_eq!(lazy, admit(gate, origin, mode), "{gate:?} {mode:?} {origin}");
                    assert_eq!(read_mode.get(), gate != Gate::Public, "{gate:?}: the mode");
                    assert_eq!(read_origin.get(), gate == Gate::ViewerWrite, "{gate:?}: the origin");
                }
            }
        }
    }

    #[test]
    fn a_page_goes_to_the_login_form_only_without_a_session_in_token_mode() {
        let unauth = AppError::Unauthenticated;
        assert_eq!(refusal_page(&Route::Page, true, &unauth), RefusalPage::LoginForm);
        assert_eq!(refusal_page(&Route::Page, false, &unauth), RefusalPage::Notice);
        assert_eq!(refusal_page(&Route::Page, true, &AppError::Unavailable("x".into())), RefusalPage::Notice);
        assert_eq!(refusal_page(&Route::Items, true, &unauth), RefusalPage::Json);
    }

    use super::*;
    use crate::config::AccessConfig;

    pub(super) const TOKEN: &str = "0123456789abcdef0123456789abcdef";

    /// A configuration with the token login and/or Access (also used by
    /// `sign_in`'s tests).
    pub(super) fn cfg(token: bool, access: bool) -> Config {
        Config {
            dashboard_token: token.then(|| TOKEN.to_string()),
            access: access.then(|| AccessConfig { aud: "aud".into(), team_origin: "https://team.example".into() }),
            ..Config::default()
        }
    }

    #[test]
    fn the_mode_follows_the_settings_and_the_host() {
        let of = |c: &Config, host: &str| Mode::of(c, host, false);
        assert_eq!(of(&cfg(false, false), "localhost"), Mode::Open);
        assert_eq!(of(&cfg(false, false), "127.0.0.1"), Mode::Open);
        assert_eq!(of(&cfg(false, false), "[::1]"), Mode::Open);
        assert_eq!(of(&cfg(false, false), "board.example.workers.dev"), Mode::Unconfigured);
        assert_eq!(of(&cfg(false, false), "localhost.evil.com"), Mode::Unconfigured);
        assert_eq!(of(&cfg(false, false), "127.board.example.com"), Mode::Unconfigured);
        assert_eq!(of(&cfg(false, false), "127.0.0.2"), Mode::Open);
        assert_eq!(of(&cfg(true, false), "localhost"), Mode::Protected { token: true, access: false });
        assert_eq!(of(&cfg(true, true), "x.dev").name(), "access");
        assert_eq!(of(&cfg(true, false), "x.dev").name(), "token");
    }

    #[test]
    fn a_forwarded_request_to_loopback_is_not_local() {
        assert_eq!(Mode::of(&cfg(false, false), "localhost", true), Mode::Unconfigured);
        assert_eq!(Mode::of(&cfg(false, false), "127.0.0.1", true), Mode::Unconfigured);
        assert_eq!(Mode::of(&cfg(true, false), "localhost", true), Mode::Protected { token: true, access: false });
        let only = |name: &'static str, value: &'static str| move |h: &str| (h == name).then(|| value.to_string());
        for h in FORWARDING_HEADERS {
            assert!(forwarded(only(h, "203.0.113.7")), "{h}");
        }
        assert!(!forwarded(|_| None));
        assert!(!forwarded(only("X-Forwarded-Proto", "https")), "not a relay by itself");
        // What wrangler dev adds for a local browser, and nothing else.
        assert!(!forwarded(only("CF-Connecting-IP", "127.0.0.1")));
        assert!(!forwarded(only("CF-Connecting-IP", "::1")));
        assert!(!forwarded(only("CF-Connecting-IP", "::ffff:127.0.0.1")));
        assert!(forwarded(only("CF-Connecting-IP", "::ffff:203.0.113.7")));
        assert!(forwarded(only("CF-Connecting-IP", "127.0.0.1.evil")));
        assert!(forwarded(only("X-Forwarded-For", "127.0.0.1")), "a relay, whatever it claims");
    }

    #[test]
    fn a_short_token_or_a_bad_access_setting_refuses_protected_mode() {
        let short = Config { dashboard_token: Some("x".repeat(MIN_TOKEN_CHARS - 1)), ..Config::default() };
        assert_eq!(Mode::of(&short, "board.example.com", false), Mode::Misconfigured);
        assert_eq!(Mode::of(&short, "localhost", false), Mode::Misconfigured, "not even locally");
        let problems = config_problems(&short);
        assert!(problems.len() == 1 && problems[0].contains("at least 32"), "{problems:?}");
        // Characters, not bytes: 31 two-byte characters are still too short.
        let multibyte = Config { dashboard_token: Some("é".repeat(MIN_TOKEN_CHARS - 1)), ..Config::default() };
        assert_eq!(Mode::of(&multibyte, "x.dev", false), Mode::Misconfigured);
        let exact = Config { dashboard_token: Some("x".repeat(MIN_TOKEN_CHARS)), ..Config::default() };
        assert_eq!(Mode::of(&exact, "x.dev", false).name(), "token");
        let bad_access = Config { access_error: Some("ACCESS_TEAM_DOMAIN …".into()), ..cfg(true, false) };
        assert_eq!(Mode::of(&bad_access, "x.dev", false), Mode::Misconfigured);
        assert_eq!(Mode::Misconfigured.name(), "misconfigured");
    }

    #[test]
    fn writes_need_the_boards_own_origin() {
        let own = "https://board.example";
        assert!(same_origin(own, Some("https://board.example"), None));
        assert!(same_origin(own, Some("HTTPS://BOARD.EXAMPLE"), Some("cross-site")));
        assert!(!same_origin(own, Some("https://evil.example"), Some("same-origin")));
        assert!(!same_origin(own, Some("null"), None));
        assert!(same_origin(own, None, Some("same-origin")));
        assert!(!same_origin(own, None, Some("same-site")));
        assert!(!same_origin(own, None, None));
    }

    #[test]
    fn cookies_and_form_fields_are_read_exactly() {
        let h = Some("a=1; sk_session=v1.2.ab; sk_session_x=no");
        assert_eq!(cookie(h, "sk_session"), Some("v1.2.ab"));
        assert_eq!(cookie(h, "b"), None);
        assert_eq!(cookie(None, "a"), None);
        assert_eq!(form_field("token=a%2Bb+c&next=%2Ferrors", "token").as_deref(), Some("a+b c"));
        assert_eq!(form_field("token=a&next=%2Ferrors", "next").as_deref(), Some("/errors"));
        assert_eq!(form_field("token=%zz", "token"), None);
        assert_eq!(form_field("", "token"), None);
    }

    #[test]
    fn the_notice_page_escapes_its_message() {
        let html = notice_html("Set <DASHBOARD_TOKEN> & retry");
        assert!(html.contains("Set &lt;DASHBOARD_TOKEN&gt; &amp; retry"), "{html}");
    }

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(safe_next(Some("/errors.html?level=error")), "/errors.html?level=error");
        for bad in ["//evil.example", "/\\evil", "https://evil.example", "javascript:x", "", "/a\nb"] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad:?}");
        }
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn an_access_check_signs_in_refuses_or_is_unavailable() {
        assert_eq!(
            access_verdict(Ok(Some("jane@example.com".into()))),
            AccessVerdict::Viewer("jane@example.com".into())
        );
        assert_eq!(access_verdict(Ok(None)), AccessVerdict::Viewer("Access user".into()));
        assert_eq!(access_verdict(Err(Refusal::Token("expired"))), AccessVerdict::Refused("expired"));
        let AccessVerdict::Unavailable(e) = access_verdict(Err(Refusal::KeysUnavailable("certs down".into()))) else {
            panic!()
        };
        assert_eq!(e.status(), 503);
    }
}
