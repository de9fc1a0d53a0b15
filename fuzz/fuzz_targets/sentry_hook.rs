//! Sentry webhook: verify + parse + plan (`sentry::hook::handle`).
//!
//! Input: 4 control bytes, then the body. The control bytes pick the
//! resource header, the configuration, the timestamp header and whether the
//! signature is right, so the fuzzer explores both the planner behind a
//! valid signature and the verifier in front of it:
//!
//! - a correct signature must end in a plan (200, consistent) or a 400;
//! - a flipped bit in the body or the MAC, another secret, or signature
//!   text taken from the input must be refused with 401.
#![no_main]

use libfuzzer_sys::{fuzz_mutator, fuzz_target};
use sentry_kanban::config::{Config, Internal, MAX_BODY_BYTES};
use sentry_kanban::error::AppError;
use sentry_kanban::sentry::hook::{handle, Delivery};
use sentry_kanban::verify::sign_hex;

const SECRET: &str = "fuzz-secret";
const NOW: i64 = 1_700_000_000_000;
const RESOURCES: &[&str] = &[
    "issue",
    "error",
    "event",
    "comment",
    "installation",
    "event_alert",
    "metric_alert",
    "seer",
    "",
    "Issue ",
    "preprod_artifact",
    "installation",
    "issue",
    "error",
    "comment",
    "metric_alert",
];
const TIMESTAMPS: &[Option<&str>] =
    &[None, Some("1699999999"), Some("-9223372036854775808"), Some("99999999999999999999"), Some(" 17 "), Some("x")];

fn config(which: u8) -> Config {
    let base = Config { sentry_secret: Some(SECRET.into()), ..Default::default() };
    match which % 4 {
        0 => base,
        1 => Config { internal: Some(Internal { token: "t".into(), org_slug: "acme".into() }), ..base },
        2 => Config { sentry_client_id: Some("client".into()), ..base },
        _ => Config { error_log_direct: true, ..base },
    }
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 4 {
        return;
    }
    let (ctl, body) = data.split_at(4);
    let resource = RESOURCES[usize::from(ctl[0] & 0x0f)];
    let cfg = config(ctl[0] >> 4);
    let timestamp = TIMESTAMPS[usize::from(ctl[1] >> 4) % TIMESTAMPS.len()];
    let pos = usize::from(u16::from_le_bytes([ctl[2], ctl[3]]));
    let good = sign_hex(SECRET.as_bytes(), body);

    let mut tampered = body.to_vec();
    let (signature, sent_body): (String, &[u8]) = match ctl[1] & 0x0f {
        // A flipped bit in the body.
        0 if !body.is_empty() => {
            tampered[pos % body.len()] ^= 1 << (ctl[3] % 8);
            (good.clone(), &tampered)
        }
        // A flipped bit in the MAC.
        1 => {
            let mut mac = hex::decode(&good).unwrap();
            mac[pos % 32] ^= 1 << (ctl[2] % 8);
            (hex::encode(mac), body)
        }
        // Another secret.
        2 => (sign_hex(b"not-the-secret", body), body),
        // Header text from the input itself.
        3 => (String::from_utf8_lossy(&body[..body.len().min(80)]).into_owned(), body),
        // Otherwise the right signature (most inputs: the planner is the
        // bigger surface).
        _ => (good.clone(), body),
    };
    let valid = signature.trim() == good && sent_body == body;

    let d = Delivery {
        resource: Some(resource),
        signature: Some(&signature),
        timestamp,
        authorization: None,
        body: sent_body,
    };
    let res = handle(&cfg, &d, NOW);
    if sent_body.len() > MAX_BODY_BYTES {
        assert_eq!(res, Err(AppError::PayloadTooLarge { limit: MAX_BODY_BYTES }), "size is checked first");
        return;
    }
    if !valid {
        assert!(matches!(res, Err(AppError::Unauthorized(_))), "a bad signature got {res:?}");
        return;
    }
    match res {
        Ok(plan) => {
            assert_eq!(plan.reply.status, 200);
            match plan.verdict.outcome.as_str() {
                "skipped" => assert!(plan.statements.is_empty() && plan.jobs.is_empty()),
                "queued" => assert!(plan.statements.is_empty() && !plan.jobs.is_empty()),
                "applied" => assert!(!plan.statements.is_empty()),
                other => panic!("unknown outcome {other}"),
            }
            // Every statement binds exactly the parameters its SQL numbers.
            for stmt in &plan.statements {
                let sql = stmt.sql.as_bytes();
                let highest = (0..sql.len())
                    .filter(|&i| sql[i] == b'?')
                    .map(|i| {
                        sql[i + 1..]
                            .iter()
                            .take_while(|c| c.is_ascii_digit())
                            .fold(0, |n, d| n * 10 + usize::from(d - b'0'))
                    })
                    .max()
                    .unwrap_or(0);
                assert_eq!(highest, stmt.params.len(), "{}", stmt.sql);
            }
            // The plan must survive being rendered the way the shell does.
            let _ = plan.reply.body.to_string();
            // Every job survives the queue: it serializes and reads back equal.
            for job in &plan.jobs {
                let text = serde_json::to_string(job).expect("a job serializes");
                let back: sentry_kanban::jobs::Job = serde_json::from_str(&text).expect("a job deserializes");
                assert_eq!(&back, job);
            }
        }
        Err(AppError::BadRequest(_)) => {}
        Err(e) => panic!("a signed delivery got {e:?}"),
    }
});

// JSON-aware edits of the body after the 4 control bytes (see fuzz/src/lib.rs).
fuzz_mutator!(|data: &mut [u8], size: usize, max_size: usize, seed: u32| {
    sentry_kanban_fuzz::mutate(data, size, max_size, seed, 4)
});
