//! `installation.created` / `installation.deleted`: record the installation
//! and queue the token exchange. No Sentry API call runs on the ack path.

use super::wire::{opt_id, opt_text, Envelope};
use crate::config::Config;
use crate::error::AppError;
use crate::jobs::Job;
use crate::plan::{Plan, Reply, Verdict};
use crate::store::installations::{self, Installation};
use crate::webhook::verdict::Outcome;
use serde::Deserialize;
use serde_json::json;

#[derive(Debug, Deserialize)]
struct Data {
    installation: WireInstallation,
}

#[derive(Debug, Deserialize)]
struct WireInstallation {
    #[serde(default, deserialize_with = "opt_id")]
    uuid: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    status: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    code: Option<String>,
    #[serde(default)]
    organization: Option<Org>,
    #[serde(default)]
    app: Option<App>,
}

#[derive(Debug, Deserialize)]
struct Org {
    #[serde(default, deserialize_with = "opt_text")]
    slug: Option<String>,
    #[serde(default, deserialize_with = "opt_id")]
    id: Option<String>,
}

#[derive(Debug, Deserialize)]
struct App {
    #[serde(default, deserialize_with = "opt_text")]
    slug: Option<String>,
}

pub fn plan(cfg: &Config, env: &Envelope, applied_at: &str, now: &str) -> Result<Option<Plan>, AppError> {
    let action = env.action.as_str();
    if action != "created" && action != "deleted" {
        return Ok(None);
    }
    let inst = parse(cfg, env)?;
    let verdict = Verdict::new("installation", action, Outcome::Applied);
    let reply = Reply::ok(json!({ "ok": true, "installation": inst.uuid, "action": action }));
    if action == "deleted" {
        return Ok(Some(Plan::writes(installations::delete_installation(&inst, applied_at, now), reply, verdict)));
    }
    // Internal integrations have a token already, so members can be read at
    // once; public ones exchange the grant code first.
    let jobs = match (&cfg.internal, &inst.grant_code) {
        (Some(_), _) => vec![Job::SyncMembers { installation: inst.uuid.clone() }],
        (None, Some(_)) => vec![Job::ActivateInstallation { installation: inst.uuid.clone() }],
        (None, None) => vec![],
    };
    let statements = vec![installations::upsert_installation(&inst, applied_at, now)];
    Ok(Some(Plan { statements, jobs, guard: None, reply, verdict }))
}

fn parse(cfg: &Config, env: &Envelope) -> Result<Installation, AppError> {
    let data: Data = serde_json::from_value(env.data.clone())
        .map_err(|e| AppError::BadRequest(format!("installation webhook without data.installation: {e}")))?;
    let w = data.installation;
    let uuid = w
        .uuid
        .or_else(|| env.installation.as_ref().and_then(|i| i.uuid.clone()))
        .filter(|u| !u.is_empty())
        .ok_or_else(|| AppError::BadRequest("installation webhook without an installation uuid".into()))?;
    let internal = cfg.internal.as_ref();
    let status = match (internal, w.status.as_deref()) {
        (Some(_), _) | (None, Some("installed")) => "installed",
        _ => "pending",
    };
    Ok(Installation {
        uuid,
        org_slug: w.organization.as_ref().and_then(|o| o.slug.clone()).or_else(|| internal.map(|i| i.org_slug.clone())),
        org_id: w.organization.and_then(|o| o.id),
        app_slug: w.app.and_then(|a| a.slug),
        status: status.to_string(),
        mode: if internal.is_some() { "internal" } else { "public" },
        grant_code: w.code.filter(|c| !c.is_empty()),
    })
}

/// The stored installation, as the activation job reads it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Stored {
    pub status: String,
    pub mode: String,
    pub grant_code: Option<String>,
}

/// What the activation job does next.
#[derive(Debug, Clone, PartialEq)]
pub enum Activation {
    /// Nothing to do (uninstalled, or an internal integration).
    Nothing,
    /// A token exists already (a retry, or a second message): go on.
    FollowUp(Vec<Job>),
    /// Exchange this grant code, then follow up.
    Exchange(String),
    Fail(String),
}

/// Idempotent: a retried or duplicated message never spends the grant code
/// twice, because an existing token skips the exchange.
pub fn activation(uuid: &str, stored: Option<&Stored>, has_token: bool, internal: bool) -> Activation {
    let Some(s) = stored else { return Activation::Fail(format!("installation {uuid} is not recorded")) };
    if s.status == "deleted" || internal || s.mode == "internal" {
        return Activation::Nothing;
    }
    match (has_token, &s.grant_code) {
        (true, _) => Activation::FollowUp(follow_up(uuid, &s.status)),
        (false, Some(code)) => Activation::Exchange(code.clone()),
        (false, None) => Activation::Fail("no grant code to exchange: reinstall the integration in Sentry".into()),
    }
}

/// Whether a job about an installation runs: a deleted installation's job
/// has nothing left to do, an unknown one can never run.
#[derive(Debug, Clone, PartialEq)]
pub enum Check<T> {
    Done,
    Fail(String),
    Run(T),
}

/// The verify job's check.
pub fn verify_check(uuid: &str, stored: Option<&Stored>) -> Check<()> {
    match stored {
        None => Check::Fail(format!("installation {uuid} is not recorded")),
        Some(s) if s.status == "deleted" => Check::Done,
        Some(_) => Check::Run(()),
    }
}

/// The member sync's check: it needs the organization's slug.
pub fn members_check(uuid: &str, stored: Option<&Stored>, org: Option<String>) -> Check<String> {
    match (stored, org) {
        (Some(s), _) if s.status == "deleted" => Check::Done,
        (Some(_), Some(org)) => Check::Run(org),
        _ => Check::Fail(format!("installation {uuid} has no organization slug")),
    }
}

/// After a token exists: verify the install (unless Sentry already says it
/// is installed) and mirror the organization's members.
pub fn follow_up(uuid: &str, status: &str) -> Vec<Job> {
    let installation = uuid.to_string();
    let mut jobs = vec![];
    if status != "installed" {
        jobs.push(Job::VerifyInstallation { installation: installation.clone() });
    }
    jobs.push(Job::SyncMembers { installation });
    jobs
}
