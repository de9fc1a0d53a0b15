//! The store layer on rusqlite: the real migrations, and the SQL the worker
//! plans run the way D1 runs a batch (one transaction), read back with the
//! worker's own queries and row mapping. Deliveries reach the SQL through
//! the real core (`support::hook`), as the shell drives it. One module per
//! concern.

#[path = "../support/mod.rs"]
mod support;

mod board;
mod comments_alerts;
mod delivery_bodies;
mod delivery_semantics;
mod error_log;
mod github;
mod github_reconcile;
mod history;
mod installations;
mod lanes;
mod login_state;
mod real_payloads;
mod rereads;
mod sync_and_retention;
mod webhook_driver;
mod webhook_health;
mod writeback;
