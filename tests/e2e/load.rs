//! Load and no loss, against `wrangler dev` on 127.0.0.1: `SK_LOAD_N`
//! signed webhooks of every kind — issue created / assigned / resolved,
//! comments, error events (through the queue), event and metric alerts,
//! GitHub team and membership events (through the queue, the mock Sentry
//! answering) — sent by `SK_LOAD_C` threads as fast as the local stack
//! takes them. Then: every delivery answered 2xx is in D1 exactly once,
//! every other answer is counted by status and retried the way Sentry and
//! GitHub retry until it lands, the queue drains and the dead-letter queue
//! stays empty. Prints the figures.
//!
//! `make test` runs the full 10,000 (about 80 s on 2 cores); `make load`
//! runs it alone with its figures printed; `SK_LOAD_N` changes the count.

use crate::app;
use crate::mock;
use crate::support::arbitrary;

use app::{spawn_app, App, GITHUB_SECRET, INTERNAL_ORG, INTERNAL_TOKEN, SECRET};
use mock::Canned;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const ADMIN: &str = "e2e-load-admin";
/// GitHub logins every team gets, mapped to Sentry members up front.
const LOGINS: usize = 5;
/// How often a delivery is tried before the test gives up on it (Sentry
/// and GitHub give up sooner; here a lost delivery must be explained).
const MAX_TRIES: u32 = 8;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    IssueCreated,
    IssueAssigned,
    IssueResolved,
    Comment,
    Error,
    EventAlert,
    MetricAlert,
    GithubTeam,
    GithubMembership,
}

struct Delivery {
    kind: Kind,
    path: &'static str,
    headers: Vec<(&'static str, String)>,
    body: String,
}

fn sentry(kind: Kind, resource: &str, ts: i64, body: Value) -> Delivery {
    let body = body.to_string();
    let sig = sentry_kanban::verify::sign_hex(SECRET.as_bytes(), body.as_bytes());
    let headers = vec![
        ("Content-Type", "application/json".to_string()),
        ("Sentry-Hook-Resource", resource.to_string()),
        ("Sentry-Hook-Timestamp", ts.to_string()),
        ("Sentry-Hook-Signature", sig),
        ("Request-ID", format!("load{:028x}", ts as u64 ^ body.len() as u64)),
    ];
    Delivery { kind, path: "/api/webhooks/sentry", headers, body }
}

fn github(kind: Kind, event: &str, delivery: String, body: Value) -> Delivery {
    let body = body.to_string();
    let sig = format!("sha256={}", sentry_kanban::verify::sign_hex(GITHUB_SECRET.as_bytes(), body.as_bytes()));
    let headers = vec![
        ("Content-Type", "application/json".to_string()),
        ("X-GitHub-Event", event.to_string()),
        ("X-GitHub-Delivery", delivery),
        ("X-Hub-Signature-256", sig),
        ("User-Agent", "GitHub-Hookshot/load".to_string()),
    ];
    Delivery { kind, path: "/api/webhooks/github", headers, body }
}

const ACTOR: &str = "sentry";

/// An issue delivery; an assignment names its assignee in `data.assignee`
/// too, as Sentry's does.
fn issue(action: &str, id: u64, status: &str, assigned: Value) -> Value {
    let mut v = json!({"action": action, "installation": {"uuid": "load"},
        "data": {"issue": {"id": id.to_string(), "shortId": format!("LOAD-{id}"), "title": format!("Load issue {id}"),
            "status": status, "level": "error", "project": {"id": "1", "slug": "load", "name": "Load"},
            "count": "1", "assignedTo": assigned}},
        "actor": {"type": "application", "id": ACTOR, "name": "Sentry"}});
    if action == "assigned" {
        v["data"]["assignee"] = v["data"]["issue"]["assignedTo"].clone();
    }
    v
}

fn iso(secs: i64) -> String {
    sentry_kanban::time::format_millis(secs * 1000)
}

/// The deliveries, as units sent in order by one thread each (a card is
/// created before it is commented on, a team before its memberships);
/// units run concurrently. Proportions per 10,000: 2,000 issues created,
/// 1,000 assigned, 1,000 resolved, 1,500 comments, 2,500 error events, 800
/// event alerts, 600 metric alert updates, 100 teams, 500 memberships.
fn plan(n: usize, now: i64) -> Vec<Vec<Delivery>> {
    let scale = |per_10k: usize| (n * per_10k).div_ceil(10_000).max(1);
    let mut units: Vec<Vec<Delivery>> = vec![];
    let base = now - 600;
    for i in 0..scale(2_000) {
        let id = 61_000_000 + i as u64;
        let mut unit = vec![sentry(Kind::IssueCreated, "issue", base, issue("created", id, "unresolved", Value::Null))];
        if i % 4 != 3 {
            let comment = json!({"action": "created", "installation": {"uuid": "load"},
                "data": {"comment": format!("looked at {id} \u{e9}"), "project_slug": "load", "comment_id": 71_000_000 + i as u64,
                    "issue_id": id, "timestamp": iso(base + 1)},
                "actor": {"type": "user", "id": 1, "name": "loader"}});
            unit.push(sentry(Kind::Comment, "comment", base + 1, comment));
        }
        unit.push(if i % 2 == 0 {
            let who = json!({"type": "user", "id": (i % 7).to_string(), "name": "Ann", "email": "ann@example.com"});
            sentry(Kind::IssueAssigned, "issue", base + 2, issue("assigned", id, "unresolved", who))
        } else {
            sentry(Kind::IssueResolved, "issue", base + 2, issue("resolved", id, "resolved", Value::Null))
        });
        units.push(unit);
    }
    for i in 0..scale(2_500) {
        let (event, group) = (format!("loaderr{i:08}"), 64_000_000 + (i % 50) as u64);
        let body = json!({"action": "created", "installation": {"uuid": "load"},
            "data": {"error": {"event_id": event, "issue_id": group.to_string(), "title": format!("Load error {group}"),
                "culprit": "load(x)", "level": "error", "platform": "javascript", "project": 1, "datetime": iso(now - (i % 3600) as i64),
                "exception": {"values": [{"type": "Error", "value": "x", "stacktrace": {"frames": [{"filename": "a.js", "function": "f", "lineno": 1}]}}]},
                "web_url": format!("https://sentry.example/issues/{group}/events/{event}/")}},
            "actor": {"type": "application", "id": ACTOR, "name": "Sentry"}});
        units.push(vec![sentry(Kind::Error, "error", now, body)]);
    }
    for i in 0..scale(800) {
        let issue = 62_000_000 + (i % 100) as u64;
        let body = json!({"action": "triggered", "installation": {"uuid": "load"},
            "data": {"event": {"event_id": format!("loadea{i:08}"), "issue_id": issue.to_string(), "title": format!("Alerted {issue}"),
                "culprit": "c", "level": "error", "datetime": iso(base + (i % 60) as i64),
                "web_url": format!("https://sentry.example/issues/{issue}/events/{i}/")},
                "triggered_rule": format!("Load rule {}", i % 4)},
            "actor": {"type": "application", "id": ACTOR, "name": "Sentry"}});
        units.push(vec![sentry(Kind::EventAlert, "event_alert", base, body)]);
    }
    for i in 0..scale(600).div_ceil(3) {
        let id = 63_000_000 + i as u64;
        let unit = ["critical", "warning", "resolved"]
            .iter()
            .enumerate()
            .map(|(step, action)| {
                let status = [2, 1, 0][step];
                let body = json!({"action": action, "installation": {"uuid": "load"},
                    "data": {"description_text": format!("{step} events"), "description_title": format!("Load metric {id}"),
                        "metric_alert": {"id": id.to_string(), "alert_rule": {"id": "7", "name": format!("Load metric {id}"), "projects": ["load"]},
                            "status": status},
                        "web_url": format!("https://sentry.example/alerts/{id}/")},
                    "actor": {"type": "application", "id": ACTOR, "name": "Sentry"}});
                sentry(Kind::MetricAlert, "metric_alert", base + step as i64, body)
            })
            .collect();
        units.push(unit);
    }
    let team_fixture = fixture("team-created");
    let member_fixture = fixture("membership-added");
    for t in 0..scale(100) {
        let (id, slug) = (81_000 + t as u64, format!("load-team-{t}"));
        let mut team = team_fixture.clone();
        team["team"] = json!({"id": id, "slug": slug, "name": slug});
        let mut unit = vec![github(Kind::GithubTeam, "team", format!("load-team-{t}"), team)];
        for u in 0..LOGINS {
            let mut m = member_fixture.clone();
            m["team"]["id"] = json!(id);
            m["team"]["slug"] = json!(slug);
            m["member"]["login"] = json!(format!("load-user-{u}"));
            unit.push(github(Kind::GithubMembership, "membership", format!("load-member-{t}-{u}"), m));
        }
        units.push(unit);
    }
    // A fixed shuffle, so every kind is in flight at once.
    arbitrary::Rng::new(0x2545_f491_4f6c_dd1d).shuffle(&mut units);
    units
}

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/github/{name}.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// What became of one delivery.
struct Outcome {
    kind: Kind,
    /// Every answer in order: a status, or `None` when no answer came.
    answers: Vec<Option<u16>>,
}

impl Outcome {
    fn landed(&self) -> bool {
        matches!(self.answers.last(), Some(Some(200..=299)))
    }
}

/// Sends until a 2xx, retrying a 5xx, a 429 or no answer with a short
/// backoff as Sentry and GitHub would; any other answer is final.
fn deliver(agent: &ureq::Agent, base: &str, d: &Delivery) -> Outcome {
    let mut answers = vec![];
    for attempt in 0..MAX_TRIES {
        let mut req = agent.post(&format!("{base}{}", d.path));
        for (k, v) in &d.headers {
            req = req.set(k, v);
        }
        let status = match req.send_string(&d.body) {
            Ok(r) => {
                let status = r.status();
                let _ = r.into_string();
                Some(status)
            }
            Err(ureq::Error::Status(code, r)) => {
                let _ = r.into_string();
                Some(code)
            }
            Err(ureq::Error::Transport(_)) => None,
        };
        answers.push(status);
        match status {
            Some(200..=299) => break,
            Some(429 | 500..=599) | None => std::thread::sleep(Duration::from_millis(100 << attempt.min(5))),
            Some(_) => break,
        }
    }
    Outcome { kind: d.kind, answers }
}

struct Sent {
    outcomes: Vec<Outcome>,
    elapsed: Duration,
}

fn send_all(app: &App, units: &[Vec<Delivery>], threads: usize) -> Sent {
    let next = AtomicUsize::new(0);
    let outcomes = Mutex::new(Vec::new());
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                let agent = ureq::AgentBuilder::new().timeout(Duration::from_secs(30)).redirects(0).build();
                let mut mine = vec![];
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(unit) = units.get(i) else { break };
                    mine.extend(unit.iter().map(|d| deliver(&agent, &app.base, d)));
                }
                outcomes.lock().unwrap().extend(mine);
            });
        }
    });
    Sent { outcomes: outcomes.into_inner().unwrap(), elapsed: start.elapsed() }
}

fn load_app() -> App {
    let app = spawn_app(&[
        ("SENTRY_AUTH_TOKEN", INTERNAL_TOKEN),
        ("SENTRY_ORG_SLUG", INTERNAL_ORG),
        ("GITHUB_WEBHOOK_SECRET", GITHUB_SECRET),
        ("ADMIN_TOKEN", ADMIN),
    ]);
    let auth = format!("Bearer {ADMIN}");
    for u in 0..LOGINS {
        let body = format!(r#"{{"member_id":"{}"}}"#, 500 + u);
        let r = app.request(
            "PUT",
            &format!("/api/github/users/load-user-{u}"),
            &[("Authorization", &auth)],
            body.as_bytes(),
        );
        assert_eq!(r.status, 200, "{}", r.body);
    }
    app.mock.route(Canned::new("POST", "/api/0/organizations/internal-org/teams/", 201, "{}").on_repeat(409));
    // Re-reads of the load's issues (a status change of an existing card
    // queues one): Sentry no longer has them, so the cards stay as the
    // deliveries left them and each re-read job ends done.
    app.mock.route(Canned::new("GET", "/api/0/organizations/internal-org/issues/", 404, r#"{"detail":"Not found"}"#));
    app.mock.route(Canned::new("POST", "/api/0/organizations/internal-org/members/", 201, "{}"));
    app
}

fn status_json(app: &App, path: &str) -> Value {
    let r = app.request("GET", path, &[], b"");
    assert_eq!(r.status, 200, "{path}: {}", r.body);
    r.json()
}

#[test]
fn every_accepted_delivery_is_stored_once_and_the_queue_drains() {
    let n = env_usize("SK_LOAD_N", 10_000);
    let threads = env_usize("SK_LOAD_C", 16).max(1);
    let app = load_app();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let units = plan(n, now);
    let total: usize = units.iter().map(Vec::len).sum();
    let mut want: BTreeMap<Kind, usize> = BTreeMap::new();
    units.iter().flatten().for_each(|d| *want.entry(d.kind).or_default() += 1);

    let sent = send_all(&app, &units, threads);
    let acked_at = Instant::now();
    let outcomes = &sent.outcomes;
    assert_eq!(outcomes.len(), total);

    // Every answer, by status; what did not land is listed.
    let mut first: BTreeMap<String, usize> = BTreeMap::new();
    let mut all: BTreeMap<String, usize> = BTreeMap::new();
    let label = |s: &Option<u16>| s.map_or("no answer".to_string(), |s| s.to_string());
    for o in outcomes {
        *first.entry(label(&o.answers[0])).or_default() += 1;
        o.answers.iter().for_each(|s| *all.entry(label(s)).or_default() += 1);
    }
    let retried: Vec<&Outcome> = outcomes.iter().filter(|o| o.answers.len() > 1).collect();
    let lost: Vec<(Kind, &Vec<Option<u16>>)> =
        outcomes.iter().filter(|o| !o.landed()).map(|o| (o.kind, &o.answers)).collect();
    println!(
        "sent {total} deliveries ({} requests with retries) with {threads} threads in {:.1} s: {:.0} deliveries/s",
        all.values().sum::<usize>(),
        sent.elapsed.as_secs_f64(),
        total as f64 / sent.elapsed.as_secs_f64()
    );
    println!("  first answers by status: {first:?}");
    println!("  all answers by status:   {all:?}");
    println!("  retried until 2xx: {} deliveries; never 2xx: {}", retried.len(), lost.len());
    for kind in want.keys() {
        let of: Vec<&Outcome> = outcomes.iter().filter(|o| o.kind == *kind).collect();
        let non2xx = of.iter().filter(|o| !matches!(o.answers[0], Some(200..=299))).count();
        println!("  {kind:?}: {} sent, {} 2xx at once, {non2xx} retried", of.len(), of.len() - non2xx);
    }
    // Signed, well-formed deliveries have no business getting a 4xx: every
    // non-2xx must be a 5xx / 429 / lost answer, and its retry must land.
    let unexplained: Vec<String> = all.keys().filter(|s| s.starts_with('4') && s.as_str() != "429").cloned().collect();
    assert!(unexplained.is_empty(), "answers that no retry explains: {unexplained:?} ({all:?})");
    assert!(lost.is_empty(), "deliveries never answered 2xx: {:?}", &lost[..lost.len().min(20)]);

    // The queue drains: every error event stored, every GitHub job done.
    let errors = want[&Kind::Error] as i64;
    let github = (want[&Kind::GithubTeam] + want[&Kind::GithubMembership]) as i64;
    let drained = app.wait_for("the queue to drain", Duration::from_secs(600), || {
        let stats = status_json(&app, "/api/errors/stats");
        let sync = status_json(&app, "/api/github/sync");
        let done = sync["counts"]["done"].as_i64().unwrap_or(0);
        (stats["distinct_events"].as_i64() == Some(errors) && done == github).then_some((stats, sync))
    });
    // Jobs of other kinds (re-reads of deliveries whose order could not be
    // proven) may still be finishing when the last event lands.
    let unfinished = "SELECT COUNT(*) AS n FROM jobs WHERE status IN ('running', 'retrying', 'failed')";
    app.wait_for("every job to finish", Duration::from_secs(300), || {
        let n = app.d1_rows(unfinished).first().and_then(|r| r["n"].as_i64());
        (n == Some(0)).then_some(())
    });
    let drain = acked_at.elapsed();
    println!(
        "  queue drained {:.1} s after the last ack ({:.1} s after the first send)",
        drain.as_secs_f64(),
        (sent.elapsed + drain).as_secs_f64()
    );

    // Exactly once, counted in the local D1 files (the JSON API lists at most 2,000 cards).
    let row = app.d1_rows(
        "SELECT \
        (SELECT COUNT(*) FROM cards WHERE short_id LIKE 'LOAD-%') AS cards, \
        (SELECT COUNT(*) FROM cards WHERE short_id LIKE 'LOAD-%' AND status = 'resolved') AS resolved, \
        (SELECT COUNT(*) FROM cards WHERE short_id LIKE 'LOAD-%' AND assignee_id IS NOT NULL AND status = 'unresolved') AS assigned, \
        (SELECT COUNT(*) FROM comments AS c JOIN cards AS k ON k.id = c.issue_id WHERE k.short_id LIKE 'LOAD-%') AS comments, \
        (SELECT COUNT(*) FROM error_events WHERE event_id LIKE 'loaderr%') AS error_events, \
        (SELECT COUNT(DISTINCT event_id) FROM error_events WHERE event_id LIKE 'loaderr%') AS distinct_error_events, \
        (SELECT COUNT(*) FROM error_seen WHERE event_id LIKE 'loaderr%') AS error_keys, \
        (SELECT COALESCE(SUM(event_count), 0) FROM error_groups WHERE title LIKE 'Load error %') AS group_counts, \
        (SELECT COUNT(*) FROM alert_triggers WHERE event_id LIKE 'loadea%') AS alert_triggers, \
        (SELECT COALESCE(SUM(trigger_count), 0) FROM alerts WHERE kind = 'event_alert' AND title LIKE 'Alerted %') AS trigger_counts, \
        (SELECT COUNT(*) FROM alerts WHERE kind = 'event_alert' AND title LIKE 'Alerted %') AS event_alerts, \
        (SELECT COUNT(*) FROM alerts WHERE kind = 'metric_alert' AND rule LIKE 'Load metric %') AS metric_alerts, \
        (SELECT COUNT(*) FROM alerts WHERE kind = 'metric_alert' AND rule LIKE 'Load metric %' AND status = 'resolved') AS metric_resolved, \
        (SELECT COUNT(*) FROM github_sync WHERE delivery_id LIKE 'load-%') AS github_rows, \
        (SELECT COUNT(*) FROM github_sync WHERE delivery_id LIKE 'load-%' AND status = 'done') AS github_done, \
        (SELECT COUNT(*) FROM github_teams WHERE github_slug LIKE 'load-team-%') AS teams, \
        (SELECT COUNT(*) FROM github_teams WHERE github_slug LIKE 'load-team-%' AND ownership = 'conflict') AS team_conflicts, \
        (SELECT COUNT(*) FROM jobs WHERE kind LIKE 'github_%' AND status = 'done') AS github_jobs_done, \
        (SELECT COUNT(*) FROM jobs WHERE status = 'dead') AS dead_jobs, \
        (SELECT COUNT(*) FROM jobs WHERE status IN ('running', 'retrying', 'failed')) AS unfinished_jobs, \
        (SELECT COUNT(*) FROM deliveries WHERE status >= 500) AS logged_5xx, \
        (SELECT COALESCE(SUM(attempts - 1), 0) FROM github_sync WHERE delivery_id LIKE 'load-member-%') AS member_retries, \
        (SELECT COALESCE(SUM(attempts - 1), 0) FROM github_sync WHERE delivery_id LIKE 'load-team-%') AS team_retries",
    );
    let row = row.first().cloned().unwrap_or_default();
    let got = |k: &str| row[k].as_i64().unwrap_or_else(|| panic!("{k} missing: {row}"));
    println!("  rows in D1: {row}");
    let issues = want[&Kind::IssueCreated] as i64;
    let per_group = |g: i64| ((errors - g).max(0) + 49) / 50;
    let sampled: i64 =
        (0..50).map(|g| per_group(g).min(i64::from(sentry_kanban::store::errors::SAMPLE_PER_GROUP))).sum();
    let expected = [
        ("cards", issues),
        ("resolved", want[&Kind::IssueResolved] as i64),
        ("assigned", want[&Kind::IssueAssigned] as i64),
        ("comments", want[&Kind::Comment] as i64),
        // The sample keeps the newest events of each of the 50 groups; every event has its key.
        ("error_events", sampled),
        ("distinct_error_events", sampled),
        ("error_keys", errors),
        ("group_counts", errors),
        ("alert_triggers", want[&Kind::EventAlert] as i64),
        ("trigger_counts", want[&Kind::EventAlert] as i64),
        ("event_alerts", (want[&Kind::EventAlert] as i64).min(100)),
        ("metric_alerts", want[&Kind::MetricAlert] as i64 / 3),
        ("metric_resolved", want[&Kind::MetricAlert] as i64 / 3),
        ("github_rows", github),
        ("github_done", github),
        ("teams", want[&Kind::GithubTeam] as i64),
        // A create sent again after a lost answer meets Sentry's 409 and is
        // still managed (linked), never left as someone else's team.
        ("team_conflicts", 0),
        ("github_jobs_done", github),
        ("dead_jobs", 0),
        ("unfinished_jobs", 0),
    ];
    let wrong: Vec<String> = expected
        .iter()
        .filter(|(k, n)| got(k) != *n)
        .map(|(k, n)| format!("{k}: {} in D1, {n} expected", got(k)))
        .collect();
    assert!(wrong.is_empty(), "not exactly once: {wrong:#?}");
    // The dead-letter queue stayed empty.
    let (stats, sync) = drained;
    assert_eq!(stats["dead_letters"], 0, "{stats}");
    assert!(sync["counts"].get("dead").is_none() && sync["counts"].get("retrying").is_none(), "{}", sync["counts"]);
    assert!(!app.list("/api/jobs", "jobs").iter().any(|j| j["status"] == "dead"));
    // And Sentry was told each GitHub change, told apart by its team (the
    // body of a creation, the path of a membership), and again only where
    // the job recorded a retry: a reply slower than SENTRY_HTTP_TIMEOUT_MS on
    // a busy machine is sent again, as it must be (the call may have landed).
    let calls = app.mock.calls();
    let sent = |team: bool| -> (usize, usize) {
        let posts: Vec<&str> = calls
            .iter()
            .filter(|c| c.method == "POST")
            .filter(|c| if team { c.path.ends_with("/teams/") } else { c.path.contains("/members/") })
            .map(|c| if team { c.body.as_str() } else { c.path.as_str() })
            .collect();
        let distinct: std::collections::BTreeSet<&str> = posts.iter().copied().collect();
        (distinct.len(), posts.len() - distinct.len())
    };
    let ((teams, teams_again), (members, members_again)) = (sent(true), sent(false));
    assert_eq!(teams, want[&Kind::GithubTeam], "teams created in Sentry");
    assert_eq!(members, want[&Kind::GithubMembership], "memberships added in Sentry");
    println!(
        "  sent again: {teams_again} teams, {members_again} memberships; attempts retried: {} teams, {} memberships",
        got("team_retries"),
        got("member_retries")
    );
    assert!(teams_again as i64 <= got("team_retries"), "a team was created again without a retry");
    assert!(members_again as i64 <= got("member_retries"), "a membership was added again without a retry");
    // A 5xx the worker answered is in its delivery log too.
    println!("  5xx answers the worker logged: {}", got("logged_5xx"));
}
