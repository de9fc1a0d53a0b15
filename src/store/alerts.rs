//! SQL for alert cards: event alerts (one card per issue and rule, with
//! their triggers) and metric alerts (one card per incident).

use crate::board::{EventAlert, MetricAlert};
use crate::sql::Stmt;

/// One event-alert card per (issue, rule), updated in place. The card shows
/// the newest event by the event's own time (signed, in the body): a retry
/// of an older trigger arriving late still counts, but does not overwrite it.
const UPSERT_EVENT_ALERT: &str = "\
INSERT INTO alerts (id, kind, installation_uuid, issue_id, rule, title, detail, level, status, permalink,
    event_id, trigger_count, first_triggered, last_triggered, applied_at, created_at, updated_at)
VALUES (?1, 'event_alert', ?2, ?3, ?4, COALESCE(?5, ?4), ?6, ?7, 'triggered', ?8, ?9, 0, ?10, ?10, ?11, ?12, ?12)
ON CONFLICT (id) DO UPDATE SET
    installation_uuid = COALESCE(excluded.installation_uuid, alerts.installation_uuid),
    title = COALESCE(?5, alerts.title),
    detail = COALESCE(excluded.detail, alerts.detail),
    level = COALESCE(excluded.level, alerts.level),
    permalink = COALESCE(excluded.permalink, alerts.permalink),
    event_id = COALESCE(excluded.event_id, alerts.event_id),
    applied_at = excluded.applied_at,
    updated_at = excluded.updated_at
WHERE ?10 >= COALESCE((SELECT MAX(triggered_at) FROM alert_triggers WHERE alert_id = ?1), '')";

/// Remembers the triggering event; a redelivery of the same event is one row.
const INSERT_ALERT_TRIGGER: &str = "\
INSERT INTO alert_triggers (alert_id, event_id, triggered_at) VALUES (?1, ?2, ?3)
ON CONFLICT (alert_id, event_id) DO NOTHING";

/// Count and first/last trigger from the triggers seen, in any order.
const COUNT_ALERT_TRIGGERS: &str = "\
UPDATE alerts SET
    trigger_count = (SELECT COUNT(*) FROM alert_triggers WHERE alert_id = ?1),
    first_triggered = (SELECT MIN(triggered_at) FROM alert_triggers WHERE alert_id = ?1),
    last_triggered = (SELECT MAX(triggered_at) FROM alert_triggers WHERE alert_id = ?1)
WHERE id = ?1";

/// One metric-alert card per metric alert id, updated in place in arrival
/// order. Resolved is final: Sentry closes an incident for good (a new
/// trigger opens a new incident, another id), so nothing that arrives after
/// the resolve (a late critical or warning, the resolve again) changes the
/// card. A resolved delivery (no level) keeps the level shown.
const UPSERT_METRIC_ALERT: &str = "\
INSERT INTO alerts (id, kind, installation_uuid, alert_id, rule, title, detail, level, status, permalink, project,
    first_triggered, last_triggered, applied_at, created_at, updated_at)
VALUES (?1, 'metric_alert', ?2, ?3, ?4, COALESCE(?5, ?4, 'Metric alert ' || ?3), ?6, COALESCE(?7, 'info'), ?8, ?9,
    ?10, ?11, ?12, ?12, ?13, ?13)
ON CONFLICT (id) DO UPDATE SET
    installation_uuid = COALESCE(excluded.installation_uuid, alerts.installation_uuid),
    rule = COALESCE(excluded.rule, alerts.rule),
    title = COALESCE(?5, ?4, alerts.title),
    detail = COALESCE(excluded.detail, alerts.detail),
    level = CASE WHEN alerts.status = 'resolved' THEN alerts.level ELSE COALESCE(?7, alerts.level) END,
    status = CASE WHEN alerts.status = 'resolved' THEN alerts.status ELSE excluded.status END,
    permalink = COALESCE(excluded.permalink, alerts.permalink),
    project = COALESCE(excluded.project, alerts.project),
    first_triggered = MIN(alerts.first_triggered, excluded.first_triggered),
    last_triggered = excluded.last_triggered,
    applied_at = excluded.applied_at,
    updated_at = excluded.updated_at
WHERE alerts.status != 'resolved' AND excluded.applied_at >= alerts.applied_at";

/// The statements that record one firing of an event alert: the card, the
/// triggering event (a redelivery adds nothing), and the trigger count.
pub fn event_alert(a: &EventAlert, applied_at: &str, now: &str) -> Vec<Stmt> {
    let id = a.card_id();
    let event = a.event_id.clone().unwrap_or_else(|| applied_at.to_string());
    vec![
        Stmt {
            sql: UPSERT_EVENT_ALERT,
            params: vec![
                id.clone().into(),
                a.installation_uuid.clone().into(),
                a.issue_id.clone().into(),
                a.rule.clone().into(),
                a.title.clone().into(),
                a.culprit.clone().into(),
                a.level.clone().into(),
                a.permalink.clone().into(),
                a.event_id.clone().into(),
                a.triggered_at.clone().into(),
                applied_at.into(),
                now.into(),
            ],
        },
        Stmt {
            sql: INSERT_ALERT_TRIGGER,
            params: vec![id.clone().into(), event.into(), a.triggered_at.clone().into()],
        },
        Stmt { sql: COUNT_ALERT_TRIGGERS, params: vec![id.into()] },
    ]
}

/// The statement that records a metric alert's state, applied at `applied_at`.
pub fn metric_alert(m: &MetricAlert, applied_at: &str, now: &str) -> Stmt {
    Stmt {
        sql: UPSERT_METRIC_ALERT,
        params: vec![
            m.card_id().into(),
            m.installation_uuid.clone().into(),
            m.id.clone().into(),
            m.rule.clone().into(),
            m.title.clone().into(),
            m.detail.clone().into(),
            m.status.level().map(str::to_string).into(),
            m.status.as_str().into(),
            m.permalink.clone().into(),
            m.project.clone().into(),
            m.started_at.clone().into(),
            applied_at.into(),
            now.into(),
        ],
    }
}
