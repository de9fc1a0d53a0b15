//! Tests of `sentry::hook`.

use super::*;
use crate::jobs::Job;
use crate::prior::Prior;
use crate::sentry::decide::decide;
use crate::sql::SqlValue;
use crate::verify::{sign_hex, Rejection};
use serde_json::Value;

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
    let d = Delivery { resource: Some("issue"), signature: Some(&sig), body: CREATED.as_bytes(), ..Default::default() };
    assert_eq!(handle(&Config::default(), &d, NOW), Err(AppError::Unauthorized(Rejection::SecretNotConfigured)));
}

#[test]
fn non_json_is_unusable_only_after_verification() {
    let plan = deliver("issue", "not json").unwrap();
    assert!(unusable_reason(&plan).contains("not a JSON webhook envelope"));
    let d =
        Delivery { resource: Some("issue"), signature: Some(&"0".repeat(64)), body: b"not json", ..Default::default() };
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
    let prior =
        Prior { body_seen: true, card: card(crate::board::Status::Unresolved), has_token: true, ..Prior::default() };
    let plan = deliver_after(cfg(), "issue", RESOLVED, &prior).unwrap();
    assert_eq!(plan.verdict.outcome.as_str(), "repeat");
    assert!(plan.statements.iter().all(|s| s.sql.contains("INTO rereads")), "{:?}", plan.statements);
    assert_eq!(rereads(&plan), (1, 1));
}

#[test]
fn an_assignment_that_shows_nobody_is_re_read() {
    let retry = r#"{"action":"assigned","installation":{"uuid":"u1"},"data":{"assignee":{"type":"user","id":7,"name":"Jane"},"issue":{"id":"42","status":"unresolved","assignedTo":null}}}"#;
    let jane = crate::board::CardFacts { status: crate::board::Status::Unresolved, assignee: Some("user:7".into()) };
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
    let seen =
        Prior { body_seen: true, card: card(crate::board::Status::Unresolved), has_token: true, ..Prior::default() };
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
    assert_eq!(rereads(&deliver_after(cfg(), "comment", &deleted, &fresh).unwrap()), (0, 0), "a tombstone is final");
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

/// Every issue fixture of `tests/fixtures/real`, as text.
fn real_issue_bodies() -> Vec<(String, String)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/real");
    let mut found: Vec<(String, String)> = std::fs::read_dir(dir)
        .expect("the real fixtures")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_str().is_some_and(|p| p.contains("--issue--")))
        .map(|p| (p.display().to_string(), std::fs::read_to_string(&p).expect("a fixture")))
        .collect();
    found.sort();
    found
}

/// The typed reading where it applies (`None`: refused, the envelope reads
/// it), and the envelope's reading, the reference.
fn both_readings(cfg: &Config, body: &str) -> (Option<String>, String) {
    let typed = serde_json::from_str::<IssueEnvelope>(body)
        .ok()
        .map(|env| format!("{:?}", Ok::<_, AppError>(issue_typed(cfg, env, NOW))));
    let reference = match serde_json::from_str::<Envelope>(body) {
        Ok(env) => format!("{:?}", parse(cfg, "issue", env, NOW)),
        Err(e) => format!("no envelope: {e}"),
    };
    (typed, reference)
}

/// The value at every object key under `data.issue`, `data`, and the
/// envelope's own keys, replaced by each odd value, or removed.
fn variants(body: &str) -> Vec<String> {
    let root: Value = serde_json::from_str(body).expect("a JSON fixture");
    let odd = [Value::Null, json!(7), json!(-1.5), json!("x"), json!(""), json!({}), json!([]), json!({"name": 3})];
    let mut out = vec![];
    for pointer in ["", "/data", "/data/issue", "/data/issue/project", "/installation", "/actor", "/data/assignee"] {
        let Some(keys) =
            root.pointer(pointer).and_then(Value::as_object).map(|o| o.keys().cloned().collect::<Vec<_>>())
        else {
            continue;
        };
        for key in keys {
            for v in odd.iter().cloned().map(Some).chain([None]) {
                let mut changed = root.clone();
                let obj = changed.pointer_mut(pointer).and_then(Value::as_object_mut).expect("the object");
                match v {
                    Some(v) => obj.insert(key.clone(), v),
                    None => obj.remove(&key),
                };
                out.push(changed.to_string());
            }
        }
    }
    out
}

#[test]
fn the_typed_issue_reading_is_taken_for_every_real_issue_and_agrees_with_the_envelope() {
    let internal =
        Config { internal: Some(crate::config::Internal { token: "t".into(), org_slug: "acme".into() }), ..cfg() };
    let bodies = real_issue_bodies();
    assert!(bodies.len() >= 8, "the real issue fixtures: {}", bodies.len());
    let (mut typed_taken, mut compared) = (0, 0);
    for (name, body) in &bodies {
        let (typed, reference) = both_readings(&cfg(), body);
        assert_eq!(typed.as_deref(), Some(reference.as_str()), "{name}: a real issue is read the typed way, the same");
        for variant in variants(body) {
            for c in [cfg(), internal.clone()] {
                let (typed, reference) = both_readings(&c, &variant);
                compared += 1;
                if let Some(typed) = typed {
                    typed_taken += 1;
                    assert_eq!(typed, reference, "{name}: {variant}");
                }
            }
        }
    }
    assert!(typed_taken > compared / 2, "the typed reading applies to most variants: {typed_taken} of {compared}");
    assert!(typed_taken < compared, "some variants are refused by it and read by the envelope");
}

/// The card statement's id parameter of a plan, if it writes a card.
fn card_id(plan: &Plan) -> Option<SqlValue> {
    plan.statements.iter().find(|s| s.sql.starts_with("INSERT INTO cards")).map(|s| s.params[0].clone())
}

#[test]
fn an_issue_the_typed_reading_refuses_is_answered_as_before() {
    let dup = r#"{"action":"created","data":{"issue":{"id":"1","id":"2"}},"actor":{"name":"Ann"}}"#;
    assert!(serde_json::from_str::<IssueEnvelope>(dup).is_err(), "a repeated key is the envelope's to read");
    let plan = deliver("issue", dup).expect("a verified issue is accepted");
    assert_eq!(plan.verdict.outcome, Outcome::Applied);
    assert_eq!(card_id(&plan), Some(SqlValue::Text("2".into())), "the envelope's reading: the last key wins");
    let (typed, reference) =
        both_readings(&cfg(), r#"{"action":"created","data":{"issue":{"id":"5"}},"actor":{"name":5}}"#);
    assert_eq!(typed.as_deref(), Some(reference.as_str()));
    assert!(reference.contains("actor: None"), "a name that is not text names nobody: {reference}");
    let listed = r#"{"action":"created","data":{"issue":{"id":"6"}},"actor":["Ann"]}"#;
    let (typed, reference) = both_readings(&cfg(), listed);
    assert_eq!(typed.as_deref(), Some(reference.as_str()), "an actor list is no actor in either reading");
    assert!(reference.contains("actor: None"), "{reference}");
    let no_data = r#"{"action":"created"}"#;
    let plan = deliver("issue", no_data).expect("accepted");
    assert_eq!(plan.verdict.outcome, Outcome::Unusable);
}

#[test]
fn the_typed_reading_does_not_look_inside_what_it_skips() {
    // A lone surrogate, a number past f64 and deep nesting in a field the
    // plan does not use: the envelope refused such a body as unusable; the
    // typed reading skips the field and applies the issue it carries.
    let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
    for odd in [r#""\ud800""#.to_string(), "1e400".to_string(), deep] {
        let body = format!(r#"{{"action":"created","data":{{"issue":{{"id":"7","extra":{odd}}}}}}}"#);
        assert!(serde_json::from_str::<Envelope>(&body).is_err(), "{odd}: the envelope refuses it");
        let plan = deliver("issue", &body).expect("accepted");
        assert_eq!(
            (plan.verdict.outcome, card_id(&plan)),
            (Outcome::Applied, Some(SqlValue::Text("7".into()))),
            "{odd}"
        );
    }
}
