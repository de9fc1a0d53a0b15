//! SQL for issue cards written from a snapshot (a webhook, a sync page, a
//! re-read): the order-guarded upsert and the birth certificate.

use super::history;
use crate::board::{Assignee, AssigneeChange, IssueState};
use crate::sql::{SqlValue, Stmt};

/// The insert both card writes share: one parameter list, bound by
/// `upsert_card_by` for either.
macro_rules! insert_card {
    ($on_conflict:literal) => {
        concat!(
            "INSERT INTO cards (id, installation_uuid, short_id, title, culprit, permalink, level, status, substatus,
    project_id, project_slug, project_name, platform, event_count, user_count, first_seen, last_seen,
    assignee_type, assignee_id, assignee_name, assignee_email, applied_at, created_at, updated_at, priority)
VALUES (?1, ?2, ?3, COALESCE(?4, ?3, 'Issue ' || ?1), ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
    ?18, ?19, ?20, ?21, ?22, ?23, ?23, ?25)
",
            $on_conflict
        )
    };
}

/// Inserts or updates one card from a snapshot. `applied_at` is when the
/// worker learned the state (a webhook's arrival, an API read's start), so
/// a sync page read before a webhook arrived does not undo it. Replaying the
/// same state yields the same row. Fields a board change is still pushing
/// to Sentry keep the board's value until the push is done (the substatus
/// goes with the status). A snapshot without a substatus (`?26` false)
/// keeps the card's while the status stays, and clears it when the status
/// changes (a substatus belongs to one status); without a priority it
/// keeps the card's.
const UPSERT_CARD: &str = insert_card!("\
ON CONFLICT (id) DO UPDATE SET
    installation_uuid = COALESCE(excluded.installation_uuid, cards.installation_uuid),
    short_id = COALESCE(excluded.short_id, cards.short_id),
    title = COALESCE(?4, cards.title),
    culprit = COALESCE(excluded.culprit, cards.culprit),
    permalink = COALESCE(excluded.permalink, cards.permalink),
    level = COALESCE(excluded.level, cards.level),
    status = CASE WHEN cards.writeback_status = 1 AND cards.writeback_state IN ('pending', 'retrying')
        THEN cards.status ELSE excluded.status END,
    substatus = CASE WHEN cards.writeback_status = 1 AND cards.writeback_state IN ('pending', 'retrying')
            THEN cards.substatus
        WHEN ?26 THEN excluded.substatus
        WHEN excluded.status = cards.status THEN cards.substatus
        ELSE NULL END,
    priority = COALESCE(excluded.priority, cards.priority),
    project_id = COALESCE(excluded.project_id, cards.project_id),
    project_slug = COALESCE(excluded.project_slug, cards.project_slug),
    project_name = COALESCE(excluded.project_name, cards.project_name),
    platform = COALESCE(excluded.platform, cards.platform),
    event_count = COALESCE(excluded.event_count, cards.event_count),
    user_count = COALESCE(excluded.user_count, cards.user_count),
    first_seen = COALESCE(excluded.first_seen, cards.first_seen),
    last_seen = COALESCE(excluded.last_seen, cards.last_seen),
    assignee_type = CASE WHEN ?24 AND NOT (cards.writeback_assignee = 1 AND cards.writeback_state IN ('pending', 'retrying')) THEN excluded.assignee_type ELSE cards.assignee_type END,
    assignee_id = CASE WHEN ?24 AND NOT (cards.writeback_assignee = 1 AND cards.writeback_state IN ('pending', 'retrying')) THEN excluded.assignee_id ELSE cards.assignee_id END,
    assignee_name = CASE WHEN ?24 AND NOT (cards.writeback_assignee = 1 AND cards.writeback_state IN ('pending', 'retrying')) THEN excluded.assignee_name ELSE cards.assignee_name END,
    assignee_email = CASE WHEN ?24 AND NOT (cards.writeback_assignee = 1 AND cards.writeback_state IN ('pending', 'retrying')) THEN excluded.assignee_email ELSE cards.assignee_email END,
    applied_at = excluded.applied_at,
    -- moved by the cards_updated_at trigger when a shown field changed
    updated_at = cards.updated_at,
    -- who, for the card_history triggers (migrations/0015)
    last_source = ?27, last_action = ?28, last_actor = ?29, last_at = ?23
WHERE excluded.applied_at >= cards.applied_at");

/// `issue.created` is a birth certificate: it inserts the card if there is
/// none, and otherwise only fills fields that are still empty. It never
/// touches the status, the assignee or `applied_at` of a card that exists
/// (same parameters as `UPSERT_CARD`; `?24` and `?26`, the assignee and
/// substatus flags, are only referenced so that both bind the same list).
const BIRTH_CARD: &str = insert_card!(
    "\
ON CONFLICT (id) DO UPDATE SET
    installation_uuid = COALESCE(cards.installation_uuid, excluded.installation_uuid),
    short_id = COALESCE(cards.short_id, excluded.short_id),
    title = CASE WHEN cards.title = 'Issue ' || cards.id THEN COALESCE(?4, cards.title) ELSE cards.title END,
    culprit = COALESCE(cards.culprit, excluded.culprit),
    permalink = COALESCE(cards.permalink, excluded.permalink),
    level = COALESCE(cards.level, excluded.level),
    substatus = COALESCE(cards.substatus, excluded.substatus),
    priority = COALESCE(cards.priority, excluded.priority),
    project_id = COALESCE(cards.project_id, excluded.project_id),
    project_slug = COALESCE(cards.project_slug, excluded.project_slug),
    project_name = COALESCE(cards.project_name, excluded.project_name),
    platform = COALESCE(cards.platform, excluded.platform),
    event_count = COALESCE(cards.event_count, excluded.event_count),
    user_count = COALESCE(cards.user_count, excluded.user_count),
    first_seen = COALESCE(cards.first_seen, excluded.first_seen),
    last_seen = COALESCE(cards.last_seen, excluded.last_seen),
    last_source = ?27, last_action = ?28, last_actor = ?29, last_at = ?23
WHERE ?24 = ?24 AND ?26 = ?26"
);

/// `BIRTH_CARD` where the batch has proven there is no card yet (the fast
/// path's check, `store::gate::guess_check`): the insert alone, with the
/// same first 25 parameters. D1 prepares every statement of every batch
/// anew, and SQLite compiles an upsert's update half together with every
/// update trigger of `cards` (the history, `updated_at`): about eight times
/// the insert's cost, for a half that cannot run without a card.
const NEW_CARD: &str = insert_card!("ON CONFLICT (id) DO NOTHING");

/// `stmt` as it runs once the batch has proven the issue has no card:
/// a birth is `NEW_CARD`; anything else is left as it is.
pub fn without_card(stmt: Stmt) -> Stmt {
    if stmt.sql != BIRTH_CARD {
        return stmt;
    }
    let mut params = stmt.params;
    params.truncate(25);
    Stmt { sql: NEW_CARD, params }
}

/// The statement that records `state` for an issue, applied at `applied_at`.
/// `applied_at` is when the state was learned (see `UPSERT_CARD`); a birth
/// (`issue.created`) uses `BIRTH_CARD`. Its changes go into the card's
/// history without a source (see `upsert_card_by`).
pub fn upsert_card(state: &IssueState, applied_at: &str, now: &str) -> Stmt {
    upsert_card_by(state, &history::Origin::default(), applied_at, now)
}

/// `upsert_card`, naming who made the change for the card's history
/// (`?27`–`?29`, read by migrations/0015's triggers).
pub fn upsert_card_by(state: &IssueState, origin: &history::Origin, applied_at: &str, now: &str) -> Stmt {
    let s = &state.snapshot;
    let (assignee_known, a) = match &state.assignee {
        AssigneeChange::Keep => (false, None),
        AssigneeChange::Set(a) => (true, a.as_ref()),
    };
    let field = |f: fn(&Assignee) -> Option<String>| SqlValue::from(a.and_then(f));
    Stmt {
        sql: if state.birth { BIRTH_CARD } else { UPSERT_CARD },
        params: vec![
            s.id.clone().into(),
            s.installation_uuid.clone().into(),
            s.short_id.clone().into(),
            s.title.clone().into(),
            s.culprit.clone().into(),
            s.permalink.clone().into(),
            s.level.clone().into(),
            state.status.as_str().into(),
            s.substatus.clone().flatten().into(),
            s.project_id.clone().into(),
            s.project_slug.clone().into(),
            s.project_name.clone().into(),
            s.platform.clone().into(),
            s.count.clone().into(),
            s.user_count.map_or(SqlValue::Null, SqlValue::Int),
            s.first_seen.clone().into(),
            s.last_seen.clone().into(),
            field(|a| Some(a.kind.clone())),
            field(|a| a.id.clone()),
            field(|a| a.name.clone()),
            field(|a| a.email.clone()),
            applied_at.into(),
            now.into(),
            assignee_known.into(),
            s.priority.clone().into(),
            s.substatus.is_some().into(),
        ]
        .into_iter()
        .chain(origin.params())
        .collect(),
    }
}
