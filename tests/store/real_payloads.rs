//! Published webhook payloads (zulip's captures of real Sentry deliveries,
//! getsentry/integration-platform-example mocks, the Sentry docs samples and
//! octokit's GitHub examples) run through the worker's core. The files are
//! in `tests/fixtures/real/`, named `<source>--<resource>--<name>.json`;
//! `SOURCES.md` there says where each one comes from.
//!
//! Every Sentry fixture is delivered twice, each time on a fresh database:
//! once as the file's bytes, and once re-encoded the way Sentry really sends
//! a body (compact separators, insertion key order, `\uXXXX` for every
//! non-ASCII character). Both must give the same outcome.

use crate::support;

use rusqlite::Connection;
use sentry_kanban::config::{Config, GithubConfig};
use sentry_kanban::github::hook::{self as github, Handled};
use sentry_kanban::plan::Plan;
use sentry_kanban::sentry::hook::{QUEUED, UNUSABLE};
use sentry_kanban::verify::sign_hex;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use support::db;
use support::hook::{cfg, deliver_full, request_id, NOW};
use support::sentry::js;

const SENTRY_RESOURCES: &[&str] = &["issue", "comment", "error", "event_alert", "metric_alert", "installation"];
const GITHUB_EVENTS: &[&str] = &["team", "membership"];

/// Fewest fixtures each source must have, so a missing or emptied folder fails.
const AT_LEAST: &[(&str, usize)] = &[("zulip", 18), ("ipe", 16), ("docs", 6), ("octokit", 9)];

/// Fewest `event_alert` fixtures with no `data.event.issue_id` (zulip's 2020
/// captures): the issue must then come from `issue_url`/`web_url`/`url`.
const AT_LEAST_WITHOUT_ISSUE_ID: usize = 8;

struct Fixture {
    path: PathBuf,
    source: String,
    resource: String,
    bytes: Vec<u8>,
}

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/real")
}

/// Every `<source>--<resource>--<name>.json` in the folder, sorted by name.
fn fixtures() -> Vec<Fixture> {
    let dir = fixtures_dir();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|entry| entry.expect("fixture entry").path())
        .filter(|p| p.extension().is_some_and(|ext| ext == "json"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let stem = path.file_stem().unwrap().to_str().unwrap().to_string();
            let parts: Vec<&str> = stem.splitn(3, "--").collect();
            assert_eq!(parts.len(), 3, "{} is not named <source>--<resource>--<name>.json", path.display());
            let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
            Fixture { source: parts[0].to_string(), resource: parts[1].to_string(), path, bytes }
        })
        .collect()
}

/// The body as Sentry sends it: no whitespace between tokens, keys in the
/// file's order, strings re-escaped as Python's `json.dumps` does (with
/// `ensure_ascii`). Strings are decoded by serde_json and re-encoded with
/// `support::sentry::js`; numbers and literals are kept as written.
/// (serde_json's `Value` here has no `preserve_order`, so serialising a
/// `Value` would sort the keys, which Sentry does not do.)
fn sentry_compact(body: &[u8]) -> Vec<u8> {
    let text = std::str::from_utf8(body).expect("fixture is UTF-8");
    let mut out = String::with_capacity(text.len());
    let mut chars = text.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        match c {
            '"' => {
                let mut end = start + 1;
                let mut escaped = false;
                for (i, c) in chars.by_ref() {
                    end = i + c.len_utf8();
                    match (escaped, c) {
                        (true, _) => escaped = false,
                        (false, '\\') => escaped = true,
                        (false, '"') => break,
                        _ => {}
                    }
                }
                let literal = &text[start..end];
                let s: String = serde_json::from_str(literal).unwrap_or_else(|e| panic!("string {literal}: {e}"));
                out.push_str(&js(&s));
            }
            ' ' | '\t' | '\n' | '\r' => {}
            _ => out.push(c),
        }
    }
    let before: Value = serde_json::from_slice(body).expect("fixture is JSON");
    let after: Value = serde_json::from_str(&out).expect("compact form is JSON");
    assert_eq!(before, after, "re-encoding changed the payload");
    assert!(out.is_ascii());
    out.into_bytes()
}

/// The issue an `event_alert` names: `data.event.issue_id`, else the number
/// after `/issues/` in `issue_url`, `web_url` or `url`.
fn alert_issue_id(payload: &Value) -> Option<String> {
    let event = &payload["data"]["event"];
    match &event["issue_id"] {
        Value::String(s) if !s.is_empty() => return Some(s.clone()),
        Value::Number(n) => return Some(n.to_string()),
        _ => {}
    }
    ["issue_url", "web_url", "url"].iter().find_map(|key| {
        let url = event[*key].as_str()?;
        let rest = &url[url.find("/issues/")? + "/issues/".len()..];
        let id: String = rest.chars().take_while(char::is_ascii_digit).collect();
        (!id.is_empty()).then_some(id)
    })
}

fn id_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// What one delivery did, in a form two deliveries can be compared by.
#[derive(Debug, PartialEq)]
struct Outcome {
    status: u16,
    outcome: &'static str,
    action: String,
    detail: Option<String>,
    cards: i64,
    items: usize,
}

/// Delivers `body` as `resource` on a fresh database and checks what the
/// resource's fixtures must show. Returns the outcome for comparison.
fn deliver_and_check(f: &Fixture, body: &[u8], form: &str) -> Outcome {
    let conn: Connection = db::fresh_db();
    let plan: Plan = deliver_full(&conn, &cfg(), &f.resource, body, NOW, &request_id());
    let name = format!("{} ({form})", f.path.file_name().unwrap().to_string_lossy());
    assert_eq!(plan.reply.status, 200, "{name}: {:?}", plan.reply);
    assert_ne!(
        plan.verdict.outcome, UNUSABLE,
        "{name}: the worker called a published {} payload unusable: {:?}",
        f.resource, plan.verdict.detail
    );
    let payload: Value = serde_json::from_slice(body).unwrap();
    match f.resource.as_str() {
        "issue" => {
            let id = id_text(&payload["data"]["issue"]["id"]).unwrap_or_else(|| panic!("{name}: no data.issue.id"));
            let card = db::card(&conn, &id);
            assert_eq!(card["kind"], "issue", "{name}: {card}");
        }
        "event_alert" => {
            let id = alert_issue_id(&payload).unwrap_or_else(|| panic!("{name}: the payload names no issue"));
            let alerts: Vec<Value> = db::items(&conn)
                .into_iter()
                .filter(|i| i["kind"] == "event_alert" && i["sentry_issue_id"] == id.as_str())
                .collect();
            assert_eq!(alerts.len(), 1, "{name}: alert cards for issue {id}: {:#?}", db::items(&conn));
        }
        "error" => assert_eq!(plan.verdict.outcome.as_str(), QUEUED, "{name}: {:?}", plan.verdict),
        _ => {}
    }
    Outcome {
        status: plan.reply.status,
        outcome: plan.verdict.outcome.as_str(),
        action: plan.verdict.action.clone(),
        detail: plan.verdict.detail.clone(),
        cards: db::card_count(&conn),
        items: db::items(&conn).len(),
    }
}

#[test]
fn every_published_sentry_payload_is_used_as_published_and_as_sentry_sends_it() {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut report = Vec::new();
    let mut without_issue_id = 0;
    for f in fixtures() {
        *seen.entry(f.source.clone()).or_default() += 1;
        if GITHUB_EVENTS.contains(&f.resource.as_str()) {
            continue;
        }
        assert!(SENTRY_RESOURCES.contains(&f.resource.as_str()), "{}: unknown resource", f.path.display());
        let payload: Value = serde_json::from_slice(&f.bytes).expect("fixture is JSON");
        if f.resource == "event_alert" && payload["data"]["event"].get("issue_id").is_none() {
            without_issue_id += 1;
        }
        let as_published = deliver_and_check(&f, &f.bytes, "as published");
        let compact = sentry_compact(&f.bytes);
        let as_sent = deliver_and_check(&f, &compact, "compact");
        assert_eq!(as_published, as_sent, "{}: the compact form was treated differently", f.path.display());
        report.push(format!(
            "{:<70} {:<12} {:<10} {}",
            f.path.file_name().unwrap().to_string_lossy(),
            f.resource,
            as_published.outcome,
            as_published.detail.as_deref().unwrap_or("")
        ));
    }
    println!("{}", report.join("\n"));
    for (source, n) in AT_LEAST {
        let got = seen.get(*source).copied().unwrap_or(0);
        assert!(got >= *n, "only {got} fixtures from {source} in {}, want at least {n}", fixtures_dir().display());
    }
    assert!(
        without_issue_id >= AT_LEAST_WITHOUT_ISSUE_ID,
        "only {without_issue_id} event_alert fixtures without data.event.issue_id"
    );
}

#[test]
fn the_compact_form_is_what_sentry_would_send() {
    let pretty = "{\n  \"b\": [1, 2.5, true, null],\n  \"a\": \"caf\u{e9} \u{1f600} x\\/y \\u00e9\\n\"\n}\n";
    let compact = String::from_utf8(sentry_compact(pretty.as_bytes())).unwrap();
    assert_eq!(compact, r#"{"b":[1,2.5,true,null],"a":"caf\u00e9 \ud83d\ude00 x/y \u00e9\n"}"#);
}

const GITHUB_SECRET: &str = "It's a Secret to Everybody";

#[test]
fn every_octokit_team_and_membership_example_is_accepted() {
    let cfg = Config {
        github: GithubConfig { secret: Some(GITHUB_SECRET.into()), ..Default::default() },
        ..Default::default()
    };
    let mut n = 0;
    for f in fixtures().into_iter().filter(|f| GITHUB_EVENTS.contains(&f.resource.as_str())) {
        n += 1;
        let sig = format!("sha256={}", sign_hex(GITHUB_SECRET.as_bytes(), &f.bytes));
        let d = github::Delivery {
            event: Some(&f.resource),
            delivery_id: Some("72d3162e-cc78-11e3-81ab-4c9367dc0958"),
            content_type: Some("application/json"),
            signature: Some(&sig),
            body: &f.bytes,
        };
        let name = f.path.file_name().unwrap().to_string_lossy().to_string();
        let (reply, verdict) = match github::handle(&cfg, &d) {
            Ok(Handled::Answer { reply, verdict }) => (reply, verdict),
            Ok(Handled::Sync { reply, verdict, .. }) => (reply, verdict),
            Err(e) => panic!("{name}: refused: {e:?}"),
        };
        assert!((200..300).contains(&reply.status), "{name}: {reply:?}");
        println!("{name:<60} {} {} {:?}", reply.status, verdict.outcome, verdict.detail);
    }
    let want = AT_LEAST.iter().find(|(s, _)| *s == "octokit").unwrap().1;
    assert!(n >= want, "only {n} GitHub fixtures, want at least {want}");
}
