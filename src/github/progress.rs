//! A reconcile run's progress, as its queue messages carry it from one to
//! the next (`Job::GithubReconcile`), and what it found so far. Data only:
//! the machine that moves it on is `super::reconcile`.

use super::listing::Listed;
use serde::{Deserialize, Serialize};

/// What a run found, by kind (`github.drift` in `/api/webhook-health`).
/// Each counts a correction recorded (and, unless a dry run, queued).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Teams compared: mapped to a Sentry team the worker manages, or to none.
    pub teams: u32,
    pub teams_missing: u32,
    pub teams_renamed: u32,
    pub members_missing: u32,
    pub members_extra: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Listed on GitHub, no Sentry team mapped: its `team.created` never came.
    TeamMissing,
    /// Its slug on GitHub is not the one mapped: its `team.edited` never came.
    TeamRenamed,
    /// On the GitHub team, never added by the worker.
    MemberMissing,
    /// Added by the worker, no longer on the GitHub team.
    MemberExtra,
}

impl Counts {
    pub(super) fn add(&mut self, kind: Kind) {
        let n = match kind {
            Kind::TeamMissing => &mut self.teams_missing,
            Kind::TeamRenamed => &mut self.teams_renamed,
            Kind::MemberMissing => &mut self.members_missing,
            Kind::MemberExtra => &mut self.members_extra,
        };
        *n += 1;
    }
}

/// A team under reconcile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TeamWork {
    pub id: String,
    pub slug: String,
    /// The next members page (`None`: the first).
    #[serde(default)]
    pub url: Option<String>,
    /// Logins the worker put on the Sentry team that no page listed yet
    /// (`None`: not read yet). What is left after the last page is extra.
    #[serde(default)]
    pub unseen: Option<Vec<String>>,
    /// When the first members page was asked for: a membership event
    /// received since then is newer than the listing, and wins.
    #[serde(default)]
    pub since: Option<String>,
}

/// A run's progress, carried from queue message to queue message. No
/// secret: the token comes from the config each time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReconcileJob {
    pub run: String,
    /// The GitHub organization's login.
    pub org: String,
    /// Only report: corrections are recorded as `dry_run`, nothing queued.
    #[serde(default)]
    pub dry_run: bool,
    /// The next teams page (`None`: the first, unless `listed_all`).
    #[serde(default)]
    pub teams_url: Option<String>,
    #[serde(default)]
    pub listed_all: bool,
    /// Teams of the pages read so far still to reconcile; the first is under way.
    #[serde(default)]
    pub teams: Vec<TeamWork>,
    #[serde(default)]
    pub counts: Counts,
    /// Failed attempts at the current page.
    #[serde(default)]
    pub attempt: u32,
    /// Within one message: what the last action waits for, calls made, and
    /// a wait the rate limit asks for before the next call.
    #[serde(skip)]
    pub(super) step: Step,
    #[serde(skip)]
    pub(super) calls: u32,
    #[serde(skip)]
    pub(super) wait_secs: u32,
}

/// What the last action of a message waits for.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) enum Step {
    #[default]
    Idle,
    TeamsPage,
    MembersPage,
    Map {
        listed: Vec<Listed>,
        at: String,
    },
    Recorded,
    Queued(Vec<Kind>),
}

impl ReconcileJob {
    pub fn new(run: &str, org: &str, dry_run: bool) -> Self {
        ReconcileJob {
            run: run.into(),
            org: org.into(),
            dry_run,
            teams_url: None,
            listed_all: false,
            teams: vec![],
            counts: Counts::default(),
            attempt: 0,
            step: Step::Idle,
            calls: 0,
            wait_secs: 0,
        }
    }
}
