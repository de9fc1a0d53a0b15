//! The delivery claim: keyed on (delivery id, body digest), redelivered
//! events processed again unless the first attempt succeeded, lost jobs
//! requeued once, unclaim, status updates, and a newer delivery superseding.

use super::*;

#[test]
fn a_redelivery_of_an_event_whose_job_never_ran_is_claimed_again_once() {
    let conn = db::fresh_db();
    let stuck = membership("s-1", "added", "42", "octo");
    let done = membership("s-2", "added", "42", "cat");
    claim_all(&conn, &[stuck.clone(), done.clone()]);
    db::run(&conn, &[gh::set_status(("s-2", &digest("s-2")), "done", None, 1, T0)]);
    let (later, cutoff) = ("2026-01-01T00:20:00.000Z", "2026-01-01T00:10:00.000Z");
    assert_eq!(claim_at(&conn, &stuck, later, cutoff).len(), 1, "queued for 20 min: its job was lost");
    assert!(claim_at(&conn, &stuck, later, cutoff).is_empty(), "re-claimed once, not on every redelivery");
    assert!(claim_at(&conn, &done, later, cutoff).is_empty(), "a finished event is a duplicate");
    let recent = membership("s-3", "added", "42", "dog");
    assert_eq!(claim_at(&conn, &recent, "2026-01-01T00:15:00.000Z", cutoff).len(), 1);
    assert!(claim_at(&conn, &recent, later, cutoff).is_empty(), "queued 5 min ago: still in flight");
}

fn cutoffs(now: &str, queued_before: &str, retrying_before: &str) -> Cutoffs {
    Cutoffs { now: now.into(), queued_before: queued_before.into(), retrying_before: retrying_before.into() }
}

#[test]
fn the_cron_finds_events_whose_job_was_lost_and_requeues_each_once() {
    let conn = db::fresh_db();
    claim_all(&conn, &[team_event("t-1", "edited", "5"), membership("m-1", "removed", "5", "octo")]);
    claim_all(&conn, &[team_event("t-2", "created", "6")]);
    db::run(&conn, &[gh::set_status(("t-2", &digest("t-2")), "done", None, 1, T0)]);
    let sweep = cutoffs("2026-01-01T00:20:00.000Z", "2026-01-01T00:10:00.000Z", "2026-01-01T00:00:00.000Z");
    let rows = db::query(&conn, gh::STUCK, &gh::stuck_params(&sweep));
    let jobs: Vec<Job> = rows.iter().filter_map(gh::stuck_job).collect();
    assert_eq!(jobs.len(), 2, "only the queued ones: {rows:?}");
    let Job::GithubTeam(t) = &jobs[0] else { panic!("{:?}", jobs[0]) };
    assert_eq!(
        (t.delivery.as_str(), t.action, t.team_id.as_str(), t.slug.as_deref()),
        ("t-1", TeamAction::Edited, "5", Some("slug-5"))
    );
    let Job::GithubMembership(m) = &jobs[1] else { panic!("{:?}", jobs[1]) };
    assert_eq!((m.action, m.login.as_str()), (MemberAction::Removed, "octo"));
    let claims = [gh::unstick(("t-1", &digest("t-1")), &sweep), gh::unstick(("m-1", &digest("m-1")), &sweep)];
    db::run(&conn, &claims);
    assert!(db::query(&conn, gh::STUCK, &gh::stuck_params(&sweep)).is_empty(), "claimed: a second sweep finds nothing");
    let later = cutoffs("2026-01-01T00:40:00.000Z", "2026-01-01T00:30:00.000Z", "2026-01-01T00:20:00.000Z");
    let recheck = db::query(&conn, gh::STUCK, &gh::stuck_params(&later));
    assert_eq!(recheck.len(), 2, "still queued 10 minutes after the re-queue: swept again");
}

#[test]
fn a_retrying_event_whose_retry_never_came_is_requeued_after_the_longest_backoff() {
    let conn = db::fresh_db();
    claim_all(&conn, &[team_event("r-1", "created", "7")]);
    // Attempt 1 asked for a retry at T0 (timed out); then the process died with the message.
    db::run(&conn, &[gh::set_status(("r-1", &digest("r-1")), "retrying", Some("timed out"), 1, T0)]);
    let early = cutoffs("2026-01-01T00:20:00.000Z", "2026-01-01T00:10:00.000Z", T0);
    assert!(db::query(&conn, gh::STUCK, &gh::stuck_params(&early)).is_empty(), "its backoff may still be running");
    let late = cutoffs("2026-01-01T01:20:00.000Z", "2026-01-01T01:10:00.000Z", "2026-01-01T00:10:00.000Z");
    let rows = db::query(&conn, gh::STUCK, &gh::stuck_params(&late));
    let jobs: Vec<Job> = rows.iter().filter_map(gh::stuck_job).collect();
    let [Job::GithubTeam(t)] = jobs.as_slice() else { panic!("{rows:?}") };
    assert_eq!((t.delivery.as_str(), t.action), ("r-1", TeamAction::Created));
    assert_eq!(db::run_counted(&conn, &[gh::unstick(("r-1", &digest("r-1")), &late)]), vec![1]);
    assert_eq!(db::run_counted(&conn, &[gh::unstick(("r-1", &digest("r-1")), &late)]), vec![0], "claimed once");
    let row = db::query(&conn, "SELECT status, updated_at FROM github_sync WHERE delivery_id = 'r-1'", &[]);
    assert_eq!((row[0]["status"].as_str(), row[0]["updated_at"].as_str()), (Some("queued"), Some(late.now.as_str())));
    assert!(db::query(&conn, gh::STUCK, &gh::stuck_params(&late)).is_empty());
}

#[test]
fn claim_dedupes_redelivery_and_stores_the_record() {
    let conn = db::fresh_db();
    let rec = membership("d-1", "added", "42", "octo");
    let first = claim(&conn, &rec);
    assert_eq!(first.len(), 1);
    assert_eq!(first[0]["delivery_id"], "d-1");
    assert!(claim(&conn, &rec).is_empty(), "a redelivery is not claimed again");
    let mut other = rec.clone();
    other.action = "removed".into();
    assert!(claim(&conn, &other).is_empty(), "same id, same digest: still a duplicate");
    // Changed (issue 17): the key is (id, body digest), so the same id with
    // another body is another delivery (see the_claim_is_keyed_on_the_body_digest).

    let row = sync_row(&conn, "d-1").expect("row");
    let expect = [
        ("body_sha256", json!(digest("d-1"))),
        ("github_org", json!("acme")),
        ("event", json!("membership")),
        ("action", json!("added")),
        ("team_id", json!("42")),
        ("team_slug", json!("slug-42")),
        ("login", json!("octo")),
        ("status", json!("queued")),
        ("detail", Value::Null),
        ("attempts", json!(0)),
        ("received_at", json!(T0)),
        ("updated_at", json!(T0)),
    ];
    for (key, want) in expect {
        assert_eq!(col(&row, key), &want, "column {key}");
    }
    assert_eq!(db::rows(&conn, "SELECT * FROM github_sync").len(), 1);
}

#[test]
fn claim_keeps_null_login_and_detail_of_a_noop() {
    let conn = db::fresh_db();
    let mut rec = team_event("t-1", "deleted", "7");
    rec.team_slug = None;
    rec.status = "noop";
    rec.detail = Some("why".into());
    claim_all(&conn, &[rec]);
    let row = sync_row(&conn, "t-1").expect("row");
    assert_eq!(row["login"], Value::Null);
    assert_eq!(row["team_slug"], Value::Null);
    assert_eq!(row["status"], "noop");
    assert_eq!(row["detail"], "why");
}

#[test]
fn unclaim_deletes_only_a_queued_row() {
    let conn = db::fresh_db();
    claim_all(&conn, &[membership("q", "added", "1", "a"), membership("d", "added", "1", "b")]);
    set(&conn, "d", "done", None, 1);
    db::run(&conn, &[gh::unclaim("q", &digest("q")), gh::unclaim("d", &digest("d"))]);
    assert!(sync_row(&conn, "q").is_none(), "queued row forgotten");
    assert_eq!(sync_row(&conn, "d").expect("done row kept")["status"], "done");
    assert_eq!(claim(&conn, &membership("q", "added", "1", "a")).len(), 1, "redelivery taken as new");
}

#[test]
fn set_status_updates_and_attempts_only_grow() {
    let conn = db::fresh_db();
    claim_all(&conn, &[membership("d-1", "added", "1", "octo")]);
    set(&conn, "d-1", "retrying", Some("429"), 3);
    let row = sync_row(&conn, "d-1").unwrap();
    assert_eq!((&row["status"], &row["detail"], &row["attempts"]), (&json!("retrying"), &json!("429"), &json!(3)));
    assert_eq!(row["updated_at"], T1);
    assert_eq!(row["received_at"], T0, "arrival time kept");

    set(&conn, "d-1", "done", None, 1);
    let row = sync_row(&conn, "d-1").unwrap();
    assert_eq!((&row["status"], &row["detail"], &row["attempts"]), (&json!("done"), &Value::Null, &json!(3)));

    set(&conn, "d-1", "failed", Some("x"), u32::MAX);
    assert_eq!(sync_row(&conn, "d-1").unwrap()["attempts"], json!(i32::MAX), "clamped, not wrapped");
    assert!(
        db::try_run(&conn, &[gh::set_status(("d-1", &digest("d-1")), "bogus", None, 0, T2)]).is_err(),
        "status CHECK"
    );
}

#[test]
fn newer_membership_for_same_team_and_login_supersedes() {
    let conn = db::fresh_db();
    claim_all(
        &conn,
        &[
            membership("m-1", "added", "1", "octo"),
            membership("m-2", "added", "1", "other"),
            membership("m-3", "added", "2", "octo"),
        ],
    );
    assert!(!superseded(&conn, "m-1"), "other login / other team do not supersede");
    claim_all(&conn, &[membership("m-4", "removed", "1", "octo")]);
    assert!(superseded(&conn, "m-1"), "older delivery superseded");
    assert!(!superseded(&conn, "m-4"), "newest is not");
    assert!(!superseded(&conn, "m-2"));
    assert!(!superseded(&conn, "m-3"));
    assert!(!superseded(&conn, "unknown"), "unknown delivery");
}

#[test]
fn team_events_supersede_older_team_events_of_that_team_only() {
    let conn = db::fresh_db();
    claim_all(
        &conn,
        &[
            team_event("t-1", "created", "1"),
            team_event("t-2", "created", "2"),
            membership("m-1", "added", "1", "octo"),
        ],
    );
    assert!(!superseded(&conn, "t-1"), "a membership does not supersede a team event");
    claim_all(&conn, &[team_event("t-3", "edited", "1")]);
    assert!(superseded(&conn, "t-1"));
    assert!(!superseded(&conn, "t-2"), "other team");
    assert!(!superseded(&conn, "t-3"));
    assert!(!superseded(&conn, "m-1"), "a team event does not supersede a membership");
}

#[test]
fn a_redelivery_is_processed_again_unless_the_first_attempt_succeeded_or_is_under_way() {
    let conn = db::fresh_db();
    let again = ["failed", "dead", "unmapped", "conflict", "unmanaged", "dry_run"];
    let settled = ["done", "noop", "retrying"];
    for status in again.iter().chain(&settled) {
        let rec = membership(&format!("r-{status}"), "added", "42", "octo");
        claim_all(&conn, std::slice::from_ref(&rec));
        set(&conn, &rec.delivery, status, Some("first attempt"), 2);
    }
    for status in again {
        let rec = membership(&format!("r-{status}"), "added", "42", "octo");
        assert_eq!(claim_at(&conn, &rec, T2, T0).len(), 1, "a {status} delivery is claimed again");
        let row = sync_row(&conn, &rec.delivery).unwrap();
        assert_eq!((&row["status"], &row["detail"]), (&json!("queued"), &Value::Null), "{status}");
        assert_eq!((&row["received_at"], &row["updated_at"], &row["attempts"]), (&json!(T0), &json!(T2), &json!(2)));
        assert!(claim_at(&conn, &rec, T2, T0).is_empty(), "{status}: claimed once; now queued and in flight");
    }
    for status in settled {
        let rec = membership(&format!("r-{status}"), "added", "42", "octo");
        assert!(claim_at(&conn, &rec, T2, T2).is_empty(), "a {status} delivery stays a duplicate");
        assert_eq!(sync_row(&conn, &rec.delivery).unwrap()["status"], status);
    }
    assert_eq!(db::rows(&conn, "SELECT * FROM github_sync").len(), 9, "re-claimed in place, no new rows");
}

#[test]
fn the_claim_is_keyed_on_the_body_digest() {
    let conn = db::fresh_db();
    let real = membership("d-1", "added", "42", "octo");
    // The same delivery id with another signed body is not swallowed.
    let mut other_body = real.clone();
    other_body.body_sha256 = "sha-of-another-body".into();
    claim_all(&conn, &[real.clone(), other_body.clone()]);
    assert!(claim(&conn, &real).is_empty() && claim(&conn, &other_body).is_empty(), "each is deduped on its own");
    // A captured body replayed under another id cannot pre-claim that id.
    let mut captured = real.clone();
    captured.delivery = "d-2".into();
    claim_all(&conn, &[captured]);
    let mut genuine = membership("d-2", "removed", "42", "octo");
    genuine.body_sha256 = "sha-of-the-genuine-d-2".into();
    assert_eq!(claim(&conn, &genuine).len(), 1, "the genuine d-2 is still processed");
    // Each row is updated, re-queued and swept by its own key.
    db::run(&conn, &[gh::set_status(("d-1", "sha-of-another-body"), "done", None, 1, T1)]);
    let statuses: Vec<Value> =
        db::rows(&conn, "SELECT status FROM github_sync WHERE delivery_id = 'd-1' ORDER BY rowid")
            .into_iter()
            .map(|r| r["status"].clone())
            .collect();
    assert_eq!(statuses, [json!("queued"), json!("done")]);
    db::run(&conn, &[gh::unclaim("d-1", &digest("d-1"))]);
    assert_eq!(db::rows(&conn, "SELECT * FROM github_sync WHERE delivery_id = 'd-1'").len(), 1, "only that key");
}

#[test]
fn team_pending_sees_only_that_teams_own_unfinished_events() {
    let conn = db::fresh_db();
    // A membership's prelude: whatever its own row, `earlier` is its team's.
    let pending = |team: &str| {
        let read = gh::prelude_read(team, ("none", "none"), Some("octo"));
        gh::read_prelude(&db::query(&conn, read.sql, &read.params).into_iter().map(Some).collect::<Vec<_>>())
            .unwrap()
            .earlier
    };
    claim_all(&conn, &[team_event("t-1", "created", "1"), membership("m-1", "added", "2", "octo")]);
    assert!(pending("1"), "queued");
    assert!(!pending("2"), "a membership is not the team's own event");
    set(&conn, "t-1", "retrying", Some("429"), 1);
    assert!(pending("1"), "retrying");
    for status in ["done", "failed", "conflict", "dead"] {
        set(&conn, "t-1", status, None, 2);
        assert!(!pending("1"), "{status}: settled");
    }
}

#[test]
fn an_attempt_knows_whether_an_earlier_one_started() {
    let conn = db::fresh_db();
    claim_all(&conn, &[team_event("k-1", "created", "8")]);
    let key = ("k-1", digest("k-1"));
    let job = Job::GithubTeam(sentry_kanban::github::sync::TeamJob {
        delivery: key.0.into(),
        body_sha256: key.1.clone(),
        action: TeamAction::Created,
        team_id: "8".into(),
        slug: None,
    });
    let tried = |conn: &Connection| {
        gh::read_prelude(&db::try_run_first_rows(conn, &gh::prelude(&job)).unwrap()).unwrap().earlier
    };
    assert!(!tried(&conn), "the first attempt: no create was sent before");
    assert!(tried(&conn), "a later attempt, even if the first died before recording anything");
    db::run(&conn, &[gh::set_status((key.0, &key.1), "retrying", Some("timed out"), 1, T0)]);
    let row = db::query(&conn, "SELECT attempts FROM github_sync WHERE delivery_id = 'k-1'", &[]);
    assert_eq!(row[0]["attempts"], 1, "a started attempt counts once");
}

/// The batch that starts a sync job (`settle::start`) counts the attempt
/// and reads, in the same round trip, what the job's first step needs: the
/// same answers as the separate reads it replaced.
#[test]
fn a_sync_jobs_start_batch_counts_the_attempt_and_reads_its_prelude() {
    use sentry_kanban::github::sync::{MembershipJob, TeamJob};
    let conn = db::fresh_db();
    claim_all(&conn, &[team_event("s-1", "created", "8"), membership("s-2", "added", "8", "octo")]);
    db::run(&conn, &[gh::map_team("8", "gh-8", "acme", "team-8", Ownership::Owned, T0)]);
    let team_job = Job::GithubTeam(TeamJob {
        delivery: "s-1".into(),
        body_sha256: digest("s-1"),
        action: TeamAction::Created,
        team_id: "8".into(),
        slug: Some("slug-8".into()),
    });
    let start = |job: &Job, id: &str| {
        let rows = db::try_run_first_rows(&conn, &sentry_kanban::settle::start(id, job, T1)).unwrap();
        let attempt = sentry_kanban::store::installations::attempt_of(rows[0].as_ref());
        (attempt, gh::read_prelude(&rows[1..]).expect("the prelude row"))
    };
    let (attempt, first) = start(&team_job, "msg-1");
    assert_eq!(attempt, 1);
    assert_eq!(first.mapped, team(&conn, "8"), "the map entry TEAM reads");
    assert!(first.mapped.is_some());
    assert!(!first.superseded && !first.earlier, "nothing newer; no attempt before: {first:?}");
    let (attempt, again) = start(&team_job, "msg-1");
    assert_eq!(attempt, 2, "the same message again: its second attempt");
    assert!(again.earlier, "the first attempt started, even though it recorded nothing");
    claim_all(&conn, &[team_event("s-3", "edited", "8")]);
    assert!(start(&team_job, "msg-1").1.superseded, "a newer event for the team");

    let member = Job::GithubMembership(MembershipJob {
        delivery: "s-2".into(),
        body_sha256: digest("s-2"),
        action: MemberAction::Added,
        team_id: "8".into(),
        team_slug: Some("slug-8".into()),
        login: "octo".into(),
        org: Some("acme".into()),
    });
    let (_, m) = start(&member, "msg-2");
    assert_eq!(m.user, Some(("octo".to_string(), None)), "an unmapped login, read");
    assert_eq!(first.user, None, "a team job reads no login");
    db::run(&conn, &[gh::put_user("OCTO", &mapping(Some("m-7"), None), T1)]);
    let (_, m) = start(&member, "msg-2");
    assert_eq!(m.user, Some(("octo".to_string(), user(&conn, "octo"))), "the mapping USER reads, any case");
    assert!(m.user.as_ref().unwrap().1.is_some());
    assert!(m.earlier, "the team's own events are still queued");
    assert!(!m.superseded, "no newer event for this login");
    for key in ["s-1", "s-3"] {
        db::run(&conn, &[gh::set_status((key, &digest(key)), "done", None, 1, T2)]);
    }
    assert!(!start(&member, "msg-2").1.earlier, "the team's events are settled");
    assert_eq!(gh::read_prelude(&[]), None, "no row: nothing known");
    assert_eq!(gh::read_prelude(&[None]), None);
    let plain = Job::Reread(sentry_kanban::sentry::reread::RereadJob { issue: "1".into(), installation: None });
    assert_eq!(sentry_kanban::settle::start("msg-3", &plain, T1).len(), 1, "other jobs read nothing there");
}
