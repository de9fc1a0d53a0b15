//! The one webhook driver's acks on SQLite with the real migrations, run
//! through a counting executor that stands in for `shell/webhook.rs` (one
//! `run_first_rows` per batch, as on D1; an empty batch is no round trip).
//! The counts are the round trips an ack makes, so a regression fails here.

use crate::support::db;
use crate::support::hook::{arrival, deliver_full, request_id, round_trips};
use crate::support::reread::token_cfg;
use crate::support::sentry::{issue_body, Issue, INSTALLATION};
use rusqlite::Connection;
use sentry_kanban::config::{Config, GithubConfig};
use sentry_kanban::github::hook::{handle, Delivery};
use sentry_kanban::plan::Plan;
use sentry_kanban::sql::Stmt;
use sentry_kanban::verify::{body_digest, sign_hex};
use sentry_kanban::webhook::{self, github as driver, Ack, Received, Settled};
use serde_json::{Map, Value};

type Row = Map<String, Value>;

const SECRET: &str = "driver-secret";
const NOW: &str = "2026-01-01T00:00:00.000Z";
const STUCK: &str = "2025-12-31T23:50:00.000Z";

/// The executor, counting its D1 round trips.
struct Counting {
    conn: Connection,
    round_trips: usize,
}

impl Counting {
    fn batch(&mut self, stmts: &[Stmt]) -> Vec<Option<Row>> {
        if stmts.is_empty() {
            return vec![];
        }
        self.round_trips += 1;
        db::try_run_first_rows(&self.conn, stmts).expect("the ack's batch applies")
    }

    fn execute(&mut self, ack: Ack) -> Settled {
        let rows = self.batch(&ack.statements);
        ack.settle(&rows)
    }
}

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/github/{name}.json", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// One GitHub delivery through the core and the counting executor, as the
/// shell drives it: what the batch settled, and the round trips it took.
fn github(exec: &mut Counting, event: &str, delivery: &str, body: &str) -> (Settled, usize) {
    let cfg =
        Config { github: GithubConfig { secret: Some(SECRET.into()), ..Default::default() }, ..Default::default() };
    let sig = format!("sha256={}", sign_hex(SECRET.as_bytes(), body.as_bytes()));
    let d = Delivery {
        event: Some(event),
        delivery_id: Some(delivery),
        content_type: Some("application/json"),
        signature: Some(&sig),
        body: body.as_bytes(),
    };
    let result = handle(&cfg, &d);
    let digest = body_digest(body.as_bytes());
    let detail = driver::detail(&result);
    let received = Received {
        source: "github",
        received_at: NOW,
        request_id: Some(delivery),
        resource: Some(event),
        replay_of: None,
    };
    let record = webhook::record(&received, driver::done(&result, Some(&digest), &detail), 1);
    let (ack, _) = driver::ack(&result, &record, NOW, STUCK);
    let before = exec.round_trips;
    let settled = exec.execute(ack);
    (settled, exec.round_trips - before)
}

fn logged(conn: &Connection) -> Vec<(String, Option<String>)> {
    db::rows(conn, "SELECT verdict, error FROM deliveries ORDER BY id")
        .iter()
        .map(|r| (r["verdict"].as_str().unwrap_or("").to_string(), r["error"].as_str().map(str::to_string)))
        .collect()
}

#[test]
fn a_github_membership_ack_is_one_round_trip_and_its_redelivery_a_logged_duplicate() {
    let mut exec = Counting { conn: db::fresh_db(), round_trips: 0 };
    let body = fixture("membership-added");
    let (first, trips) = github(&mut exec, "membership", "d-1", &body);
    assert_eq!(trips, 1, "claim and delivery-log row in one batch");
    assert_eq!(first.jobs.len(), 1, "the claim let the job through: {first:?}");
    assert!(first.seen.is_none());
    let (again, trips) = github(&mut exec, "membership", "d-1", &body);
    assert_eq!(trips, 1);
    assert!(again.jobs.is_empty(), "a redelivery under way is not queued twice");
    let (reply, verdict) = again.seen.expect("the batch found it seen");
    assert_eq!((reply.body["duplicate"].as_bool(), verdict.outcome.as_str()), (Some(true), "duplicate"));
    assert_eq!(logged(&exec.conn), [("queued".into(), None), ("duplicate".into(), None)]);
    let facts = db::rows(&exec.conn, "SELECT COUNT(*) AS n FROM webhook_facts");
    assert_eq!(facts[0]["n"], 0, "a batch leaves no facts behind");
}

#[test]
fn a_failed_github_delivery_is_claimed_again_in_one_round_trip() {
    let mut exec = Counting { conn: db::fresh_db(), round_trips: 0 };
    let body = fixture("team-created");
    let (first, _) = github(&mut exec, "team", "t-1", &body);
    assert_eq!(first.jobs.len(), 1);
    let digest = body_digest(body.as_bytes());
    let failed = sentry_kanban::store::github::set_status(("t-1", &digest), "failed", Some("boom"), 1, NOW);
    db::run(&exec.conn, &[failed]);
    let (retry, trips) = github(&mut exec, "team", "t-1", &body);
    assert_eq!((trips, retry.jobs.len(), retry.seen.is_none()), (1, 1, true), "GitHub's Redeliver of a failure runs");
    assert_eq!(logged(&exec.conn).iter().map(|(v, _)| v.as_str()).collect::<Vec<_>>(), ["queued", "queued"]);
}

#[test]
fn a_github_answer_is_one_round_trip_and_a_bad_signature_none() {
    let mut exec = Counting { conn: db::fresh_db(), round_trips: 0 };
    let (ping, trips) = github(&mut exec, "ping", "p-1", &fixture("ping"));
    assert_eq!((trips, ping.jobs.len()), (1, 0), "only the delivery-log row");
    let cfg =
        Config { github: GithubConfig { secret: Some(SECRET.into()), ..Default::default() }, ..Default::default() };
    let body = fixture("team-created");
    let d = Delivery {
        event: Some("team"),
        delivery_id: Some("x"),
        content_type: Some("application/json"),
        signature: Some("sha256=00"),
        body: body.as_bytes(),
    };
    let result = handle(&cfg, &d);
    assert!(result.is_err());
    let received = Received { source: "github", received_at: NOW, ..Default::default() };
    let record = webhook::record(&received, driver::done(&result, None, &None), 1);
    let (ack, _) = driver::ack(&result, &record, NOW, STUCK);
    exec.execute(ack);
    assert_eq!(exec.round_trips, 1, "an unauthenticated request leaves nothing behind");
}

#[test]
fn an_error_event_ack_writes_nothing() {
    let body = r#"{"action":"created","installation":{"uuid":"u1"},"data":{"error":{"event_id":"e1","issue_id":"42","title":"boom"}}}"#;
    let cfg = Config { sentry_secret: Some(SECRET.into()), ..Default::default() };
    let sig = sign_hex(SECRET.as_bytes(), body.as_bytes());
    let d = sentry_kanban::sentry::hook::Delivery {
        resource: Some("error"),
        signature: Some(&sig),
        body: body.as_bytes(),
        ..Default::default()
    };
    let Ok(sentry_kanban::sentry::hook::Step::Ready(plan)) = sentry_kanban::sentry::hook::handle(&cfg, &d, 0) else {
        panic!("an error event is decided without D1");
    };
    assert_eq!((plan.statements.len(), plan.jobs.len()), (0, 1), "queued, no D1 round trip on the ack");
}

/// A Sentry delivery through `support::hook`, as the shell drives it, with
/// the round trips it took.
fn sentry(conn: &Connection, cfg: &Config, resource: &str, body: &str, t: i64) -> (Plan, usize) {
    let before = round_trips();
    let plan = deliver_full(conn, cfg, resource, body.as_bytes(), arrival(t), &request_id());
    (plan, round_trips() - before)
}

/// The core guesses what D1 knows (unseen, a token, the card the action
/// implies) and the batch checks it: the usual deliveries of an issue's life
/// are one round trip each; a guess D1 contradicts is refused by the batch,
/// read and decided again (three), and answers what reading first answers.
#[test]
fn a_sentry_issue_or_comment_ack_is_one_round_trip_and_a_wrong_guess_three() {
    let conn = db::fresh_db();
    let cfg = token_cfg();
    let issue = Issue::new("501");
    let created = issue_body("created", &issue);
    let (plan, trips) = sentry(&conn, &cfg, "issue", &created, 1);
    assert_eq!((trips, plan.verdict.outcome.as_str()), (1, "applied"));
    let resolved = issue_body("resolved", &issue.clone().status("resolved"));
    let (plan, trips) = sentry(&conn, &cfg, "issue", &resolved, 2);
    assert_eq!((trips, plan.verdict.outcome.as_str()), (1, "applied"), "a card to change, as guessed");
    assert_eq!(db::card(&conn, "501")["status"], "resolved");
    let comment = format!(
        r#"{{"action":"created","installation":{{"uuid":"{INSTALLATION}"}},"data":{{"comment_id":7,"issue_id":501,"project_slug":"front-end","timestamp":"2022-03-02T21:51:44.118160Z","comment":"on it"}},"actor":{{"type":"user","id":1,"name":"Jane Doe"}}}}"#
    );
    let (_, trips) = sentry(&conn, &cfg, "comment", &comment, 3);
    assert_eq!(trips, 1);

    // Sentry's retry: the same bytes under a new Request-ID. Not "unseen".
    let (plan, trips) = sentry(&conn, &cfg, "issue", &resolved, 4);
    assert_eq!((trips, plan.verdict.outcome.as_str()), (3, "repeat"));
    // `created` for a card that exists: the guess "no card" is wrong.
    let (plan, trips) = sentry(&conn, &cfg, "issue", &issue_body("created", &issue.clone().title("again")), 5);
    assert_eq!((trips, plan.verdict.outcome.as_str()), (3, "filled"));
    // Without a token to re-read with, the guess "a token" is wrong.
    let (plan, trips) =
        sentry(&conn, &crate::support::hook::cfg(), "issue", &issue_body("created", &Issue::new("502")), 6);
    assert_eq!((trips, plan.verdict.outcome.as_str()), (3, "applied"));
    let guesses = db::rows(&conn, "SELECT COUNT(*) AS n FROM prior_guess");
    assert_eq!(guesses[0]["n"], 0, "a refused check leaves nothing behind");
    let logged = db::rows(&conn, "SELECT COUNT(*) AS n FROM deliveries");
    assert_eq!(logged[0]["n"], 6, "one delivery-log row per delivery, the refused batches' rolled back");
}
