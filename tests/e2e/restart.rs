//! Kill and restart: a burst of signed deliveries (issues and comments,
//! written to D1 on the ack path; error events and GitHub team events,
//! which go through the queue) while `wrangler dev` is SIGKILLed mid-burst
//! and started again on the same persisted state and port. Deliveries that
//! got no answer are sent again once it is back, as Sentry and GitHub
//! retry. Then every delivery answered 2xx must be in D1.
//!
//! One thing a local restart cannot keep: Cloudflare Queues persist a
//! message once `send()` resolves, but `wrangler dev`'s local queue (the
//! miniflare broker, `node_modules/miniflare/dist/src/workers/queues/
//! broker.worker.js`) holds messages in an in-memory array and its retry
//! delays in timers. Messages queued and not yet consumed when the process
//! dies are gone. GitHub events survive it all the same: their D1 row stays
//! `queued`, and the cron queues them again. Error events have no row (the
//! ack path does no D1 write), so the test measures that local-only loss
//! exactly — error events acked before the kill, minus those the consumer
//! had stored — and asserts that nothing else is lost; it prints the figures.

use crate::app;
use crate::mock;
use crate::support::arbitrary;

use app::{spawn_restartable, Restartable, GITHUB_SECRET, INTERNAL_ORG, INTERNAL_TOKEN, SECRET};
use mock::Canned;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Issue,
    Comment,
    Error,
    GithubTeam,
}

struct Delivery {
    kind: Kind,
    key: String,
    path: &'static str,
    headers: Vec<(&'static str, String)>,
    body: String,
}

fn sentry(kind: Kind, key: String, resource: &str, body: Value) -> Delivery {
    let body = body.to_string();
    let sig = sentry_kanban::verify::sign_hex(SECRET.as_bytes(), body.as_bytes());
    let ts = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() - 60;
    let headers = vec![
        ("Content-Type", "application/json".to_string()),
        ("Sentry-Hook-Resource", resource.to_string()),
        ("Sentry-Hook-Timestamp", ts.to_string()),
        ("Sentry-Hook-Signature", sig),
    ];
    Delivery { kind, key, path: "/api/webhooks/sentry", headers, body }
}

fn plan() -> Vec<Vec<Delivery>> {
    let mut units = vec![];
    for i in 0..300u64 {
        let id = 65_000_000 + i;
        let issue = json!({"action": "created", "installation": {"uuid": "restart"},
            "data": {"issue": {"id": id.to_string(), "shortId": format!("RESTART-{id}"), "title": format!("Restart {id}"),
                "status": "unresolved", "level": "error", "project": {"id": "1", "slug": "restart"}, "assignedTo": null}},
            "actor": {"type": "application", "id": "sentry", "name": "Sentry"}});
        let comment = json!({"action": "created", "installation": {"uuid": "restart"},
            "data": {"comment": format!("on {id}"), "project_slug": "restart", "comment_id": 75_000_000 + i, "issue_id": id,
                "timestamp": "2026-11-01T10:00:00Z"},
            "actor": {"type": "user", "id": 1, "name": "restarter"}});
        units.push(vec![
            sentry(Kind::Issue, id.to_string(), "issue", issue),
            sentry(Kind::Comment, (75_000_000 + i).to_string(), "comment", comment),
        ]);
    }
    for i in 0..400u64 {
        let (event, group) = (format!("restarterr{i:06}"), 66_000_000 + i % 20);
        let body = json!({"action": "created", "installation": {"uuid": "restart"},
            "data": {"error": {"event_id": event, "issue_id": group.to_string(), "title": format!("Restart error {group}"),
                "level": "error", "platform": "python", "project": 1, "datetime": "2026-11-01T10:00:00Z",
                "web_url": format!("https://sentry.example/issues/{group}/events/{event}/")}},
            "actor": {"type": "application", "id": "sentry", "name": "Sentry"}});
        units.push(vec![sentry(Kind::Error, event, "error", body)]);
    }
    let fixture: Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{}/tests/fixtures/github/team-created.json", env!("CARGO_MANIFEST_DIR")))
            .unwrap(),
    )
    .unwrap();
    for t in 0..100u64 {
        let mut team = fixture.clone();
        let slug = format!("restart-team-{t}");
        team["team"] = json!({"id": 91_000 + t, "slug": slug, "name": slug});
        let body = team.to_string();
        let sig = format!("sha256={}", sentry_kanban::verify::sign_hex(GITHUB_SECRET.as_bytes(), body.as_bytes()));
        let delivery = format!("restart-team-{t}");
        let headers = vec![
            ("Content-Type", "application/json".to_string()),
            ("X-GitHub-Event", "team".to_string()),
            ("X-GitHub-Delivery", delivery.clone()),
            ("X-Hub-Signature-256", sig),
        ];
        units.push(vec![Delivery {
            kind: Kind::GithubTeam,
            key: delivery,
            path: "/api/webhooks/github",
            headers,
            body,
        }]);
    }
    arbitrary::Rng::new(0x9e37_79b9_7f4a_7c15).shuffle(&mut units);
    units
}

/// Which worker answered a delivery 2xx: the killed one or the restarted one.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Acked {
    BeforeKill,
    AfterRestart,
}

struct Landed {
    kind: Kind,
    key: String,
    acked: Acked,
    tries: u32,
}

struct Clock {
    killed_at: Mutex<Option<Instant>>,
    up: AtomicBool,
}

/// Sends until a 2xx. No answer (the worker is down, or died mid-request)
/// or a 5xx: wait until it is up again, then send again.
fn deliver(agent: &ureq::Agent, base: &str, d: &Delivery, clock: &Clock) -> Landed {
    let mut tries = 0;
    loop {
        tries += 1;
        let mut req = agent.post(&format!("{base}{}", d.path));
        for (k, v) in &d.headers {
            req = req.set(k, v);
        }
        // A request sent before the old process was gone can only have been
        // answered by it; one sent later, only by the restarted worker.
        let sent = Instant::now();
        let status = match req.send_string(&d.body) {
            Ok(r) => Some(r.status()),
            Err(ureq::Error::Status(code, _)) => Some(code),
            Err(ureq::Error::Transport(_)) => None,
        };
        match status {
            Some(200..=299) => {
                let killed = *clock.killed_at.lock().unwrap();
                let acked = match killed {
                    Some(k) if sent >= k => Acked::AfterRestart,
                    _ => Acked::BeforeKill,
                };
                return Landed { kind: d.kind, key: d.key.clone(), acked, tries };
            }
            Some(s) if s < 500 => panic!("{:?} {}: HTTP {s}", d.kind, d.key),
            _ => {
                assert!(tries < 50, "{:?} {} never landed", d.kind, d.key);
                std::thread::sleep(Duration::from_millis(200));
                while !clock.up.load(Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
        }
    }
}

fn count(r: &Restartable, sql: &str) -> i64 {
    r.app.d1_count(sql)
}

fn keys_in(r: &Restartable, sql: &str) -> BTreeSet<String> {
    r.app.d1_rows(sql).iter().filter_map(|row| row["k"].as_str().map(str::to_string)).collect()
}

#[test]
fn a_sigkill_mid_burst_loses_no_delivery_that_reached_d1() {
    let r = spawn_restartable(&[
        ("SENTRY_AUTH_TOKEN", INTERNAL_TOKEN),
        ("SENTRY_ORG_SLUG", INTERNAL_ORG),
        ("GITHUB_WEBHOOK_SECRET", GITHUB_SECRET),
        // An event `queued` this long lost its job: the cron queues it again.
        ("GITHUB_REQUEUE_AFTER_SECONDS", "5"),
    ]);
    r.app.mock.route(Canned::new("POST", "/api/0/organizations/internal-org/teams/", 201, "{}").on_repeat(409));
    let units = plan();
    let total: usize = units.iter().map(Vec::len).sum();
    let clock = Clock { killed_at: Mutex::new(None), up: AtomicBool::new(true) };
    let (next, answered) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let landed = Mutex::new(vec![]);
    let mut restart_took = Duration::ZERO;
    let started = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| {
                let agent = ureq::AgentBuilder::new().timeout(Duration::from_secs(20)).build();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(unit) = units.get(i) else { break };
                    for d in unit {
                        let l = deliver(&agent, &r.app.base, d, &clock);
                        answered.fetch_add(1, Ordering::Relaxed);
                        landed.lock().unwrap().push(l);
                    }
                }
            });
        }
        // Mid-burst: SIGKILL the whole group, then start it again.
        while answered.load(Ordering::Relaxed) < total * 2 / 5 {
            std::thread::sleep(Duration::from_millis(5));
        }
        clock.up.store(false, Ordering::SeqCst);
        r.kill();
        // Stamped once the old process is gone (its port closed).
        *clock.killed_at.lock().unwrap() = Some(Instant::now());
        restart_took = r.restart();
        clock.up.store(true, Ordering::SeqCst);
    });
    let landed = landed.into_inner().unwrap();
    assert_eq!(landed.len(), total);
    let before: Vec<&Landed> = landed.iter().filter(|l| l.acked == Acked::BeforeKill).collect();
    let resent = landed.iter().filter(|l| l.tries > 1).count();
    println!(
        "{total} deliveries in {:.1} s: {} answered 2xx before the SIGKILL, {} after the restart ({resent} sent again); \
         restart ready in {:.1} s",
        started.elapsed().as_secs_f64(),
        before.len(),
        total - before.len(),
        restart_took.as_secs_f64()
    );

    // Written on the ack path: every 2xx is in D1, before the kill or after.
    let cards = keys_in(&r, "SELECT id AS k FROM cards WHERE short_id LIKE 'RESTART-%'");
    let comments = keys_in(&r, "SELECT id AS k FROM comments WHERE issue_id LIKE '65%'");
    let claimed = keys_in(&r, "SELECT delivery_id AS k FROM github_sync WHERE delivery_id LIKE 'restart-team-%'");
    let missing = |kind: Kind, stored: &BTreeSet<String>| -> Vec<String> {
        landed.iter().filter(|l| l.kind == kind && !stored.contains(&l.key)).map(|l| l.key.clone()).collect()
    };
    assert_eq!(missing(Kind::Issue, &cards), Vec::<String>::new(), "issues answered 2xx but not in D1");
    assert_eq!(missing(Kind::Comment, &comments), Vec::<String>::new(), "comments answered 2xx but not in D1");
    assert_eq!(
        missing(Kind::GithubTeam, &claimed),
        Vec::<String>::new(),
        "GitHub deliveries answered 2xx but not in D1"
    );
    assert_eq!((cards.len(), comments.len(), claimed.len()), (300, 300, 100), "each exactly once");

    // Through the queue. Give the consumer time to drain what it still has.
    let errors_after: Vec<&Landed> =
        landed.iter().filter(|l| l.kind == Kind::Error && l.acked == Acked::AfterRestart).collect();
    let stored_errors =
        |r: &Restartable| keys_in(r, "SELECT event_id AS k FROM error_events WHERE event_id LIKE 'restarterr%'");
    let mut stored = stored_errors(&r);
    let deadline = Instant::now() + Duration::from_secs(60);
    while errors_after.iter().any(|l| !stored.contains(&l.key)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_secs(1));
        stored = stored_errors(&r);
    }
    let not_after: Vec<&str> =
        errors_after.iter().filter(|l| !stored.contains(&l.key)).map(|l| l.key.as_str()).collect();
    assert!(not_after.is_empty(), "error events acked after the restart never stored: {not_after:?}");
    // Let the GitHub jobs that survived finish too.
    std::thread::sleep(Duration::from_secs(3));

    let errors_before: Vec<&Landed> = before.iter().copied().filter(|l| l.kind == Kind::Error).collect();
    let lost_errors: Vec<&str> =
        errors_before.iter().filter(|l| !stored.contains(&l.key)).map(|l| l.key.as_str()).collect();
    // What the consumer of the killed run reported stored (its own log lines).
    let first_log = std::fs::read_to_string(r.app.log.with_extension("log.1")).unwrap_or_default();
    let consumed_before: u64 = first_log
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l.trim()).ok())
        .filter(|v| v["event"] == "errors_ingested")
        .map(|v| v["events"].as_u64().unwrap_or(0))
        .sum();
    let github_before: Vec<&Landed> = before.iter().copied().filter(|l| l.kind == Kind::GithubTeam).collect();
    let stuck = keys_in(
        &r,
        "SELECT delivery_id AS k FROM github_sync WHERE delivery_id LIKE 'restart-team-%' AND status != 'done'",
    );
    let running_jobs = count(&r, "SELECT COUNT(*) AS n FROM jobs WHERE status IN ('running', 'retrying')");
    println!(
        "error events acked before the kill: {}; stored by the killed run's consumer (its log): {consumed_before}; \
         in D1 after the restart: {}; lost with the local in-memory queue: {}",
        errors_before.len(),
        errors_before.len() - lost_errors.len(),
        lost_errors.len()
    );
    println!(
        "GitHub team events acked before the kill: {}; still not done after the restart (message lost, row kept): {} {:?}; \
         jobs left running: {running_jobs}",
        github_before.len(),
        stuck.len(),
        stuck.iter().take(10).collect::<Vec<_>>()
    );
    // Nothing the consumer had stored was lost, and nothing is missing but
    // what was still waiting in the local queue when the process died.
    assert!(
        (errors_before.len() - lost_errors.len()) as u64 >= consumed_before,
        "events the consumer had stored went missing"
    );
    let stuck_after: Vec<&String> =
        stuck.iter().filter(|k| landed.iter().any(|l| &l.key == *k && l.acked == Acked::AfterRestart)).collect();
    assert!(stuck_after.is_empty(), "GitHub events acked after the restart are not done: {stuck_after:?}");

    // The five-minute cron queues the events whose message the kill lost,
    // so every GitHub delivery answered 2xx ends done after all.
    std::thread::sleep(Duration::from_secs(6));
    let cron = r.app.request("GET", "/__scheduled?cron=*%2F5+*+*+*+*", &[], b"");
    assert!(cron.status < 300, "cron trigger: {} {}", cron.status, cron.body);
    let all_done = "SELECT COUNT(*) AS n FROM github_sync WHERE delivery_id LIKE 'restart-team-%' AND status != 'done'";
    let deadline = Instant::now() + Duration::from_secs(60);
    while count(&r, all_done) > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_secs(1));
    }
    let left = keys_in(&r, &all_done.replace("COUNT(*) AS n", "delivery_id AS k"));
    println!("GitHub events queued again by the cron: {}; not done after it: {}", stuck.len(), left.len());
    if !left.is_empty() {
        let keys: Vec<String> = left.iter().map(|k| format!("'{k}'")).collect();
        let why = r.app.d1_rows(&format!(
            "SELECT delivery_id, status, detail, attempts, updated_at FROM github_sync WHERE delivery_id IN ({})",
            keys.join(",")
        ));
        panic!("GitHub deliveries answered 2xx that the cron did not bring to done: {left:?} {why:?}");
    }
}
