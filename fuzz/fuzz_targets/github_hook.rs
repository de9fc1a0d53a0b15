//! GitHub webhook: verify + content type + parse + plan (`github::hook::handle`).
//!
//! Input: 4 control bytes, then the body. The control bytes pick the event,
//! delivery id and content type headers and whether the signature is right:
//!
//! - a correct signature must end in an answer, a sync record (with a job
//!   exactly when queued), a 400, or a 415 for a non-JSON content type;
//! - a flipped bit in the body or the MAC, another secret, a bare hex
//!   signature or signature text taken from the input must be refused (401).
#![no_main]

use libfuzzer_sys::{fuzz_mutator, fuzz_target};
use sentry_kanban::config::{Config, GithubConfig};
use sentry_kanban::error::AppError;
use sentry_kanban::github::hook::{handle, Delivery, Handled};
use sentry_kanban::verify::sign_hex;

const SECRET: &str = "It's a Secret to Everybody";
const DELIVERY_ID: &str = "72d3162e-cc78-11e3-81ab-4c9367dc0958";
const EVENTS: &[&str] = &["team", "membership", "ping", "organization", "team", "membership", "", " team "];
const IDS: &[Option<&str>] =
    &[Some(DELIVERY_ID), Some(DELIVERY_ID), Some(DELIVERY_ID), None, Some(""), Some("../x"), Some("é"), Some(" 1 ")];
const TYPES: &[Option<&str>] = &[
    Some("application/json"),
    None,
    Some("application/vnd.github+json; charset=utf-8"),
    Some("application/x-www-form-urlencoded"),
];

fuzz_target!(|data: &[u8]| {
    if data.len() < 4 {
        return;
    }
    let (ctl, body) = data.split_at(4);
    let event = EVENTS[usize::from(ctl[0] & 0x07)];
    let delivery_id = IDS[usize::from(ctl[0] >> 3 & 0x07)];
    let content_type = TYPES[usize::from(ctl[0] >> 6)];
    let pos = usize::from(u16::from_le_bytes([ctl[2], ctl[3]]));
    let good = format!("sha256={}", sign_hex(SECRET.as_bytes(), body));

    let mut tampered = body.to_vec();
    let (signature, sent_body): (String, &[u8]) = match ctl[1] & 0x0f {
        0 if !body.is_empty() => {
            tampered[pos % body.len()] ^= 1 << (ctl[3] % 8);
            (good.clone(), &tampered)
        }
        1 => {
            let mut mac = hex::decode(&good[7..]).unwrap();
            mac[pos % 32] ^= 1 << (ctl[2] % 8);
            (format!("sha256={}", hex::encode(mac)), body)
        }
        2 => (format!("sha256={}", sign_hex(b"not the secret", body)), body),
        3 => (good[7..].to_string(), body),
        4 => (String::from_utf8_lossy(&body[..body.len().min(80)]).into_owned(), body),
        _ => (good.clone(), body),
    };
    let valid = signature.trim() == good && sent_body == body;

    let cfg =
        Config { github: GithubConfig { secret: Some(SECRET.into()), ..Default::default() }, ..Default::default() };
    let d = Delivery { event: Some(event), delivery_id, content_type, signature: Some(&signature), body: sent_body };
    let res = handle(&cfg, &d);
    if !valid {
        assert!(matches!(res, Err(AppError::Unauthorized(_))), "a bad signature got {res:?}");
        return;
    }
    match res {
        Ok(Handled::Answer { reply, verdict }) => {
            assert_eq!(reply.status, 200);
            assert!(matches!(verdict.outcome.as_str(), "pong" | "ignored"), "{}", verdict.outcome);
        }
        Ok(Handled::Sync { record, job, reply, verdict }) => {
            assert_eq!(reply.status, 200);
            assert_eq!(delivery_id.map(str::trim), Some(record.delivery.as_str()));
            assert_eq!(job.is_some(), record.status == "queued");
            assert_eq!(verdict.outcome.as_str(), record.status);
            if let Some(job) = job {
                let text = serde_json::to_string(&job).expect("a job serializes");
                let back: sentry_kanban::jobs::Job = serde_json::from_str(&text).expect("a job deserializes");
                assert_eq!(back, job);
            }
        }
        Err(AppError::BadRequest(_)) => {}
        Err(AppError::UnsupportedMediaType(_)) => assert_eq!(content_type, Some("application/x-www-form-urlencoded")),
        Err(e) => panic!("a signed delivery got {e:?}"),
    }
});

// JSON-aware edits of the body after the 4 control bytes (see fuzz/src/lib.rs).
fuzz_mutator!(|data: &mut [u8], size: usize, max_size: usize, seed: u32| {
    sentry_kanban_fuzz::mutate(data, size, max_size, seed, 4)
});
