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
use crate::sql::Stmt;
use crate::store::github as store;
use crate::time::format_millis;
use worker::{D1Database, Date};

pub async fn team(cfg: &Config, db: &D1Database, job: &TeamJob, attempt: u32) -> Result<Outcome, CallError> {
    let key = (job.delivery.as_str(), job.body_sha256.as_str());
    let links = &cfg.github.link_teams;
    let (mapped, superseded) = team_state(db, &job.team_id, key).await?;
    let step = match sync::team_step(job, mapped.as_ref(), superseded, links) {
        Ok(step) => step,
        Err(skip) => {
            // A forgotten team is closed in the map without a Sentry call.
            let close = skip.forget.then(|| store::team_deleted(&job.team_id, &now()));
            return finish(db, key, skip.status, &skip.why, attempt, close.into_iter().collect()).await;
        }
    };
    let target = match target(cfg, db).await? {
        Ok(t) => t,
        Err(why) => return Ok(Outcome::Fail { error: why }),
    };
    let org = target.org().to_string();
    if cfg.github.dry_run {
        let call = first_call(cfg, &org, &step, None);
        let detail = format!("would send {}", sync::describe(&call, &cfg.sentry_api_base));
        return finish(db, key, "dry_run", &detail, attempt, vec![]).await;
    }
    let bearer = bearer(cfg, db, &target).await?;
    let reply = send(cfg, &first_call(cfg, &org, &step, Some(&bearer))).await?;
    let now = now();
    let map = |slug: &str, ownership| store::map_team(&job.team_id, slug, &org, slug, ownership, &now);
    let (status, detail, write) = match &step {
        TeamStep::Create { slug } => {
            let (status, ownership, detail) = sync::creation(slug, sync::team_created(&reply)?, links);
            (status, detail, map(slug, ownership))
        }
        TeamStep::Delete { slug } => {
            let done = sync::team_deleted(&reply)?;
            ("done", format!("team {slug} {done}"), store::team_deleted(&job.team_id, &now))
        }
        TeamStep::Rename { from, to } => {
            let ownership = sync::renamed_ownership(mapped.as_ref());
            if sync::team_renamed(&reply)? {
                ("done", format!("team {from} renamed to {to} in Sentry"), map(to, ownership))
            } else {
                let created = send(cfg, &sync::create_team(cfg, &org, to, Some(&bearer))).await?;
                let (status, ownership, detail) = sync::creation(to, sync::team_created(&created)?, links);
                (status, format!("Sentry had no team {from}; {detail}"), map(to, ownership))
            }
        }
    };
    finish(db, key, status, &detail, attempt, vec![write]).await
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
    let key = (job.delivery.as_str(), job.body_sha256.as_str());
    let (mapped, superseded) = team_state(db, &job.team_id, key).await?;
    let pending = d1::exists(db, store::TEAM_PENDING, &[job.team_id.as_str().into()]).await.map_err(storage)?;
    let slug = match sync::member_step_for(job, mapped.as_ref(), superseded, pending, &cfg.github) {
        Ok(slug) => slug,
        Err(skip) if skip.wait => return Err(CallError::Retryable { after: None, detail: skip.why }),
        Err(skip) => return finish(db, key, skip.status, &skip.why, attempt, vec![]).await,
    };
    let target = match target(cfg, db).await? {
        Ok(t) => t,
        Err(why) => return Ok(Outcome::Fail { error: why }),
    };
    let org = target.org().to_string();
    let bearer = if cfg.github.dry_run { None } else { Some(bearer(cfg, db, &target).await?) };
    let (member, via) = match resolve(cfg, db, &org, job, bearer.as_deref()).await? {
        Resolved::Member(id, via) => (id, via),
        Resolved::Unmapped(why) => return finish(db, key, "unmapped", &why, attempt, vec![]).await,
        Resolved::NotLookedUp(why) => {
            let call = sync::membership(cfg, job.action, &org, "{member}", &slug, None);
            let detail = format!("{why}, then would send {}", sync::describe(&call, &cfg.sentry_api_base));
            return finish(db, key, "dry_run", &detail, attempt, vec![]).await;
        }
    };
    let call = sync::membership(cfg, job.action, &org, &member, &slug, bearer.as_deref());
    if cfg.github.dry_run {
        let detail = format!("would send {} ({} via {via})", sync::describe(&call, &cfg.sentry_api_base), job.login);
        return finish(db, key, "dry_run", &detail, attempt, vec![]).await;
    }
    let done = sync::member_synced(job.action, &send(cfg, &call).await?)?;
    let detail = format!("{} (Sentry member {member}, via {via}) {done} {slug}", job.login);
    // Who the worker put on the team: what the reconcile compares GitHub with.
    let applied = crate::store::reconcile::member_applied(job, &now());
    finish(db, key, "done", &detail, attempt, vec![applied]).await
}

enum Resolved {
    Member(String, &'static str),
    Unmapped(String),
    /// Dry run: the member search is a Sentry call, so it is only described.
    NotLookedUp(String),
}

/// The mapping table, then the member's organization-verified emails on
/// GitHub, each searched among Sentry's members (verified emails only).
async fn resolve(
    cfg: &Config,
    db: &D1Database,
    org: &str,
    job: &MembershipJob,
    bearer: Option<&str>,
) -> Result<Resolved, CallError> {
    let login = job.login.as_str();
    let row = d1::first(db, store::USER, &[login.into()]).await.map_err(storage)?;
    let (emails, via) = match users::first_lookup(row.as_ref().map(store::mapping).as_ref()) {
        Lookup::Member(id) => return Ok(Resolved::Member(id, "the mapping table")),
        Lookup::ByEmail(email) => (vec![email], "the mapping table's email"),
        Lookup::VerifiedEmails => {
            let call = match users::verified_emails_call(cfg, job.org.as_deref(), login) {
                Ok(call) => call,
                Err(why) => return Ok(Resolved::Unmapped(why)),
            };
            let reply = send_to("GitHub GraphQL", cfg, &call).await?;
            match users::verified_emails(cfg, login, &reply)? {
                Ok(emails) => (emails, "an organization-verified GitHub email"),
                Err(why) => return Ok(Resolved::Unmapped(why)),
            }
        }
    };
    let Some(bearer) = bearer else {
        let listed = emails.join(", ");
        return Ok(Resolved::NotLookedUp(format!("would look up the Sentry member with email {listed} ({via})")));
    };
    let mut misses = vec![];
    for email in &emails {
        let reply = send(cfg, &users::member_search_call(cfg, org, email, Some(bearer))).await?;
        match users::member_for_email(email, &reply)? {
            Ok(id) => return Ok(Resolved::Member(id, via)),
            Err(why) => misses.push(why),
        }
    }
    Ok(Resolved::Unmapped(format!("{} (found via {via} of {login})", misses.join("; "))))
}

/// The team's map entry, and whether a newer event for it (and the same
/// login) arrived after this delivery.
async fn team_state(
    db: &D1Database,
    team_id: &str,
    key: (&str, &str),
) -> Result<(Option<MappedTeam>, bool), CallError> {
    let row = d1::first(db, store::TEAM, &[team_id.into()]).await.map_err(storage)?;
    let superseded = d1::exists(db, store::SUPERSEDED, &[key.0.into(), key.1.into()]).await.map_err(storage)?;
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
    key: (&str, &str),
    status: &str,
    detail: &str,
    attempt: u32,
    mut writes: Vec<Stmt>,
) -> Result<Outcome, CallError> {
    writes.push(store::set_status(key, status, Some(detail), attempt, &now()));
    d1::run(db, &writes).await.map_err(storage)?;
    Ok(Outcome::done())
}

fn now() -> String {
    format_millis(Date::now().as_millis() as i64)
}
