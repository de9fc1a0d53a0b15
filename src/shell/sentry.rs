//! The Sentry webhook endpoint: read, hand to the core, apply its plan and
//! the delivery record in one D1 batch. A delivery the core decides from
//! what D1 knows is first planned on the core's guess, checked inside that
//! batch; when the batch is refused, D1 is read and the core decides again.

use super::env::{config, db};
use super::{d1, http};
use crate::config::{Config, MAX_BODY_BYTES};
use crate::error::AppError;
use crate::jobs::Job;
use crate::plan::{Guarded, Plan, Reply};
use crate::sentry::decide;
use crate::sentry::hook::{self, Delivery, Pending, Step};
use crate::sql::Stmt;
use crate::store::deliveries;
use crate::time::format_millis;
use crate::verify::one_signature;
use crate::webhook::sentry::{self as sentry_ack, After, Path};
use crate::webhook::{self, Ack, Failed, Undo};
use worker::{console_log, D1Database, Date, Env, Request, Response, Result};

/// What the core decided for one delivery, before it is recorded.
pub(super) struct Outcome {
    reply: std::result::Result<Reply, AppError>,
    verdict: &'static str,
    action: Option<String>,
    detail: Option<String>,
    digest: Option<String>,
    statements: Vec<Stmt>,
    jobs: Vec<Job>,
    guard: Option<Guarded>,
    /// A plan on the core's guess: the delivery to decide again from D1's
    /// answer if the batch's check refuses the guess.
    fallback: Option<Fallback>,
}

pub(super) struct Fallback {
    pending: Box<Pending>,
    internal: bool,
}

impl Outcome {
    pub(super) fn rejected(e: AppError) -> Self {
        Outcome {
            verdict: e.code(),
            reply: Err(e),
            action: None,
            detail: None,
            digest: None,
            statements: vec![],
            jobs: vec![],
            guard: None,
            fallback: None,
        }
    }
}

pub async fn webhook(mut req: Request, env: &Env) -> Result<Response> {
    let started = Date::now().as_millis();
    let request_id = http::header(&req, "Request-ID");
    let resource = http::header(&req, "Sentry-Hook-Resource");
    let (outcome, body) = match http::read_body(&mut req, MAX_BODY_BYTES).await {
        Ok(body) => (accept(&req, env, resource.as_deref(), &body).unwrap_or_else(Outcome::rejected), body),
        Err(e) => (Outcome::rejected(e), vec![]),
    };
    let received = Received { started, request_id: request_id.as_deref(), resource: resource.as_deref(), body: &body };
    finish(env, received, outcome, None).await
}

/// What arrived, as the delivery log records it.
pub(super) struct Received<'a> {
    pub started: u64,
    pub request_id: Option<&'a str>,
    pub resource: Option<&'a str>,
    pub body: &'a [u8],
}

/// Records the delivery (keeping its body when the verdict asks for it),
/// applies the plan and answers. Shared by the webhook and the replay of a
/// kept delivery (`replay_of`).
pub(super) async fn finish(
    env: &Env,
    r: Received<'_>,
    mut outcome: Outcome,
    replay_of: Option<i64>,
) -> Result<Response> {
    let received_at = format_millis(r.started as i64);
    let arrived = webhook::Received {
        source: "sentry",
        received_at: &received_at,
        request_id: r.request_id,
        resource: r.resource,
        replay_of,
    };
    let done = webhook::Done {
        status: outcome.reply.as_ref().map_or_else(AppError::status, |r| r.status),
        verdict: outcome.verdict,
        action: outcome.action.as_deref(),
        detail: outcome.detail.as_deref(),
        digest: outcome.digest.as_deref(),
    };
    let record = webhook::record(&arrived, done, Date::now().as_millis().saturating_sub(r.started) as u32);
    let at = (Date::now().as_millis() as i64, config(env).log_deliveries);
    if sentry_ack::path(outcome.verdict) == Path::Enqueue {
        let queued = super::queue::enqueue(env, std::mem::take(&mut outcome.jobs)).await.map_err(AppError::from);
        let answered = sentry_ack::after_enqueue(queued, outcome.reply, record, r.body, at);
        return respond(env, answered, r.request_id).await;
    }
    let mut batch = std::mem::take(&mut outcome.statements);
    batch.extend(deliveries::record_with_body(&record, r.body, at.0));
    let undo = Undo::Delivery { digest: outcome.digest.clone() };
    let ack = Ack {
        statements: batch,
        jobs: std::mem::take(&mut outcome.jobs),
        guard: outcome.guard.take(),
        unseen: None,
        undo,
    };
    let ran = match db(env) {
        Ok(db) => super::webhook::execute(env, &db, ack).await.map(|_| ()),
        Err(e) => Err(Failed::Unknown(e)),
    };
    match sentry_ack::after_batch(ran, outcome.fallback.take(), outcome.reply, record, r.body, at) {
        After::DecideAgain(f) => {
            let decided = match db(env) {
                Ok(db) => read_then_decide(&db, f).await.unwrap_or_else(Outcome::rejected),
                Err(e) => Outcome::rejected(e),
            };
            Box::pin(finish(env, r, decided, replay_of)).await
        }
        After::Answer(answered) => respond(env, answered, r.request_id).await,
    }
}

/// Logs, writes the record of a failure (best effort: the answer stands),
/// and answers.
async fn respond(env: &Env, a: sentry_ack::Answered, request_id: Option<&str>) -> Result<Response> {
    a.line.iter().for_each(|line| console_log!("{line}"));
    if !a.writes.is_empty() {
        if let Ok(db) = db(env) {
            let _ = d1::run(&db, &a.writes).await;
        }
    }
    match &a.reply {
        Ok(reply) => http::json_response(reply),
        Err(e) => http::error_response(e).map(|resp| with_hook_error(resp, request_id)),
    }
}

/// Verifies and parses, then lets the core plan.
fn accept(req: &Request, env: &Env, resource: Option<&str>, body: &[u8]) -> std::result::Result<Outcome, AppError> {
    let signature =
        one_signature(http::header(req, "Sentry-Hook-Signature"), http::header(req, "Sentry-App-Signature"));
    let authorization = http::header(req, "Authorization");
    let request_id = http::header(req, "Request-ID");
    let delivery = Delivery {
        resource,
        signature: signature.as_deref(),
        timestamp: None,
        authorization: authorization.as_deref(),
        request_id: request_id.as_deref(),
        body,
    };
    let cfg = config(env);
    let step = hook::handle(&cfg, &delivery, Date::now().as_millis() as i64)?;
    Ok(decide(&cfg, step))
}

/// The core's plan for a parsed delivery: as it stands, or on the core's
/// guess of what D1 knows (with what to decide again if the guess is wrong).
pub(super) fn decide(cfg: &Config, step: Step) -> Outcome {
    match step {
        Step::Ready(plan) => outcome(plan, None),
        Step::Lookup(pending) => {
            let internal = cfg.internal.is_some();
            let plan = decide::guessed(&pending, internal);
            let digest = Some(pending.lookup.body_sha256.clone());
            Outcome { fallback: Some(Fallback { pending, internal }), ..outcome(plan, digest) }
        }
    }
}

/// Reads what D1 knows of the delivery, and lets the core decide from it.
async fn read_then_decide(db: &D1Database, f: Fallback) -> std::result::Result<Outcome, AppError> {
    let row = d1::first(db, deliveries::LOOKUP, &deliveries::lookup_params(&f.pending.lookup)).await?;
    let digest = Some(f.pending.lookup.body_sha256.clone());
    Ok(outcome(decide::decide(*f.pending, &deliveries::prior_from_row(row.as_ref(), f.internal)), digest))
}

fn outcome(plan: Plan, digest: Option<String>) -> Outcome {
    let Plan { statements, jobs, guard, reply, verdict } = plan;
    Outcome {
        reply: Ok(reply),
        verdict: verdict.outcome.as_str(),
        action: Some(verdict.action),
        detail: verdict.detail,
        digest,
        statements,
        jobs,
        guard,
        fallback: None,
    }
}

/// Sentry's request log shows this header's value next to a failed delivery.
fn with_hook_error(mut resp: Response, request_id: Option<&str>) -> Response {
    if let Some(id) = sentry_ack::echoed_request_id(request_id) {
        let _ = resp.headers_mut().set("Sentry-Hook-Error", id);
    }
    resp
}
