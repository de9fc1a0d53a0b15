//! verify → parse → decide for one Sentry webhook delivery.
//!
//! A verified delivery is a hint, not the truth: nothing replay-resistant is
//! signed, and Sentry's retries carry fresh headers over frozen or
//! re-serialised bodies. So a parsed issue or comment is `Step::Lookup`:
//! what D1 knows of it (`Lookup`: seen before? the card as it stands? a
//! token to re-read with?) decides it, in `sentry/decide.rs`.

use super::wire::{assignee_from, Envelope, InstallationRef, IssueData, IssueEnvelope};
use crate::board::{issue_state, AssigneeChange, Comment, CommentAction, IssueAction, IssueState};
use crate::config::{Config, MAX_BODY_BYTES};
use crate::error::AppError;
use crate::plan::{Plan, Reply, Verdict};
use crate::prior::Lookup;
use crate::sql::Stmt;
use crate::store;
use crate::time::{format_millis, Millis};
use crate::verify;
use crate::webhook::verdict::Outcome;
use serde_json::json;

/// The parts of a Sentry request the core needs, lifted out of HTTP.
#[derive(Debug, Clone, Default)]
pub struct Delivery<'a> {
    pub resource: Option<&'a str>,
    /// `Sentry-Hook-Signature`, or `Sentry-App-Signature` for UI components.
    pub signature: Option<&'a str>,
    /// `Sentry-Hook-Timestamp`: unsigned and new on every retry, so it orders
    /// nothing and is not read.
    pub timestamp: Option<&'a str>,
    /// `Authorization`, checked only when a bearer is configured.
    pub authorization: Option<&'a str>,
    /// `Request-ID`: new on every attempt; with the body, an exact replay's key.
    pub request_id: Option<&'a str>,
    pub body: &'a [u8],
}

/// The first step's answer.
#[derive(Debug, Clone, PartialEq)]
// One Step per delivery, matched at once: boxing `Ready` would only move callers' code.
#[allow(clippy::large_enum_variant)]
pub enum Step {
    /// Decided without reading D1: error events (queued), skipped and
    /// unusable deliveries.
    Ready(Plan),
    /// Decided once D1 answers `Pending::lookup` (see `decide::decide`), or
    /// on the core's guess of its answer (`decide::guessed`).
    Lookup(Box<Pending>),
}

/// A verified, parsed delivery waiting for what D1 knows of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Pending {
    pub lookup: Lookup,
    pub(super) event: Event,
    /// The internal installation's row, written with the first write.
    pub(super) internal_row: Option<Stmt>,
    pub(super) now: Millis,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Event {
    Issue {
        action: String,
        state: Box<IssueState>,
        project: Option<String>,
        /// `issue.assigned` whose snapshot shows nobody assigned: a retry sent
        /// after an unassignment (whose `data.assignee` is stale).
        shows_nobody: bool,
        /// `actor.name`, for the card's history.
        actor: Option<String>,
    },
    Comment {
        action: String,
        comment: Comment,
        kind: CommentAction,
    },
    /// Planned already (installations, alerts): only the replay checks apply.
    Planned(Box<Plan>),
}

/// Authenticates and parses one delivery. Nothing is planned unless the
/// signature over the raw bytes is good; once it is, the delivery is
/// accepted (2xx) even when its content cannot be used.
pub fn handle(cfg: &Config, d: &Delivery, now: Millis) -> Result<Step, AppError> {
    if d.body.len() > MAX_BODY_BYTES {
        return Err(AppError::PayloadTooLarge { limit: MAX_BODY_BYTES });
    }
    verify::check_hex_hmac(cfg.sentry_secret.as_deref(), d.body, d.signature).map_err(AppError::Unauthorized)?;
    if let Some(bearer) = &cfg.sentry_bearer {
        verify::check_bearer(bearer, d.authorization).map_err(AppError::Unauthorized)?;
    }
    handle_verified(cfg, d, now)
}

/// Parses a delivery whose signature was checked, on arrival or when its
/// body was kept for a replay (`POST /api/deliveries/{id}/replay`).
pub fn handle_verified(cfg: &Config, d: &Delivery, now: Millis) -> Result<Step, AppError> {
    let resource = d.resource.unwrap_or("").trim().to_ascii_lowercase();
    // JSON is UTF-8; the parsers check only the strings they read, not
    // the ones they skip.
    if std::str::from_utf8(d.body).is_err() {
        return Ok(Step::Ready(unusable(&resource, "", "the body is not UTF-8")));
    }
    if matches!(resource.as_str(), "error" | "event") {
        return Ok(Step::Ready(
            plan_error(cfg, &resource, d.body, now).unwrap_or_else(|e| unusable_from(&resource, "", e)),
        ));
    }
    let typed = (resource == "issue").then(|| serde_json::from_slice::<IssueEnvelope>(d.body).ok()).flatten();
    let (action, parsed) = match typed {
        Some(env) => (env.action.clone(), Ok(issue_typed(cfg, env, now))),
        None => {
            let env: Envelope = match serde_json::from_slice(d.body) {
                Ok(env) => env,
                Err(e) => {
                    let why = format!("the body is not a JSON webhook envelope: {e}");
                    return Ok(Step::Ready(unusable(&resource, "", &why)));
                }
            };
            (env.action.clone(), parse(cfg, &resource, env, now))
        }
    };
    match parsed {
        Ok(Parsed::Ready(plan)) => Ok(Step::Ready(plan)),
        Ok(Parsed::Event { event, issue_id, installation, internal_row }) => {
            let lookup = Lookup {
                request_id: d.request_id.map(str::trim).filter(|r| !r.is_empty()).map(str::to_string),
                body_sha256: verify::body_digest(d.body),
                resource,
                issue_id,
                installation,
            };
            Ok(Step::Lookup(Box::new(Pending { lookup, event, internal_row, now })))
        }
        Err(e) => Ok(Step::Ready(unusable_from(&resource, &action, e))),
    }
}

#[derive(Debug)]
enum Parsed {
    Ready(Plan),
    Event { event: Event, issue_id: Option<String>, installation: Option<String>, internal_row: Option<Stmt> },
}

fn parse(cfg: &Config, resource: &str, env: Envelope, now: Millis) -> Result<Parsed, AppError> {
    let at = format_millis(now);
    let action = env.action.clone();
    let installation = env.installation.as_ref().and_then(|i| i.uuid.clone());
    let internal_row =
        internal_installation(cfg, env.installation.as_ref(), &at).filter(|_| resource != "installation");
    let planned = |plan: Option<Plan>, row: Option<Stmt>| match plan {
        Some(plan) => Parsed::Event {
            event: Event::Planned(Box::new(plan)),
            issue_id: None,
            installation: None,
            internal_row: row,
        },
        None => Parsed::Ready(skipped(resource, &action, "action not handled")),
    };
    let (event, issue_id) = match resource {
        "installation" => return super::installation::plan(cfg, &env, &at, &at).map(|p| planned(p, None)),
        "event_alert" => return super::alerts::plan_event_alert(&env, &at, &at).map(|p| planned(p, internal_row)),
        "metric_alert" => return super::alerts::plan_metric_alert(&env, &at, &at).map(|p| planned(p, internal_row)),
        "issue" => match parse_issue(env)? {
            Some((state, event)) => (event, Some(state)),
            None => return Ok(planned(None, None)),
        },
        "comment" => match super::comments::parse(&env, &at)? {
            Some((comment, kind)) => {
                let id = comment.issue_id.clone();
                (Event::Comment { action: action.clone(), comment, kind }, Some(id))
            }
            None => return Ok(planned(None, None)),
        },
        _ => return Ok(Parsed::Ready(skipped(resource, &action, "resource not handled"))),
    };
    Ok(Parsed::Event { event, issue_id, installation, internal_row })
}

/// An issue delivery read by `IssueEnvelope`, as `parse` would read it.
fn issue_typed(cfg: &Config, env: IssueEnvelope, now: Millis) -> Parsed {
    let internal_row = internal_installation(cfg, env.installation.as_ref(), &format_millis(now));
    let IssueEnvelope { action, installation, data, actor } = env;
    let installation = installation.and_then(|i| i.uuid);
    let actor = actor_name(actor.as_ref());
    let Some((id, event)) = issue_event(action.clone(), installation.clone(), actor, data) else {
        return Parsed::Ready(skipped("issue", &action, "action not handled"));
    };
    Parsed::Event { event, issue_id: Some(id), installation, internal_row }
}

/// In internal-integration mode the installation is never announced by an
/// installation.created webhook: the first delivery records it, under the
/// configured organization, so cards can be filtered by organization.
fn internal_installation(cfg: &Config, installation: Option<&InstallationRef>, now: &str) -> Option<Stmt> {
    let internal = cfg.internal.as_ref()?;
    let uuid = installation?.uuid.as_deref()?;
    Some(crate::store::installations::ensure_internal(uuid, &internal.org_slug, now))
}

/// The issue id and the event; `None` for an action the board does not handle.
fn parse_issue(env: Envelope) -> Result<Option<(String, Event)>, AppError> {
    let data: IssueData = serde_json::from_value(env.data)
        .map_err(|e| AppError::BadRequest(format!("issue webhook without a usable data.issue: {e}")))?;
    let actor = actor_name(env.actor.as_ref());
    Ok(issue_event(env.action, env.installation.and_then(|i| i.uuid), actor, data))
}

/// `actor.name`, for the card's history.
fn actor_name(actor: Option<&serde_json::Value>) -> Option<String> {
    actor?.get("name")?.as_str().map(str::to_string)
}

fn issue_event(
    action_name: String,
    installation: Option<String>,
    actor: Option<String>,
    data: IssueData,
) -> Option<(String, Event)> {
    let named = data.assignee.as_ref().and_then(assignee_from);
    let action = IssueAction::parse(&action_name, named)?;
    let (snapshot, assigned_to) = data.issue.into_snapshot(installation);
    let project = snapshot.project_id.clone().filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    let id = snapshot.id.clone();
    let shows_nobody = matches!(action, IssueAction::Assigned(_)) && assigned_to == AssigneeChange::Set(None);
    let state = issue_state(action, snapshot, assigned_to);
    Some((id, Event::Issue { action: action_name, state: Box::new(state), project, shows_nobody, actor }))
}

/// Error events are only condensed and queued: no D1 work on the ack path,
/// because they arrive for every event of every issue.
fn plan_error(cfg: &Config, resource: &str, body: &[u8], now: Millis) -> Result<Plan, AppError> {
    let action = super::errors::action_of(body)?;
    if !super::errors::is_error_event(resource, &action) {
        return Ok(skipped(resource, &action, "action not handled"));
    }
    let record = super::errors::condense_body(body, now)?;
    if cfg.error_log_direct {
        let reply = Reply::ok(json!({ "ok": true, "stored": record.event_id, "issue": record.issue_id }));
        let statements = store::errors::ingest(std::slice::from_ref(&record), &format_millis(now));
        return Ok(Plan::writes(statements, reply, Verdict::new(resource, &action, Outcome::Applied)));
    }
    let reply = Reply::ok(json!({ "ok": true, "queued": record.event_id, "issue": record.issue_id }));
    Ok(Plan {
        statements: vec![],
        jobs: vec![crate::jobs::Job::ErrorEvent(Box::new(record))],
        guard: None,
        reply,
        verdict: Verdict::new(resource, &action, QUEUED),
    })
}

/// The verdict of a delivery that was only queued.
pub const QUEUED: Outcome = Outcome::Queued;
/// The verdict of a verified delivery whose content cannot be used.
pub const UNUSABLE: Outcome = Outcome::Unusable;

fn skipped(resource: &str, action: &str, why: &str) -> Plan {
    Plan::answer(Reply::ok(json!({ "ok": true, "skipped": why })), Verdict::new(resource, action, Outcome::Skipped))
}

/// A verified delivery that cannot be used still gets 2xx: Sentry never
/// retries a 4xx, so an error status would only hide the reason in its log.
/// The reason is in the reply, its headers, and the delivery log.
fn unusable(resource: &str, action: &str, why: &str) -> Plan {
    let mut reply = Reply::ok(json!({ "ok": true, "unusable": why }));
    reply.headers.push(("Sentry-Kanban-Verdict", UNUSABLE.as_str().to_string()));
    reply.headers.push(("Sentry-Kanban-Reason", header_text(why)));
    Plan::answer(reply, Verdict::new(resource, action, UNUSABLE).because(why))
}

fn unusable_from(resource: &str, action: &str, e: AppError) -> Plan {
    let why = match e {
        AppError::BadRequest(why) => why,
        other => format!("{other:?}"),
    };
    unusable(resource, action, &why)
}

/// Visible ASCII only, at most 200 characters: safe as a header value.
fn header_text(s: &str) -> String {
    s.chars().map(|c| if c == ' ' || c.is_ascii_graphic() { c } else { '?' }).take(200).collect()
}

#[cfg(test)]
#[path = "hook_tests.rs"]
pub(crate) mod tests;
