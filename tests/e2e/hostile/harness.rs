//! The table's harness: snapshots of everything a delivery could write, the
//! assertion that a request wrote nothing but its own delivery-log row, and
//! the shape of a case.

use super::request::{Hook, Req};
use crate::app::{App, Reply, INTERNAL_ORG};
use crate::mock;
use serde_json::Value;
use std::time::Duration;

/// Everything a delivery could write, as the API shows it.
#[derive(Clone)]
pub struct State {
    pub items: Value,
    pub errors: Value,
    pub github: Value,
    pub jobs: Value,
    pub installations: Value,
    pub deliveries: Vec<Value>,
    /// The ring of requests refused before verification.
    pub rejections: Vec<Value>,
    pub calls: Vec<mock::Call>,
}

pub fn get(app: &App, path: &str) -> Value {
    let r = app.request("GET", path, &[], b"");
    assert_eq!(r.status, 200, "GET {path}: {}", r.body);
    r.json()
}

pub fn state(app: &App) -> State {
    State {
        items: get(app, "/api/items")["items"].clone(),
        errors: get(app, "/api/errors"),
        github: get(app, "/api/github/sync"),
        jobs: get(app, "/api/jobs"),
        installations: get(app, "/api/installations"),
        deliveries: get(app, "/api/deliveries")["deliveries"].as_array().cloned().unwrap_or_default(),
        rejections: get(app, "/api/deliveries")["rejections"].as_array().cloned().unwrap_or_default(),
        calls: app.mock.calls(),
    }
}

/// Waits until two snapshots 700 ms apart agree (queue work has landed).
pub fn settle(app: &App) {
    let key = |s: &State| format!("{} {} {} {} {}", s.items, s.errors, s.github, s.jobs, s.calls.len());
    let mut last = key(&state(app));
    for _ in 0..40 {
        std::thread::sleep(Duration::from_millis(700));
        let now = key(&state(app));
        if now == last {
            return;
        }
        last = now;
    }
    panic!("the worker's state did not settle");
}

pub fn last_delivery_id(s: &State) -> f64 {
    s.deliveries.iter().filter_map(|d| d["id"].as_f64()).fold(0.0, f64::max)
}

/// Delivery-log rows written since `before`.
pub fn new_deliveries(before: &State, after: &State) -> Vec<Value> {
    let last = last_delivery_id(before);
    after.deliveries.iter().filter(|d| d["id"].as_f64().is_some_and(|id| id > last)).cloned().collect()
}

/// Nothing but (at most) this request's own delivery-log row changed.
pub fn assert_nothing_written(before: &State, after: &State, req: &Req, status: u16) {
    let same = |what: &str, a: &Value, b: &Value| assert!(a == b, "{what} changed:\nbefore {a}\nafter  {b}");
    same("/api/items", &before.items, &after.items);
    same("/api/errors", &before.errors, &after.errors);
    same("/api/github/sync", &before.github, &after.github);
    same("/api/jobs", &before.jobs, &after.jobs);
    same("/api/installations", &before.installations, &after.installations);
    let calls = &after.calls[before.calls.len()..];
    assert!(calls.is_empty(), "the mock API was called: {calls:?}");
    assert_own_delivery_row(before, after, req, status);
}

/// The delivery log gains exactly this request's row. A request refused
/// before verification (401, 413) never reaches the log: it takes one slot
/// of the bounded ring of rejections instead — except a GitHub request that
/// failed authentication, which leaves only a log line.
pub fn assert_own_delivery_row(before: &State, after: &State, req: &Req, status: u16) {
    let rows = new_deliveries(before, after);
    let (source, id_header) = match req.hook {
        Hook::Sentry => ("sentry", "Request-ID"),
        Hook::Github => ("github", "X-GitHub-Delivery"),
    };
    if req.hook == Hook::Github && status == 401 {
        assert!(rows.is_empty(), "an unauthenticated GitHub request was recorded: {rows:?}");
        return;
    }
    if matches!(status, 401 | 413) || (req.hook == Hook::Sentry && status == 400) {
        assert!(rows.is_empty(), "a refused request reached the delivery log: {rows:?}");
        let seq = |s: &State| s.rejections.iter().filter_map(|r| r["seq"].as_f64()).fold(0.0, f64::max);
        let new: Vec<&Value> = after.rejections.iter().filter(|r| r["seq"].as_f64() > Some(seq(before))).collect();
        assert_eq!(new.len(), 1, "expected one rejection, got {new:?}");
        assert!(after.rejections.len() <= 50, "the ring is bounded: {}", after.rejections.len());
        let row = new[0];
        assert_eq!((row["source"].as_str(), row["status"].as_f64()), (Some(source), Some(status as f64)), "{row}");
        let text_cap = |v: &Value| v.as_str().is_none_or(|s| s.chars().count() <= 200);
        assert!(["request_id", "resource", "error"].iter().all(|k| text_cap(&row[*k])), "{row}");
        return;
    }
    assert_eq!(rows.len(), 1, "expected one delivery-log row, got {rows:?}");
    let row = &rows[0];
    assert_eq!(row["source"], source, "{row}");
    assert_eq!(row["status"].as_f64(), Some(status as f64), "{row}");
    // Two values of one header reach the worker joined with ", ".
    let values: Vec<&str> =
        req.headers.iter().filter(|(k, _)| k.eq_ignore_ascii_case(id_header)).map(|(_, v)| v.as_str()).collect();
    if !values.is_empty() {
        assert_eq!(row["request_id"], values.join(", "), "{row}");
    }
}

pub type Check = Box<dyn Fn(&App, &State, &Req, &Reply)>;

pub enum Expect {
    /// Rejected or ignored: nothing but the delivery-log row.
    Nothing,
    /// Same, then a follow-up (e.g. a good request that must still work).
    NothingThen(Check),
    /// Accepted: the check asserts what was written.
    Check(Check),
}

pub struct Case {
    pub name: String,
    pub req: Req,
    pub status: u16,
    /// A string of this case only; for `Nothing` cases it must never
    /// appear in any stored state.
    pub marker: String,
    pub expect: Expect,
}

pub fn case(name: &str, marker: &str, req: Req, status: u16, expect: Expect) -> Case {
    Case { name: name.to_string(), req, status, marker: marker.to_string(), expect }
}

pub fn github_events(app: &App) -> Vec<Value> {
    get(app, "/api/github/sync")["events"].as_array().cloned().unwrap_or_default()
}

pub fn team_posts(app: &App, slug: &str) -> usize {
    let path = format!("/api/0/organizations/{INTERNAL_ORG}/teams/");
    app.mock.calls().iter().filter(|c| c.method == "POST" && c.path == path && c.body.contains(slug)).count()
}
