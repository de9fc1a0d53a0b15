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
#[path = "board_tests.rs"]
mod tests;
