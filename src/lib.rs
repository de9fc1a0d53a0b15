//! sentry-kanban: Sentry and GitHub webhooks into a kanban board on D1.
//!
//! The modules below `shell` are plain Rust and tested natively; `shell` is
//! the wasm-only layer that talks to D1, Queues, Fetch and Env.

pub mod auth;
pub mod board;
pub mod body;
pub mod config;
pub mod error;
pub mod etag;
pub mod github;
pub mod health;
pub mod jobs;
pub mod log;
pub mod loopback;
pub mod outbound;
pub mod percent;
pub mod plan;
pub mod prior;
pub mod request_url;
pub mod routes;
pub mod schedule;
pub mod sentry;
pub mod settle;
pub mod sql;
pub mod store;
pub mod time;
pub mod verify;
pub mod webhook;
pub mod writeback;

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
        shell::secure(respond(req, env).await)
    }

    async fn respond(req: Request, env: Env) -> Result<Response> {
        let route = match route(req.method().as_ref(), &req.path()) {
            Ok(route) => route,
            Err(e) => return shell::error_response(&e),
        };
        let viewer = match shell::gate(&req, &env, route.gate()).await {
            Ok(viewer) => viewer,
            Err(e) => return shell::refused(&route, &req, &env, &e),
        };
        match route {
            Route::SentryWebhook => shell::sentry_webhook(req, &env).await,
            Route::SentrySetup => shell::sentry_setup(req, &env).await,
            Route::SentryOptions(kind) => shell::sentry_options(req, &env, kind).await,
            Route::SentryIssueLink(action) => shell::sentry_issue_link(req, &env, action).await,
            Route::SentryAlertRuleAction => shell::sentry_alert_rule_action(req, &env).await,
            Route::GithubWebhook => shell::github_webhook(req, &env).await,
            Route::GithubSync => shell::github_sync(&env).await,
            Route::GithubUsers => shell::github_users(&env).await,
            Route::GithubUser(login) => shell::github_user(req, &env, &login).await,
            Route::GithubTeamLink(team) => shell::github_team_link(req, &env, &team).await,
            Route::CronSentrySync => shell::trigger_sync(req, &env).await,
            Route::CronRetention => shell::trigger_retention(req, &env).await,
            Route::CronGithubReconcile => shell::trigger_github_reconcile(req, &env).await,
            Route::SyncStatus => shell::sync_status(&env).await,
            Route::Items => shell::items(&req, &env).await,
            Route::WebhookHealth => shell::webhook_health(&env).await,
            Route::ItemAction(id) => shell::item_action(req, &env, &id, viewer.as_deref()).await,
            Route::ItemAssignees(id) => shell::item_assignees(&env, &id).await,
            Route::ItemComments(id) => shell::item_comments(&req, &env, &id).await,
            Route::ItemHistory(id) => shell::item_history(&req, &env, &id).await,
            Route::Deliveries => shell::deliveries(&env).await,
            Route::DeliveryBody(id) => shell::delivery_body(&env, id).await,
            Route::DeliveryReplay(id) => shell::delivery_replay(&env, id).await,
            Route::Installations => shell::installations(&env).await,
            Route::Jobs => shell::jobs(&env).await,
            Route::Errors => shell::errors(&req, &env).await,
            Route::ErrorGroup(id) => shell::error_group(&id, &env).await,
            Route::ErrorStats => shell::error_stats(&env).await,
            Route::Health => shell::health(),
            Route::Session => shell::session_info(&req, &env).await,
            Route::ApiLogin => shell::login(req, &env).await,
            Route::ApiLogout => shell::logout(&req, &env).await,
            Route::Page | Route::Login => shell::page(req, &env).await,
            Route::Asset => shell::asset(req, &env).await,
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
