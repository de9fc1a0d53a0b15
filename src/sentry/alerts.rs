//! `event_alert` (triggered) and `metric_alert` (critical / warning /
//! resolved) webhooks → alert cards on the board.

use super::errors::WireEvent;
use super::wire::{opt_id, opt_text, Envelope};
use crate::board::{EventAlert, MetricAlert, MetricStatus};
use crate::error::AppError;
use crate::plan::{Plan, Reply, Verdict};
use crate::store;
use crate::time;
use crate::webhook::verdict::Outcome;
use serde::Deserialize;
use serde_json::{json, Value};

/// `data` of `event_alert.triggered`: the event (as in `error.created`) and
/// the rule that fired.
#[derive(Debug, Deserialize)]
struct EventAlertData {
    #[serde(default)]
    event: Option<WireEvent>,
    #[serde(default, deserialize_with = "opt_text")]
    triggered_rule: Option<String>,
    #[serde(default)]
    issue_alert: Option<WireIssueAlert>,
}

#[derive(Debug, Deserialize)]
struct WireIssueAlert {
    #[serde(default, deserialize_with = "opt_text")]
    title: Option<String>,
}

/// `data` of a `metric_alert` webhook: the incident and its descriptions.
#[derive(Debug, Deserialize)]
struct MetricAlertData {
    #[serde(default)]
    metric_alert: Option<WireMetricAlert>,
    #[serde(default, deserialize_with = "opt_text")]
    description_text: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    description_title: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    web_url: Option<String>,
}

#[derive(Debug, Deserialize)]
struct WireMetricAlert {
    #[serde(default, deserialize_with = "opt_id")]
    id: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    title: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    date_started: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    date_detected: Option<String>,
    #[serde(default)]
    projects: Option<Value>,
    #[serde(default)]
    alert_rule: Option<WireAlertRule>,
}

#[derive(Debug, Deserialize)]
struct WireAlertRule {
    #[serde(default, deserialize_with = "opt_text")]
    name: Option<String>,
}

fn bad(message: &str) -> AppError {
    AppError::BadRequest(message.to_string())
}

fn installation(env: &Envelope) -> Option<String> {
    env.installation.as_ref().and_then(|i| i.uuid.clone())
}

/// Plans `event_alert.triggered`; `None` for any other action.
pub fn plan_event_alert(env: &Envelope, applied_at: &str, now: &str) -> Result<Option<Plan>, AppError> {
    if env.action != "triggered" {
        return Ok(None);
    }
    let data = EventAlertData::deserialize(&env.data)
        .map_err(|e| AppError::BadRequest(format!("event_alert webhook with unusable data: {e}")))?;
    let event = data.event.ok_or_else(|| bad("event_alert webhook without data.event"))?;
    let issue_id = event.issue().ok_or_else(|| {
        bad("event_alert webhook without an issue: no data.event.issue_id, issue_url, web_url or url names one")
    })?;
    let rule = data
        .triggered_rule
        .or_else(|| data.issue_alert.and_then(|a| a.title))
        .unwrap_or_else(|| "unnamed rule".to_string());
    let triggered_at = event
        .datetime
        .as_deref()
        .and_then(time::canonical)
        .or_else(|| {
            let secs = event.timestamp.as_ref().and_then(Value::as_f64).filter(|s| s.is_finite() && *s > 0.0)?;
            Some(time::format_millis((secs * 1000.0) as i64))
        })
        .unwrap_or_else(|| applied_at.to_string());
    let alert = EventAlert {
        issue_id,
        rule,
        installation_uuid: installation(env),
        event_id: event.event_id,
        title: event.title,
        culprit: event.culprit,
        level: event.level,
        permalink: event.web_url,
        triggered_at,
    };
    let card = alert.card_id();
    Ok(Some(Plan {
        statements: store::event_alert(&alert, applied_at, now),
        jobs: vec![],
        guard: None,
        reply: Reply::ok(json!({ "ok": true, "alert": card, "issue": alert.issue_id })),
        verdict: Verdict::new("event_alert", &env.action, Outcome::Applied),
    }))
}

/// Plans `metric_alert.critical|warning|resolved` (and `open`, shown as a
/// warning); `None` for any other action.
pub fn plan_metric_alert(env: &Envelope, applied_at: &str, now: &str) -> Result<Option<Plan>, AppError> {
    let Some(status) = MetricStatus::parse(&env.action) else {
        return Ok(None);
    };
    let data = MetricAlertData::deserialize(&env.data)
        .map_err(|e| AppError::BadRequest(format!("metric_alert webhook with unusable data: {e}")))?;
    let m = data.metric_alert.ok_or_else(|| bad("metric_alert webhook without data.metric_alert"))?;
    let id = m.id.ok_or_else(|| bad("metric_alert webhook without data.metric_alert.id"))?;
    let rule = m.alert_rule.and_then(|r| r.name);
    let project = m.projects.as_ref().and_then(Value::as_array).and_then(|p| p.first()).and_then(|p| match p {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        _ => None,
    });
    let started_at = [m.date_started, m.date_detected]
        .iter()
        .flatten()
        .find_map(|t| time::canonical(t))
        .unwrap_or_else(|| applied_at.to_string());
    let alert = MetricAlert {
        id,
        status,
        installation_uuid: installation(env),
        title: rule.clone().or(data.description_title).or(m.title),
        rule,
        detail: data.description_text,
        permalink: data.web_url,
        project,
        started_at,
    };
    Ok(Some(Plan {
        statements: vec![store::metric_alert(&alert, applied_at, now)],
        jobs: vec![],
        guard: None,
        reply: Reply::ok(json!({ "ok": true, "alert": alert.card_id(), "status": status.as_str() })),
        verdict: Verdict::new("metric_alert", &env.action, Outcome::Applied),
    }))
}
