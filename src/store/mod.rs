//! All SQL the worker runs, beside the schema in migrations/, a file per
//! concern (the most used are re-exported here). Writes are
//! built as `Stmt`s (run by the shell on D1, and by the tests on rusqlite);
//! reads are SQL text plus a pure mapping from result rows to API values.

pub use alerts::{event_alert, metric_alert};
pub use board::{board_json, comments_json, item_from_row, list_items_params, LAST_SYNCED, LIST_COMMENTS, LIST_ITEMS};
pub use cards::{upsert_card, upsert_card_by};
pub use comments::{comment, LIST_CARD_COMMENTS};
pub use deliveries::{delivery_failed, record_delivery, DELIVERY_LOG_ROWS, LIST_DELIVERIES};

pub mod alerts;
pub mod auth;
pub mod board;
pub mod cards;
pub mod comments;
pub mod deliveries;
pub mod errors;
pub mod gate;
pub mod github;
#[macro_use]
pub mod health;
pub mod history;
pub mod installations;
pub mod reconcile;
pub mod rereads;
pub mod retention;
pub mod sync;
pub mod writeback;
