//! The re-read requests' SQL on rusqlite with the real migrations: one job
//! in flight per issue, decided by the batch itself.

use crate::support;

use sentry_kanban::sentry::reread::{self, RereadJob};
use sentry_kanban::store::rereads;
use sentry_kanban::store::rereads::STALE_MS;
use sentry_kanban::time::format_millis;
use support::db::{fresh_db, rows, try_run_first_rows};

const T: i64 = 1_800_000_000_000;

fn request(conn: &rusqlite::Connection, issue: &str, comments: bool, at: i64) -> bool {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let token = format!("delivery-{}", N.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
    request_as(conn, issue, comments, at, &token)
}

fn request_as(conn: &rusqlite::Connection, issue: &str, comments: bool, at: i64, token: &str) -> bool {
    let first = try_run_first_rows(conn, &[rereads::request(issue, Some("u1"), comments, at, token)]).unwrap();
    first[0].as_ref().and_then(|r| r["queue_job"].as_i64()) == Some(1)
}

#[test]
fn the_first_request_queues_the_job_and_later_ones_join_it() {
    let conn = fresh_db();
    assert!(request(&conn, "1", false, T));
    assert!(!request(&conn, "1", true, T + 1000), "a job is in flight");
    assert!(request(&conn, "2", false, T + 1000), "another issue has its own");
    let row = &rows(&conn, "SELECT * FROM rereads WHERE issue_id = '1'")[0];
    assert_eq!(row["comments"], 1, "comments asked for once stay asked for");
    assert_eq!(row["requested_at"], format_millis(T + 1000));
    assert_eq!(row["queued_at"], format_millis(T));
    assert!(request(&conn, "1", false, T + STALE_MS + 1), "a job lost for too long is replaced");
}

#[test]
fn a_job_ends_the_request_or_reads_once_more() {
    let conn = fresh_db();
    let job = RereadJob { issue: "1".into(), installation: None };
    assert!(request(&conn, "1", false, T));
    // Started reading at T + 10; nothing came in meanwhile: done.
    let stmts = reread::statements(None, None, &job, &format_millis(T + 10), &format_millis(T + 20));
    let changed = support::db::run_counted(&conn, &stmts);
    assert_eq!(sentry_kanban::jobs::after_reread(&changed, &job), sentry_kanban::jobs::Outcome::done());
    assert!(rows(&conn, "SELECT * FROM rereads").is_empty());
    assert!(request(&conn, "1", false, T + 30), "the next request queues a new job");

    // A delivery at T + 50, while the job that started at T + 40 was reading.
    assert!(!request(&conn, "1", false, T + 50));
    let stmts = reread::statements(None, None, &job, &format_millis(T + 40), &format_millis(T + 60));
    let changed = support::db::run_counted(&conn, &stmts);
    let again = sentry_kanban::jobs::after_reread(&changed, &job);
    assert_eq!(again, sentry_kanban::jobs::Outcome::follow_up(vec![sentry_kanban::jobs::Job::Reread(job)]));
    assert_eq!(rows(&conn, "SELECT queued_at FROM rereads")[0]["queued_at"], format_millis(T + 60));
    assert!(!request(&conn, "1", false, T + 70), "the follow-up is the job in flight");
}

#[test]
fn a_failed_job_frees_its_issue() {
    let conn = fresh_db();
    assert!(request(&conn, "1", false, T));
    support::db::run(&conn, &[rereads::forget("1")]);
    assert!(request(&conn, "1", false, T + 1), "not blocked by a job that is gone");
}

/// Two deliveries in the same millisecond: only the first queues a job.
#[test]
fn the_same_millisecond_queues_one_job() {
    let conn = fresh_db();
    assert!(request_as(&conn, "1", false, T, "a"));
    assert!(!request_as(&conn, "1", false, T, "b"), "the clock is not the token");
    // A job's follow-up (queued at T + 50) is not mistaken for a delivery either.
    let job = RereadJob { issue: "1".into(), installation: None };
    assert!(!request_as(&conn, "1", false, T + 50, "c"));
    let stmts = reread::statements(None, None, &job, &format_millis(T + 40), &format_millis(T + 50));
    support::db::run_counted(&conn, &stmts);
    assert!(!request_as(&conn, "1", false, T + 50, "d"), "a request in the follow-up's millisecond joins it");
}
