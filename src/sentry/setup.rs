//! The page behind Sentry's redirect URL
//! (`/sentry/setup?code=…&installationId=…&orgSlug=…`). It only reads: the
//! signed installation.created webhook is what records an installation and
//! starts the token exchange, so an unsigned browser request cannot.

/// The query Sentry appends to the redirect URL.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SetupQuery {
    pub installation_id: Option<String>,
    pub org_slug: Option<String>,
}

impl SetupQuery {
    /// From a raw query string (`a=b&c=d`, percent-encoded).
    pub fn parse(query: &str) -> Self {
        let mut q = SetupQuery::default();
        for (k, v) in query.split('&').filter_map(|kv| kv.split_once('=')) {
            let v = crate::percent::decode(v).filter(|v| !v.trim().is_empty());
            match k {
                "installationId" => q.installation_id = v,
                "orgSlug" => q.org_slug = v,
                _ => {}
            }
        }
        q
    }
}

/// The installation as stored, when the webhook has arrived.
#[derive(Debug, Clone, PartialEq)]
pub struct Known {
    pub status: String,
    pub org_slug: Option<String>,
    pub error: Option<String>,
}

/// The page: status code and HTML.
pub fn page(q: &SetupQuery, known: Option<&Known>) -> (u16, String) {
    let org = known.and_then(|k| k.org_slug.clone()).or_else(|| q.org_slug.clone());
    let board = org.as_deref().map_or_else(|| "/".to_string(), |o| format!("/?org={}", crate::percent::encode(o)));
    let (status, heading, detail, refresh) = match (q.installation_id.as_deref(), known) {
        (None, _) => (
            400,
            "No installation",
            "This address is Sentry's redirect after installing the integration; it needs an installationId."
                .to_string(),
            false,
        ),
        (Some(_), None) => (
            200,
            "Waiting for Sentry",
            "Sentry has not delivered the installation webhook yet. This page refreshes by itself.".to_string(),
            true,
        ),
        (Some(_), Some(k)) => match (k.status.as_str(), &k.error) {
            ("deleted", _) => (200, "Uninstalled", "This installation was removed in Sentry.".to_string(), false),
            (_, Some(e)) => (
                200,
                "Setup problem",
                format!("Connecting to Sentry failed: {e}. The worker retries; see /api/installations."),
                true,
            ),
            ("installed", None) => {
                (200, "Installed", "The integration is connected. Issues will appear on the board.".to_string(), false)
            }
            _ => (
                200,
                "Connecting",
                "The installation was received; the token exchange is running. This page refreshes by itself."
                    .to_string(),
                true,
            ),
        },
    };
    let meta = if refresh { r#"<meta http-equiv="refresh" content="3">"# } else { "" };
    let org_line = org.map(|o| format!("<p>Organization: <strong>{}</strong></p>", escape(&o))).unwrap_or_default();
    let html = format!(
        concat!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">{meta}",
            "<title>sentry-kanban: {heading}</title><link rel=\"stylesheet\" href=\"/app.css\"></head>",
            "<body><main class=\"setup\"><h1>{heading}</h1><p id=\"setup-detail\">{detail}</p>{org_line}",
            "<p><a id=\"board-link\" href=\"{board}\">Open the board</a></p></main></body></html>"
        ),
        meta = meta,
        heading = heading,
        detail = escape(&detail),
        org_line = org_line,
        board = escape(&board),
    );
    (status, html)
}

fn escape(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '&' => "&amp;".to_string(),
            '<' => "&lt;".to_string(),
            '>' => "&gt;".to_string(),
            '"' => "&quot;".to_string(),
            '\'' => "&#39;".to_string(),
            c => c.to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(status: &str, error: Option<&str>) -> Known {
        Known { status: status.into(), org_slug: Some("acme".into()), error: error.map(str::to_string) }
    }

    #[test]
    fn the_query_sentry_sends_is_read() {
        let q = SetupQuery::parse("code=abc&installationId=a8e5-1&orgSlug=test%2Dorg");
        assert_eq!(q, SetupQuery { installation_id: Some("a8e5-1".into()), org_slug: Some("test-org".into()) });
        assert_eq!(SetupQuery::parse("installationId=%zz"), SetupQuery::default());
    }

    #[test]
    fn each_state_says_what_happened_and_links_to_the_board() {
        let q = SetupQuery { installation_id: Some("u".into()), org_slug: None };
        let (s, html) = page(&q, Some(&known("installed", None)));
        assert_eq!(s, 200);
        assert!(html.contains("Installed") && html.contains(r#"href="/?org=acme""#), "{html}");
        assert!(!html.contains("http-equiv"));
        let (_, html) = page(&q, None);
        assert!(html.contains("Waiting for Sentry") && html.contains("http-equiv"));
        let (_, html) = page(&q, Some(&known("pending", Some("exchange: HTTP 500 <oops>"))));
        assert!(html.contains("Setup problem") && html.contains("&lt;oops&gt;"), "{html}");
        let (_, html) = page(&q, Some(&known("deleted", None)));
        assert!(html.contains("Uninstalled"));
        let (s, _) = page(&SetupQuery::default(), None);
        assert_eq!(s, 400);
    }

    #[test]
    fn untrusted_org_slugs_are_escaped() {
        let q = SetupQuery { installation_id: Some("u".into()), org_slug: Some("<script>\"x".into()) };
        let (_, html) = page(&q, None);
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("/?org=%3Cscript%3E%22x"));
    }
}
