//! verify → parse → plan for one Sentry webhook delivery.

use super::wire::{assignee_from, Envelope, IssueData};
use crate::board::{issue_state, IssueAction};
use crate::config::{Config, MAX_BODY_BYTES};
use crate::error::AppError;
use crate::plan::{Plan, Reply, Verdict};
use crate::store;
use crate::time::{format_millis, Millis};
use crate::verify;
use serde_json::json;

/// The parts of a Sentry request the core needs, lifted out of HTTP.
#[derive(Debug, Clone, Default)]
pub struct Delivery<'a> {
    pub resource: Option<&'a str>,
    /// `Sentry-Hook-Signature`, or `Sentry-App-Signature` for UI components.
    pub signature: Option<&'a str>,
    /// `Sentry-Hook-Timestamp`, epoch seconds. Unsigned, so only trusted up to now.
    pub timestamp: Option<&'a str>,
    /// `Authorization`, checked only when a bearer is configured.
    pub authorization: Option<&'a str>,
    pub body: &'a [u8],
}

/// Authenticates and plans one delivery. Nothing is planned unless the
/// signature over the raw bytes is good.
pub fn handle(cfg: &Config, d: &Delivery, now: Millis) -> Result<Plan, AppError> {
    if d.body.len() > MAX_BODY_BYTES {
        return Err(AppError::PayloadTooLarge { limit: MAX_BODY_BYTES });
    }
    verify::check_hex_hmac(cfg.sentry_secret.as_deref(), d.body, d.signature).map_err(AppError::Unauthorized)?;
    if let Some(bearer) = &cfg.sentry_bearer {
        verify::check_bearer(bearer, d.authorization).map_err(AppError::Unauthorized)?;
    }
    // JSON is UTF-8; the parsers check only the strings they read, not
    // the ones they skip.
    if std::str::from_utf8(d.body).is_err() {
        return Err(AppError::BadRequest("body is not UTF-8".into()));
    }
    let resource = d.resource.unwrap_or("").trim().to_ascii_lowercase();
    if matches!(resource.as_str(), "error" | "event") {
        return plan_error(cfg, &resource, d.body, now);
    }
    let env: Envelope = serde_json::from_slice(d.body)
        .map_err(|e| AppError::BadRequest(format!("body is not a JSON webhook envelope: {e}")))?;
    let applied_at = format_millis(state_time(d.timestamp, now));
    let internal_row = internal_installation(cfg, &env, &format_millis(now)).filter(|_| resource != "installation");
    let plan = match resource.as_str() {
        "installation" => super::installation::plan(cfg, &env, &applied_at, &format_millis(now))
            .map(|p| p.unwrap_or_else(|| skipped("installation", &env.action, "action not handled"))),
        "issue" => plan_issue(env, &applied_at, &format_millis(now)),
        "comment" => super::comments::plan(&env, &applied_at, &format_millis(now))
            .map(|p| p.unwrap_or_else(|| skipped("comment", &env.action, "action not handled"))),
        "event_alert" => super::alerts::plan_event_alert(&env, &applied_at, &format_millis(now))
            .map(|p| p.unwrap_or_else(|| skipped("event_alert", &env.action, "action not handled"))),
        "metric_alert" => super::alerts::plan_metric_alert(&env, &applied_at, &format_millis(now))
            .map(|p| p.unwrap_or_else(|| skipped("metric_alert", &env.action, "action not handled"))),
        _ => Ok(skipped(&resource, &env.action, "resource not handled")),
    }?;
    Ok(with_first(internal_row, plan))
}

/// In internal-integration mode the installation is never announced by an
/// installation.created webhook: the first delivery records it, under the
/// configured organization, so cards can be filtered by organization.
fn internal_installation(cfg: &Config, env: &Envelope, now: &str) -> Option<crate::plan::Stmt> {
    let internal = cfg.internal.as_ref()?;
    let uuid = env.installation.as_ref()?.uuid.as_deref()?;
    Some(crate::store::installations::ensure_internal(uuid, &internal.org_slug, now))
}

fn with_first(first: Option<crate::plan::Stmt>, mut plan: Plan) -> Plan {
    if let (Some(stmt), false) = (first, plan.statements.is_empty()) {
        plan.statements.insert(0, stmt);
    }
    plan
}

/// When the delivered state was current: the hook timestamp (Sentry builds
/// the body at that moment, on every attempt), never later than now so a
/// forged header cannot freeze a card.
fn state_time(header: Option<&str>, now: Millis) -> Millis {
    header
        .and_then(|h| h.trim().parse::<i64>().ok())
        .and_then(|secs| secs.checked_mul(1000))
        .filter(|ms| *ms > 0)
        .map_or(now, |ms| ms.min(now))
}

fn plan_issue(env: Envelope, applied_at: &str, now: &str) -> Result<Plan, AppError> {
    let data: IssueData = serde_json::from_value(env.data)
        .map_err(|e| AppError::BadRequest(format!("issue webhook without a usable data.issue: {e}")))?;
    let named = data.assignee.as_ref().and_then(assignee_from);
    let Some(action) = IssueAction::parse(&env.action, named) else {
        return Ok(skipped("issue", &env.action, "action not handled"));
    };
    let installation = env.installation.and_then(|i| i.uuid);
    let (snapshot, assignee) = data.issue.into_snapshot(installation);
    let issue_id = snapshot.id.clone();
    let project = snapshot.project_id.clone().filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    let state = issue_state(action, snapshot, assignee);
    let mut reply = Reply::ok(json!({ "ok": true, "issue": issue_id, "status": state.status.as_str() }));
    // Sentry shows this in the integration's request log.
    reply.headers.extend(project.map(|p| ("Sentry-Hook-Project", p)));
    Ok(Plan {
        // The error log's group follows its issue's status.
        statements: vec![
            store::upsert_card(&state, applied_at, now),
            store::errors::sync_status(&issue_id, state.status.as_str(), applied_at),
        ],
        jobs: vec![],
        reply,
        verdict: Verdict::new("issue", &env.action, "applied"),
    })
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
        return Ok(Plan::writes(statements, reply, Verdict::new(resource, &action, "applied")));
    }
    let reply = Reply::ok(json!({ "ok": true, "queued": record.event_id, "issue": record.issue_id }));
    Ok(Plan {
        statements: vec![],
        jobs: vec![crate::jobs::Job::ErrorEvent(Box::new(record))],
        reply,
        verdict: Verdict::new(resource, &action, QUEUED),
    })
}

/// The verdict of a delivery that was only queued.
pub const QUEUED: &str = "queued";

fn skipped(resource: &str, action: &str, why: &str) -> Plan {
    Plan {
        statements: vec![],
        jobs: vec![],
        reply: Reply::ok(json!({ "ok": true, "skipped": why })),
        verdict: Verdict::new(resource, action, "skipped"),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::plan::SqlValue;
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

    /// Same, under `base` (its secret replaced by the test secret).
    pub(crate) fn deliver_with(base: Config, resource: &str, body: &str) -> Result<Plan, AppError> {
        let cfg = Config { sentry_secret: Some(SECRET.into()), ..base };
        let sig = sign_hex(SECRET.as_bytes(), body.as_bytes());
        let d = Delivery {
            resource: Some(resource),
            signature: Some(&sig),
            timestamp: Some("1699999999"),
            body: body.as_bytes(),
            ..Default::default()
        };
        handle(&cfg, &d, NOW)
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
        assert_eq!(p[21], SqlValue::Text("2023-11-14T22:13:19.000Z".into()), "applied_at is the hook timestamp");
        assert_eq!(plan.verdict.outcome, "applied");
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
    fn non_json_is_a_bad_request_only_after_verification() {
        assert!(matches!(deliver("issue", "not json"), Err(AppError::BadRequest(_))));
        let d = Delivery {
            resource: Some("issue"),
            signature: Some(&"0".repeat(64)),
            body: b"not json",
            ..Default::default()
        };
        assert!(matches!(handle(&cfg(), &d, NOW), Err(AppError::Unauthorized(_))));
    }

    #[test]
    fn invalid_utf8_is_a_bad_request_even_in_a_skipped_field() {
        let mut body = br#"{"action":"created","data":{"issue":{"id":"1"}},"skipped":"??"}"#.to_vec();
        let at = body.len() - 4;
        body[at..at + 2].copy_from_slice(&[0xff, 0xfe]);
        let sig = sign_hex(SECRET.as_bytes(), &body);
        for resource in ["issue", "error", "seer"] {
            let d = Delivery { resource: Some(resource), signature: Some(&sig), body: &body, ..Default::default() };
            assert!(matches!(handle(&cfg(), &d, NOW), Err(AppError::BadRequest(_))), "{resource}");
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
        assert_eq!(plan.verdict.outcome, "skipped");
    }

    #[test]
    fn an_issue_without_an_id_is_a_bad_request() {
        assert!(matches!(
            deliver("issue", r#"{"action":"created","data":{"issue":{}}}"#),
            Err(AppError::BadRequest(_))
        ));
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
            assert_eq!(plan.verdict.outcome, QUEUED);
            let crate::jobs::Job::ErrorEvent(r) = &plan.jobs[0] else { panic!("{:?}", plan.jobs) };
            assert_eq!((r.event_id.as_str(), r.title.as_str(), r.installation.as_deref()), ("e1", "Café", Some("u1")));
        }
        let direct = Config { error_log_direct: true, ..Default::default() };
        let plan = deliver_with(direct, "error", body).unwrap();
        assert!(plan.jobs.is_empty() && plan.statements.len() > 1, "the benchmark's direct mode writes at once");
        let other = deliver("error", r#"{"action":"deleted","data":{}}"#).unwrap();
        assert_eq!(other.verdict.outcome, "skipped");
        assert!(matches!(deliver("error", r#"{"action":"created","data":{}}"#), Err(AppError::BadRequest(_))));
    }

    #[test]
    fn a_future_timestamp_is_clamped_to_now() {
        assert_eq!(state_time(Some("99999999999"), NOW), NOW);
        assert_eq!(state_time(Some("garbage"), NOW), NOW);
        assert_eq!(state_time(None, NOW), NOW);
        assert_eq!(state_time(Some("1000"), NOW), 1_000_000);
    }
}
