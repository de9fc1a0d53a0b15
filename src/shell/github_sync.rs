//! The team-sync jobs: read the map, then carry out the steps the job's
//! machine (`github::job_run`, `github::member_run`) asks for, and write the
//! map and the event's status in one batch.

use super::d1;
use super::fetch;
use super::tokens::{access_token, storage};
use crate::config::Config;
use crate::github::job_run::{JobRun, Step, TeamRun};
use crate::github::member_run::MemberRun;
use crate::github::sync::{MembershipJob, TeamJob};
use crate::github::target::{self, NoTarget, Target};
use crate::github::users::Mapping;
use crate::jobs::Outcome;
use crate::outbound::{CallError, HttpCall, HttpReply};
use crate::sql::Stmt;
use crate::store::github::{self as store, Prelude};
use crate::time::format_millis;
use worker::{D1Database, Date};

/// `prelude`: what the batch that started the job read (`store::github::prelude`).
pub async fn team(
    cfg: &Config,
    db: &D1Database,
    job: &TeamJob,
    attempt: u32,
    prelude: Option<Prelude>,
) -> Result<Outcome, CallError> {
    let prelude = prelude.ok_or_else(unread)?;
    let key = (job.delivery.as_str(), job.body_sha256.as_str());
    let mut run = TeamRun::new(cfg, job, &now()).tried(prelude.earlier);
    let first = run.start(prelude.mapped, prelude.superseded);
    drive(cfg, db, key, attempt, &mut run, first, None).await
}

pub async fn membership(
    cfg: &Config,
    db: &D1Database,
    job: &MembershipJob,
    attempt: u32,
    prelude: Option<Prelude>,
) -> Result<Outcome, CallError> {
    let prelude = prelude.ok_or_else(unread)?;
    let key = (job.delivery.as_str(), job.body_sha256.as_str());
    let mut run = MemberRun::new(cfg, job, &now());
    let first = run.start(prelude.mapped.as_ref(), prelude.superseded, prelude.earlier);
    drive(cfg, db, key, attempt, &mut run, first, prelude.user).await
}

fn unread() -> CallError {
    CallError::Retryable { after: None, detail: "D1 answered the job's prelude without its row".into() }
}

/// Carries out each step the job's machine asks for until it ends; `known`:
/// a login's mapping the prelude already read.
async fn drive(
    cfg: &Config,
    db: &D1Database,
    key: (&str, &str),
    attempt: u32,
    run: &mut dyn JobRun,
    mut step: Step,
    mut known: Option<(String, Option<Mapping>)>,
) -> Result<Outcome, CallError> {
    loop {
        step = match step {
            Step::Finish(f) => return Ok(finish(key, f.status, &f.detail, attempt, f.writes)),
            Step::Retry(why) => return Err(CallError::Retryable { after: None, detail: why }),
            Step::Fail(why) => return Ok(Outcome::Fail { error: why }),
            Step::Target => run.targeted(target(cfg, db).await?),
            Step::Bearer(target) => run.authorized(bearer(cfg, db, &target).await?),
            Step::ReadUser(login) => match known.take() {
                Some((read, mapping)) if read.eq_ignore_ascii_case(&login) => run.user(mapping),
                _ => {
                    let row = d1::first(db, store::USER, &[login.as_str().into()]).await.map_err(storage)?;
                    run.user(row.as_ref().map(store::mapping))
                }
            },
            Step::Send { to, call } => run.replied(&send_to(to, cfg, &call).await?)?,
        }
    }
}

async fn target(cfg: &Config, db: &D1Database) -> Result<Result<Target, NoTarget>, CallError> {
    let rows = match target::needs_installations(cfg) {
        true => d1::query(db, store::INSTALLED, &[]).await.map_err(storage)?,
        false => vec![],
    };
    Ok(target::target(cfg, &store::installed(&rows)))
}

async fn bearer(cfg: &Config, db: &D1Database, target: &Target) -> Result<String, CallError> {
    match target {
        Target::Internal { token, .. } => Ok(token.clone()),
        Target::Installation { uuid, .. } => access_token(cfg, db, uuid).await,
    }
}

async fn send_to(what: &str, cfg: &Config, call: &HttpCall) -> Result<HttpReply, CallError> {
    fetch::send(&format!("{what} {} {}", call.method, path_of(&call.url)), call, cfg.http_timeout_ms).await
}

fn path_of(url: &str) -> &str {
    url.find("://").and_then(|i| url[i + 3..].find('/').map(|j| &url[i + 3 + j..])).unwrap_or(url)
}

/// The event's final status (and any map write), recorded in the batch
/// that records the job done.
fn finish(key: (&str, &str), status: &str, detail: &str, attempt: u32, mut writes: Vec<Stmt>) -> Outcome {
    writes.push(store::set_status(key, status, Some(detail), attempt, &now()));
    Outcome::done_with(writes)
}

fn now() -> String {
    format_millis(Date::now().as_millis() as i64)
}
