//! A GitHub login → a Sentry organization member id, in this order: the
//! explicit mapping table, then the GitHub user's public email matched
//! against Sentry's member search. No match is an answer too ("unmapped",
//! with the reason), never a call with an empty id.

use super::wire::is_name;
use crate::config::Config;
use crate::error::AppError;
use crate::outbound::{self, encode, CallError, HttpCall, HttpReply};
use crate::sentry::wire::{opt_id, opt_text};
use serde::Deserialize;

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
    /// Search Sentry's members for this email (from the table or GitHub).
    ByEmail(String),
    /// Ask GitHub for the user's public email.
    GithubProfile,
}

pub fn first_lookup(mapping: Option<&Mapping>) -> Lookup {
    match mapping {
        Some(Mapping { member_id: Some(id), .. }) => Lookup::Member(id.clone()),
        Some(Mapping { email: Some(email), .. }) => Lookup::ByEmail(email.clone()),
        _ => Lookup::GithubProfile,
    }
}

/// `GET /users/{login}`. GitHub rejects requests without a User-Agent (the
/// shell sends one); a token is optional and raises the rate limit.
pub fn github_user_call(cfg: &Config, login: &str) -> HttpCall {
    HttpCall {
        method: "GET",
        url: format!("{}/users/{}", cfg.github.api_base, encode(login)),
        bearer: cfg.github.token.clone(),
        body: None,
        headers: vec![
            ("Accept", "application/vnd.github+json".to_string()),
            ("X-GitHub-Api-Version", "2022-11-28".to_string()),
        ],
    }
}

#[derive(Deserialize)]
struct GithubUser {
    #[serde(default, deserialize_with = "opt_text")]
    email: Option<String>,
}

/// The public email, or why there is none (`Err(Ok(reason))` style is
/// avoided: `Ok(Err(reason))` means "looked, no email").
pub fn public_email(login: &str, reply: &HttpReply) -> Result<Result<String, String>, CallError> {
    if reply.status == 404 {
        return Ok(Err(format!("GitHub has no user {login}")));
    }
    let user: GithubUser = outbound::json("GitHub user", reply)?;
    Ok(user.email.filter(|e| e.contains('@')).ok_or_else(|| {
        format!("{login} has no public email on GitHub and no row in the mapping table (PUT /api/github/users/{login})")
    }))
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
    #[serde(default, deserialize_with = "opt_text")]
    email: Option<String>,
    #[serde(default)]
    user: Option<MemberUser>,
}

#[derive(Deserialize)]
struct MemberUser {
    #[serde(default, deserialize_with = "opt_text")]
    email: Option<String>,
    #[serde(default)]
    emails: Vec<UserEmail>,
}

#[derive(Deserialize)]
struct UserEmail {
    #[serde(default, deserialize_with = "opt_text")]
    email: Option<String>,
}

impl Member {
    fn has_email(&self, wanted: &str) -> bool {
        let user = self.user.as_ref();
        let user_emails =
            user.into_iter().flat_map(|u| u.email.iter().chain(u.emails.iter().filter_map(|e| e.email.as_ref())));
        self.email.iter().chain(user_emails).any(|e| e.trim().eq_ignore_ascii_case(wanted.trim()))
    }
}

/// The member id whose email matches, or why none does.
pub fn member_for_email(email: &str, reply: &HttpReply) -> Result<Result<String, String>, CallError> {
    let members: Vec<Member> = outbound::json("member search", reply)?;
    Ok(members
        .iter()
        .find(|m| m.has_email(email))
        .and_then(|m| m.id.clone())
        .ok_or_else(|| format!("no Sentry member has the email {email}")))
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
        assert_eq!(first_lookup(None), Lookup::GithubProfile);
    }

    #[test]
    fn github_lookups_send_the_api_headers_and_the_optional_token() {
        let mut cfg = Config::from_lookup(|_| None);
        let call = github_user_call(&cfg, "Octo-Cat");
        assert_eq!(call.url, "https://api.github.com/users/Octo-Cat");
        assert!(call.headers.contains(&("X-GitHub-Api-Version", "2022-11-28".into())));
        assert_eq!(call.bearer, None);
        cfg.github.token = Some("ght".into());
        assert_eq!(github_user_call(&cfg, "o").bearer.as_deref(), Some("ght"));
    }

    #[test]
    fn public_emails_are_read_and_their_absence_explained() {
        assert_eq!(public_email("o", &reply(200, r#"{"login":"o","email":"o@x.io"}"#)), Ok(Ok("o@x.io".into())));
        assert!(public_email("o", &reply(200, r#"{"login":"o","email":null}"#))
            .unwrap()
            .unwrap_err()
            .contains("no public email"));
        assert!(public_email("o", &reply(404, "{}")).unwrap().unwrap_err().contains("no user o"));
        assert!(public_email("o", &reply(403, "{}")).is_err());
    }

    #[test]
    fn members_match_on_any_of_their_emails() {
        let c = Config { sentry_api_base: "https://s".into(), ..Config::default() };
        let call = member_search_call(&c, "acme", "a+b@x.io", Some("t"));
        assert_eq!(call.url, "https://s/api/0/organizations/acme/members/?query=email%3Aa%2Bb%40x.io");
        let body = r#"[{"id":"7","email":"other@x.io","user":null},
            {"id":"101","email":"work@x.io","user":{"email":"work@x.io","emails":[{"email":"A+B@x.io","is_verified":false}]}}]"#;
        assert_eq!(member_for_email("a+b@x.io", &reply(200, body)), Ok(Ok("101".into())));
        assert!(member_for_email("z@x.io", &reply(200, body)).unwrap().is_err());
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
