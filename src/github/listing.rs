//! The GitHub REST reads of the reconcile: an organization's teams and a
//! team's members, a page at a time (`per_page=100`, the `Link` header's
//! `rel="next"`), with GitHub's rate limits read from the answer.

use super::wire::is_name;
use crate::config::GithubConfig;
use crate::outbound::{self, CallError, HttpCall, HttpReply};
use crate::percent::encode;
use crate::sentry::wire::{opt_id, opt_text};
use serde::de::DeserializeOwned;
use serde::Deserialize;

/// GitHub's largest page.
pub const PER_PAGE: u32 = 100;

/// A team as `GET /orgs/{org}/teams` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub id: String,
    pub slug: String,
}

/// One page: its items, the next page's URL, and how long to wait before
/// asking for it (the rate-limit window is used up: `x-ratelimit-remaining`
/// is 0 until `x-ratelimit-reset`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
    pub wait_secs: u32,
}

pub fn teams_url(github: &GithubConfig, org: &str) -> String {
    format!("{}/orgs/{}/teams?per_page={PER_PAGE}", github.api_base, encode(org))
}

pub fn members_url(github: &GithubConfig, org: &str, slug: &str) -> String {
    format!("{}/orgs/{}/teams/{}/members?per_page={PER_PAGE}", github.api_base, encode(org), encode(slug))
}

/// A GET with `GITHUB_TOKEN`, refused unless `url` is on `GITHUB_API_BASE`'s
/// origin: a `Link` header is GitHub's answer, and the token goes nowhere else.
pub fn get(github: &GithubConfig, url: String) -> Result<HttpCall, CallError> {
    let token = github.token.clone().ok_or_else(|| CallError::Permanent {
        detail: "GITHUB_TOKEN is not set: the reconcile needs a token that can read the organization's teams \
                 (read:org)"
            .into(),
    })?;
    let call = HttpCall {
        method: "GET",
        url,
        bearer: Some(token),
        body: None,
        headers: vec![
            ("Accept", "application/vnd.github+json".to_string()),
            ("X-GitHub-Api-Version", "2022-11-28".to_string()),
        ],
    };
    outbound::on_origin(&github.api_base, call)
}

#[derive(Deserialize)]
struct WireTeam {
    #[serde(default, deserialize_with = "opt_id")]
    id: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    slug: Option<String>,
}

#[derive(Deserialize)]
struct WireUser {
    #[serde(default, deserialize_with = "opt_text")]
    login: Option<String>,
}

/// A page of teams; a team without an id or a usable slug is skipped.
pub fn teams(reply: &HttpReply) -> Result<Page<Listed>, CallError> {
    let page = page::<WireTeam>("list GitHub teams", reply)?;
    Ok(page.map(|t| Some(Listed { id: t.id.filter(|id| is_name(id))?, slug: t.slug.filter(|s| is_name(s))? })))
}

/// A page of a team's members (their logins). GitHub lists the members of
/// the team's child teams too: who GitHub counts as on the team.
pub fn members(reply: &HttpReply) -> Result<Page<String>, CallError> {
    let page = page::<WireUser>("list GitHub team members", reply)?;
    Ok(page.map(|u| u.login.filter(|l| is_name(l))))
}

impl<T> Page<T> {
    /// The same page with each item mapped; `None` drops it.
    fn map<U>(self, f: impl FnMut(T) -> Option<U>) -> Page<U> {
        Page { items: self.items.into_iter().filter_map(f).collect(), next: self.next, wait_secs: self.wait_secs }
    }
}

fn page<T: DeserializeOwned>(what: &str, reply: &HttpReply) -> Result<Page<T>, CallError> {
    if secondary_limit(reply) {
        let detail = format!("{what}: HTTP {}: GitHub's secondary rate limit", reply.status);
        return Err(CallError::Retryable { after: Some(SECONDARY_WAIT_SECS), detail });
    }
    let items: Vec<T> = outbound::json(what, reply)?;
    Ok(Page { items, next: next_link(reply.link.as_deref()), wait_secs: window_wait(reply) })
}

/// GitHub: "otherwise, wait for at least one minute" when a rate-limit
/// answer says neither `retry-after` nor a reset.
const SECONDARY_WAIT_SECS: u32 = 60;

/// A 403/429 that names a rate limit but carries neither `retry-after` nor
/// `x-ratelimit-remaining: 0` (those `outbound::check` already retries).
fn secondary_limit(reply: &HttpReply) -> bool {
    let headers_say = reply.retry_after.is_some() || reply.rate_remaining.as_deref().map(str::trim) == Some("0");
    matches!(reply.status, 403 | 429) && !headers_say && reply.body.to_ascii_lowercase().contains("rate limit")
}

/// After a successful page: the wait until the window resets when nothing
/// of it remains, else 0.
fn window_wait(reply: &HttpReply) -> u32 {
    if reply.rate_remaining.as_deref().map(str::trim) != Some("0") {
        return 0;
    }
    let reset = reply.rate_reset.as_deref().and_then(|r| r.trim().parse::<f64>().ok()).map_or(0, |r| r as i64);
    let wait = reset.saturating_sub(reply.received_secs).max(1);
    u32::try_from(wait).unwrap_or(u32::MAX)
}

/// The `rel="next"` URL of a GitHub `Link` header
/// (`<https://api.github.com/…&page=2>; rel="next", <…>; rel="last"`).
pub fn next_link(link: Option<&str>) -> Option<String> {
    link?.split(',').find_map(|part| {
        let (url, params) = part.trim().split_once('>')?;
        let next = params.split(';').any(|p| p.trim().eq_ignore_ascii_case("rel=\"next\""));
        next.then(|| url.trim_start_matches('<').trim().to_string()).filter(|u| !u.is_empty())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn github() -> GithubConfig {
        GithubConfig { token: Some("ght".into()), api_base: "https://api.github.com".into(), ..Default::default() }
    }

    fn reply(status: u16, body: &str) -> HttpReply {
        HttpReply { status, body: body.into(), received_secs: 1_000, ..Default::default() }
    }

    #[test]
    fn the_calls_carry_the_token_and_github_headers_and_stay_on_the_api_origin() {
        let g = github();
        assert_eq!(teams_url(&g, "Octo Org"), "https://api.github.com/orgs/Octo%20Org/teams?per_page=100");
        assert_eq!(members_url(&g, "acme", "web"), "https://api.github.com/orgs/acme/teams/web/members?per_page=100");
        let call = get(&g, teams_url(&g, "acme")).unwrap();
        assert_eq!((call.method, call.bearer.as_deref()), ("GET", Some("ght")));
        assert!(call.headers.contains(&("X-GitHub-Api-Version", "2022-11-28".to_string())));
        assert!(matches!(get(&g, "https://evil.example/orgs".into()), Err(CallError::Permanent { .. })));
        let none = GithubConfig { token: None, ..g };
        let err = get(&none, "https://api.github.com/orgs/acme/teams".into()).unwrap_err();
        assert!(err.detail().contains("GITHUB_TOKEN"), "{err:?}");
    }

    #[test]
    fn pages_read_items_and_the_next_link() {
        let mut r = reply(200, r#"[{"id": 42, "slug": "web"}, {"id": 7}, {"id": 8, "slug": "../x"}, {"slug": "y"}]"#);
        r.link = Some(r#"<https://api.github.com/organizations/1/teams?per_page=100&page=2>; rel="next", <https://api.github.com/organizations/1/teams?per_page=100&page=3>; rel="last""#.into());
        let page = teams(&r).unwrap();
        assert_eq!(page.items, vec![Listed { id: "42".into(), slug: "web".into() }]);
        assert_eq!(page.next.as_deref(), Some("https://api.github.com/organizations/1/teams?per_page=100&page=2"));
        assert_eq!(page.wait_secs, 0);
        let m = members(&reply(200, r#"[{"login": "octocat"}, {"login": null}, {"id": 3}]"#)).unwrap();
        assert_eq!((m.items, m.next), (vec!["octocat".to_string()], None));
        let last =
            Some(r#"<https://api.github.com/x?page=1>; rel="prev", <https://api.github.com/x?page=1>; rel="first""#);
        assert_eq!(next_link(last), None);
        assert!(matches!(teams(&reply(200, "{}")), Err(CallError::Permanent { .. })), "not a list");
    }

    #[test]
    fn rate_limits_are_waited_out() {
        let mut limited = reply(403, r#"{"message": "API rate limit exceeded"}"#);
        limited.rate_remaining = Some("0".into());
        limited.rate_reset = Some("1090".into());
        assert!(matches!(teams(&limited), Err(CallError::Retryable { after: Some(90), .. })));
        let mut retry = reply(429, "slow down");
        retry.retry_after = Some("30".into());
        assert!(matches!(members(&retry), Err(CallError::Retryable { after: Some(30), .. })));
        let secondary = reply(403, r#"{"message": "You have exceeded a secondary rate limit."}"#);
        assert!(matches!(members(&secondary), Err(CallError::Retryable { after: Some(60), .. })));
        assert!(matches!(
            members(&reply(403, r#"{"message": "Must have admin rights"}"#)),
            Err(CallError::Permanent { .. })
        ));
        let mut last_of_window = reply(200, "[]");
        last_of_window.rate_remaining = Some("0".into());
        last_of_window.rate_reset = Some("1300".into());
        assert_eq!(members(&last_of_window).unwrap().wait_secs, 300, "the next call waits for the reset");
        last_of_window.rate_reset = None;
        assert_eq!(members(&last_of_window).unwrap().wait_secs, 1);
    }
}
