//! What a reconcile found and how each difference is corrected: recorded
//! as the event a webhook would have brought (a `github_sync` row) and,
//! unless a dry run, carried out by that webhook's own queue job.

use super::hook::SyncRecord;
use super::progress::Kind;
use super::sync::{MemberAction, MembershipJob, TeamAction, TeamJob};
use crate::config::GithubConfig;
use crate::jobs::Job;

/// One difference and how it is corrected: a `github_sync` row (as a
/// webhook's event is recorded) and, unless a dry run, its job.
#[derive(Debug, Clone, PartialEq)]
pub struct Correction {
    pub kind: Kind,
    pub record: SyncRecord,
    pub job: Option<Job>,
    /// Events for the same team (and login) received since then win.
    pub since: String,
}

/// Makes the corrections of one run.
pub struct Fixer<'a> {
    pub run: &'a str,
    /// The GitHub organization's login.
    pub org: &'a str,
    pub dry_run: bool,
}

impl Fixer<'_> {
    fn status(&self) -> &'static str {
        if self.dry_run {
            "dry_run"
        } else {
            "queued"
        }
    }

    fn detail(&self, found: String, fix: &str) -> String {
        match self.dry_run {
            true => format!("reconcile {} (dry run): {found}; would {fix}", self.run),
            false => format!("reconcile {}: {found}; {fix}", self.run),
        }
    }

    /// GitHub team `id` now `slug`: created (no Sentry team, `from` None) or
    /// renamed from the slug it is mapped under.
    pub fn team(&self, kind: Kind, id: &str, slug: &str, from: Option<&str>, since: &str) -> Correction {
        let (action, verb, detail) = match from {
            None => (
                TeamAction::Created,
                "created",
                self.detail(format!("GitHub team {slug} ({id}) has no Sentry team"), "create it"),
            ),
            Some(from) => (
                TeamAction::Edited,
                "edited",
                self.detail(format!("GitHub team {id} is now {slug}, mapped as {from}"), "rename it"),
            ),
        };
        let delivery = format!("reconcile:{}:{id}", self.run);
        let record = SyncRecord {
            delivery: delivery.clone(),
            body_sha256: String::new(),
            event: "team",
            action: verb.into(),
            team_id: Some(id.into()),
            team_slug: Some(slug.into()),
            login: None,
            org: Some(self.org.into()),
            status: self.status(),
            detail: Some(detail),
        };
        let job = TeamJob { delivery, body_sha256: String::new(), action, team_id: id.into(), slug: Some(slug.into()) };
        let job = (!self.dry_run).then_some(Job::GithubTeam(job));
        Correction { kind, record, job, since: since.into() }
    }

    /// `login` to add to (missing) or remove from (extra) the Sentry team of
    /// GitHub team `id` (`slug`).
    pub fn member(&self, kind: Kind, id: &str, slug: &str, login: &str, since: &str) -> Correction {
        let (action, verb, detail) = match kind {
            Kind::MemberExtra => (
                MemberAction::Removed,
                "removed",
                self.detail(format!("{login} is no longer on GitHub team {slug}"), "remove them"),
            ),
            _ => (
                MemberAction::Added,
                "added",
                self.detail(format!("{login} is on GitHub team {slug} but was never added"), "add them"),
            ),
        };
        let delivery = format!("reconcile:{}:{id}:{}", self.run, login.to_ascii_lowercase());
        let record = SyncRecord {
            delivery: delivery.clone(),
            body_sha256: String::new(),
            event: "membership",
            action: verb.into(),
            team_id: Some(id.into()),
            team_slug: Some(slug.into()),
            login: Some(login.into()),
            org: Some(self.org.into()),
            status: self.status(),
            detail: Some(detail),
        };
        let job = MembershipJob {
            delivery,
            body_sha256: String::new(),
            action,
            team_id: id.into(),
            team_slug: Some(slug.into()),
            login: login.into(),
            org: Some(self.org.into()),
        };
        let job = (!self.dry_run).then_some(Job::GithubMembership(job));
        Correction { kind, record, job, since: since.into() }
    }
}

/// Whether a run only reports: asked for (`?dry_run=1` on the manual
/// trigger), `GITHUB_RECONCILE_DRY_RUN`, or the team sync itself in dry-run
/// mode (`GITHUB_SYNC_DRY_RUN`: its jobs would only describe their calls).
pub fn dry_run(asked: bool, github: &GithubConfig) -> bool {
    asked || github.reconcile_dry_run || github.dry_run
}

/// `?dry_run=1` (or `true`, `yes`) on the manual trigger.
pub fn dry_run_param(query: Option<&str>) -> bool {
    query
        .unwrap_or("")
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .any(|(k, v)| k == "dry_run" && matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "yes"))
}
