//! `event_alert` (triggered) and `metric_alert` (critical / warning /
//! resolved) webhooks → alert cards on the board.

use super::errors::WireEvent;
use super::wire::{opt_id, opt_text, Envelope};
use crate::board::{EventAlert, MetricAlert, MetricStatus};
use crate::error::AppError;
use crate::plan::{Plan, Reply, Verdict};
use crate::store;
use crate::time;
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
        verdict: Verdict::new("event_alert", &env.action, "applied"),
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
        verdict: Verdict::new("metric_alert", &env.action, "applied"),
    }))
}

#[cfg(test)]
mod tests {
    use crate::plan::SqlValue;

    use crate::sentry::hook::tests::deliver;

    const TRIGGERED: &str = r#"{"action":"triggered","actor":{"id":"sentry","name":"Sentry","type":"application"},"data":{"event":{"_ref":1,"culprit":"?(<anonymous>)","datetime":"2019-08-19T21:06:17.677000Z","event_id":"e4874d664c3540c1a32eab185f12c5ab","issue_id":"1117540176","level":"error","project":1,"tags":[["level","error"]],"timestamp":1566248777.677,"title":"ReferenceError: heck is not defined","web_url":"https://sentry.io/organizations/test-org/issues/1117540176/events/e4874d664c3540c1a32eab185f12c5ab/"},"triggered_rule":"Very Important Alert Rule!","issue_alert":{"title":"Very Important Alert Rule!","settings":[]}},"installation":{"uuid":"a8e5d37a"}}"#;

    const METRIC: &str = r#"{"action":"resolved","data":{"description_text":"1000 events in the last 10 minutes","description_title":"Resolved: Too many errors","metric_alert":{"alert_rule":{"id":"7","name":"Too many errors","triggers":[]},"date_started":"2020-09-13T12:26:40.000000Z","id":"4","identifier":"1","projects":["bar"],"status":2,"title":"Sacred Marmot"},"web_url":"https://sentry.io/organizations/baz/alerts/1/"},"installation":{"uuid":"a8e5d37a"}}"#;

    #[test]
    fn an_event_alert_plans_the_card_the_trigger_and_the_count() {
        let plan = deliver("event_alert", TRIGGERED).unwrap();
        assert_eq!(plan.statements.len(), 3);
        let p = &plan.statements[0].params;
        assert_eq!(p[0], SqlValue::Text("event_alert:1117540176:Very Important Alert Rule!".into()));
        assert_eq!(p[2], SqlValue::Text("1117540176".into()));
        assert_eq!(p[4], SqlValue::Text("ReferenceError: heck is not defined".into()));
        assert_eq!(p[6], SqlValue::Text("error".into()));
        assert_eq!(p[9], SqlValue::Text("2019-08-19T21:06:17.677Z".into()));
        assert_eq!(plan.statements[1].params[1], SqlValue::Text("e4874d664c3540c1a32eab185f12c5ab".into()));
        assert_eq!(plan.verdict.outcome, "applied");
    }

    #[test]
    fn event_alerts_find_their_issue_in_the_urls_and_other_actions_are_skipped() {
        let no_issue_id = TRIGGERED.replace(r#""issue_id":"1117540176","#, "");
        let plan = deliver("event_alert", &no_issue_id).unwrap();
        assert_eq!(plan.statements[0].params[2], SqlValue::Text("1117540176".into()), "from web_url");
        let no_issue = no_issue_id.replace("/issues/1117540176/", "/discover/");
        for body in [no_issue.as_str(), r#"{"action":"triggered","data":{}}"#] {
            let plan = deliver("event_alert", body).unwrap();
            assert_eq!((plan.verdict.outcome, plan.reply.status), ("unusable", 200), "{body}");
        }
        let plan = deliver("event_alert", r#"{"action":"snoozed","data":{}}"#).unwrap();
        assert_eq!((plan.statements.len(), plan.verdict.outcome), (0, "skipped"));
    }

    #[test]
    fn a_metric_alert_is_keyed_by_its_id_with_the_level_of_its_status() {
        for (action, level) in [
            ("critical", SqlValue::Text("fatal".into())),
            ("warning", SqlValue::Text("warning".into())),
            ("open", SqlValue::Text("warning".into())),
            ("resolved", SqlValue::Null),
        ] {
            let body = METRIC.replacen(r#""resolved""#, &format!("\"{action}\""), 1);
            let plan = deliver("metric_alert", &body).unwrap();
            let p = &plan.statements[0].params;
            assert_eq!(p[0], SqlValue::Text("metric_alert:4".into()), "{action}");
            assert_eq!(p[4], SqlValue::Text("Too many errors".into()), "the rule name is the title");
            assert_eq!(p[6], level, "{action}");
            assert_eq!(p[9], SqlValue::Text("bar".into()));
            assert_eq!(p[10], SqlValue::Text("2020-09-13T12:26:40.000Z".into()));
        }
    }

    #[test]
    fn metric_alerts_need_an_id_and_unknown_actions_are_skipped() {
        let no_id = METRIC.replace(r#""id":"4","#, "");
        assert_eq!(deliver("metric_alert", &no_id).unwrap().verdict.outcome, "unusable");
        let plan = deliver("metric_alert", r#"{"action":"closed","data":{}}"#).unwrap();
        assert_eq!((plan.statements.len(), plan.verdict.outcome), (0, "skipped"));
        let numeric = METRIC.replace(r#""id":"4","#, r#""id":4,"#);
        assert_eq!(
            deliver("metric_alert", &numeric).unwrap().statements[0].params[0],
            SqlValue::Text("metric_alert:4".into())
        );
    }
}
