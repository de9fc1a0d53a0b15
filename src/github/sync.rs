//! The team-sync jobs: what each GitHub event asks of Sentry, as a step
//! decided from the stored team map, and the Sentry calls that carry it out.
//! Every step is idempotent: a retried or repeated job converges on the
//! same Sentry state and never calls with an empty id.

use crate::config::{Config, GithubConfig, Internal};
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
    /// With `delivery`, the key of the event's row (messages queued before
    /// the key had a digest carry none: "").
    #[serde(default)]
    pub body_sha256: String,
    pub action: TeamAction,
    pub team_id: String,
    /// The team's slug now (after an edit, the new one).
    pub slug: Option<String>,
}

/// `membership.added|removed` for one login in one team.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MembershipJob {
    pub delivery: String,
    #[serde(default)]
    pub body_sha256: String,
    pub action: MemberAction,
    pub team_id: String,
    /// None when the team itself was deleted: GitHub then sends a stub
    /// without a slug, and the team is found by its id alone.
    pub team_slug: Option<String>,
    pub login: String,
    /// The GitHub organization's login, to read the member's verified emails.
    #[serde(default)]
    pub org: Option<String>,
}

/// Who the Sentry team a GitHub team maps to belongs to. The worker writes
/// only to teams it created (`Owned`) or was told to link (`Linked`):
/// anyone who can create a GitHub team could otherwise name it after any
/// Sentry team and take that team over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ownership {
    /// Created by this worker (`POST teams/` answered 201).
    Owned,
    /// Existed before; linked on purpose (`GITHUB_LINK_TEAMS`).
    Linked,
    /// Existed before (409) and not linked: recorded, never written to.
    Conflict,
    /// Mapped before ownership was recorded (migration 0010): not trusted.
    Unknown,
}

impl Ownership {
    pub fn as_str(self) -> Option<&'static str> {
        match self {
            Ownership::Owned => Some("owned"),
            Ownership::Linked => Some("linked"),
            Ownership::Conflict => Some("conflict"),
            Ownership::Unknown => None,
        }
    }

    pub fn parse(s: Option<&str>) -> Self {
        match s {
            Some("owned") => Ownership::Owned,
            Some("linked") => Ownership::Linked,
            Some("conflict") => Ownership::Conflict,
            _ => Ownership::Unknown,
        }
    }
}

/// Whether `slug` is in the `GITHUB_LINK_TEAMS` opt-in list.
pub fn is_linked(links: &[String], slug: &str) -> bool {
    links.iter().any(|l| l.eq_ignore_ascii_case(slug))
}

/// The Sentry team a GitHub team is mirrored to.
#[derive(Debug, Clone, PartialEq)]
pub struct MappedTeam {
    pub sentry_slug: String,
    /// The GitHub team was deleted: final, GitHub never reuses team ids.
    pub deleted: bool,
    pub ownership: Ownership,
}

impl MappedTeam {
    /// The worker may add members to, rename (and, if owned, delete) it.
    pub fn managed(&self, links: &[String]) -> bool {
        matches!(self.ownership, Ownership::Owned | Ownership::Linked) || is_linked(links, &self.sentry_slug)
    }
}

/// A job that changes nothing in Sentry, with the status it is recorded
/// under: `noop` (nothing needed), `conflict` (the Sentry team is not ours)
/// or `unmanaged` (no team the worker manages). Only `noop` counts as
/// success when GitHub redelivers the event.
#[derive(Debug, Clone, PartialEq)]
pub struct Skip {
    pub status: &'static str,
    pub why: String,
    /// The GitHub team is gone but its Sentry team is not ours to delete
    /// (linked, or a conflict): close the map entry, call nothing.
    pub forget: bool,
    /// Not yet: try the job again later (the queue's backoff, then the
    /// dead-letter queue), because the team's own event is still under way.
    pub wait: bool,
}

fn noop(why: String) -> Skip {
    Skip { status: "noop", why, forget: false, wait: false }
}

fn conflict(slug: &str, what: &str) -> Skip {
    Skip { status: "conflict", why: format!("{}: {what}", not_ours(slug)), forget: false, wait: false }
}

fn not_ours(slug: &str) -> String {
    format!(
        "Sentry team {slug} already existed and was not created by this worker \
         (add it to GITHUB_LINK_TEAMS to link it on purpose)"
    )
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
/// Renames and deletions touch only teams the worker manages; only a team
/// it created is ever deleted.
pub fn team_step(
    job: &TeamJob,
    mapped: Option<&MappedTeam>,
    superseded: bool,
    links: &[String],
) -> Result<TeamStep, Skip> {
    let id = &job.team_id;
    if mapped.is_some_and(|m| m.deleted) {
        return Err(noop(format!("GitHub team {id} was deleted; nothing to do")));
    }
    let managed = mapped.filter(|m| m.managed(links));
    match (job.action, mapped, job.slug.clone()) {
        (TeamAction::Created, Some(m), Some(slug)) if m.sentry_slug == slug && managed.is_some() => {
            Err(noop(format!("already mirrored as Sentry team {slug}")))
        }
        (TeamAction::Created, _, Some(slug)) => Ok(TeamStep::Create { slug }),
        (TeamAction::Deleted, Some(m), _) => delete_step(m, links),
        (TeamAction::Deleted, None, _) => {
            Err(noop(format!("no Sentry team is mapped to GitHub team {id}; nothing deleted")))
        }
        (TeamAction::Edited, _, _) if superseded => {
            Err(noop(format!("a newer event for GitHub team {id} supersedes this edit")))
        }
        (TeamAction::Edited, Some(m), Some(slug)) if m.sentry_slug == slug => match managed {
            Some(_) => Err(noop(format!("slug unchanged ({slug})"))),
            None => Err(conflict(&slug, "not renamed")),
        },
        (TeamAction::Edited, Some(m), Some(slug)) if managed.is_some() => {
            Ok(TeamStep::Rename { from: m.sentry_slug.clone(), to: slug })
        }
        // Not ours (or not mapped): the old team is left alone; the new
        // slug is created, and owned only if Sentry answers 201.
        (TeamAction::Edited, _, Some(slug)) => Ok(TeamStep::Create { slug }),
        (_, _, None) => Err(noop(format!("GitHub team {id} has no slug"))),
    }
}

/// Only a team the worker created is deleted; any other is forgotten.
fn delete_step(m: &MappedTeam, links: &[String]) -> Result<TeamStep, Skip> {
    let slug = m.sentry_slug.clone();
    let why = match m.ownership {
        Ownership::Owned => return Ok(TeamStep::Delete { slug }),
        _ if m.managed(links) => {
            format!("GitHub team deleted; Sentry team {slug} was linked, not created here: unlinked and kept")
        }
        _ => format!("{}: not deleted", not_ours(&slug)),
    };
    Err(Skip { status: "noop", why, forget: true, wait: false })
}

/// The Sentry team slug a membership event applies to — the mapped team if
/// the worker manages it, else a team linked through `GITHUB_LINK_TEAMS` —
/// or why nothing is done.
pub fn member_step(
    job: &MembershipJob,
    mapped: Option<&MappedTeam>,
    superseded: bool,
    links: &[String],
) -> Result<String, Skip> {
    if superseded {
        return Err(noop(format!(
            "a newer membership event for {} in team {} supersedes this one",
            job.login, job.team_id
        )));
    }
    match (mapped, job.team_slug.as_deref()) {
        (Some(m), _) if m.deleted => Err(noop(format!("GitHub team {} was deleted", job.team_id))),
        (Some(m), _) if m.managed(links) => Ok(m.sentry_slug.clone()),
        (Some(m), _) => Err(conflict(&m.sentry_slug, "member not changed")),
        (None, Some(slug)) if is_linked(links, slug) => Ok(slug.to_string()),
        (None, Some(slug)) => Err(Skip {
            status: "unmanaged",
            forget: false,
            wait: false,
            why: format!(
                "no Sentry team created by this worker for GitHub team {slug} ({}); \
                 add {slug} to GITHUB_LINK_TEAMS to manage an existing Sentry team",
                job.team_id
            ),
        }),
        (None, None) => {
            Err(noop(format!("no Sentry team is mapped to GitHub team {}; nothing to change", job.team_id)))
        }
    }
}

/// The ownership a renamed team keeps: a rename only reaches a managed
/// team, so it is ours (owned) or was linked on purpose, and the link
/// follows it to the new slug.
pub fn renamed_ownership(mapped: Option<&MappedTeam>) -> Ownership {
    match mapped.map(|m| m.ownership) {
        Some(Ownership::Owned) | None => Ownership::Owned,
        Some(_) => Ownership::Linked,
    }
}

/// `member_step` under the configured sync, for a team not mapped (yet).
/// `team_pending`: an event for the GitHub team itself is still queued or
/// retrying (GitHub sends `membership.added` for a new team's creator right
/// after `team.created`), so the job waits for it instead of giving up.
/// A dry run creates no team, so a GitHub team it would have created is
/// never mapped: it describes the call as if the team it would own were there.
pub fn member_step_for(
    job: &MembershipJob,
    mapped: Option<&MappedTeam>,
    superseded: bool,
    team_pending: bool,
    github: &GithubConfig,
) -> Result<String, Skip> {
    match member_step(job, mapped, superseded, &github.link_teams) {
        Err(skip) if skip.status == "unmanaged" && github.dry_run => job.team_slug.clone().ok_or(skip),
        Err(skip) if skip.status == "unmanaged" && team_pending => Err(Skip {
            status: "retrying",
            why: format!("the event for GitHub team {} is still under way; waiting for it", job.team_id),
            forget: false,
            wait: true,
        }),
        other => other,
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

/// What `POST teams/` answered: created (ours) or already there (409).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Created {
    Created,
    Exists,
}

pub fn team_created(reply: &HttpReply) -> Result<Created, CallError> {
    match reply.status {
        409 => Ok(Created::Exists),
        _ => outbound::check("create team", reply).map(|()| Created::Created),
    }
}

/// How a create's answer is recorded: the event's status, the team's
/// ownership, and the detail. A 409 is never adopted unless linked.
pub fn creation(slug: &str, created: Created, links: &[String]) -> (&'static str, Ownership, String) {
    match created {
        Created::Created => ("done", Ownership::Owned, format!("team {slug} created in Sentry")),
        Created::Exists if is_linked(links, slug) => {
            ("done", Ownership::Linked, format!("team {slug} already existed in Sentry; linked (GITHUB_LINK_TEAMS)"))
        }
        Created::Exists => ("conflict", Ownership::Conflict, format!("{}: not managed", not_ours(slug))),
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
        let slug = slug.map(str::to_string);
        TeamJob { delivery: "d1".into(), body_sha256: "h".into(), action, team_id: "42".into(), slug }
    }

    fn mapped(slug: &str, deleted: bool) -> MappedTeam {
        MappedTeam { sentry_slug: slug.into(), deleted, ownership: Ownership::Owned }
    }

    fn owned_by(slug: &str, ownership: Ownership) -> MappedTeam {
        MappedTeam { ownership, ..mapped(slug, false) }
    }

    const NO_LINKS: &[String] = &[];

    fn cfg() -> Config {
        Config { sentry_api_base: "https://s".into(), ..Config::default() }
    }

    fn reply(status: u16) -> HttpReply {
        HttpReply { status, body: "{}".into(), ..Default::default() }
    }

    #[test]
    fn created_teams_are_created_once_and_deleted_ones_never_come_back() {
        let job = team_job(TeamAction::Created, Some("web"));
        assert_eq!(team_step(&job, None, false, NO_LINKS), Ok(TeamStep::Create { slug: "web".into() }));
        assert!(team_step(&job, Some(&mapped("web", false)), false, NO_LINKS).is_err());
        assert!(team_step(&job, Some(&mapped("web", true)), false, NO_LINKS).is_err());
    }

    #[test]
    fn only_mapped_teams_are_deleted() {
        let job = team_job(TeamAction::Deleted, Some("web"));
        assert_eq!(
            team_step(&job, Some(&mapped("sentry-web", false)), false, NO_LINKS),
            Ok(TeamStep::Delete { slug: "sentry-web".into() })
        );
        assert!(team_step(&job, None, false, NO_LINKS).is_err());
        assert!(team_step(&job, Some(&mapped("web", true)), false, NO_LINKS).is_err());
    }

    #[test]
    fn edits_rename_in_place_unless_superseded_or_unchanged() {
        let job = team_job(TeamAction::Edited, Some("platform"));
        assert_eq!(
            team_step(&job, Some(&mapped("web", false)), false, NO_LINKS),
            Ok(TeamStep::Rename { from: "web".into(), to: "platform".into() })
        );
        assert!(team_step(&job, Some(&mapped("web", false)), true, NO_LINKS).is_err());
        assert!(team_step(&job, Some(&mapped("platform", false)), false, NO_LINKS).is_err());
        assert_eq!(team_step(&job, None, false, NO_LINKS), Ok(TeamStep::Create { slug: "platform".into() }));
        assert!(team_step(&team_job(TeamAction::Edited, None), None, false, NO_LINKS).is_err());
    }

    #[test]
    fn memberships_use_the_mapped_slug_and_skip_deleted_or_superseded_teams() {
        let job = member_job(Some("gh-slug"));
        let links = vec!["GH-slug".to_string()];
        assert_eq!(
            member_step(&job, Some(&mapped("sentry-slug", false)), false, NO_LINKS),
            Ok("sentry-slug".to_string())
        );
        // Changed (issue 17): an unmapped GitHub team no longer falls back to
        // the Sentry team with its slug, unless that slug is linked on purpose.
        assert_eq!(member_step(&job, None, false, &links), Ok("gh-slug".to_string()));
        assert!(member_step(&job, Some(&mapped("x", true)), false, NO_LINKS).is_err());
        assert!(member_step(&job, None, true, NO_LINKS).is_err());
    }

    fn member_job(slug: Option<&str>) -> MembershipJob {
        MembershipJob {
            delivery: "d".into(),
            body_sha256: "h".into(),
            action: MemberAction::Added,
            team_id: "42".into(),
            team_slug: slug.map(str::to_string),
            login: "octo".into(),
            org: Some("acme".into()),
        }
    }

    #[test]
    fn members_of_a_team_that_is_not_ours_are_never_changed() {
        let job = member_job(Some("web"));
        let skip = member_step(&job, None, false, NO_LINKS).unwrap_err();
        assert_eq!(skip.status, "unmanaged", "{skip:?}");
        assert!(skip.why.contains("GITHUB_LINK_TEAMS"), "{skip:?}");
        for ownership in [Ownership::Conflict, Ownership::Unknown] {
            let skip = member_step(&job, Some(&owned_by("web", ownership)), false, NO_LINKS).unwrap_err();
            assert_eq!(skip.status, "conflict", "{ownership:?}");
        }
        let linked = owned_by("web", Ownership::Linked);
        assert_eq!(member_step(&job, Some(&linked), false, NO_LINKS), Ok("web".to_string()));
        let links = vec!["web".to_string()];
        let conflict = owned_by("web", Ownership::Conflict);
        assert_eq!(member_step(&job, Some(&conflict), false, &links), Ok("web".to_string()), "linked since");
    }

    #[test]
    fn a_dry_run_describes_members_of_the_team_it_would_have_created() {
        let job = member_job(Some("web"));
        let dry = GithubConfig { dry_run: true, ..GithubConfig::default() };
        assert_eq!(member_step_for(&job, None, false, false, &dry), Ok("web".to_string()));
        let live = GithubConfig::default();
        assert_eq!(member_step_for(&job, None, false, false, &live).unwrap_err().status, "unmanaged");
        let conflict = owned_by("web", Ownership::Conflict);
        assert_eq!(member_step_for(&job, Some(&conflict), false, false, &dry).unwrap_err().status, "conflict");
    }

    #[test]
    fn a_membership_waits_for_its_teams_own_event_still_under_way() {
        let (job, live) = (member_job(Some("web")), GithubConfig::default());
        let skip = member_step_for(&job, None, false, true, &live).unwrap_err();
        assert!(skip.wait && skip.status == "retrying", "{skip:?}");
        assert!(!member_step_for(&job, None, false, false, &live).unwrap_err().wait, "nothing to wait for");
        let conflict = owned_by("web", Ownership::Conflict);
        assert!(!member_step_for(&job, Some(&conflict), false, true, &live).unwrap_err().wait, "mapped: decided");
        assert_eq!(member_step_for(&job, Some(&mapped("web", false)), false, true, &live), Ok("web".to_string()));
    }

    #[test]
    fn a_deleted_team_stub_is_resolved_by_the_team_id() {
        let stub = member_job(None);
        assert_eq!(member_step(&stub, Some(&mapped("sentry-web", false)), false, NO_LINKS), Ok("sentry-web".into()));
        let none = member_step(&stub, None, false, NO_LINKS).unwrap_err();
        assert_eq!(none.status, "noop", "{none:?}");
        assert_eq!(member_step(&stub, Some(&mapped("sentry-web", true)), false, NO_LINKS).unwrap_err().status, "noop");
    }

    #[test]
    fn a_team_that_is_not_ours_is_never_renamed_or_deleted() {
        for ownership in [Ownership::Conflict, Ownership::Unknown] {
            let theirs = owned_by("web", ownership);
            let deleted = team_step(&team_job(TeamAction::Deleted, Some("web")), Some(&theirs), false, NO_LINKS);
            let deleted = deleted.unwrap_err();
            assert!(deleted.forget && deleted.why.contains("not deleted"), "{deleted:?}");
            let same = team_step(&team_job(TeamAction::Edited, Some("web")), Some(&theirs), false, NO_LINKS);
            assert_eq!(same.unwrap_err().status, "conflict");
            let renamed = team_step(&team_job(TeamAction::Edited, Some("web2")), Some(&theirs), false, NO_LINKS);
            assert_eq!(renamed, Ok(TeamStep::Create { slug: "web2".into() }), "the old team is left alone");
            let created = team_step(&team_job(TeamAction::Created, Some("web")), Some(&theirs), false, NO_LINKS);
            assert_eq!(created, Ok(TeamStep::Create { slug: "web".into() }), "asks again; a 409 stays a conflict");
        }
        let linked = owned_by("web", Ownership::Linked);
        let edit = team_step(&team_job(TeamAction::Edited, Some("web2")), Some(&linked), false, NO_LINKS);
        assert_eq!(edit, Ok(TeamStep::Rename { from: "web".into(), to: "web2".into() }));
        let delete = team_step(&team_job(TeamAction::Deleted, Some("web")), Some(&linked), false, NO_LINKS);
        assert!(
            delete.is_err_and(|s| s.forget && s.why.contains("unlinked")),
            "a linked team is unlinked, never deleted"
        );
    }

    #[test]
    fn a_renamed_team_keeps_its_ownership_and_a_config_link_is_recorded() {
        assert_eq!(renamed_ownership(Some(&mapped("web", false))), Ownership::Owned);
        assert_eq!(renamed_ownership(Some(&owned_by("web", Ownership::Linked))), Ownership::Linked);
        assert_eq!(renamed_ownership(Some(&owned_by("web", Ownership::Unknown))), Ownership::Linked);
    }

    #[test]
    fn a_409_is_a_conflict_unless_the_slug_is_linked() {
        let (status, ownership, detail) = creation("web", Created::Exists, NO_LINKS);
        assert_eq!((status, ownership), ("conflict", Ownership::Conflict));
        assert!(detail.contains("not created by this worker"), "{detail}");
        let links = vec!["Web".to_string()];
        assert_eq!(creation("web", Created::Exists, &links).1, Ownership::Linked);
        assert_eq!(creation("web", Created::Created, NO_LINKS).0, "done");
        assert_eq!(creation("web", Created::Created, NO_LINKS).1, Ownership::Owned);
        assert_eq!(Ownership::parse(Some("owned")), Ownership::Owned);
        assert_eq!(Ownership::parse(None), Ownership::Unknown);
        for o in [Ownership::Owned, Ownership::Linked, Ownership::Conflict] {
            assert_eq!(Ownership::parse(o.as_str()), o);
        }
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
        assert_eq!(team_created(&reply(201)), Ok(Created::Created));
        // Changed (issue 17): a 409 is reported as such, no longer as success.
        assert_eq!(team_created(&reply(409)), Ok(Created::Exists));
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
