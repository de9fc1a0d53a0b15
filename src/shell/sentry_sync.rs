//! The cron sync and retention: the scheduled handler, the manual triggers
//! (`Authorization: Bearer $CRON_SECRET`), the run status, and the page job.

use super::d1;
use super::env::{cron_caller, db};
use super::queue::{enqueue, enqueue_after};
use super::tokens::{access_token, storage};
use super::{fetch, http};
use crate::config::Config;
use crate::error::AppError;
use crate::jobs::{retry_delay, Job, Outcome};
use crate::outbound::CallError;
use crate::sentry::sync::{self, PageJob, LEASE_MS, MAX_PAGE_ATTEMPTS, PAGES_PER_MESSAGE};
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
/// with a run in progress is reported, not started twice.
pub(crate) async fn start_runs(
    cfg: &Config,
    env: &Env,
    db: &D1Database,
    trigger: &str,
) -> std::result::Result<Vec<Value>, AppError> {
    let rows = d1::query(db, store::TARGETS, &[]).await?;
    let mut runs = vec![];
    for (org, installation) in store::targets(cfg, &rows) {
        let now_ms = Date::now().as_millis() as i64;
        let (now, until) = (format_millis(now_ms), format_millis(now_ms + LEASE_MS));
        let run = format!("{now_ms}-{org}");
        // A run whose lease ran out (its messages were lost) is closed first.
        d1::run(db, &[store::expire_stale(&org, &now)]).await?;
        if d1::first(db, store::CLAIM_LEASE, &store::claim_params(&org, &run, &until, &now)).await?.is_none() {
            let holder = d1::first(db, store::LEASE_HOLDER, &[org.as_str().into()]).await?;
            let running = holder.as_ref().and_then(|r| d1::text(r, "run_id"));
            runs.push(json!({ "org": org, "started": false, "running": running }));
            continue;
        }
        d1::run(db, &[store::start_run(&run, &org, installation.as_deref(), trigger, &now)]).await?;
        let job = PageJob { run: run.clone(), org: org.clone(), installation, cursor: None, attempt: 0 };
        if let Err(e) = enqueue(env, vec![Job::SyncPage(job)]).await {
            d1::run(db, &store::finish(&run, "failed", Some(&e), &now)).await?;
            return Err(AppError::Internal(e));
        }
        runs.push(json!({ "org": org, "started": true, "run": run }));
    }
    Ok(runs)
}

/// One message of a run: up to `PAGES_PER_MESSAGE` pages, each written in
/// one D1 batch, then the next message (delayed when Sentry's rate-limit
/// window is used up, or after a failed page).
pub async fn page(cfg: &Config, env: &Env, db: &D1Database, job: &PageJob) -> std::result::Result<Outcome, CallError> {
    let held = [job.org.as_str().into(), job.run.as_str().into()];
    if !d1::exists(db, store::HOLDS_LEASE, &held).await.map_err(storage)? {
        // The lease ran out and another run took over; this one stops.
        return Ok(Outcome::done());
    }
    let bearer = match bearer(cfg, db, job).await {
        Ok(b) => b,
        Err(e) => return page_failed(cfg, env, db, job, job.cursor.clone(), e).await,
    };
    let mut cursor = job.cursor.clone();
    // D1 round trips of this message: the lease check, then one per page.
    let (mut pages, mut round_trips) = (0u32, 1u32);
    for _ in 0..PAGES_PER_MESSAGE {
        let page = match fetch_page(cfg, db, job, cursor.as_deref(), &bearer).await {
            Ok(page) => page,
            Err(e) => return page_failed(cfg, env, db, job, cursor, e).await,
        };
        pages += 1;
        round_trips += 1;
        let Some(next) = page.next else {
            // The health row rides in the finishing batch: the alarm's rise
            // or fall is noticed without another round trip.
            let mut finish = store::finish(&job.run, "done", None, &now());
            finish.push(crate::store::health::health_stmt());
            let rows = d1::run_first_rows(db, &finish).await.map_err(storage)?;
            log_pages(job, pages, round_trips + 1, true);
            super::webhook_health::after_sync(db, rows.last().and_then(Option::as_ref), cfg.webhook_silence_minutes)
                .await;
            return Ok(Outcome::done());
        };
        cursor = Some(next);
        if page.wait_secs > 0 {
            log_pages(job, pages, round_trips, false);
            return continue_run(env, job, cursor, 0, page.wait_secs).await;
        }
    }
    log_pages(job, pages, round_trips, false);
    continue_run(env, job, cursor, 0, 0).await
}

fn log_pages(job: &PageJob, pages: u32, round_trips: u32, finished: bool) {
    let line = json!({ "event": "sync_pages", "run": job.run, "pages": pages, "d1_round_trips": round_trips,
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
    bearer: &str,
) -> std::result::Result<sync::Page, CallError> {
    let call = sync::page_call(cfg, &job.org, cursor, Some(bearer));
    // The page is Sentry's state no earlier than when it was asked for.
    let fetched_at = now();
    let reply = fetch::send("list issues", &call, cfg.http_timeout_ms).await?;
    let page = sync::parse_page(&reply, job.installation.as_deref())?;
    let until = format_millis(Date::now().as_millis() as i64 + LEASE_MS);
    d1::run(db, &sync::page_batch(&page, &job.run, &fetched_at, &until, &now())).await.map_err(storage)?;
    Ok(page)
}

async fn bearer(cfg: &Config, db: &D1Database, job: &PageJob) -> std::result::Result<String, CallError> {
    match (&cfg.internal, &job.installation) {
        (Some(internal), _) => Ok(internal.token.clone()),
        (None, Some(uuid)) => access_token(cfg, db, uuid).await,
        (None, None) => Err(CallError::Permanent { detail: "no installation to take a token from".into() }),
    }
}

/// A page failed: tried again later from the same cursor, or, after
/// `MAX_PAGE_ATTEMPTS` (or at once for a permanent error), the run fails.
async fn page_failed(
    cfg: &Config,
    env: &Env,
    db: &D1Database,
    job: &PageJob,
    cursor: Option<String>,
    e: CallError,
) -> std::result::Result<Outcome, CallError> {
    let attempt = if cursor == job.cursor { job.attempt + 1 } else { 1 };
    let _ = d1::run(db, &[store::page_failed(&job.run, e.detail(), &now())]).await;
    match e {
        CallError::Retryable { after, .. } if attempt < MAX_PAGE_ATTEMPTS => {
            continue_run(env, job, cursor, attempt, retry_delay(cfg.retry, attempt, after)).await
        }
        e => {
            let why = format!("gave up after {attempt} attempts: {}", e.detail());
            d1::run(db, &store::finish(&job.run, "failed", Some(&why), &now())).await.map_err(storage)?;
            Ok(Outcome::done())
        }
    }
}

async fn continue_run(
    env: &Env,
    job: &PageJob,
    cursor: Option<String>,
    attempt: u32,
    delay_secs: u32,
) -> std::result::Result<Outcome, CallError> {
    let next = PageJob { cursor, attempt, ..job.clone() };
    enqueue_after(env, Job::SyncPage(next), delay_secs)
        .await
        .map_err(|e| CallError::Retryable { after: None, detail: e })?;
    Ok(Outcome::done())
}

fn now() -> String {
    format_millis(Date::now().as_millis() as i64)
}
