//! The cron sync's SQL (src/store/sync.rs, src/sentry/sync.rs) and the daily
//! retention deletes (src/store/retention.rs) on SQLite with the real
//! migrations: per-organization leases, run bookkeeping and its listing, the
//! sync targets, a fetched page applied under the webhook order guard, and
//! the bounded clean-up of every log table.

use crate::support::db;

use db::{fresh_db, query, rows, run};
use rusqlite::{params, Connection};
use sentry_kanban::board::{AssigneeChange, IssueSnapshot, IssueState, Status};
use sentry_kanban::config::{Config, Internal};
use sentry_kanban::outbound::HttpReply;
use sentry_kanban::sentry::sync::{page_statements, parse_page};
use sentry_kanban::store::{self, retention, sync};
use sentry_kanban::time::{format_millis, Millis};
use serde_json::{Map, Value};

/// A fixed "now" for every test.
const NOW: Millis = 1_800_000_000_000;

/// The stored time `ms` milliseconds after `NOW`.
fn at(ms: i64) -> String {
    format_millis(NOW + ms)
}

/// The first column of every row of `sql`, as text (numbers included).
fn col(conn: &Connection, sql: &str) -> Vec<String> {
    rows(conn, sql)
        .iter()
        .map(|r| match r.values().next().expect("a column") {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect()
}

/// One row by `sql` with `?1` = `key`; panics unless exactly one.
fn one(conn: &Connection, sql: &str, key: &str) -> Map<String, Value> {
    let mut found = query(conn, sql, &[key.into()]);
    assert_eq!(found.len(), 1, "{sql} for {key}: {found:?}");
    found.pop().unwrap()
}

fn claim(conn: &Connection, org: &str, run: &str, until: &str, now: &str) -> Vec<String> {
    let got = query(conn, sync::CLAIM_LEASE, &sync::claim_params(org, run, until, now));
    got.iter().map(|r| r["run_id"].as_str().unwrap().to_string()).collect()
}

fn holder(conn: &Connection, org: &str) -> Option<String> {
    query(conn, sync::LEASE_HOLDER, &[org.into()]).first().map(|r| r["run_id"].as_str().unwrap().to_string())
}

fn holds(conn: &Connection, org: &str, run: &str) -> bool {
    !query(conn, sync::HOLDS_LEASE, &[org.into(), run.into()]).is_empty()
}

#[test]
fn a_lease_is_held_by_one_run_per_organization_until_it_expires_or_finishes() {
    let conn = fresh_db();
    assert_eq!(claim(&conn, "acme", "r1", &at(600_000), &at(0)), ["r1"]);
    assert!(claim(&conn, "acme", "r2", &at(660_000), &at(60_000)).is_empty(), "lease still valid");
    assert!(claim(&conn, "acme", "r2", &at(1_200_000), &at(600_000)).is_empty(), "valid up to lease_until itself");
    assert_eq!(holder(&conn, "acme").as_deref(), Some("r1"));
    assert!(holds(&conn, "acme", "r1") && !holds(&conn, "acme", "r2"));

    assert_eq!(claim(&conn, "beta", "r3", &at(600_000), &at(60_000)), ["r3"], "another organization");
    assert_eq!(claim(&conn, "acme", "r4", &at(1_300_000), &at(600_001)), ["r4"], "expired lease taken over");
    assert!(holds(&conn, "acme", "r4") && !holds(&conn, "acme", "r1"));

    run(&conn, &[sync::start_run("r4", "acme", None, "cron", &at(600_001))]);
    run(&conn, &sync::finish("r4", "done", None, &at(700_000)));
    assert_eq!(holder(&conn, "acme"), None, "finish frees the lease");
    assert_eq!(holder(&conn, "beta").as_deref(), Some("r3"), "other leases stay");
    let done = "SELECT status, finished_at, last_error, updated_at FROM sync_runs WHERE id = ?1";
    let first = one(&conn, done, "r4");
    assert_eq!((first["status"].as_str(), first["finished_at"].as_str()), (Some("done"), Some(&*at(700_000))));

    run(&conn, &sync::finish("r4", "failed", Some("late"), &at(800_000)));
    assert_eq!(one(&conn, done, "r4"), first, "a finished run is not finished again");
    assert_eq!(claim(&conn, "acme", "r5", &at(900_000), &at(800_000)), ["r5"], "free after finish");
}

#[test]
fn a_run_whose_lease_expired_is_closed_as_failed_before_the_next_claim() {
    let conn = fresh_db();
    assert_eq!(claim(&conn, "acme", "r1", &at(600_000), &at(0)), ["r1"]);
    run(&conn, &[sync::start_run("r1", "acme", None, "cron", &at(0))]);
    run(&conn, &[sync::expire_stale("acme", &at(300_000))]);
    assert_eq!(
        one(&conn, "SELECT id, status FROM sync_runs WHERE id = ?1", "r1")["status"],
        "running",
        "lease still valid"
    );
    run(&conn, &[sync::expire_stale("acme", &at(700_000))]);
    let r1 = one(&conn, "SELECT id, status, last_error, finished_at FROM sync_runs WHERE id = ?1", "r1");
    assert_eq!(
        (r1["status"].as_str(), r1["last_error"].as_str()),
        (Some("failed"), Some("stopped: its lease expired"))
    );
    assert_eq!(r1["finished_at"].as_str(), Some(at(700_000).as_str()));
    assert_eq!(claim(&conn, "acme", "r2", &at(1_300_000), &at(700_000)), ["r2"]);
}

#[test]
fn runs_count_pages_issues_and_errors_and_list_newest_first_with_durations() {
    let conn = fresh_db();
    run(&conn, &[sync::start_run("r1", "acme", Some("u1"), "cron", &at(0))]);
    assert_eq!(claim(&conn, "acme", "r1", &at(600_000), &at(0)), ["r1"]);
    run(&conn, &sync::progress("r1", 100, &at(601_000), &at(1_000)));
    run(&conn, &[sync::page_failed("r1", "timeout", &at(1_500))]);
    run(&conn, &sync::progress("r1", 37, &at(602_000), &at(2_000)));
    let lease = one(&conn, "SELECT lease_until FROM sync_leases WHERE org_slug = ?1", "acme");
    assert_eq!(lease["lease_until"], at(602_000), "each page moves the lease");
    run(&conn, &sync::finish("r1", "done", None, &at(2_500)));

    run(&conn, &[sync::start_run("r2", "beta", None, "manual", &at(10_000))]);
    run(&conn, &sync::progress("r2", 5, &at(610_000), &at(10_750)));
    run(&conn, &[sync::start_run("r3", "gamma", None, "cron", &at(10_000))]);

    let listed = rows(&conn, sync::LIST_RUNS);
    let ids: Vec<&str> = listed.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["r3", "r2", "r1"], "newest first, then id");
    let r1 = &listed[2];
    let got: Vec<&Value> =
        ["org", "trigger", "status", "pages", "issues", "errors", "last_error", "duration_ms"].map(|k| &r1[k]).into();
    let want = serde_json::json!(["acme", "cron", "done", 2, 137, 1, "timeout", 2500]);
    assert_eq!(serde_json::to_value(got).unwrap(), want);
    assert_eq!((r1["started_at"].as_str(), r1["finished_at"].as_str()), (Some(&*at(0)), Some(&*at(2_500))));
    assert_eq!((&listed[1]["duration_ms"], &listed[1]["finished_at"]), (&Value::from(750), &Value::Null));
    assert_eq!(listed[0]["duration_ms"], 0, "a run without progress so far");
}

fn add_installation(conn: &Connection, uuid: &str, org: Option<&str>, status: &str, mode: &str) {
    conn.execute(
        "INSERT INTO installations (uuid, org_slug, status, mode, applied_at, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?5)",
        params![uuid, org, status, mode, at(0)],
    )
    .unwrap();
}

fn internal(org: &str) -> Config {
    Config { internal: Some(Internal { token: "t".into(), org_slug: org.into() }), ..Config::default() }
}

#[test]
fn targets_are_installed_organizations_or_the_internal_one() {
    let conn = fresh_db();
    add_installation(&conn, "u7", Some("zed"), "installed", "public");
    add_installation(&conn, "u1", Some("acme"), "installed", "public");
    add_installation(&conn, "u2", Some("beta"), "pending", "public");
    add_installation(&conn, "u3", Some("gone"), "deleted", "public");
    add_installation(&conn, "u4", Some("delta"), "installed", "internal");
    add_installation(&conn, "u5", None, "installed", "public");
    add_installation(&conn, "u6", Some("eps"), "pending", "internal");
    add_installation(&conn, "u8", Some("omega"), "deleted", "internal");
    let found = rows(&conn, sync::TARGETS);
    let pair = |o: &str, u: Option<&str>| (o.to_string(), u.map(str::to_string));

    assert_eq!(sync::targets(&Config::default(), &found), [pair("acme", Some("u1")), pair("zed", Some("u7"))]);
    assert_eq!(sync::targets(&internal("delta"), &found), [pair("delta", Some("u4"))]);
    assert_eq!(sync::targets(&internal("eps"), &found), [pair("eps", Some("u6"))], "a pending internal row");
    assert_eq!(sync::targets(&internal("acme"), &found), [pair("acme", None)], "a public row is not used");
    assert_eq!(sync::targets(&internal("omega"), &found), [pair("omega", None)], "a deleted row is not used");
    assert_eq!(sync::targets(&internal("new"), &found), [pair("new", None)]);
}

fn webhook_card(conn: &Connection, id: &str, title: &str, applied_at: &str) {
    let snapshot = IssueSnapshot { id: id.into(), title: Some(title.into()), ..IssueSnapshot::default() };
    let state = IssueState { snapshot, status: Status::Unresolved, assignee: AssigneeChange::Keep, birth: false };
    run(conn, &[store::upsert_card(&state, applied_at, applied_at)]);
}

fn add_group(conn: &Connection, issue: &str, status: &str, status_at: &str) {
    conn.execute(
        "INSERT INTO error_groups (issue_id, title, status, status_at, created_at, updated_at)
         VALUES (?1, 'g', ?2, ?3, ?3, ?3)",
        params![issue, status, status_at],
    )
    .unwrap();
}

/// Applies a page with `body`, fetched at `fetched`, as one batch for run r1.
fn apply_page(conn: &Connection, body: &str, fetched: &str, lease_until: &str) -> usize {
    let reply = HttpReply { status: 200, body: body.into(), ..Default::default() };
    let page = parse_page(&reply, Some("u1")).unwrap();
    let stmts = page_statements(&page, "r1", fetched, lease_until, fetched);
    assert_eq!(stmts.len(), page.issues.len() * 2 + 2);
    run(conn, &stmts);
    page.issues.len()
}

fn cards(conn: &Connection) -> Vec<String> {
    col(conn, "SELECT id || ' ' || status || ' ' || title || ' ' || applied_at || ' ' || IFNULL(installation_uuid, '-') FROM cards ORDER BY id")
}

fn groups(conn: &Connection) -> Vec<String> {
    col(conn, "SELECT issue_id || ' ' || status || ' ' || status_at FROM error_groups ORDER BY issue_id")
}

#[test]
fn a_page_applies_under_the_order_guard_and_creates_missing_cards() {
    let conn = fresh_db();
    let (t1, t2, t3) = (at(1_000), at(2_000), at(3_000));
    webhook_card(&conn, "1", "Webhook title", &t2);
    webhook_card(&conn, "9", "Not listed", &t2);
    let untouched = rows(&conn, "SELECT * FROM cards WHERE id = '9'");
    add_group(&conn, "1", "OPEN", &t2);
    add_group(&conn, "2", "OPEN", "1970-01-01T00:00:00.000Z");
    add_group(&conn, "3", "RESOLVED", "1970-01-01T00:00:00.000Z");
    run(&conn, &[sync::start_run("r1", "acme", Some("u1"), "cron", &at(0))]);
    assert_eq!(claim(&conn, "acme", "r1", &at(600_000), &at(0)), ["r1"]);

    let older = r#"[{"id":"1","status":"resolved","title":"Old page"},{"id":"2","status":"ignored","title":"Two"},
        {"id":"3","title":"Three"},{"id":"4","status":"resolved","title":"Four"}]"#;
    assert_eq!(apply_page(&conn, older, &t1, &at(601_000)), 4);
    let mut want = vec![
        format!("1 unresolved Webhook title {t2} -"),
        format!("2 ignored Two {t1} u1"),
        format!("3 unresolved Three {t1} u1"),
        format!("4 resolved Four {t1} u1"),
        format!("9 unresolved Not listed {t2} -"),
    ];
    assert_eq!(cards(&conn), want, "an older page does not overwrite a newer webhook state");
    assert_eq!(groups(&conn), [format!("1 OPEN {t2}"), format!("2 IGNORED {t1}"), format!("3 OPEN {t1}")]);

    let newer = r#"[{"id":"1","status":"resolved","title":"New page"},{"id":"2","status":"unresolved"}]"#;
    assert_eq!(apply_page(&conn, newer, &t3, &at(602_000)), 2);
    want[0] = format!("1 resolved New page {t3} u1");
    want[1] = format!("2 unresolved Two {t3} u1");
    assert_eq!(cards(&conn), want, "a newer page wins; a missing title is kept");
    assert_eq!(groups(&conn), [format!("1 RESOLVED {t3}"), format!("2 OPEN {t3}"), format!("3 OPEN {t1}")]);
    assert_eq!(rows(&conn, "SELECT * FROM cards WHERE id = '9'"), untouched, "issues not listed are left alone");

    let progress = one(&conn, "SELECT pages, issues FROM sync_runs WHERE id = ?1", "r1");
    assert_eq!((&progress["pages"], &progress["issues"]), (&Value::from(2), &Value::from(6)));
    assert_eq!(holder(&conn, "acme").as_deref(), Some("r1"));
    assert_eq!(col(&conn, "SELECT lease_until FROM sync_leases"), [at(602_000)]);
}

/// Inserts one row of each kind retention looks at, named by its fate.
fn seed_retention(conn: &Connection, days: i64) {
    let ago = |d: i64| retention::cutoff(NOW, d);
    let hour = |d: i64| ago(d)[..13].to_string();
    let (old_ev, new_ev) = (ago(days + 1), ago(days - 1));
    let events = [("ev-old", old_ev.clone()), ("ev-new", new_ev.clone()), ("ev-edge", ago(days))];
    for (id, time) in events {
        conn.execute("INSERT INTO error_events (event_id, issue_id, time) VALUES (?1, 'g', ?2)", params![id, time])
            .unwrap();
    }
    for (id, h) in [("h-old", hour(days + 1)), ("h-new", hour(days - 1)), ("h-edge", hour(days))] {
        conn.execute("INSERT INTO error_hourly (issue_id, hour, count) VALUES (?1, ?2, 1)", params![id, h]).unwrap();
    }
    let groups = [
        ("g-resolved-old", "RESOLVED", Some(ago(91)), ago(1)),
        ("g-resolved-recent", "RESOLVED", Some(ago(89)), ago(1)),
        ("g-open-old", "OPEN", Some(ago(91)), ago(91)),
        ("g-ignored-old", "IGNORED", Some(ago(91)), ago(91)),
        ("g-resolved-unseen-old", "RESOLVED", None, ago(91)),
    ];
    for (id, status, last_seen, updated) in groups {
        conn.execute(
            "INSERT INTO error_groups (issue_id, title, status, last_seen, created_at, updated_at)
             VALUES (?1, 't', ?2, ?3, ?4, ?4)",
            params![id, status, last_seen, updated],
        )
        .unwrap();
    }
    // GitHub's newest webhook is older than LOG_DAYS: it stays, for the
    // health page's "last verified".
    for (id, received, source) in [(1, ago(31), "sentry"), (2, ago(29), "sentry"), (3, ago(40), "github")]
        .into_iter()
        .chain([(4, ago(35), "github")])
    {
        conn.execute(
            "INSERT INTO deliveries (id, received_at, source, verdict, status) VALUES (?1, ?2, ?3, 'ok', 200)",
            params![id, received, source],
        )
        .unwrap();
    }
    let logs = [("old-done", "done", 31), ("old-queued", "queued", 31), ("old-retrying", "retrying", 31)];
    let logs = logs.into_iter().chain([("old-failed", "failed", 31), ("new-done", "done", 29)]);
    for (id, status, d) in logs {
        conn.execute(
            "INSERT INTO github_sync (delivery_id, event, action, status, received_at, updated_at)
             VALUES (?1, 'team', 'created', ?2, ?3, ?3)",
            params![id, status, ago(d)],
        )
        .unwrap();
    }
    for (id, status, d) in [("old-done", "done", 31), ("old-running", "running", 31), ("old-retrying", "retrying", 31)]
        .into_iter()
        .chain([("old-dead", "dead", 31), ("new-done", "done", 29)])
    {
        conn.execute(
            "INSERT INTO jobs (id, kind, status, created_at, updated_at) VALUES (?1, 'k', ?2, ?3, ?3)",
            params![id, status, ago(d)],
        )
        .unwrap();
    }
    for (id, status, d) in [("old-done", "done", 31), ("old-running", "running", 31)]
        .into_iter()
        .chain([("old-failed", "failed", 31), ("new-done", "done", 29)])
    {
        conn.execute(
            "INSERT INTO sync_runs (id, org_slug, trigger, status, started_at, updated_at) VALUES (?1, 'o', 'cron', ?2, ?3, ?3)",
            params![id, status, ago(d)],
        )
        .unwrap();
    }
    conn.execute(
        "INSERT INTO cards (id, title, status, applied_at, created_at, updated_at)
         VALUES ('card-1', 't', 'unresolved', ?1, ?1, ?1)",
        params![ago(1)],
    )
    .unwrap();
    // Drift the newest verified delivery (29 days ago) followed, or that
    // never was evidence, goes once its run has counted it.
    let drifts = [("d-reported", "r", 1, 33), ("d-quiet", "r", 0, 1), ("d-unreported", "r", 1, 10)];
    for (id, run_id, evidence, changed) in drifts.into_iter().chain([("d-running", "old-running", 0, 1)]) {
        drift(conn, id, run_id, evidence, &ago(changed), &ago(1));
    }
    let comments = [
        ("c-live-old", "card-1", 0, 400),
        ("c-tomb-old", "card-1", 1, 31),
        ("c-tomb-new", "card-1", 1, 29),
        ("c-orphan", "no-such-card", 0, 1),
    ];
    for (id, issue, deleted, d) in comments {
        conn.execute(
            "INSERT INTO comments (id, issue_id, text, time, deleted, applied_at, created_at, updated_at)
             VALUES (?1, ?2, 'x', ?3, ?4, ?3, ?3, ?3)",
            params![id, issue, ago(d), deleted],
        )
        .unwrap();
    }
}

fn drift(conn: &Connection, issue: &str, run_id: &str, evidence: i32, changed_at: &str, seen_at: &str) {
    conn.execute(
        "INSERT INTO sync_drift (issue_id, run_id, missing, evidence, changed_at, seen_at) VALUES (?1, ?2, 1, ?3, ?4, ?5)",
        params![issue, run_id, evidence, changed_at, seen_at],
    )
    .unwrap();
}

#[test]
fn retention_deletes_exactly_the_old_finished_rows() {
    let conn = fresh_db();
    seed_retention(&conn, 14);
    let stmts = retention::statements(NOW, 14);
    for (stmt, table) in stmts.iter().zip(retention::TABLES) {
        assert!(stmt.sql.starts_with(&format!("DELETE FROM {table} ")), "{table}: {}", stmt.sql);
    }
    assert_eq!(stmts.len(), retention::TABLES.len());
    run(&conn, &stmts);

    let remaining = |sql: &str| col(&conn, sql);
    assert_eq!(remaining("SELECT event_id FROM error_events ORDER BY 1"), ["ev-edge", "ev-new"]);
    assert_eq!(remaining("SELECT issue_id FROM error_hourly ORDER BY 1"), ["h-edge", "h-new"]);
    assert_eq!(
        remaining("SELECT issue_id FROM error_groups ORDER BY 1"),
        ["g-ignored-old", "g-open-old", "g-resolved-recent"]
    );
    assert_eq!(remaining("SELECT id FROM deliveries ORDER BY 1"), ["2", "4"]);
    assert_eq!(remaining("SELECT delivery_id FROM github_sync ORDER BY 1"), ["new-done", "old-queued", "old-retrying"]);
    assert_eq!(remaining("SELECT id FROM jobs ORDER BY 1"), ["new-done", "old-retrying", "old-running"]);
    assert_eq!(remaining("SELECT id FROM sync_runs ORDER BY 1"), ["new-done", "old-running"]);
    // A live comment stays however old; a tombstone only for LOG_DAYS.
    assert_eq!(remaining("SELECT id FROM comments ORDER BY 1"), ["c-live-old", "c-tomb-new"]);
    assert_eq!(remaining("SELECT issue_id FROM sync_drift ORDER BY 1"), ["d-running", "d-unreported"]);
}

#[test]
fn retention_keeps_old_drift_while_it_is_the_silence_alarms_evidence() {
    let conn = fresh_db();
    let ago = |d: i64| retention::cutoff(NOW, d);
    drift(&conn, "unreported", "r", 1, &ago(40), &ago(35));
    drift(&conn, "unassigned", "r", 0, &ago(40), &ago(35));
    run(&conn, &retention::statements(NOW, 30));
    assert_eq!(col(&conn, "SELECT issue_id FROM sync_drift"), ["unreported"], "no Sentry delivery ever followed it");
    conn.execute(
        "INSERT INTO deliveries (id, received_at, source, verdict, status) VALUES (1, ?1, 'sentry', 'ok', 200)",
        params![ago(2)],
    )
    .unwrap();
    run(&conn, &retention::statements(NOW, 30));
    assert!(col(&conn, "SELECT issue_id FROM sync_drift").is_empty(), "a verified delivery followed it");
}

#[test]
fn retention_keeps_the_newest_webhook_so_the_drift_it_followed_stays_reported() {
    let conn = fresh_db();
    let ago = |d: i64| retention::cutoff(NOW, d);
    let running = "INSERT INTO sync_runs (id, org_slug, trigger, status, started_at, updated_at)
        VALUES ('live', 'o', 'cron', 'running', ?1, ?1)";
    conn.execute(running, params![ago(0)]).unwrap();
    drift(&conn, "followed", "finished", 1, &ago(33), &ago(32));
    drift(&conn, "followed-live", "live", 1, &ago(34), &ago(0));
    for (id, days) in [(1, 40), (2, 31)] {
        conn.execute(
            "INSERT INTO deliveries (id, received_at, source, verdict, status) VALUES (?1, ?2, 'sentry', 'ok', 200)",
            params![id, ago(days)],
        )
        .unwrap();
    }
    let unreported = || rows(&conn, store::health::HEALTH)[0]["unreported"].clone();
    assert_eq!(unreported(), Value::from(0));
    run(&conn, &retention::statements(NOW, 30));
    assert_eq!(col(&conn, "SELECT id FROM deliveries"), ["2"], "the newest webhook stays, however old");
    assert_eq!(col(&conn, "SELECT issue_id FROM sync_drift"), ["followed-live"], "its run has not counted it yet");
    assert_eq!(unreported(), Value::from(0), "a change a webhook reported never counts as unreported again");
    let last = rows(&conn, store::health::HEALTH)[0]["sentry_verified_at"].clone();
    assert_eq!(last, Value::from(ago(31)));
}

#[test]
fn retention_keeps_the_newest_live_comments_of_each_card() {
    let conn = fresh_db();
    let keep = retention::COMMENTS_PER_CARD as i64;
    for card in ["a", "b"] {
        conn.execute(
            "INSERT INTO cards (id, title, status, applied_at, created_at, updated_at)
             VALUES (?1, 't', 'unresolved', ?2, ?2, ?2)",
            params![card, at(0)],
        )
        .unwrap();
    }
    let add = |id: &str, card: &str, secs: i64, deleted: i64| {
        conn.execute(
            "INSERT INTO comments (id, issue_id, text, time, deleted, applied_at, created_at, updated_at)
             VALUES (?1, ?2, 'x', ?3, ?4, ?3, ?3, ?3)",
            params![id, card, at(secs * 1000), deleted],
        )
        .unwrap();
    };
    for i in 0..keep + 3 {
        add(&format!("a{i:04}"), "a", i, 0);
    }
    add("a-tomb", "a", keep + 10, 1);
    for i in 0..5 {
        add(&format!("b{i}"), "b", i, 0);
    }
    run(&conn, &retention::statements(NOW, 30));
    let count = |card: &str| col(&conn, &format!("SELECT COUNT(*) FROM comments WHERE issue_id = '{card}'"));
    assert_eq!(count("a"), [(keep + 1).to_string()], "the cap plus the recent tombstone");
    assert_eq!(count("b"), ["5"]);
    let oldest = col(&conn, "SELECT MIN(id) FROM comments WHERE issue_id = 'a' AND deleted = 0");
    assert_eq!(oldest, ["a0003"], "the three oldest went");
    assert_eq!(col(&conn, "SELECT COUNT(*) FROM comments WHERE id = 'a-tomb'"), ["1"]);
}

#[test]
fn retention_deletes_at_most_one_batch_per_statement_per_run() {
    let conn = fresh_db();
    let old = retention::cutoff(NOW, 31);
    conn.execute(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
         INSERT INTO error_events (event_id, issue_id, time) SELECT 'e' || i, 'g', ?2 FROM n",
        params![retention::BATCH + 5, old],
    )
    .unwrap();
    conn.execute("INSERT INTO error_events (event_id, issue_id, time) VALUES ('new', 'g', ?1)", params![at(0)])
        .unwrap();
    let count = || col(&conn, "SELECT COUNT(*) FROM error_events")[0].parse::<i32>().unwrap();
    assert_eq!(count(), retention::BATCH + 6);
    run(&conn, &retention::statements(NOW, 30));
    assert_eq!(count(), 6, "one batch deleted");
    run(&conn, &retention::statements(NOW, 30));
    assert_eq!(col(&conn, "SELECT event_id FROM error_events"), ["new"]);
}

#[test]
fn a_retention_round_is_complete_only_when_every_delete_stayed_under_its_bound() {
    let under: Vec<usize> = retention::TABLES.iter().map(|t| retention::bound(t) as usize - 1).collect();
    assert!(retention::complete(&under));
    for (i, table) in retention::TABLES.iter().enumerate() {
        let mut hit = under.clone();
        hit[i] = retention::bound(table) as usize;
        assert!(!retention::complete(&hit), "{table} hit its bound: rows may be left");
    }
}

#[test]
fn only_a_sentry_delivery_is_replayable() {
    assert!(store::deliveries::replayable("sentry").is_ok());
    for other in ["github", "", "Sentry"] {
        assert_eq!(store::deliveries::replayable(other).map_err(|e| e.status()), Err(400), "{other}");
    }
}
