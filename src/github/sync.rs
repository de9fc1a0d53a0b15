//! The team-sync jobs: what each GitHub event asks of Sentry, as a step
//! decided from the stored team map, and the Sentry calls that carry it out.
//! Every step is idempotent: a retried or repeated job converges on the
//! same Sentry state and never calls with an empty id.

use crate::config::{Config, Internal};
use crate::outbound::{self, encode, CallError, HttpCall, HttpReply};
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TeamAction {
    Created,
    Deleted,
    Edited,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MemberAction {
    Added,
    Removed,
}

/// `team.created|deleted|edited`, keyed by GitHub's team id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TeamJob {
    pub delivery: String,
    pub action: TeamAction,
    pub team_id: String,
    /// The team's slug now (after an edit, the new one).
    pub slug: Option<String>,
}

/// `membership.added|removed` for one login in one team.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MembershipJob {
    pub delivery: String,
    pub action: MemberAction,
    pub team_id: String,
    pub team_slug: String,
    pub login: String,
}

/// The Sentry team a GitHub team is mirrored to.
#[derive(Debug, Clone, PartialEq)]
pub struct MappedTeam {
    pub sentry_slug: String,
    /// The GitHub team was deleted: final, GitHub never reuses team ids.
    pub deleted: bool,
}

/// A change to make in Sentry. A step that needs none is `Err(reason)`.
#[derive(Debug, Clone, PartialEq)]
pub enum TeamStep {
    Create {
        slug: String,
    },
    Delete {
        slug: String,
    },
    /// Renamed in place (`PUT /teams/{org}/{from}/ {"slug": to}`), so members
    /// and project access stay with the team.
    Rename {
        from: String,
        to: String,
    },
}

/// What a team event asks for, given the map. `superseded`: a newer event
/// for the same team was received, so an edit is already out of date.
pub fn team_step(job: &TeamJob, mapped: Option<&MappedTeam>, superseded: bool) -> Result<TeamStep, String> {
    let id = &job.team_id;
    if mapped.is_some_and(|m| m.deleted) {
        return Err(format!("GitHub team {id} was deleted; nothing to do"));
    }
    match (job.action, mapped, job.slug.clone()) {
        (TeamAction::Created, Some(m), Some(slug)) if m.sentry_slug == slug => {
            Err(format!("already mirrored as Sentry team {slug}"))
        }
        (TeamAction::Created, _, Some(slug)) => Ok(TeamStep::Create { slug }),
        (TeamAction::Deleted, Some(m), _) => Ok(TeamStep::Delete { slug: m.sentry_slug.clone() }),
        (TeamAction::Deleted, None, _) => Err(format!("no Sentry team is mapped to GitHub team {id}; nothing deleted")),
        (TeamAction::Edited, _, _) if superseded => {
            Err(format!("a newer event for GitHub team {id} supersedes this edit"))
        }
        (TeamAction::Edited, Some(m), Some(slug)) if m.sentry_slug == slug => Err(format!("slug unchanged ({slug})")),
        (TeamAction::Edited, Some(m), Some(slug)) => Ok(TeamStep::Rename { from: m.sentry_slug.clone(), to: slug }),
        (TeamAction::Edited, None, Some(slug)) => Ok(TeamStep::Create { slug }),
        (_, _, None) => Err(format!("GitHub team {id} has no slug")),
    }
}

/// The Sentry team slug a membership event applies to — the mapped one,
/// else the team with GitHub's slug (teams that existed before the sync) —
/// or `Err(reason)` when there is nothing to do.
pub fn member_step(job: &MembershipJob, mapped: Option<&MappedTeam>, superseded: bool) -> Result<String, String> {
    if superseded {
        return Err(format!("a newer membership event for {} in team {} supersedes this one", job.login, job.team_id));
    }
    match mapped {
        Some(m) if m.deleted => Err(format!("GitHub team {} was deleted", job.team_id)),
        Some(m) => Ok(m.sentry_slug.clone()),
        None => Ok(job.team_slug.clone()),
    }
}

/// Where Sentry calls go and with whose token.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    Internal { org: String, token: String },
    Installation { uuid: String, org: String },
}

impl Target {
    pub fn org(&self) -> &str {
        match self {
            Target::Internal { org, .. } | Target::Installation { org, .. } => org,
        }
    }
}

/// Picks the Sentry organization: the internal integration's, else the one
/// installed organization (`SENTRY_ORG_SLUG` chooses among several).
/// `installed` lists `(uuid, org slug)` of installed installations.
pub fn target(cfg: &Config, installed: &[(String, String)]) -> Result<Target, String> {
    if let Some(Internal { token, org_slug }) = &cfg.internal {
        return Ok(Target::Internal { org: org_slug.clone(), token: token.clone() });
    }
    let wanted = cfg.sentry_org.as_deref();
    let candidates: Vec<&(String, String)> =
        installed.iter().filter(|(_, org)| wanted.is_none_or(|w| w.eq_ignore_ascii_case(org))).collect();
    match (candidates.as_slice(), wanted) {
        ([(uuid, org)], _) => Ok(Target::Installation { uuid: uuid.clone(), org: org.clone() }),
        ([], Some(w)) => Err(format!("the Sentry integration is not installed in organization {w}")),
        ([], None) => Err("no Sentry organization to sync into: install the integration, or set \
            SENTRY_AUTH_TOKEN and SENTRY_ORG_SLUG"
            .into()),
        (many, _) => Err(format!(
            "{} Sentry organizations are installed; set SENTRY_ORG_SLUG to the one GitHub teams go to",
            many.len()
        )),
    }
}

fn call(method: &'static str, url: String, bearer: Option<&str>, body: Option<String>) -> HttpCall {
    HttpCall { method, url, bearer: bearer.map(str::to_string), body, headers: vec![] }
}

pub fn create_team(cfg: &Config, org: &str, slug: &str, bearer: Option<&str>) -> HttpCall {
    let url = format!("{}/api/0/organizations/{}/teams/", cfg.sentry_api_base, encode(org));
    call("POST", url, bearer, Some(json!({ "slug": slug }).to_string()))
}

pub fn delete_team(cfg: &Config, org: &str, slug: &str, bearer: Option<&str>) -> HttpCall {
    call("DELETE", team_url(cfg, org, slug), bearer, None)
}

pub fn rename_team(cfg: &Config, org: &str, from: &str, to: &str, bearer: Option<&str>) -> HttpCall {
    call("PUT", team_url(cfg, org, from), bearer, Some(json!({ "slug": to }).to_string()))
}

fn team_url(cfg: &Config, org: &str, slug: &str) -> String {
    format!("{}/api/0/teams/{}/{}/", cfg.sentry_api_base, encode(org), encode(slug))
}

/// Adds (`POST`) or removes (`DELETE`) an organization member — the
/// OrganizationMember id, not the user id — to or from a team.
pub fn membership(
    cfg: &Config,
    action: MemberAction,
    org: &str,
    member: &str,
    slug: &str,
    bearer: Option<&str>,
) -> HttpCall {
    let url = format!(
        "{}/api/0/organizations/{}/members/{}/teams/{}/",
        cfg.sentry_api_base,
        encode(org),
        encode(member),
        encode(slug)
    );
    let method = match action {
        MemberAction::Added => "POST",
        MemberAction::Removed => "DELETE",
    };
    call(method, url, bearer, None)
}

/// A call as the sync status shows it: method, path, body; never a token.
pub fn describe(call: &HttpCall, base: &str) -> String {
    let path = call.url.strip_prefix(base).unwrap_or(&call.url);
    match &call.body {
        Some(body) => format!("{} {path} {body}", call.method),
        None => format!("{} {path}", call.method),
    }
}

/// 409 "already exists" counts as success: the team is there either way.
pub fn team_created(reply: &HttpReply) -> Result<&'static str, CallError> {
    match reply.status {
        409 => Ok("already existed in Sentry"),
        _ => outbound::check("create team", reply).map(|()| "created in Sentry"),
    }
}

/// Deletion is asynchronous in Sentry (204); a team already gone is fine.
pub fn team_deleted(reply: &HttpReply) -> Result<&'static str, CallError> {
    match reply.status {
        404 => Ok("was already gone from Sentry"),
        _ => outbound::check("delete team", reply).map(|()| "deleted in Sentry"),
    }
}

/// `Ok(false)`: Sentry has no team under the old slug (create it instead).
pub fn team_renamed(reply: &HttpReply) -> Result<bool, CallError> {
    match reply.status {
        404 => Ok(false),
        _ => outbound::check("rename team", reply).map(|()| true),
    }
}

/// 201 added, 202 an access request was created, 204 already a member.
/// 404 is retried: the team may still be being created by an earlier job.
pub fn member_synced(action: MemberAction, reply: &HttpReply) -> Result<&'static str, CallError> {
    match (action, reply.status) {
        (MemberAction::Added, 202) => Ok("asked to join (Sentry created an access request)"),
        (MemberAction::Added, 204) => Ok("was already on the team"),
        (MemberAction::Added, 404) => Err(CallError::Retryable {
            after: None,
            detail: format!("add member: HTTP 404: the Sentry team or member does not exist (yet): {}", reply.body),
        }),
        (MemberAction::Added, _) => outbound::check("add member", reply).map(|()| "added to the team"),
        (MemberAction::Removed, 404) => Ok("was not on the team"),
        (MemberAction::Removed, _) => outbound::check("remove member", reply).map(|()| "removed from the team"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn team_job(action: TeamAction, slug: Option<&str>) -> TeamJob {
        TeamJob { delivery: "d1".into(), action, team_id: "42".into(), slug: slug.map(str::to_string) }
    }

    fn mapped(slug: &str, deleted: bool) -> MappedTeam {
        MappedTeam { sentry_slug: slug.into(), deleted }
    }

    fn cfg() -> Config {
        Config { sentry_api_base: "https://s".into(), ..Config::default() }
    }

    fn reply(status: u16) -> HttpReply {
        HttpReply { status, body: "{}".into(), ..Default::default() }
    }

    #[test]
    fn created_teams_are_created_once_and_deleted_ones_never_come_back() {
        let job = team_job(TeamAction::Created, Some("web"));
        assert_eq!(team_step(&job, None, false), Ok(TeamStep::Create { slug: "web".into() }));
        assert!(team_step(&job, Some(&mapped("web", false)), false).is_err());
        assert!(team_step(&job, Some(&mapped("web", true)), false).is_err());
    }

    #[test]
    fn only_mapped_teams_are_deleted() {
        let job = team_job(TeamAction::Deleted, Some("web"));
        assert_eq!(
            team_step(&job, Some(&mapped("sentry-web", false)), false),
            Ok(TeamStep::Delete { slug: "sentry-web".into() })
        );
        assert!(team_step(&job, None, false).is_err());
        assert!(team_step(&job, Some(&mapped("web", true)), false).is_err());
    }

    #[test]
    fn edits_rename_in_place_unless_superseded_or_unchanged() {
        let job = team_job(TeamAction::Edited, Some("platform"));
        assert_eq!(
            team_step(&job, Some(&mapped("web", false)), false),
            Ok(TeamStep::Rename { from: "web".into(), to: "platform".into() })
        );
        assert!(team_step(&job, Some(&mapped("web", false)), true).is_err());
        assert!(team_step(&job, Some(&mapped("platform", false)), false).is_err());
        assert_eq!(team_step(&job, None, false), Ok(TeamStep::Create { slug: "platform".into() }));
        assert!(team_step(&team_job(TeamAction::Edited, None), None, false).is_err());
    }

    #[test]
    fn memberships_use_the_mapped_slug_and_skip_deleted_or_superseded_teams() {
        let job = MembershipJob {
            delivery: "d".into(),
            action: MemberAction::Added,
            team_id: "42".into(),
            team_slug: "gh-slug".into(),
            login: "octo".into(),
        };
        assert_eq!(member_step(&job, Some(&mapped("sentry-slug", false)), false), Ok("sentry-slug".to_string()));
        assert_eq!(member_step(&job, None, false), Ok("gh-slug".to_string()));
        assert!(member_step(&job, Some(&mapped("x", true)), false).is_err());
        assert!(member_step(&job, None, true).is_err());
    }

    #[test]
    fn the_target_is_the_internal_org_or_the_one_installation() {
        let one = vec![("u1".to_string(), "acme".to_string())];
        assert_eq!(target(&cfg(), &one), Ok(Target::Installation { uuid: "u1".into(), org: "acme".into() }));
        assert!(target(&cfg(), &[]).unwrap_err().contains("install the integration"));
        let two = vec![one[0].clone(), ("u2".to_string(), "beta".to_string())];
        assert!(target(&cfg(), &two).unwrap_err().contains("SENTRY_ORG_SLUG"));
        let chosen = Config { sentry_org: Some("beta".into()), ..cfg() };
        assert_eq!(target(&chosen, &two).unwrap().org(), "beta");
        assert!(target(&Config { sentry_org: Some("gamma".into()), ..cfg() }, &two).unwrap_err().contains("gamma"));
        let internal = Config { internal: Some(Internal { token: "t".into(), org_slug: "in".into() }), ..cfg() };
        assert_eq!(target(&internal, &two), Ok(Target::Internal { org: "in".into(), token: "t".into() }));
    }

    #[test]
    fn calls_hit_the_documented_paths() {
        let c = cfg();
        let create = create_team(&c, "acme", "web", Some("tok"));
        assert_eq!((create.method, create.url.as_str()), ("POST", "https://s/api/0/organizations/acme/teams/"));
        assert_eq!(create.body.as_deref(), Some(r#"{"slug":"web"}"#));
        assert_eq!(delete_team(&c, "acme", "web", None).url, "https://s/api/0/teams/acme/web/");
        let rename = rename_team(&c, "acme", "web", "platform", None);
        assert_eq!((rename.method, rename.body.as_deref()), ("PUT", Some(r#"{"slug":"platform"}"#)));
        let add = membership(&c, MemberAction::Added, "acme", "101", "web", Some("tok"));
        assert_eq!(
            (add.method, add.url.as_str()),
            ("POST", "https://s/api/0/organizations/acme/members/101/teams/web/")
        );
        let remove = membership(&c, MemberAction::Removed, "acme", "101", "web", None);
        assert_eq!(remove.method, "DELETE");
        assert_eq!(describe(&create, "https://s"), r#"POST /api/0/organizations/acme/teams/ {"slug":"web"}"#);
        assert!(!describe(&create, "https://s").contains("tok"));
    }

    #[test]
    fn replies_map_to_idempotent_outcomes() {
        assert_eq!(team_created(&reply(201)), Ok("created in Sentry"));
        assert_eq!(team_created(&reply(409)), Ok("already existed in Sentry"));
        assert!(matches!(team_created(&reply(500)), Err(CallError::Retryable { .. })));
        assert!(matches!(team_created(&reply(403)), Err(CallError::Permanent { .. })));
        assert!(team_deleted(&reply(204)).is_ok() && team_deleted(&reply(404)).is_ok());
        assert_eq!(team_renamed(&reply(404)), Ok(false));
        assert!(matches!(team_renamed(&reply(409)), Err(CallError::Permanent { .. })));
        for status in [201, 202, 204] {
            assert!(member_synced(MemberAction::Added, &reply(status)).is_ok(), "{status}");
        }
        assert!(matches!(member_synced(MemberAction::Added, &reply(404)), Err(CallError::Retryable { .. })));
        assert!(member_synced(MemberAction::Removed, &reply(404)).is_ok());
        assert!(matches!(member_synced(MemberAction::Removed, &reply(400)), Err(CallError::Permanent { .. })));
    }
}
