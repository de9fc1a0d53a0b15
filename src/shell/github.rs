//! The GitHub endpoints: the webhook (verify, record under the delivery id,
//! queue), the sync status, and the login → member mapping API.

use super::env::{config, db};
use super::queue::enqueue;
use super::{d1, http};
use crate::config::MAX_BODY_BYTES;
use crate::error::AppError;
use crate::github::hook::{self, Delivery, Handled};
use crate::github::{lost, users};
use crate::jobs::Job;
use crate::store::{self, github as sync_store};
use crate::time::format_millis;
use crate::verify::check_configured_bearer;
use crate::webhook::{self, github as driver, Received};
use serde_json::json;
use worker::{console_log, Date, Env, Request, Response, Result};

pub async fn webhook(mut req: Request, env: &Env) -> Result<Response> {
    let started = Date::now().as_millis();
    let event = http::header(&req, "X-GitHub-Event");
    let delivery = http::header(&req, "X-GitHub-Delivery");
    let cfg = config(env);
    let (result, digest) = accept(&mut req, &cfg, event.as_deref(), delivery.as_deref()).await;
    let received_at = format_millis(started as i64);
    let received = Received {
        source: "github",
        received_at: &received_at,
        request_id: delivery.as_deref(),
        resource: event.as_deref(),
        replay_of: None,
    };
    let detail = driver::detail(&result);
    let done = driver::done(&result, digest.as_deref(), &detail);
    let record = webhook::record(&received, done, Date::now().as_millis().saturating_sub(started) as u32);
    let cutoffs = lost::cutoffs(&cfg, Date::now().as_millis() as i64);
    let (ack, reply) = driver::ack(&result, &record, &cutoffs.now, &cutoffs.queued_before);
    let claimed = ack.unseen.is_some();
    let ran = match db(env) {
        Ok(db) => super::webhook::execute(env, &db, ack).await.map_err(AppError::from),
        Err(e) => Err(e),
    };
    let (reply, line) = driver::answer(ran, claimed, reply, record, cfg.log_deliveries);
    line.iter().for_each(|line| console_log!("{line}"));
    match reply {
        Ok(reply) => http::json_response(&reply),
        Err(e) => http::error_response(&e),
    }
}

/// Verifies and parses; the body's digest once it verified.
async fn accept(
    req: &mut Request,
    cfg: &crate::config::Config,
    event: Option<&str>,
    delivery_id: Option<&str>,
) -> (std::result::Result<Handled, AppError>, Option<String>) {
    let body = match http::read_body(req, MAX_BODY_BYTES).await {
        Ok(body) => body,
        Err(e) => return (Err(e), None),
    };
    let content_type = http::header(req, "Content-Type");
    let signature = http::header(req, "X-Hub-Signature-256");
    let delivery = Delivery {
        event,
        delivery_id,
        content_type: content_type.as_deref(),
        signature: signature.as_deref(),
        body: &body,
    };
    (hook::handle(cfg, &delivery), Some(crate::verify::body_digest(&body)))
}

/// `GET /api/github/sync`: one D1 batch (with the newest reconcile runs).
pub async fn sync_status(env: &Env) -> Result<Response> {
    let queries: [(&str, &[crate::sql::SqlValue]); 5] = [
        (sync_store::LIST_EVENTS, &[]),
        (sync_store::LIST_UNMAPPED, &[]),
        (sync_store::LIST_TEAMS, &[]),
        (sync_store::COUNTS, &[]),
        (store::reconcile::LIST_RUNS, &[]),
    ];
    let read = match db(env) {
        Ok(db) => d1::rows_batch(&db, &queries).await,
        Err(e) => Err(e),
    };
    match read.as_deref() {
        Ok([events, unmapped, teams, counts, reconciles]) => {
            let mut status = sync_store::status_json(config(env).github.dry_run, events, unmapped, teams, counts);
            status["reconciles"] = json!(reconciles);
            Response::from_json(&status)
        }
        Ok(_) => http::error_response(&AppError::Internal("D1 batch returned an unexpected result count".into())),
        Err(e) => http::error_response(e),
    }
}

pub async fn list_users(env: &Env) -> Result<Response> {
    let rows = match db(env) {
        Ok(db) => d1::query(&db, sync_store::LIST_USERS, &[]).await,
        Err(e) => Err(e),
    };
    http::json_or_error(rows.map(|rows| json!({ "users": rows })))
}

/// `PUT` (map) or `DELETE` (unmap) one login, with `Authorization: Bearer
/// $ADMIN_TOKEN`. Mapping a login queues its unmapped events again.
pub async fn edit_user(mut req: Request, env: &Env, login: &str) -> Result<Response> {
    http::json_or_error(edit(&mut req, env, login).await)
}

/// The admin API's bearer: `ADMIN_TOKEN`, which must be set.
fn check_admin(req: &Request, env: &Env) -> std::result::Result<(), AppError> {
    let admin = config(env).admin_token;
    check_configured_bearer(admin.as_deref(), http::header(req, "Authorization").as_deref())
        .map_err(AppError::Unauthorized)
}

async fn edit(req: &mut Request, env: &Env, login: &str) -> std::result::Result<serde_json::Value, AppError> {
    check_admin(req, env)?;
    let db = db(env)?;
    let now = format_millis(Date::now().as_millis() as i64);
    if req.method() == worker::Method::Delete {
        d1::run(&db, &[sync_store::delete_user(login)]).await?;
        return Ok(json!({ "ok": true, "login": login, "deleted": true }));
    }
    let body = http::read_body(req, 4096).await?;
    let mapping = users::parse_mapping(login, &body)?;
    d1::run(&db, &[sync_store::put_user(login, &mapping, &now)]).await?;
    let replayed = replay_unmapped(env, &db, login, &now).await?;
    Ok(
        json!({ "ok": true, "login": login, "member_id": mapping.member_id, "email": mapping.email, "replayed": replayed }),
    )
}

/// `PUT /api/github/teams/{id}/link` with `Authorization: Bearer
/// $ADMIN_TOKEN`: the Sentry team this GitHub team ran into (a conflict) is
/// linked on purpose, so the sync manages it from now on (never deletes it).
/// Its refused events run again when GitHub redelivers them.
pub async fn link_team(req: Request, env: &Env, team_id: &str) -> Result<Response> {
    http::json_or_error(link(&req, env, team_id).await)
}

async fn link(req: &Request, env: &Env, team_id: &str) -> std::result::Result<serde_json::Value, AppError> {
    check_admin(req, env)?;
    let db = db(env)?;
    let now = format_millis(Date::now().as_millis() as i64);
    d1::run(&db, &[sync_store::link_team(team_id, &now)]).await?;
    let row = d1::first(&db, sync_store::TEAM, &[team_id.into()]).await?;
    let team = sync_store::linked(row.as_ref())?;
    let ownership = team.ownership.as_str();
    Ok(json!({ "ok": true, "github_team_id": team_id, "sentry_slug": team.sentry_slug, "ownership": ownership }))
}

async fn replay_unmapped(
    env: &Env,
    db: &worker::D1Database,
    login: &str,
    now: &str,
) -> std::result::Result<usize, AppError> {
    let rows = d1::query(db, sync_store::UNMAPPED_FOR, &[login.into()]).await?;
    let jobs: Vec<_> = rows.iter().filter_map(sync_store::replay_job).collect();
    if jobs.is_empty() {
        return Ok(0);
    }
    // Queued first: a job that already finished is not marked queued again
    // (the mark only touches rows still unmapped).
    let marks: Vec<_> = jobs.iter().map(|j| sync_store::requeued((&j.delivery, &j.body_sha256), now)).collect();
    enqueue(env, jobs.into_iter().map(Job::GithubMembership).collect()).await?;
    d1::run(db, &marks).await?;
    Ok(marks.len())
}

/// The cron's sweep of GitHub events whose job was lost: each is claimed
/// (so a concurrent sweep skips it), then queued again.
pub async fn requeue_stuck(env: &Env, db: &worker::D1Database) -> std::result::Result<usize, AppError> {
    let cutoffs = lost::cutoffs(&config(env), Date::now().as_millis() as i64);
    let rows = d1::query(db, sync_store::STUCK, &sync_store::stuck_params(&cutoffs)).await?;
    let jobs: Vec<Job> = rows.iter().filter_map(sync_store::stuck_job).collect();
    let claims: Vec<_> = jobs.iter().filter_map(|j| j.github_key()).map(|k| sync_store::unstick(k, &cutoffs)).collect();
    if jobs.is_empty() {
        return Ok(0);
    }
    let claimed = d1::run_counted(db, &claims).await?;
    let jobs: Vec<Job> = jobs.into_iter().zip(claimed).filter(|(_, n)| *n > 0).map(|(j, _)| j).collect();
    let count = jobs.len();
    if count > 0 {
        enqueue(env, jobs).await?;
    }
    Ok(count)
}
