//! Sentry integration-platform webhooks.

pub mod hook;
pub mod wire;
