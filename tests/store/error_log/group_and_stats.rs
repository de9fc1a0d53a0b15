//! One group's page (recent events, hourly series) and the log's stats.

use super::*;

// ---- 7. one group -------------------------------------------------------------------

#[test]
fn group_recent_events_and_hourly_series() {
    let conn = fresh_db();
    let base: Millis = 1_771_200_000_000; // 2026-02-16T00:00:00Z
    let batch: Vec<ErrorRecord> = (0..60)
        .map(|i| ErrorRecord {
            level: Some(if i % 2 == 0 { "error" } else { "warning" }.into()),
            sample: json!({ "event_id": format!("g{i:02}"), "n": i, "exception": [{"type": "E"}] }).to_string(),
            ..rec(&format!("g{i:02}"), "70", &format_millis(base + i * 17 * 60_000))
        })
        .collect();
    // Shuffled across three batches.
    let (mut b1, mut b2, mut b3) = (vec![], vec![], vec![]);
    for (i, r) in batch.iter().enumerate() {
        [&mut b1, &mut b2, &mut b3][i * 7 % 3].push(r.clone());
    }
    b1.reverse();
    for b in [&b2, &b1, &b3] {
        ingest(&conn, b);
    }
    ingest(&conn, &[rec("other", "71", &format_millis(base + 5_000))]);

    let g = group(&conn, "70");
    let item = errors::group_json(&g);
    assert_eq!(item["issue_id"], "70");
    assert_eq!(item["event_count"], 60);
    assert_eq!(item["has_card"], false);
    assert_eq!(item["first_seen"], format_millis(base));
    assert_eq!(item["last_seen"], format_millis(base + 59 * 17 * 60_000));
    assert_eq!(item["sample"], json!({"event_id": "g59", "n": 59, "exception": [{"type": "E"}]}), "parsed back");
    assert_eq!(item["level"], "warning", "the newest event's level");
    assert!(group_row(&conn, "nope").is_none());

    let events = query(&conn, errors::RECENT_EVENTS, &text_params(&["70"]));
    assert_eq!(events.len(), 50);
    let ids: Vec<&str> = events.iter().map(|e| e["event_id"].as_str().unwrap()).collect();
    let expected: Vec<String> = (10..60).rev().map(|i| format!("g{i:02}")).collect();
    assert_eq!(ids, expected, "the 50 newest, newest first");
    let times: Vec<&str> = events.iter().map(|e| e["time"].as_str().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] > w[1]));
    assert_eq!(events[0]["level"], "warning");
    assert_eq!(events[1]["level"], "error");
    assert_eq!(events[0]["environment"], "production");
    assert_eq!(events[0]["release"], "web@1.0.0");
    assert_eq!(query(&conn, errors::RECENT_EVENTS, &text_params(&["71"])).len(), 1);
    assert_eq!(scalar(&conn, "SELECT COUNT(*) FROM error_events WHERE issue_id = '70'"), 50, "only the sample is kept");

    // 60 events 17 minutes apart span 2026-02-16T00 .. T16.
    let since = "2026-02-16T05";
    let series = query(&conn, errors::HOURLY, &text_params(&["70", since]));
    let got: Vec<(String, i64)> =
        series.iter().map(|r| (r["hour"].as_str().unwrap().to_string(), r["count"].as_i64().unwrap())).collect();
    let all: Vec<&ErrorRecord> = batch.iter().collect();
    let want: Vec<(String, i64)> = expected_hourly(&all).into_iter().filter(|(h, _)| h.as_str() >= since).collect();
    assert_eq!(got, want, "ordered by hour, from `since` on");
    assert_eq!(got.first().map(|(h, _)| h.as_str()), Some(since));
    assert_eq!(got.iter().map(|(_, n)| n).sum::<i64>(), batch.iter().filter(|r| &r.time[..13] >= since).count() as i64);
    let whole = query(&conn, errors::HOURLY, &text_params(&["70", errors::hours_since(NOW_MS, 14).as_str()]));
    assert_eq!(whole.iter().map(|r| r["count"].as_i64().unwrap()).sum::<i64>(), 60);
    assert!(query(&conn, errors::HOURLY, &text_params(&["70", "2026-02-17T00"])).is_empty());
}

#[test]
fn group_json_of_a_carded_group_from_a_condensed_event() {
    let conn = fresh_db();
    issue_hook(&conn, "created", "1170820242", 100);
    ingest(
        &conn,
        &[condensed(
            "bb78c1407cea4519aa397afc059c793d",
            "1170820242",
            "2019-08-19T20:58:37.391000Z",
            "ReferenceError: blooopy is not defined",
            "error",
        )],
    );
    let item = errors::group_json(&group(&conn, "1170820242"));
    assert_eq!(item["has_card"], true);
    assert_eq!(item["event_count"], 1);
    assert_eq!(item["title"], "ReferenceError: blooopy is not defined");
    assert_eq!(item["web_url"], "https://example.sentry.io/issues/1170820242/events/bb78c1407cea4519aa397afc059c793d/");
    let sample = &item["sample"];
    assert_eq!(sample["event_id"], "bb78c1407cea4519aa397afc059c793d");
    assert_eq!(sample["exceptions"][0]["type"], "ReferenceError");
    assert_eq!(sample["exceptions"][0]["frames"][0]["lineno"], 3);
    assert_eq!(sample["tags"], json!({"browser": "Chrome 75.0.3770", "level": "error"}));
}

// ---- 8. stats -----------------------------------------------------------------------

#[test]
fn stats_count_groups_events_distinct_events_and_dead_letters() {
    let conn = fresh_db();
    let empty = rows(&conn, errors::STATS);
    assert_eq!(
        empty,
        [json!({"groups": 0, "events": 0, "distinct_events": 0, "dead_letters": 0}).as_object().unwrap().clone()]
    );

    ingest(
        &conn,
        &[
            rec("s1", "81", "2026-02-01T00:00:00.000Z"),
            rec("s2", "81", "2026-02-01T01:00:00.000Z"),
            rec("s3", "82", "2026-02-01T02:00:00.000Z"),
            rec("s1", "81", "2026-02-01T00:00:00.000Z"),
        ],
    );
    ingest(
        &conn,
        &[
            rec("s4", "82", "2026-02-01T03:00:00.000Z"),
            rec("s5", "82", "2026-02-01T04:00:00.000Z"),
            rec("s6", "83", "2026-02-01T05:00:00.000Z"),
            rec("s3", "82", "2026-02-01T02:00:00.000Z"),
        ],
    );
    let t = now();
    run(
        &conn,
        &[
            dead_job("msg-1", "error_event", INSTALL, "D1 unavailable", &t),
            dead_job("msg-2", "error_event", INSTALL, "D1 unavailable", &t),
            dead_job("msg-2", "error_event", INSTALL, "again", &t),
            dead_job("msg-3", "sync_members", INSTALL, "401", &t),
        ],
    );
    conn.execute(
        "INSERT INTO jobs (id, kind, installation_uuid, attempts, status, created_at, updated_at)
         VALUES ('msg-4', 'error_event', ?1, 1, 'retrying', ?2, ?2)",
        [INSTALL, t.as_str()],
    )
    .unwrap();
    let stats = rows(&conn, errors::STATS);
    assert_eq!(stats.len(), 1);
    assert_eq!(
        Value::Object(stats[0].clone()),
        json!({"groups": 3, "events": 6, "distinct_events": 6, "dead_letters": 2})
    );
}

#[test]
fn a_groups_hours_are_summed_per_day_in_order() {
    let hour = |h: &str, n: i64| json!({"hour": h, "count": n}).as_object().unwrap().clone();
    let hourly = [hour("2026-12-01T22:00", 2), hour("2026-12-01T23:00", 3), hour("2026-12-02T00:00", 1)];
    let daily = sentry_kanban::store::errors::daily(&hourly);
    assert_eq!(daily, json!([{"day": "2026-12-01", "count": 5}, {"day": "2026-12-02", "count": 1}]));
    assert_eq!(sentry_kanban::store::errors::daily(&[]), json!([]));
    let group = json!({"issue_id": "7", "event_count": 6.0, "has_card": 0}).as_object().unwrap().clone();
    let events = [json!({"event_id": "e1"}).as_object().unwrap().clone()];
    let answer = sentry_kanban::store::errors::group_answer(&group, &events, &hourly);
    assert_eq!(answer["group"], sentry_kanban::store::errors::group_json(&group));
    assert_eq!((answer["events"].clone(), answer["daily"].clone()), (json!([{"event_id": "e1"}]), daily));
    assert_eq!(answer["hourly"].as_array().map(Vec::len), Some(3));
}
