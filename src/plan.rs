//! What a handler decided, as data: SQL to run in one batch, jobs to queue,
//! and the HTTP answer. The shell carries it out; tests inspect it.

use crate::sql::Stmt;
use serde::Serialize;

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
    pub outcome: crate::webhook::verdict::Outcome,
    /// Why, in words, when the outcome needs explaining (unusable content, a
    /// re-read queued): shown on the delivery page.
    pub detail: Option<String>,
}

impl Verdict {
    pub fn new(resource: &str, action: &str, outcome: crate::webhook::verdict::Outcome) -> Self {
        Verdict { resource: resource.to_string(), action: action.to_string(), outcome, detail: None }
    }

    pub fn because(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }
}

/// A job the plan cannot decide on alone: it is queued only if statement
/// `stmt` of the batch returns a row whose `queue_job` is true (e.g. "no
/// re-read of this issue is in flight", which only the database knows at
/// the moment the batch runs).
#[derive(Debug, Clone, PartialEq)]
pub struct Guarded {
    pub stmt: usize,
    pub job: crate::jobs::Job,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub statements: Vec<Stmt>,
    /// Queued only after the statements applied, so a job always finds the
    /// rows it was queued for.
    pub jobs: Vec<crate::jobs::Job>,
    pub guard: Option<Guarded>,
    pub reply: Reply,
    pub verdict: Verdict,
}

impl Plan {
    /// Statements only, no jobs.
    pub fn writes(statements: Vec<Stmt>, reply: Reply, verdict: Verdict) -> Self {
        Plan { statements, jobs: vec![], guard: None, reply, verdict }
    }

    /// Nothing to write or queue.
    pub fn answer(reply: Reply, verdict: Verdict) -> Self {
        Plan::writes(vec![], reply, verdict)
    }
}

impl Guarded {
    /// The job, if its statement's first row (`first_rows[stmt]`, one entry
    /// per statement of the batch) says to queue it.
    pub fn fires(self, first_rows: &[Option<serde_json::Map<String, serde_json::Value>>]) -> Option<crate::jobs::Job> {
        let row = first_rows.get(self.stmt)?.as_ref()?;
        let yes = match row.get("queue_job") {
            Some(serde_json::Value::Bool(b)) => *b,
            Some(serde_json::Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0),
            _ => false,
        };
        yes.then_some(self.job)
    }
}
