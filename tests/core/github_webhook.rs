//! Native tests for `github::hook::handle`: one GitHub delivery checked in
//! order (signature over the raw body, content type, event header, JSON),
//! then dispatched on `X-GitHub-Event` and `action` together. Bodies are the
//! octokit samples in `tests/fixtures/github`, sent byte for byte.

use sentry_kanban::config::{Config, GithubConfig};
use sentry_kanban::error::AppError;
use sentry_kanban::github::hook::{handle, Delivery, Handled, SyncRecord};
use sentry_kanban::github::sync::{MemberAction, MembershipJob, TeamAction, TeamJob};
use sentry_kanban::jobs::Job;
use sentry_kanban::verify::{body_digest, sign_hex, Rejection};
use serde_json::Value;

const SECRET: &str = "It's a Secret to Everybody";
const DELIVERY: &str = "72d3162e-cc78-11e3-81ab-4c9367dc0958";
const JSON: &str = "application/json";

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/github/{name}.json", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"))
}

/// A fixture as a JSON value, edited by `edit`, serialized compact again.
fn edited(name: &str, edit: impl FnOnce(&mut Value)) -> String {
    let mut v: Value = serde_json::from_str(&fixture(name)).expect("fixture is JSON");
    edit(&mut v);
    v.to_string()
}

fn cfg() -> Config {
    Config { github: GithubConfig { secret: Some(SECRET.into()), ..Default::default() }, ..Default::default() }
}

fn sig_with(secret: &str, body: &[u8]) -> String {
    format!("sha256={}", sign_hex(secret.as_bytes(), body))
}

fn sig(body: &[u8]) -> String {
    sig_with(SECRET, body)
}

/// A well-formed JSON delivery of `event` with the given signature header.
fn delivery<'a>(event: &'a str, body: &'a [u8], signature: &'a str) -> Delivery<'a> {
    Delivery {
        event: Some(event),
        delivery_id: Some(DELIVERY),
        content_type: Some(JSON),
        signature: Some(signature),
        body,
    }
}

/// Sends `body` as `event`, correctly signed.
fn send(event: &str, body: &str) -> Result<Handled, AppError> {
    let s = sig(body.as_bytes());
    handle(&cfg(), &delivery(event, body.as_bytes(), &s))
}

fn rejection(res: Result<Handled, AppError>) -> Rejection {
    match res {
        Err(AppError::Unauthorized(r)) => r,
        other => panic!("expected 401, got {other:?}"),
    }
}

fn bad_request(res: Result<Handled, AppError>) -> String {
    match res {
        Err(AppError::BadRequest(msg)) => msg,
        other => panic!("expected 400, got {other:?}"),
    }
}

/// The outcome of an `Answer`, after checking its reply and verdict agree.
fn answered(res: Result<Handled, AppError>) -> &'static str {
    match res {
        Ok(Handled::Answer { reply, verdict }) => {
            assert_eq!(reply.status, 200);
            assert_eq!(reply.body["outcome"], verdict.outcome.as_str());
            verdict.outcome.as_str()
        }
        other => panic!("expected an answer, got {other:?}"),
    }
}

fn synced(res: Result<Handled, AppError>) -> (SyncRecord, Option<Job>) {
    match res {
        Ok(Handled::Sync { record, job, reply, verdict }) => {
            assert_eq!(reply.status, 200);
            assert_eq!(reply.body["delivery"], record.delivery.as_str());
            assert_eq!(verdict.outcome, record.status);
            (*record, job)
        }
        other => panic!("expected a sync, got {other:?}"),
    }
}

#[test]
fn a_correctly_signed_fixture_is_accepted_and_only_under_the_right_secret() {
    let body = fixture("team-created");
    assert!(send("team", &body).is_ok());
    let wrong = sig_with("not the secret", body.as_bytes());
    assert_eq!(rejection(handle(&cfg(), &delivery("team", body.as_bytes(), &wrong))), Rejection::BadSignature);
}

#[test]
fn a_missing_signature_is_rejected() {
    let body = fixture("ping");
    let d = Delivery { signature: None, ..delivery("ping", body.as_bytes(), "") };
    assert_eq!(handle(&cfg(), &d), Err(AppError::Unauthorized(Rejection::MissingSignature)));
}

#[test]
fn a_bare_or_uppercase_hex_signature_is_malformed() {
    let body = fixture("ping");
    let bare = sign_hex(SECRET.as_bytes(), body.as_bytes());
    assert_eq!(rejection(handle(&cfg(), &delivery("ping", body.as_bytes(), &bare))), Rejection::MalformedSignature);
    let upper = format!("sha256={}", bare.to_uppercase());
    assert_eq!(rejection(handle(&cfg(), &delivery("ping", body.as_bytes(), &upper))), Rejection::MalformedSignature);
}

#[test]
fn a_flipped_byte_in_the_body_is_rejected() {
    let body = fixture("membership-added").into_bytes();
    let s = sig(&body);
    for i in [0, body.len() / 2, body.len() - 1] {
        let mut tampered = body.clone();
        tampered[i] ^= 0x01;
        assert_eq!(rejection(handle(&cfg(), &delivery("membership", &tampered, &s))), Rejection::BadSignature);
    }
}

#[test]
fn without_a_configured_secret_nothing_verifies() {
    let body = fixture("ping");
    let s = sig(body.as_bytes());
    for secret in [None, Some(String::new())] {
        let cfg = Config { github: GithubConfig { secret, ..Default::default() }, ..Default::default() };
        let res = handle(&cfg, &delivery("ping", body.as_bytes(), &s));
        assert_eq!(rejection(res), Rejection::SecretNotConfigured);
    }
}

/// `application/x-www-form-urlencoded` encoding of one value.
fn form_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => (b as char).to_string(),
            b' ' => "+".to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

const FORM: &str = "application/x-www-form-urlencoded";

fn send_form(event: &str, body: &str) -> Result<Handled, AppError> {
    let s = sig(body.as_bytes());
    handle(&cfg(), &Delivery { content_type: Some(FORM), ..delivery(event, body.as_bytes(), &s) })
}

// Changed (issue 16 #8): a form-encoded delivery used to get 415; it is now
// verified over the form bytes, then its `payload` is handled like JSON.
#[test]
fn form_encoded_deliveries_are_verified_over_the_form_then_handled_like_json() {
    for (event, name) in [("team", "team-created"), ("membership", "membership-added"), ("team", "team-deleted")] {
        let json = fixture(name);
        let form = format!("payload={}", form_encode(&json));
        let (from_form, form_job) = synced(send_form(event, &form));
        let (from_json, json_job) = synced(send(event, &json));
        assert_eq!(from_form.body_sha256, body_digest(form.as_bytes()), "the key is the digest of the signed bytes");
        assert_ne!(from_form.body_sha256, from_json.body_sha256);
        let unkeyed = |mut r: SyncRecord| {
            r.body_sha256.clear();
            r
        };
        assert_eq!(unkeyed(from_form), unkeyed(from_json), "{name}");
        let (mut form_job, json_job) = (form_job.expect("a job"), json_job.expect("a job"));
        match &mut form_job {
            Job::GithubTeam(j) => j.body_sha256 = body_digest(json.as_bytes()),
            Job::GithubMembership(j) => j.body_sha256 = body_digest(json.as_bytes()),
            other => panic!("{other:?}"),
        }
        assert_eq!(form_job, json_job, "{name}");
    }
    assert_eq!(answered(send_form("ping", "payload=%7B%7D")), "pong");
    let body = format!("payload={}", form_encode(&fixture("team-created")));
    let forged = sig_with("wrong", body.as_bytes());
    let unsigned = Delivery { content_type: Some(FORM), ..delivery("team", body.as_bytes(), &forged) };
    let err = handle(&cfg(), &unsigned).unwrap_err();
    assert_eq!((err.status(), err), (401, AppError::Unauthorized(Rejection::BadSignature)));
    // The signature covers the form, not the JSON inside it.
    let json_sig = sig(fixture("team-created").as_bytes());
    let resigned = Delivery { content_type: Some(FORM), ..delivery("team", body.as_bytes(), &json_sig) };
    assert_eq!(handle(&cfg(), &resigned), Err(AppError::Unauthorized(Rejection::BadSignature)));
}

#[test]
fn a_verified_form_without_a_usable_payload_is_accepted_with_the_reason() {
    for (body, why) in [
        ("zen=hi", "without a payload"),
        ("", "without a payload"),
        ("payload=%7B%22a%22%3A%zz", "%-escape"),
        ("payload=%C3%28", "UTF-8"),
    ] {
        match send_form("team", body) {
            Ok(Handled::Answer { reply, verdict }) => {
                assert_eq!((reply.status, verdict.outcome.as_str()), (200, "unusable"), "{body}");
                assert!(reply.body["detail"].as_str().unwrap().contains(why), "{body}: {}", reply.body);
            }
            other => panic!("{body}: expected a 2xx answer, got {other:?}"),
        }
    }
}

#[test]
fn other_content_types_get_415_naming_the_json_setting() {
    let body = fixture("team-created");
    let s = sig(body.as_bytes());
    for ct in ["text/plain", "multipart/form-data; boundary=x", "application/xml"] {
        let err = handle(&cfg(), &Delivery { content_type: Some(ct), ..delivery("team", body.as_bytes(), &s) });
        let err = err.unwrap_err();
        assert_eq!(err.status(), 415, "{ct}");
        match &err {
            AppError::UnsupportedMediaType(msg) => assert!(msg.contains("application/json"), "{msg}"),
            other => panic!("expected 415, got {other:?}"),
        }
    }
}

#[test]
fn the_record_and_job_are_keyed_on_the_digest_of_the_raw_body_and_name_the_org() {
    let body = fixture("membership-added");
    let (record, job) = synced(send("membership", &body));
    assert_eq!(record.body_sha256, body_digest(body.as_bytes()));
    assert_eq!(record.org.as_deref(), Some("Octocoders"));
    let Some(Job::GithubMembership(job)) = job else { panic!("{job:?}") };
    assert_eq!((job.body_sha256.as_str(), job.org.as_deref()), (record.body_sha256.as_str(), Some("Octocoders")));
    let spaced = body.replace("\"added\"", "\"added\" ");
    assert_ne!(synced(send("membership", &spaced)).0.body_sha256, record.body_sha256, "every byte counts");
}

#[test]
fn json_with_a_charset_or_no_content_type_is_accepted() {
    let body = fixture("team-created");
    let s = sig(body.as_bytes());
    for ct in [Some("application/json; charset=utf-8"), None] {
        let d = Delivery { content_type: ct, ..delivery("team", body.as_bytes(), &s) };
        assert!(matches!(handle(&cfg(), &d), Ok(Handled::Sync { .. })), "{ct:?}");
    }
}

#[test]
fn ping_answers_pong() {
    assert_eq!(answered(send("ping", &fixture("ping"))), "pong");
}

#[test]
fn team_created_deleted_and_edited_are_queued_under_the_delivery_id() {
    let cases = [("created", TeamAction::Created), ("deleted", TeamAction::Deleted), ("edited", TeamAction::Edited)];
    for (action, kind) in cases {
        let (record, job) = synced(send("team", &fixture(&format!("team-{action}"))));
        assert_eq!((record.status, record.event, record.action.as_str()), ("queued", "team", action));
        assert_eq!(record.delivery, DELIVERY);
        assert_eq!(record.team_id.as_deref(), Some("3253328"));
        let body_sha256 = body_digest(fixture(&format!("team-{action}")).as_bytes());
        let (team_id, slug) = ("3253328".into(), Some("github".into()));
        let expected = TeamJob { delivery: DELIVERY.into(), body_sha256, action: kind, team_id, slug };
        assert_eq!(job, Some(Job::GithubTeam(expected)), "{action}");
    }
}

#[test]
fn team_added_to_repository_is_ignored() {
    assert_eq!(answered(send("team", &fixture("team-added_to_repository"))), "ignored");
}

#[test]
fn membership_added_and_removed_are_queued() {
    for (action, kind) in [("added", MemberAction::Added), ("removed", MemberAction::Removed)] {
        let (record, job) = synced(send("membership", &fixture(&format!("membership-{action}"))));
        assert_eq!((record.status, record.event, record.delivery.as_str()), ("queued", "membership", DELIVERY));
        assert_eq!(record.login.as_deref(), Some("Codertocat"));
        let expected = MembershipJob {
            delivery: DELIVERY.into(),
            body_sha256: body_digest(fixture(&format!("membership-{action}")).as_bytes()),
            action: kind,
            team_id: "3253328".into(),
            team_slug: Some("github".into()),
            login: "Codertocat".into(),
            org: Some("Octocoders".into()),
        };
        assert_eq!(job, Some(Job::GithubMembership(expected)), "{action}");
    }
}

// Changed (issue 17): the deleted team's stub (no slug) used to be a noop
// here; it is now queued, and the job finds the team by its id.
#[test]
fn membership_in_a_deleted_team_is_queued_by_the_team_id() {
    let (record, job) = synced(send("membership", &fixture("membership-removed.with-deleted-team")));
    assert_eq!((record.status, record.team_slug.as_deref()), ("queued", None));
    assert_eq!(record.delivery, DELIVERY);
    let Some(Job::GithubMembership(job)) = job else { panic!("{job:?}") };
    assert_eq!((job.team_id.as_str(), job.team_slug, job.action), ("3253328", None, MemberAction::Removed));
    let no_id = edited("membership-removed.with-deleted-team", |v| {
        v["team"].as_object_mut().unwrap().remove("id");
    });
    let (record, job) = synced(send("membership", &no_id));
    assert_eq!((record.status, job), ("noop", None));
    assert!(record.detail.is_some());
}

#[test]
fn membership_without_a_member_is_a_recorded_noop() {
    let body = edited("membership-added", |v| v["member"] = Value::Null);
    let (record, job) = synced(send("membership", &body));
    assert_eq!((record.status, record.login, job), ("noop", None, None));
}

#[test]
fn a_membership_body_sent_as_a_team_event_is_not_a_membership() {
    assert_eq!(answered(send("team", &fixture("membership-added"))), "ignored");
}

#[test]
fn organization_and_unknown_events_are_ignored() {
    assert_eq!(answered(send("organization", &fixture("organization-member_invited"))), "ignored");
    assert_eq!(answered(send("star", &fixture("team-created"))), "ignored");
}

#[test]
fn missing_headers_are_bad_requests() {
    let body = fixture("team-created");
    let s = sig(body.as_bytes());
    for event in [None, Some(""), Some("  ")] {
        let d = Delivery { event, ..delivery("team", body.as_bytes(), &s) };
        assert!(bad_request(handle(&cfg(), &d)).contains("X-GitHub-Event"));
    }
    let d = Delivery { delivery_id: None, ..delivery("team", body.as_bytes(), &s) };
    assert!(bad_request(handle(&cfg(), &d)).contains("X-GitHub-Delivery"));
}

#[test]
fn invalid_json_and_a_team_without_id_are_bad_requests() {
    bad_request(send("team", "{\"action\":\"created\",\"team\":"));
    bad_request(send("team", "not json at all"));
    let no_id = edited("team-created", |v| {
        v["team"].as_object_mut().unwrap().remove("id");
    });
    assert!(bad_request(send("team", &no_id)).contains("team.id"));
}

/// Deterministic xorshift64; no external crates.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Random bytes, a fixture with a few bytes changed, or JSON-ish tokens.
fn arbitrary(rng: &mut Rng, fixtures: &[String]) -> Vec<u8> {
    const TOKENS: &[&str] = &[
        "{",
        "}",
        "[",
        "]",
        ",",
        ":",
        "null",
        "true",
        "1",
        "-0",
        "1e400",
        "\"action\"",
        "\"added\"",
        "\"created\"",
        "\"team\"",
        "\"id\"",
        "\"slug\"",
        "\"member\"",
        "\"login\"",
        "\"scope\"",
        "\"deleted\"",
        "\"\\u0000\"",
    ];
    match rng.below(3) {
        0 => (0..rng.below(300)).map(|_| rng.next() as u8).collect(),
        1 => {
            let mut b = fixtures[rng.below(fixtures.len())].clone().into_bytes();
            for _ in 0..=rng.below(4) {
                let i = rng.below(b.len());
                b[i] = rng.next() as u8;
            }
            b
        }
        _ => (0..rng.below(40)).flat_map(|_| TOKENS[rng.below(TOKENS.len())].bytes()).collect(),
    }
}

#[test]
fn arbitrary_signed_bytes_never_panic_or_fail_verification() {
    let names = ["team-created", "team-edited", "membership-added", "membership-removed.with-deleted-team"];
    let fixtures: Vec<String> = names.iter().map(|n| fixture(n)).collect();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let (cfg, events) = (cfg(), ["team", "membership", "ping", "organization"]);
    let mut seen = [0usize; 3]; // syncs, answers, bad requests: every path is reached
    for round in 0..2000 {
        let body = arbitrary(&mut rng, &fixtures);
        let event = events[round % events.len()];
        let s = sig(&body);
        let d = delivery(event, &body, &s);
        let res = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| handle(&cfg, &d)));
        let res = res.unwrap_or_else(|_| panic!("handle panicked on {event} {:?}", String::from_utf8_lossy(&body)));
        match &res {
            Ok(Handled::Sync { .. }) => seen[0] += 1,
            Ok(Handled::Answer { .. }) => seen[1] += 1,
            Err(AppError::BadRequest(_)) => seen[2] += 1,
            Err(e) => panic!("signed JSON {event} delivery gave {e:?} for {:?}", String::from_utf8_lossy(&body)),
        }
        if event == "ping" {
            assert_eq!(answered(res), "pong", "ping never reads the body");
        }
    }
    assert!(seen.iter().all(|&n| n > 0), "{seen:?}");
}

#[test]
fn invalid_utf8_is_a_bad_request_even_in_a_field_that_is_skipped() {
    let mut body = br#"{"action":"created","team":{"id":1,"slug":"a"},"sender":{"login":"??"}}"#.to_vec();
    let at = body.len() - 5;
    body[at..at + 2].copy_from_slice(&[0xff, 0xfe]);
    let s = sig(&body);
    for event in ["team", "membership", "push"] {
        bad_request(handle(&cfg(), &delivery(event, &body, &s)));
    }
}

#[test]
fn a_team_id_that_is_not_a_64_bit_integer_is_a_bad_request() {
    for id in ["18446744073709551616", "1.5", "1e3"] {
        let body = format!(r#"{{"action":"created","team":{{"id":{id},"slug":"a"}}}}"#);
        bad_request(send("team", &body));
    }
    assert!(
        bad_request(send("team", r#"{"action":"created","team":{"id":1e400,"slug":"a"}}"#)).contains("not a GitHub")
    );
}
