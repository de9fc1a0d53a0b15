//! Tests of `board`.

use super::*;

fn snap(status: Option<Status>) -> IssueSnapshot {
    IssueSnapshot { id: "1".into(), title: Some("t".into()), status, ..Default::default() }
}

fn alice() -> Assignee {
    Assignee { kind: "user".into(), id: Some("7".into()), name: Some("Alice".into()), email: None }
}

#[test]
fn created_takes_the_reported_status_and_is_a_birth() {
    let s = issue_state(IssueAction::Created, snap(Some(Status::Resolved)), AssigneeChange::Keep);
    assert_eq!(s.status, Status::Resolved);
    assert!(s.birth);
    let s = issue_state(IssueAction::Created, snap(None), AssigneeChange::Keep);
    assert_eq!(s.status, Status::Unresolved);
}

#[test]
fn the_snapshot_assignee_wins_over_the_frozen_data_assignee() {
    let bob = Assignee { kind: "user".into(), id: Some("8".into()), name: Some("Bob".into()), email: None };
    let s = issue_state(IssueAction::Assigned(Some(alice())), snap(None), AssigneeChange::Set(Some(bob.clone())));
    assert_eq!(s.assignee, AssigneeChange::Set(Some(bob)), "a retry re-serialises data.issue, not data.assignee");
}

#[test]
fn an_assignment_without_a_snapshot_assignee_uses_data_assignee() {
    let s = issue_state(IssueAction::Assigned(Some(alice())), snap(None), AssigneeChange::Keep);
    assert_eq!(s.assignee, AssigneeChange::Set(Some(alice())));
    let s = issue_state(IssueAction::Assigned(Some(alice())), snap(None), AssigneeChange::Set(None));
    assert_eq!(s.assignee, AssigneeChange::Set(Some(alice())), "the snapshot lags: keep the named one");
}

#[test]
fn an_assignment_that_names_nobody_keeps_the_assignee() {
    for snapshot in [AssigneeChange::Keep, AssigneeChange::Set(None)] {
        let s = issue_state(IssueAction::Assigned(None), snap(None), snapshot);
        assert_eq!(s.assignee, AssigneeChange::Keep, "a missing field never clears an assignee");
    }
}

#[test]
fn null_assigned_to_unassigns_on_other_actions() {
    for action in [IssueAction::Resolved, IssueAction::Ignored, IssueAction::Unresolved, IssueAction::Created] {
        let s = issue_state(action, snap(None), AssigneeChange::Set(None));
        assert_eq!(s.assignee, AssigneeChange::Set(None));
    }
    let s = issue_state(IssueAction::Resolved, snap(None), AssigneeChange::Keep);
    assert_eq!(s.assignee, AssigneeChange::Keep);
}

#[test]
fn status_actions_decide_when_the_snapshot_has_no_status() {
    for (action, want) in [
        (IssueAction::Resolved, Status::Resolved),
        (IssueAction::Ignored, Status::Ignored),
        (IssueAction::Unresolved, Status::Unresolved),
    ] {
        let s = issue_state(action, snap(None), AssigneeChange::Keep);
        assert_eq!(s.status, want);
        assert!(!s.birth);
    }
}

#[test]
fn a_retried_action_follows_the_fresh_snapshot() {
    let s = issue_state(IssueAction::Resolved, snap(Some(Status::Unresolved)), AssigneeChange::Keep);
    assert_eq!(s.status, Status::Unresolved);
}

#[test]
fn a_state_changes_a_card_when_status_or_assignee_differ() {
    let card = CardFacts { status: Status::Unresolved, assignee: Some("user:7".into()) };
    let same = issue_state(IssueAction::Unresolved, snap(None), AssigneeChange::Keep);
    assert!(!same.changes(&card));
    let same = issue_state(IssueAction::Assigned(Some(alice())), snap(None), AssigneeChange::Keep);
    assert!(!same.changes(&card), "alice is user:7");
    let resolved = issue_state(IssueAction::Resolved, snap(None), AssigneeChange::Keep);
    assert!(resolved.changes(&card));
    let nobody = issue_state(IssueAction::Unresolved, snap(None), AssigneeChange::Set(None));
    assert!(nobody.changes(&card));
    let birth = issue_state(IssueAction::Created, snap(Some(Status::Resolved)), AssigneeChange::Set(None));
    assert!(!birth.changes(&card), "a birth certificate never changes a card");
}

#[test]
fn priorities_are_trimmed_and_capped() {
    assert_eq!(priority_text(" high ").as_deref(), Some("high"));
    assert_eq!(priority_text("  "), None);
    let long = "é".repeat(100);
    assert_eq!(priority_text(&long).map(|p| p.chars().count()), Some(MAX_PRIORITY_CHARS));
}

#[test]
fn item_filters_take_comma_lists_and_refuse_unknown_values() {
    let f = ItemFilter::parse([("substatus", "escalating,regressed"), ("priority", "high"), ("x", "y")]).unwrap();
    assert_eq!(f.substatus, Some(vec!["escalating".to_string(), "regressed".to_string()]));
    assert_eq!(f.priority, Some(vec!["high".to_string()]));
    assert_eq!(f.org, None);
    let f = ItemFilter::parse([("priority", "low"), ("priority", "low, medium"), ("org", " acme ")]).unwrap();
    assert_eq!(f.priority, Some(vec!["low".to_string(), "medium".to_string()]), "repeated keys add up");
    assert_eq!(f.org.as_deref(), Some("acme"));
    assert_eq!(ItemFilter::parse([("substatus", ""), ("priority", ",")]).unwrap(), ItemFilter::default());
    for (k, v, bad, hint) in [
        ("substatus", "escalating,bogus", "bogus", "archived_until_escalating"),
        ("priority", "urgent", "urgent", "high, medium, low"),
        ("priority", "HIGH", "HIGH", "high, medium, low"),
    ] {
        let e = ItemFilter::parse([(k, v)]).unwrap_err();
        assert_eq!(e.status(), 400, "{k}={v}");
        let crate::error::AppError::BadRequest(m) = e else { panic!("{k}={v}") };
        assert!(m.contains(k) && m.contains(bad) && m.contains(hint), "{m}");
    }
}

#[test]
fn archived_is_ignored_and_unknown_actions_are_none() {
    assert_eq!(IssueAction::parse("archived", None), Some(IssueAction::Ignored));
    assert_eq!(IssueAction::parse("escalated", None), None);
}

#[test]
fn comment_actions() {
    assert_eq!(CommentAction::parse("created"), Some(CommentAction::Write));
    assert_eq!(CommentAction::parse("updated"), Some(CommentAction::Write));
    assert_eq!(CommentAction::parse("deleted"), Some(CommentAction::Delete));
    assert_eq!(CommentAction::parse("reacted"), None);
}

#[test]
fn metric_statuses_and_their_levels() {
    let level = |a: &str| MetricStatus::parse(a).map(MetricStatus::level);
    assert_eq!(level("critical"), Some(Some("fatal")));
    assert_eq!(level("warning"), Some(Some("warning")));
    assert_eq!(level("open"), Some(Some("warning")), "open is shown like a warning");
    assert_eq!(level("resolved"), Some(None), "resolved keeps the level shown");
    assert_eq!(MetricStatus::parse("closed"), None);
    assert_eq!(MetricStatus::parse("open").map(MetricStatus::as_str), Some("warning"));
}

#[test]
fn alert_card_ids_do_not_collide_with_issue_ids() {
    let e = EventAlert { issue_id: "1".into(), rule: "r: x".into(), ..Default::default() };
    assert_eq!(e.card_id(), "event_alert:1:r: x");
    let m = MetricAlert {
        id: "1".into(),
        status: MetricStatus::Critical,
        installation_uuid: None,
        rule: None,
        title: None,
        detail: None,
        permalink: None,
        project: None,
        started_at: String::new(),
    };
    assert_eq!(m.card_id(), "metric_alert:1");
}
