//! Sentry UI-component requests: select options, issue link (create/link)
//! and alert-rule action. Sentry signs them with `Sentry-App-Signature`
//! over the raw body, which is empty for the select GET.

use super::wire::{opt_id, opt_text};
use crate::config::{Config, MAX_BODY_BYTES};
use crate::error::AppError;
use crate::log::DeliveryLog;
use crate::plan::{Plan, Reply, Verdict};
use crate::store::installations::{self, LinkedCard};
use crate::verify;
use crate::webhook::verdict::Outcome;
use serde::Deserialize;
use serde_json::{json, Map, Value};

/// Authenticates a UI-component request: size, then HMAC over the raw
/// bytes (an empty body is signed as ""), then the optional bearer.
pub fn authenticate(cfg: &Config, signature: Option<&str>, body: &[u8]) -> Result<(), AppError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(AppError::PayloadTooLarge { limit: MAX_BODY_BYTES });
    }
    verify::check_hex_hmac(cfg.sentry_secret.as_deref(), body, signature).map_err(AppError::Unauthorized)
}

/// Which select field is asking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Options {
    Items,
    Users,
}

impl Options {
    /// The action the delivery log records.
    pub fn logged_as(self) -> &'static str {
        match self {
            Options::Items => "options.items",
            Options::Users => "options.users",
        }
    }
}

/// The delivery-log record of a UI-component request: a Sentry request of
/// resource `ui_component` (so it lowers no silence alarm and is never
/// replayed), with the error's code and status or `answered`. `detail` is
/// `detail(result)`.
pub fn log_record<'a>(
    action: &'a str,
    received_at: &'a str,
    request_id: Option<&'a str>,
    result: &Result<Reply, AppError>,
    detail: Option<&'a str>,
    latency_ms: u32,
) -> DeliveryLog<'a> {
    DeliveryLog {
        received_at,
        source: "sentry",
        resource: Some("ui_component"),
        action: Some(action),
        verdict: result.as_ref().map_or_else(|e| e.code(), |_| "answered"),
        status: result.as_ref().map_or_else(AppError::status, |r| r.status),
        request_id,
        detail,
        body_sha256: None,
        latency_ms,
        replay_of: None,
    }
}

/// What the log says of a refused request (the error, never the body).
pub fn detail(result: &Result<Reply, AppError>) -> Option<String> {
    result.as_ref().err().map(|e| format!("{e:?}"))
}

/// The most options one select answer holds (the queries ask for no more).
/// The request is signed over an empty body, so the same signature answers
/// any query string for ever: the answer is kept small.
pub const MAX_OPTIONS: usize = 100;

/// Select options in the shape Sentry validates: `[{label, value}]`, and
/// nothing else from the row. `rows` come from `OPTION_ITEMS` or
/// `OPTION_USERS`. A user label that looks like an email is replaced by
/// `User <id>` here too, whatever the query returned.
pub fn options_json(kind: Options, rows: &[Map<String, Value>]) -> Value {
    let text = |row: &Map<String, Value>, k: &str| match row.get(k) {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    let options: Vec<Value> = rows
        .iter()
        .filter_map(|row| {
            let (value, label) = match kind {
                Options::Items => {
                    let id = text(row, "id")?;
                    let title = text(row, "title").unwrap_or_default();
                    let label = text(row, "short_id").map_or(title.clone(), |s| format!("{s}: {title}"));
                    (id, label)
                }
                Options::Users => {
                    let value = text(row, "value")?;
                    let label = text(row, "label").filter(|l| !l.contains('@') && !l.trim().is_empty());
                    let label = label.unwrap_or_else(|| format!("User {value}"));
                    (value, label)
                }
            };
            Some(json!({ "label": label, "value": value }))
        })
        .take(MAX_OPTIONS)
        .collect();
    Value::Array(options)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkAction {
    Create,
    Link,
}

impl LinkAction {
    fn as_str(self) -> &'static str {
        match self {
            LinkAction::Create => "create",
            LinkAction::Link => "link",
        }
    }

    /// The action the delivery log records.
    pub fn logged_as(self) -> &'static str {
        match self {
            LinkAction::Create => "issue_link.create",
            LinkAction::Link => "issue_link.link",
        }
    }
}

/// The issue-link request body (`IssueLinkRequester.body`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IssueLinkRequest {
    #[serde(default)]
    pub fields: Map<String, Value>,
    #[serde(default, deserialize_with = "opt_id")]
    pub issue_id: Option<String>,
    #[serde(default, deserialize_with = "opt_id")]
    pub installation_id: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    pub web_url: Option<String>,
    #[serde(default)]
    pub project: Option<Project>,
}

#[derive(Debug, Deserialize)]
pub struct Project {
    #[serde(default, deserialize_with = "opt_text")]
    pub slug: Option<String>,
    #[serde(default, deserialize_with = "opt_id")]
    pub id: Option<String>,
}

/// The form field that names the card to link to (a select fed by
/// `/api/sentry/options/items`).
pub const LINK_FIELD: &str = "card";

pub fn parse_issue_link(body: &[u8]) -> Result<IssueLinkRequest, AppError> {
    let req: IssueLinkRequest = serde_json::from_slice(body)
        .map_err(|e| AppError::BadRequest(format!("issue link request is not the expected JSON: {e}")))?;
    if req.issue_id.as_deref().is_none_or(str::is_empty) {
        return Err(AppError::BadRequest("issue link request without issueId".into()));
    }
    Ok(req)
}

/// The card a link request points at: the Sentry issue's own card for
/// create, the selected card for link.
pub fn link_target(action: LinkAction, req: &IssueLinkRequest) -> Result<String, AppError> {
    match action {
        LinkAction::Create => Ok(req.issue_id.clone().unwrap_or_default()),
        LinkAction::Link => field_text(&req.fields, LINK_FIELD)
            .ok_or_else(|| AppError::BadRequest(format!("choose a card to link (field '{LINK_FIELD}')"))),
    }
}

/// Plans create/link once the shell knows whether the target card exists.
/// The reply is what Sentry shows as `<project>#<identifier>`, linking to
/// `board_url` (the board page, with the card in the fragment).
pub fn plan_issue_link(
    action: LinkAction,
    req: &IssueLinkRequest,
    target_exists: bool,
    board_url: &str,
    now: &str,
) -> Result<Plan, AppError> {
    let target = link_target(action, req)?;
    let issue_id = req.issue_id.clone().unwrap_or_default();
    let installation = req.installation_id.as_deref();
    let mut statements = vec![];
    match (action, target_exists) {
        (LinkAction::Link, false) => {
            return Err(AppError::BadRequest(format!("there is no card {target} on the board")))
        }
        (LinkAction::Create, false) => statements.push(installations::create_linked_card(&new_card(req), now)),
        _ => {}
    }
    statements.push(installations::link(&issue_id, &target, installation, now));
    let reply = Reply::ok(json!({
        "webUrl": format!("{}/#card-{}", board_url.trim_end_matches('/'), target),
        "project": "board",
        "identifier": target,
    }));
    Ok(Plan::writes(statements, reply, Verdict::new("issue_link", action.as_str(), Outcome::Applied)))
}

fn new_card(req: &IssueLinkRequest) -> LinkedCard {
    let issue_id = req.issue_id.clone().unwrap_or_default();
    LinkedCard {
        title: field_text(&req.fields, "title").unwrap_or_else(|| format!("Sentry issue {issue_id}")),
        issue_id,
        installation: req.installation_id.clone(),
        permalink: req.web_url.clone(),
        project_id: req.project.as_ref().and_then(|p| p.id.clone()),
        project_slug: req.project.as_ref().and_then(|p| p.slug.clone()),
    }
}

fn field_text(fields: &Map<String, Value>, name: &str) -> Option<String> {
    match fields.get(name)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The alert-rule action body (`SentryAppAlertRuleActionRequester.body`):
/// the rule's settings as `[{name, value}]`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AlertRuleAction {
    #[serde(default)]
    fields: Vec<Setting>,
    #[serde(default, deserialize_with = "opt_id")]
    installation_id: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Setting {
    #[serde(default)]
    name: String,
    #[serde(default)]
    value: Value,
}

/// The columns an alert rule may put its alert cards in.
const RULE_COLUMNS: [&str; 2] = ["TODO", "DOING"];

/// Validates an alert rule's settings when a user saves the rule in
/// Sentry. A 400's `message` is shown to that user, so it says what to fix.
pub fn check_alert_rule_action(body: &[u8]) -> Result<Reply, AppError> {
    let req: AlertRuleAction = serde_json::from_slice(body)
        .map_err(|e| AppError::BadRequest(format!("alert rule settings are not the expected JSON: {e}")))?;
    if req.installation_id.as_deref().is_none_or(str::is_empty) {
        return Err(AppError::BadRequest("the request names no installation (installationId)".into()));
    }
    let column = match req.fields.iter().find(|s| s.name == "column").map(|s| &s.value) {
        None | Some(Value::Null) => "TODO".to_string(),
        Some(Value::String(c)) if RULE_COLUMNS.contains(&c.trim().to_ascii_uppercase().as_str()) => {
            c.trim().to_ascii_uppercase()
        }
        Some(other) => {
            return Err(AppError::BadRequest(format!("column must be one of {}, not {other}", RULE_COLUMNS.join(", "))))
        }
    };
    Ok(Reply::ok(json!({ "message": format!("Alerts from this rule go to the board's {column} column.") })))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::{sign_hex, Rejection};

    #[test]
    fn a_ui_component_request_is_logged_as_answered_or_with_its_errors_code() {
        let ok: Result<Reply, AppError> = Ok(Reply::ok(json!([])));
        let none = detail(&ok);
        let record = log_record(Options::Users.logged_as(), "t", Some("r1"), &ok, none.as_deref(), 7);
        let got = (record.verdict, record.status, record.action, record.resource, record.detail, record.body_sha256);
        assert_eq!(got, ("answered", 200, Some("options.users"), Some("ui_component"), None, None));
        assert_eq!(
            (record.source, record.request_id, record.latency_ms, record.replay_of),
            ("sentry", Some("r1"), 7, None)
        );
        let refused: Result<Reply, AppError> = Err(AppError::Unauthorized(Rejection::BadSignature));
        let why = detail(&refused);
        let record = log_record(LinkAction::Create.logged_as(), "t", None, &refused, why.as_deref(), 1);
        assert_eq!((record.verdict, record.status, record.action), ("bad_signature", 401, Some("issue_link.create")));
        assert!(why.is_some_and(|d| d.contains("BadSignature")));
        assert_eq!(LinkAction::Link.logged_as(), "issue_link.link");
        assert_eq!(Options::Items.logged_as(), "options.items");
    }

    fn cfg() -> Config {
        Config { sentry_secret: Some("s".into()), ..Default::default() }
    }

    #[test]
    fn an_empty_body_is_verified_as_the_empty_string() {
        let good = sign_hex(b"s", b"");
        assert_eq!(authenticate(&cfg(), Some(&good), b""), Ok(()));
        let over_braces = sign_hex(b"s", b"{}");
        assert_eq!(authenticate(&cfg(), Some(&over_braces), b""), Err(AppError::Unauthorized(Rejection::BadSignature)));
        assert_eq!(authenticate(&cfg(), None, b""), Err(AppError::Unauthorized(Rejection::MissingSignature)));
    }

    #[test]
    fn options_have_label_and_value() {
        let row = |pairs: &[(&str, Value)]| pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
        let items = [row(&[("id", json!("42")), ("short_id", json!("FE-1")), ("title", json!("Boom"))])];
        assert_eq!(options_json(Options::Items, &items), json!([{"label": "FE-1: Boom", "value": "42"}]));
        let users = [row(&[("value", json!(7)), ("label", json!("Alice"))]), row(&[("label", json!("x"))])];
        assert_eq!(options_json(Options::Users, &users), json!([{"label": "Alice", "value": "7"}]));
    }

    #[test]
    fn user_options_never_carry_an_email_or_another_column() {
        let row = |pairs: &[(&str, Value)]| pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
        let users = [
            row(&[("value", json!("7")), ("label", json!("bob@example.com")), ("email", json!("bob@example.com"))]),
            row(&[("value", json!("8")), ("label", json!(" "))]),
            row(&[("value", json!("9"))]),
        ];
        assert_eq!(
            options_json(Options::Users, &users),
            json!([{"label": "User 7", "value": "7"}, {"label": "User 8", "value": "8"}, {"label": "User 9", "value": "9"}])
        );
    }

    #[test]
    fn options_are_capped() {
        let rows: Vec<Map<String, Value>> = (0..250)
            .map(|i| {
                [("id".to_string(), json!(i.to_string())), ("title".to_string(), json!("t"))].into_iter().collect()
            })
            .collect();
        let items = options_json(Options::Items, &rows);
        assert_eq!(items.as_array().map(Vec::len), Some(MAX_OPTIONS));
        assert_eq!(items[0], json!({"label": "t", "value": "0"}));
    }

    const CREATE: &str = r#"{"fields":{"title":"Fix it"},"issueId":1,"installationId":"u1","webUrl":"https://sentry.io/organizations/acme/issues/1/","project":{"slug":"fe","id":2},"actor":{"type":"user","id":3,"name":"A"}}"#;

    #[test]
    fn create_makes_a_card_when_none_exists_and_answers_sentrys_shape() {
        let req = parse_issue_link(CREATE.as_bytes()).unwrap();
        let plan = plan_issue_link(LinkAction::Create, &req, false, "https://board.example/", "now").unwrap();
        assert_eq!(plan.statements.len(), 2);
        assert_eq!(plan.statements[0].params[2], crate::sql::SqlValue::Text("Fix it".into()));
        assert_eq!(
            plan.reply.body,
            json!({"webUrl": "https://board.example/#card-1", "project": "board", "identifier": "1"})
        );
        let existing = plan_issue_link(LinkAction::Create, &req, true, "https://b", "now").unwrap();
        assert_eq!(existing.statements.len(), 1, "an existing card is only linked");
    }

    #[test]
    fn link_needs_an_existing_card() {
        let body = CREATE.replace(r#"{"title":"Fix it"}"#, r#"{"card":"77"}"#);
        let req = parse_issue_link(body.as_bytes()).unwrap();
        let plan = plan_issue_link(LinkAction::Link, &req, true, "https://b", "now").unwrap();
        assert_eq!(plan.reply.body["identifier"], "77");
        assert!(matches!(
            plan_issue_link(LinkAction::Link, &req, false, "https://b", "now"),
            Err(AppError::BadRequest(_))
        ));
        let none = parse_issue_link(CREATE.as_bytes()).unwrap();
        assert!(matches!(link_target(LinkAction::Link, &none), Err(AppError::BadRequest(_))));
        assert!(matches!(parse_issue_link(b"{}"), Err(AppError::BadRequest(_))));
        assert!(matches!(parse_issue_link(b""), Err(AppError::BadRequest(_))));
    }

    #[test]
    fn alert_rule_settings_are_validated_with_a_message_for_the_user() {
        let ok = check_alert_rule_action(br#"{"fields":[{"name":"column","value":"doing"}],"installationId":"u1"}"#);
        assert!(ok.unwrap().body["message"].as_str().unwrap().contains("DOING"));
        assert!(check_alert_rule_action(br#"{"fields":[],"installationId":"u1"}"#).is_ok());
        let bad = check_alert_rule_action(br#"{"fields":[{"name":"column","value":"DONE"}],"installationId":"u1"}"#);
        let e = bad.unwrap_err();
        assert_eq!(e.status(), 400);
        assert!(e.body()["message"].as_str().unwrap().contains("TODO, DOING"), "{}", e.body());
        assert!(check_alert_rule_action(br#"{"fields":[]}"#).is_err());
        assert!(check_alert_rule_action(b"").is_err());
    }
}
