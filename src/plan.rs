//! What a handler decided, as data: SQL to run in one batch, jobs to queue,
//! and the HTTP answer. The shell carries it out; tests inspect it.

use serde::Serialize;

/// A bound SQL parameter. Ids travel as `Text`: D1 cannot carry 64-bit ints.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlValue {
    Null,
    Int(i32),
    Text(String),
}

impl From<&str> for SqlValue {
    fn from(s: &str) -> Self {
        SqlValue::Text(s.to_string())
    }
}

impl From<String> for SqlValue {
    fn from(s: String) -> Self {
        SqlValue::Text(s)
    }
}

impl From<Option<String>> for SqlValue {
    fn from(s: Option<String>) -> Self {
        s.map_or(SqlValue::Null, SqlValue::Text)
    }
}

impl From<bool> for SqlValue {
    fn from(b: bool) -> Self {
        SqlValue::Int(i32::from(b))
    }
}

impl From<i32> for SqlValue {
    fn from(i: i32) -> Self {
        SqlValue::Int(i)
    }
}

/// One statement with numbered (`?1`, `?2`, …) parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Stmt {
    pub sql: &'static str,
    pub params: Vec<SqlValue>,
}

/// The HTTP answer a handler wants sent.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub status: u16,
    pub body: serde_json::Value,
    /// Extra response headers, e.g. `Sentry-Hook-Project` for Sentry's request log.
    pub headers: Vec<(&'static str, String)>,
}

impl Reply {
    pub fn ok(body: serde_json::Value) -> Self {
        Reply { status: 200, body, headers: vec![] }
    }
}

/// A verdict for the delivery log line: what was received and what was done.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    pub resource: String,
    pub action: String,
    pub outcome: &'static str,
    /// Why, in words, when the outcome needs explaining (unusable content, a
    /// re-read queued): shown on the delivery page.
    pub detail: Option<String>,
}

impl Verdict {
    pub fn new(resource: &str, action: &str, outcome: &'static str) -> Self {
        Verdict { resource: resource.to_string(), action: action.to_string(), outcome, detail: None }
    }

    pub fn because(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub statements: Vec<Stmt>,
    /// Queued only after the statements applied, so a job always finds the
    /// rows it was queued for.
    pub jobs: Vec<crate::jobs::Job>,
    pub reply: Reply,
    pub verdict: Verdict,
}

impl Plan {
    /// Statements only, no jobs.
    pub fn writes(statements: Vec<Stmt>, reply: Reply, verdict: Verdict) -> Self {
        Plan { statements, jobs: vec![], reply, verdict }
    }
}
