//! The cron sync and retention: the scheduled handler, the manual triggers
//! (`Authorization: Bearer $CRON_SECRET`), the run status, and the page job.

use super::d1;
use super::env::{cron_caller, db};
use super::queue::{enqueue, enqueue_after};
use super::tokens::storage;
use super::{fetch, http};
use crate::config::Config;
use crate::error::AppError;
use crate::jobs::{Job, Outcome};
use crate::outbound::CallError;
use crate::sentry::sync::{self, OrgStart, PageJob};
use crate::sentry::sync_run::{Step, SyncRun};
use crate::store::sync as store;
use crate::time::format_millis;
use serde_json::{json, Value};
use worker::{console_log, D1Database, Date, Env, Request, Response, Result};

/// `GET|POST /api/cron/sentry-sync`: starts a run per organization.
pub async fn trigger_sync(req: Request, env: &Env) -> Result<Response> {
    respond(async {
        let cfg = cron_caller(&req, env)?;
        let runs = start_runs(&cfg, env, &db(env)?, "manual").await?;
        Ok(json!({ "runs": runs }))
    })
    .await
}

/// `GET /api/sync/status`: the newest runs.
pub async fn status(env: &Env) -> Result<Response> {
    respond(async { Ok(json!({ "runs": d1::query(&db(env)?, store::LIST_RUNS, &[]).await? })) }).await
}

async fn respond(body: impl std::future::Future<Output = std::result::Result<Value, AppError>>) -> Result<Response> {
    http::json_or_error(body.await)
}

/// Starts a run for every organization whose lease is free; an organization
/// with a run in progress is reported, not started twice
/// (`sync::trigger_answer` says what the trigger answers).
pub(crate) async fn start_runs(
    cfg: &Config,
    env: &Env,
    db: &D1Database,
    trigger: &str,
) -> std::result::Result<Vec<Value>, AppError> {
    let rows = d1::query(db, store::TARGETS, &[]).await?;
    let mut starts = vec![];
    for (org, installation) in store::targets(cfg, &rows) {
        let start = start_run(env, db, &org, installation, trigger).await?;
        starts.push((org, start));
    }
    sync::trigger_answer(starts)
}

async fn start_run(
    env: &Env,
    db: &D1Database,
    org: &str,
    installation: Option<String>,
    trigger: &str,
) -> std::result::Result<OrgStart, AppError> {
    let sync::RunStart { run, now, until, first } = sync::run_start(org, installation, Date::now().as_millis() as i64);
    // A run whose lease ran out (its messages were lost) is closed first.
    d1::run(db, &[store::expire_stale(org, &now)]).await?;
    if d1::first(db, store::CLAIM_LEASE, &store::claim_params(org, &run, &until, &now)).await?.is_none() {
        let holder = d1::first(db, store::LEASE_HOLDER, &[org.into()]).await?;
        return Ok(OrgStart::Busy { running: holder.as_ref().and_then(|r| d1::text(r, "run_id")) });
    }
    d1::run(db, &[store::start_run(&run, org, first.installation.as_deref(), trigger, &now)]).await?;
    match enqueue(env, vec![Job::SyncPage(first)]).await {
        Ok(()) => Ok(OrgStart::Started { run }),
        Err(e) => {
            d1::run(db, &sync::start_unqueued(&run, &e.to_string(), &now)).await?;
            Ok(OrgStart::Unqueued { run, error: e.into() })
        }
    }
}

/// One message of a run, as `SyncRun` steps it.
pub async fn page(cfg: &Config, env: &Env, db: &D1Database, job: &PageJob) -> std::result::Result<Outcome, CallError> {
    let held = [job.org.as_str().into(), job.run.as_str().into()];
    let mut run = SyncRun::new(job, cfg.retry);
    let mut step = run.start(d1::exists(db, store::HOLDS_LEASE, &held).await.map_err(storage)?);
    let mut token = None;
    loop {
        step = match step {
            Step::Stop => return Ok(Outcome::done()),
            Step::Fetch { cursor } => match fetch_page(cfg, db, job, cursor.as_deref(), &mut token).await {
                Ok(page) => run.written(page.next, page.wait_secs, &now()),
                Err(e) => run.failed(e, &now()),
            },
            Step::Finished { writes } => {
                let rows = d1::run_first_rows(db, &writes).await.map_err(storage)?;
                log_pages(job, &run, true);
                let health = rows.last().and_then(Option::as_ref);
                super::webhook_health::after_sync(db, health, cfg.webhook_silence_minutes).await;
                return Ok(Outcome::done());
            }
            Step::Continue { record, next, delay_secs } => {
                let _ = d1::run(db, &record).await;
                log_pages(job, &run, false);
                return continue_run(env, next, delay_secs).await;
            }
            Step::Failed { record, writes } => {
                let _ = d1::run(db, &record).await;
                d1::run(db, &writes).await.map_err(storage)?;
                return Ok(Outcome::done());
            }
        };
    }
}

fn log_pages(job: &PageJob, run: &SyncRun, finished: bool) {
    let line = json!({ "event": "sync_pages", "run": job.run, "pages": run.pages, "d1_round_trips": run.round_trips,
        "finished": finished });
    console_log!("{line}");
}

/// Fetches and writes one page: one API call, one D1 batch (what the
/// webhooks missed, measured first, then the cards).
async fn fetch_page(
    cfg: &Config,
    db: &D1Database,
    job: &PageJob,
    cursor: Option<&str>,
    token: &mut Option<String>,
) -> std::result::Result<sync::Page, CallError> {
    if token.is_none() {
        *token = Some(super::tokens::bearer(cfg, db, job.installation.as_deref()).await?);
    }
    let call = sync::page_call(cfg, &job.org, cursor, token.as_deref());
    // The page is Sentry's state no earlier than when it was asked for.
    let fetched_at = now();
    let reply = fetch::send("list issues", &call, cfg.http_timeout_ms).await?;
    let page = sync::parse_page(&reply, job.installation.as_deref())?;
    let until = sync::lease_until(Date::now().as_millis() as i64);
    d1::run(db, &sync::page_batch(&page, &job.run, &fetched_at, &until, &now())).await.map_err(storage)?;
    Ok(page)
}

async fn continue_run(env: &Env, next: PageJob, delay_secs: u32) -> std::result::Result<Outcome, CallError> {
    enqueue_after(env, Job::SyncPage(next), delay_secs).await?;
    Ok(Outcome::done())
}

fn now() -> String {
    format_millis(Date::now().as_millis() as i64)
}
