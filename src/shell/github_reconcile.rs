//! The GitHub reconcile's runs: started by the daily cron or by hand
//! (`Authorization: Bearer $CRON_SECRET`), then carried out one queue
//! message at a time. What to do is decided by `crate::github::reconcile`;
//! this file fetches, reads, records and queues what it is told to.

use super::env::{cron_caller, db};
use super::queue::{enqueue, enqueue_after};
use super::tokens::storage;
use super::{d1, fetch, http};
use crate::config::Config;
use crate::error::AppError;
use crate::github::reconcile::{self, Action, Context, Input, ReconcileJob};
use crate::jobs::{Job, Outcome};
use crate::outbound::CallError;
use crate::sql::Stmt;
use crate::store::reconcile as store;
use crate::time::format_millis;
use serde_json::{json, Value};
use worker::{console_log, D1Database, Date, Env, Request, Response, Result};

/// Cloudflare Queues takes at most 100 messages per batch.
const QUEUE_BATCH: usize = 100;

/// The scheduled event of the cron `GITHUB_RECONCILE_CRON` names (the daily
/// one by default): a run starts when a GitHub token is set.
pub async fn scheduled(cron: &str, cfg: &Config, env: &Env) {
    let line = if cfg.github.token.is_none() {
        json!({ "event": "github_reconcile_skipped", "cron": cron, "why": "GITHUB_TOKEN is not set" })
    } else {
        match async { start(cfg, env, &db(env)?, "cron", false).await }.await {
            Ok(v) => json!({ "event": "github_reconcile_scheduled", "cron": cron, "result": v }),
            Err(e) => json!({ "event": "github_reconcile_not_started", "cron": cron, "error": format!("{e:?}") }),
        }
    };
    console_log!("{line}");
}

/// `GET|POST /api/cron/github-reconcile` (`?dry_run=1`: only report).
pub async fn trigger(req: Request, env: &Env) -> Result<Response> {
    let result = async {
        let cfg = cron_caller(&req, env)?;
        let dry_run = http::with_url(&req, |u| reconcile::dry_run_param(u.query()))?;
        start(&cfg, env, &db(env)?, "manual", dry_run).await
    };
    http::json_or_error(result.await)
}

/// Starts a run unless one holds the lease: its row, then its first message.
async fn start(
    cfg: &Config,
    env: &Env,
    db: &D1Database,
    trigger: &str,
    asked: bool,
) -> std::result::Result<Value, AppError> {
    let last_org = store::last_org(d1::first(db, store::LAST_ORG, &[]).await?.as_ref());
    let org = reconcile::target_org(&cfg.github, last_org)?;
    let dry_run = reconcile::dry_run(asked, &cfg.github);
    let now_ms = Date::now().as_millis() as i64;
    let (run, now, until) = (now_ms.to_string(), format_millis(now_ms), store::lease_until(now_ms, 0));
    d1::run(db, &[store::expire(&now)]).await?;
    let params = store::start_params(&run, &org, trigger, dry_run, &now, &until);
    if d1::first(db, store::START, &params).await?.is_none() {
        let running = d1::first(db, store::RUNNING, &[]).await?.and_then(|r| d1::text(&r, "id"));
        return Ok(json!({ "started": false, "running": running }));
    }
    if let Err(e) = enqueue(env, vec![Job::GithubReconcile(ReconcileJob::new(&run, &org, dry_run))]).await {
        d1::run(db, &[store::finish(&run, "failed", &Default::default(), Some(&e.to_string()), &now)]).await?;
        return Err(e.into());
    }
    Ok(json!({ "started": true, "run": run, "org": org, "dry_run": dry_run }))
}

/// One queue message of a run: the machine's actions until it hands over,
/// finishes or fails. A storage or queue failure retries the message from
/// the state it carried; corrections it had recorded are not recorded again
/// (their jobs, if lost, are queued again by the cron's sweep of stuck events).
pub async fn step(
    cfg: &Config,
    env: &Env,
    db: &D1Database,
    job: &ReconcileJob,
) -> std::result::Result<Outcome, CallError> {
    let holds = d1::exists(db, store::HOLDS, &[job.run.as_str().into()]).await.map_err(storage)?;
    let mut job = job.clone();
    let cx = Context { github: &cfg.github, retry: cfg.retry };
    let mut input = Input::Begin { holds };
    loop {
        input = match job.next(input, &cx) {
            Action::Fetch(call) => {
                let at = now();
                let what = format!("GitHub GET {}", call.url.strip_prefix(&cfg.github.api_base).unwrap_or("?"));
                Input::Reply { reply: fetch::send(&what, &call, cfg.http_timeout_ms).await, at }
            }
            Action::ReadMap(ids) => {
                let rows = d1::query(db, store::MAP_FOR, &store::map_params(&ids)).await.map_err(storage)?;
                Input::Map(store::map_entries(&rows))
            }
            Action::ReadRecorded(team) => {
                let rows = d1::query(db, store::RECORDED, &[team.as_str().into()]).await.map_err(storage)?;
                Input::Recorded(store::recorded(&rows))
            }
            Action::Queue(fixes) => {
                let now = now();
                let claims: Vec<Stmt> = fixes.iter().map(|f| store::claim(f, &now)).collect();
                let rows = d1::run_first_rows(db, &claims).await.map_err(storage)?;
                let recorded: Vec<bool> = rows.iter().map(Option::is_some).collect();
                let jobs: Vec<Job> =
                    fixes.into_iter().zip(&recorded).filter(|(_, r)| **r).filter_map(|(f, _)| f.job).collect();
                for chunk in jobs.chunks(QUEUE_BATCH) {
                    enqueue(env, chunk.to_vec()).await?;
                }
                Input::Queued(recorded)
            }
            Action::Continue { delay_secs, error } => {
                let until = store::lease_until(Date::now().as_millis() as i64, delay_secs);
                let write = store::progress(&job.run, &job.counts, error.as_deref(), &until, &now());
                d1::run(db, &[write]).await.map_err(storage)?;
                enqueue_after(env, Job::GithubReconcile(job.clone()), delay_secs).await?;
                log(&job, "continues", error.as_deref());
                return Ok(Outcome::done());
            }
            Action::Stale => return Ok(Outcome::done()),
            Action::Finish => return end(db, &job, "done", None).await,
            Action::Fail(why) => return end(db, &job, "failed", Some(&why)).await,
        };
    }
}

async fn end(
    db: &D1Database,
    job: &ReconcileJob,
    status: &str,
    why: Option<&str>,
) -> std::result::Result<Outcome, CallError> {
    d1::run(db, &[store::finish(&job.run, status, &job.counts, why, &now())]).await.map_err(storage)?;
    log(job, status, why);
    Ok(Outcome::done())
}

fn log(job: &ReconcileJob, status: &str, error: Option<&str>) {
    let line = json!({ "event": "github_reconcile", "run": job.run, "org": job.org, "dry_run": job.dry_run,
        "status": status, "counts": job.counts, "error": error });
    console_log!("{line}");
}

fn now() -> String {
    format_millis(Date::now().as_millis() as i64)
}
