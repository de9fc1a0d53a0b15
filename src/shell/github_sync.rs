//! The team-sync jobs: read the map, decide the step, call Sentry (or, in
//! dry-run mode, record the call instead), then write the map and the
//! event's status in one batch.

use super::d1;
use super::fetch;
use super::tokens::{access_token, storage};
use crate::config::Config;
use crate::github::sync::{self, MappedTeam, MembershipJob, Target, TeamJob, TeamStep};
use crate::github::users::{self, Lookup};
use crate::jobs::Outcome;
use crate::outbound::{CallError, HttpCall, HttpReply};
use crate::plan::Stmt;
use crate::store::github as store;
use crate::time::format_millis;
use worker::{D1Database, Date};

pub async fn team(cfg: &Config, db: &D1Database, job: &TeamJob, attempt: u32) -> Result<Outcome, CallError> {
    let (mapped, superseded) = team_state(db, &job.team_id, &job.delivery).await?;
    let step = match sync::team_step(job, mapped.as_ref(), superseded) {
        Ok(step) => step,
        Err(why) => return finish(db, &job.delivery, "noop", &why, attempt, vec![]).await,
    };
    let target = match target(cfg, db).await? {
        Ok(t) => t,
        Err(why) => return Ok(Outcome::Fail { error: why }),
    };
    let org = target.org().to_string();
    if cfg.github.dry_run {
        let call = first_call(cfg, &org, &step, None);
        let detail = format!("would send {}", sync::describe(&call, &cfg.sentry_api_base));
        return finish(db, &job.delivery, "dry_run", &detail, attempt, vec![]).await;
    }
    let bearer = bearer(cfg, db, &target).await?;
    let reply = send(cfg, &first_call(cfg, &org, &step, Some(&bearer))).await?;
    let now = now();
    let (detail, write) = match &step {
        TeamStep::Create { slug } => {
            let done = sync::team_created(&reply)?;
            (format!("team {slug} {done}"), store::map_team(&job.team_id, slug, &org, slug, &now))
        }
        TeamStep::Delete { slug } => {
            let done = sync::team_deleted(&reply)?;
            (format!("team {slug} {done}"), store::team_deleted(&job.team_id, &now))
        }
        TeamStep::Rename { from, to } => {
            let detail = if sync::team_renamed(&reply)? {
                format!("team {from} renamed to {to} in Sentry")
            } else {
                let created = send(cfg, &sync::create_team(cfg, &org, to, Some(&bearer))).await?;
                format!("Sentry had no team {from}; team {to} {}", sync::team_created(&created)?)
            };
            (detail, store::map_team(&job.team_id, to, &org, to, &now))
        }
    };
    finish(db, &job.delivery, "done", &detail, attempt, vec![write]).await
}

/// The step's Sentry call (a rename's create fallback is made separately).
fn first_call(cfg: &Config, org: &str, step: &TeamStep, bearer: Option<&str>) -> HttpCall {
    match step {
        TeamStep::Create { slug } => sync::create_team(cfg, org, slug, bearer),
        TeamStep::Delete { slug } => sync::delete_team(cfg, org, slug, bearer),
        TeamStep::Rename { from, to } => sync::rename_team(cfg, org, from, to, bearer),
    }
}

pub async fn membership(
    cfg: &Config,
    db: &D1Database,
    job: &MembershipJob,
    attempt: u32,
) -> Result<Outcome, CallError> {
    let (mapped, superseded) = team_state(db, &job.team_id, &job.delivery).await?;
    let slug = match sync::member_step(job, mapped.as_ref(), superseded) {
        Ok(slug) => slug,
        Err(why) => return finish(db, &job.delivery, "noop", &why, attempt, vec![]).await,
    };
    let target = match target(cfg, db).await? {
        Ok(t) => t,
        Err(why) => return Ok(Outcome::Fail { error: why }),
    };
    let org = target.org().to_string();
    let bearer = if cfg.github.dry_run { None } else { Some(bearer(cfg, db, &target).await?) };
    let (member, via) = match resolve(cfg, db, &org, &job.login, bearer.as_deref()).await? {
        Resolved::Member(id, via) => (id, via),
        Resolved::Unmapped(why) => return finish(db, &job.delivery, "unmapped", &why, attempt, vec![]).await,
        Resolved::NotLookedUp(why) => {
            let call = sync::membership(cfg, job.action, &org, "{member}", &slug, None);
            let detail = format!("{why}, then would send {}", sync::describe(&call, &cfg.sentry_api_base));
            return finish(db, &job.delivery, "dry_run", &detail, attempt, vec![]).await;
        }
    };
    let call = sync::membership(cfg, job.action, &org, &member, &slug, bearer.as_deref());
    if cfg.github.dry_run {
        let detail = format!("would send {} ({} via {via})", sync::describe(&call, &cfg.sentry_api_base), job.login);
        return finish(db, &job.delivery, "dry_run", &detail, attempt, vec![]).await;
    }
    let done = sync::member_synced(job.action, &send(cfg, &call).await?)?;
    let detail = format!("{} (Sentry member {member}, via {via}) {done} {slug}", job.login);
    finish(db, &job.delivery, "done", &detail, attempt, vec![]).await
}

enum Resolved {
    Member(String, &'static str),
    Unmapped(String),
    /// Dry run: the member search is a Sentry call, so it is only described.
    NotLookedUp(String),
}

/// The mapping table, then GitHub's public email, then Sentry's member search.
async fn resolve(
    cfg: &Config,
    db: &D1Database,
    org: &str,
    login: &str,
    bearer: Option<&str>,
) -> Result<Resolved, CallError> {
    let row = d1::first(db, store::USER, &[login.into()]).await.map_err(storage)?;
    let (email, via) = match users::first_lookup(row.as_ref().map(store::mapping).as_ref()) {
        Lookup::Member(id) => return Ok(Resolved::Member(id, "the mapping table")),
        Lookup::ByEmail(email) => (email, "the mapping table's email"),
        Lookup::GithubProfile => {
            let reply = send_to("GitHub user", cfg, &users::github_user_call(cfg, login)).await?;
            match users::public_email(login, &reply)? {
                Ok(email) => (email, "the public GitHub email"),
                Err(why) => return Ok(Resolved::Unmapped(why)),
            }
        }
    };
    let Some(bearer) = bearer else {
        return Ok(Resolved::NotLookedUp(format!("would look up the Sentry member with email {email} ({via})")));
    };
    let reply = send(cfg, &users::member_search_call(cfg, org, &email, Some(bearer))).await?;
    Ok(match users::member_for_email(&email, &reply)? {
        Ok(id) => Resolved::Member(id, via),
        Err(why) => Resolved::Unmapped(format!("{why} (found via {via} of {login})")),
    })
}

/// The team's map entry, and whether a newer event for it (and the same
/// login) arrived after this delivery.
async fn team_state(db: &D1Database, team_id: &str, delivery: &str) -> Result<(Option<MappedTeam>, bool), CallError> {
    let row = d1::first(db, store::TEAM, &[team_id.into()]).await.map_err(storage)?;
    let superseded = d1::exists(db, store::SUPERSEDED, &[delivery.into()]).await.map_err(storage)?;
    Ok((row.as_ref().and_then(store::mapped_team), superseded))
}

async fn target(cfg: &Config, db: &D1Database) -> Result<Result<Target, String>, CallError> {
    let rows =
        if cfg.internal.is_some() { vec![] } else { d1::query(db, store::INSTALLED, &[]).await.map_err(storage)? };
    Ok(sync::target(cfg, &store::installed(&rows)))
}

async fn bearer(cfg: &Config, db: &D1Database, target: &Target) -> Result<String, CallError> {
    match target {
        Target::Internal { token, .. } => Ok(token.clone()),
        Target::Installation { uuid, .. } => access_token(cfg, db, uuid).await,
    }
}

async fn send(cfg: &Config, call: &HttpCall) -> Result<HttpReply, CallError> {
    send_to("Sentry", cfg, call).await
}

async fn send_to(what: &str, cfg: &Config, call: &HttpCall) -> Result<HttpReply, CallError> {
    fetch::send(&format!("{what} {} {}", call.method, path_of(&call.url)), call, cfg.http_timeout_ms).await
}

fn path_of(url: &str) -> &str {
    url.find("://").and_then(|i| url[i + 3..].find('/').map(|j| &url[i + 3 + j..])).unwrap_or(url)
}

/// The event's final status (and any map write) in one batch.
async fn finish(
    db: &D1Database,
    delivery: &str,
    status: &str,
    detail: &str,
    attempt: u32,
    mut writes: Vec<Stmt>,
) -> Result<Outcome, CallError> {
    writes.push(store::set_status(delivery, status, Some(detail), attempt, &now()));
    d1::run(db, &writes).await.map_err(storage)?;
    Ok(Outcome::done())
}

fn now() -> String {
    format_millis(Date::now().as_millis() as i64)
}
