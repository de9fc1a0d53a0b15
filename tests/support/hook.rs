//! Drives signed deliveries through the real core exactly as the shell
//! does: `hook::handle`, then (when the core decides from D1) the plan on
//! the core's guess with the delivery record in one transaction, and only
//! if its check refuses the guess, `store::deliveries::LOOKUP` on the
//! rusqlite database, `decide::decide` and the decided plan.

use super::db;
use rusqlite::Connection;
use sentry_kanban::config::Config;
use sentry_kanban::log::DeliveryLog;
use sentry_kanban::plan::Plan;
use sentry_kanban::sentry::decide::{decide, guessed};
use sentry_kanban::sentry::hook::{handle, Delivery, Step};
use sentry_kanban::store::deliveries;
use sentry_kanban::store::gate::GUESS_MISSED;
use sentry_kanban::time::{format_millis, Millis};
use sentry_kanban::verify::sign_hex;
use std::sync::atomic::{AtomicU64, Ordering};

pub const SECRET: &str = "store-test-secret";
/// A fixed clock for tests that do not move it.
pub const NOW: Millis = 1_700_000_000_000;
/// A delivery at `t` arrives at `T0 + t` seconds (the worker's clock).
pub const T0: i64 = 1_699_990_000;

pub fn cfg() -> Config {
    Config { sentry_secret: Some(SECRET.into()), ..Default::default() }
}

/// `applied_at`/`updated_at` text for a delivery at `t`.
pub fn at(t: i64) -> String {
    format_millis((T0 + t) * 1000)
}

static REQUEST: AtomicU64 = AtomicU64::new(1);

/// A fresh `Request-ID` (`uuid4().hex`-shaped), as every Sentry attempt has.
pub fn request_id() -> String {
    format!("{:032x}", REQUEST.fetch_add(1, Ordering::Relaxed))
}

thread_local! {
    /// The worker's clock only moves forward: a test that passes an earlier
    /// `t` means a delivery that arrives later but was built earlier.
    static CLOCK: std::cell::Cell<Millis> = const { std::cell::Cell::new(0) };
}

/// The arrival time of a delivery at `t`: `T0 + t` seconds, or just after
/// the previous arrival if that was later.
pub fn arrival(t: i64) -> Millis {
    CLOCK.with(|c| {
        let now = ((T0 + t) * 1000).max(c.get() + 1);
        c.set(now);
        now
    })
}

/// Signs `body`, delivers it as `resource` arriving at `arrival(t)` under a
/// fresh Request-ID, and runs the plan.
pub fn deliver_as(conn: &Connection, resource: &str, body: &[u8], t: i64) -> Plan {
    deliver_full(conn, &cfg(), resource, body, arrival(t), &request_id())
}

/// The whole path for one delivery, with the configuration, clock and
/// Request-ID given. Panics if the delivery is refused.
///
/// As the shell does, a delivery the core decides from D1 is first planned
/// on the core's guess (`decide::guessed`) and run in one batch; when the
/// batch's check refuses the guess, D1 is read and the core decides again.
/// Every delivery of every store test also proves the two paths agree: a
/// guess the batch accepts plans exactly what reading first would have, and
/// a refused batch writes nothing.
pub fn deliver_full(conn: &Connection, cfg: &Config, resource: &str, body: &[u8], now: Millis, rid: &str) -> Plan {
    let sig = sign_hex(SECRET.as_bytes(), body);
    let cfg = Config { sentry_secret: Some(SECRET.into()), ..cfg.clone() };
    let d =
        Delivery { resource: Some(resource), signature: Some(&sig), request_id: Some(rid), body, ..Default::default() };
    let step = handle(&cfg, &d, now)
        .unwrap_or_else(|e| panic!("delivery refused: {e:?}\nbody: {}", String::from_utf8_lossy(body)));
    let (plan, rows) = match step {
        Step::Ready(plan) => {
            let rows = apply(conn, &plan, None, resource, rid, now);
            (plan, rows.expect("a ready plan applies"))
        }
        Step::Lookup(pending) => {
            let digest = Some(pending.lookup.body_sha256.clone());
            let known = db::query(conn, deliveries::LOOKUP, &deliveries::lookup_params(&pending.lookup));
            let classic =
                decide((*pending).clone(), &deliveries::prior_from_row(known.first(), cfg.internal.is_some()));
            let guessed = guessed(&pending, cfg.internal.is_some());
            let before = db::rows(conn, "SELECT COUNT(*) AS n FROM deliveries")[0]["n"].clone();
            ROUND_TRIPS.with(|n| n.set(n.get() + 1));
            match apply(conn, &guessed, digest.as_deref(), resource, rid, now) {
                Ok(rows) => {
                    assert_eq!(
                        without_check(guessed.clone()),
                        as_guessed(classic.clone(), &pending),
                        "the guess held, so it plans as reading would"
                    );
                    (guessed, rows)
                }
                Err(e) if e.to_string().contains(GUESS_MISSED) => {
                    let after = db::rows(conn, "SELECT COUNT(*) AS n FROM deliveries")[0]["n"].clone();
                    assert_eq!(before, after, "a refused guess wrote nothing");
                    ROUND_TRIPS.with(|n| n.set(n.get() + 2));
                    let rows = apply(conn, &classic, digest.as_deref(), resource, rid, now);
                    (classic, rows.expect("the decided plan applies"))
                }
                Err(e) => panic!("batch failed: {e}\n{guessed:#?}"),
            }
        }
    };
    assert_eq!(plan.reply.status, 200, "{:?}", plan.reply);
    GUARDED.with(|g| g.borrow_mut().extend(plan.guard.clone().and_then(|guard| guard.fires(&rows))));
    plan
}

/// The plan's statements and the delivery record, in one transaction.
fn apply(
    conn: &Connection,
    plan: &Plan,
    digest: Option<&str>,
    resource: &str,
    rid: &str,
    now: Millis,
) -> rusqlite::Result<Vec<Option<serde_json::Map<String, serde_json::Value>>>> {
    let received = format_millis(now);
    let record = DeliveryLog {
        received_at: &received,
        source: "sentry",
        resource: Some(resource),
        action: Some(&plan.verdict.action),
        verdict: plan.verdict.outcome.as_str(),
        status: plan.reply.status,
        request_id: Some(rid),
        detail: plan.verdict.detail.as_deref(),
        body_sha256: digest,
        latency_ms: 1,
        replay_of: None,
    };
    let mut batch = plan.statements.clone();
    if plan.verdict.outcome != sentry_kanban::sentry::hook::QUEUED {
        batch.extend(deliveries::record_delivery(&record));
    }
    db::try_run_first_rows(conn, &batch)
}

/// The plan decided from D1 as the fast path runs it: a birth of an issue
/// the check proves new is the insert alone (`store::cards::without_card`).
fn as_guessed(mut plan: Plan, pending: &sentry_kanban::sentry::hook::Pending) -> Plan {
    if pending.is_birth() {
        plan.statements = plan.statements.into_iter().map(sentry_kanban::store::cards::without_card).collect();
    }
    plan
}

/// A guessed plan without its leading check, as reading first plans it.
fn without_check(mut plan: Plan) -> Plan {
    plan.statements.remove(0);
    if let Some(g) = plan.guard.as_mut() {
        g.stmt -= 1;
    }
    plan
}

thread_local! {
    /// D1 round trips the deliveries on this thread took on the decided path
    /// (1 when the guess held; 3 when it was refused, read, and decided).
    static ROUND_TRIPS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Round trips taken so far on this thread by deliveries decided from D1.
pub fn round_trips() -> usize {
    ROUND_TRIPS.with(|n| n.get())
}

thread_local! {
    /// The guarded jobs the batches said to queue, as the shell would.
    static GUARDED: std::cell::RefCell<Vec<sentry_kanban::jobs::Job>> = const { std::cell::RefCell::new(vec![]) };
}

/// How many guarded jobs are queued on this thread (not taken).
pub fn queued_count() -> usize {
    GUARDED.with(|g| g.borrow().len())
}

/// The guarded jobs queued so far on this thread, emptied.
pub fn take_queued() -> Vec<sentry_kanban::jobs::Job> {
    GUARDED.with(|g| std::mem::take(&mut *g.borrow_mut()))
}
