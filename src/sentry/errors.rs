//! `error.created` (also spelled `event.created`): condenses a Sentry event,
//! which can be hundreds of KB, into a small sanitised record for the queue.
//! Only allow-listed fields are read, so cookies, request headers and body,
//! the user's IP address and frame variables never leave this function.

use super::wire::{opt_id, opt_text};
use crate::error::AppError;
use crate::time::{canonical, format_millis, Millis};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// Frames kept in the sample: the newest ones, where the error happened.
pub const MAX_FRAMES: usize = 30;
/// Exceptions kept (chained exceptions come as several values).
pub const MAX_EXCEPTIONS: usize = 5;
/// Any one text field is cut to this many characters.
pub const MAX_TEXT: usize = 512;

/// The queue message for one error event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorRecord {
    pub event_id: String,
    pub issue_id: String,
    #[serde(default)]
    pub installation: Option<String>,
    pub title: String,
    #[serde(default)]
    pub culprit: Option<String>,
    #[serde(default)]
    pub level: Option<String>,
    #[serde(default)]
    pub platform: Option<String>,
    #[serde(default)]
    pub project: Option<String>,
    #[serde(default)]
    pub environment: Option<String>,
    #[serde(default)]
    pub release: Option<String>,
    /// When the event happened, canonical UTC.
    pub time: String,
    #[serde(default)]
    pub web_url: Option<String>,
    /// The sanitised event shown on the error-log page, as JSON text: queue
    /// messages are serialised to JS, where a nested map would become a
    /// `Map` that JSON cannot carry.
    pub sample: String,
}

#[derive(Deserialize)]
struct Data {
    #[serde(alias = "event")]
    error: WireEvent,
}

/// A Sentry event as webhooks carry it (`error.created`'s `data.error`,
/// `event_alert.triggered`'s `data.event`). Only these fields are read.
#[derive(Debug, Deserialize)]
pub(crate) struct WireEvent {
    #[serde(default, deserialize_with = "opt_id")]
    pub(crate) event_id: Option<String>,
    #[serde(default, deserialize_with = "opt_id")]
    pub(crate) issue_id: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    pub(crate) title: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    pub(crate) culprit: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    pub(crate) level: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    pub(crate) platform: Option<String>,
    #[serde(default, deserialize_with = "opt_id")]
    pub(crate) project: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    pub(crate) environment: Option<String>,
    #[serde(default, deserialize_with = "opt_id")]
    pub(crate) release: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    pub(crate) datetime: Option<String>,
    /// Epoch seconds (a float).
    #[serde(default)]
    pub(crate) timestamp: Option<Value>,
    #[serde(default, deserialize_with = "opt_text")]
    pub(crate) web_url: Option<String>,
    /// The API URL of the event (`/api/0/projects/{org}/{project}/events/{id}/`).
    #[serde(default, deserialize_with = "opt_text")]
    pub(crate) url: Option<String>,
    /// `/api/0/issues/{id}/` or `/api/0/organizations/{org}/issues/{id}/`.
    #[serde(default, deserialize_with = "opt_text")]
    pub(crate) issue_url: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    pub(crate) message: Option<String>,
    #[serde(default)]
    pub(crate) exception: Option<Exceptions>,
    #[serde(default)]
    pub(crate) tags: Option<Value>,
    #[serde(default)]
    pub(crate) request: Option<WireRequest>,
}

impl WireEvent {
    /// The event's issue: `issue_id`, else the id in `issue_url`, `web_url`
    /// or `url`. Real `event_alert` deliveries carry only the URLs.
    pub(crate) fn issue(&self) -> Option<String> {
        self.issue_id.clone().filter(|s| !s.is_empty()).or_else(|| {
            [&self.issue_url, &self.web_url, &self.url].into_iter().flatten().find_map(|u| issue_id_in_url(u))
        })
    }
}

/// The numeric path segment after `/issues/`: `/api/0/issues/{id}/`,
/// `/api/0/organizations/{org}/issues/{id}/` and the web form
/// `/organizations/{org}/issues/{id}/events/{event}/` alike.
pub fn issue_id_in_url(url: &str) -> Option<String> {
    let path = url.split(['?', '#']).next()?;
    let (_, rest) = path.split_once("/issues/")?;
    let id = rest.split('/').next()?;
    (!id.is_empty() && id.len() <= 20 && id.bytes().all(|b| b.is_ascii_digit())).then(|| id.to_string())
}

#[derive(Debug, Deserialize)]
pub(crate) struct Exceptions {
    #[serde(default)]
    values: Vec<WireException>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct WireException {
    #[serde(default, rename = "type", deserialize_with = "opt_text")]
    kind: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    value: Option<String>,
    #[serde(default)]
    stacktrace: Option<Stacktrace>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Stacktrace {
    #[serde(default)]
    frames: Vec<WireFrame>,
}

/// Frame fields that locate code; `vars` and source context are not read.
#[derive(Debug, Deserialize)]
pub(crate) struct WireFrame {
    #[serde(default, deserialize_with = "opt_text")]
    filename: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    function: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    module: Option<String>,
    #[serde(default)]
    lineno: Option<Value>,
    #[serde(default)]
    colno: Option<Value>,
    #[serde(default)]
    in_app: Option<bool>,
}

/// Only the URL (without query or fragment) and the method: headers,
/// cookies, body and env are not read at all.
#[derive(Debug, Deserialize)]
pub(crate) struct WireRequest {
    #[serde(default, deserialize_with = "opt_text")]
    url: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    method: Option<String>,
}

/// Tags that describe where an error happened, not who hit it (Sentry's
/// `user` tag is `ip:<address>`).
const TAGS: [&str; 12] = [
    "browser",
    "browser.name",
    "os",
    "os.name",
    "device",
    "environment",
    "handled",
    "level",
    "mechanism",
    "runtime",
    "runtime.name",
    "transaction",
];

/// Whether a delivery is an error event, in either spelling.
pub fn is_error_event(resource: &str, action: &str) -> bool {
    matches!(resource, "error" | "event") && matches!(action, "created" | "error.created" | "event.created")
}

/// The envelope's action alone; the rest of a large body is skipped unparsed.
pub fn action_of(body: &[u8]) -> Result<String, AppError> {
    #[derive(Deserialize)]
    struct Action {
        #[serde(default)]
        action: String,
    }
    serde_json::from_slice::<Action>(body)
        .map(|a| a.action)
        .map_err(|e| AppError::BadRequest(format!("body is not a JSON webhook envelope: {e}")))
}

/// Straight from the raw body: the event is parsed once, without building a
/// `Value` of the whole body first.
pub fn condense_body(body: &[u8], now: Millis) -> Result<ErrorRecord, AppError> {
    #[derive(Deserialize)]
    struct Body {
        #[serde(default)]
        installation: Option<super::wire::InstallationRef>,
        data: Data,
    }
    let b: Body = serde_json::from_slice(body)
        .map_err(|e| AppError::BadRequest(format!("error webhook without a usable data.error: {e}")))?;
    record(b.data.error, b.installation.and_then(|i| i.uuid), now)
}

fn record(e: WireEvent, installation: Option<String>, now: Millis) -> Result<ErrorRecord, AppError> {
    let event_id = e.event_id.clone().filter(|s| !s.is_empty());
    let issue_id = e.issue();
    let (Some(event_id), Some(issue_id)) = (event_id, issue_id) else {
        return Err(AppError::BadRequest("error webhook without event_id and issue_id".into()));
    };
    let time = event_time(&e, now);
    let sample = sample(&e).to_string();
    Ok(ErrorRecord {
        event_id: cut(&event_id),
        issue_id: cut(&issue_id),
        installation,
        title: cut(e.title.as_deref().unwrap_or("(no title)")),
        culprit: e.culprit.as_deref().map(cut),
        level: e.level.as_deref().map(cut),
        platform: e.platform.as_deref().map(cut),
        project: e.project.as_deref().map(cut),
        environment: e.environment.as_deref().map(cut),
        release: e.release.as_deref().map(cut),
        time,
        web_url: e.web_url.as_deref().map(cut),
        sample,
    })
}

/// The event's own time, never later than now (an SDK clock can run ahead).
fn event_time(e: &WireEvent, now: Millis) -> String {
    let from_text = e.datetime.as_deref().and_then(canonical);
    let from_epoch = e
        .timestamp
        .as_ref()
        .and_then(Value::as_f64)
        .filter(|t| t.is_finite() && *t > 0.0)
        .map(|t| format_millis((t * 1000.0) as Millis));
    let now_text = format_millis(now);
    from_text.or(from_epoch).filter(|t| *t <= now_text).unwrap_or(now_text)
}

fn sample(e: &WireEvent) -> Value {
    let exceptions: Vec<Value> = e
        .exception
        .as_ref()
        .map(|x| x.values.iter().rev().take(MAX_EXCEPTIONS).rev().map(exception).collect())
        .unwrap_or_default();
    let request = e.request.as_ref().map(|r| {
        json!({ "url": r.url.as_deref().map(strip_query).map(|u| cut(&u)), "method": r.method.as_deref().map(cut) })
    });
    json!({
        "event_id": e.event_id.as_deref().map(cut),
        "title": e.title.as_deref().map(cut),
        "message": e.message.as_deref().map(cut),
        "culprit": e.culprit.as_deref().map(cut),
        "level": e.level.as_deref().map(cut),
        "platform": e.platform.as_deref().map(cut),
        "exceptions": exceptions,
        "tags": tags(e.tags.as_ref()),
        "request": request,
    })
}

fn exception(x: &WireException) -> Value {
    let frames: Vec<Value> = x
        .stacktrace
        .as_ref()
        .map(|s| {
            let skip = s.frames.len().saturating_sub(MAX_FRAMES);
            s.frames[skip..]
                .iter()
                .map(|f| {
                    json!({
                        "filename": f.filename.as_deref().map(cut),
                        "function": f.function.as_deref().map(cut),
                        "module": f.module.as_deref().map(cut),
                        "lineno": f.lineno.as_ref().filter(|v| v.is_number()),
                        "colno": f.colno.as_ref().filter(|v| v.is_number()),
                        "in_app": f.in_app,
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    json!({ "type": x.kind.as_deref().map(cut), "value": x.value.as_deref().map(cut), "frames": frames })
}

/// Tags arrive as `[[key, value], …]`; older payloads use a map.
fn tags(v: Option<&Value>) -> Value {
    let pairs: Vec<(String, String)> = match v {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|p| Some((p.get(0)?.as_str()?.to_string(), p.get(1)?.as_str()?.to_string())))
            .collect(),
        Some(Value::Object(map)) => {
            map.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string()))).collect()
        }
        _ => vec![],
    };
    let kept: serde_json::Map<String, Value> = pairs
        .into_iter()
        .filter(|(k, _)| TAGS.contains(&k.as_str()))
        .map(|(k, v)| (k, Value::String(cut(&v))))
        .collect();
    Value::Object(kept)
}

/// Query strings and fragments carry tokens often enough to never keep them.
fn strip_query(url: &str) -> String {
    url.split(['?', '#']).next().unwrap_or("").to_string()
}

fn cut(s: &str) -> String {
    match s.char_indices().nth(MAX_TEXT) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Millis = 1_800_000_000_000;

    fn fixture() -> Vec<u8> {
        include_bytes!("../../tests/fixtures/sentry/error-created.json").to_vec()
    }

    #[test]
    fn the_documented_sample_condenses() {
        let r = condense_body(&fixture(), NOW).unwrap();
        assert_eq!((r.event_id.as_str(), r.issue_id.as_str()), ("bb78c1407cea4519aa397afc059c793d", "1170820242"));
        assert_eq!(r.project.as_deref(), Some("1"), "the int project id becomes text");
        assert_eq!(r.time, "2019-08-19T20:58:37.391Z");
        assert_eq!(r.level.as_deref(), Some("error"));
        let sample: Value = serde_json::from_str(&r.sample).unwrap();
        assert!(sample["exceptions"][0]["frames"].as_array().is_some_and(|f| !f.is_empty()));
        let text = r.sample.clone();
        assert!(!text.contains("162.218.85.90"), "the IP address left the parser: {text}");
        assert!(!text.contains("Mozilla/5.0"), "request headers left the parser");
    }

    #[test]
    fn secrets_in_the_event_never_reach_the_record() {
        let body = br#"{"action":"created","installation":{"uuid":"u"},"data":{"error":{"event_id":"e1","issue_id":"9","title":"T","datetime":"2020-01-01T00:00:00Z","request":{"url":"https://a.example/p?token=SECRET_Q#frag","method":"POST","cookies":"session=SECRET_COOKIE","headers":[["Authorization","Bearer SECRET_AUTH"],["Cookie","SECRET_COOKIE2"]],"data":{"password":"SECRET_BODY"},"env":{"REMOTE_ADDR":"10.9.8.7"}},"user":{"ip_address":"10.1.2.3","email":"SECRET_EMAIL"},"tags":[["user","ip:10.1.2.3"],["browser","Chrome 75"],["session","SECRET_TAG"]],"exception":{"values":[{"type":"E","value":"v","stacktrace":{"frames":[{"filename":"a.js","function":"f","lineno":3,"vars":{"apiKey":"SECRET_VAR"},"context_line":"SECRET_SRC"}]}}]}}}}"#;
        let r = condense_body(body, NOW).unwrap();
        let text = serde_json::to_string(&r).unwrap();
        for secret in ["SECRET", "10.1.2.3", "10.9.8.7", "ip:"] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        let sample: Value = serde_json::from_str(&r.sample).unwrap();
        assert_eq!(sample["request"]["url"], "https://a.example/p");
        assert_eq!(sample["tags"], json!({"browser": "Chrome 75"}));
        assert_eq!(sample["exceptions"][0]["frames"][0]["lineno"], 3);
    }

    #[test]
    fn big_events_are_bounded() {
        let frames: Vec<Value> = (0..5000)
            .map(|i| json!({"filename": format!("f{i}.js"), "function": "x".repeat(2000), "lineno": i}))
            .collect();
        let body = json!({"action":"created","data":{"error":{"event_id":"e","issue_id":"1","title":"é".repeat(5000),
            "exception":{"values":[{"type":"E","value":"v","stacktrace":{"frames":frames}}]}}}});
        let raw = serde_json::to_vec(&body).unwrap();
        assert!(raw.len() > 200_000);
        let r = condense_body(&raw, NOW).unwrap();
        let sample: Value = serde_json::from_str(&r.sample).unwrap();
        let kept = sample["exceptions"][0]["frames"].as_array().unwrap();
        assert_eq!(kept.len(), MAX_FRAMES);
        assert_eq!(kept[MAX_FRAMES - 1]["filename"], "f4999.js", "the newest frames are kept");
        assert_eq!(r.title.chars().count(), MAX_TEXT + 1);
        assert!(serde_json::to_vec(&r).unwrap().len() < 64 * 1024, "fits a queue message with room to spare");
    }

    #[test]
    fn both_spellings_and_clock_skew() {
        assert!(is_error_event("error", "created") && is_error_event("event", "created"));
        assert!(is_error_event("event", "event.created") && !is_error_event("issue", "created"));
        let body = br#"{"data":{"event":{"event_id":"e","issue_id":1,"timestamp":4102444800.0}}}"#;
        let r = condense_body(body, NOW).unwrap();
        assert_eq!(r.time, format_millis(NOW), "a future event time is capped at now");
        assert_eq!(r.title, "(no title)");
        assert!(condense_body(br#"{"data":{"error":{"event_id":"e"}}}"#, NOW).is_err());
        assert!(condense_body(b"[]", NOW).is_err());
    }

    #[test]
    fn the_issue_id_comes_from_the_urls_when_the_field_is_missing() {
        for url in [
            "https://sentry.io/api/0/issues/1170820242/",
            "https://sentry.io/api/0/organizations/acme/issues/1170820242/",
            "https://acme.sentry.io/organizations/acme/issues/1170820242/events/e1/?project=2",
            "https://sentry.io/organizations/acme/issues/1170820242",
        ] {
            assert_eq!(issue_id_in_url(url).as_deref(), Some("1170820242"), "{url}");
        }
        for url in
            ["https://sentry.io/api/0/issues/", "https://x/issues/PROJ-1/", "https://x/issue/12/", "", "/issues//"]
        {
            assert_eq!(issue_id_in_url(url), None, "{url}");
        }
        let body =
            br#"{"data":{"error":{"event_id":"e","issue_url":"https://sentry.io/api/0/organizations/o/issues/77/"}}}"#;
        assert_eq!(condense_body(body, NOW).unwrap().issue_id, "77");
    }
}
