//! Organization members, mirrored so the board (and Sentry's select field)
//! can offer the users of an installation.

use super::wire::{opt_id, opt_text};
use crate::config::Config;
use crate::outbound::{self, CallError, HttpCall, HttpReply};
use crate::store::installations::Member;
use serde::Deserialize;

/// Stops a runaway pagination; 50 pages of 100 is a very large organization.
pub const MAX_PAGES: usize = 50;

#[derive(Debug, Deserialize)]
struct WireMember {
    #[serde(default, deserialize_with = "opt_id")]
    id: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    email: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    name: Option<String>,
    /// `null` for a pending invite.
    #[serde(default)]
    user: Option<WireUser>,
}

#[derive(Debug, Deserialize)]
struct WireUser {
    #[serde(default, deserialize_with = "opt_id")]
    id: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    name: Option<String>,
}

/// What follows a page of the listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AfterPage {
    Next(String),
    /// The listing is complete: members not seen in it left.
    Prune,
    /// `MAX_PAGES` read and more remain: keep what was read, prune nothing.
    Stop,
}

pub fn after_page(pages_read: usize, next: Option<String>) -> AfterPage {
    match next {
        None => AfterPage::Prune,
        Some(_) if pages_read >= MAX_PAGES => AfterPage::Stop,
        Some(url) => AfterPage::Next(url),
    }
}

/// `GET /api/0/organizations/{org}/members/`, the first page.
pub fn first_page(cfg: &Config, org_slug: &str, token: &str) -> HttpCall {
    get(format!("{}/api/0/organizations/{}/members/", cfg.sentry_api_base, org_slug), token)
}

/// The next page by URL, as the previous page's `Link` header gave it. The
/// header is the API's answer, not ours: a URL on any origin but
/// `SENTRY_API_BASE`'s is refused, so the bearer never leaves that origin.
pub fn next_page(cfg: &Config, url: String, token: &str) -> Result<HttpCall, CallError> {
    outbound::on_origin(&cfg.sentry_api_base, get(url, token))
}

fn get(url: String, token: &str) -> HttpCall {
    HttpCall { method: "GET", url, bearer: Some(token.to_string()), body: None, headers: vec![] }
}

/// One page's members and the next page's URL. Members without an id are
/// skipped: there is nothing to key them by.
pub fn parse_page(reply: &HttpReply) -> Result<(Vec<Member>, Option<String>), CallError> {
    let wire: Vec<WireMember> = outbound::json("list members", reply)?;
    let members = wire
        .into_iter()
        .filter_map(|m| {
            let member_id = m.id.filter(|id| !id.is_empty())?;
            let (user_id, user_name) = m.user.map_or((None, None), |u| (u.id, u.name));
            Some(Member { member_id, user_id, name: m.name.or(user_name), email: m.email })
        })
        .collect();
    Ok((members, outbound::next_page(reply.link.as_deref())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentrys_member_list_is_read_with_pending_invites() {
        let body = include_str!("../../tests/fixtures/sentry/list-org-members-response.json");
        let reply = HttpReply { status: 200, body: body.into(), ..Default::default() };
        let (members, next) = parse_page(&reply).unwrap();
        assert!(!members.is_empty());
        assert!(members.iter().all(|m| !m.member_id.is_empty()));
        assert_eq!(next, None);
        let invite = r#"[{"id":"9","email":"new@example.com","name":"","user":null},{"email":"no-id@example.com"}]"#;
        let link = r#"<https://s/x/?cursor=0:0:1>; rel="previous"; results="false"; cursor="0:0:1", <https://s/x/?cursor=0:100:0>; rel="next"; results="true"; cursor="0:100:0""#;
        let reply = HttpReply { status: 200, body: invite.into(), link: Some(link.into()), ..Default::default() };
        let (members, next) = parse_page(&reply).unwrap();
        assert_eq!(
            members,
            vec![Member { member_id: "9".into(), user_id: None, name: None, email: Some("new@example.com".into()) }]
        );
        assert_eq!(next.as_deref(), Some("https://s/x/?cursor=0:100:0"));
    }

    #[test]
    fn the_first_page_uses_the_org_slug_and_bearer() {
        let cfg = Config { sentry_api_base: "http://mock".into(), ..Default::default() };
        let call = first_page(&cfg, "acme", "tok");
        assert_eq!(call.url, "http://mock/api/0/organizations/acme/members/");
        assert_eq!(call.bearer.as_deref(), Some("tok"));
    }

    #[test]
    fn a_next_page_on_another_origin_is_refused() {
        let cfg = Config { sentry_api_base: "https://sentry.io".into(), ..Default::default() };
        let next = next_page(&cfg, "https://sentry.io/api/0/organizations/acme/members/?cursor=0:100:0".into(), "tok");
        assert_eq!(next.unwrap().bearer.as_deref(), Some("tok"));
        for evil in
            ["https://sentry.io@evil.com/api/0/", "https://evil.com/api/0/", "//evil.com/x", "http://sentry.io/"]
        {
            assert!(matches!(next_page(&cfg, evil.into(), "tok"), Err(CallError::Permanent { .. })), "{evil}");
        }
    }

    #[test]
    fn only_a_complete_listing_prunes() {
        assert_eq!(after_page(1, None), AfterPage::Prune);
        assert_eq!(after_page(1, Some("u".into())), AfterPage::Next("u".into()));
        assert_eq!(after_page(MAX_PAGES - 1, Some("u".into())), AfterPage::Next("u".into()));
        assert_eq!(after_page(MAX_PAGES, Some("u".into())), AfterPage::Stop, "a runaway listing prunes nothing");
        assert_eq!(after_page(MAX_PAGES, None), AfterPage::Prune);
    }
}
