//! GitHub team and membership deliveries built from the fixtures, with the
//! ids and names a test (or the benchmark) picks. Shared by the GitHub e2e
//! tests and the benchmark report.
#![allow(dead_code)]

use serde_json::{json, Value};

pub fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/github/{name}.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

pub fn team_body(action: &str, id: u64, slug: &str) -> String {
    let mut v = fixture(&format!("team-{action}"));
    v["team"]["id"] = json!(id);
    v["team"]["slug"] = json!(slug);
    v["team"]["name"] = json!(slug);
    v.to_string()
}

pub fn membership_body(action: &str, team_id: u64, slug: &str, login: &str) -> String {
    let mut v = fixture(&format!("membership-{action}"));
    v["team"]["id"] = json!(team_id);
    v["team"]["slug"] = json!(slug);
    v["member"]["login"] = json!(login);
    v.to_string()
}
