//! A `membership` job as a sans-IO machine (see `job_run`): which Sentry
//! team, who the GitHub login is in Sentry (the mapping table, else the
//! member's organization-verified emails searched among Sentry's members),
//! then the one call that adds or removes them. A dry run reads but never
//! writes: it describes the call it would send.

use super::job_run::{send, Finish, JobRun, Step};
use super::sync::{self, MappedTeam, MembershipJob};
use super::target::{NoTarget, Target};
use super::users::{self, Lookup, Mapping};
use crate::config::Config;
use crate::outbound::{CallError, HttpReply};

enum Phase {
    Start,
    /// Asked GitHub for the login's verified emails.
    Emails,
    /// Searching Sentry's members for `email`; `left` are still to try.
    Search {
        email: String,
        left: Vec<String>,
        via: &'static str,
    },
    /// Sent the membership call for this member.
    Apply {
        member: String,
        via: &'static str,
    },
}

pub struct MemberRun<'a> {
    cfg: &'a Config,
    job: &'a MembershipJob,
    slug: String,
    org: String,
    bearer: Option<String>,
    phase: Phase,
    misses: Vec<String>,
    now: String,
}

impl<'a> MemberRun<'a> {
    pub fn new(cfg: &'a Config, job: &'a MembershipJob, now: &str) -> Self {
        let (slug, org, bearer, misses) = (String::new(), String::new(), None, vec![]);
        MemberRun { cfg, job, slug, org, bearer, phase: Phase::Start, misses, now: now.to_string() }
    }

    /// `team_pending`: an event for the GitHub team itself is still under way.
    pub fn start(&mut self, mapped: Option<&MappedTeam>, superseded: bool, team_pending: bool) -> Step {
        match sync::member_step_for(self.job, mapped, superseded, team_pending, &self.cfg.github) {
            Ok(slug) => {
                self.slug = slug;
                Step::Target
            }
            Err(skip) if skip.wait => Step::Retry(skip.why),
            Err(skip) => Step::Finish(Finish::new(skip.status, skip.why)),
        }
    }

    fn read_user(&self) -> Step {
        Step::ReadUser(self.job.login.clone())
    }

    fn unmapped(why: String) -> Step {
        Step::Finish(Finish::new("unmapped", why))
    }

    /// Search Sentry's members for each email in turn; a dry run holds no
    /// token, so the search is only described.
    fn search(&mut self, mut emails: Vec<String>, via: &'static str) -> Step {
        let Some(bearer) = self.bearer.clone() else {
            let why = format!("would look up the Sentry member with email {} ({via})", emails.join(", "));
            let call = sync::membership(self.cfg, self.job.action, &self.org, "{member}", &self.slug, None);
            let detail = format!("{why}, then would send {}", sync::describe(&call, &self.cfg.sentry_api_base));
            return Step::Finish(Finish::new("dry_run", detail));
        };
        if emails.is_empty() {
            let login = &self.job.login;
            return Self::unmapped(format!("{} (found via {via} of {login})", self.misses.join("; ")));
        }
        let email = emails.remove(0);
        let call = users::member_search_call(self.cfg, &self.org, &email, Some(&bearer));
        self.phase = Phase::Search { email, left: emails, via };
        send(call)
    }

    fn resolved(&mut self, member: String, via: &'static str) -> Step {
        let job = self.job;
        let call = sync::membership(self.cfg, job.action, &self.org, &member, &self.slug, self.bearer.as_deref());
        if self.cfg.github.dry_run {
            let described = sync::describe(&call, &self.cfg.sentry_api_base);
            return Step::Finish(Finish::new("dry_run", format!("would send {described} ({} via {via})", job.login)));
        }
        self.phase = Phase::Apply { member, via };
        send(call)
    }
}

impl JobRun for MemberRun<'_> {
    fn targeted(&mut self, target: Result<Target, NoTarget>) -> Step {
        match target {
            Err(why) => Step::Fail(why.to_string()),
            Ok(target) => {
                self.org = target.org().to_string();
                if self.cfg.github.dry_run {
                    self.read_user()
                } else {
                    Step::Bearer(target)
                }
            }
        }
    }

    fn authorized(&mut self, bearer: String) -> Step {
        self.bearer = Some(bearer);
        self.read_user()
    }

    fn user(&mut self, mapping: Option<Mapping>) -> Step {
        match users::first_lookup(mapping.as_ref()) {
            Lookup::Member(id) => self.resolved(id, "the mapping table"),
            Lookup::ByEmail(email) => self.search(vec![email], "the mapping table's email"),
            Lookup::VerifiedEmails => {
                match users::verified_emails_call(self.cfg, self.job.org.as_deref(), &self.job.login) {
                    Ok(call) => {
                        self.phase = Phase::Emails;
                        Step::Send { to: "GitHub GraphQL", call }
                    }
                    Err(why) => Self::unmapped(why),
                }
            }
        }
    }

    fn replied(&mut self, reply: &HttpReply) -> Result<Step, CallError> {
        Ok(match std::mem::replace(&mut self.phase, Phase::Start) {
            Phase::Start => Step::Fail("the membership job sent no call".into()),
            Phase::Emails => match users::verified_emails(self.cfg, &self.job.login, reply)? {
                Ok(emails) => self.search(emails, "an organization-verified GitHub email"),
                Err(why) => Self::unmapped(why),
            },
            Phase::Search { email, left, via } => match users::member_for_email(&email, reply)? {
                Ok(id) => self.resolved(id, via),
                Err(why) => {
                    self.misses.push(why);
                    self.search(left, via)
                }
            },
            Phase::Apply { member, via } => {
                let done = sync::member_synced(self.job.action, reply)?;
                let (login, slug) = (&self.job.login, &self.slug);
                let detail = format!("{login} (Sentry member {member}, via {via}) {done} {slug}");
                // Who the worker put on the team: what the reconcile compares GitHub with.
                let applied = crate::store::reconcile::member_applied(self.job, &self.now);
                Step::Finish(Finish { status: "done", detail, writes: vec![applied] })
            }
        })
    }
}
