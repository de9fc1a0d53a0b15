//! verify → parse → decide for one Sentry webhook delivery.
//!
//! A verified delivery is a hint, not the truth: nothing replay-resistant is
//! signed, and Sentry's retries carry fresh headers over frozen or
//! re-serialised bodies. So the core first asks what D1 knows (`Lookup`:
//! seen before? the card as it stands? a token to re-read with?), then
//! decides from the answer (`Prior`). Where the order of a delivery cannot be
//! proven, the plan also requests an authoritative re-read of the issue.

use super::reread::RereadJob;
use super::wire::{assignee_from, Envelope, IssueData};
use crate::board::{issue_state, AssigneeChange, Comment, CommentAction, IssueAction, IssueState};
use crate::config::{Config, MAX_BODY_BYTES};
use crate::error::AppError;
use crate::jobs::Job;
use crate::plan::{Guarded, Plan, Reply, Verdict};
use crate::prior::{Lookup, Prior};
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
    /// Decided once D1 answers `Pending::lookup` (see `decide`).
    Lookup(Box<Pending>),
}

/// A verified, parsed delivery waiting for what D1 knows of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Pending {
    pub lookup: Lookup,
    event: Event,
    /// The internal installation's row, written with the first write.
    internal_row: Option<Stmt>,
    now: Millis,
}

#[derive(Debug, Clone, PartialEq)]
enum Event {
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
    let env: Envelope = match serde_json::from_slice(d.body) {
        Ok(env) => env,
        Err(e) => {
            return Ok(Step::Ready(unusable(&resource, "", &format!("the body is not a JSON webhook envelope: {e}"))))
        }
    };
    let action = env.action.clone();
    match parse(cfg, &resource, env, now) {
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

enum Parsed {
    Ready(Plan),
    Event { event: Event, issue_id: Option<String>, installation: Option<String>, internal_row: Option<Stmt> },
}

fn parse(cfg: &Config, resource: &str, env: Envelope, now: Millis) -> Result<Parsed, AppError> {
    let at = format_millis(now);
    let action = env.action.clone();
    let installation = env.installation.as_ref().and_then(|i| i.uuid.clone());
    let internal_row = internal_installation(cfg, &env, &at).filter(|_| resource != "installation");
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

/// In internal-integration mode the installation is never announced by an
/// installation.created webhook: the first delivery records it, under the
/// configured organization, so cards can be filtered by organization.
fn internal_installation(cfg: &Config, env: &Envelope, now: &str) -> Option<Stmt> {
    let internal = cfg.internal.as_ref()?;
    let uuid = env.installation.as_ref()?.uuid.as_deref()?;
    Some(crate::store::installations::ensure_internal(uuid, &internal.org_slug, now))
}

fn with_first(first: Option<Stmt>, mut plan: Plan) -> Plan {
    if let (Some(stmt), false) = (first, plan.statements.is_empty()) {
        plan.statements.insert(0, stmt);
        if let Some(g) = plan.guard.as_mut() {
            g.stmt += 1;
        }
    }
    plan
}

/// The issue id and the event; `None` for an action the board does not handle.
fn parse_issue(env: Envelope) -> Result<Option<(String, Event)>, AppError> {
    let data: IssueData = serde_json::from_value(env.data)
        .map_err(|e| AppError::BadRequest(format!("issue webhook without a usable data.issue: {e}")))?;
    let named = data.assignee.as_ref().and_then(assignee_from);
    let Some(action) = IssueAction::parse(&env.action, named) else {
        return Ok(None);
    };
    let installation = env.installation.and_then(|i| i.uuid);
    let actor = env.actor.as_ref().and_then(|a| a.get("name")).and_then(|n| n.as_str()).map(str::to_string);
    let (snapshot, assigned_to) = data.issue.into_snapshot(installation);
    let project = snapshot.project_id.clone().filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    let id = snapshot.id.clone();
    let shows_nobody = matches!(action, IssueAction::Assigned(_)) && assigned_to == AssigneeChange::Set(None);
    let state = issue_state(action, snapshot, assigned_to);
    Ok(Some((id, Event::Issue { action: env.action, state: Box::new(state), project, shows_nobody, actor })))
}

/// Decides a pending delivery from what D1 knew of it.
pub fn decide(pending: Pending, prior: &Prior) -> Plan {
    let Pending { lookup, event, internal_row, now } = pending;
    if prior.exact_replay {
        return duplicate(&lookup.resource, &event);
    }
    let plan = match event {
        Event::Issue { action, state, project, shows_nobody, actor } => {
            let origin = store::history::Origin::sentry(&action, actor.as_deref());
            decide_issue(&lookup, &action, *state, project, shows_nobody, &origin, prior, now)
        }
        Event::Comment { action, comment, kind } => decide_comment(&lookup, &action, &comment, kind, prior, now),
        // Metric alerts order themselves (resolved is final), and a repeated
        // critical can have the bytes of an earlier one.
        Event::Planned(plan) if prior.body_seen && plan.verdict.resource != "metric_alert" => repeat(*plan),
        Event::Planned(plan) => *plan,
    };
    with_first(internal_row, plan)
}

#[allow(clippy::too_many_arguments)] // the history's origin joined main's seven
fn decide_issue(
    lookup: &Lookup,
    action: &str,
    state: IssueState,
    project: Option<String>,
    shows_nobody: bool,
    origin: &store::history::Origin,
    prior: &Prior,
    now: Millis,
) -> Plan {
    let at = format_millis(now);
    let id = state.snapshot.id.clone();
    let filled = state.birth && prior.card.is_some();
    let changes = prior.card.as_ref().is_some_and(|c| state.changes(c));
    let why = doubt(prior.body_seen, filled, changes, shows_nobody);
    let (outcome, status) = if filled { (Outcome::Filled, "kept") } else { (Outcome::Applied, state.status.as_str()) };
    let mut reply = Reply::ok(json!({ "ok": true, "issue": id, "status": status }));
    // Sentry shows this in the integration's request log.
    reply.headers.extend(project.map(|p| ("Sentry-Hook-Project", p)));
    // Bytes seen before, with a token to ask the API: a repeated action and a
    // replayed capture look the same, so nothing is written but the re-read,
    // which settles either within seconds.
    if prior.body_seen && prior.has_token {
        let verdict = Verdict::new("issue", action, Outcome::Repeat);
        return with_reread(Plan::answer(reply, verdict), lookup, prior, false, why.unwrap_or_default(), now);
    }
    let mut statements = vec![store::upsert_card_by(&state, origin, &at, &at)];
    if !filled {
        // The error log's group follows its issue's status.
        statements.push(store::errors::sync_status(&id, state.status.as_str(), &at));
    }
    let plan = Plan::writes(statements, reply, Verdict::new("issue", action, outcome));
    match why {
        Some(why) => with_reread(plan, lookup, prior, false, why, now),
        None => plan,
    }
}

/// Why an issue delivery cannot be proven newest, if it cannot.
fn doubt(body_seen: bool, filled: bool, changes: bool, shows_nobody: bool) -> Option<&'static str> {
    if body_seen {
        Some("these bytes were seen before under another Request-ID")
    } else if filled {
        Some("issue.created for a card that exists")
    } else if shows_nobody {
        Some("an assignment whose snapshot shows nobody assigned")
    } else if changes {
        Some("a change whose order cannot be proven")
    } else {
        None
    }
}

fn decide_comment(
    lookup: &Lookup,
    action: &str,
    comment: &Comment,
    kind: CommentAction,
    prior: &Prior,
    now: Millis,
) -> Plan {
    let at = format_millis(now);
    // Comment bodies are frozen when queued: the same bytes again are a
    // retry of a write already applied, possibly older than a later edit.
    let (plan, why) = if prior.body_seen {
        let reply = Reply::ok(json!({ "ok": true, "comment": comment.id, "repeat": true }));
        let verdict =
            Verdict::new("comment", action, Outcome::Repeat).because("a retry of a comment delivery already applied");
        (Plan::answer(reply, verdict), "a comment delivery seen before")
    } else {
        (super::comments::plan(comment, kind, action, &at), "a comment delivery cannot be ordered")
    };
    // Comment bodies carry no order: an edit may be older than one applied,
    // a `created` may arrive after its edit, a comment may arrive before its
    // issue's card. Only a tombstone is final.
    match kind {
        CommentAction::Delete if !prior.body_seen => plan,
        _ => with_reread(plan, lookup, prior, true, why, now),
    }
}

/// Adds the request for an authoritative re-read, and its job, which the
/// batch itself decides on: only if no re-read of the issue is in flight.
/// Without a token the plan stands as it is: the next sync corrects what
/// remains.
fn with_reread(mut plan: Plan, lookup: &Lookup, prior: &Prior, comments: bool, why: &str, now: Millis) -> Plan {
    let Some(issue) = lookup.issue_id.as_deref().filter(|_| prior.has_token) else { return plan };
    // The delivery's own token: only an exact replay shares it, and those stop earlier.
    let token = format!("{}:{}", lookup.request_id.as_deref().unwrap_or(""), lookup.body_sha256);
    plan.statements.push(store::rereads::request(issue, lookup.installation.as_deref(), comments, now, &token));
    let job = Job::Reread(RereadJob { issue: issue.to_string(), installation: lookup.installation.clone() });
    plan.guard = Some(Guarded { stmt: plan.statements.len() - 1, job });
    plan.verdict.detail = Some(format!("{why}: re-read from the API"));
    if let Some(body) = plan.reply.body.as_object_mut() {
        body.insert("reread".into(), json!(true));
    }
    plan
}

fn duplicate(resource: &str, event: &Event) -> Plan {
    let action = match event {
        Event::Issue { action, .. } | Event::Comment { action, .. } => action.clone(),
        Event::Planned(p) => p.verdict.action.clone(),
    };
    Plan::answer(
        Reply::ok(json!({ "ok": true, "duplicate": true })),
        Verdict::new(resource, &action, Outcome::Duplicate).because("the same Request-ID with the same body"),
    )
}

/// A planned delivery whose bytes were accepted before: an alert or an
/// installation event that was already recorded.
fn repeat(plan: Plan) -> Plan {
    let verdict = Verdict::new(&plan.verdict.resource, &plan.verdict.action, Outcome::Repeat)
        .because("these bytes were already applied under another Request-ID");
    Plan::answer(Reply::ok(json!({ "ok": true, "repeat": true })), verdict)
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
pub(crate) mod tests {
    use super::*;
    use crate::sql::SqlValue;
    use crate::verify::{sign_hex, Rejection};

    const SECRET: &str = "test-secret";
    const NOW: Millis = 1_700_000_000_000;

    fn cfg() -> Config {
        Config { sentry_secret: Some(SECRET.into()), ..Default::default() }
    }

    /// Signs `body` with the test secret and hands it to `handle` as `resource`.
    pub(crate) fn deliver(resource: &str, body: &str) -> Result<Plan, AppError> {
        deliver_with(cfg(), resource, body)
    }

    /// Same, under `base` (its secret replaced by the test secret), decided
    /// as on an empty database.
    pub(crate) fn deliver_with(base: Config, resource: &str, body: &str) -> Result<Plan, AppError> {
        deliver_after(base, resource, body, &Prior::default())
    }

    /// Same, decided with what D1 is said to know.
    pub(crate) fn deliver_after(base: Config, resource: &str, body: &str, prior: &Prior) -> Result<Plan, AppError> {
        let cfg = Config { sentry_secret: Some(SECRET.into()), ..base };
        let sig = sign_hex(SECRET.as_bytes(), body.as_bytes());
        let d = Delivery {
            resource: Some(resource),
            signature: Some(&sig),
            timestamp: Some("1699999999"),
            request_id: Some("r1"),
            body: body.as_bytes(),
            ..Default::default()
        };
        Ok(match handle(&cfg, &d, NOW)? {
            Step::Ready(plan) => plan,
            Step::Lookup(pending) => decide(*pending, prior),
        })
    }

    fn unusable_reason(plan: &Plan) -> &str {
        assert_eq!((plan.reply.status, plan.verdict.outcome.as_str()), (200, UNUSABLE.as_str()), "{plan:?}");
        assert!(plan.statements.is_empty() && plan.jobs.is_empty());
        assert!(plan.reply.headers.iter().any(|(k, v)| *k == "Sentry-Kanban-Verdict" && v == UNUSABLE.as_str()));
        plan.verdict.detail.as_deref().unwrap_or("")
    }

    const CREATED: &str = r#"{"action":"created","installation":{"uuid":"u1"},"data":{"issue":{"id":"42","title":"Caf\u00e9 boom","status":"unresolved","assignedTo":null}},"actor":{"type":"application","id":"sentry","name":"Sentry"}}"#;

    #[test]
    fn a_signed_issue_plans_the_card_upsert_and_the_error_group_status() {
        let plan = deliver("issue", CREATED).unwrap();
        assert_eq!(plan.statements.len(), 2);
        assert_eq!(plan.statements[1].params[..2], [SqlValue::Text("42".into()), SqlValue::Text("unresolved".into())]);
        let p = &plan.statements[0].params;
        assert_eq!(p[0], SqlValue::Text("42".into()));
        assert_eq!(p[3], SqlValue::Text("Café boom".into()));
        assert_eq!(
            p[21],
            SqlValue::Text("2023-11-14T22:13:20.000Z".into()),
            "applied_at is the arrival, not the unsigned header"
        );
        assert_eq!(plan.verdict.outcome.as_str(), "applied");
    }

    #[test]
    fn a_bad_signature_plans_nothing() {
        let d = Delivery {
            resource: Some("issue"),
            signature: Some(&"0".repeat(64)),
            body: CREATED.as_bytes(),
            ..Default::default()
        };
        assert_eq!(handle(&cfg(), &d, NOW), Err(AppError::Unauthorized(Rejection::BadSignature)));
        let d = Delivery { resource: Some("issue"), body: CREATED.as_bytes(), ..Default::default() };
        assert_eq!(handle(&cfg(), &d, NOW), Err(AppError::Unauthorized(Rejection::MissingSignature)));
        let sig = sign_hex(SECRET.as_bytes(), CREATED.as_bytes());
        let d =
            Delivery { resource: Some("issue"), signature: Some(&sig), body: CREATED.as_bytes(), ..Default::default() };
        assert_eq!(handle(&Config::default(), &d, NOW), Err(AppError::Unauthorized(Rejection::SecretNotConfigured)));
    }

    #[test]
    fn non_json_is_unusable_only_after_verification() {
        let plan = deliver("issue", "not json").unwrap();
        assert!(unusable_reason(&plan).contains("not a JSON webhook envelope"));
        let d = Delivery {
            resource: Some("issue"),
            signature: Some(&"0".repeat(64)),
            body: b"not json",
            ..Default::default()
        };
        assert!(matches!(handle(&cfg(), &d, NOW), Err(AppError::Unauthorized(_))));
    }

    #[test]
    fn invalid_utf8_is_unusable_even_in_a_skipped_field() {
        let mut body = br#"{"action":"created","data":{"issue":{"id":"1"}},"skipped":"??"}"#.to_vec();
        let at = body.len() - 4;
        body[at..at + 2].copy_from_slice(&[0xff, 0xfe]);
        let sig = sign_hex(SECRET.as_bytes(), &body);
        for resource in ["issue", "error", "seer"] {
            let d = Delivery { resource: Some(resource), signature: Some(&sig), body: &body, ..Default::default() };
            let Ok(Step::Ready(plan)) = handle(&cfg(), &d, NOW) else { panic!("{resource}") };
            assert_eq!(unusable_reason(&plan), "the body is not UTF-8", "{resource}");
        }
    }

    #[test]
    fn oversized_bodies_are_refused_before_anything_else() {
        let big = vec![b' '; MAX_BODY_BYTES + 1];
        let d = Delivery { resource: Some("issue"), body: &big, ..Default::default() };
        assert_eq!(handle(&cfg(), &d, NOW), Err(AppError::PayloadTooLarge { limit: MAX_BODY_BYTES }));
    }

    #[test]
    fn unknown_resources_and_actions_write_nothing() {
        let plan = deliver("seer", r#"{"action":"root_cause_started","data":{}}"#).unwrap();
        assert!(plan.statements.is_empty());
        assert_eq!(plan.reply.status, 200);
        let plan = deliver("issue", r#"{"action":"exploded","data":{"issue":{"id":"1"}}}"#).unwrap();
        assert!(plan.statements.is_empty());
        assert_eq!(plan.verdict.outcome.as_str(), "skipped");
    }

    #[test]
    fn a_verified_issue_without_an_id_is_unusable_not_a_4xx() {
        let plan = deliver("issue", r#"{"action":"created","data":{"issue":{}}}"#).unwrap();
        assert!(unusable_reason(&plan).contains("data.issue"), "{plan:?}");
        let plan = deliver("issue", r#"{"action":"resolved","data":{}}"#).unwrap();
        unusable_reason(&plan);
    }

    #[test]
    fn a_configured_bearer_is_required_in_addition_to_the_signature() {
        let cfg = Config { sentry_bearer: Some("tok".into()), ..cfg() };
        let sig = sign_hex(SECRET.as_bytes(), CREATED.as_bytes());
        let with = |auth| Delivery {
            resource: Some("issue"),
            signature: Some(&sig),
            authorization: auth,
            body: CREATED.as_bytes(),
            ..Default::default()
        };
        assert!(handle(&cfg, &with(Some("Bearer tok")), NOW).is_ok());
        assert_eq!(handle(&cfg, &with(Some("Bearer nope")), NOW), Err(AppError::Unauthorized(Rejection::BadBearer)));
        assert_eq!(handle(&cfg, &with(None), NOW), Err(AppError::Unauthorized(Rejection::BadBearer)));
        let unsigned = Delivery { signature: None, ..with(Some("Bearer tok")) };
        assert_eq!(handle(&cfg, &unsigned, NOW), Err(AppError::Unauthorized(Rejection::MissingSignature)));
    }

    #[test]
    fn the_project_id_is_echoed_for_sentrys_request_log() {
        let body = r#"{"action":"created","data":{"issue":{"id":"1","project":{"id":"17","slug":"p"}}}}"#;
        let plan = deliver("issue", body).unwrap();
        assert_eq!(plan.reply.headers, vec![("Sentry-Hook-Project", "17".to_string())]);
    }

    #[test]
    fn internal_mode_records_the_installation_with_the_first_write() {
        let internal = Config {
            internal: Some(crate::config::Internal { token: "t".into(), org_slug: "acme".into() }),
            ..Default::default()
        };
        let plan = deliver_with(internal.clone(), "issue", CREATED).unwrap();
        assert_eq!(plan.statements.len(), 3);
        assert_eq!(plan.statements[0].params[..2], [SqlValue::Text("u1".into()), SqlValue::Text("acme".into())]);
        let skipped = deliver_with(internal, "seer", r#"{"action":"x","installation":{"uuid":"u1"},"data":{}}"#);
        assert!(skipped.unwrap().statements.is_empty(), "a delivery that writes nothing records nothing");
        assert_eq!(deliver("issue", CREATED).unwrap().statements.len(), 2);
    }

    #[test]
    fn error_events_are_queued_without_any_statement() {
        let body = r#"{"action":"created","installation":{"uuid":"u1"},"data":{"error":{"event_id":"e1","issue_id":"42","title":"Caf\u00e9"}}}"#;
        for resource in ["error", "event"] {
            let plan = deliver(resource, body).unwrap();
            assert!(plan.statements.is_empty(), "no D1 write on the ack path");
            assert_eq!(plan.verdict.outcome.as_str(), QUEUED);
            let crate::jobs::Job::ErrorEvent(r) = &plan.jobs[0] else { panic!("{:?}", plan.jobs) };
            assert_eq!((r.event_id.as_str(), r.title.as_str(), r.installation.as_deref()), ("e1", "Café", Some("u1")));
        }
        let direct = Config { error_log_direct: true, ..Default::default() };
        let plan = deliver_with(direct, "error", body).unwrap();
        assert!(plan.jobs.is_empty() && plan.statements.len() > 1, "the benchmark's direct mode writes at once");
        let other = deliver("error", r#"{"action":"deleted","data":{}}"#).unwrap();
        assert_eq!(other.verdict.outcome, "skipped");
        unusable_reason(&deliver("error", r#"{"action":"created","data":{}}"#).unwrap());
    }

    #[test]
    fn the_unsigned_timestamp_changes_nothing() {
        let plan_at = |ts: &str| {
            let sig = sign_hex(SECRET.as_bytes(), CREATED.as_bytes());
            let d = Delivery {
                resource: Some("issue"),
                signature: Some(&sig),
                timestamp: Some(ts),
                body: CREATED.as_bytes(),
                ..Default::default()
            };
            handle(&cfg(), &d, NOW).unwrap()
        };
        assert_eq!(plan_at("1"), plan_at("99999999999"));
    }

    const RESOLVED: &str = r#"{"action":"resolved","installation":{"uuid":"u1"},"data":{"resolution_type":"resolved","issue":{"id":"42","status":"resolved","assignedTo":null}}}"#;

    fn card(status: crate::board::Status) -> Option<crate::board::CardFacts> {
        Some(crate::board::CardFacts { status, assignee: None })
    }

    /// (re-read requests, guarded re-read jobs); the guard must point at the request.
    fn rereads(plan: &Plan) -> (usize, usize) {
        let requests = plan.statements.iter().filter(|s| s.sql.contains("INSERT INTO rereads")).count();
        let jobs = plan.guard.iter().filter(|g| matches!(g.job, Job::Reread(_))).count();
        if let Some(g) = &plan.guard {
            assert!(plan.statements[g.stmt].sql.contains("RETURNING"), "the guard points at the request");
        }
        assert!(plan.jobs.iter().all(|j| !matches!(j, Job::Reread(_))), "a re-read is never queued unguarded");
        (requests, jobs)
    }

    #[test]
    fn an_exact_replay_is_a_no_op_and_repeated_bytes_are_processed() {
        let exact = Prior { exact_replay: true, body_seen: true, has_token: true, ..Prior::default() };
        let plan = deliver_after(cfg(), "issue", RESOLVED, &exact).unwrap();
        assert!(plan.statements.is_empty() && plan.jobs.is_empty());
        assert_eq!(plan.verdict.outcome.as_str(), "duplicate");
        let repeat = Prior { body_seen: true, ..Prior::default() };
        let plan = deliver_after(cfg(), "issue", RESOLVED, &repeat).unwrap();
        assert_eq!(plan.verdict.outcome.as_str(), "applied", "resolve → reopen → resolve can repeat the bytes");
        assert!(plan.statements[0].sql.contains("INSERT INTO cards"));
        assert_eq!(rereads(&plan), (0, 0), "no token: nothing to re-read with");
    }

    #[test]
    fn with_a_token_what_cannot_be_ordered_is_re_read() {
        use crate::board::Status::*;
        let token = |card, body_seen| Prior { card, body_seen, has_token: true, ..Prior::default() };
        let cases = [
            ("issue", RESOLVED, token(card(Unresolved), false), (1, 1), "a change of an existing card"),
            ("issue", RESOLVED, token(card(Resolved), true), (1, 1), "bytes seen before"),
            ("issue", CREATED, token(card(Resolved), false), (1, 1), "a birth for an existing card"),
            ("issue", RESOLVED, token(card(Resolved), false), (0, 0), "agrees with the card"),
            ("issue", RESOLVED, token(None, false), (0, 0), "a new card has nothing to contradict"),
            ("issue", CREATED, token(None, false), (0, 0), "a first birth"),
        ];
        for (resource, body, prior, want, why) in cases {
            let plan = deliver_after(cfg(), resource, body, &prior).unwrap();
            assert_eq!(rereads(&plan), want, "{why}");
            if want.1 == 1 {
                let Job::Reread(job) = &plan.guard.as_ref().unwrap().job else { unreachable!() };
                assert_eq!((job.issue.as_str(), job.installation.as_deref()), ("42", Some("u1")));
                assert!(plan.verdict.detail.as_deref().unwrap_or("").contains("re-read"), "{why}");
            }
        }
    }

    #[test]
    fn seen_bytes_with_a_token_write_nothing_but_the_re_read() {
        let prior = Prior {
            body_seen: true,
            card: card(crate::board::Status::Unresolved),
            has_token: true,
            ..Prior::default()
        };
        let plan = deliver_after(cfg(), "issue", RESOLVED, &prior).unwrap();
        assert_eq!(plan.verdict.outcome.as_str(), "repeat");
        assert!(plan.statements.iter().all(|s| s.sql.contains("INTO rereads")), "{:?}", plan.statements);
        assert_eq!(rereads(&plan), (1, 1));
    }

    #[test]
    fn an_assignment_that_shows_nobody_is_re_read() {
        let retry = r#"{"action":"assigned","installation":{"uuid":"u1"},"data":{"assignee":{"type":"user","id":7,"name":"Jane"},"issue":{"id":"42","status":"unresolved","assignedTo":null}}}"#;
        let jane =
            crate::board::CardFacts { status: crate::board::Status::Unresolved, assignee: Some("user:7".into()) };
        let prior = Prior { card: Some(jane), has_token: true, ..Prior::default() };
        let plan = deliver_after(cfg(), "issue", retry, &prior).unwrap();
        assert_eq!(rereads(&plan), (1, 1), "the frozen data.assignee agrees with the card, the snapshot does not");
        assert!(plan.verdict.detail.as_deref().unwrap_or("").contains("shows nobody"));
    }

    #[test]
    fn a_repeated_metric_alert_body_is_applied_again() {
        let body = r#"{"action":"critical","data":{"metric_alert":{"id":"4","title":"CPU"},"description_text":"x"}}"#;
        let seen = Prior { body_seen: true, ..Prior::default() };
        let plan = deliver_after(cfg(), "metric_alert", body, &seen).unwrap();
        assert_eq!(plan.verdict.outcome.as_str(), "applied", "critical → warning → critical can repeat bytes");
    }

    #[test]
    fn the_internal_row_keeps_the_guard_on_its_request() {
        let internal = Config {
            internal: Some(crate::config::Internal { token: "t".into(), org_slug: "acme".into() }),
            ..Default::default()
        };
        let prior = Prior { card: card(crate::board::Status::Unresolved), has_token: true, ..Prior::default() };
        let plan = deliver_after(internal, "issue", RESOLVED, &prior).unwrap();
        assert!(plan.statements[0].sql.contains("installations"));
        assert_eq!(rereads(&plan), (1, 1));
    }

    #[test]
    fn a_created_for_an_existing_card_only_fills_and_leaves_the_error_group() {
        let prior = Prior { card: card(crate::board::Status::Resolved), ..Prior::default() };
        let plan = deliver_after(cfg(), "issue", CREATED, &prior).unwrap();
        assert_eq!(plan.statements.len(), 1, "no error-group status from a frozen body");
        assert!(plan.statements[0].sql.contains("COALESCE(cards.short_id, excluded.short_id)"));
        assert_eq!(plan.verdict.outcome.as_str(), "filled");
    }

    const EDIT: &str = r#"{"action":"updated","installation":{"uuid":"u1"},"data":{"comment_id":7,"issue_id":42,"comment":"v2","timestamp":"2026-01-01T00:00:00Z"}}"#;

    #[test]
    fn a_comment_retry_is_not_written_and_an_edit_is_re_read() {
        let seen = Prior {
            body_seen: true,
            card: card(crate::board::Status::Unresolved),
            has_token: true,
            ..Prior::default()
        };
        let plan = deliver_after(cfg(), "comment", EDIT, &seen).unwrap();
        assert_eq!(plan.verdict.outcome.as_str(), "repeat");
        assert_eq!(plan.statements.iter().filter(|s| s.sql.contains("INTO comments")).count(), 0);
        assert_eq!(rereads(&plan), (1, 1));
        assert_eq!(plan.statements[0].params[2], SqlValue::Int(1), "comments asked for");
        let fresh = Prior { body_seen: false, ..seen.clone() };
        let plan = deliver_after(cfg(), "comment", EDIT, &fresh).unwrap();
        assert_eq!(plan.verdict.outcome.as_str(), "applied");
        assert_eq!(rereads(&plan), (1, 1), "an edit cannot be ordered");
        let created = EDIT.replace("updated", "created");
        assert_eq!(rereads(&deliver_after(cfg(), "comment", &created, &fresh).unwrap()), (1, 1), "may follow its edit");
        let deleted = EDIT.replace("updated", "deleted");
        assert_eq!(
            rereads(&deliver_after(cfg(), "comment", &deleted, &fresh).unwrap()),
            (0, 0),
            "a tombstone is final"
        );
        let no_card = Prior { card: None, body_seen: false, ..seen };
        let plan = deliver_after(cfg(), "comment", EDIT, &no_card).unwrap();
        assert_eq!(rereads(&plan), (1, 1), "a comment before its card: the issue is read");
        let no_token = Prior { has_token: false, ..no_card };
        assert_eq!(rereads(&deliver_after(cfg(), "comment", EDIT, &no_token).unwrap()), (0, 0));
    }

    #[test]
    fn a_repeated_alert_body_is_recorded_once() {
        let body = r#"{"action":"triggered","data":{"event":{"event_id":"e","issue_url":"https://s/api/0/issues/5/"},"triggered_rule":"r"}}"#;
        let plan = deliver("event_alert", body).unwrap();
        assert_eq!(plan.verdict.outcome.as_str(), "applied");
        let seen = Prior { body_seen: true, ..Prior::default() };
        let plan = deliver_after(cfg(), "event_alert", body, &seen).unwrap();
        assert!(plan.statements.is_empty());
        assert_eq!(plan.verdict.outcome.as_str(), "repeat");
    }

    #[test]
    fn the_lookup_names_the_request_the_body_and_the_issue() {
        let sig = sign_hex(SECRET.as_bytes(), RESOLVED.as_bytes());
        let d = Delivery {
            resource: Some(" Issue "),
            signature: Some(&sig),
            request_id: Some(" abc "),
            body: RESOLVED.as_bytes(),
            ..Default::default()
        };
        let Step::Lookup(p) = handle(&cfg(), &d, NOW).unwrap() else { panic!("an issue needs a lookup") };
        assert_eq!(p.lookup.request_id.as_deref(), Some("abc"));
        assert_eq!(p.lookup.body_sha256, verify::body_digest(RESOLVED.as_bytes()));
        assert_eq!((p.lookup.resource.as_str(), p.lookup.issue_id.as_deref()), ("issue", Some("42")));
        assert_eq!(p.lookup.installation.as_deref(), Some("u1"));
    }
}
