//! A card's history (schema and triggers: migrations/0015_card_history.sql).
//!
//! The rows are written by a trigger on `cards`, in the statement that
//! changes the card; the writers only say who they are (`Origin`), through
//! the card's `last_*` columns, bound as the last parameters of the card
//! upsert and of the board change.

use crate::sql::SqlValue;
use crate::writeback::Change;
use serde_json::{json, Map, Value};

/// Who changed a card, and how.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Origin {
    /// `sentry` (webhook), `sync`, `reread` or `board`; `None`: not said.
    pub source: Option<&'static str>,
    /// The webhook action (`resolved`, …), `sync`, `reread`, or the
    /// board's verb (`resolve`, `assign`, …).
    pub action: Option<String>,
    /// The webhook's `actor.name`, or the board's user.
    pub actor: Option<String>,
}

/// The longest actor or action kept (they come from the network).
const MAX_TEXT: usize = 200;

fn capped(s: Option<&str>) -> Option<String> {
    s.map(str::trim).filter(|s| !s.is_empty()).map(|s| s.chars().take(MAX_TEXT).collect())
}

impl Origin {
    /// A webhook delivery: its action and its `actor.name`.
    pub fn sentry(action: &str, actor: Option<&str>) -> Origin {
        Origin { source: Some("sentry"), action: capped(Some(action)), actor: capped(actor) }
    }

    pub fn sync() -> Origin {
        Origin { source: Some("sync"), action: Some("sync".into()), actor: None }
    }

    pub fn reread() -> Origin {
        Origin { source: Some("reread"), action: Some("reread".into()), actor: None }
    }

    /// A board change (`verb` from `writeback::Change::verb`) by `user`, if
    /// the board knows one.
    pub fn board(verb: &str, user: Option<&str>) -> Origin {
        Origin { source: Some("board"), action: capped(Some(verb)), actor: capped(user) }
    }

    /// The parameters the card statements bind for `last_source`,
    /// `last_action`, `last_actor` (in that order).
    pub fn params(&self) -> [SqlValue; 3] {
        [self.source.map(str::to_string).into(), self.action.clone().into(), self.actor.clone().into()]
    }
}

/// What a board change did, as a verb: `resolve`, `unresolve`, `ignore`,
/// `assign`, `unassign`, or two joined by `+` (`unresolve+assign`).
pub fn board_verb(change: &Change) -> String {
    let status = change.status.map(|s| match s {
        crate::board::Status::Resolved => "resolve",
        crate::board::Status::Unresolved => "unresolve",
        crate::board::Status::Ignored => "ignore",
    });
    let assignee = change.assignee.as_ref().map(|a| if a.is_some() { "assign" } else { "unassign" });
    let verbs: Vec<&str> = status.into_iter().chain(assignee).collect();
    if verbs.is_empty() {
        "change".into()
    } else {
        verbs.join("+")
    }
}

/// One card's history (`?1` card id), newest last; the triggers keep at
/// most `KEPT` entries per card.
pub const CARD_HISTORY: &str = "\
SELECT at, source, action, field, from_value, to_value, actor FROM card_history
WHERE card_id = ?1 ORDER BY seq LIMIT 200";

/// How many entries a card keeps (migrations/0015's `card_history_bound`).
pub const KEPT: usize = 100;

/// `GET /api/items/{id}/history`:
/// `{"history":[{"at","source","action","field","from","to","actor"}]}`.
pub fn history_json(rows: &[Map<String, Value>]) -> Value {
    let entries: Vec<Value> = rows
        .iter()
        .map(|row| {
            let field = |k: &str| row.get(k).cloned().unwrap_or(Value::Null);
            json!({
                "at": field("at"),
                "source": field("source"),
                "action": field("action"),
                "field": field("field"),
                "from": field("from_value"),
                "to": field("to_value"),
                "actor": field("actor"),
            })
        })
        .collect();
    json!({ "history": entries })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_keep_short_clean_text() {
        let long = "x".repeat(500);
        let o = Origin::sentry(" resolved ", Some(&long));
        assert_eq!(o.source, Some("sentry"));
        assert_eq!(o.action.as_deref(), Some("resolved"));
        assert_eq!(o.actor.map(|a| a.chars().count()), Some(MAX_TEXT));
        assert_eq!(Origin::board("assign", Some("  ")).actor, None);
        assert_eq!(Origin::default().params(), [SqlValue::Null, SqlValue::Null, SqlValue::Null]);
        assert_eq!(Origin::sync().params()[0], SqlValue::Text("sync".into()));
    }

    #[test]
    fn board_changes_are_named_by_what_they_do() {
        let c = |body: &str| board_verb(&crate::writeback::parse_change(body.as_bytes()).expect("a change"));
        assert_eq!(c(r#"{"status":"resolved"}"#), "resolve");
        assert_eq!(c(r#"{"status":"ignored"}"#), "ignore");
        assert_eq!(c(r#"{"assignee":null}"#), "unassign");
        assert_eq!(c(r#"{"status":"unresolved","assignee":{"type":"user","id":"1"}}"#), "unresolve+assign");
    }

    #[test]
    fn rows_become_entries_in_their_order() {
        let row = |at: &str, to: &str| {
            let v = json!({"at": at, "source": "board", "action": "resolve", "field": "column",
                "from_value": "TODO", "to_value": to, "actor": null});
            v.as_object().cloned().unwrap_or_default()
        };
        let body = history_json(&[row("t1", "DONE"), row("t2", "TODO")]);
        assert_eq!(body["history"][0]["to"], "DONE");
        assert_eq!(body["history"][1]["from"], "TODO");
        assert_eq!(body["history"][1]["actor"], Value::Null);
        assert_eq!(history_json(&[]), json!({"history": []}));
    }
}
