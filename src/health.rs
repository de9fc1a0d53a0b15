//! Webhook health (issue 20): whether the Sentry webhooks have gone silent,
//! decided from what the syncs found that no webhook had reported. Pure:
//! the shell reads one row (`store::health::HEALTH`) and logs or writes what
//! is decided here.

use crate::time::{format_millis, parse_rfc3339, Millis};
use serde::Serialize;

/// `WEBHOOK_SILENCE_MINUTES` when unset.
pub const DEFAULT_SILENCE_MINUTES: u32 = 30;

/// What the database knows, in one row.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Facts {
    /// The newest verified delivery of each source.
    pub sentry_verified_at: Option<String>,
    pub github_verified_at: Option<String>,
    /// Changes a sync found (issues created, status or assignee drift) that
    /// happened after the newest verified Sentry delivery, and the oldest
    /// of their times.
    pub unreported: u32,
    pub unreported_since: Option<String>,
    /// The newest finished run and its drift counts.
    pub drift: Drift,
    /// The newest finished GitHub reconcile and what it found.
    pub github_drift: GithubDrift,
    /// The Sentry alarm state last logged (`None`: never).
    pub logged_alarm: Option<bool>,
}

/// What the newest finished sync found the webhooks had missed.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Drift {
    pub last_sync_at: Option<String>,
    pub missing: u32,
    pub status: u32,
    pub assignee: u32,
}

/// What the newest finished GitHub reconcile found the webhooks had missed
/// (and, unless `dry_run`, queued jobs to correct).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct GithubDrift {
    pub last_reconcile_at: Option<String>,
    pub dry_run: bool,
    pub teams_missing: u32,
    pub teams_renamed: u32,
    pub members_missing: u32,
    pub members_extra: u32,
}

/// `github` in `/api/webhook-health`: the webhook's health and the drift.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GithubHealth {
    #[serde(flatten)]
    pub webhook: SourceHealth,
    pub drift: GithubDrift,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceHealth {
    pub last_verified_at: Option<String>,
    pub alarm: bool,
    pub reason: Option<String>,
}

/// `GET /api/webhook-health`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Health {
    pub sentry: SourceHealth,
    pub github: GithubHealth,
    pub drift: Drift,
}

/// The Sentry alarm: up while the oldest change a sync found that no
/// verified delivery has followed is older than `silence_minutes`. A verified
/// delivery after every such change brings it down (those changes are then
/// no longer unreported). A time that cannot be read counts as old: an
/// alarm raised by mistake is seen and explained, a silent one is not.
pub fn sentry(facts: &Facts, now: Millis, silence_minutes: u32) -> SourceHealth {
    let last_verified_at = facts.sentry_verified_at.clone();
    let quiet = |alarm| SourceHealth { last_verified_at: last_verified_at.clone(), alarm, reason: None };
    if facts.unreported == 0 {
        return quiet(false);
    }
    let since_ms = facts.unreported_since.as_deref().and_then(parse_rfc3339);
    let limit = now - Millis::from(silence_minutes) * 60_000;
    if since_ms.is_some_and(|t| t > limit) {
        return quiet(false);
    }
    let n = facts.unreported;
    let changes = if n == 1 { "1 change".to_string() } else { format!("{n} changes") };
    let since = since_ms.map(|t| format!(" since {}", minute(t))).unwrap_or_default();
    let last = match last_verified_at.as_deref().and_then(parse_rfc3339) {
        Some(t) => format!("the last verified Sentry delivery was at {}", minute(t)),
        None => "no verified Sentry delivery has ever arrived".to_string(),
    };
    SourceHealth {
        last_verified_at: last_verified_at.clone(),
        alarm: true,
        reason: Some(format!(
            "Sentry has {changes}{since} that no webhook reported ({last}); check the webhook URL and secret"
        )),
    }
}

/// `2026-12-02 14:02 UTC`.
fn minute(t: Millis) -> String {
    let s = format_millis(t);
    format!("{} {} UTC", &s[..10], &s[11..16])
}

/// The whole answer. What the GitHub webhooks missed, the reconcile finds
/// and corrects itself (`github.drift`); its alarm stays down.
pub fn health(facts: &Facts, now: Millis, silence_minutes: u32) -> Health {
    let webhook = SourceHealth { last_verified_at: facts.github_verified_at.clone(), alarm: false, reason: None };
    Health {
        sentry: sentry(facts, now, silence_minutes),
        github: GithubHealth { webhook, drift: facts.github_drift.clone() },
        drift: facts.drift.clone(),
    }
}

/// Whether the Sentry alarm changed since it was last logged: `Some(state)`
/// to log and record, `None` otherwise. A fall is logged only after a rise.
pub fn transition(logged: Option<bool>, alarm: bool) -> Option<bool> {
    match (logged, alarm) {
        (Some(was), now) if was == now => None,
        (None, false) => None,
        (_, now) => Some(now),
    }
}

/// The log line of a rise or fall whose record changed `changed` rows: of
/// two readers that saw the same change, only the one whose write changed
/// the row logs it.
pub fn alarm_line(
    alarm: bool,
    changed: usize,
    sentry: &SourceHealth,
    facts: &Facts,
    seen_by: &str,
) -> Option<serde_json::Value> {
    (changed == 1).then(|| {
        serde_json::json!({
            "event": if alarm { "webhook_alarm_raised" } else { "webhook_alarm_cleared" },
            "source": "sentry", "reason": sentry.reason, "last_verified_at": sentry.last_verified_at,
            "unreported": facts.unreported, "unreported_since": facts.unreported_since, "seen_by": seen_by,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_reader_whose_record_changed_the_row_logs_the_change() {
        let f = facts(Some(40), 3, Some(35));
        let up =
            SourceHealth { last_verified_at: f.sentry_verified_at.clone(), alarm: true, reason: Some("quiet".into()) };
        assert_eq!(alarm_line(true, 0, &up, &f, "sync"), None, "another reader recorded it first");
        let line = alarm_line(true, 1, &up, &f, "sync").expect("logged");
        assert_eq!(
            (&line["event"], &line["reason"], &line["unreported"], &line["seen_by"]),
            (
                &serde_json::json!("webhook_alarm_raised"),
                &serde_json::json!("quiet"),
                &serde_json::json!(3),
                &serde_json::json!("sync")
            )
        );
        assert_eq!(line["unreported_since"], serde_json::json!(ago(35)));
        let down = SourceHealth { alarm: false, reason: None, ..up };
        assert_eq!(alarm_line(false, 1, &down, &f, "health_read").expect("logged")["event"], "webhook_alarm_cleared");
    }

    const NOW: Millis = 1_800_000_000_000; // 2027-01-15T08:00:00.000Z

    fn ago(minutes: i64) -> String {
        format_millis(NOW - minutes * 60_000)
    }

    fn facts(verified: Option<i64>, unreported: u32, since: Option<i64>) -> Facts {
        Facts {
            sentry_verified_at: verified.map(ago),
            unreported,
            unreported_since: since.map(ago),
            ..Facts::default()
        }
    }

    #[test]
    fn no_unreported_change_means_no_alarm_even_without_any_delivery() {
        let h = sentry(&facts(None, 0, None), NOW, 30);
        assert_eq!(h, SourceHealth { last_verified_at: None, alarm: false, reason: None });
    }

    #[test]
    fn an_unreported_change_older_than_the_silence_raises_the_alarm() {
        let h = sentry(&facts(Some(90), 12, Some(31)), NOW, 30);
        assert!(h.alarm);
        assert_eq!(h.last_verified_at, Some(ago(90)));
        assert_eq!(
            h.reason.as_deref(),
            Some(
                "Sentry has 12 changes since 2027-01-15 07:29 UTC that no webhook reported \
                 (the last verified Sentry delivery was at 2027-01-15 06:30 UTC); check the webhook URL and secret"
            )
        );
    }

    #[test]
    fn a_change_younger_than_the_silence_does_not_yet() {
        assert!(!sentry(&facts(Some(90), 3, Some(29)), NOW, 30).alarm);
        assert!(sentry(&facts(Some(90), 3, Some(29)), NOW, 1).alarm, "the window is the setting");
        assert!(sentry(&facts(Some(90), 3, Some(30)), NOW, 30).alarm, "exactly the window counts");
    }

    #[test]
    fn never_a_delivery_is_said_so_and_one_change_is_singular() {
        let h = sentry(&facts(None, 1, Some(600)), NOW, 30);
        let reason = h.reason.unwrap();
        assert!(reason.starts_with("Sentry has 1 change since "), "{reason}");
        assert!(reason.contains("no verified Sentry delivery has ever arrived"), "{reason}");
    }

    #[test]
    fn an_unreadable_change_time_counts_as_old() {
        let mut f = facts(None, 2, None);
        f.unreported_since = Some("yesterday".into());
        let h = sentry(&f, NOW, 30);
        assert!(h.alarm);
        assert!(h.reason.unwrap().starts_with("Sentry has 2 changes that no webhook reported"));
    }

    #[test]
    fn github_reports_its_last_delivery_and_no_alarm() {
        let f = Facts {
            github_verified_at: Some(ago(5)),
            drift: Drift { missing: 4, ..Drift::default() },
            ..facts(None, 9, Some(60))
        };
        let h = health(&f, NOW, 30);
        assert_eq!(h.github.webhook, SourceHealth { last_verified_at: Some(ago(5)), alarm: false, reason: None });
        assert!(h.sentry.alarm);
        let json = serde_json::to_value(&h).unwrap();
        assert_eq!(json["drift"], serde_json::json!({"last_sync_at": null, "missing": 4, "status": 0, "assignee": 0}));
        assert_eq!(json["github"]["reason"], serde_json::Value::Null);
        assert_eq!(json["github"]["last_verified_at"], serde_json::json!(ago(5)));
    }

    #[test]
    fn the_github_drift_is_the_newest_reconciles_findings() {
        let found = GithubDrift {
            last_reconcile_at: Some(ago(60)),
            dry_run: true,
            members_missing: 2,
            members_extra: 1,
            ..GithubDrift::default()
        };
        let f = Facts { github_drift: found, ..Facts::default() };
        let json = serde_json::to_value(health(&f, NOW, 30)).unwrap();
        assert_eq!(
            json["github"]["drift"],
            serde_json::json!({"last_reconcile_at": ago(60), "dry_run": true, "teams_missing": 0,
                "teams_renamed": 0, "members_missing": 2, "members_extra": 1})
        );
        assert_eq!(json["github"]["alarm"], false, "the reconcile corrects it: nothing to raise");
    }

    #[test]
    fn a_rise_and_a_fall_are_each_logged_once() {
        assert_eq!(transition(None, false), None, "nothing fell: it never rose");
        assert_eq!(transition(None, true), Some(true));
        assert_eq!(transition(Some(true), true), None);
        assert_eq!(transition(Some(true), false), Some(false));
        assert_eq!(transition(Some(false), false), None);
        assert_eq!(transition(Some(false), true), Some(true));
    }
}
