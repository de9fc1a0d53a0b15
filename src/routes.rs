//! Which handler a request goes to. Pure, so the path rules are tested natively.

use crate::sentry::ui::{LinkAction, Options};

/// A route and the params its path carries, parsed and checked once here,
/// so a handler gets a typed id, never a path to pick apart.
#[derive(Debug, Clone, PartialEq, Eq)]
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
    /// `PUT`/`DELETE /api/github/users/{login}`.
    GithubUser(String),
    /// `PUT /api/github/teams/{github_team_id}/link` (bearer `ADMIN_TOKEN`):
    /// link the pre-existing Sentry team a GitHub team ran into (409).
    GithubTeamLink(String),
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
    DeliveryBody(i64),
    /// `POST /api/deliveries/{id}/replay`: run a kept delivery again.
    DeliveryReplay(i64),
    Installations,
    Jobs,
    /// The error log: groups, a group (`/api/errors/{issue_id}`), totals.
    Errors,
    ErrorGroup(String),
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
    /// `POST /api/items/{id}/actions`: a board change, written back to
    /// Sentry. The card ids of the `Item*` routes are percent-decoded.
    ItemAction(String),
    /// `GET /api/items/{id}/assignees`: who the card can be assigned to.
    ItemAssignees(String),
    /// `GET /api/items/{id}/comments`: a card's comments, loaded when shown.
    ItemComments(String),
    /// `GET /api/items/{id}/history`: a card's changes, loaded when shown.
    ItemHistory(String),
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
    pub fn gate(&self) -> Gate {
        match self {
            Route::Page
            | Route::Items
            | Route::WebhookHealth
            | Route::ItemAssignees(_)
            | Route::ItemComments(_)
            | Route::ItemHistory(_)
            | Route::Deliveries
            | Route::DeliveryBody(_)
            | Route::Installations
            | Route::Jobs
            | Route::Errors
            | Route::ErrorGroup(_)
            | Route::ErrorStats
            | Route::GithubSync
            | Route::GithubUsers
            | Route::SyncStatus => Gate::Viewer,
            Route::ItemAction(_) | Route::DeliveryReplay(_) => Gate::ViewerWrite,
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
/// every spelling of the webhook path is answered directly. A path of the
/// API that matches no route, or whose id is malformed, is 404.
pub fn route(method: &str, path: &str) -> Result<Route, crate::error::AppError> {
    let trimmed = path.trim_end_matches('/');
    let api = trimmed.starts_with("/api") && (trimmed.len() == 4 || trimmed.as_bytes()[4] == b'/');
    let (route, allowed) = match fixed(trimmed).or_else(|| with_params(trimmed)) {
        Some(found) => found,
        None if api => return Err(crate::error::AppError::NotFound),
        None => return Ok(Route::Asset),
    };
    if allowed.contains(&method) {
        Ok(route)
    } else {
        Err(crate::error::AppError::MethodNotAllowed)
    }
}

const READ: &[&str] = &["GET", "HEAD"];

/// The routes whose path is fixed, and the methods each allows.
fn fixed(path: &str) -> Option<(Route, &'static [&'static str])> {
    Some(match path {
        "/api/webhooks/sentry" | "/api/sentry/webhook" => (Route::SentryWebhook, &["POST"]),
        "/sentry/setup" => (Route::SentrySetup, READ),
        "/api/sentry/options/items" => (Route::SentryOptions(Options::Items), &["GET"]),
        "/api/sentry/options/users" => (Route::SentryOptions(Options::Users), &["GET"]),
        "/api/sentry/issue-link/create" => (Route::SentryIssueLink(LinkAction::Create), &["POST"]),
        "/api/sentry/issue-link/link" => (Route::SentryIssueLink(LinkAction::Link), &["POST"]),
        "/api/sentry/alert-rule-action" => (Route::SentryAlertRuleAction, &["POST"]),
        "/api/webhooks/github" | "/api/github/webhook" => (Route::GithubWebhook, &["POST"]),
        "/api/github/sync" => (Route::GithubSync, READ),
        "/api/github/users" => (Route::GithubUsers, READ),
        "/api/cron/sentry-sync" => (Route::CronSentrySync, &["GET", "POST"]),
        "/api/cron/retention" => (Route::CronRetention, &["GET", "POST"]),
        "/api/cron/github-reconcile" => (Route::CronGithubReconcile, &["GET", "POST"]),
        "/api/sync/status" => (Route::SyncStatus, READ),
        "/api/items" => (Route::Items, READ),
        "/api/webhook-health" => (Route::WebhookHealth, READ),
        "/api/installations" => (Route::Installations, READ),
        "/api/jobs" => (Route::Jobs, READ),
        "/api/errors" => (Route::Errors, READ),
        "/api/errors/stats" => (Route::ErrorStats, READ),
        "/api/deliveries" => (Route::Deliveries, READ),
        "/api/health" => (Route::Health, READ),
        "" | "/index.html" | "/errors" | "/errors.html" | "/deliveries" | "/deliveries.html" => (Route::Page, READ),
        "/login" | "/login.html" => (Route::Login, READ),
        "/api/login" => (Route::ApiLogin, &["POST"]),
        "/api/logout" => (Route::ApiLogout, &["POST"]),
        "/api/session" => (Route::Session, READ),
        _ => return None,
    })
}

/// The routes whose path carries an id, with the id parsed.
fn with_params(path: &str) -> Option<(Route, &'static [&'static str])> {
    if let Some(login) = github_login(path) {
        return Some((Route::GithubUser(login.to_string()), &["PUT", "DELETE"]));
    }
    if let Some(team) = github_team_link(path) {
        return Some((Route::GithubTeamLink(team.to_string()), &["PUT"]));
    }
    if let Some(id) = error_group_id(path) {
        return Some((Route::ErrorGroup(id.to_string()), READ));
    }
    if let Some((id, sub)) = delivery_path(path) {
        return match sub {
            "body" => Some((Route::DeliveryBody(id), READ)),
            "replay" => Some((Route::DeliveryReplay(id), &["POST"])),
            _ => None,
        };
    }
    let (id, sub) = item_path(path)?;
    let id = crate::percent::decode(id)?;
    Some(match sub {
        "actions" => (Route::ItemAction(id), &["POST"]),
        "assignees" => (Route::ItemAssignees(id), READ),
        "comments" => (Route::ItemComments(id), READ),
        "history" => (Route::ItemHistory(id), READ),
        _ => return None,
    })
}

/// The delivery-log id and what follows it in `/api/deliveries/{id}/{body|replay}`.
fn delivery_path(path: &str) -> Option<(i64, &str)> {
    let rest = path.trim_end_matches('/').strip_prefix("/api/deliveries/")?;
    let (id, sub) = rest.split_once('/')?;
    let ok = !id.is_empty() && id.len() <= 12 && id.bytes().all(|b| b.is_ascii_digit());
    ok.then(|| id.parse().ok().map(|n| (n, sub))).flatten()
}

/// The issue id in `/api/errors/{issue_id}`.
fn error_group_id(path: &str) -> Option<&str> {
    let id = path.trim_end_matches('/').strip_prefix("/api/errors/")?;
    let ok = !id.is_empty() && id.len() <= 100;
    (ok && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')).then_some(id)
}

/// The card id and what follows it in `/api/items/{id}/{actions|assignees|comments|history}`.
fn item_path(path: &str) -> Option<(&str, &str)> {
    let rest = path.trim_end_matches('/').strip_prefix("/api/items/")?;
    let (id, sub) = rest.split_once('/')?;
    let id_ok = !id.is_empty()
        && id.len() <= 300
        // What `encodeURIComponent` leaves as it is, and the escapes.
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.!~*'():%".contains(&b));
    (id_ok && !sub.contains('/')).then_some((id, sub))
}

/// The login in `/api/github/users/{login}`.
fn github_login(path: &str) -> Option<&str> {
    let login = path.trim_end_matches('/').strip_prefix("/api/github/users/")?;
    (!login.is_empty()
        && login.len() <= 100
        && login.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
    .then_some(login)
}

/// The GitHub team id in `/api/github/teams/{id}/link` (GitHub's ids are
/// integers).
fn github_team_link(path: &str) -> Option<&str> {
    let rest = path.trim_end_matches('/').strip_prefix("/api/github/teams/")?;
    let id = rest.strip_suffix("/link")?;
    (!id.is_empty() && id.len() <= 20 && id.bytes().all(|b| b.is_ascii_digit())).then_some(id)
}

#[cfg(test)]
mod tests {
    #[test]
    fn kept_deliveries_have_a_body_to_read_and_a_replay_to_post() {
        assert_eq!(route("GET", "/api/deliveries/42/body"), Ok(Route::DeliveryBody(42)));
        assert_eq!(route("POST", "/api/deliveries/42/replay/"), Ok(Route::DeliveryReplay(42)));
        assert_eq!(route("GET", "/api/deliveries/42/replay"), Err(crate::error::AppError::MethodNotAllowed));
        assert_eq!(Route::DeliveryBody(42).gate(), Gate::Viewer);
        assert_eq!(Route::DeliveryReplay(42).gate(), Gate::ViewerWrite, "a board write: same origin only");
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
        assert_eq!(route("GET", "/api/errors/1170820242"), Ok(Route::ErrorGroup("1170820242".into())));
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
        assert_eq!(route("PUT", "/api/github/users/Octo-Cat"), Ok(Route::GithubUser("Octo-Cat".into())));
        assert_eq!(route("DELETE", "/api/github/users/octo/"), Ok(Route::GithubUser("octo".into())));
        assert_eq!(github_login("/api/github/users/Octo-Cat/"), Some("Octo-Cat"));
        assert_eq!(route("GET", "/api/github/users/octo"), Err(AppError::MethodNotAllowed));
        assert_eq!(route("PUT", "/api/github/users/a%2Fb"), Err(AppError::NotFound));
        assert_eq!(route("PUT", "/api/github/teams/3253328/link/"), Ok(Route::GithubTeamLink("3253328".into())));
        assert_eq!(github_team_link("/api/github/teams/3253328/link"), Some("3253328"));
        assert_eq!(Route::GithubTeamLink("1".into()).gate(), Gate::Public, "bearer-protected by ADMIN_TOKEN");
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
            assert_eq!(route("GET", p).as_ref().map(Route::gate), Ok(Gate::Viewer), "{p}");
        }
        for p in ["/api/items", "/api/deliveries", "/api/errors", "/api/errors/1", "/api/github/sync", "/api/jobs"] {
            assert_eq!(route("GET", p).as_ref().map(Route::gate), Ok(Gate::Viewer), "{p}");
        }
        assert_eq!(route("GET", "/api/webhook-health"), Ok(Route::WebhookHealth));
        assert_eq!(
            route("GET", "/api/webhook-health/").as_ref().map(Route::gate),
            Ok(Gate::Viewer),
            "gated as the board"
        );
        assert_eq!(route("POST", "/api/webhook-health"), Err(AppError::MethodNotAllowed));
        assert_eq!(route("POST", "/api/items/42/actions"), Ok(Route::ItemAction("42".into())));
        assert_eq!(Route::ItemAction("42".into()).gate(), Gate::ViewerWrite);
        assert_eq!(route("GET", "/api/items/42/assignees/"), Ok(Route::ItemAssignees("42".into())));
        assert_eq!(route("GET", "/api/items/42/comments"), Ok(Route::ItemComments("42".into())));
        assert_eq!(Route::ItemComments("42".into()).gate(), Gate::Viewer);
        assert_eq!(route("POST", "/api/items/42/comments"), Err(AppError::MethodNotAllowed));
        assert_eq!(item_path("/api/items/event_alert:1:r/actions"), Some(("event_alert:1:r", "actions")));
        assert_eq!(route("POST", "/api/items/42/other"), Err(AppError::NotFound));
        assert_eq!(route("POST", "/api/items/a/b/actions"), Err(AppError::NotFound));
        assert_eq!(route("GET", "/api/items/42/actions"), Err(AppError::MethodNotAllowed));
    }

    #[test]
    fn a_cards_history_is_read_like_its_comments() {
        assert_eq!(route("GET", "/api/items/42/history"), Ok(Route::ItemHistory("42".into())));
        assert_eq!(route("HEAD", "/api/items/42/history/"), Ok(Route::ItemHistory("42".into())));
        assert_eq!(Route::ItemHistory("42".into()).gate(), Route::ItemComments("42".into()).gate());
        assert_eq!(route("POST", "/api/items/42/history"), Err(AppError::MethodNotAllowed));
        assert_eq!(route("GET", "/api/items/42/history/x"), Err(AppError::NotFound));
    }

    #[test]
    fn ids_in_paths_reach_handlers_typed_and_decoded() {
        assert_eq!(
            route("GET", "/api/items/event_alert%3A1%3Ar/history"),
            Ok(Route::ItemHistory("event_alert:1:r".into()))
        );
        assert_eq!(route("POST", "/api/items/a%2Bb/actions"), Ok(Route::ItemAction("a+b".into())));
        // An alert id as the board's encodeURIComponent sends it.
        assert_eq!(
            route("GET", "/api/items/metric_alert%3ACPU%20(p95)%20!%20*'~/history"),
            Ok(Route::ItemHistory("metric_alert:CPU (p95) ! *'~".into()))
        );
        let long = format!("/api/errors/{}", "1".repeat(101));
        assert_eq!(route("GET", &long), Err(AppError::NotFound), "an error group id is at most 100 bytes");
        assert_eq!(route("GET", &long[..long.len() - 1]), Ok(Route::ErrorGroup("1".repeat(100))));
        for bad in [
            "/api/items/a+b/comments",
            "/api/items/%ZZ/history",
            "/api/items/%+1/history",
            "/api/items/%ff/history",
            "/api/items/%4/actions",
        ] {
            assert_eq!(
                route("GET", bad),
                Err(AppError::NotFound),
                "{bad}: an id outside the set, or that does not decode"
            );
        }
        assert_eq!(route("GET", "/api/deliveries/x/other"), Err(AppError::NotFound));
        assert_eq!(route("GET", "/api/deliveries/7/other"), Err(AppError::NotFound));
        assert_eq!(route("GET", "/api/errors/stats"), Ok(Route::ErrorStats), "not a group named stats");
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
            assert_eq!(route(m, p).as_ref().map(Route::gate), Ok(Gate::Public), "{m} {p}");
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
