//! The kanban rules: which Sentry state a delivery stands for. Columns are
//! derived from that state when the board is read (see `store::LIST_ITEMS`):
//! resolved → DONE, assigned → DOING, otherwise TODO; ignored is a flag.

/// Sentry's issue status, the only one the board keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Unresolved,
    Resolved,
    Ignored,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Unresolved => "unresolved",
            Status::Resolved => "resolved",
            Status::Ignored => "ignored",
        }
    }

    /// Sentry's status strings; `archived`/`muted` are older names for ignored.
    pub fn parse(s: &str) -> Option<Status> {
        match s {
            "unresolved" | "reprocessing" | "pending_merge" => Some(Status::Unresolved),
            "resolved" | "resolved_in_next_release" => Some(Status::Resolved),
            "ignored" | "archived" | "muted" => Some(Status::Ignored),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Assignee {
    /// `user` or `team`.
    pub kind: String,
    pub id: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
}

/// Whether a delivery says who the assignee is. Absent means "unchanged";
/// an explicit null means "nobody".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssigneeChange {
    Keep,
    Set(Option<Assignee>),
}

/// The card fields an issue snapshot carries. Missing fields keep what the
/// card had.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IssueSnapshot {
    pub id: String,
    pub installation_uuid: Option<String>,
    pub short_id: Option<String>,
    /// `None` when the delivery had no usable title: the card keeps its own.
    pub title: Option<String>,
    pub culprit: Option<String>,
    pub permalink: Option<String>,
    pub level: Option<String>,
    /// `None` when the snapshot has no `substatus` key (the card keeps its
    /// own unless the status changes), `Some(None)` when Sentry says none.
    pub substatus: Option<Option<String>>,
    /// `high`/`medium`/`low` (anything else kept as text, capped); `None`
    /// when the snapshot has none: the card keeps its own.
    pub priority: Option<String>,
    pub project_id: Option<String>,
    pub project_slug: Option<String>,
    pub project_name: Option<String>,
    pub platform: Option<String>,
    pub count: Option<String>,
    pub user_count: Option<i32>,
    pub first_seen: Option<String>,
    pub last_seen: Option<String>,
    /// The status the snapshot itself reports, if any.
    pub status: Option<Status>,
}

/// Sentry's issue priorities, highest first.
pub const PRIORITIES: [&str; 3] = ["high", "medium", "low"];

/// Sentry's issue substatuses (`SUBSTATUS_UPDATE_CHOICES` in Sentry's
/// `types/group.py`): the first four are unresolved, the rest ignored.
pub const SUBSTATUSES: [&str; 7] = [
    "new",
    "ongoing",
    "escalating",
    "regressed",
    "archived_until_escalating",
    "archived_until_condition_met",
    "archived_forever",
];

/// Longest priority text kept from a snapshot (Sentry's are a few letters;
/// an unknown one is kept, but cannot grow a card without bound).
pub const MAX_PRIORITY_CHARS: usize = 32;

/// A priority as a card keeps it: trimmed, non-empty, at most
/// `MAX_PRIORITY_CHARS` characters.
pub fn priority_text(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.chars().take(MAX_PRIORITY_CHARS).collect())
}

/// `GET /api/items` filters: each a set of allowed values (`None` = any).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ItemFilter {
    pub org: Option<String>,
    pub substatus: Option<Vec<String>>,
    pub priority: Option<Vec<String>>,
}

impl ItemFilter {
    /// Reads `org`, `substatus` and `priority` from query pairs. A list is
    /// comma-separated and may repeat the key; an empty value means any. An
    /// unknown substatus or priority is refused with the values allowed.
    pub fn parse<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<ItemFilter, crate::error::AppError> {
        let mut f = ItemFilter::default();
        for (k, v) in pairs {
            let (slot, allowed): (&mut Option<Vec<String>>, &[&str]) = match k {
                "org" => {
                    f.org = Some(v.trim()).filter(|o| !o.is_empty()).map(str::to_string);
                    continue;
                }
                "substatus" => (&mut f.substatus, &SUBSTATUSES),
                "priority" => (&mut f.priority, &PRIORITIES),
                _ => continue,
            };
            for value in v.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                if !allowed.contains(&value) {
                    let shown: String = value.chars().take(40).collect();
                    return Err(crate::error::AppError::BadRequest(format!(
                        "unknown {k} {shown:?}: use one or more of {} (comma-separated)",
                        allowed.join(", ")
                    )));
                }
                let list = slot.get_or_insert_with(Vec::new);
                if !list.iter().any(|x| x == value) {
                    list.push(value.to_string());
                }
            }
        }
        Ok(f)
    }
}

/// What to record for an issue after one delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueState {
    pub snapshot: IssueSnapshot,
    pub status: Status,
    pub assignee: AssigneeChange,
    /// `issue.created` is a birth certificate: it inserts a card that does not
    /// exist and fills fields that are empty, and never changes the column,
    /// status or assignee of a card that exists (its body is frozen when the
    /// issue is created, so a retry can arrive long after later changes).
    pub birth: bool,
}

impl IssueState {
    /// A state read from the API (sync, re-read): authoritative.
    pub fn from_api(snapshot: IssueSnapshot, assignee: AssigneeChange) -> IssueState {
        IssueState { status: snapshot.status.unwrap_or(Status::Unresolved), snapshot, assignee, birth: false }
    }

    /// Whether applying this state would change what the card shows
    /// (`card`: its status and assignee key). A birth never changes a card.
    pub fn changes(&self, card: &CardFacts) -> bool {
        if self.birth {
            return false;
        }
        let assignee = match &self.assignee {
            AssigneeChange::Keep => card.assignee.clone(),
            AssigneeChange::Set(a) => a.as_ref().map(Assignee::key),
        };
        card.status != self.status || card.assignee != assignee
    }
}

/// What the worker knows of a card before a delivery is applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardFacts {
    pub status: Status,
    /// `Assignee::key` of the card's assignee, `None` for nobody.
    pub assignee: Option<String>,
}

impl Assignee {
    /// `type:id` (or `type:name` without an id): what identifies an assignee.
    pub fn key(&self) -> String {
        format!("{}:{}", self.kind, self.id.as_deref().or(self.name.as_deref()).unwrap_or(""))
    }
}

/// An `issue` webhook action, as Sentry sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IssueAction {
    Created,
    Assigned(Option<Assignee>),
    Resolved,
    Ignored,
    Unresolved,
}

impl IssueAction {
    /// `archived` is what older installations are sent instead of `ignored`.
    pub fn parse(action: &str, assignee: Option<Assignee>) -> Option<IssueAction> {
        Some(match action {
            "created" => IssueAction::Created,
            "assigned" => IssueAction::Assigned(assignee),
            "resolved" => IssueAction::Resolved,
            "ignored" | "archived" => IssueAction::Ignored,
            "unresolved" => IssueAction::Unresolved,
            _ => return None,
        })
    }
}

/// Applies the kanban rules to one `issue.*` delivery. State comes from the
/// snapshot (`data.issue`, serialised when the webhook was sent), never from
/// the action or the clock; the action only decides when the snapshot has no
/// status. The assignee is `data.issue.assignedTo` when it is an object, else
/// `data.assignee` (frozen when the webhook was queued, so only a fallback),
/// else the card keeps its own. `assignedTo: null` unassigns only on an action
/// other than `assigned`: an assignment that shows nobody is a retry sent
/// after an unassignment, which the sync or a re-read settles.
pub fn issue_state(action: IssueAction, snapshot: IssueSnapshot, assigned_to: AssigneeChange) -> IssueState {
    let assigned = matches!(action, IssueAction::Assigned(_));
    let (implied, named, birth) = match action {
        IssueAction::Created => (Status::Unresolved, None, true),
        IssueAction::Assigned(a) => (Status::Unresolved, a, false),
        IssueAction::Resolved => (Status::Resolved, None, false),
        IssueAction::Ignored => (Status::Ignored, None, false),
        IssueAction::Unresolved => (Status::Unresolved, None, false),
    };
    let assignee = match (assigned_to, named) {
        (AssigneeChange::Set(Some(a)), _) => AssigneeChange::Set(Some(a)),
        (_, Some(a)) => AssigneeChange::Set(Some(a)),
        (AssigneeChange::Set(None), None) if !assigned => AssigneeChange::Set(None),
        _ => AssigneeChange::Keep,
    };
    IssueState { status: snapshot.status.unwrap_or(implied), snapshot, assignee, birth }
}

/// A comment on an issue. It is kept only while the issue has a card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    pub id: String,
    pub issue_id: String,
    pub author: Option<String>,
    pub text: Option<String>,
    /// When Sentry says it was written (canonical); the delivery time if not.
    pub time: String,
}

/// A `comment` webhook action: created and updated both write the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommentAction {
    Write,
    Delete,
}

impl CommentAction {
    pub fn parse(action: &str) -> Option<CommentAction> {
        match action {
            "created" | "updated" => Some(CommentAction::Write),
            "deleted" => Some(CommentAction::Delete),
            _ => None,
        }
    }
}

/// An issue-alert rule fired for an event: one card per (issue, rule),
/// updated in place when the rule fires again.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EventAlert {
    pub issue_id: String,
    /// The rule's label (`triggered_rule`).
    pub rule: String,
    pub installation_uuid: Option<String>,
    pub event_id: Option<String>,
    pub title: Option<String>,
    pub culprit: Option<String>,
    pub level: Option<String>,
    pub permalink: Option<String>,
    /// When the event happened (canonical), the delivery time if unknown.
    pub triggered_at: String,
}

impl EventAlert {
    pub fn card_id(&self) -> String {
        format!("event_alert:{}:{}", self.issue_id, self.rule)
    }
}

/// A metric alert's state, from the webhook action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricStatus {
    Critical,
    Warning,
    Resolved,
}

impl MetricStatus {
    /// `open` exists in Sentry's enum without a documented meaning: it is
    /// shown like a warning.
    pub fn parse(action: &str) -> Option<MetricStatus> {
        match action {
            "critical" => Some(MetricStatus::Critical),
            "warning" | "open" => Some(MetricStatus::Warning),
            "resolved" => Some(MetricStatus::Resolved),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            MetricStatus::Critical => "critical",
            MetricStatus::Warning => "warning",
            MetricStatus::Resolved => "resolved",
        }
    }

    /// The level the card shows; a resolved alert keeps the one it had.
    pub fn level(self) -> Option<&'static str> {
        match self {
            MetricStatus::Critical => Some("fatal"),
            MetricStatus::Warning => Some("warning"),
            MetricStatus::Resolved => None,
        }
    }
}

/// A metric alert (Sentry incident): one card per id, TODO while critical
/// or warning, DONE once resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricAlert {
    pub id: String,
    pub status: MetricStatus,
    pub installation_uuid: Option<String>,
    /// The alert rule's name.
    pub rule: Option<String>,
    pub title: Option<String>,
    pub detail: Option<String>,
    pub permalink: Option<String>,
    pub project: Option<String>,
    /// When the incident started (canonical), the delivery time if unknown.
    pub started_at: String,
}

impl MetricAlert {
    pub fn card_id(&self) -> String {
        format!("metric_alert:{}", self.id)
    }
}

#[cfg(test)]
mod tests {
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
}
