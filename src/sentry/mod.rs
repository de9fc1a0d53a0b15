//! Sentry integration-platform webhooks.

pub mod alerts;
pub mod comments;
pub mod hook;
pub mod wire;
