//! One GitHub delivery: verify the raw body, check the content type (JSON,
//! or a form whose `payload` field is the JSON), then decide from
//! `X-GitHub-Event` and `action` together. Team and membership events are
//! recorded under their `X-GitHub-Delivery` id and the SHA-256 of the raw
//! body (together they dedupe redeliveries: the id alone is unsigned) and
//! queued; nothing here calls an API.

use super::sync::{MemberAction, MembershipJob, TeamAction, TeamJob};
use super::wire::{form_payload, is_name, Envelope};
use crate::config::Config;
use crate::error::AppError;
use crate::jobs::Job;
use crate::plan::{Reply, Verdict};
use crate::verify;
use crate::webhook::verdict::Outcome;
use serde_json::json;

pub struct Delivery<'a> {
    pub event: Option<&'a str>,
    pub delivery_id: Option<&'a str>,
    pub content_type: Option<&'a str>,
    pub signature: Option<&'a str>,
    pub body: &'a [u8],
}

/// A team or membership event as the sync status lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncRecord {
    pub delivery: String,
    /// SHA-256 of the raw (signed) body, lowercase hex.
    pub body_sha256: String,
    pub event: &'static str,
    pub action: String,
    pub team_id: Option<String>,
    pub team_slug: Option<String>,
    pub login: Option<String>,
    /// The organization's login (`organization.login`).
    pub org: Option<String>,
    /// `queued`, or `noop` when the event asks for nothing.
    pub status: &'static str,
    pub detail: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Handled {
    /// Nothing to sync: ping, events or actions the sync does not use, and
    /// verified deliveries whose content is unusable (outcome `unusable`,
    /// the reason in the reply's `detail`, which the delivery log records).
    Answer { reply: Reply, verdict: Verdict },
    /// Record (claiming the delivery id), then queue the job if there is one.
    Sync { record: Box<SyncRecord>, job: Option<Job>, reply: Reply, verdict: Verdict },
}

pub fn handle(cfg: &Config, d: &Delivery) -> Result<Handled, AppError> {
    verify::check_github(cfg.github.secret.as_deref(), d.body, d.signature).map_err(AppError::Unauthorized)?;
    let encoding = check_content_type(d.content_type)?;
    let event = d.event.map(str::trim).filter(|e| !e.is_empty()).ok_or_else(|| bad("missing X-GitHub-Event header"))?;
    if event == "ping" {
        return Ok(answer("ping", "", Outcome::Pong));
    }
    let json = match encoding {
        Encoding::Json => d.body.to_vec(),
        Encoding::Form => match form_payload(d.body) {
            Ok(json) => json,
            // Verified, so GitHub sent it: 2xx (a 4xx only fills GitHub's
            // log), with the reason recorded on our side.
            Err(why) => return Ok(unusable(event, &why)),
        },
    };
    // JSON is UTF-8; serde checks only the strings it reads, not the ones it skips.
    if std::str::from_utf8(&json).is_err() {
        return Err(bad("body is not UTF-8"));
    }
    let envelope: Envelope =
        serde_json::from_slice(&json).map_err(|e| bad(&format!("body is not a GitHub {event} event: {e}")))?;
    let action = envelope.action.clone().unwrap_or_default();
    match (event, action.as_str()) {
        ("team", "created" | "deleted" | "edited") => team(key(d)?, envelope, &action),
        ("membership", "added" | "removed") if is_team_scope(&envelope) => membership(key(d)?, envelope, &action),
        _ => Ok(answer(event, &action, Outcome::Ignored)),
    }
}

/// How the body carries the JSON.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Encoding {
    Json,
    /// `payload=<url-encoded JSON>`: the hook's "Content type" left at the
    /// web form's default. The signature covers the form bytes.
    Form,
}

/// The claim key: the delivery id and the digest of the raw body.
struct Key {
    delivery: String,
    body_sha256: String,
}

fn is_team_scope(envelope: &Envelope) -> bool {
    envelope.scope.as_deref().unwrap_or("team") == "team"
}

/// The row key of a synced event; the digest is of the raw (signed) bytes,
/// the form as sent for a form-encoded hook.
fn key(d: &Delivery) -> Result<Key, AppError> {
    Ok(Key { delivery: delivery_id(d)?, body_sha256: verify::body_digest(d.body) })
}

/// JSON (any `+json` type too) or a form; anything else is refused with
/// the setting to change.
fn check_content_type(content_type: Option<&str>) -> Result<Encoding, AppError> {
    let Some(ct) = content_type else { return Ok(Encoding::Json) };
    let mime = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if mime == "application/json" || mime.ends_with("+json") {
        return Ok(Encoding::Json);
    }
    if mime == "application/x-www-form-urlencoded" {
        return Ok(Encoding::Form);
    }
    Err(AppError::UnsupportedMediaType(format!(
        "content type {mime:?} is not supported: edit the GitHub webhook and set \"Content type\" to application/json"
    )))
}

fn unusable(event: &str, why: &str) -> Handled {
    let reply = Reply::ok(json!({ "ok": true, "event": event, "outcome": "unusable", "detail": why }));
    Handled::Answer { reply, verdict: Verdict::new(event, "", Outcome::Unusable) }
}

fn bad(why: &str) -> AppError {
    AppError::BadRequest(why.to_string())
}

fn answer(event: &str, action: &str, outcome: Outcome) -> Handled {
    let reply = Reply::ok(json!({ "ok": true, "event": event, "action": action, "outcome": outcome }));
    Handled::Answer { reply, verdict: Verdict::new(event, action, outcome) }
}

fn delivery_id(d: &Delivery) -> Result<String, AppError> {
    let id = d.delivery_id.map(str::trim).filter(|id| !id.is_empty());
    let id = id.ok_or_else(|| bad("missing X-GitHub-Delivery header"))?;
    if id.len() > 100 || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err(bad("X-GitHub-Delivery is not a delivery id"));
    }
    Ok(id.to_string())
}

fn team(key: Key, envelope: Envelope, action: &str) -> Result<Handled, AppError> {
    let Key { delivery, body_sha256 } = key;
    let org = org_login(&envelope);
    let team = envelope.team.ok_or_else(|| bad("team event without a team"))?;
    let team_id = team.id.ok_or_else(|| bad("team event without team.id"))?;
    let slug = team.slug.filter(|s| is_name(s));
    let action_kind = match action {
        "created" => TeamAction::Created,
        "deleted" => TeamAction::Deleted,
        _ => TeamAction::Edited,
    };
    if action_kind != TeamAction::Deleted && slug.is_none() {
        return Err(bad("team event without a usable team.slug"));
    }
    let job = Job::GithubTeam(TeamJob {
        delivery: delivery.clone(),
        body_sha256: body_sha256.clone(),
        action: action_kind,
        team_id: team_id.clone(),
        slug: slug.clone(),
    });
    let record = SyncRecord {
        delivery,
        body_sha256,
        event: "team",
        action: action.to_string(),
        team_id: Some(team_id),
        team_slug: slug,
        login: None,
        org,
        status: "queued",
        detail: None,
    };
    Ok(sync(record, Some(job)))
}

fn membership(key: Key, envelope: Envelope, action: &str) -> Result<Handled, AppError> {
    let Key { delivery, body_sha256 } = key;
    let org = org_login(&envelope);
    let team = envelope.team.ok_or_else(|| bad("membership event without a team"))?;
    let login = envelope.member.and_then(|m| m.login).filter(|l| is_name(l));
    // A deleted team's stub has no slug: the job finds the team by its id
    // (as it does for any team whose slug is unusable).
    let slug = team.slug.clone().filter(|s| is_name(s) && !team.is_deleted());
    let mut record = SyncRecord {
        delivery: delivery.clone(),
        body_sha256: body_sha256.clone(),
        event: "membership",
        action: action.to_string(),
        team_id: team.id.clone(),
        team_slug: slug.clone(),
        login: login.clone(),
        org: org.clone(),
        status: "noop",
        detail: None,
    };
    let noop = |mut record: SyncRecord, why: &str| {
        record.detail = Some(why.to_string());
        Ok(sync(record, None))
    };
    let Some(team_id) = team.id else {
        if team.is_deleted() || slug.is_none() {
            return noop(record, "the event names neither a team id nor a usable slug: nothing to change");
        }
        return Err(bad("membership event without team.id"));
    };
    let Some(login) = login else { return noop(record, "the event has no member") };
    let action_kind = if action == "added" { MemberAction::Added } else { MemberAction::Removed };
    let job = Job::GithubMembership(MembershipJob {
        delivery,
        body_sha256,
        action: action_kind,
        team_id,
        team_slug: slug,
        login,
        org,
    });
    record.status = "queued";
    Ok(sync(record, Some(job)))
}

fn org_login(envelope: &Envelope) -> Option<String> {
    envelope.organization.as_ref().and_then(|o| o.login.clone()).filter(|l| is_name(l))
}

fn sync(record: SyncRecord, job: Option<Job>) -> Handled {
    let outcome = if job.is_some() { Outcome::Queued } else { Outcome::Noop };
    let verdict = Verdict::new(record.event, &record.action, outcome);
    let reply = Reply::ok(json!({ "ok": true, "delivery": record.delivery, "outcome": outcome }));
    Handled::Sync { record: Box::new(record), job, reply, verdict }
}
