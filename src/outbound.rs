//! Outbound API calls as data: what to send, what came back, and whether a
//! failure is worth retrying. The shell performs the call; the rules live here.

use serde::de::DeserializeOwned;

/// One HTTP request to the Sentry (or GitHub) API.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpCall {
    pub method: &'static str,
    pub url: String,
    /// `Authorization: Bearer …`; `None` for the token exchange, which
    /// authenticates with the client id and secret in the body.
    pub bearer: Option<String>,
    /// A JSON body.
    pub body: Option<String>,
    /// Further request headers (GitHub wants `X-GitHub-Api-Version`).
    pub headers: Vec<(&'static str, String)>,
}

/// What came back, with only the headers the core looks at.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HttpReply {
    pub status: u16,
    pub retry_after: Option<String>,
    pub link: Option<String>,
    /// A redirect's target: reported, never followed.
    pub location: Option<String>,
    /// `x-ratelimit-remaining` (GitHub) or `X-Sentry-Rate-Limit-Remaining`.
    pub rate_remaining: Option<String>,
    /// `x-ratelimit-reset` or `X-Sentry-Rate-Limit-Reset`: epoch seconds.
    pub rate_reset: Option<String>,
    /// When the reply arrived, epoch seconds: turns `rate_reset` into a wait.
    pub received_secs: i64,
    pub body: String,
}

/// Why a call failed, and whether the job should try again.
#[derive(Debug, Clone, PartialEq)]
pub enum CallError {
    /// Worth another attempt: 5xx, 429, 408, a timeout or a network error.
    /// `after` is the server's `Retry-After`, in seconds, when it sent one.
    Retryable { after: Option<u32>, detail: String },
    /// Retrying cannot help (e.g. 400/403: a used grant code, a revoked token).
    Permanent { detail: String },
}

/// A job's follow-up the queue did not take is worth retrying.
impl From<crate::error::QueueError> for CallError {
    fn from(e: crate::error::QueueError) -> Self {
        CallError::Retryable { after: None, detail: e.to_string() }
    }
}

impl CallError {
    pub fn detail(&self) -> &str {
        match self {
            CallError::Retryable { detail, .. } | CallError::Permanent { detail } => detail,
        }
    }
}

/// The largest response excerpt kept in an error message.
const EXCERPT_CHARS: usize = 200;

/// Sorts a reply into success or a typed failure. `what` names the call in
/// the error text (never the token or the body sent).
pub fn check(what: &str, reply: &HttpReply) -> Result<(), CallError> {
    let detail = || format!("{what}: HTTP {} {}", reply.status, excerpt(&reply.body));
    match reply.status {
        200..=299 => Ok(()),
        // The shell fetches with `redirect: manual`: following would send the
        // token to the redirect's target, wherever that is.
        300..=399 => Err(CallError::Permanent { detail: redirect_detail(what, reply) }),
        408 | 429 | 500..=599 => Err(CallError::Retryable { after: wait_secs(reply), detail: detail() }),
        // GitHub answers 403 when a rate limit is hit: either with
        // `Retry-After` (secondary limits) or with nothing remaining.
        403 if rate_limited(reply) => Err(CallError::Retryable { after: wait_secs(reply), detail: detail() }),
        _ => Err(CallError::Permanent { detail: detail() }),
    }
}

fn redirect_detail(what: &str, reply: &HttpReply) -> String {
    let to = reply.location.as_deref().map_or_else(|| "nowhere".to_string(), excerpt);
    format!("{what}: HTTP {} redirect to {to} not followed (calls go to the configured API base only)", reply.status)
}

/// How long the server asked us to wait: `Retry-After` first, else until
/// the rate-limit window resets.
fn wait_secs(reply: &HttpReply) -> Option<u32> {
    reply.retry_after.as_deref().and_then(retry_after_secs).or_else(|| {
        let reset = reply.rate_reset.as_deref()?.trim().parse::<f64>().ok()? as i64;
        Some(u32::try_from(reset.saturating_sub(reply.received_secs)).unwrap_or(0).max(1))
    })
}

fn rate_limited(reply: &HttpReply) -> bool {
    reply.retry_after.is_some() || reply.rate_remaining.as_deref().map(str::trim) == Some("0")
}

/// A timeout or network failure: always retryable.
pub fn unreachable(what: &str, why: &str) -> CallError {
    CallError::Retryable { after: None, detail: format!("{what}: {}", excerpt(why)) }
}

/// Decodes a successful reply's JSON body. A body that is not JSON at all,
/// or ends early (a proxy's error page, a transfer cut short), may be
/// whole next time: retryable. Well-formed JSON of another shape would be
/// the same on every attempt: permanent.
pub fn json<T: DeserializeOwned>(what: &str, reply: &HttpReply) -> Result<T, CallError> {
    check(what, reply)?;
    serde_json::from_str(&reply.body).map_err(|e| {
        let detail = format!("{what}: unexpected body: {e}");
        match e.classify() {
            serde_json::error::Category::Data => CallError::Permanent { detail },
            _ => CallError::Retryable { after: None, detail },
        }
    })
}

/// `Retry-After` in seconds. The HTTP-date form is not parsed: the backoff
/// then applies, which is never shorter than a few seconds anyway.
fn retry_after_secs(v: &str) -> Option<u32> {
    v.trim().parse::<u32>().ok()
}

fn excerpt(s: &str) -> String {
    let flat: String = s.chars().map(|c| if c.is_control() { ' ' } else { c }).take(EXCERPT_CHARS).collect();
    flat.trim().to_string()
}

/// The `cursor` of the `rel="next"` part of a Sentry `Link` header, when it
/// says more results exist. The URL itself is not followed: the next page is
/// asked of the configured API base, whatever host the header names.
pub fn next_cursor(link: Option<&str>) -> Option<String> {
    link?.split(',').find_map(|part| {
        let params = part.split_once('>')?.1;
        if !(params.contains("rel=\"next\"") && params.contains("results=\"true\"")) {
            return None;
        }
        let cursor = params.split(';').find_map(|p| p.trim().strip_prefix("cursor=\""))?;
        Some(cursor.trim_end_matches('"').to_string()).filter(|c| !c.is_empty())
    })
}

/// The `rel="next"` URL of a Sentry `Link` header, when it says more results
/// exist. Whoever follows it checks its origin first (`on_origin`).
pub fn next_page(link: Option<&str>) -> Option<String> {
    link?.split(',').find_map(|part| {
        let (url, params) = part.trim().split_once('>')?;
        let is_next = params.contains("rel=\"next\"") && params.contains("results=\"true\"");
        is_next.then(|| url.trim_start_matches('<').to_string())
    })
}

/// The origin of an absolute http(s) URL: scheme, lowercased host and port
/// (the scheme's default when none is given). Anything a browser's URL
/// parser could read differently is refused rather than guessed at:
/// userinfo (`https://sentry.io@evil.com/`), scheme-relative or relative
/// URLs (`//evil`), percent-escapes, backslashes, whitespace, IPv6 literals.
pub fn origin(url: &str) -> Option<(String, String, u16)> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "https" => 443,
        "http" => 80,
        _ => return None,
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (host, port) = match rest[..end].split_once(':') {
        Some((host, "")) => (host, default_port),
        Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => (host, port.parse().ok()?),
        Some(_) => return None,
        None => (&rest[..end], default_port),
    };
    let host_ok = !host.is_empty() && host.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
    host_ok.then(|| (scheme, host.to_ascii_lowercase(), port))
}

/// Whether `url` is on the configured API `base`'s origin: the only place a
/// call carrying our token (or client secret) may go.
pub fn same_origin(base: &str, url: &str) -> bool {
    matches!((origin(base), origin(url)), (Some(a), Some(b)) if a == b)
}

/// Refuses a call to any origin but `base`'s, before it is made.
pub fn on_origin(base: &str, call: HttpCall) -> Result<HttpCall, CallError> {
    if same_origin(base, &call.url) {
        return Ok(call);
    }
    let detail = format!("refused to send a token to {:?}: not the configured API origin", excerpt(&call.url));
    Err(CallError::Permanent { detail })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn reply(status: u16, retry_after: Option<&str>) -> HttpReply {
        HttpReply {
            status,
            retry_after: retry_after.map(str::to_string),
            body: "{\"detail\":\"x\"}".into(),
            ..Default::default()
        }
    }

    #[test]
    fn server_errors_and_rate_limits_are_retryable() {
        assert!(check("t", &reply(201, None)).is_ok());
        assert_eq!(
            check("t", &reply(429, Some("7"))),
            Err(CallError::Retryable { after: Some(7), detail: "t: HTTP 429 {\"detail\":\"x\"}".into() })
        );
        assert!(matches!(check("t", &reply(503, None)), Err(CallError::Retryable { after: None, .. })));
        assert!(matches!(
            check("t", &reply(429, Some("Wed, 21 Oct 2015 07:28:00 GMT"))),
            Err(CallError::Retryable { after: None, .. })
        ));
    }

    #[test]
    fn rate_limit_resets_become_the_retry_delay() {
        let sentry = HttpReply {
            status: 429,
            rate_remaining: Some("0".into()),
            rate_reset: Some("1000030".into()),
            received_secs: 1_000_000,
            ..Default::default()
        };
        assert!(matches!(check("t", &sentry), Err(CallError::Retryable { after: Some(30), .. })));
        let github = HttpReply { status: 403, ..sentry.clone() };
        assert!(matches!(check("t", &github), Err(CallError::Retryable { after: Some(30), .. })));
        let secondary = HttpReply { status: 403, retry_after: Some("60".into()), ..Default::default() };
        assert!(matches!(check("t", &secondary), Err(CallError::Retryable { after: Some(60), .. })));
        let past = HttpReply { rate_reset: Some("999990".into()), ..sentry };
        assert!(matches!(check("t", &past), Err(CallError::Retryable { after: Some(1), .. })));
        let forbidden = HttpReply { status: 403, rate_remaining: Some("4999".into()), ..Default::default() };
        assert!(matches!(check("t", &forbidden), Err(CallError::Permanent { .. })));
    }

    #[test]
    fn redirects_are_refused_and_say_where_they_pointed() {
        for status in [301, 302, 303, 307, 308] {
            let r = HttpReply { status, location: Some("http://127.0.0.1:9/steal".into()), ..Default::default() };
            let e = check("list members", &r).unwrap_err();
            assert!(matches!(e, CallError::Permanent { .. }), "{status}: {e:?}");
            assert!(e.detail().contains("redirect to http://127.0.0.1:9/steal not followed"), "{e:?}");
        }
    }

    #[test]
    fn client_errors_are_permanent() {
        for status in [400, 401, 403, 404, 409] {
            assert!(matches!(check("t", &reply(status, None)), Err(CallError::Permanent { .. })), "{status}");
        }
    }

    #[test]
    fn unreadable_bodies_are_retried_and_bodies_of_another_shape_are_not() {
        let ok = |body: &str| HttpReply { status: 200, body: body.into(), ..Default::default() };
        for garbled in [r#"[{"id":"1","email":"cut@exa"#, "<html>502 Bad Gateway</html>", ""] {
            let e = json::<Vec<Value>>("t", &ok(garbled)).unwrap_err();
            assert!(matches!(e, CallError::Retryable { after: None, .. }), "{garbled:?}: {e:?}");
        }
        let e = json::<Vec<Value>>("t", &ok(r#"{"detail":"not a list"}"#)).unwrap_err();
        assert!(matches!(e, CallError::Permanent { .. }), "{e:?}");
        assert!(e.detail().starts_with("t: unexpected body: "), "{e:?}");
    }

    #[test]
    fn long_or_multiline_bodies_are_cut_in_errors() {
        let r = HttpReply { status: 500, body: format!("a\nb{}", "z".repeat(500)), ..Default::default() };
        let detail = check("t", &r).unwrap_err().detail().to_string();
        assert!(detail.len() < 260 && !detail.contains('\n'), "{detail}");
    }

    #[test]
    fn the_next_page_is_followed_only_while_results_are_true() {
        let link = r#"<https://s/api/0/x/?&cursor=0:0:1>; rel="previous"; results="false"; cursor="0:0:1", <https://s/api/0/x/?&cursor=0:100:0>; rel="next"; results="true"; cursor="0:100:0""#;
        assert_eq!(next_page(Some(link)).as_deref(), Some("https://s/api/0/x/?&cursor=0:100:0"));
        let last = link.replace(r#"rel="next"; results="true""#, r#"rel="next"; results="false""#);
        assert_eq!(next_page(Some(&last)), None);
        assert_eq!(next_page(None), None);
        assert_eq!(next_cursor(Some(link)).as_deref(), Some("0:100:0"));
        assert_eq!(next_cursor(Some(&last)), None);
        assert_eq!(next_cursor(Some("garbage")), None);
    }

    #[test]
    fn only_the_configured_origin_counts_as_the_same() {
        let base = "https://sentry.io";
        for same in [
            "https://sentry.io/api/0/x/?cursor=1",
            "https://SENTRY.io/api/0/",
            "HTTPS://sentry.io:443/api/",
            "https://sentry.io:/api/",
            "https://sentry.io",
            "https://sentry.io?x",
        ] {
            assert!(same_origin(base, same), "{same}");
        }
        for other in [
            "https://sentry.io@evil.com/",
            "https://user:pw@sentry.io/",
            "https://evil.com/https://sentry.io/",
            "//evil.com/api/0/",
            "/api/0/organizations/",
            "http://sentry.io/api/0/",
            "https://sentry.io:8443/api/0/",
            "https://sentry.io.evil.com/",
            "https://sentry.io\\@evil.com/",
            "https://sentry%2eio/",
            " https://sentry.io/",
            "https://sentry.io\t/",
            "https://[::1]/",
            "ftp://sentry.io/",
            "https://sentry.io:99999/",
            "",
        ] {
            assert!(!same_origin(base, other), "{other:?}");
        }
        assert!(same_origin("http://127.0.0.1:8080", "http://127.0.0.1:8080/api/0/members/?cursor=0:100:0"));
        assert!(!same_origin("http://127.0.0.1:8080", "http://127.0.0.1:8081/api/0/members/"));
        assert!(!same_origin("not a url", "not a url"), "an unreadable base matches nothing");
    }

    #[test]
    fn a_call_to_another_origin_is_refused_before_it_is_made() {
        let call = |url: &str| HttpCall {
            method: "GET",
            url: url.into(),
            bearer: Some("s3cr3t-bearer".into()),
            body: None,
            headers: vec![],
        };
        assert!(on_origin("https://sentry.io", call("https://sentry.io/api/0/")).is_ok());
        let e = on_origin("https://sentry.io", call("https://evil.com/steal")).unwrap_err();
        assert!(matches!(e, CallError::Permanent { .. }), "{e:?}");
        assert!(e.detail().contains("evil.com") && !e.detail().contains("s3cr3t"), "{e:?}");
    }
}
