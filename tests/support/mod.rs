//! Shared helpers for the integration tests (`mod support;`). Each file can
//! also be included on its own with `#[path = "support/<file>.rs"]`.
#![allow(dead_code)]

pub mod arbitrary;
pub mod db;
pub mod hook;
pub mod reread;
pub mod sender;
pub mod sentry;
