//! A GitHub login → a Sentry organization member id, in this order: the
//! explicit mapping table, then the member's organization-verified emails
//! matched against Sentry's member search. Only verified emails map a login:
//! the public profile email (`GET /users/{login}`) is whatever the user typed,
//! unverified, so anyone could claim a colleague's address with it. No match
//! is an answer too ("unmapped", with the reason), never a call with an
//! empty id.

use super::wire::is_name;
use crate::config::Config;
use crate::error::AppError;
use crate::outbound::{self, CallError, HttpCall, HttpReply};
use crate::percent::encode;
use crate::sentry::wire::{opt_id, opt_text};
use serde::Deserialize;
use serde_json::json;

/// A row of the mapping table (`github_users`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Mapping {
    pub member_id: Option<String>,
    pub email: Option<String>,
}

/// The next thing to find out about a login.
#[derive(Debug, Clone, PartialEq)]
pub enum Lookup {
    /// Known: the mapping table names the member.
    Member(String),
    /// Search Sentry's members for this email (from the table).
    ByEmail(String),
    /// Ask GitHub for the member's organization-verified emails.
    VerifiedEmails,
}

pub fn first_lookup(mapping: Option<&Mapping>) -> Lookup {
    match mapping {
        Some(Mapping { member_id: Some(id), .. }) => Lookup::Member(id.clone()),
        Some(Mapping { email: Some(email), .. }) => Lookup::ByEmail(email.clone()),
        _ => Lookup::VerifiedEmails,
    }
}

/// At most this many verified emails are searched in Sentry per login.
pub const MAX_EMAILS: usize = 3;

const VERIFIED_EMAILS_QUERY: &str =
    "query($login: String!, $org: String!) { user(login: $login) { organizationVerifiedDomainEmails(login: $org) } }";

/// GraphQL `User.organizationVerifiedDomainEmails(login: org)`: "verified
/// email addresses that match verified domains for a specified organization
/// the user is a member of". GraphQL needs a token; without one (or without
/// the organization's login) there is no verified email to read: `Err(why)`.
pub fn verified_emails_call(cfg: &Config, org: Option<&str>, login: &str) -> Result<HttpCall, String> {
    let token = cfg.github.token.clone().ok_or_else(|| {
        no_verified_email(login, "set GITHUB_TOKEN so the worker can read organization-verified emails")
    })?;
    let org = org.ok_or_else(|| no_verified_email(login, "the event does not name the GitHub organization"))?;
    let body = json!({ "query": VERIFIED_EMAILS_QUERY, "variables": { "login": login, "org": org } });
    Ok(HttpCall {
        method: "POST",
        url: format!("{}/graphql", cfg.github.api_base),
        bearer: Some(token),
        body: Some(body.to_string()),
        headers: vec![
            ("Accept", "application/vnd.github+json".to_string()),
            ("X-GitHub-Api-Version", "2022-11-28".to_string()),
        ],
    })
}

fn no_verified_email(login: &str, why: &str) -> String {
    format!("no verified email for {login}: {why}; or map it with PUT /api/github/users/{login}")
}

#[derive(Deserialize)]
struct GraphqlReply {
    #[serde(default)]
    data: Option<GraphqlData>,
    #[serde(default)]
    errors: Vec<GraphqlError>,
}

#[derive(Deserialize)]
struct GraphqlData {
    #[serde(default)]
    user: Option<GraphqlUser>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GraphqlUser {
    #[serde(default)]
    organization_verified_domain_emails: Option<Vec<Option<String>>>,
}

#[derive(Deserialize)]
struct GraphqlError {
    #[serde(default, deserialize_with = "opt_text")]
    message: Option<String>,
}

/// The verified emails (restricted to `GITHUB_VERIFIED_DOMAINS` when set),
/// or why there are none (`Ok(Err(reason))`: looked, nothing usable).
pub fn verified_emails(cfg: &Config, login: &str, reply: &HttpReply) -> Result<Result<Vec<String>, String>, CallError> {
    let parsed: GraphqlReply = outbound::json("GitHub GraphQL", reply)?;
    let listed = parsed.data.and_then(|d| d.user).and_then(|u| u.organization_verified_domain_emails);
    let Some(listed) = listed else {
        let said = parsed.errors.iter().filter_map(|e| e.message.as_deref()).collect::<Vec<_>>().join("; ");
        return Ok(Err(no_verified_email(login, &format!("GitHub returned none ({said})"))));
    };
    let domains = &cfg.github.verified_domains;
    let emails: Vec<String> = listed
        .into_iter()
        .flatten()
        .map(|e| e.trim().to_string())
        .filter(|e| e.contains('@') && e.len() <= 320)
        .filter(|e| domains.is_empty() || domains.iter().any(|d| in_domain(e, d)))
        .take(MAX_EMAILS)
        .collect();
    if emails.is_empty() {
        return Ok(Err(no_verified_email(login, "none on the organization's verified domains")));
    }
    Ok(Ok(emails))
}

fn in_domain(email: &str, domain: &str) -> bool {
    email.rsplit_once('@').is_some_and(|(_, d)| d.eq_ignore_ascii_case(domain.trim_start_matches('@')))
}

/// `GET /api/0/organizations/{org}/members/?query=email:{email}`.
pub fn member_search_call(cfg: &Config, org: &str, email: &str, bearer: Option<&str>) -> HttpCall {
    HttpCall {
        method: "GET",
        url: format!(
            "{}/api/0/organizations/{}/members/?query={}",
            cfg.sentry_api_base,
            encode(org),
            encode(&format!("email:{email}"))
        ),
        bearer: bearer.map(str::to_string),
        body: None,
        headers: vec![],
    }
}

#[derive(Deserialize)]
struct Member {
    #[serde(default, deserialize_with = "opt_id")]
    id: Option<String>,
    #[serde(default)]
    user: Option<MemberUser>,
}

#[derive(Deserialize)]
struct MemberUser {
    #[serde(default)]
    emails: Vec<UserEmail>,
}

#[derive(Deserialize)]
struct UserEmail {
    #[serde(default, deserialize_with = "opt_text")]
    email: Option<String>,
    #[serde(default)]
    is_verified: Option<bool>,
}

impl Member {
    /// Sentry's `email:` search matches any address on the account,
    /// verified or not, so the match is checked again here against the
    /// user's verified addresses only (a pending invite has no user).
    fn has_email(&self, wanted: &str) -> bool {
        let emails = self.user.iter().flat_map(|u| u.emails.iter());
        emails
            .filter(|e| e.is_verified == Some(true))
            .filter_map(|e| e.email.as_deref())
            .any(|e| e.trim().eq_ignore_ascii_case(wanted.trim()))
    }
}

/// The member id whose verified email matches, or why none does.
pub fn member_for_email(email: &str, reply: &HttpReply) -> Result<Result<String, String>, CallError> {
    let members: Vec<Member> = outbound::json("member search", reply)?;
    Ok(members
        .iter()
        .find(|m| m.has_email(email))
        .and_then(|m| m.id.clone())
        .ok_or_else(|| format!("no Sentry member has the verified email {email}")))
}

/// The body of `PUT /api/github/users/{login}`: `{"member_id": "…"}` or
/// `{"email": "…"}` (or both; the member id wins).
pub fn parse_mapping(login: &str, body: &[u8]) -> Result<Mapping, AppError> {
    #[derive(Deserialize)]
    struct Body {
        #[serde(default, deserialize_with = "opt_id")]
        member_id: Option<String>,
        #[serde(default, deserialize_with = "opt_text")]
        email: Option<String>,
    }
    if !is_name(login) {
        return Err(AppError::BadRequest(format!("{login:?} is not a GitHub login")));
    }
    let b: Body = serde_json::from_slice(body)
        .map_err(|e| AppError::BadRequest(format!("expected {{\"member_id\": \"…\"}} or {{\"email\": \"…\"}}: {e}")))?;
    let member_id = b.member_id.map(|m| m.trim().to_string());
    if member_id.as_deref().is_some_and(|m| !is_name(m)) {
        return Err(AppError::BadRequest("member_id must be a Sentry organization member id".into()));
    }
    let email = b.email.map(|e| e.trim().to_string());
    if email.as_deref().is_some_and(|e| !e.contains('@') || e.len() > 320) {
        return Err(AppError::BadRequest("email is not an email address".into()));
    }
    if member_id.is_none() && email.is_none() {
        return Err(AppError::BadRequest("give member_id (the Sentry organization member id) or email".into()));
    }
    Ok(Mapping { member_id, email })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(status: u16, body: &str) -> HttpReply {
        HttpReply { status, body: body.into(), ..Default::default() }
    }

    #[test]
    fn the_table_comes_first_then_the_email_then_github() {
        let by_id = Mapping { member_id: Some("101".into()), email: Some("a@x".into()) };
        assert_eq!(first_lookup(Some(&by_id)), Lookup::Member("101".into()));
        let by_email = Mapping { member_id: None, email: Some("a@x".into()) };
        assert_eq!(first_lookup(Some(&by_email)), Lookup::ByEmail("a@x".into()));
        assert_eq!(first_lookup(None), Lookup::VerifiedEmails);
    }

    fn with_token() -> Config {
        let mut cfg = Config::from_lookup(|_| None);
        cfg.github.token = Some("ght".into());
        cfg
    }

    #[test]
    fn verified_emails_are_asked_of_graphql_with_the_token_and_the_api_headers() {
        let call = verified_emails_call(&with_token(), Some("acme"), "Octo-Cat").unwrap();
        assert_eq!((call.method, call.url.as_str()), ("POST", "https://api.github.com/graphql"));
        assert!(call.headers.contains(&("X-GitHub-Api-Version", "2022-11-28".into())));
        assert_eq!(call.bearer.as_deref(), Some("ght"));
        let body: serde_json::Value = serde_json::from_str(call.body.as_deref().unwrap()).unwrap();
        assert!(body["query"].as_str().unwrap().contains("organizationVerifiedDomainEmails(login: $org)"));
        assert_eq!(body["variables"], json!({ "login": "Octo-Cat", "org": "acme" }));
        // Without a token or the organization there is no verified email to read.
        let no_token = verified_emails_call(&Config::from_lookup(|_| None), Some("acme"), "o").unwrap_err();
        assert!(no_token.starts_with("no verified email") && no_token.contains("GITHUB_TOKEN"), "{no_token}");
        assert!(verified_emails_call(&with_token(), None, "o").unwrap_err().starts_with("no verified email"));
    }

    #[test]
    fn only_verified_emails_are_read_and_their_absence_explained() {
        let cfg = with_token();
        let body = r#"{"data":{"user":{"organizationVerifiedDomainEmails":["o@acme.io","x@other.io"]}}}"#;
        assert_eq!(
            verified_emails(&cfg, "o", &reply(200, body)),
            Ok(Ok(vec!["o@acme.io".into(), "x@other.io".into()]))
        );
        let mut only_acme = with_token();
        only_acme.github.verified_domains = vec!["ACME.io".into()];
        assert_eq!(verified_emails(&only_acme, "o", &reply(200, body)), Ok(Ok(vec!["o@acme.io".into()])));
        let none = r#"{"data":{"user":{"organizationVerifiedDomainEmails":[]}}}"#;
        assert!(verified_emails(&cfg, "o", &reply(200, none)).unwrap().unwrap_err().starts_with("no verified email"));
        let forbidden = r#"{"data":{"user":null},"errors":[{"type":"FORBIDDEN","message":"nope"}]}"#;
        let why = verified_emails(&cfg, "o", &reply(200, forbidden)).unwrap().unwrap_err();
        assert!(why.starts_with("no verified email") && why.contains("nope"), "{why}");
        assert!(verified_emails(&cfg, "o", &reply(502, "")).is_err());
        let many = r#"{"data":{"user":{"organizationVerifiedDomainEmails":["a@x","b@x","c@x","d@x"]}}}"#;
        assert_eq!(verified_emails(&cfg, "o", &reply(200, many)).unwrap().unwrap().len(), MAX_EMAILS);
    }

    #[test]
    fn members_match_on_their_verified_emails_only() {
        let c = Config { sentry_api_base: "https://s".into(), ..Config::default() };
        let call = member_search_call(&c, "acme", "a+b@x.io", Some("t"));
        assert_eq!(call.url, "https://s/api/0/organizations/acme/members/?query=email%3Aa%2Bb%40x.io");
        let body = r#"[{"id":"7","email":"other@x.io","user":null},
            {"id":"101","email":"work@x.io","user":{"email":"work@x.io","emails":[{"email":"A+B@x.io","is_verified":true}]}}]"#;
        assert_eq!(member_for_email("a+b@x.io", &reply(200, body)), Ok(Ok("101".into())));
        assert!(member_for_email("z@x.io", &reply(200, body)).unwrap().is_err());
        // Changed (issue 17): an unverified address on the Sentry account, or
        // an invite's email, no longer matches.
        let unverified = r#"[{"id":"7","email":"a@x.io","user":null},
            {"id":"8","email":"a@x.io","user":{"email":"a@x.io","emails":[{"email":"a@x.io","is_verified":false}]}}]"#;
        let why = member_for_email("a@x.io", &reply(200, unverified)).unwrap().unwrap_err();
        assert!(why.contains("verified"), "{why}");
        assert!(member_for_email("z@x.io", &reply(200, "[]")).unwrap().unwrap_err().contains("z@x.io"));
        assert!(matches!(member_for_email("z@x.io", &reply(429, "")), Err(CallError::Retryable { .. })));
    }

    #[test]
    fn mapping_bodies_are_validated() {
        assert_eq!(parse_mapping("octo", br#"{"member_id": 101}"#).unwrap().member_id.as_deref(), Some("101"));
        assert_eq!(parse_mapping("octo", br#"{"email": "o@x.io"}"#).unwrap().email.as_deref(), Some("o@x.io"));
        for bad in [&b"{}"[..], b"nope", br#"{"member_id":"../x"}"#, br#"{"email":"not-an-email"}"#] {
            assert!(
                matches!(parse_mapping("octo", bad), Err(AppError::BadRequest(_))),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        assert!(parse_mapping("a/b", br#"{"member_id":"1"}"#).is_err());
    }
}
