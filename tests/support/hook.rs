//! Drives signed deliveries through the real `hook::handle` and runs the
//! planned statements on a rusqlite database.

use super::db;
use rusqlite::Connection;
use sentry_kanban::config::Config;
use sentry_kanban::plan::Plan;
use sentry_kanban::sentry::hook::{handle, Delivery};
use sentry_kanban::time::{format_millis, Millis};
use sentry_kanban::verify::sign_hex;

pub const SECRET: &str = "store-test-secret";
/// The worker's clock for every delivery.
pub const NOW: Millis = 1_700_000_000_000;
/// `Sentry-Hook-Timestamp` of a delivery at `t` is `T0 + t` seconds.
pub const T0: i64 = 1_699_990_000;

pub fn cfg() -> Config {
    Config { sentry_secret: Some(SECRET.into()), ..Default::default() }
}

/// `applied_at`/`updated_at` text for a delivery at `t`.
pub fn at(t: i64) -> String {
    format_millis((T0 + t) * 1000)
}

/// Signs `body`, plans it as `resource` stamped `T0 + t`, runs the plan.
pub fn deliver_as(conn: &Connection, resource: &str, body: &[u8], t: i64) -> Plan {
    let sig = sign_hex(SECRET.as_bytes(), body);
    let ts = (T0 + t).to_string();
    let d =
        Delivery { resource: Some(resource), signature: Some(&sig), timestamp: Some(&ts), body, ..Default::default() };
    let plan = handle(&cfg(), &d, NOW)
        .unwrap_or_else(|e| panic!("delivery refused: {e:?}\nbody: {}", String::from_utf8_lossy(body)));
    assert_eq!(plan.reply.status, 200, "{:?}", plan.reply);
    db::run(conn, &plan.statements);
    plan
}
