//! What the worker knew before it decided a Sentry delivery: the core asks
//! (`Lookup`), the store answers in one read (`store::deliveries::LOOKUP`),
//! and the core decides from the answer (`Prior`).

use crate::board::{CardFacts, IssueState};

/// What to look up for one verified delivery.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Lookup {
    /// `Request-ID`: with the body hash, the key of an exact replay.
    pub request_id: Option<String>,
    pub body_sha256: String,
    /// The resource, lower-case (`issue`, `comment`, …).
    pub resource: String,
    /// The issue the delivery is about, if any.
    pub issue_id: Option<String>,
    pub installation: Option<String>,
}

/// What D1 said.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Prior {
    /// The same Request-ID with the same body was accepted: a no-op.
    pub exact_replay: bool,
    /// These bytes were accepted under another Request-ID: a retry of a
    /// frozen body, a repeated action, or someone replaying a capture.
    pub body_seen: bool,
    /// The card as it stands, if the issue has one.
    pub card: Option<CardFacts>,
    /// A token (the internal integration's or the installation's) can
    /// re-read the issue from the API.
    pub has_token: bool,
}

/// What a decision depends on: a `Prior` reduced to the facts the core
/// reads, or the fast path's guess of them (`sentry::decide::guessed`), which
/// the batch checks in SQL (`store::gate::guess_check`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Known {
    pub exact_replay: bool,
    pub body_seen: bool,
    pub has_token: bool,
    /// The issue has a card.
    pub card: bool,
    /// The delivery would change the card (`IssueState::changes`).
    pub changes: bool,
}

impl Prior {
    /// The facts for a delivery; `state` is the issue snapshot, if it is one.
    pub fn known(&self, state: Option<&IssueState>) -> Known {
        Known {
            exact_replay: self.exact_replay,
            body_seen: self.body_seen,
            has_token: self.has_token,
            card: self.card.is_some(),
            changes: match (state, &self.card) {
                (Some(state), Some(card)) => state.changes(card),
                _ => false,
            },
        }
    }
}
