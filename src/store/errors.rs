//! SQL for the error log (schema: migrations/0005_error_log.sql, bounded by
//! migrations/0019_error_log_bounded.sql).

use crate::sentry::errors::ErrorRecord;
use crate::sql::row_text as text;
use crate::sql::{SqlValue, Stmt};
use serde_json::{json, Map, Value};
use std::collections::HashMap;

/// Events kept per group: the newest ones, which `RECENT_EVENTS` shows.
/// Older events live on only in the counts (the group's and the hourly
/// buckets), so the table is bounded by the groups, not by the traffic.
pub const SAMPLE_PER_GROUP: i32 = 50;

/// A new event, uncounted. A known one (its key in `error_seen`, or still
/// in the sample) is not inserted, so it adds to no count. The key's day is
/// the day of the event's time, which every delivery of the event carries.
const INSERT_EVENT: &str = "\
INSERT INTO error_events (event_id, issue_id, time, level, environment, release, counted)
SELECT ?1, ?2, ?3, ?4, ?5, ?6, 0
WHERE NOT EXISTS (SELECT 1 FROM error_seen
    WHERE day = COALESCE(CAST(julianday(substr(?3, 1, 10)) - 2440587.5 AS INTEGER), 0) AND event_id = ?1)
ON CONFLICT (event_id) DO NOTHING";

/// Adds a group's not-yet-counted events to it, creating the group on its
/// first event (status, and its time, from the issue's card when there is
/// one). Title, the other descriptive fields, the link and the sample follow
/// the newest event. A batch with no new event for the issue writes nothing
/// (e.g. a known event id under a merged issue's new id).
const UPSERT_GROUP: &str = "\
INSERT INTO error_groups (issue_id, installation_uuid, title, culprit, level, platform, project, environment, release,
    status, status_at, event_count, first_seen, last_seen, web_url, sample, sample_at, created_at, updated_at)
SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9,
    COALESCE((SELECT CASE status WHEN 'resolved' THEN 'RESOLVED' WHEN 'ignored' THEN 'IGNORED' ELSE 'OPEN' END
              FROM cards WHERE id = ?1), 'OPEN'),
    COALESCE((SELECT applied_at FROM cards WHERE id = ?1), '1970-01-01T00:00:00.000Z'),
    COUNT(*), MIN(time), MAX(time), ?10, ?11, ?12, ?13, ?13
FROM error_events WHERE issue_id = ?1 AND counted = 0
HAVING COUNT(*) > 0
ON CONFLICT (issue_id) DO UPDATE SET
    event_count = error_groups.event_count + excluded.event_count,
    first_seen = MIN(COALESCE(error_groups.first_seen, excluded.first_seen), COALESCE(excluded.first_seen, error_groups.first_seen)),
    last_seen = MAX(COALESCE(error_groups.last_seen, excluded.last_seen), COALESCE(excluded.last_seen, error_groups.last_seen)),
    installation_uuid = COALESCE(excluded.installation_uuid, error_groups.installation_uuid),
    title = CASE WHEN ?12 >= COALESCE(error_groups.sample_at, '') THEN excluded.title ELSE error_groups.title END,
    culprit = CASE WHEN ?12 >= COALESCE(error_groups.sample_at, '') THEN excluded.culprit ELSE error_groups.culprit END,
    level = CASE WHEN ?12 >= COALESCE(error_groups.sample_at, '') THEN excluded.level ELSE error_groups.level END,
    platform = COALESCE(excluded.platform, error_groups.platform),
    project = COALESCE(excluded.project, error_groups.project),
    environment = CASE WHEN ?12 >= COALESCE(error_groups.sample_at, '') THEN excluded.environment ELSE error_groups.environment END,
    release = CASE WHEN ?12 >= COALESCE(error_groups.sample_at, '') THEN excluded.release ELSE error_groups.release END,
    web_url = CASE WHEN ?12 >= COALESCE(error_groups.sample_at, '') THEN COALESCE(excluded.web_url, error_groups.web_url)
        ELSE error_groups.web_url END,
    sample = CASE WHEN ?12 >= COALESCE(error_groups.sample_at, '') THEN excluded.sample ELSE error_groups.sample END,
    sample_at = MAX(COALESCE(error_groups.sample_at, ''), ?12),
    updated_at = excluded.updated_at";

/// Hourly buckets from the not-yet-counted events of every group at once.
const ADD_HOURLY: &str = "\
INSERT INTO error_hourly (issue_id, hour, count)
SELECT issue_id, substr(time, 1, 13), COUNT(*) FROM error_events WHERE counted = 0 GROUP BY issue_id, substr(time, 1, 13)
ON CONFLICT (issue_id, hour) DO UPDATE SET count = error_hourly.count + excluded.count";

/// The new events' keys (id and day since 1970, as in migrations/0019), so
/// that they stay known after they leave the sample.
const ADD_SEEN: &str = "\
INSERT INTO error_seen (day, event_id)
SELECT COALESCE(CAST(julianday(substr(time, 1, 10)) - 2440587.5 AS INTEGER), 0), event_id
FROM error_events WHERE counted = 0
ON CONFLICT DO NOTHING";

/// Of each group with new events, the events after its `?1`-th newest (in
/// `RECENT_EVENTS` order: time descending, then id) go; they are counted
/// already. One statement for the batch: per group two probes of the index
/// on (issue_id, time DESC, event_id) find that event, and a range of the
/// same index hands over the older ones, so a trim reads about one sample.
const TRIM_SAMPLES: &str = "\
DELETE FROM error_events WHERE event_id IN (
    SELECT e.event_id FROM (
        SELECT g.issue_id,
            (SELECT time FROM error_events WHERE issue_id = g.issue_id
                ORDER BY time DESC, event_id LIMIT 1 OFFSET ?1 - 1) AS t,
            (SELECT event_id FROM error_events WHERE issue_id = g.issue_id
                ORDER BY time DESC, event_id LIMIT 1 OFFSET ?1 - 1) AS id
        FROM (SELECT DISTINCT issue_id FROM error_events WHERE counted = 0) AS g) AS last
    JOIN error_events AS e ON e.issue_id = last.issue_id AND e.time <= last.t
        AND (e.time < last.t OR e.event_id > last.id))";

const MARK_COUNTED: &str = "UPDATE error_events SET counted = 1 WHERE counted = 0";

/// The statements that write a batch of events, for one D1 batch (one
/// round trip, one transaction): each new event, then per group its new
/// events, the hourly buckets, the new events' keys, the samples trimmed,
/// and the rest marked counted. A redelivered event is not inserted again,
/// so it adds to no count.
pub fn ingest(records: &[ErrorRecord], now: &str) -> Vec<Stmt> {
    let mut stmts: Vec<Stmt> = records.iter().map(insert_event).collect();
    let mut newest: HashMap<&str, &ErrorRecord> = HashMap::new();
    for r in records {
        let slot = newest.entry(r.issue_id.as_str()).or_insert(r);
        if r.time > slot.time {
            *slot = r;
        }
    }
    let mut groups: Vec<&ErrorRecord> = newest.into_values().collect();
    groups.sort_by(|a, b| a.issue_id.cmp(&b.issue_id));
    stmts.extend(groups.into_iter().map(|r| upsert_group(r, now)));
    stmts.push(Stmt { sql: ADD_HOURLY, params: vec![] });
    stmts.push(Stmt { sql: ADD_SEEN, params: vec![] });
    stmts.push(Stmt { sql: TRIM_SAMPLES, params: vec![SAMPLE_PER_GROUP.into()] });
    stmts.push(Stmt { sql: MARK_COUNTED, params: vec![] });
    stmts
}

fn insert_event(r: &ErrorRecord) -> Stmt {
    Stmt {
        sql: INSERT_EVENT,
        params: vec![
            r.event_id.as_str().into(),
            r.issue_id.as_str().into(),
            r.time.as_str().into(),
            r.level.clone().into(),
            r.environment.clone().into(),
            r.release.clone().into(),
        ],
    }
}

fn upsert_group(r: &ErrorRecord, now: &str) -> Stmt {
    Stmt {
        sql: UPSERT_GROUP,
        params: vec![
            r.issue_id.as_str().into(),
            r.installation.clone().into(),
            r.title.as_str().into(),
            r.culprit.clone().into(),
            r.level.clone().into(),
            r.platform.clone().into(),
            r.project.clone().into(),
            r.environment.clone().into(),
            r.release.clone().into(),
            r.web_url.clone().into(),
            r.sample.as_str().into(),
            r.time.as_str().into(),
            now.into(),
        ],
    }
}

/// Keeps a group's status in step with its issue (`?2` 'resolved' |
/// 'ignored' | 'unresolved'), order-guarded by `?3`.
const SYNC_STATUS: &str = "\
UPDATE error_groups SET
    status = CASE ?2 WHEN 'resolved' THEN 'RESOLVED' WHEN 'ignored' THEN 'IGNORED' ELSE 'OPEN' END,
    status_at = ?3
WHERE issue_id = ?1 AND status_at <= ?3";

pub fn sync_status(issue_id: &str, sentry_status: &str, applied_at: &str) -> Stmt {
    Stmt { sql: SYNC_STATUS, params: vec![issue_id.into(), sentry_status.into(), applied_at.into()] }
}

/// Filters for `GET /api/errors`; `None` means any.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    pub status: Option<String>,
    pub level: Option<String>,
    pub project: Option<String>,
    pub q: Option<String>,
    /// 'last_seen' (default) | 'first_seen' | 'count'.
    pub sort: Option<String>,
}

/// `?1` status, `?2` level, `?3` project, `?4` LIKE pattern or NULL, `?5` sort.
pub const LIST_GROUPS: &str = "\
SELECT issue_id, title, culprit, level, platform, project, environment, release, status, event_count, first_seen,
    last_seen, web_url, EXISTS (SELECT 1 FROM cards WHERE cards.id = g.issue_id) AS has_card
FROM error_groups AS g
WHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR level = ?2) AND (?3 IS NULL OR project = ?3)
    AND (?4 IS NULL OR title LIKE ?4 ESCAPE '\\' OR culprit LIKE ?4 ESCAPE '\\' OR issue_id = ?6)
ORDER BY CASE WHEN ?5 = 'count' THEN event_count END DESC,
    CASE WHEN ?5 = 'first_seen' THEN first_seen END DESC,
    last_seen DESC, issue_id
LIMIT 500";

pub fn list_params(f: &Filter) -> Vec<SqlValue> {
    let opt = |v: &Option<String>| SqlValue::from(v.clone().filter(|s| !s.trim().is_empty()));
    let q = f.q.clone().filter(|s| !s.trim().is_empty());
    vec![
        opt(&f.status.as_ref().map(|s| s.to_ascii_uppercase())),
        opt(&f.level),
        opt(&f.project),
        SqlValue::from(q.as_deref().map(|q| super::installations::like_pattern(Some(q)))),
        SqlValue::from(f.sort.clone().unwrap_or_else(|| "last_seen".into())),
        SqlValue::from(q.map(|q| q.trim().to_string())),
    ]
}

/// Daily counts since `?1` (a 'YYYY-MM-DD' day), for the list's sparklines.
pub const DAILY_SINCE: &str = "\
SELECT issue_id, substr(hour, 1, 10) AS day, SUM(count) AS count FROM error_hourly
WHERE hour >= ?1 GROUP BY issue_id, day";

pub const GROUP: &str = "\
SELECT issue_id, installation_uuid, title, culprit, level, platform, project, environment, release, status, event_count,
    first_seen, last_seen, web_url, sample, EXISTS (SELECT 1 FROM cards WHERE cards.id = g.issue_id) AS has_card
FROM error_groups AS g WHERE issue_id = ?1";

/// The group's sample, newest first: all of it (`SAMPLE_PER_GROUP`).
pub const RECENT_EVENTS: &str = "\
SELECT event_id, time, level, environment, release FROM error_events WHERE issue_id = ?1
ORDER BY time DESC, event_id LIMIT 50";

/// `?1` issue, `?2` first hour ('YYYY-MM-DDTHH').
pub const HOURLY: &str = "\
SELECT hour, count FROM error_hourly WHERE issue_id = ?1 AND hour >= ?2 ORDER BY hour";

/// `events`: the groups' all-time counts; `distinct_events`: the distinct
/// events inside the retention, from the hourly buckets (the sample holds
/// only the newest of each group).
pub const STATS: &str = "\
SELECT (SELECT COUNT(*) FROM error_groups) AS groups,
    (SELECT COALESCE(SUM(event_count), 0) FROM error_groups) AS events,
    (SELECT COALESCE(SUM(count), 0) FROM error_hourly) AS distinct_events,
    (SELECT COUNT(*) FROM jobs WHERE kind = 'error_event' AND status = 'dead') AS dead_letters";

/// The list answer: groups, each with `trend`, the daily counts of the
/// `days` (oldest first) from `DAILY_SINCE` rows.
pub fn list_json(groups: &[Map<String, Value>], daily: &[Map<String, Value>], days: &[String]) -> Value {
    let mut by_issue: HashMap<String, HashMap<String, i64>> = HashMap::new();
    for row in daily {
        let (Some(issue), Some(day)) = (text(row, "issue_id"), text(row, "day")) else { continue };
        let n = row.get("count").and_then(Value::as_f64).unwrap_or(0.0) as i64;
        by_issue.entry(issue).or_default().insert(day, n);
    }
    let items: Vec<Value> = groups
        .iter()
        .map(|g| {
            let mut item = group_json(g);
            let counts = text(g, "issue_id").and_then(|id| by_issue.get(&id));
            let trend: Vec<i64> = days.iter().map(|d| counts.and_then(|c| c.get(d)).copied().unwrap_or(0)).collect();
            item["trend"] = json!(trend);
            item
        })
        .collect();
    json!({ "groups": items, "days": days })
}

/// One group row as the API shows it; the stored sample is parsed back.
pub fn group_json(g: &Map<String, Value>) -> Value {
    let mut item = Value::Object(g.clone());
    item["has_card"] = json!(g.get("has_card").and_then(Value::as_f64).is_some_and(|n| n != 0.0));
    item["event_count"] = json!(g.get("event_count").and_then(Value::as_f64).unwrap_or(0.0) as i64);
    if let Some(sample) = text(g, "sample") {
        item["sample"] = serde_json::from_str(&sample).unwrap_or(Value::Null);
    }
    item
}

/// Days of history in trends and series.
pub const TREND_DAYS: i64 = 14;

/// `GET /api/errors/{id}`'s answer: the group, its newest events, its
/// hourly counts (`HOURLY`) and those summed per day.
pub fn group_answer(group: &Map<String, Value>, events: &[Map<String, Value>], hourly: &[Map<String, Value>]) -> Value {
    json!({ "group": group_json(group), "events": events, "hourly": hourly, "daily": daily(hourly) })
}

/// Hourly rows (oldest first) summed per day.
pub fn daily(hourly: &[Map<String, Value>]) -> Value {
    let mut days: Vec<(String, i64)> = vec![];
    for row in hourly {
        let Some(day) = text(row, "hour").map(|h| h.chars().take(10).collect::<String>()) else { continue };
        let n = row.get("count").and_then(Value::as_f64).unwrap_or(0.0) as i64;
        match days.last_mut() {
            Some((d, total)) if *d == day => *total += n,
            _ => days.push((day, n)),
        }
    }
    Value::Array(days.into_iter().map(|(day, count)| json!({ "day": day, "count": count })).collect())
}

/// The `n` days ending today ('YYYY-MM-DD', oldest first).
pub fn days_ending(now: crate::time::Millis, n: i64) -> Vec<String> {
    const DAY: i64 = 86_400_000;
    (0..n).rev().map(|back| crate::time::format_millis(now - back * DAY)[..10].to_string()).collect()
}

/// The first hour ('YYYY-MM-DDTHH') of the `days` days ending now.
pub fn hours_since(now: crate::time::Millis, days: i64) -> String {
    crate::time::format_millis(now - days * 86_400_000)[..13].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(event: &str, issue: &str, time: &str) -> ErrorRecord {
        ErrorRecord {
            event_id: event.into(),
            issue_id: issue.into(),
            installation: None,
            title: format!("t-{event}"),
            culprit: None,
            level: Some("error".into()),
            platform: None,
            project: None,
            environment: None,
            release: None,
            time: time.into(),
            web_url: None,
            sample: "{}".into(),
        }
    }

    #[test]
    fn a_batch_is_events_then_one_upsert_per_group_then_buckets() {
        let batch = [rec("e1", "2", "t1"), rec("e2", "1", "t1"), rec("e3", "2", "t3"), rec("e4", "2", "t2")];
        let stmts = ingest(&batch, "now");
        assert_eq!(stmts.len(), 4 + 2 + 4);
        assert_eq!(stmts[4].params[0], SqlValue::Text("1".into()));
        assert_eq!(stmts[5].params[2], SqlValue::Text("t-e3".into()), "the group takes the newest event's title");
        assert_eq!(stmts[6].sql, ADD_HOURLY);
        assert_eq!(stmts[7].sql, ADD_SEEN);
        assert_eq!((stmts[8].sql, &stmts[8].params[..]), (TRIM_SAMPLES, &[SAMPLE_PER_GROUP.into()][..]));
        assert_eq!(stmts[9].sql, MARK_COUNTED);
    }

    #[test]
    fn the_api_lists_the_whole_sample() {
        assert!(RECENT_EVENTS.ends_with(&format!("LIMIT {SAMPLE_PER_GROUP}")), "{RECENT_EVENTS}");
    }

    #[test]
    fn day_and_hour_windows() {
        let now = 1_700_000_000_000; // 2023-11-14T22:13:20Z
        assert_eq!(days_ending(now, 3), vec!["2023-11-12", "2023-11-13", "2023-11-14"]);
        assert_eq!(hours_since(now, 14), "2023-10-31T22");
    }

    #[test]
    fn sparkline_trends_fill_missing_days_with_zero() {
        let row = |pairs: Value| pairs.as_object().unwrap().clone();
        let groups = [row(json!({"issue_id": "1", "event_count": 3, "has_card": 0, "sample": "{\"a\":1}"}))];
        let daily = [row(json!({"issue_id": "1", "day": "2026-01-02", "count": 3}))];
        let days = vec!["2026-01-01".to_string(), "2026-01-02".to_string()];
        let out = list_json(&groups, &daily, &days);
        assert_eq!(out["groups"][0]["trend"], json!([0, 3]));
        assert_eq!(out["groups"][0]["has_card"], false);
        assert_eq!(out["groups"][0]["sample"], json!({"a": 1}));
    }
}
