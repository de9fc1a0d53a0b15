//! sentry-kanban: Sentry and GitHub webhooks into a kanban board on D1.
//!
//! The modules below `shell` are plain Rust and tested natively; `shell` is
//! the wasm-only layer that talks to D1, Queues, Fetch and Env.

pub mod board;
pub mod config;
pub mod error;
pub mod github;
pub mod jobs;
pub mod log;
pub mod outbound;
pub mod plan;
pub mod routes;
pub mod sentry;
pub mod store;
pub mod time;
pub mod verify;

#[cfg(target_arch = "wasm32")]
mod shell;

#[cfg(target_arch = "wasm32")]
mod entry {
    use crate::routes::{route, Route};
    use crate::shell;
    use worker::*;

    #[event(start)]
    fn start() {
        shell::install_panic_hook();
    }

    #[event(fetch)]
    async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
        let path = req.path();
        match route(req.method().as_ref(), &path) {
            Ok(Route::SentryWebhook) => shell::sentry_webhook(req, &env).await,
            Ok(Route::SentrySetup) => shell::sentry_setup(req, &env).await,
            Ok(Route::SentryOptions(kind)) => shell::sentry_options(req, &env, kind).await,
            Ok(Route::SentryIssueLink(action)) => shell::sentry_issue_link(req, &env, action).await,
            Ok(Route::SentryAlertRuleAction) => shell::sentry_alert_rule_action(req, &env).await,
            Ok(Route::GithubWebhook) => shell::github_webhook(req, &env).await,
            Ok(Route::GithubSync) => shell::github_sync(&env).await,
            Ok(Route::GithubUsers) => shell::github_users(&env).await,
            Ok(Route::GithubUser) => shell::github_user(req, &env, &path).await,
            Ok(Route::CronSentrySync) => shell::trigger_sync(req, &env).await,
            Ok(Route::CronRetention) => shell::trigger_retention(req, &env).await,
            Ok(Route::SyncStatus) => shell::sync_status(&env).await,
            Ok(Route::Items) => shell::items(&req, &env).await,
            Ok(Route::Deliveries) => shell::deliveries(&env).await,
            Ok(Route::Installations) => shell::installations(&env).await,
            Ok(Route::Jobs) => shell::jobs(&env).await,
            Ok(Route::Errors) => shell::errors(&req, &env).await,
            Ok(Route::ErrorGroup) => shell::error_group(&path, &env).await,
            Ok(Route::ErrorStats) => shell::error_stats(&env).await,
            Ok(Route::Health) => shell::health(),
            Ok(Route::Asset) => shell::asset(req, &env).await,
            Err(e) => shell::error_response(&e),
        }
    }

    #[event(queue)]
    async fn queue(batch: MessageBatch<serde_json::Value>, env: Env, _ctx: Context) -> Result<()> {
        shell::queue(batch, &env).await;
        Ok(())
    }

    #[event(scheduled)]
    async fn scheduled(event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
        shell::scheduled(&event.cron(), &env).await;
    }
}
