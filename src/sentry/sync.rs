//! The cron sync: every Sentry issue of the last 30 days, of every status,
//! page by page into the board and the error log. Each page is one D1
//! batch, under the same order guard as webhooks (a page only overwrites
//! state older than the moment it was fetched). Issues Sentry no longer
//! lists (deleted) are left alone.

use super::wire::WireIssue;
use crate::board::IssueState;
use crate::config::Config;
use crate::error::AppError;
use crate::outbound::{self, CallError, HttpCall, HttpReply};
use crate::percent::encode;
use crate::sql::Stmt;
use crate::store;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// Pages fetched by one queue message before it hands over to the next, so
/// a run of many pages neither waits on the queue for each page nor holds
/// one invocation for long.
pub const PAGES_PER_MESSAGE: u32 = 10;
/// How long a run's lease lasts without progress; every page extends it.
pub const LEASE_MS: i64 = 10 * 60 * 1000;
/// A run of `org` starting at `now_ms`: its id, the instants of its start
/// and of its lease's end, and its first page.
#[derive(Debug, Clone, PartialEq)]
pub struct RunStart {
    pub run: String,
    pub now: String,
    pub until: String,
    pub first: PageJob,
}

pub fn run_start(org: &str, installation: Option<String>, now_ms: crate::time::Millis) -> RunStart {
    let run = format!("{now_ms}-{org}");
    let first = PageJob { run: run.clone(), org: org.to_string(), installation, cursor: None, attempt: 0 };
    RunStart { run, now: crate::time::format_millis(now_ms), until: lease_until(now_ms), first }
}

/// A run whose first page could not be queued: closed as failed at once
/// (the trigger answers the queue's error), so no lease waits on it.
pub fn start_unqueued(run: &str, error: &str, now: &str) -> Vec<Stmt> {
    store::sync::finish(run, "failed", Some(error), now)
}

/// How one organization's start came out.
#[derive(Debug, Clone, PartialEq)]
pub enum OrgStart {
    /// Its lease is held by a run in progress (`running`, when still known).
    Busy {
        running: Option<String>,
    },
    Started {
        run: String,
    },
    /// Its first page could not be queued; the run is closed (`start_unqueued`).
    Unqueued {
        run: String,
        error: AppError,
    },
}

/// The trigger's answer, one entry per organization. Every organization was
/// tried: a queue failure for one does not keep the others from their run.
/// If any run could not be queued the trigger fails with the first such
/// error, so its caller (the cron's log, a manual trigger) sees it; the
/// runs that started stand.
pub fn trigger_answer(starts: Vec<(String, OrgStart)>) -> Result<Vec<Value>, AppError> {
    let mut entries = Vec::with_capacity(starts.len());
    let mut failed = None;
    for (org, start) in starts {
        entries.push(match start {
            OrgStart::Busy { running } => json!({ "org": org, "started": false, "running": running }),
            OrgStart::Started { run } => json!({ "org": org, "started": true, "run": run }),
            OrgStart::Unqueued { error, .. } => {
                failed.get_or_insert(error);
                continue;
            }
        });
    }
    failed.map_or(Ok(entries), Err)
}

/// The end of a run's lease renewed at `now_ms` (each page renews it).
pub fn lease_until(now_ms: crate::time::Millis) -> String {
    crate::time::format_millis(now_ms + LEASE_MS)
}

/// Failed attempts at one page before the run is given up.
pub const MAX_PAGE_ATTEMPTS: u32 = 6;

/// One queue message of a run: fetch pages from `cursor` (`None` = first).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PageJob {
    pub run: String,
    pub org: String,
    /// The installation whose token is used; `None` in internal mode.
    pub installation: Option<String>,
    pub cursor: Option<String>,
    /// Failed attempts at this cursor so far.
    #[serde(default)]
    pub attempt: u32,
}

/// `GET /api/0/organizations/{org}/issues/`: `query=` (empty) means every
/// status; `statsPeriod=30d`; 100 per page, the maximum.
pub fn page_call(cfg: &Config, org: &str, cursor: Option<&str>, bearer: Option<&str>) -> HttpCall {
    let mut url =
        format!("{}/api/0/organizations/{}/issues/?query=&statsPeriod=30d&limit=100", cfg.sentry_api_base, encode(org));
    if let Some(c) = cursor {
        url.push_str(&format!("&cursor={}", encode(c)));
    }
    HttpCall { method: "GET", url, bearer: bearer.map(str::to_string), body: None, headers: vec![] }
}

/// A fetched page: its issues, the next cursor, and how long Sentry asks
/// us to wait before the next call (its rate-limit window is used up).
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub issues: Vec<IssueState>,
    pub next: Option<String>,
    pub wait_secs: u32,
}

/// Reads a page. An issue without an id is skipped, not the whole page.
pub fn parse_page(reply: &HttpReply, installation: Option<&str>) -> Result<Page, CallError> {
    let items: Vec<Value> = outbound::json("list issues", reply)?;
    let issues = items
        .into_iter()
        .filter_map(|v| serde_json::from_value::<WireIssue>(v).ok())
        .map(|w| {
            let (snapshot, assignee) = w.into_snapshot(installation.map(str::to_string));
            IssueState::from_api(snapshot, assignee)
        })
        .collect();
    let exhausted = reply.rate_remaining.as_deref().map(str::trim) == Some("0");
    let wait_secs = match (exhausted, reply.rate_reset.as_deref().and_then(|r| r.trim().parse::<f64>().ok())) {
        (true, Some(reset)) => u32::try_from((reset as i64).saturating_sub(reply.received_secs)).unwrap_or(0).max(1),
        (true, None) => 1,
        _ => 0,
    };
    Ok(Page { issues, next: outbound::next_cursor(reply.link.as_deref()), wait_secs })
}

/// One D1 batch for a page: every card, every error group's status, and
/// the run's progress (which also extends its lease).
pub fn page_statements(page: &Page, run: &str, fetched_at: &str, lease_until: &str, now: &str) -> Vec<Stmt> {
    let mut stmts = Vec::with_capacity(page.issues.len() * 2 + 2);
    for state in &page.issues {
        stmts.push(store::upsert_card_by(state, &store::history::Origin::sync(), fetched_at, now));
        stmts.push(store::errors::sync_status(&state.snapshot.id, state.status.as_str(), fetched_at));
    }
    let count = i32::try_from(page.issues.len()).unwrap_or(i32::MAX);
    stmts.extend(store::sync::progress(run, count, lease_until, now));
    stmts
}

/// The page's whole D1 batch: first what the webhooks missed, measured on
/// every issue of the page before any of it is written (a statement per
/// issue, see `store::health::RECORD_DRIFT`), then `page_statements`, whose
/// progress statement adds the findings to the run's drift counters.
pub fn page_batch(page: &Page, run: &str, fetched_at: &str, lease_until: &str, now: &str) -> Vec<Stmt> {
    let mut stmts: Vec<Stmt> =
        page.issues.iter().map(|state| store::health::record_drift(state, run, fetched_at, now)).collect();
    stmts.extend(page_statements(page, run, fetched_at, lease_until, now));
    stmts
}

#[cfg(test)]
mod tests {
    use super::{trigger_answer, OrgStart};
    use crate::error::AppError;
    use serde_json::json;

    #[test]
    fn every_organization_is_started_and_a_queue_failure_fails_the_trigger() {
        let busy = ("a".to_string(), OrgStart::Busy { running: Some("r0".into()) });
        let started = ("b".to_string(), OrgStart::Started { run: "r1".into() });
        let answer = trigger_answer(vec![busy.clone(), started.clone()]);
        let want =
            [json!({"org": "a", "started": false, "running": "r0"}), json!({"org": "b", "started": true, "run": "r1"})];
        assert_eq!(answer, Ok(want.to_vec()));
        let down =
            |run: &str, why: &str| OrgStart::Unqueued { run: run.into(), error: AppError::Unavailable(why.into()) };
        let failed =
            trigger_answer(vec![("x".into(), down("r2", "first")), started, ("y".into(), down("r3", "second"))]);
        assert_eq!(failed, Err(AppError::Unavailable("first".into())), "the first failure is the answer");
        assert_eq!(trigger_answer(vec![]), Ok(vec![]));
    }

    #[test]
    fn a_run_that_could_not_be_queued_is_closed_as_failed() {
        let stmts = super::start_unqueued("r1", "queue down", "t");
        assert_eq!(stmts, crate::store::sync::finish("r1", "failed", Some("queue down"), "t"));
    }

    #[test]
    fn a_run_is_named_by_its_start_and_org_and_leased_for_ten_minutes() {
        let now = crate::time::parse_rfc3339("2026-12-03T12:00:00.000Z").unwrap();
        let r = super::run_start("acme", Some("u1".into()), now);
        assert_eq!(r.run, format!("{now}-acme"));
        assert_eq!((r.now.as_str(), r.until.as_str()), ("2026-12-03T12:00:00.000Z", "2026-12-03T12:10:00.000Z"));
        let first = super::PageJob {
            run: r.run.clone(),
            org: "acme".into(),
            installation: Some("u1".into()),
            cursor: None,
            attempt: 0,
        };
        assert_eq!(r.first, first);
    }

    use super::*;
    use crate::board::Status;

    fn reply(body: &str) -> HttpReply {
        HttpReply { status: 200, body: body.into(), ..Default::default() }
    }

    #[test]
    fn the_call_asks_for_every_status_of_the_last_30_days() {
        let cfg = Config { sentry_api_base: "https://s".into(), ..Config::default() };
        let first = page_call(&cfg, "acme", None, Some("t"));
        assert_eq!(first.url, "https://s/api/0/organizations/acme/issues/?query=&statsPeriod=30d&limit=100");
        let next = page_call(&cfg, "acme", Some("1700000000:100:0"), Some("t"));
        assert!(next.url.ends_with("&limit=100&cursor=1700000000%3A100%3A0"), "{}", next.url);
    }

    #[test]
    fn issues_become_states_with_their_own_status_and_assignee() {
        let body = r#"[{"id":"1","status":"resolved","title":"A","assignedTo":{"type":"user","id":"7","name":"Ann"}},
            {"id":"2","status":"ignored","assignedTo":null},{"id":"3"},{"title":"no id"}]"#;
        let page = parse_page(&reply(body), Some("u1")).unwrap();
        let statuses: Vec<_> = page.issues.iter().map(|s| (s.snapshot.id.as_str(), s.status)).collect();
        assert_eq!(statuses, vec![("1", Status::Resolved), ("2", Status::Ignored), ("3", Status::Unresolved)]);
        assert_eq!(page.issues[0].snapshot.installation_uuid.as_deref(), Some("u1"));
        assert!(
            matches!(&page.issues[0].assignee, crate::board::AssigneeChange::Set(Some(a)) if a.name.as_deref() == Some("Ann"))
        );
        assert_eq!(page.issues[1].assignee, crate::board::AssigneeChange::Set(None));
        assert_eq!((page.next, page.wait_secs), (None, 0));
    }

    #[test]
    fn the_next_cursor_and_an_exhausted_rate_limit_are_read() {
        let mut r = reply("[]");
        r.link = Some(r#"<https://x/?cursor=0:0:1>; rel="previous"; results="false"; cursor="0:0:1", <https://x/?cursor=0:100:0>; rel="next"; results="true"; cursor="0:100:0""#.into());
        r.rate_remaining = Some("0".into());
        r.rate_reset = Some("1000007".into());
        r.received_secs = 1_000_000;
        let page = parse_page(&r, None).unwrap();
        assert_eq!((page.next.as_deref(), page.wait_secs), (Some("0:100:0"), 7));
        r.rate_remaining = Some("5".into());
        assert_eq!(parse_page(&r, None).unwrap().wait_secs, 0);
    }

    #[test]
    fn a_page_is_one_batch_of_cards_statuses_and_progress() {
        let page = parse_page(&reply(r#"[{"id":"1","status":"resolved"},{"id":"2"}]"#), None).unwrap();
        let stmts = page_statements(&page, "run-1", "2026-01-01T00:00:00.000Z", "2026-01-01T00:10:00.000Z", "n");
        assert_eq!(stmts.len(), 2 * 2 + 2);
        assert!(stmts[0].sql.contains("INSERT INTO cards"));
        assert!(stmts[1].sql.contains("UPDATE error_groups"));
        assert!(stmts[4].sql.contains("UPDATE sync_runs"));
    }

    #[test]
    fn drift_is_measured_on_the_whole_page_before_any_card_is_written() {
        let page = parse_page(&reply(r#"[{"id":"1","status":"resolved"},{"id":"2"}]"#), None).unwrap();
        let stmts = page_batch(&page, "run-1", "2026-01-01T00:00:00.000Z", "2026-01-01T00:10:00.000Z", "n");
        assert_eq!(stmts.len(), 2 + 2 * 2 + 2);
        assert!(stmts[..2].iter().all(|s| s.sql.contains("INSERT INTO sync_drift")));
        assert_eq!(
            stmts[2..],
            page_statements(&page, "run-1", "2026-01-01T00:00:00.000Z", "2026-01-01T00:10:00.000Z", "n")[..]
        );
        assert!(stmts.last().unwrap().sql.contains("sync_leases"));
        assert!(stmts[stmts.len() - 2].sql.contains("drift_missing"));
    }

    #[test]
    fn page_jobs_round_trip_through_json() {
        let job = PageJob {
            run: "r".into(),
            org: "o".into(),
            installation: None,
            cursor: Some("0:100:0".into()),
            attempt: 2,
        };
        let text = serde_json::to_string(&job).unwrap();
        assert_eq!(serde_json::from_str::<PageJob>(&text).unwrap(), job);
    }
}
