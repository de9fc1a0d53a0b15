//! A mock Sentry organization's issue list: issues 100 per page under
//! `internal-org`, with Sentry's `Link` header. Shared by the cron-sync
//! tests and the sync benchmark.
#![allow(dead_code)]

use super::app::App;
use super::mock::Canned;
use serde_json::{json, Value};

pub const ISSUES: &str = "/api/0/organizations/internal-org/issues/?query=&statsPeriod=30d&limit=100";

pub fn issue(id: u32, status: &str) -> Value {
    json!({"id": id.to_string(), "shortId": format!("SYNC-{id}"), "title": format!("Synced {id}"), "status": status,
        "level": "error", "project": {"id": "1", "slug": "app", "name": "App"}, "count": "3",
        "firstSeen": "2026-11-01T10:00:00Z", "lastSeen": "2026-11-20T10:00:00Z", "assignedTo": null})
}

pub fn page_path(page: usize) -> String {
    match page {
        0 => ISSUES.to_string(),
        n => format!("{ISSUES}&cursor=0%3A{}%3A0", n * 100),
    }
}

/// Serves `issues` 100 per page with Sentry's `Link` header; the last page
/// says `results="false"`. Returns the page paths and how many calls the
/// mock had recorded before (earlier tests' calls are not counted).
pub fn serve(app: &App, issues: &[Value], delay_ms: u64) -> (Vec<String>, usize) {
    app.mock.reset();
    let pages: Vec<&[Value]> = issues.chunks(100).collect();
    // Longest paths first: the first page's path is a prefix of the others.
    for (n, chunk) in pages.iter().enumerate().rev() {
        let more = if n + 1 < pages.len() { "true" } else { "false" };
        let next = (n + 1) * 100;
        let link = format!(
            r#"<https://sentry.io{ISSUES}&cursor=0:0:1>; rel="previous"; results="false"; cursor="0:0:1", <https://sentry.io{ISSUES}&cursor=0:{next}:0>; rel="next"; results="{more}"; cursor="0:{next}:0""#
        );
        let body = Value::Array(chunk.to_vec()).to_string();
        app.mock.route(Canned::new("GET", &page_path(n), 200, &body).header("Link", &link).delayed(delay_ms));
    }
    ((0..pages.len()).map(page_path).collect(), app.mock.calls().len())
}
