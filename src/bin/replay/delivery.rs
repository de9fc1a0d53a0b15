//! One delivery: what it is (a Sentry resource or a GitHub event), its body
//! (ASCII-escaped JSON as Sentry sends it, or a file's bytes verbatim) and
//! the signed headers it goes out with.

use sentry_kanban::verify::sign_hex;
use serde_json::Value;
use std::fmt::Write as _;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

// ---------------------------------------------------------------------------
// Deliveries

#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// `Sentry-Hook-Resource`.
    Sentry(String),
    /// `X-GitHub-Event`.
    GitHub(String),
}

#[derive(Debug, Clone)]
pub struct Delivery {
    pub kind: Kind,
    pub action: String,
    /// Shown after the status: a short id, a title, a file name.
    pub label: String,
    pub body: Vec<u8>,
}

impl Delivery {
    pub fn sentry(resource: &str, body: &Value, label: impl Into<String>) -> Delivery {
        Delivery {
            kind: Kind::Sentry(resource.into()),
            action: body["action"].as_str().unwrap_or("").into(),
            label: label.into(),
            body: sentry_json(body).into_bytes(),
        }
    }

    pub fn what(&self) -> String {
        let name = match &self.kind {
            Kind::Sentry(r) => r.clone(),
            Kind::GitHub(e) => format!("github:{e}"),
        };
        if self.action.is_empty() {
            name
        } else {
            format!("{name}.{}", self.action)
        }
    }
}

/// Compact JSON with every non-ASCII character escaped as `\uXXXX`
/// (surrogate pairs beyond the BMP), as Sentry's `json.dumps` sends it.
fn sentry_json(v: &Value) -> String {
    ensure_ascii(&v.to_string())
}

pub fn ensure_ascii(compact: &str) -> String {
    // serde_json escapes quotes, backslashes and control characters itself;
    // other non-ASCII characters can only occur inside strings, where a
    // \u escape means the same.
    let mut out = String::with_capacity(compact.len());
    for c in compact.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                let _ = write!(out, "\\u{u:04x}");
            }
        }
    }
    out
}

/// Sentry resources the worker knows, longest first for prefix matching.
const SENTRY_RESOURCES: [&str; 9] =
    ["preprod_artifact", "installation", "metric_alert", "event_alert", "comment", "issue", "error", "event", "seer"];

/// Reads one file as a delivery: `--resource` / `--github-event`, else a
/// guess from the name (`issue-assigned.json`, `sentry-comment-created.json`,
/// `github/team-created.json`, `github-team-created.json`).
pub fn file_delivery(path: &Path, resource: Option<&str>, github_event: Option<&str>) -> Result<Delivery, String> {
    let body = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let kind = match (resource, github_event) {
        (Some(r), _) => Kind::Sentry(r.to_string()),
        (_, Some(e)) => Kind::GitHub(e.to_string()),
        _ => guess_kind(path).ok_or_else(|| {
            format!("{}: cannot tell the resource from the name; add --resource R or --github-event E", path.display())
        })?,
    };
    let action = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v.get("action").and_then(Value::as_str).map(str::to_string))
        .unwrap_or_default();
    let label = path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
    Ok(Delivery { kind, action, label, body })
}

fn guess_kind(path: &Path) -> Option<Kind> {
    let stem = path.file_stem()?.to_str()?.to_ascii_lowercase();
    let in_github_dir = path.parent().and_then(Path::file_name).is_some_and(|d| d == "github");
    if let Some(rest) = stem.strip_prefix("github-").or(in_github_dir.then_some(stem.as_str())) {
        let event = rest.split(['-', '.']).next().filter(|e| !e.is_empty())?;
        return Some(Kind::GitHub(event.to_string()));
    }
    let name = stem.strip_prefix("sentry-").unwrap_or(&stem).replace('-', "_");
    SENTRY_RESOURCES
        .iter()
        .find(|r| name == **r || name.starts_with(&format!("{r}_")))
        .map(|r| Kind::Sentry((*r).to_string()))
}

/// A stable 32-hex id (event ids: a second run of the demo adds no events).
pub fn hex_id(seed: &str) -> String {
    sentry_kanban::verify::body_digest(seed.as_bytes())[..32].to_string()
}

// ---------------------------------------------------------------------------
// Sending

/// A new 32-hex id per request (Sentry's `Request-ID`).
fn request_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    hex_id(&format!("{nanos}/{}/{n}", std::process::id()))
}

/// The path and headers of one delivery, as Sentry (or GitHub) sends them.
pub fn request_parts(d: &Delivery, secret: &str, now_secs: i64) -> (&'static str, Vec<(&'static str, String)>) {
    let sig = sign_hex(secret.as_bytes(), &d.body);
    let id = request_id();
    match &d.kind {
        Kind::Sentry(resource) => (
            "/api/webhooks/sentry",
            vec![
                ("Content-Type", "application/json".into()),
                ("Request-ID", id),
                ("Sentry-Hook-Resource", resource.clone()),
                ("Sentry-Hook-Timestamp", now_secs.to_string()),
                ("Sentry-Hook-Signature", sig),
            ],
        ),
        Kind::GitHub(event) => (
            "/api/webhooks/github",
            vec![
                ("Content-Type", "application/json".into()),
                ("X-GitHub-Event", event.clone()),
                (
                    "X-GitHub-Delivery",
                    format!("{}-{}-{}-{}-{}", &id[..8], &id[8..12], &id[12..16], &id[16..20], &id[20..32]),
                ),
                ("X-Hub-Signature-256", format!("sha256={sig}")),
            ],
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn file_names_tell_the_resource() {
        let cases = [
            ("tests/fixtures/sentry/issue-assigned-team.json", Some(Kind::Sentry("issue".into()))),
            ("tests/fixtures/sentry/error-created.json", Some(Kind::Sentry("error".into()))),
            ("payloads/sentry-metric-alert-resolved.json", Some(Kind::Sentry("metric_alert".into()))),
            ("payloads/sentry-event-alert-triggered.json", Some(Kind::Sentry("event_alert".into()))),
            ("payloads/sentry-comment-created.json", Some(Kind::Sentry("comment".into()))),
            ("payloads/sentry-installation-created.json", Some(Kind::Sentry("installation".into()))),
            ("payloads/github-membership-added.json", Some(Kind::GitHub("membership".into()))),
            ("tests/fixtures/github/team-created.json", Some(Kind::GitHub("team".into()))),
            ("tests/fixtures/github/ping.json", Some(Kind::GitHub("ping".into()))),
            ("tests/fixtures/sentry/token-exchange-response.json", None),
            ("payloads/sentry-api-list-org-issues-response.json", None),
            ("issues.json", None),
        ];
        for (path, want) in cases {
            assert_eq!(guess_kind(Path::new(path)), want, "{path}");
        }
    }

    #[test]
    fn ensure_ascii_escapes_like_python() {
        assert_eq!(
            ensure_ascii(&json!({"t": "Caf\u{e9} \u{1f600}\n\"x\""}).to_string()),
            r#"{"t":"Caf\u00e9 \ud83d\ude00\n\"x\""}"#
        );
    }
}
