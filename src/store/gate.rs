//! The guards a webhook batch carries inside it, so what the ack decides
//! from the database is decided inside its one batch, not by a read before
//! it: the facts a batch writes first and reads in its later statements
//! (migrations/0020_webhook_facts.sql), and the check that aborts a batch
//! planned on a wrong guess (migrations/0021_prior_guess.sql). The
//! statements that write a fact live with their concern (e.g.
//! `github::CLAIMABLE`).

use crate::board::{Assignee, AssigneeChange, IssueState};
use crate::prior::{Known, Lookup};
use crate::sql::Stmt;

const CLEAR: &str = "DELETE FROM webhook_facts WHERE key = ?1";

/// The batch's last statement: its facts are gone when it commits.
pub fn clear(key: &str) -> Stmt {
    Stmt { sql: CLEAR, params: vec![key.into()] }
}

/// Inserts a row, which the table's CHECK refuses, exactly when D1's facts
/// differ from the guess: the refusal aborts the whole batch (one D1 batch
/// is one transaction), so nothing planned on the wrong guess is written.
/// The facts are those of `deliveries::LOOKUP` and `Prior::known`, in SQL:
/// a card's assignee key is `type:id` (`type:name` without an id).
/// `?7` NULL: the token does not matter; `?8` 0: the card does not matter.
const GUESS_CHECK: &str = "\
INSERT INTO prior_guess (missed)
SELECT 1 FROM (
    SELECT
        EXISTS (SELECT 1 FROM deliveries WHERE request_id = ?1 AND body_sha256 = ?2 AND source = 'sentry'
            AND status < 300) AS exact_replay,
        EXISTS (SELECT 1 FROM deliveries WHERE body_sha256 = ?2 AND source = 'sentry'
            AND COALESCE(resource, '') = ?3 AND status < 300) AS body_seen,
        (?6 OR EXISTS (SELECT 1 FROM installation_tokens WHERE installation_uuid = ?5)) AS has_token,
        c.status AS card_status,
        CASE WHEN c.assignee_id IS NULL AND c.assignee_name IS NULL THEN NULL
            ELSE COALESCE(c.assignee_type, 'user') || ':' || COALESCE(c.assignee_id, c.assignee_name) END AS assignee
    FROM (SELECT 1) AS one LEFT JOIN cards AS c ON c.id = ?4
) AS f
WHERE f.exact_replay != ?9 OR f.body_seen != ?10
    OR (?7 IS NOT NULL AND f.has_token != ?7)
    OR (?8 AND (f.card_status IS NOT NULL) != ?11)
    OR (?8 AND (NOT ?12 AND f.card_status IS NOT NULL
        AND (f.card_status IS NOT ?13 OR (NOT ?14 AND f.assignee IS NOT ?15))) != ?16)";

/// The message of the refusal `GUESS_CHECK` provokes (the constraint's
/// name), which tests look for; the shell falls back on any refused batch.
pub const GUESS_MISSED: &str = "prior_guessed_wrong";

/// The batch's first statement on the fast path: the guess of what D1 knows
/// of the delivery (`Known`) is checked before anything planned on it runs.
/// `state`: the issue snapshot, for a guess about its card.
pub fn guess_check(
    lookup: &Lookup,
    internal: bool,
    state: Option<&IssueState>,
    guess: &Known,
    token_matters: bool,
) -> Stmt {
    let (keep, assignee) = match state.map(|s| &s.assignee) {
        Some(AssigneeChange::Set(a)) => (false, a.as_ref().map(Assignee::key)),
        _ => (true, None),
    };
    let params = vec![
        lookup.request_id.clone().into(),
        lookup.body_sha256.as_str().into(),
        lookup.resource.as_str().into(),
        lookup.issue_id.clone().into(),
        lookup.installation.clone().into(),
        internal.into(),
        if token_matters { guess.has_token.into() } else { crate::sql::SqlValue::Null },
        state.is_some().into(),
        guess.exact_replay.into(),
        guess.body_seen.into(),
        guess.card.into(),
        state.is_some_and(|s| s.birth).into(),
        state.map(|s| s.status.as_str().to_string()).into(),
        keep.into(),
        assignee.into(),
        guess.changes.into(),
    ];
    Stmt { sql: GUESS_CHECK, params }
}
