//! A team-sync job as a sans-IO machine: the shell asks it what to do next
//! (read the target, fetch a token, read a login's mapping, send a call),
//! feeds it each answer, and runs the `Finish` it ends with. Every fallback
//! (a rename Sentry can't find becomes a create, a dry run only describes)
//! is decided here, where it is tested natively.

use super::sync::{self, MappedTeam, TeamJob, TeamStep};
use super::target::{NoTarget, Target};
use crate::config::Config;
use crate::outbound::{CallError, HttpCall, HttpReply};
use crate::sql::Stmt;
use crate::store::github as store;

/// What the job's event ends with: its status and detail, written in one
/// batch with `writes` (the team map, who was added).
#[derive(Debug, Clone, PartialEq)]
pub struct Finish {
    pub status: &'static str,
    pub detail: String,
    pub writes: Vec<Stmt>,
}

impl Finish {
    pub fn new(status: &'static str, detail: impl Into<String>) -> Self {
        Finish { status, detail: detail.into(), writes: vec![] }
    }

    fn with(mut self, write: Stmt) -> Self {
        self.writes.push(write);
        self
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Finish(Finish),
    /// Not yet: let the queue's backoff try the job again.
    Retry(String),
    /// The job can't be done as configured: it fails, and says why.
    Fail(String),
    /// Which Sentry organization, and with whose token (`JobRun::targeted`).
    Target,
    /// A token for this target (`JobRun::authorized`).
    Bearer(Target),
    /// The mapping table's row for this login (`JobRun::user`).
    ReadUser(String),
    /// Send this call; `to` names the API in logs (`JobRun::replied`).
    Send {
        to: &'static str,
        call: HttpCall,
    },
}

/// One step at a time; each answer moves the machine to its next step.
pub trait JobRun {
    fn targeted(&mut self, target: Result<Target, NoTarget>) -> Step;
    fn authorized(&mut self, bearer: String) -> Step;
    fn user(&mut self, mapping: Option<super::users::Mapping>) -> Step;
    fn replied(&mut self, reply: &HttpReply) -> Result<Step, CallError>;
}

pub(crate) fn send(call: HttpCall) -> Step {
    Step::Send { to: "Sentry", call }
}

/// `team.created|deleted|edited` in Sentry.
pub struct TeamRun<'a> {
    cfg: &'a Config,
    job: &'a TeamJob,
    mapped: Option<MappedTeam>,
    step: Option<TeamStep>,
    org: String,
    bearer: Option<String>,
    /// The rename found no team under the old slug and is creating the new one.
    fell_back: bool,
    /// An earlier attempt of this event ran (`TeamRun::tried`).
    tried: bool,
    now: String,
}

impl<'a> TeamRun<'a> {
    pub fn new(cfg: &'a Config, job: &'a TeamJob, now: &str) -> Self {
        let (mapped, step, org, bearer, fell_back) = (None, None, String::new(), None, false);
        TeamRun { cfg, job, mapped, step, org, bearer, fell_back, tried: false, now: now.to_string() }
    }

    /// Whether an earlier attempt of the event started, so a create it sent
    /// may have landed (`store::github::prelude`).
    pub fn tried(mut self, tried: bool) -> Self {
        self.tried = tried;
        self
    }

    /// Given the team's map entry and whether a newer event superseded this one.
    pub fn start(&mut self, mapped: Option<MappedTeam>, superseded: bool) -> Step {
        let links = &self.cfg.github.link_teams;
        match sync::team_step(self.job, mapped.as_ref(), superseded, links) {
            Ok(step) => {
                self.mapped = mapped;
                self.step = Some(step);
                Step::Target
            }
            // A forgotten team is closed in the map without a Sentry call.
            Err(skip) if skip.forget => {
                Step::Finish(Finish::new(skip.status, skip.why).with(store::team_deleted(&self.job.team_id, &self.now)))
            }
            Err(skip) => Step::Finish(Finish::new(skip.status, skip.why)),
        }
    }

    /// The step's Sentry call (a rename's create fallback is made in `replied`).
    fn first_call(&self, step: &TeamStep) -> HttpCall {
        let (cfg, org, bearer) = (self.cfg, self.org.as_str(), self.bearer.as_deref());
        match step {
            TeamStep::Create { slug } => sync::create_team(cfg, org, slug, bearer),
            TeamStep::Delete { slug } => sync::delete_team(cfg, org, slug, bearer),
            TeamStep::Rename { from, to } => sync::rename_team(cfg, org, from, to, bearer),
        }
    }

    fn map(&self, slug: &str, ownership: sync::Ownership) -> Stmt {
        store::map_team(&self.job.team_id, slug, &self.org, slug, ownership, &self.now)
    }

    fn created(&self, slug: &str, reply: &HttpReply) -> Result<Finish, CallError> {
        let (status, ownership, detail) =
            sync::creation(slug, sync::team_created(reply)?, &self.cfg.github.link_teams, self.tried);
        Ok(Finish::new(status, detail).with(self.map(slug, ownership)))
    }
}

impl JobRun for TeamRun<'_> {
    fn targeted(&mut self, target: Result<Target, NoTarget>) -> Step {
        let (target, Some(step)) = (target, self.step.clone()) else {
            return Step::Fail("the team job has no step to take".into());
        };
        match target {
            Err(why) => Step::Fail(why.to_string()),
            Ok(target) if self.cfg.github.dry_run => {
                self.org = target.org().to_string();
                let detail =
                    format!("would send {}", sync::describe(&self.first_call(&step), &self.cfg.sentry_api_base));
                Step::Finish(Finish::new("dry_run", detail))
            }
            Ok(target) => {
                self.org = target.org().to_string();
                Step::Bearer(target)
            }
        }
    }

    fn authorized(&mut self, bearer: String) -> Step {
        self.bearer = Some(bearer);
        match self.step.clone() {
            Some(step) => send(self.first_call(&step)),
            None => Step::Fail("the team job has no step to take".into()),
        }
    }

    fn user(&mut self, _: Option<super::users::Mapping>) -> Step {
        Step::Fail("a team job reads no login".into())
    }

    fn replied(&mut self, reply: &HttpReply) -> Result<Step, CallError> {
        let finish = match self.step.clone() {
            None => return Ok(Step::Fail("the team job has no step to take".into())),
            Some(TeamStep::Create { slug }) => self.created(&slug, reply)?,
            Some(TeamStep::Delete { slug }) => {
                let done = sync::team_deleted(reply)?;
                Finish::new("done", format!("team {slug} {done}"))
                    .with(store::team_deleted(&self.job.team_id, &self.now))
            }
            Some(TeamStep::Rename { from, to }) if self.fell_back => {
                let created = self.created(&to, reply)?;
                Finish { detail: format!("Sentry had no team {from}; {}", created.detail), ..created }
            }
            Some(TeamStep::Rename { from, to }) => {
                if !sync::team_renamed(reply)? {
                    self.fell_back = true;
                    return Ok(send(sync::create_team(self.cfg, &self.org, &to, self.bearer.as_deref())));
                }
                let ownership = sync::renamed_ownership(self.mapped.as_ref());
                Finish::new("done", format!("team {from} renamed to {to} in Sentry")).with(self.map(&to, ownership))
            }
        };
        Ok(Step::Finish(finish))
    }
}
