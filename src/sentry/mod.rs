//! Sentry integration-platform webhooks.

pub mod alerts;
pub mod comments;
pub mod decide;
pub mod errors;
pub mod hook;
pub mod installation;
pub mod members;
pub mod reread;
pub mod setup;
pub mod sync;
pub mod sync_run;
pub mod token;
pub mod ui;
pub mod wire;

#[cfg(test)]
mod tests;
