//! An installation's members (updated in place, pruned) and its queue
//! jobs' bookkeeping.

use super::*;

// ---- 6. Members ----------------------------------------------------------

#[test]
fn upsert_member_updates_in_place() {
    let conn = fresh_db();
    run(&conn, &[inst::upsert_member("u1", &member("m1", Some("1"), Some("Jane"), Some("j@x")), &ts(1))]);
    run(&conn, &[inst::upsert_member("u1", &member("m1", Some("1"), Some("Jane Doe"), None), &ts(2))]);
    let all = rows(&conn, "SELECT * FROM members");
    assert_eq!(all.len(), 1);
    assert_eq!(all[0]["name"], "Jane Doe");
    assert_eq!(all[0]["email"], Value::Null, "the newest listing is taken as is");
    assert_eq!(all[0]["updated_at"], ts(2));
    // The same member id in another installation is another row.
    run(&conn, &[inst::upsert_member("u2", &member("m1", Some("1"), Some("Jane"), None), &ts(2))]);
    assert_eq!(rows(&conn, "SELECT * FROM members").len(), 2);
}

#[test]
fn prune_members_drops_only_unseen_members_of_that_installation() {
    let conn = fresh_db();
    run(
        &conn,
        &[
            inst::upsert_member("u1", &member("old", None, Some("Old"), None), &ts(1)),
            inst::upsert_member("u1", &member("kept", None, Some("Kept"), None), &ts(1)),
            inst::upsert_member("u2", &member("other", None, Some("Other"), None), &ts(1)),
        ],
    );
    // A sync starting at ts(10) sees "kept" (and a new member) but not "old".
    run(
        &conn,
        &[
            inst::upsert_member("u1", &member("kept", None, Some("Kept"), None), &ts(10)),
            inst::upsert_member("u1", &member("new", None, Some("New"), None), &ts(11)),
            inst::prune_members("u1", &ts(10)),
        ],
    );
    let left = rows(&conn, "SELECT installation_uuid, member_id FROM members ORDER BY installation_uuid, member_id");
    let left: Vec<(String, String)> = left
        .iter()
        .map(|r| (r["installation_uuid"].as_str().unwrap().into(), r["member_id"].as_str().unwrap().into()))
        .collect();
    assert_eq!(
        left,
        vec![("u1".into(), "kept".into()), ("u1".into(), "new".into()), ("u2".into(), "other".into())],
        "only u1's unseen member is pruned; updated_at == sync start is kept"
    );
}

// ---- 7. Jobs -------------------------------------------------------------

fn start(conn: &Connection, id: &str, kind: &str, installation: &str, now: &str) -> Vec<Map<String, Value>> {
    query(conn, inst::START_JOB, &inst::start_job_params(id, kind, installation, now))
}

fn job(conn: &Connection, id: &str) -> Map<String, Value> {
    query(conn, "SELECT * FROM jobs WHERE id = ?1", &[id.into()]).pop().unwrap_or_else(|| panic!("no job {id}"))
}

fn last_job(conn: &Connection, id: &str, kind: &str, installation: &str) -> Option<String> {
    let found = query(conn, inst::LAST_JOB, &[id.into(), kind.into(), installation.into()]);
    assert!(found.len() <= 1);
    found.first().map(|r| r["id"].as_str().unwrap().to_string())
}

#[test]
fn start_job_counts_attempts() {
    let conn = fresh_db();
    assert_eq!(start(&conn, "m1", "exchange", "u1", &ts(1)), vec![json!({"attempts": 1}).as_object().unwrap().clone()]);
    run(&conn, &inst::finish_job("m1", "retrying", Some("boom"), &ts(2)));
    assert_eq!(start(&conn, "m1", "exchange", "u1", &ts(3))[0]["attempts"], 2);
    let j = job(&conn, "m1");
    assert_eq!(j["status"], "running");
    assert_eq!(j["created_at"], ts(1));
    assert_eq!(j["updated_at"], ts(3));
    assert_eq!(start(&conn, "m2", "exchange", "u1", &ts(4))[0]["attempts"], 1, "another message counts apart");
    assert_eq!(inst::attempt_of(start(&conn, "m1", "exchange", "u1", &ts(5)).first()), 3);
    assert_eq!(inst::attempt_of(None), 1, "no row read: the first attempt");
    assert_eq!(inst::attempt_of(json!({"attempts": null}).as_object()), 1);
}

#[test]
fn finish_job_sets_status_and_error() {
    let conn = fresh_db();
    start(&conn, "m1", "exchange", "u1", &ts(1));
    run(&conn, &inst::finish_job("m1", "retrying", Some("HTTP 502"), &ts(2)));
    let j = job(&conn, "m1");
    assert_eq!(
        (&j["status"], &j["last_error"], &j["updated_at"]),
        (&json!("retrying"), &json!("HTTP 502"), &json!(ts(2)))
    );
    start(&conn, "m1", "exchange", "u1", &ts(3));
    run(&conn, &inst::finish_job("m1", "done", None, &ts(4)));
    let j = job(&conn, "m1");
    assert_eq!((&j["status"], &j["last_error"], &j["attempts"]), (&json!("done"), &Value::Null, &json!(2)));
}

#[test]
fn dead_job_keeps_the_last_error_and_records_unknown_messages() {
    let conn = fresh_db();
    start(&conn, "m1", "exchange", "u1", &ts(1));
    run(&conn, &inst::finish_job("m1", "retrying", Some("HTTP 502"), &ts(2)));
    run(&conn, &[inst::dead_job("m1", "exchange", "u1", "dead-lettered", &ts(3))]);
    let j = job(&conn, "m1");
    assert_eq!(j["status"], "dead");
    assert_eq!(j["last_error"], "HTTP 502", "the real failure is kept");
    assert_eq!(j["attempts"], 1);
    assert_eq!(j["updated_at"], ts(3));

    run(&conn, &[inst::dead_job("m9", "sync_members", "u1", "dead-lettered", &ts(4))]);
    let j = job(&conn, "m9");
    assert_eq!(j["status"], "dead");
    assert_eq!(j["attempts"], 0);
    assert_eq!(j["last_error"], "dead-lettered");
    assert_eq!(j["kind"], "sync_members");
    assert_eq!(j["installation_uuid"], "u1");
}

#[test]
fn last_job_finds_by_id_or_by_a_retrying_job_of_the_same_kind() {
    let conn = fresh_db();
    start(&conn, "m1", "exchange", "u1", &ts(1));
    run(&conn, &inst::finish_job("m1", "retrying", Some("HTTP 502"), &ts(2)));

    let by_id = query(&conn, inst::LAST_JOB, &["m1".into(), "other".into(), "u9".into()]);
    assert_eq!(by_id.len(), 1);
    assert_eq!(
        (&by_id[0]["id"], &by_id[0]["attempts"], &by_id[0]["last_error"]),
        (&json!("m1"), &json!(1), &json!("HTTP 502"))
    );

    assert_eq!(last_job(&conn, "dlq-1", "exchange", "u1").as_deref(), Some("m1"), "a new id finds the retrying job");
    assert_eq!(last_job(&conn, "dlq-1", "exchange", "u2"), None, "not another installation's");
    assert_eq!(last_job(&conn, "dlq-1", "verify", "u1"), None, "not another kind's");

    run(&conn, &inst::finish_job("m1", "done", None, &ts(3)));
    assert_eq!(last_job(&conn, "dlq-1", "exchange", "u1"), None, "a finished job is not the dead message's");
    assert_eq!(last_job(&conn, "m1", "exchange", "u1").as_deref(), Some("m1"), "by id, whatever its status");

    // The id match wins over a newer job of the same kind.
    start(&conn, "m2", "exchange", "u1", &ts(5));
    run(&conn, &inst::finish_job("m2", "retrying", Some("x"), &ts(6)));
    assert_eq!(last_job(&conn, "m1", "exchange", "u1").as_deref(), Some("m1"));
    assert_eq!(last_job(&conn, "dlq-2", "exchange", "u1").as_deref(), Some("m2"));
}

#[test]
fn the_jobs_trim_takes_only_done_rows_beyond_the_kept_window() {
    let conn = fresh_db();
    let top = 2 * i64::from(inst::JOB_ROWS);
    let boundary = top - i64::from(inst::JOB_ROWS);
    // Explicit rowids stand in for thousands of jobs in between; the
    // newest insert (rowid 10,000, a multiple of 16) runs the trim.
    let jobs: [(i64, &str, &str); 7] = [
        (1, "old-done", "done"),
        (2, "old-failed", "failed"),
        (3, "old-retrying", "retrying"),
        (4, "old-dead", "dead"),
        (boundary, "edge-done", "done"),
        (boundary + 1, "kept-done", "done"),
        (top, "newest", "running"),
    ];
    for (rowid, id, status) in jobs {
        conn.execute(
            "INSERT INTO jobs (rowid, id, kind, attempts, status, created_at, updated_at)
            VALUES (?1, ?2, 'exchange', 1, ?3, ?4, ?4)",
            rusqlite::params![rowid, id, status, ts(1)],
        )
        .expect("insert job");
    }
    run(&conn, &inst::finish_job("newest", "done", None, &ts(2)));
    let left: Vec<String> = rows(&conn, "SELECT id FROM jobs ORDER BY rowid")
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(left, ["old-failed", "old-retrying", "old-dead", "kept-done", "newest"]);
}
