//! A model of Sentry's webhook sender, written from the facts in
//! `wire-formats.md` §5.4 (checked there against getsentry/sentry's
//! `sentry_apps` tasks), driven by a simulated Sentry issue.
//!
//! - Bodies are compact, ASCII-escaped JSON (`support::sentry` builds them).
//! - Every attempt has a fresh `Request-ID` (and timestamp).
//! - Up to 3 retries on a timeout or a 5xx.
//! - `issue.created` and `comment.*` bodies are frozen when the task is
//!   queued: every retry is byte-identical.
//! - `issue.resolved|unresolved|ignored|assigned` re-serialise `data.issue`
//!   from the issue's state at each attempt, while `data.assignee` and
//!   `data.resolution_type` stay as they were queued.
//! - Unassignment sends no webhook.
#![allow(dead_code)]

use super::arbitrary::Rng;
use super::sentry::{js, Assigned, Issue, Person, INSTALLATION};
use std::collections::BTreeMap;

/// What a user does to the issue in Sentry.
#[derive(Debug, Clone)]
pub enum Act {
    Resolve,
    Unresolve,
    Ignore,
    Assign(Person),
    /// No webhook: only the API shows it.
    Unassign,
    Comment(u64, String),
    Edit(u64, String),
    Delete(u64),
}

/// The issue as Sentry holds it.
#[derive(Debug, Clone)]
pub struct SimIssue {
    pub id: String,
    pub status: &'static str,
    pub assignee: Option<Person>,
    pub comments: BTreeMap<u64, String>,
}

impl SimIssue {
    pub fn new(id: &str) -> SimIssue {
        SimIssue { id: id.into(), status: "unresolved", assignee: None, comments: BTreeMap::new() }
    }

    fn apply(&mut self, act: &Act) {
        match act {
            Act::Resolve => self.status = "resolved",
            Act::Unresolve => self.status = "unresolved",
            Act::Ignore => self.status = "ignored",
            Act::Assign(p) => self.assignee = Some(p.clone()),
            Act::Unassign => self.assignee = None,
            Act::Comment(id, text) | Act::Edit(id, text) => {
                self.comments.insert(*id, text.clone());
            }
            Act::Delete(id) => {
                self.comments.remove(id);
            }
        }
    }

    /// GroupSerializer's output for the issue now.
    pub fn snapshot(&self) -> Issue {
        let assigned = self.assignee.clone().map_or(Assigned::Null, Assigned::To);
        Issue::new(&self.id).status(self.status).assigned(assigned)
    }

    /// `GET /issues/{id}/`.
    pub fn api_issue(&self) -> String {
        self.snapshot().to_json(true)
    }

    /// `GET /issues/{id}/comments/`.
    pub fn api_notes(&self) -> String {
        let notes: Vec<String> = self
            .comments
            .iter()
            .map(|(id, text)| {
                format!(
                    r#"{{"id":"{id}","user":{{"name":"Jane Doe"}},"type":"note","data":{{"text":{}}},"dateCreated":"2026-01-01T00:00:00Z"}}"#,
                    js(text)
                )
            })
            .collect();
        format!("[{}]", notes.join(","))
    }

    /// The board's column for this state.
    pub fn column(&self) -> &'static str {
        match (self.status, &self.assignee) {
            ("resolved", _) => "DONE",
            (_, Some(_)) => "DOING",
            _ => "TODO",
        }
    }
}

/// One webhook task, as Sentry queues it.
#[derive(Debug, Clone)]
enum Task {
    /// `issue.created`, `comment.*`: the body is built once.
    Frozen { resource: &'static str, body: String },
    /// A workflow notification: `data.issue` is serialised at each attempt.
    Workflow { action: &'static str, assignee: Option<Person>, with_assignee_key: bool },
}

/// One HTTP attempt reaching the worker.
#[derive(Debug, Clone)]
pub struct Attempt {
    /// When Sentry built it (its `data.issue` shows the state then).
    pub built_at: i64,
    pub arrives_at: i64,
    pub resource: &'static str,
    pub body: String,
    pub request_id: String,
    /// Whether this is the task's first attempt.
    pub original: bool,
}

/// A generated history: the user's actions and the attempts they caused.
#[derive(Debug, Clone)]
pub struct Run {
    pub issue_id: String,
    /// (time, state after the action), starting with the creation.
    pub states: Vec<(i64, SimIssue)>,
    pub attempts: Vec<Attempt>,
}

impl Run {
    /// Sentry's state at `t`.
    pub fn state_at(&self, t: i64) -> &SimIssue {
        &self.states.iter().rev().find(|(at, _)| *at <= t).unwrap_or(&self.states[0]).1
    }

    pub fn last(&self) -> &SimIssue {
        &self.states.last().expect("a created issue").1
    }

    /// The attempts in arrival order (ties keep the order they were made).
    pub fn in_arrival_order(&self) -> Vec<Attempt> {
        let mut a = self.attempts.clone();
        a.sort_by_key(|x| x.arrives_at);
        a
    }
}

/// How the network behaves.
#[derive(Debug, Clone, Copy)]
pub struct Network {
    /// Up to this much transit delay on any attempt (0: originals in order).
    pub max_delay: i64,
    /// One in this many attempts times out (arrives, but Sentry retries).
    pub retry_one_in: usize,
    /// One in this many attempts is duplicated on the way (same Request-ID).
    pub duplicate_one_in: usize,
}

pub fn people() -> [Person; 3] {
    [super::sentry::jane(), super::sentry::backend_team(), Person::user(2, "Jos\u{e9} \u{1f680}", "jose@example.com")]
}

/// A random sequence of user actions after the creation. Every
/// unassignment is followed by a status change, the only later webhook that
/// can report it. `unique_texts`: no edit repeats an earlier text (an edit
/// back to an earlier text has the same bytes as the earlier edit, which
/// only an API read can tell from a retry). `unassign`: whether the user
/// unassigns (a retried `issue.assigned` sent after an unassignment names
/// the old assignee in `data.assignee` next to `assignedTo: null`, which
/// only an API read can settle).
pub fn actions(rng: &mut Rng, max: usize, unique_texts: bool, unassign: bool) -> Vec<Act> {
    let n = 1 + rng.below(max);
    let mut out = vec![];
    let mut next_comment = 1u64;
    let mut live: Vec<u64> = vec![];
    let mut texts = 0;
    let mut text = |rng: &mut Rng| {
        texts += 1;
        if unique_texts {
            format!("note {texts} \u{e9}")
        } else {
            format!("note {}", rng.below(3))
        }
    };
    while out.len() < n {
        match rng.below(9) {
            0 => out.push(Act::Resolve),
            1 => out.push(Act::Unresolve),
            2 => out.push(Act::Ignore),
            3 | 4 => out.push(Act::Assign(rng.pick(&people()).clone())),
            5 if unassign => {
                out.push(Act::Unassign);
                out.push(rng.pick(&[Act::Resolve, Act::Unresolve, Act::Ignore]).clone());
            }
            6 => {
                out.push(Act::Comment(next_comment, text(rng)));
                live.push(next_comment);
                next_comment += 1;
            }
            7 if !live.is_empty() => {
                let id = *rng.pick(&live);
                out.push(Act::Edit(id, text(rng)));
            }
            8 if !live.is_empty() => {
                let i = rng.below(live.len());
                out.push(Act::Delete(live.remove(i)));
            }
            _ => {}
        }
    }
    out
}

/// Plays `acts` on a new issue `id` (created at time 0, one action every 10
/// time units) and sends what Sentry would send over `net`. Comment numbers
/// in `acts` are per issue; Sentry's comment ids are global, so they become
/// `id * 1000 + n`.
pub fn play(rng: &mut Rng, id: &str, acts: &[Act], net: Network) -> Run {
    let base = id.parse::<u64>().expect("a numeric issue id") * 1000;
    let acts: Vec<Act> = acts.iter().map(|a| globalise(a, base)).collect();
    let mut issue = SimIssue::new(id);
    let mut states = vec![(0, issue.clone())];
    let mut tasks = vec![(0, Task::Frozen { resource: "issue", body: created_body(&issue) })];
    for (i, act) in acts.iter().enumerate() {
        let t = 10 * (i as i64 + 1);
        issue.apply(act);
        states.push((t, issue.clone()));
        if let Some(task) = task_for(rng, act, &issue) {
            tasks.push((t, task));
        }
    }
    let mut run = Run { issue_id: id.into(), states, attempts: vec![] };
    for (t, task) in tasks {
        send(rng, &mut run, t, &task, net);
    }
    run
}

fn globalise(act: &Act, base: u64) -> Act {
    match act {
        Act::Comment(n, t) => Act::Comment(base + n, t.clone()),
        Act::Edit(n, t) => Act::Edit(base + n, t.clone()),
        Act::Delete(n) => Act::Delete(base + n),
        other => other.clone(),
    }
}

fn task_for(rng: &mut Rng, act: &Act, issue: &SimIssue) -> Option<Task> {
    let workflow = |action| Task::Workflow { action, assignee: None, with_assignee_key: false };
    Some(match act {
        Act::Resolve => workflow("resolved"),
        Act::Unresolve => workflow("unresolved"),
        Act::Ignore => workflow("ignored"),
        // integration-platform-example's mocks have no `data.assignee`.
        Act::Assign(p) => {
            Task::Workflow { action: "assigned", assignee: Some(p.clone()), with_assignee_key: !rng.chance(3) }
        }
        Act::Unassign => return None,
        Act::Comment(c, text) => {
            Task::Frozen { resource: "comment", body: comment_body("created", &issue.id, *c, text) }
        }
        Act::Edit(c, text) => Task::Frozen { resource: "comment", body: comment_body("updated", &issue.id, *c, text) },
        Act::Delete(c) => Task::Frozen { resource: "comment", body: comment_body("deleted", &issue.id, *c, "") },
    })
}

static REQUEST: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1 << 40);

fn request_id() -> String {
    format!("{:032x}", REQUEST.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
}

/// The attempts of one task: the first when it is queued, then a retry
/// (fresh Request-ID, body rebuilt if it is a workflow) whenever an attempt
/// times out, up to 3 retries, each some minutes later.
fn send(rng: &mut Rng, run: &mut Run, queued_at: i64, task: &Task, net: Network) {
    let mut built = queued_at;
    for attempt in 0..4 {
        let (resource, body) = match task {
            Task::Frozen { resource, body } => (*resource, body.clone()),
            Task::Workflow { action, assignee, with_assignee_key } => {
                ("issue", workflow_body(action, run.state_at(built), assignee.as_ref(), *with_assignee_key))
            }
        };
        let delay = if net.max_delay > 0 { rng.below(net.max_delay as usize + 1) as i64 } else { 0 };
        let a = Attempt {
            built_at: built,
            arrives_at: built + delay,
            resource,
            body,
            request_id: request_id(),
            original: attempt == 0,
        };
        if rng.chance(net.duplicate_one_in) {
            let mut dup = a.clone();
            dup.arrives_at += rng.below(200) as i64;
            run.attempts.push(dup);
        }
        run.attempts.push(a);
        if !rng.chance(net.retry_one_in) {
            return;
        }
        built += 1 + rng.below(400) as i64;
    }
}

fn created_body(issue: &SimIssue) -> String {
    format!(
        r#"{{"action":"created","installation":{{"uuid":"{INSTALLATION}"}},"data":{{"issue":{}}},"actor":{{"type":"application","id":"sentry","name":"Sentry"}}}}"#,
        issue.snapshot().to_json(true)
    )
}

/// `data.issue` from the state at send time; `data.assignee` as queued.
fn workflow_body(action: &str, now: &SimIssue, assignee: Option<&Person>, with_assignee_key: bool) -> String {
    let issue = now.snapshot().to_json(false);
    let data = match (action, assignee) {
        ("assigned", Some(p)) if with_assignee_key => {
            format!(r#"{{"assignee":{},"issue":{issue}}}"#, p.assignee_json())
        }
        ("resolved", _) => format!(r#"{{"resolution_type":"now","issue":{issue}}}"#),
        _ => format!(r#"{{"issue":{issue}}}"#),
    };
    format!(
        r#"{{"action":{},"installation":{{"uuid":"{INSTALLATION}"}},"data":{data},"actor":{{"type":"user","id":1,"name":"Jane Doe"}}}}"#,
        js(action)
    )
}

fn comment_body(action: &str, issue: &str, comment: u64, text: &str) -> String {
    format!(
        r#"{{"action":{},"installation":{{"uuid":"{INSTALLATION}"}},"data":{{"comment_id":{comment},"issue_id":{issue},"project_slug":"front-end","timestamp":"2026-01-01T00:00:00.000000Z","comment":{}}},"actor":{{"type":"user","id":1,"name":"Jane Doe"}}}}"#,
        js(action),
        js(text)
    )
}
