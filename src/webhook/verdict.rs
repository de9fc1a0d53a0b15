//! What was done with a delivery, as a type: the delivery log, its page and
//! API, and the replies carry it as the same lower-case words as before.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Written (cards, comments, alerts, installations).
    Applied,
    /// `issue.created` for a card that exists: only empty fields filled.
    Filled,
    /// These bytes were seen before: nothing written but a re-read.
    Repeat,
    /// The same delivery again (Request-ID and body, or GitHub's claim).
    Duplicate,
    /// A resource or action the worker does not handle.
    Skipped,
    /// Verified, but its content cannot be used (2xx, reason recorded).
    Unusable,
    /// Handed to the queue (error events, GitHub sync events).
    Queued,
    /// GitHub's ping.
    Pong,
    /// A GitHub event or action the sync does not use.
    Ignored,
    /// A GitHub sync event that asks for nothing.
    Noop,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Applied => "applied",
            Outcome::Filled => "filled",
            Outcome::Repeat => "repeat",
            Outcome::Duplicate => "duplicate",
            Outcome::Skipped => "skipped",
            Outcome::Unusable => "unusable",
            Outcome::Queued => "queued",
            Outcome::Pong => "pong",
            Outcome::Ignored => "ignored",
            Outcome::Noop => "noop",
        }
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for Outcome {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<Outcome> for &str {
    fn eq(&self, other: &Outcome) -> bool {
        *self == other.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::Outcome;

    #[test]
    fn each_outcome_serialises_to_the_word_the_log_stores() {
        for o in [
            Outcome::Applied,
            Outcome::Filled,
            Outcome::Repeat,
            Outcome::Duplicate,
            Outcome::Skipped,
            Outcome::Unusable,
            Outcome::Queued,
            Outcome::Pong,
            Outcome::Ignored,
            Outcome::Noop,
        ] {
            assert_eq!(serde_json::to_value(o).unwrap(), serde_json::json!(o.as_str()));
        }
    }
}
