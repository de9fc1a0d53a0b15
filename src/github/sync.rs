//! The team-sync jobs: what each GitHub event asks of Sentry, as a step
//! decided from the stored team map, and the Sentry calls that carry it out.
//! Every step is idempotent: a retried or repeated job converges on the
//! same Sentry state and never calls with an empty id.

use crate::config::{Config, GithubConfig};
use crate::outbound::{self, CallError, HttpCall, HttpReply};
use crate::percent::encode;
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
/// ownership, and the detail. A 409 is never adopted as owned. When the
/// event was tried before (`tried`: an earlier attempt's create may have
/// landed before its answer was lost), the team is managed as linked:
/// its members mirrored, the team itself never deleted.
pub fn creation(slug: &str, created: Created, links: &[String], tried: bool) -> (&'static str, Ownership, String) {
    match created {
        Created::Created => ("done", Ownership::Owned, format!("team {slug} created in Sentry")),
        Created::Exists if is_linked(links, slug) => {
            ("done", Ownership::Linked, format!("team {slug} already existed in Sentry; linked (GITHUB_LINK_TEAMS)"))
        }
        Created::Exists if tried => (
            "done",
            Ownership::Linked,
            format!(
                "team {slug} existed when this event was tried again (an earlier attempt's create may have landed); \
                 managed as linked: never deleted"
            ),
        ),
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
#[path = "sync_tests.rs"]
mod tests;
