//! The GitHub team reconcile (issue 20 part 6) as a state machine: webhooks
//! are hints, GitHub's API is the truth. GitHub pages and D1 reads go in
//! (`Input`); what to do next comes out (`Action`): a page to fetch, a read,
//! corrections to record and queue as the webhooks' own jobs, a hand-over
//! to the next queue message, the end. The shell only carries actions out.
//!
//! A run lists the organization's teams a page at a time; for each team it
//! reconciles (mapped to a Sentry team the worker manages, or mapped to none
//! yet) it reads who the worker has put on the Sentry team, lists the
//! GitHub members, and corrects the difference. A team mapped to a Sentry
//! team the worker does not own is skipped: never listed, never touched.

use super::fixes::Fixer;
pub use super::fixes::{dry_run, dry_run_param, Correction};
use super::listing::{self, Listed};
use super::progress::Step;
pub use super::progress::{Counts, Kind, ReconcileJob, TeamWork};
use super::sync::MappedTeam;
use crate::config::{GithubConfig, RetryPolicy};
use crate::jobs::retry_delay;
use crate::outbound::{CallError, HttpCall, HttpReply};

/// GitHub calls per queue message before the run hands over to the next.
pub const CALLS_PER_MESSAGE: u32 = 20;
/// Attempts at one page (failures in a row) before the run fails.
pub const MAX_ATTEMPTS: u32 = 6;

/// A Sentry team the map has for a GitHub team.
#[derive(Debug, Clone, PartialEq)]
pub struct MapEntry {
    pub team_id: String,
    /// The GitHub slug it was mapped under (older rows may lack it).
    pub github_slug: Option<String>,
    pub team: MappedTeam,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// A queue message starts (or resumes) the run; `holds`: whether the
    /// run still holds its lease (`store::reconcile::HOLDS`).
    Begin { holds: bool },
    /// The answer to `Action::Fetch`, and when it was asked for.
    Reply { reply: Result<HttpReply, CallError>, at: String },
    /// The map's entries for the teams of `Action::ReadMap`.
    Map(Vec<MapEntry>),
    /// The logins of `Action::ReadRecorded`'s team.
    Recorded(Vec<String>),
    /// For each correction of `Action::Queue`, whether it was recorded (a
    /// membership or team event newer than the listing, or one still under
    /// way, is left to that event: not recorded, not queued).
    Queued(Vec<bool>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Fetch(HttpCall),
    /// The map entries of these GitHub team ids.
    ReadMap(Vec<String>),
    /// The logins the worker put on this GitHub team's Sentry team.
    ReadRecorded(String),
    Queue(Vec<Correction>),
    /// Save the progress and go on in a new queue message after
    /// `delay_secs`; `error`: the failure that makes it wait, if one did.
    Continue {
        delay_secs: u32,
        error: Option<String>,
    },
    Finish,
    Fail(String),
    /// The message is stale: its run's lease ran out and it was closed, so
    /// the message ends without a word to the run.
    Stale,
}

/// What the run needs to know besides its own state.
pub struct Context<'a> {
    pub github: &'a GithubConfig,
    pub retry: RetryPolicy,
}

enum Plan {
    Missing,
    Renamed(String),
    Current,
    Skip,
}

/// A team listed on GitHub, against the map: skipped unless the worker
/// manages its Sentry team or it has none.
fn plan(team: &Listed, entry: Option<&MapEntry>, links: &[String]) -> Plan {
    let Some(e) = entry else { return Plan::Missing };
    if e.team.deleted || !e.team.managed(links) {
        return Plan::Skip;
    }
    let known = e.github_slug.as_deref().unwrap_or(&e.team.sentry_slug);
    if known.eq_ignore_ascii_case(&team.slug) {
        Plan::Current
    } else {
        Plan::Renamed(known.to_string())
    }
}

impl ReconcileJob {
    pub fn next(&mut self, input: Input, cx: &Context) -> Action {
        match (std::mem::take(&mut self.step), input) {
            (_, Input::Begin { holds: false }) => Action::Stale,
            (Step::Idle, Input::Begin { holds: true }) => self.advance(cx),
            (Step::TeamsPage, Input::Reply { reply, at }) => self.on_teams(reply, at, cx),
            (Step::Map { listed, at }, Input::Map(map)) => self.on_map(listed, &at, &map, cx),
            (Step::Recorded, Input::Recorded(logins)) => {
                if let Some(team) = self.teams.first_mut() {
                    team.unseen = Some(logins);
                }
                self.advance(cx)
            }
            (Step::MembersPage, Input::Reply { reply, at }) => self.on_members(reply, at, cx),
            (Step::Queued(kinds), Input::Queued(recorded)) => {
                kinds.into_iter().zip(recorded).filter(|(_, r)| *r).for_each(|(k, _)| self.counts.add(k));
                self.advance(cx)
            }
            (step, input) => Action::Fail(format!("reconcile: {input:?} does not answer {step:?}")),
        }
    }

    /// The next thing to do from a settled state.
    fn advance(&mut self, cx: &Context) -> Action {
        if let Some(team) = self.teams.first() {
            if team.unseen.is_none() {
                self.step = Step::Recorded;
                return Action::ReadRecorded(team.id.clone());
            }
            let url = team.url.clone().unwrap_or_else(|| listing::members_url(cx.github, &self.org, &team.slug));
            return self.fetch(cx, url, Step::MembersPage);
        }
        if self.listed_all {
            return Action::Finish;
        }
        let url = self.teams_url.clone().unwrap_or_else(|| listing::teams_url(cx.github, &self.org));
        self.fetch(cx, url, Step::TeamsPage)
    }

    fn fetch(&mut self, cx: &Context, url: String, step: Step) -> Action {
        if self.wait_secs > 0 {
            return Action::Continue { delay_secs: std::mem::take(&mut self.wait_secs), error: None };
        }
        if self.calls >= CALLS_PER_MESSAGE {
            return Action::Continue { delay_secs: 0, error: None };
        }
        match listing::get(cx.github, url) {
            Ok(call) => {
                self.calls += 1;
                self.step = step;
                Action::Fetch(call)
            }
            Err(e) => Action::Fail(e.detail().to_string()),
        }
    }

    /// A failed page is asked for again later, with backoff (longer when
    /// GitHub says how long), up to `MAX_ATTEMPTS`.
    fn failed(&mut self, e: CallError, cx: &Context) -> Action {
        self.attempt += 1;
        match e {
            CallError::Retryable { after, detail } if self.attempt < MAX_ATTEMPTS => {
                Action::Continue { delay_secs: retry_delay(cx.retry, self.attempt, after), error: Some(detail) }
            }
            e => Action::Fail(format!("gave up after {} attempt(s): {}", self.attempt, e.detail())),
        }
    }

    fn on_teams(&mut self, reply: Result<HttpReply, CallError>, at: String, cx: &Context) -> Action {
        let page = match reply.and_then(|r| listing::teams(&r)) {
            Ok(page) => page,
            Err(e) => return self.failed(e, cx),
        };
        self.attempt = 0;
        self.wait_secs = page.wait_secs;
        self.listed_all = page.next.is_none();
        self.teams_url = page.next;
        if page.items.is_empty() {
            return self.advance(cx);
        }
        let ids = page.items.iter().map(|t| t.id.clone()).collect();
        self.step = Step::Map { listed: page.items, at };
        Action::ReadMap(ids)
    }

    fn on_map(&mut self, listed: Vec<Listed>, at: &str, map: &[MapEntry], cx: &Context) -> Action {
        let mut fixes = vec![];
        for team in listed {
            let entry = map.iter().find(|e| e.team_id == team.id);
            let unseen = match plan(&team, entry, &cx.github.link_teams) {
                Plan::Skip => continue,
                Plan::Current => None,
                // No Sentry team yet: nobody was put on it.
                Plan::Missing => {
                    fixes.push(self.fixer().team(Kind::TeamMissing, &team.id, &team.slug, None, at));
                    Some(vec![])
                }
                Plan::Renamed(from) => {
                    fixes.push(self.fixer().team(Kind::TeamRenamed, &team.id, &team.slug, Some(&from), at));
                    None
                }
            };
            self.counts.teams += 1;
            self.teams.push(TeamWork { id: team.id, slug: team.slug, url: None, unseen, since: None });
        }
        self.queue(fixes, cx)
    }

    fn on_members(&mut self, reply: Result<HttpReply, CallError>, at: String, cx: &Context) -> Action {
        // Gone (or renamed) since the listing: nothing to conclude about it.
        if reply.as_ref().is_ok_and(|r| r.status == 404) {
            self.attempt = 0;
            self.teams.remove(0);
            return self.advance(cx);
        }
        let page = match reply.and_then(|r| listing::members(&r)) {
            Ok(page) => page,
            Err(e) => return self.failed(e, cx),
        };
        self.attempt = 0;
        self.wait_secs = page.wait_secs;
        let mut team = self.teams.remove(0);
        let since = team.since.get_or_insert(at).clone();
        let mut unseen = team.unseen.take().unwrap_or_default();
        let mut fixes = vec![];
        for login in page.items {
            match unseen.iter().position(|u| u.eq_ignore_ascii_case(&login)) {
                Some(i) => drop(unseen.swap_remove(i)),
                None => fixes.push(self.fixer().member(Kind::MemberMissing, &team.id, &team.slug, &login, &since)),
            }
        }
        match page.next {
            Some(next) => {
                (team.url, team.unseen) = (Some(next), Some(unseen));
                self.teams.insert(0, team);
            }
            None => {
                let fixer = self.fixer();
                fixes.extend(unseen.iter().map(|l| fixer.member(Kind::MemberExtra, &team.id, &team.slug, l, &since)));
            }
        }
        self.queue(fixes, cx)
    }

    fn queue(&mut self, fixes: Vec<Correction>, cx: &Context) -> Action {
        if fixes.is_empty() {
            return self.advance(cx);
        }
        self.step = Step::Queued(fixes.iter().map(|f| f.kind).collect());
        Action::Queue(fixes)
    }

    fn fixer(&self) -> Fixer<'_> {
        Fixer { run: &self.run, org: &self.org, dry_run: self.dry_run }
    }
}

/// Whether a reconcile can run, and which organization it reads: a token
/// is needed, and `GITHUB_ORG`, else the org the newest webhooks came from.
pub fn target_org(github: &GithubConfig, last_org: Option<String>) -> Result<String, crate::error::AppError> {
    use crate::error::AppError::Unavailable;
    if github.token.is_none() {
        return Err(Unavailable("set GITHUB_TOKEN (read:org) to reconcile GitHub teams".into()));
    }
    github.org.clone().or(last_org).ok_or_else(|| {
        Unavailable("no GitHub organization to reconcile: set GITHUB_ORG (or let a webhook arrive)".into())
    })
}

#[cfg(test)]
#[path = "reconcile_tests.rs"]
mod tests;
