//! The demo set: each demo issue's life as `issue.*` deliveries, then
//! comments, an issue alert, a metric alert and error events spread over the
//! past days, as Sentry would send them.

mod issues;

use crate::delivery::{hex_id, Delivery};
use issues::{DemoIssue, Step, Who, ANA, ISSUES, JONAS, PRIYA, PROJECTS};
use sentry_kanban::time::format_millis;
use serde_json::{json, Value};

const DEMO_INSTALLATION: &str = "5e7d2c1a-9f3b-4c8e-a1d6-0b2f4e6a8c10";
const ORG_URL: &str = "https://example.sentry.io";

/// `YYYY-MM-DDTHH:MM:SS.ffffffZ`, Sentry's timestamp format.
fn sentry_time(ms: i64) -> String {
    let t = format_millis(ms);
    format!("{}000Z", t.trim_end_matches('Z'))
}

fn hours_ago(now_ms: i64, hours: f64) -> i64 {
    now_ms - (hours * 3_600_000.0) as i64
}

#[derive(Clone, Copy)]
struct State {
    status: &'static str,
    substatus: Option<&'static str>,
    assigned: Option<Who>,
}

/// The `issue` object as Sentry's GroupSerializer sends it (trimmed).
fn issue_json(i: &DemoIssue, s: State, urls: bool, now_ms: i64) -> Value {
    let p = &PROJECTS[i.project];
    let mut v = json!({
        "id": i.id,
        "shareId": null,
        "shortId": i.short_id(),
        "title": i.title(),
        "culprit": i.culprit,
        "permalink": format!("{ORG_URL}/issues/{}/", i.id),
        "logger": null,
        "level": i.level,
        "status": s.status,
        "statusDetails": {},
        "substatus": s.substatus,
        "isPublic": false,
        "platform": p.platform,
        "project": {"id": p.id, "name": p.name, "slug": p.slug, "platform": p.platform},
        "type": "error",
        "metadata": {"type": if i.kind.is_empty() { "Error" } else { i.kind }, "value": i.value},
        "numComments": 0,
        "assignedTo": s.assigned.map(Who::assigned_to),
        "isBookmarked": false,
        "isSubscribed": false,
        "subscriptionDetails": null,
        "hasSeen": false,
        "annotations": [],
        "issueType": "error",
        "issueCategory": "error",
        "priority": match i.level { "fatal" | "error" => "high", "warning" => "medium", _ => "low" },
        "priorityLockedAt": null,
        "isUnhandled": i.level == "fatal",
        "count": i.count.to_string(),
        "userCount": i.users,
        "firstSeen": sentry_time(hours_ago(now_ms, i.first_seen)),
        "lastSeen": sentry_time(hours_ago(now_ms, i.last_seen)),
    });
    if urls {
        v["url"] = json!(format!("https://sentry.io/api/0/organizations/example/issues/{}/", i.id));
        v["web_url"] = json!(format!("{ORG_URL}/issues/{}/", i.id));
        v["project_url"] = json!(format!("{ORG_URL}/issues/?project={}", p.id));
    }
    v
}

fn envelope(action: &str, data: Value, actor: Value) -> Value {
    json!({"action": action, "installation": {"uuid": DEMO_INSTALLATION}, "data": data, "actor": actor})
}

fn sentry_actor() -> Value {
    json!({"type": "application", "id": "sentry", "name": "Sentry"})
}

/// One issue's life: `created`, then each step, each body the issue's state
/// after that step.
fn issue_deliveries(i: &DemoIssue, now_ms: i64) -> Vec<Delivery> {
    let label = format!("{}  {}", i.short_id(), i.title());
    let mut s = State { status: "unresolved", substatus: Some("new"), assigned: None };
    let created = envelope("created", json!({"issue": issue_json(i, s, true, now_ms)}), sentry_actor());
    let mut out = vec![Delivery::sentry("issue", &created, label.clone())];
    let mut last_actor = ANA;
    for step in i.steps {
        let (action, data) = match *step {
            Step::Assign(who) => {
                s = State { status: "unresolved", substatus: Some("ongoing"), assigned: Some(who) };
                ("assigned", json!({"assignee": who.assignee(), "issue": issue_json(i, s, false, now_ms)}))
            }
            Step::Resolve => {
                s = State { status: "resolved", substatus: None, ..s };
                ("resolved", json!({"resolution_type": "now", "issue": issue_json(i, s, false, now_ms)}))
            }
            Step::Ignore => {
                s = State { status: "ignored", substatus: Some("archived_until_escalating"), ..s };
                ("ignored", json!({"issue": issue_json(i, s, false, now_ms)}))
            }
            Step::Unresolve => {
                s = State { status: "unresolved", substatus: Some("regressed"), ..s };
                ("unresolved", json!({"issue": issue_json(i, s, false, now_ms)}))
            }
        };
        if let Step::Assign(who @ Who::User(..)) = *step {
            last_actor = who;
        }
        out.push(Delivery::sentry("issue", &envelope(action, data, last_actor.actor()), label.clone()));
    }
    out
}

fn comment(id: u64, issue: &DemoIssue, who: Who, text: &str, at_ms: i64) -> Delivery {
    let data = json!({
        "comment": text,
        "project_slug": PROJECTS[issue.project].slug,
        "comment_id": id,
        "issue_id": issue.id.parse::<u64>().unwrap_or_default(),
        "timestamp": sentry_time(at_ms),
    });
    Delivery::sentry("comment", &envelope("created", data, who.actor()), format!("{}  {text}", issue.short_id()))
}

/// A Sentry event (as `error.created` and `event_alert.triggered` carry it).
fn event_json(i: &DemoIssue, n: usize, at_ms: i64) -> Value {
    let p = &PROJECTS[i.project];
    let event_id = hex_id(&format!("sentry-kanban demo event {} {n}", i.id));
    let (frames, request, release) = match p.platform {
        "javascript" => (
            json!([
                {"filename": "webpack:///node_modules/react-dom/cjs/react-dom.production.min.js", "function": "renderWithHooks", "module": "react-dom", "lineno": 167, "colno": 137, "in_app": false},
                {"filename": "webpack:///src/components/CartSummary.tsx", "function": "CartSummary", "module": "components/CartSummary", "lineno": 42, "colno": 31, "in_app": true}
            ]),
            json!({"url": "https://shop.example.com/checkout?step=2&coupon=SPRING", "method": "GET",
                   "headers": [["Cookie", "session=demo-not-a-secret"], ["User-Agent", "Mozilla/5.0"]]}),
            "web-frontend@2.14.0",
        ),
        "python" => (
            json!([
                {"filename": "checkout/views/orders.py", "function": "create_order", "module": "checkout.views.orders", "lineno": 88, "in_app": true},
                {"filename": "checkout/pricing.py", "function": "convert_total", "module": "checkout.pricing", "lineno": 131, "in_app": true}
            ]),
            json!({"url": "https://api.example.com/v2/orders", "method": "POST", "data": {"card": "4242 \u{2022}\u{2022}\u{2022}\u{2022}"}}),
            "checkout-api@2025.11.3",
        ),
        _ => (
            json!([
                {"filename": "cmd/worker/main.go", "function": "main.main", "module": "main", "lineno": 57, "in_app": true},
                {"filename": "internal/cache/client.go", "function": "(*Client).Get", "module": "cache", "lineno": 203, "in_app": true}
            ]),
            Value::Null,
            "payments-worker@1.9.2",
        ),
    };
    json!({
        "event_id": event_id,
        "issue_id": i.id,
        "project": p.id.parse::<u64>().unwrap_or_default(),
        "title": i.title(),
        "message": "",
        "culprit": i.culprit,
        "level": i.level,
        "platform": p.platform,
        "environment": "production",
        "release": release,
        "datetime": sentry_time(at_ms),
        "timestamp": at_ms as f64 / 1000.0,
        "url": format!("https://sentry.io/api/0/projects/example/{}/events/{event_id}/", p.slug),
        "web_url": format!("{ORG_URL}/issues/{}/events/{event_id}/", i.id),
        "issue_url": format!("https://sentry.io/api/0/issues/{}/", i.id),
        "exception": {"values": [{
            "type": if i.kind.is_empty() { "Error" } else { i.kind },
            "value": i.value,
            "mechanism": {"type": "generic", "handled": i.level != "fatal"},
            "stacktrace": {"frames": frames},
        }]},
        "tags": [["environment", "production"], ["level", i.level], ["release", release], ["user", "ip:203.0.113.7"]],
        "request": request,
        "user": {"ip_address": "203.0.113.7"},
    })
}

fn error_created(i: &DemoIssue, n: usize, at_ms: i64) -> Delivery {
    let data = json!({"error": event_json(i, n, at_ms)});
    Delivery::sentry("error", &envelope("created", data, sentry_actor()), format!("{}  event {}", i.short_id(), n + 1))
}

fn issue_by_id(id: &str) -> &'static DemoIssue {
    ISSUES.iter().find(|i| i.id == id).expect("a demo issue")
}

/// The whole demo: issues first (cards), then comments and alerts, then the
/// error events (their groups take the status of the cards).
pub fn demo_set(now_ms: i64) -> Vec<Delivery> {
    let mut out: Vec<Delivery> = ISSUES.iter().flat_map(|i| issue_deliveries(i, now_ms)).collect();

    let cart = issue_by_id("4711000101");
    let oom = issue_by_id("4711000109");
    out.push(comment(
        880_001,
        cart,
        ANA,
        "Reproduced on staging \u{2014} only for carts in EUR. Fix in review.",
        hours_ago(now_ms, 0.7),
    ));
    out.push(comment(
        880_002,
        oom,
        PRIYA,
        "Heap profile attached; batch size 5\u{a0}000 \u{2192} 500 as a stopgap.",
        hours_ago(now_ms, 0.25),
    ));
    out.push(comment(880_003, oom, JONAS, "Danke! Watching the next deploy.", hours_ago(now_ms, 0.1)));

    let rule = "Fatal in payments \u{2192} page on-call";
    let alert = envelope(
        "triggered",
        json!({
            "event": event_json(oom, 99, hours_ago(now_ms, 0.2)),
            "triggered_rule": rule,
            "issue_alert": {"title": rule, "settings": []},
        }),
        sentry_actor(),
    );
    out.push(Delivery::sentry("event_alert", &alert, format!("{}  {rule}", oom.short_id())));

    let started = sentry_time(hours_ago(now_ms, 0.4));
    let rule_name = "Checkout p95 latency > 2 s";
    let metric = envelope(
        "critical",
        json!({
            "description_text": "p95(transaction.duration) was 2.41 s over the last 10 minutes (threshold 2 s)",
            "description_title": format!("Critical: {rule_name}"),
            "metric_alert": {
                "id": "7301",
                "identifier": "12",
                "organization_id": "4504000",
                "projects": ["checkout-api"],
                "status": 20,
                "status_method": 3,
                "title": rule_name,
                "type": 2,
                "date_started": started,
                "date_detected": started,
                "date_created": started,
                "date_closed": null,
                "alert_rule": {
                    "id": "31",
                    "name": rule_name,
                    "aggregate": "p95(transaction.duration)",
                    "dataset": "transactions",
                    "query": "transaction:/v2/orders",
                    "time_window": 10,
                    "threshold_type": 0,
                    "resolve_threshold": null,
                    "environment": "production",
                    "organization_id": "4504000",
                    "projects": ["checkout-api"],
                    "include_all_projects": false,
                    "status": 0,
                    "triggers": [],
                },
            },
            "web_url": format!("{ORG_URL}/alerts/rules/details/31/"),
        }),
        sentry_actor(),
    );
    out.push(Delivery::sentry("metric_alert", &metric, rule_name));

    // Error events spread over the past days: the error log's trends.
    let events: [(&str, &[f64]); 5] = [
        ("4711000101", &[60.0, 30.0, 6.0, 0.3]),
        ("4711000105", &[48.0, 20.0, 0.1]),
        ("4711000109", &[5.0, 2.0, 0.2]),
        ("4711000111", &[38.0, 0.8]),
        ("4711000110", &[80.0, 26.0]),
    ];
    for (id, hours) in events {
        let issue = issue_by_id(id);
        for (n, h) in hours.iter().enumerate() {
            out.push(error_created(issue, n, hours_ago(now_ms, *h)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delivery::{ensure_ascii, request_parts, Kind};
    use std::collections::HashSet;

    const NOW: i64 = 1_764_000_000_000;

    #[test]
    fn headers_are_sentrys_and_the_signature_covers_the_raw_body() {
        let d = &demo_set(NOW)[0];
        let (path, h) = request_parts(d, "s3cret", 1_764_000_000);
        assert_eq!(path, "/api/webhooks/sentry");
        let get = |k: &str| h.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone()).unwrap();
        assert_eq!(get("Content-Type"), "application/json");
        assert_eq!(get("Sentry-Hook-Resource"), "issue");
        assert_eq!(get("Sentry-Hook-Timestamp"), "1764000000");
        assert_eq!(
            sentry_kanban::verify::check_hex_hmac(Some("s3cret"), &d.body, Some(&get("Sentry-Hook-Signature"))),
            Ok(())
        );
        let id = get("Request-ID");
        assert!(id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
        assert_ne!(id, request_parts(d, "s3cret", 1).1.iter().find(|(n, _)| *n == "Request-ID").unwrap().1);

        let gh = Delivery {
            kind: Kind::GitHub("team".into()),
            action: "created".into(),
            label: "x".into(),
            body: b"{}".to_vec(),
        };
        let (path, h) = request_parts(&gh, "gh", 1);
        assert_eq!(path, "/api/webhooks/github");
        let sig = h.iter().find(|(n, _)| *n == "X-Hub-Signature-256").unwrap().1.clone();
        assert_eq!(sentry_kanban::verify::check_github(Some("gh"), b"{}", Some(&sig)), Ok(()));
        let delivery = &h.iter().find(|(n, _)| *n == "X-GitHub-Delivery").unwrap().1;
        assert_eq!(delivery.split('-').map(str::len).collect::<Vec<_>>(), [8, 4, 4, 4, 12]);
    }

    #[test]
    fn the_demo_set_is_ascii_json_with_unique_ids() {
        let set = demo_set(NOW);
        let mut cards = HashSet::new();
        let mut events = HashSet::new();
        let mut comments = HashSet::new();
        let mut resources = HashSet::new();
        for d in &set {
            assert!(d.body.is_ascii(), "{}: non-ASCII left unescaped", d.what());
            let text = std::str::from_utf8(&d.body).unwrap();
            let v: Value = serde_json::from_slice(&d.body).unwrap_or_else(|e| panic!("{}: {e}", d.what()));
            assert_eq!(text, ensure_ascii(&v.to_string()), "not compact");
            assert_eq!(v["installation"]["uuid"], DEMO_INSTALLATION);
            assert_eq!(v["action"], d.action.as_str());
            let Kind::Sentry(r) = &d.kind else { panic!("a GitHub delivery in the demo") };
            resources.insert(format!("{r}.{}", d.action));
            match r.as_str() {
                "issue" => {
                    cards.insert(v["data"]["issue"]["id"].as_str().unwrap().to_string());
                }
                "error" => assert!(events.insert(v["data"]["error"]["event_id"].as_str().unwrap().to_string())),
                "comment" => assert!(comments.insert(v["data"]["comment_id"].as_u64().unwrap())),
                _ => {}
            }
        }
        assert_eq!(cards.len(), 12);
        assert_eq!(comments.len(), 3);
        assert!(events.len() >= 10, "{events:?}");
        for r in ["issue.created", "issue.assigned", "issue.resolved", "issue.ignored", "issue.unresolved"] {
            assert!(resources.contains(r), "{r} missing: {resources:?}");
        }
        for r in ["comment.created", "event_alert.triggered", "metric_alert.critical", "error.created"] {
            assert!(resources.contains(r), "{r} missing");
        }
        // Short ids too, and every delivery body differs.
        let shorts: HashSet<_> = ISSUES.iter().map(DemoIssue::short_id).collect();
        assert_eq!(shorts.len(), ISSUES.len());
        let bodies: HashSet<_> = set.iter().map(|d| d.body.clone()).collect();
        assert_eq!(bodies.len(), set.len());
    }

    #[test]
    fn the_worker_core_accepts_every_demo_delivery() {
        use sentry_kanban::config::Config;
        use sentry_kanban::sentry::decide::decide;
        use sentry_kanban::sentry::hook::{handle, Delivery as Hook, Step};
        let cfg = Config { sentry_secret: Some("k".into()), ..Default::default() };
        for d in demo_set(NOW) {
            let Kind::Sentry(resource) = &d.kind else { unreachable!() };
            let (_, headers) = request_parts(&d, "k", NOW / 1000);
            let get = |k: &str| headers.iter().find(|(n, _)| *n == k).map(|(_, v)| v.as_str());
            let hook = Hook {
                resource: get("Sentry-Hook-Resource"),
                signature: get("Sentry-Hook-Signature"),
                timestamp: get("Sentry-Hook-Timestamp"),
                body: &d.body,
                ..Default::default()
            };
            let plan = match handle(&cfg, &hook, NOW).unwrap_or_else(|e| panic!("{}: {e:?}", d.what())) {
                Step::Ready(plan) => plan,
                Step::Lookup(pending) => decide(*pending, &Default::default()),
            };
            assert_eq!(plan.reply.status, 200, "{}", d.what());
            let want = if resource == "error" { "queued" } else { "applied" };
            assert_eq!(plan.verdict.outcome.as_str(), want, "{}: {:?}", d.what(), plan.reply.body);
        }
    }

    #[test]
    fn the_demo_covers_projects_levels_assignees_and_non_ascii() {
        let levels: HashSet<_> = ISSUES.iter().map(|i| i.level).collect();
        assert_eq!(levels, HashSet::from(["fatal", "error", "warning", "info"]));
        let projects: HashSet<_> = ISSUES.iter().map(|i| i.project).collect();
        assert_eq!(projects.len(), 3);
        let set = demo_set(NOW);
        let assigned: Vec<Value> = set
            .iter()
            .filter(|d| d.action == "assigned")
            .map(|d| serde_json::from_slice::<Value>(&d.body).unwrap()["data"]["assignee"]["type"].clone())
            .collect();
        assert!(assigned.contains(&json!("user")) && assigned.contains(&json!("team")), "{assigned:?}");
        let all: String = set.iter().map(|d| String::from_utf8_lossy(&d.body).into_owned()).collect();
        assert!(all.contains(r"Kartenpr\u00fcfung"), "BMP escapes");
        assert!(all.contains(r"\ud83d\ude15"), "surrogate pairs beyond the BMP");
        // Parsing gives the characters back.
        let v: Value = serde_json::from_str(r#""Kartenpr\u00fcfung \ud83d\ude15""#).unwrap();
        assert_eq!(v, "Kartenpr\u{fc}fung \u{1f615}");
    }

    #[test]
    fn demo_times_are_in_the_past_and_in_sentry_format() {
        let now = format_millis(NOW);
        for d in demo_set(NOW) {
            let v: Value = serde_json::from_slice(&d.body).unwrap();
            let issue = &v["data"]["issue"];
            if issue.is_object() {
                let (first, last) = (issue["firstSeen"].as_str().unwrap(), issue["lastSeen"].as_str().unwrap());
                assert_eq!(first.len(), "2025-11-24T12:00:00.000000Z".len(), "{first}");
                assert!(first.ends_with("000Z") && first <= last, "{first} {last}");
                assert!(sentry_kanban::time::canonical(last).unwrap() < now, "{last}");
            }
            if let Some(t) = v["data"]["error"]["datetime"].as_str() {
                assert!(sentry_kanban::time::canonical(t).unwrap() < now, "{t}");
            }
        }
        assert_eq!(sentry_time(0), "1970-01-01T00:00:00.000000Z");
    }
}
