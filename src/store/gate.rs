//! The facts a webhook batch writes first and reads in its later
//! statements (schema: migrations/0020_webhook_facts.sql), so what the ack
//! decides from the database is decided inside its one batch, not by a read
//! before it. The statements that write a fact live with their concern
//! (e.g. `github::CLAIMABLE`); this file ends a batch's facts.

use crate::sql::Stmt;

const CLEAR: &str = "DELETE FROM webhook_facts WHERE key = ?1";

/// The batch's last statement: its facts are gone when it commits.
pub fn clear(key: &str) -> Stmt {
    Stmt { sql: CLEAR, params: vec![key.into()] }
}
