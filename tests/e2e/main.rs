//! End to end: the real worker under `wrangler dev` (fresh state, migrations
//! applied, its API bases pointed at the in-process mock in `mock.rs`),
//! driven over HTTP on 127.0.0.1 and asserted through its JSON API, its
//! local D1 files and the calls the mock received.
//!
//! Each module is a scenario group: the workers it declares
//! (`scenario::Scenario`) are shared by its tests, started when first asked
//! for and stopped once the run has moved past the module; a test that
//! needs a worker of its own starts one (`app::spawn_app`), stopped when
//! the handle drops. Modules run in parallel threads as any tests do (each
//! worker has its own port, state directory and mock).

mod app;
mod github;
mod issues;
mod mock;
mod scenario;
#[path = "../support/mod.rs"]
mod support;

mod board;
mod cron_sync;
mod delivery;
mod error_log;
mod faults;
mod github_reconcile;
mod github_teams;
mod history;
mod hostile;
mod lanes;
mod load;
mod replay;
mod restart;
mod sentry_app;
mod sentry_webhooks;
mod webhook_health;
