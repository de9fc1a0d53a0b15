//! GitHub organization webhooks mirrored into Sentry teams: the delivery
//! (verify → parse → decide), the sync jobs' steps and Sentry calls, how a
//! GitHub login becomes a Sentry organization member, and the reconcile
//! that corrects what lost webhooks left wrong.

pub mod fixes;
pub mod hook;
pub mod job_run;
pub mod listing;
pub mod lost;
pub mod member_run;
pub mod progress;
pub mod reconcile;
pub mod sync;
pub mod target;
pub mod users;
mod wire;

#[cfg(test)]
mod job_run_tests;
