//! The queue consumer. Each message is one `Job`; every message is acked or
//! retried on its own and the handler never fails the batch (an `Err` would
//! trap the instance and retry every message). Messages that exhausted their
//! retries arrive from the dead-letter queue and leave a visible error.

use super::d1::text;
use super::env::{config, db};
use super::queue::enqueue;
use super::tokens::{access_token, storage};
use super::{d1, fetch, github_reconcile, github_sync, sentry_sync};
use crate::config::Config;
use crate::jobs::{Job, Outcome};
use crate::outbound::{self, CallError};
use crate::sentry::errors::ErrorRecord;
use crate::sentry::installation::{self as install, Activation};
use crate::sentry::{members, token};
use crate::settle;
use crate::sql::Stmt;
use crate::store::errors as errors_store;
use crate::store::github::Prelude;
use crate::store::installations as store;
use crate::store::writeback as writeback_store;
use crate::time::format_millis;
use crate::writeback::{self, Push, WriteBackJob};
use futures_util::future::{join, join_all};
use serde_json::{json, Value};
use worker::{console_log, D1Database, Date, Env, MessageBatch, MessageExt, QueueRetryOptionsBuilder, RawMessage};

pub async fn consume(batch: MessageBatch<Value>, env: &Env) {
    let dead = settle::is_dead_letter(&batch.queue());
    let cfg = config(env);
    let db = match db(env) {
        Ok(db) => db,
        Err(e) => {
            log("queue_storage_unavailable", json!({ "error": format!("{e:?}") }));
            match settle::not_started(cfg.retry) {
                settle::Ack::Retry { delay_secs } => batch.retry_all_with_options(&delay(delay_secs)),
                settle::Ack::Ack => batch.ack_all(),
            }
            return;
        }
    };
    let mut events: Vec<(RawMessage, ErrorRecord)> = vec![];
    let mut jobs: Vec<(RawMessage, Job)> = vec![];
    for msg in batch.raw_iter() {
        match parse(&msg) {
            Ok(Job::ErrorEvent(record)) => events.push((msg, *record)),
            Ok(job) => jobs.push((msg, job)),
            Err(why) => {
                log("job_unreadable", json!({ "id": msg.id(), "error": why }));
                apply(&db, &msg, settle::unreadable(&msg.id(), &why, &now())).await;
            }
        }
    }
    if dead {
        bury_all(&db, &events, &jobs).await;
        return;
    }
    ingest_errors(&cfg, &db, &events).await;
    // Concurrently: a slow API call for one installation does not hold up
    // the others, and jobs that need the same token meet at its lease.
    // GitHub sync jobs run one after another in arrival order, so a team is
    // created before a membership in the same batch needs it.
    let (github, others): (Vec<_>, Vec<_>) = jobs.iter().partition(|(_, job)| job.github_delivery().is_some());
    let in_order = in_waves(&cfg, env, &db, &github);
    join(join_all(others.into_iter().map(|(m, job)| handle(&cfg, env, &db, m, job))), in_order).await;
}

/// GitHub sync jobs one after another, in `jobs::waves`: one D1 batch
/// records the wave before and starts the next (its jobs' rows and
/// preludes), so a wave of distinct teams (up to `jobs::WAVE_MAX`) costs
/// one round trip, not two a job. A job that sent a call is recorded at
/// once, on its own: what a create did is never left waiting on other
/// jobs. If a batch fails, each of its settlements is recorded on its own
/// and the jobs not yet run go the one-by-one way (`handle`), in order.
async fn in_waves(cfg: &Config, env: &Env, db: &D1Database, jobs: &[&(RawMessage, Job)]) {
    let waves = crate::jobs::waves(&jobs.iter().map(|(_, job)| job).collect::<Vec<_>>());
    let mut done: Vec<(&RawMessage, settle::Settlement)> = vec![];
    for (k, wave) in waves.iter().enumerate() {
        let wave: Vec<&(RawMessage, Job)> = wave.iter().map(|&i| jobs[i]).collect();
        let starts: Vec<Vec<Stmt>> = wave.iter().map(|(m, job)| settle::start(&m.id(), job, &now())).collect();
        let recorded = writes_of(&done);
        let batch: Vec<Stmt> = recorded.iter().chain(starts.iter().flatten()).cloned().collect();
        let rows = match d1::run_first_rows(db, &batch).await.map_err(storage) {
            Ok(rows) => rows,
            Err(e) => {
                unrecorded(&done, e.detail());
                for (m, s) in done {
                    apply(db, m, s).await;
                }
                for &i in waves[k..].iter().flatten() {
                    handle(cfg, env, db, &jobs[i].0, &jobs[i].1).await;
                }
                return;
            }
        };
        done.drain(..).for_each(|(m, s)| tell(m, s.ack));
        let mut at = recorded.len();
        for ((msg, job), start) in wave.into_iter().zip(&starts) {
            let mine = rows.get(at..at + start.len()).unwrap_or_default();
            at += start.len();
            let (attempt, prelude) = settle::started(mine);
            let calls = fetch::sent();
            let outcome = run(cfg, env, db, job, attempt, prelude).await;
            let s = settled(cfg, env, msg, job, attempt, outcome).await;
            match fetch::sent() == calls {
                true => done.push((msg, s)),
                false => apply(db, msg, s).await,
            }
        }
    }
    for (m, s) in done_in_one(db, done).await {
        apply(db, m, s).await;
    }
}

/// Records the last wave's settlements in one batch; those it could not
/// record, to be recorded one by one.
async fn done_in_one<'a>(
    db: &D1Database,
    done: Vec<(&'a RawMessage, settle::Settlement)>,
) -> Vec<(&'a RawMessage, settle::Settlement)> {
    match d1::run(db, &writes_of(&done)).await {
        Ok(()) => {
            done.into_iter().for_each(|(m, s)| tell(m, s.ack));
            vec![]
        }
        Err(e) => {
            unrecorded(&done, &format!("{e:?}"));
            done
        }
    }
}

fn writes_of(done: &[(&RawMessage, settle::Settlement)]) -> Vec<Stmt> {
    done.iter().flat_map(|(_, s)| s.writes.iter().cloned()).collect()
}

/// The line of a batch that could not record these settlements.
fn unrecorded(done: &[(&RawMessage, settle::Settlement)], error: &str) {
    let ids: Vec<String> = done.iter().map(|(m, _)| m.id()).collect();
    log("jobs_batch_failed", json!({ "recording": ids, "error": error }));
}

/// A batch of error events in one D1 batch. If that fails, each event is
/// tried on its own so one bad event cannot hold the rest back; what still
/// fails is retried, and after the retries goes to the dead-letter queue.
async fn ingest_errors(cfg: &Config, db: &D1Database, events: &[(RawMessage, ErrorRecord)]) {
    if events.is_empty() {
        return;
    }
    let records: Vec<ErrorRecord> = events.iter().map(|(_, r)| r.clone()).collect();
    let started = Date::now().as_millis();
    let Err(e) = d1::run(db, &errors_store::ingest(&records, &now())).await else {
        events.iter().for_each(|(m, _)| m.ack());
        let ms = Date::now().as_millis().saturating_sub(started);
        log("errors_ingested", json!({ "events": events.len(), "round_trips": 1, "write_ms": ms }));
        return;
    };
    log("errors_batch_failed", json!({ "events": events.len(), "error": format!("{e:?}") }));
    for (msg, record) in events {
        match d1::run(db, &errors_store::ingest(std::slice::from_ref(record), &now())).await {
            Ok(()) => msg.ack(),
            Err(e) => {
                let job = Job::ErrorEvent(Box::new(record.clone()));
                let attempt = start(db, &msg.id(), &job).await.ok();
                let s = settle::event_failed(&msg.id(), attempt, &format!("{e:?}"), cfg.retry, &now());
                log(
                    "error_event_failed",
                    json!({ "id": msg.id(), "event": record.event_id, "attempt": attempt, "error": s.error }),
                );
                apply(db, msg, s).await;
            }
        }
    }
}

/// Dead-lettered messages: recorded (and counted on `/api/errors/stats` or
/// shown on the installation), then acknowledged.
async fn bury_all(db: &D1Database, events: &[(RawMessage, ErrorRecord)], jobs: &[(RawMessage, Job)]) {
    for (msg, record) in events {
        let s = settle::bury_event(record, &msg.id(), &now());
        log("job_dead", json!({ "id": msg.id(), "kind": "error_event", "error": s.error }));
        apply(db, msg, s).await;
    }
    for (msg, job) in jobs {
        let params = [msg.id().into(), job.kind().into(), job.installation().into()];
        let last = d1::first(db, store::LAST_JOB, &params).await.ok().flatten();
        let last = settle::LastAttempt {
            id: last.as_ref().and_then(|r| text(r, "id")),
            attempts: last.as_ref().and_then(|r| r.get("attempts")).and_then(Value::as_f64).unwrap_or(0.0) as u32,
            error: last.as_ref().and_then(|r| text(r, "last_error")),
        };
        let s = settle::bury(job, &msg.id(), &last, &now());
        log(
            "job_dead",
            json!({ "id": msg.id(), "kind": job.kind(), "installation": job.installation(), "error": s.error }),
        );
        apply(db, msg, s).await;
    }
}

async fn handle(cfg: &Config, env: &Env, db: &D1Database, msg: &RawMessage, job: &Job) {
    let id = msg.id();
    let rows = match d1::run_first_rows(db, &settle::start(&id, job, &now())).await.map_err(storage) {
        Ok(rows) => rows,
        Err(e) => {
            log("job_not_started", json!({ "id": id, "kind": job.kind(), "error": e.detail() }));
            tell(msg, settle::not_started(cfg.retry));
            return;
        }
    };
    let (attempt, prelude) = settle::started(&rows);
    let outcome = run(cfg, env, db, job, attempt, prelude).await;
    let s = settled(cfg, env, msg, job, attempt, outcome).await;
    apply(db, msg, s).await;
}

fn parse(msg: &RawMessage) -> Result<Job, String> {
    let text = worker::js_sys::JSON::stringify(&msg.body()).map_err(|_| "body is not JSON".to_string())?;
    serde_json::from_str(&String::from(text)).map_err(|e| format!("not a job: {e}"))
}

async fn start(db: &D1Database, id: &str, job: &Job) -> Result<u32, CallError> {
    let rows = d1::run_first_rows(db, &settle::start(id, job, &now())).await.map_err(storage)?;
    Ok(settle::started(&rows).0)
}

async fn run(cfg: &Config, env: &Env, db: &D1Database, job: &Job, attempt: u32, prelude: Option<Prelude>) -> Outcome {
    let result = match job {
        Job::ActivateInstallation { installation } => activate(cfg, db, installation).await,
        Job::VerifyInstallation { installation } => verify(cfg, db, installation).await,
        Job::SyncMembers { installation } => sync_members(cfg, db, installation).await,
        Job::GithubTeam(j) => github_sync::team(cfg, db, j, attempt, prelude).await,
        Job::GithubMembership(j) => github_sync::membership(cfg, db, j, attempt, prelude).await,
        Job::GithubReconcile(j) => github_reconcile::step(cfg, env, db, j).await,
        Job::SyncPage(j) => sentry_sync::page(cfg, env, db, j).await,
        Job::WriteBack(j) => write_back(cfg, db, j).await,
        Job::Reread(j) => super::reread::run(cfg, db, j).await,
        // Consumed in batches by `ingest_errors`, never one by one.
        Job::ErrorEvent(_) => Ok(Outcome::done()),
    };
    result.unwrap_or_else(|e| Outcome::from_error(e, cfg.retry, attempt))
}

/// The attempt's settlement (its follow-up jobs queued first), and its log line.
async fn settled(
    cfg: &Config,
    env: &Env,
    msg: &RawMessage,
    job: &Job,
    attempt: u32,
    outcome: Outcome,
) -> settle::Settlement {
    let outcome = match outcome {
        Outcome::Done { follow_up, writes } if !follow_up.is_empty() => match enqueue(env, follow_up).await {
            Ok(()) => Outcome::done_with(writes),
            Err(e) => settle::follow_up_unqueued(e.to_string()),
        },
        other => other,
    };
    let s = settle::settle(job, &msg.id(), attempt, &outcome, cfg.retry, &now());
    if s.logged(cfg.log_deliveries) {
        let line = json!({ "id": msg.id(), "kind": job.kind(), "installation": job.installation(), "attempt": attempt,
            "status": s.status.as_str(), "error": s.error });
        log("job", line);
    }
    s
}

/// Writes the records, then tells the queue: a message is acknowledged
/// only after what it leaves behind is recorded (or, when losing those
/// writes loses nothing the job learnt, the write failed).
async fn apply(db: &D1Database, msg: &RawMessage, s: settle::Settlement) {
    if let Err(e) = d1::run(db, &s.writes).await {
        log("job_record_failed", json!({ "id": msg.id(), "error": format!("{e:?}") }));
        return tell(msg, s.unrecorded);
    }
    tell(msg, s.ack);
}

fn tell(msg: &RawMessage, ack: settle::Ack) {
    match ack {
        settle::Ack::Retry { delay_secs } => msg.retry_with_options(&delay(delay_secs)),
        settle::Ack::Ack => msg.ack(),
    }
}

fn delay(secs: u32) -> worker::QueueRetryOptions {
    QueueRetryOptionsBuilder::new().with_delay_seconds(secs).build()
}

// ---- The jobs -----------------------------------------------------------------

async fn installation(db: &D1Database, uuid: &str) -> Result<Option<(install::Stored, Option<String>)>, CallError> {
    let row = d1::first(db, store::INSTALLATION, &[uuid.into()]).await.map_err(storage)?;
    Ok(row.map(|r| {
        let stored = install::Stored {
            status: text(&r, "status").unwrap_or_default(),
            mode: text(&r, "mode").unwrap_or_default(),
            grant_code: text(&r, "grant_code"),
        };
        (stored, text(&r, "org_slug"))
    }))
}

async fn activate(cfg: &Config, db: &D1Database, uuid: &str) -> Result<Outcome, CallError> {
    let stored = installation(db, uuid).await?;
    let has_token = d1::exists(db, store::TOKEN, &[uuid.into()]).await.map_err(storage)?;
    let status = stored.as_ref().map(|(s, _)| s.status.clone()).unwrap_or_default();
    match install::activation(uuid, stored.as_ref().map(|(s, _)| s), has_token, cfg.internal.is_some()) {
        Activation::Nothing => Ok(Outcome::done()),
        Activation::FollowUp(jobs) => Ok(Outcome::follow_up(jobs)),
        Activation::Fail(why) => Ok(Outcome::Fail { error: why }),
        Activation::Exchange(code) => {
            let call = token::exchange_call(cfg, uuid, &code)?;
            let reply = fetch::send("token exchange", &call, cfg.http_timeout_ms).await?;
            let fresh = token::parse("token exchange", &reply)?;
            d1::run(db, &store::save_token(uuid, &fresh, true, &now())).await.map_err(storage)?;
            Ok(Outcome::follow_up(install::follow_up(uuid, &status)))
        }
    }
}

async fn verify(cfg: &Config, db: &D1Database, uuid: &str) -> Result<Outcome, CallError> {
    let stored = installation(db, uuid).await?;
    match install::verify_check(uuid, stored.as_ref().map(|(s, _)| s)) {
        install::Check::Done => return Ok(Outcome::done()),
        install::Check::Fail(error) => return Ok(Outcome::Fail { error }),
        install::Check::Run(()) => {}
    }
    let bearer = access_token(cfg, db, uuid).await?;
    let reply =
        fetch::send("verify installation", &token::verify_call(cfg, uuid, &bearer), cfg.http_timeout_ms).await?;
    outbound::check("verify installation", &reply)?;
    d1::run(db, &[store::mark_installed(uuid, &now())]).await.map_err(storage)?;
    Ok(Outcome::done())
}

async fn sync_members(cfg: &Config, db: &D1Database, uuid: &str) -> Result<Outcome, CallError> {
    let (stored, org) = installation(db, uuid).await?.map_or((None, None), |(s, org)| (Some(s), org));
    let org = match install::members_check(uuid, stored.as_ref(), org) {
        install::Check::Done => return Ok(Outcome::done()),
        install::Check::Fail(error) => return Ok(Outcome::Fail { error }),
        install::Check::Run(org) => org,
    };
    let bearer = access_token(cfg, db, uuid).await?;
    let started = now();
    let mut call = members::first_page(cfg, &org, &bearer);
    for pages in 1.. {
        let reply = fetch::send("list members", &call, cfg.http_timeout_ms).await?;
        let (page, next) = members::parse_page(&reply)?;
        let writes: Vec<Stmt> = page.iter().map(|m| store::upsert_member(uuid, m, &now())).collect();
        d1::run(db, &writes).await.map_err(storage)?;
        match members::after_page(pages, next) {
            members::AfterPage::Next(url) => call = members::next_page(cfg, url, &bearer)?,
            members::AfterPage::Prune => break,
            members::AfterPage::Stop => return Ok(Outcome::done()),
        }
    }
    d1::run(db, &[store::prune_members(uuid, &started)]).await.map_err(storage)?;
    Ok(Outcome::done())
}

fn now() -> String {
    format_millis(Date::now().as_millis() as i64)
}

fn log(event: &str, fields: Value) {
    let mut line = fields;
    line["event"] = json!(event);
    console_log!("{line}");
}

/// Pushes a board change to Sentry: the card's pending fields, with the
/// token of its installation (or the internal integration's).
async fn write_back(cfg: &Config, db: &D1Database, job: &WriteBackJob) -> Result<Outcome, CallError> {
    let row = d1::first(db, writeback_store::PENDING, &[job.card.as_str().into()]).await.map_err(storage)?;
    let card = row.as_ref().map(writeback_store::pending_from_row);
    let (org, installation, body) = match writeback::plan(cfg, job, card.as_ref()) {
        Push::Skip(why) => {
            log("write_back_skipped", json!({ "card": job.card, "why": why }));
            return Ok(Outcome::done());
        }
        Push::Fail(why) => return Ok(Outcome::Fail { error: why }),
        Push::Send { org, installation, body } => (org, installation, body),
    };
    let bearer = super::tokens::bearer(cfg, db, installation.as_deref()).await?;
    let call = writeback::call(cfg, &org, &job.card, &body, &bearer);
    let reply = fetch::send("update issue", &call, cfg.http_timeout_ms).await?;
    outbound::check("update issue", &reply)?;
    Ok(Outcome::done())
}
