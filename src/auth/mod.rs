//! Who may see and change the board. Pure decisions; the shell supplies the
//! request's facts and, for Cloudflare Access, checks the RS256 signature
//! with WebCrypto.
//!
//! Modes: a `DASHBOARD_TOKEN` login (a signed session cookie), Cloudflare
//! Access (`ACCESS_AUD` + `ACCESS_TEAM_DOMAIN`), both, or neither. With
//! neither, a worker reached on a loopback address (`wrangler dev`) is open
//! and says so; anywhere else it refuses to serve data.

pub mod jwt;
pub mod session;

use crate::config::Config;

/// How this worker authenticates viewers, for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Nothing configured, reached on loopback: open, with a banner.
    Open,
    /// `DASHBOARD_TOKEN` and/or Cloudflare Access.
    Protected { token: bool, access: bool },
    /// Nothing configured on a public host: no data is served.
    Unconfigured,
}

impl Mode {
    pub fn of(cfg: &Config, host: &str) -> Mode {
        let token = cfg.dashboard_token.is_some();
        let access = cfg.access.is_some();
        match (token || access, is_loopback(host)) {
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
        }
    }
}

/// What the page is told about how to configure an unprotected deployment.
pub const HOW_TO_CONFIGURE: &str = "This worker has no access control configured, so it serves no data. \
Set DASHBOARD_TOKEN (`wrangler secret put DASHBOARD_TOKEN`) for a login form, or put the worker behind \
Cloudflare Access and set ACCESS_AUD and ACCESS_TEAM_DOMAIN.";

/// `wrangler dev` answers on loopback; a deployed worker is never reached
/// under these names, since Cloudflare routes by host.
pub fn is_loopback(host: &str) -> bool {
    let h = host.trim().trim_end_matches('.').to_ascii_lowercase();
    let ipv4_loopback = h.starts_with("127.") && h.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    h == "localhost" || h.ends_with(".localhost") || h == "::1" || h == "[::1]" || ipv4_loopback
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
        (percent_decode(k)? == name).then(|| percent_decode(v)).flatten()
    })
}

/// `%XX` and `+` decoded; `None` for a broken escape or non-UTF-8.
pub fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = s.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::AccessConfig;

    fn cfg(token: bool, access: bool) -> Config {
        Config {
            dashboard_token: token.then(|| "t0ken".to_string()),
            access: access.then(|| AccessConfig { aud: "aud".into(), team_origin: "https://team.example".into() }),
            ..Config::default()
        }
    }

    #[test]
    fn the_mode_follows_the_settings_and_the_host() {
        assert_eq!(Mode::of(&cfg(false, false), "localhost"), Mode::Open);
        assert_eq!(Mode::of(&cfg(false, false), "127.0.0.1"), Mode::Open);
        assert_eq!(Mode::of(&cfg(false, false), "[::1]"), Mode::Open);
        assert_eq!(Mode::of(&cfg(false, false), "board.example.workers.dev"), Mode::Unconfigured);
        assert_eq!(Mode::of(&cfg(false, false), "localhost.evil.com"), Mode::Unconfigured);
        assert_eq!(Mode::of(&cfg(false, false), "127.board.example.com"), Mode::Unconfigured);
        assert_eq!(Mode::of(&cfg(false, false), "127.0.0.2"), Mode::Open);
        assert_eq!(Mode::of(&cfg(true, false), "localhost"), Mode::Protected { token: true, access: false });
        assert_eq!(Mode::of(&cfg(true, true), "x.dev").name(), "access");
        assert_eq!(Mode::of(&cfg(true, false), "x.dev").name(), "token");
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
    fn next_stays_on_this_site() {
        assert_eq!(safe_next(Some("/errors.html?level=error")), "/errors.html?level=error");
        for bad in ["//evil.example", "/\\evil", "https://evil.example", "javascript:x", "", "/a\nb"] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad:?}");
        }
        assert_eq!(safe_next(None), "/");
    }
}
