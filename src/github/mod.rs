//! GitHub organization webhooks mirrored into Sentry teams: the delivery
//! (verify → parse → decide), the sync jobs' steps and Sentry calls, and
//! how a GitHub login becomes a Sentry organization member.

pub mod hook;
pub mod sync;
pub mod users;
mod wire;
