//! Which handler a request goes to. Pure, so the path rules are tested natively.

use crate::sentry::ui::{LinkAction, Options};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    SentryWebhook,
    /// Sentry's redirect URL after an install.
    SentrySetup,
    /// UI components, signed with `Sentry-App-Signature`.
    SentryOptions(Options),
    SentryIssueLink(LinkAction),
    SentryAlertRuleAction,
    /// GitHub organization webhooks (teams and memberships).
    GithubWebhook,
    /// The team sync's status: recent events, unmapped logins, the team map.
    GithubSync,
    /// The login → Sentry member mapping table; `GithubUser` edits one row.
    GithubUsers,
    GithubUser,
    /// `PUT /api/github/teams/{github_team_id}/link` (bearer `ADMIN_TOKEN`):
    /// link the pre-existing Sentry team a GitHub team ran into (409).
    GithubTeamLink,
    /// Manual triggers of the cron sync, of retention and of the GitHub
    /// reconcile (bearer `CRON_SECRET`).
    CronSentrySync,
    CronRetention,
    CronGithubReconcile,
    /// The cron sync's recent runs.
    SyncStatus,
    Items,
    /// `GET /api/webhook-health`: the newest verified delivery per source,
    /// the Sentry silence alarm, the newest sync's drift.
    WebhookHealth,
    Deliveries,
    /// `GET /api/deliveries/{id}/body`: the exact bytes of a kept delivery.
    DeliveryBody,
    /// `POST /api/deliveries/{id}/replay`: run a kept delivery again.
    DeliveryReplay,
    Installations,
    Jobs,
    /// The error log: groups, a group (`/api/errors/{issue_id}`), totals.
    Errors,
    ErrorGroup,
    ErrorStats,
    Health,
    /// The board's HTML pages (`/`, the error log, the delivery log): gated.
    Page,
    /// The login page, and the login and logout forms' targets.
    Login,
    ApiLogin,
    ApiLogout,
    /// How the viewer is authenticated (never gated: the pages ask it first).
    Session,
    /// `POST /api/items/{id}/actions`: a board change, written back to Sentry.
    ItemAction,
    /// `GET /api/items/{id}/assignees`: who the card can be assigned to.
    ItemAssignees,
    /// `GET /api/items/{id}/comments`: a card's comments, loaded when shown.
    ItemComments,
    /// `GET /api/items/{id}/history`: a card's changes, loaded when shown.
    ItemHistory,
    /// Anything else: served from `public/` by the assets binding.
    Asset,
}

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// Webhooks and UI components (signed), bearer-protected machine
    /// endpoints, the login itself, health, static assets.
    Public,
    /// A signed-in viewer.
    Viewer,
    /// A signed-in viewer, from the board's own origin.
    ViewerWrite,
}

impl Route {
    pub fn gate(self) -> Gate {
        match self {
            Route::Page
            | Route::Items
            | Route::WebhookHealth
            | Route::ItemAssignees
            | Route::ItemComments
            | Route::ItemHistory
            | Route::Deliveries
            | Route::DeliveryBody
            | Route::Installations
            | Route::Jobs
            | Route::Errors
            | Route::ErrorGroup
            | Route::ErrorStats
            | Route::GithubSync
            | Route::GithubUsers
            | Route::SyncStatus => Gate::Viewer,
            Route::ItemAction | Route::DeliveryReplay => Gate::ViewerWrite,
            _ => Gate::Public,
        }
    }
}

/// The Content-Security-Policy of every HTML answer: the pages in public/,
/// the setup page, and the notices (503, 429). Scripts and styles only from
/// this origin, never framed, forms only posted here.
pub const CSP: &str = "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; \
frame-ancestors 'none'; form-action 'self'";

/// Headers added to every response, by its `Content-Type`: HTML gets the
/// CSP and a referrer policy; everything gets `nosniff`.
pub fn security_headers(content_type: Option<&str>) -> Vec<(&'static str, &'static str)> {
    let mut headers = vec![("X-Content-Type-Options", "nosniff")];
    let html = content_type.is_some_and(|t| t.trim_start().to_ascii_lowercase().starts_with("text/html"));
    if html {
        headers.push(("Content-Security-Policy", CSP));
        headers.push(("Referrer-Policy", "same-origin"));
    }
    headers
}

/// Maps a method and path to a route. Sentry does not follow redirects, so
/// every spelling of the webhook path is answered directly.
pub fn route(method: &str, path: &str) -> Result<Route, crate::error::AppError> {
    let trimmed = path.trim_end_matches('/');
    let (route, allowed): (Route, &[&str]) = match trimmed {
        "/api/webhooks/sentry" | "/api/sentry/webhook" => (Route::SentryWebhook, &["POST"]),
        "/sentry/setup" => (Route::SentrySetup, &["GET", "HEAD"]),
        "/api/sentry/options/items" => (Route::SentryOptions(Options::Items), &["GET"]),
        "/api/sentry/options/users" => (Route::SentryOptions(Options::Users), &["GET"]),
        "/api/sentry/issue-link/create" => (Route::SentryIssueLink(LinkAction::Create), &["POST"]),
        "/api/sentry/issue-link/link" => (Route::SentryIssueLink(LinkAction::Link), &["POST"]),
        "/api/sentry/alert-rule-action" => (Route::SentryAlertRuleAction, &["POST"]),
        "/api/webhooks/github" | "/api/github/webhook" => (Route::GithubWebhook, &["POST"]),
        "/api/github/sync" => (Route::GithubSync, &["GET", "HEAD"]),
        "/api/github/users" => (Route::GithubUsers, &["GET", "HEAD"]),
        _ if github_login(trimmed).is_some() => (Route::GithubUser, &["PUT", "DELETE"]),
        _ if github_team_link(trimmed).is_some() => (Route::GithubTeamLink, &["PUT"]),
        "/api/cron/sentry-sync" => (Route::CronSentrySync, &["GET", "POST"]),
        "/api/cron/retention" => (Route::CronRetention, &["GET", "POST"]),
        "/api/cron/github-reconcile" => (Route::CronGithubReconcile, &["GET", "POST"]),
        "/api/sync/status" => (Route::SyncStatus, &["GET", "HEAD"]),
        "/api/items" => (Route::Items, &["GET", "HEAD"]),
        "/api/webhook-health" => (Route::WebhookHealth, &["GET", "HEAD"]),
        "/api/installations" => (Route::Installations, &["GET", "HEAD"]),
        "/api/jobs" => (Route::Jobs, &["GET", "HEAD"]),
        "/api/errors" => (Route::Errors, &["GET", "HEAD"]),
        "/api/errors/stats" => (Route::ErrorStats, &["GET", "HEAD"]),
        _ if error_group_id(trimmed).is_some() => (Route::ErrorGroup, &["GET", "HEAD"]),
        "/api/deliveries" => (Route::Deliveries, &["GET", "HEAD"]),
        _ if delivery_path(trimmed).is_some_and(|(_, sub)| sub == "body") => (Route::DeliveryBody, &["GET", "HEAD"]),
        _ if delivery_path(trimmed).is_some_and(|(_, sub)| sub == "replay") => (Route::DeliveryReplay, &["POST"]),
        "/api/health" => (Route::Health, &["GET", "HEAD"]),
        "" | "/index.html" | "/errors" | "/errors.html" | "/deliveries" | "/deliveries.html" => {
            (Route::Page, &["GET", "HEAD"])
        }
        "/login" | "/login.html" => (Route::Login, &["GET", "HEAD"]),
        "/api/login" => (Route::ApiLogin, &["POST"]),
        "/api/logout" => (Route::ApiLogout, &["POST"]),
        "/api/session" => (Route::Session, &["GET", "HEAD"]),
        _ if item_path(trimmed).is_some_and(|(_, sub)| sub == "actions") => (Route::ItemAction, &["POST"]),
        _ if item_path(trimmed).is_some_and(|(_, sub)| sub == "assignees") => (Route::ItemAssignees, &["GET", "HEAD"]),
        _ if item_path(trimmed).is_some_and(|(_, sub)| sub == "comments") => (Route::ItemComments, &["GET", "HEAD"]),
        _ if item_path(trimmed).is_some_and(|(_, sub)| sub == "history") => (Route::ItemHistory, &["GET", "HEAD"]),
        _ if trimmed.starts_with("/api") && (trimmed.len() == 4 || trimmed.as_bytes()[4] == b'/') => {
            return Err(crate::error::AppError::NotFound)
        }
        _ => return Ok(Route::Asset),
    };
    if allowed.contains(&method) {
        Ok(route)
    } else {
        Err(crate::error::AppError::MethodNotAllowed)
    }
}

/// The delivery-log id and what follows it in `/api/deliveries/{id}/{body|replay}`.
pub fn delivery_path(path: &str) -> Option<(i64, &str)> {
    let rest = path.trim_end_matches('/').strip_prefix("/api/deliveries/")?;
    let (id, sub) = rest.split_once('/')?;
    let ok = !id.is_empty() && id.len() <= 12 && id.bytes().all(|b| b.is_ascii_digit());
    ok.then(|| id.parse().ok().map(|n| (n, sub))).flatten()
}

/// The issue id in `/api/errors/{issue_id}`.
pub fn error_group_id(path: &str) -> Option<&str> {
    let id = path.trim_end_matches('/').strip_prefix("/api/errors/")?;
    (!id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')).then_some(id)
}

/// The card id and what follows it in `/api/items/{id}/{actions|assignees|comments|history}`.
pub fn item_path(path: &str) -> Option<(&str, &str)> {
    let rest = path.trim_end_matches('/').strip_prefix("/api/items/")?;
    let (id, sub) = rest.split_once('/')?;
    let id_ok = !id.is_empty()
        && id.len() <= 300
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b':' | b'.' | b'%'));
    (id_ok && !sub.contains('/')).then_some((id, sub))
}

/// The login in `/api/github/users/{login}`.
pub fn github_login(path: &str) -> Option<&str> {
    let login = path.trim_end_matches('/').strip_prefix("/api/github/users/")?;
    (!login.is_empty()
        && login.len() <= 100
        && login.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
    .then_some(login)
}

/// The GitHub team id in `/api/github/teams/{id}/link` (GitHub's ids are
/// integers).
pub fn github_team_link(path: &str) -> Option<&str> {
    let rest = path.trim_end_matches('/').strip_prefix("/api/github/teams/")?;
    let id = rest.strip_suffix("/link")?;
    (!id.is_empty() && id.len() <= 20 && id.bytes().all(|b| b.is_ascii_digit())).then_some(id)
}

#[cfg(test)]
mod tests {
    #[test]
    fn kept_deliveries_have_a_body_to_read_and_a_replay_to_post() {
        assert_eq!(route("GET", "/api/deliveries/42/body"), Ok(Route::DeliveryBody));
        assert_eq!(route("POST", "/api/deliveries/42/replay/"), Ok(Route::DeliveryReplay));
        assert_eq!(route("GET", "/api/deliveries/42/replay"), Err(crate::error::AppError::MethodNotAllowed));
        assert_eq!(Route::DeliveryBody.gate(), Gate::Viewer);
        assert_eq!(Route::DeliveryReplay.gate(), Gate::ViewerWrite, "a board write: same origin only");
        assert_eq!(delivery_path("/api/deliveries/7/body"), Some((7, "body")));
        for bad in [
            "/api/deliveries/x/body",
            "/api/deliveries//body",
            "/api/deliveries/1e3/body",
            "/api/deliveries/9999999999999/body",
        ] {
            assert_eq!(delivery_path(bad), None, "{bad}");
        }
        assert_eq!(route("GET", "/api/deliveries/x/body"), Err(crate::error::AppError::NotFound));
    }

    use super::*;
    use crate::error::AppError;

    #[test]
    fn every_webhook_spelling_reaches_the_handler() {
        for p in ["/api/webhooks/sentry", "/api/webhooks/sentry/", "/api/sentry/webhook", "/api/sentry/webhook/"] {
            assert_eq!(route("POST", p), Ok(Route::SentryWebhook), "{p}");
        }
    }

    #[test]
    fn wrong_methods_and_unknown_api_paths_are_errors() {
        assert_eq!(route("GET", "/api/webhooks/sentry"), Err(AppError::MethodNotAllowed));
        assert_eq!(route("GET", "/api/nope"), Err(AppError::NotFound));
        assert_eq!(route("GET", "/api"), Err(AppError::NotFound));
    }

    #[test]
    fn ui_components_and_the_setup_page_have_routes() {
        assert_eq!(route("GET", "/api/sentry/options/users"), Ok(Route::SentryOptions(Options::Users)));
        assert_eq!(route("POST", "/api/sentry/issue-link/link/"), Ok(Route::SentryIssueLink(LinkAction::Link)));
        assert_eq!(route("POST", "/api/sentry/alert-rule-action"), Ok(Route::SentryAlertRuleAction));
        assert_eq!(route("GET", "/sentry/setup"), Ok(Route::SentrySetup));
        assert_eq!(route("POST", "/api/sentry/options/items"), Err(AppError::MethodNotAllowed));
    }

    #[test]
    fn the_error_log_has_routes() {
        assert_eq!(route("GET", "/api/errors"), Ok(Route::Errors));
        assert_eq!(route("GET", "/api/errors/stats"), Ok(Route::ErrorStats));
        assert_eq!(route("GET", "/api/errors/1170820242"), Ok(Route::ErrorGroup));
        assert_eq!(error_group_id("/api/errors/1170820242/"), Some("1170820242"));
        assert_eq!(route("GET", "/api/errors/a/b"), Err(AppError::NotFound));
        assert_eq!(route("POST", "/api/errors"), Err(AppError::MethodNotAllowed));
    }

    #[test]
    fn the_github_sync_has_routes() {
        for p in ["/api/webhooks/github", "/api/github/webhook/"] {
            assert_eq!(route("POST", p), Ok(Route::GithubWebhook), "{p}");
        }
        assert_eq!(route("GET", "/api/webhooks/github"), Err(AppError::MethodNotAllowed));
        assert_eq!(route("GET", "/api/github/sync"), Ok(Route::GithubSync));
        assert_eq!(route("GET", "/api/github/users"), Ok(Route::GithubUsers));
        assert_eq!(route("PUT", "/api/github/users/Octo-Cat"), Ok(Route::GithubUser));
        assert_eq!(route("DELETE", "/api/github/users/octo/"), Ok(Route::GithubUser));
        assert_eq!(github_login("/api/github/users/Octo-Cat/"), Some("Octo-Cat"));
        assert_eq!(route("GET", "/api/github/users/octo"), Err(AppError::MethodNotAllowed));
        assert_eq!(route("PUT", "/api/github/users/a%2Fb"), Err(AppError::NotFound));
        assert_eq!(route("PUT", "/api/github/teams/3253328/link/"), Ok(Route::GithubTeamLink));
        assert_eq!(github_team_link("/api/github/teams/3253328/link"), Some("3253328"));
        assert_eq!(Route::GithubTeamLink.gate(), Gate::Public, "bearer-protected by ADMIN_TOKEN");
        assert_eq!(route("GET", "/api/github/teams/1/link"), Err(AppError::MethodNotAllowed));
        for p in ["/api/github/teams/web/link", "/api/github/teams//link", "/api/github/teams/1/2/link"] {
            assert_eq!(route("PUT", p), Err(AppError::NotFound), "{p}");
        }
    }

    #[test]
    fn the_cron_sync_has_routes() {
        assert_eq!(route("GET", "/api/cron/sentry-sync"), Ok(Route::CronSentrySync));
        assert_eq!(route("POST", "/api/cron/sentry-sync/"), Ok(Route::CronSentrySync));
        assert_eq!(route("POST", "/api/cron/retention"), Ok(Route::CronRetention));
        assert_eq!(route("POST", "/api/cron/github-reconcile/"), Ok(Route::CronGithubReconcile));
        assert_eq!(route("GET", "/api/cron/github-reconcile"), Ok(Route::CronGithubReconcile));
        assert_eq!(Route::CronGithubReconcile.gate(), Gate::Public, "bearer-protected by CRON_SECRET");
        assert_eq!(route("GET", "/api/sync/status"), Ok(Route::SyncStatus));
        assert_eq!(route("POST", "/api/sync/status"), Err(AppError::MethodNotAllowed));
    }

    #[test]
    fn the_board_pages_and_its_api_are_gated() {
        for p in ["/", "/index.html", "/errors", "/errors.html", "/deliveries.html"] {
            assert_eq!(route("GET", p).map(Route::gate), Ok(Gate::Viewer), "{p}");
        }
        for p in ["/api/items", "/api/deliveries", "/api/errors", "/api/errors/1", "/api/github/sync", "/api/jobs"] {
            assert_eq!(route("GET", p).map(Route::gate), Ok(Gate::Viewer), "{p}");
        }
        assert_eq!(route("GET", "/api/webhook-health"), Ok(Route::WebhookHealth));
        assert_eq!(route("GET", "/api/webhook-health/").map(Route::gate), Ok(Gate::Viewer), "gated as the board");
        assert_eq!(route("POST", "/api/webhook-health"), Err(AppError::MethodNotAllowed));
        assert_eq!(route("POST", "/api/items/42/actions"), Ok(Route::ItemAction));
        assert_eq!(Route::ItemAction.gate(), Gate::ViewerWrite);
        assert_eq!(route("GET", "/api/items/42/assignees/"), Ok(Route::ItemAssignees));
        assert_eq!(route("GET", "/api/items/42/comments"), Ok(Route::ItemComments));
        assert_eq!(Route::ItemComments.gate(), Gate::Viewer);
        assert_eq!(route("POST", "/api/items/42/comments"), Err(AppError::MethodNotAllowed));
        assert_eq!(item_path("/api/items/event_alert:1:r/actions"), Some(("event_alert:1:r", "actions")));
        assert_eq!(route("POST", "/api/items/42/other"), Err(AppError::NotFound));
        assert_eq!(route("POST", "/api/items/a/b/actions"), Err(AppError::NotFound));
        assert_eq!(route("GET", "/api/items/42/actions"), Err(AppError::MethodNotAllowed));
    }

    #[test]
    fn a_cards_history_is_read_like_its_comments() {
        assert_eq!(route("GET", "/api/items/42/history"), Ok(Route::ItemHistory));
        assert_eq!(route("HEAD", "/api/items/42/history/"), Ok(Route::ItemHistory));
        assert_eq!(Route::ItemHistory.gate(), Route::ItemComments.gate());
        assert_eq!(route("POST", "/api/items/42/history"), Err(AppError::MethodNotAllowed));
        assert_eq!(route("GET", "/api/items/42/history/x"), Err(AppError::NotFound));
    }

    #[test]
    fn webhooks_login_health_and_assets_are_public() {
        for (m, p) in [
            ("POST", "/api/webhooks/sentry"),
            ("POST", "/api/webhooks/github"),
            ("GET", "/api/sentry/options/users"),
            ("GET", "/api/health"),
            ("GET", "/api/session"),
            ("POST", "/api/login"),
            ("POST", "/api/logout"),
            ("GET", "/login"),
            ("GET", "/app.css"),
            ("GET", "/board.js"),
            ("GET", "/board/state.js"),
            ("GET", "/lib/api.js"),
            ("GET", "/sentry/setup"),
            ("POST", "/api/cron/sentry-sync"),
        ] {
            assert_eq!(route(m, p).map(Route::gate), Ok(Gate::Public), "{m} {p}");
        }
    }

    #[test]
    fn every_html_answer_gets_the_csp() {
        let names = |t: Option<&str>| security_headers(t).into_iter().map(|(k, _)| k).collect::<Vec<_>>();
        for t in ["text/html", "text/html; charset=utf-8", "TEXT/HTML;charset=UTF-8"] {
            assert!(names(Some(t)).contains(&"Content-Security-Policy"), "{t}");
        }
        assert_eq!(names(Some("application/json")), ["X-Content-Type-Options"]);
        assert_eq!(names(None), ["X-Content-Type-Options"]);
        assert!(CSP.contains("frame-ancestors 'none'") && !CSP.contains("unsafe-inline"));
    }

    #[test]
    fn pages_go_to_assets() {
        assert_eq!(route("GET", "/"), Ok(Route::Page));
        assert_eq!(route("GET", "/apis.html"), Ok(Route::Asset));
        assert_eq!(route("GET", "/api/items"), Ok(Route::Items));
    }
}
