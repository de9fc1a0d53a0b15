//! decide, for one verified, parsed Sentry delivery (`hook::Pending`):
//! from what D1 knows of it (`Prior`), or, on the fast path, from the core's
//! guess of that (`guessed`), checked inside the ack's batch. Where the
//! order of a delivery cannot be proven, the plan also requests an
//! authoritative re-read of the issue.

use super::hook::{Event, Pending};
use super::reread::RereadJob;
use crate::board::{Comment, CommentAction, IssueState};
use crate::jobs::Job;
use crate::plan::{Guarded, Plan, Reply, Verdict};
use crate::prior::{Known, Lookup, Prior};
use crate::sql::Stmt;
use crate::store;
use crate::time::{format_millis, Millis};
use crate::webhook::verdict::Outcome;
use serde_json::json;

fn with_first(first: Option<Stmt>, mut plan: Plan) -> Plan {
    if let (Some(stmt), false) = (first, plan.statements.is_empty()) {
        plan.statements.insert(0, stmt);
        if let Some(g) = plan.guard.as_mut() {
            g.stmt += 1;
        }
    }
    plan
}

/// Decides a pending delivery from what D1 knew of it.
pub fn decide(pending: Pending, prior: &Prior) -> Plan {
    let known = prior.known(pending.issue_state());
    decide_known(pending, &known)
}

/// The fast path, one round trip: the plan under the likeliest facts (an
/// unseen delivery, a token if there is an installation to hold one, a card
/// for every issue action but `created`, which that action then changes),
/// led by the statement that aborts the whole batch when D1 knows otherwise.
/// The shell then reads (`Lookup`) and decides as `decide` does.
pub fn guessed(pending: &Pending, internal: bool) -> Plan {
    let state = pending.issue_state();
    let existing = state.is_some_and(|s| !s.birth);
    let known = Known {
        has_token: internal || pending.lookup.installation.is_some(),
        card: existing,
        changes: existing,
        ..Known::default()
    };
    // Alerts and installation events are decided without a token.
    let token_matters = !matches!(pending.event, Event::Planned(_));
    let check = store::gate::guess_check(&pending.lookup, internal, state, &known, token_matters);
    let mut plan = decide_known(pending.clone(), &known);
    // The check proves the card absent (for an issue guessed new), so its
    // birth is the insert alone.
    if pending.is_birth() {
        plan.statements = plan.statements.into_iter().map(store::cards::without_card).collect();
    }
    plan.statements.insert(0, check);
    if let Some(g) = plan.guard.as_mut() {
        g.stmt += 1;
    }
    plan
}

impl Pending {
    /// `issue.created`: the fast path guesses it finds no card.
    pub fn is_birth(&self) -> bool {
        self.issue_state().is_some_and(|s| s.birth)
    }

    fn issue_state(&self) -> Option<&IssueState> {
        match &self.event {
            Event::Issue { state, .. } => Some(state),
            _ => None,
        }
    }
}

fn decide_known(pending: Pending, prior: &Known) -> Plan {
    let Pending { lookup, event, internal_row, now } = pending;
    if prior.exact_replay {
        return duplicate(&lookup.resource, &event);
    }
    let plan = match event {
        Event::Issue { action, state, project, shows_nobody, actor } => {
            let origin = store::history::Origin::sentry(&action, actor.as_deref());
            decide_issue(&lookup, &action, *state, project, shows_nobody, &origin, prior, now)
        }
        Event::Comment { action, comment, kind } => decide_comment(&lookup, &action, &comment, kind, prior, now),
        // Metric alerts order themselves (resolved is final), and a repeated
        // critical can have the bytes of an earlier one.
        Event::Planned(plan) if prior.body_seen && plan.verdict.resource != "metric_alert" => repeat(*plan),
        Event::Planned(plan) => *plan,
    };
    with_first(internal_row, plan)
}

#[allow(clippy::too_many_arguments)] // the history's origin joined main's seven
fn decide_issue(
    lookup: &Lookup,
    action: &str,
    state: IssueState,
    project: Option<String>,
    shows_nobody: bool,
    origin: &store::history::Origin,
    prior: &Known,
    now: Millis,
) -> Plan {
    let at = format_millis(now);
    let id = state.snapshot.id.clone();
    let filled = state.birth && prior.card;
    let why = doubt(prior.body_seen, filled, prior.changes, shows_nobody);
    let (outcome, status) = if filled { (Outcome::Filled, "kept") } else { (Outcome::Applied, state.status.as_str()) };
    let mut reply = Reply::ok(json!({ "ok": true, "issue": id, "status": status }));
    // Sentry shows this in the integration's request log.
    reply.headers.extend(project.map(|p| ("Sentry-Hook-Project", p)));
    // Bytes seen before, with a token to ask the API: a repeated action and a
    // replayed capture look the same, so nothing is written but the re-read,
    // which settles either within seconds.
    if prior.body_seen && prior.has_token {
        let verdict = Verdict::new("issue", action, Outcome::Repeat);
        return with_reread(Plan::answer(reply, verdict), lookup, prior, false, why.unwrap_or_default(), now);
    }
    let mut statements = vec![store::upsert_card_by(&state, origin, &at, &at)];
    if !filled {
        // The error log's group follows its issue's status.
        statements.push(store::errors::sync_status(&id, state.status.as_str(), &at));
    }
    let plan = Plan::writes(statements, reply, Verdict::new("issue", action, outcome));
    match why {
        Some(why) => with_reread(plan, lookup, prior, false, why, now),
        None => plan,
    }
}

/// Why an issue delivery cannot be proven newest, if it cannot.
fn doubt(body_seen: bool, filled: bool, changes: bool, shows_nobody: bool) -> Option<&'static str> {
    if body_seen {
        Some("these bytes were seen before under another Request-ID")
    } else if filled {
        Some("issue.created for a card that exists")
    } else if shows_nobody {
        Some("an assignment whose snapshot shows nobody assigned")
    } else if changes {
        Some("a change whose order cannot be proven")
    } else {
        None
    }
}

fn decide_comment(
    lookup: &Lookup,
    action: &str,
    comment: &Comment,
    kind: CommentAction,
    prior: &Known,
    now: Millis,
) -> Plan {
    let at = format_millis(now);
    // Comment bodies are frozen when queued: the same bytes again are a
    // retry of a write already applied, possibly older than a later edit.
    let (plan, why) = if prior.body_seen {
        let reply = Reply::ok(json!({ "ok": true, "comment": comment.id, "repeat": true }));
        let verdict =
            Verdict::new("comment", action, Outcome::Repeat).because("a retry of a comment delivery already applied");
        (Plan::answer(reply, verdict), "a comment delivery seen before")
    } else {
        (super::comments::plan(comment, kind, action, &at), "a comment delivery cannot be ordered")
    };
    // Comment bodies carry no order: an edit may be older than one applied,
    // a `created` may arrive after its edit, a comment may arrive before its
    // issue's card. Only a tombstone is final.
    match kind {
        CommentAction::Delete if !prior.body_seen => plan,
        _ => with_reread(plan, lookup, prior, true, why, now),
    }
}

/// Adds the request for an authoritative re-read, and its job, which the
/// batch itself decides on: only if no re-read of the issue is in flight.
/// Without a token the plan stands as it is: the next sync corrects what
/// remains.
fn with_reread(mut plan: Plan, lookup: &Lookup, prior: &Known, comments: bool, why: &str, now: Millis) -> Plan {
    let Some(issue) = lookup.issue_id.as_deref().filter(|_| prior.has_token) else { return plan };
    // The delivery's own token: only an exact replay shares it, and those stop earlier.
    let token = format!("{}:{}", lookup.request_id.as_deref().unwrap_or(""), lookup.body_sha256);
    plan.statements.push(store::rereads::request(issue, lookup.installation.as_deref(), comments, now, &token));
    let job = Job::Reread(RereadJob { issue: issue.to_string(), installation: lookup.installation.clone() });
    plan.guard = Some(Guarded { stmt: plan.statements.len() - 1, job });
    plan.verdict.detail = Some(format!("{why}: re-read from the API"));
    if let Some(body) = plan.reply.body.as_object_mut() {
        body.insert("reread".into(), json!(true));
    }
    plan
}

fn duplicate(resource: &str, event: &Event) -> Plan {
    let action = match event {
        Event::Issue { action, .. } | Event::Comment { action, .. } => action.clone(),
        Event::Planned(p) => p.verdict.action.clone(),
    };
    Plan::answer(
        Reply::ok(json!({ "ok": true, "duplicate": true })),
        Verdict::new(resource, &action, Outcome::Duplicate).because("the same Request-ID with the same body"),
    )
}

/// A planned delivery whose bytes were accepted before: an alert or an
/// installation event that was already recorded.
fn repeat(plan: Plan) -> Plan {
    let verdict = Verdict::new(&plan.verdict.resource, &plan.verdict.action, Outcome::Repeat)
        .because("these bytes were already applied under another Request-ID");
    Plan::answer(Reply::ok(json!({ "ok": true, "repeat": true })), verdict)
}
