//! Which handler a request goes to. Pure, so the path rules are tested natively.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    SentryWebhook,
    Items,
    Deliveries,
    Health,
    /// Anything else: served from `public/` by the assets binding.
    Asset,
}

/// Maps a method and path to a route. Sentry does not follow redirects, so
/// every spelling of the webhook path is answered directly.
pub fn route(method: &str, path: &str) -> Result<Route, crate::error::AppError> {
    let trimmed = path.trim_end_matches('/');
    let (route, allowed): (Route, &[&str]) = match trimmed {
        "/api/webhooks/sentry" | "/api/sentry/webhook" => (Route::SentryWebhook, &["POST"]),
        "/api/items" => (Route::Items, &["GET", "HEAD"]),
        "/api/deliveries" => (Route::Deliveries, &["GET", "HEAD"]),
        "/api/health" => (Route::Health, &["GET", "HEAD"]),
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

#[cfg(test)]
mod tests {
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
    fn pages_go_to_assets() {
        assert_eq!(route("GET", "/"), Ok(Route::Asset));
        assert_eq!(route("GET", "/apis.html"), Ok(Route::Asset));
        assert_eq!(route("GET", "/api/items"), Ok(Route::Items));
    }
}
