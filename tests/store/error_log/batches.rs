//! Queue batches into groups: exact counts, seen times and hourly buckets,
//! duplicates counted once, and the newest event describing the group
//! whatever order the batches arrive in.

use super::*;

// ---- 1. one batch ----------------------------------------------------------------

#[test]
fn one_batch_makes_one_group_per_issue_with_exact_counts_seen_times_and_hourly_buckets() {
    let conn = fresh_db();
    let batch = vec![
        rec("a1", "11", "2026-02-01T10:15:00.000Z"),
        rec("b1", "22", "2026-02-01T09:00:00.000Z"),
        rec("a2", "11", "2026-02-01T08:59:59.999Z"),
        rec("c1", "33", "2026-01-31T23:30:00.000Z"),
        rec("a3", "11", "2026-02-02T00:00:00.000Z"),
        rec("b2", "22", "2026-02-01T09:59:00.000Z"),
        rec("a4", "11", "2026-02-01T10:45:00.000Z"),
    ];
    ingest(&conn, &batch);

    assert_eq!(scalar(&conn, "SELECT COUNT(*) FROM error_groups"), 3);
    assert_eq!(scalar(&conn, "SELECT COUNT(*) FROM error_events"), 7);
    assert_eq!(uncounted(&conn), 0);
    for (issue, count, first, last) in [
        ("11", 4, "2026-02-01T08:59:59.999Z", "2026-02-02T00:00:00.000Z"),
        ("22", 2, "2026-02-01T09:00:00.000Z", "2026-02-01T09:59:00.000Z"),
        ("33", 1, "2026-01-31T23:30:00.000Z", "2026-01-31T23:30:00.000Z"),
    ] {
        let g = group(&conn, issue);
        assert_eq!(g["event_count"], count, "{issue}");
        assert_eq!(g["first_seen"], first, "{issue}");
        assert_eq!(g["last_seen"], last, "{issue}");
        assert_eq!(g["title"], format!("Error {issue}"));
        assert_eq!(g["status"], "OPEN", "no card: open");
        assert_eq!(g["installation_uuid"], INSTALL);
        assert_eq!(g["project"], "1");

        let buckets = hourly(&conn, issue);
        assert!(buckets.keys().all(|h| is_hour_key(h)), "{issue}: {buckets:?}");
        assert_eq!(buckets.values().sum::<i64>(), count, "{issue}: buckets sum to the count");
        let mine: Vec<&ErrorRecord> = batch.iter().filter(|r| r.issue_id == issue).collect();
        assert_eq!(buckets, expected_hourly(&mine), "{issue}");
    }
    assert_eq!(
        hourly(&conn, "11"),
        BTreeMap::from([
            ("2026-02-01T08".to_string(), 1),
            ("2026-02-01T10".to_string(), 2),
            ("2026-02-02T00".to_string(), 1)
        ])
    );
}

#[test]
fn condensed_bodies_ingest_like_direct_records() {
    let conn = fresh_db();
    let batch = [
        condensed("e0000000000000000000000000000001", "1170820242", "2019-08-19T20:58:37.391000Z", "T1", "error"),
        condensed("e0000000000000000000000000000002", "1170820242", "2019-08-19T21:10:00+00:00", "T2", "warning"),
    ];
    ingest(&conn, &batch);
    let g = group(&conn, "1170820242");
    assert_eq!(g["event_count"], 2);
    assert_eq!(g["first_seen"], "2019-08-19T20:58:37.391Z", "event times are stored canonically");
    assert_eq!(g["last_seen"], "2019-08-19T21:10:00.000Z");
    assert_eq!(g["title"], "T2");
    assert_eq!(g["level"], "warning");
    assert_eq!(g["platform"], "javascript");
    assert_eq!(g["project"], "1");
    assert_eq!(g["release"], "web@2.0.0");
    assert_eq!(g["installation_uuid"], INSTALL);
    assert_eq!(
        hourly(&conn, "1170820242"),
        BTreeMap::from([("2019-08-19T20".to_string(), 1), ("2019-08-19T21".to_string(), 1)])
    );
}

// ---- 2. duplicates ---------------------------------------------------------------

#[test]
fn a_redelivered_event_counts_once_within_a_batch_and_across_batches() {
    let conn = fresh_db();
    let e = rec("dup", "50", "2026-02-03T04:05:06.000Z");
    ingest(&conn, &[e.clone(), rec("other", "50", "2026-02-03T05:00:00.000Z"), e.clone()]);
    assert_eq!(uncounted(&conn), 0);
    assert_eq!(group(&conn, "50")["event_count"], 2);
    assert_eq!(scalar(&conn, "SELECT COUNT(*) FROM error_events WHERE event_id = 'dup'"), 1);
    let buckets = hourly(&conn, "50");
    assert_eq!(buckets, BTreeMap::from([("2026-02-03T04".to_string(), 1), ("2026-02-03T05".to_string(), 1)]));
    let before = group(&conn, "50");

    // A later batch with only the redelivery (twice).
    ingest(&conn, &[e.clone(), e.clone()]);
    assert_eq!(uncounted(&conn), 0);
    // web_url aside (see the ignored test below), nothing the API shows changes.
    let without_url = |mut g: Map<String, Value>| {
        g.remove("web_url");
        g
    };
    assert_eq!(without_url(group(&conn, "50")), without_url(before));
    assert_eq!(hourly(&conn, "50"), buckets, "hourly unchanged");
    assert_eq!(scalar(&conn, "SELECT COUNT(*) FROM error_events"), 2);

    // A later batch with the redelivery among new events.
    ingest(
        &conn,
        &[rec("new", "50", "2026-02-03T04:30:00.000Z"), e.clone(), rec("n2", "51", "2026-02-03T04:00:00.000Z")],
    );
    assert_eq!(uncounted(&conn), 0);
    assert_eq!(group(&conn, "50")["event_count"], 3);
    assert_eq!(group(&conn, "51")["event_count"], 1);
    assert_eq!(scalar(&conn, "SELECT COUNT(*) FROM error_events WHERE event_id = 'dup'"), 1);
    assert_eq!(
        hourly(&conn, "50"),
        BTreeMap::from([("2026-02-03T04".to_string(), 2), ("2026-02-03T05".to_string(), 1)])
    );
    assert_eq!(
        scalar(&conn, "SELECT SUM(count) FROM error_hourly"),
        scalar(&conn, "SELECT COUNT(*) FROM error_events")
    );
    assert_eq!(
        scalar(&conn, "SELECT SUM(event_count) FROM error_groups"),
        scalar(&conn, "SELECT COUNT(*) FROM error_events")
    );
}

// ---- 3. out of order ---------------------------------------------------------------

#[test]
fn the_newest_event_describes_the_group_whatever_order_batches_arrive_in() {
    let conn = fresh_db();
    ingest(&conn, &[described("e2", "60", "2026-02-10T12:00:00.000Z", "Title two", "culprit two", "error")]);

    // Older event, later batch: first_seen moves, the description stays.
    ingest(&conn, &[described("e1", "60", "2026-02-01T12:00:00.000Z", "Title one", "culprit one", "warning")]);
    let g = group(&conn, "60");
    assert_eq!(g["event_count"], 2);
    assert_eq!(g["first_seen"], "2026-02-01T12:00:00.000Z");
    assert_eq!(g["last_seen"], "2026-02-10T12:00:00.000Z");
    assert_eq!(g["title"], "Title two");
    assert_eq!(g["culprit"], "culprit two");
    assert_eq!(g["level"], "error");
    assert_eq!(g["environment"], "env-e2");
    assert_eq!(g["release"], "rel-e2");
    assert_eq!(errors::group_json(&g)["sample"], json!({"event_id": "e2", "title": "Title two"}));

    // Newer event: it replaces the description.
    ingest(&conn, &[described("e3", "60", "2026-02-20T12:00:00.000Z", "Title three", "culprit three", "fatal")]);
    let g = group(&conn, "60");
    assert_eq!(g["event_count"], 3);
    assert_eq!(g["first_seen"], "2026-02-01T12:00:00.000Z");
    assert_eq!(g["last_seen"], "2026-02-20T12:00:00.000Z");
    assert_eq!(g["title"], "Title three");
    assert_eq!(g["culprit"], "culprit three");
    assert_eq!(g["level"], "fatal");
    assert_eq!(g["environment"], "env-e3");
    assert_eq!(errors::group_json(&g)["sample"], json!({"event_id": "e3", "title": "Title three"}));

    // One batch with a newer and an older event, the older one last.
    ingest(
        &conn,
        &[
            described("e5", "60", "2026-02-25T12:00:00.000Z", "Title five", "culprit five", "error"),
            described("e4", "60", "2026-01-25T12:00:00.000Z", "Title four", "culprit four", "info"),
        ],
    );
    let g = group(&conn, "60");
    assert_eq!(g["event_count"], 5);
    assert_eq!(g["first_seen"], "2026-01-25T12:00:00.000Z");
    assert_eq!(g["last_seen"], "2026-02-25T12:00:00.000Z");
    assert_eq!(g["title"], "Title five");
    assert_eq!(g["level"], "error");
    assert_eq!(errors::group_json(&g)["sample"], json!({"event_id": "e5", "title": "Title five"}));

    // A batch with only an old event again: still the newest one's description.
    ingest(&conn, &[described("e0", "60", "2025-12-31T23:59:59.999Z", "Title zero", "culprit zero", "debug")]);
    let g = group(&conn, "60");
    assert_eq!(g["event_count"], 6);
    assert_eq!(g["first_seen"], "2025-12-31T23:59:59.999Z");
    assert_eq!(g["title"], "Title five");
    assert_eq!(g["culprit"], "culprit five");
    assert_eq!(hourly(&conn, "60").values().sum::<i64>(), 6);
    assert_eq!(uncounted(&conn), 0);
}

/// `web_url` is the URL of one event (`/issues/<id>/events/<event>/`), but
/// UPSERT_GROUP takes it (like platform, project and installation) from
/// whichever batch ran last, not from the newest event as it does the sample:
/// an older or redelivered event in a later batch repoints it.
#[test]
fn web_url_follows_the_newest_event_like_the_sample() {
    let conn = fresh_db();
    ingest(&conn, &[rec("new", "65", "2026-02-10T00:00:00.000Z")]);
    ingest(&conn, &[rec("old", "65", "2026-02-01T00:00:00.000Z")]);
    let g = errors::group_json(&group(&conn, "65"));
    assert_eq!(g["sample"]["event_id"], "new");
    assert_eq!(g["web_url"], "https://example.sentry.io/issues/65/events/new/");
}
