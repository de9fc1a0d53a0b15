//! The reconcile machine against a fake GitHub and D1: whole runs, page by
//! page, as the shell drives them.

use super::*;
use crate::github::sync::{MemberAction, Ownership, TeamAction};
use crate::jobs::Job;
use std::collections::HashMap;

const API: &str = "https://api.github.com";

fn github() -> GithubConfig {
    GithubConfig { token: Some("ght".into()), api_base: API.into(), ..GithubConfig::default() }
}

fn cx(github: &GithubConfig) -> Context<'_> {
    Context { github, retry: RetryPolicy { base_secs: 10, max_secs: 600 } }
}

#[derive(Default)]
struct Fake {
    /// URL → reply; anything else answers 404.
    replies: HashMap<String, HttpReply>,
    map: Vec<MapEntry>,
    recorded: HashMap<String, Vec<String>>,
    /// Deliveries whose claim finds a newer event: not recorded.
    newer: Vec<String>,
}

fn ok(body: serde_json::Value, next: Option<&str>) -> HttpReply {
    let link = next.map(|n| format!("<{n}>; rel=\"next\", <{API}/last>; rel=\"last\""));
    HttpReply { status: 200, body: body.to_string(), link, received_secs: 1_000, ..Default::default() }
}

fn teams_page(teams: &[(u32, &str)]) -> serde_json::Value {
    teams.iter().map(|(id, slug)| serde_json::json!({"id": id, "slug": slug, "name": slug})).collect()
}

fn logins(logins: &[&str]) -> serde_json::Value {
    logins.iter().map(|l| serde_json::json!({"login": l, "id": 1})).collect()
}

fn teams_url() -> String {
    format!("{API}/orgs/acme/teams?per_page=100")
}

fn members_url(slug: &str) -> String {
    format!("{API}/orgs/acme/teams/{slug}/members?per_page=100")
}

fn entry(id: u32, slug: &str, ownership: Ownership) -> MapEntry {
    MapEntry {
        team_id: id.to_string(),
        github_slug: Some(slug.into()),
        team: MappedTeam { sentry_slug: slug.into(), deleted: false, ownership },
    }
}

/// One queue message: from `Begin` to the action that ends it, with every
/// correction queued and every URL fetched on the way.
struct Message {
    end: Action,
    fixes: Vec<Correction>,
    fetched: Vec<String>,
    recorded_reads: Vec<String>,
}

fn message(job: &mut ReconcileJob, fake: &Fake, github: &GithubConfig) -> Message {
    let cx = cx(github);
    let mut m = Message { end: Action::Finish, fixes: vec![], fetched: vec![], recorded_reads: vec![] };
    let mut input = Input::Begin { holds: true };
    for _ in 0..1000 {
        input = match job.next(input, &cx) {
            Action::Fetch(call) => {
                m.fetched.push(call.url.clone());
                let not_found = HttpReply { status: 404, body: "{}".into(), ..Default::default() };
                let reply = fake.replies.get(&call.url).cloned().unwrap_or(not_found);
                Input::Reply { reply: Ok(reply), at: format!("t{}", m.fetched.len()) }
            }
            Action::ReadMap(ids) => Input::Map(fake.map.iter().filter(|e| ids.contains(&e.team_id)).cloned().collect()),
            Action::ReadRecorded(id) => {
                m.recorded_reads.push(id.clone());
                Input::Recorded(fake.recorded.get(&id).cloned().unwrap_or_default())
            }
            Action::Queue(fixes) => {
                let claimed = fixes.iter().map(|f| !fake.newer.contains(&f.record.delivery)).collect();
                m.fixes.extend(fixes);
                Input::Queued(claimed)
            }
            end => {
                m.end = end;
                return m;
            }
        };
    }
    panic!("the run never ended a message");
}

/// Whole run: messages until it finishes or fails; the job goes through
/// JSON between messages, as through the queue.
fn run(job: ReconcileJob, fake: &Fake) -> (ReconcileJob, Vec<Message>) {
    let github = github();
    let mut job = job;
    let mut messages = vec![];
    for _ in 0..100 {
        let m = message(&mut job, fake, &github);
        let end = m.end.clone();
        messages.push(m);
        match end {
            Action::Continue { .. } => job = serde_json::from_str(&serde_json::to_string(&job).unwrap()).unwrap(),
            _ => return (job, messages),
        }
    }
    panic!("the run never finished");
}

fn all_fixes(messages: &[Message]) -> Vec<&Correction> {
    messages.iter().flat_map(|m| m.fixes.iter()).collect()
}

fn summary(fix: &Correction) -> (String, String, Option<String>) {
    (fix.record.event.to_string(), fix.record.action.clone(), fix.record.login.clone())
}

fn web_fake() -> Fake {
    let mut fake = Fake::default();
    fake.replies.insert(teams_url(), ok(teams_page(&[(42, "web")]), None));
    fake.replies.insert(members_url("web"), ok(logins(&["ann-gh", "Cara-gh"]), None));
    fake.map.push(entry(42, "web", Ownership::Owned));
    fake.recorded.insert("42".into(), vec!["bob-gh".into(), "cara-GH".into()]);
    fake
}

#[test]
fn a_member_no_webhook_added_is_added_and_one_no_longer_on_the_team_removed() {
    let (job, messages) = run(ReconcileJob::new("r1", "acme", false), &web_fake());
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].end, Action::Finish);
    let fixes = all_fixes(&messages);
    let got: Vec<_> = fixes.iter().map(|f| summary(f)).collect();
    assert_eq!(
        got,
        vec![
            ("membership".into(), "added".into(), Some("ann-gh".into())),
            ("membership".into(), "removed".into(), Some("bob-gh".into())),
        ],
        "cara is on both sides, whatever the case of her login"
    );
    let expected = Counts { teams: 1, members_missing: 1, members_extra: 1, ..Counts::default() };
    assert_eq!(job.counts, expected);
    // The webhooks' own job, keyed by the row the correction records.
    let Some(Job::GithubMembership(add)) = &fixes[0].job else { panic!("{:?}", fixes[0]) };
    assert_eq!((add.action, add.team_id.as_str(), add.login.as_str()), (MemberAction::Added, "42", "ann-gh"));
    assert_eq!((add.team_slug.as_deref(), add.org.as_deref()), (Some("web"), Some("acme")));
    assert_eq!(add.delivery, "reconcile:r1:42:ann-gh");
    assert_eq!(fixes[0].record.delivery, add.delivery);
    assert_eq!(fixes[0].record.status, "queued");
    assert_eq!(fixes[0].since, "t2", "the members page's time, not the teams page's");
    assert!(fixes[1].record.detail.as_deref().unwrap().contains("bob-gh is no longer on GitHub team web"));
}

#[test]
fn a_dry_run_reports_the_same_counts_and_queues_nothing() {
    let (job, messages) = run(ReconcileJob::new("r2", "acme", true), &web_fake());
    let fixes = all_fixes(&messages);
    assert_eq!(fixes.len(), 2);
    assert!(fixes.iter().all(|f| f.job.is_none() && f.record.status == "dry_run"), "{fixes:?}");
    assert!(fixes[0].record.detail.as_deref().unwrap().contains("(dry run)"));
    assert_eq!((job.counts.members_missing, job.counts.members_extra), (1, 1));
}

#[test]
fn a_correction_a_newer_event_already_covers_is_not_counted() {
    let mut fake = web_fake();
    fake.newer.push("reconcile:r3:42:bob-gh".into());
    let (job, _) = run(ReconcileJob::new("r3", "acme", false), &fake);
    assert_eq!((job.counts.members_missing, job.counts.members_extra), (1, 0));
}

#[test]
fn teams_the_worker_does_not_own_are_never_listed_or_corrected() {
    let mut fake = Fake::default();
    let listed = [(1, "theirs"), (2, "old"), (3, "gone"), (4, "linked-by-config")];
    fake.replies.insert(teams_url(), ok(teams_page(&listed), None));
    fake.map.push(entry(1, "theirs", Ownership::Conflict));
    fake.map.push(entry(2, "old", Ownership::Unknown));
    fake.map.push(MapEntry {
        team: MappedTeam { deleted: true, ..entry(3, "gone", Ownership::Owned).team },
        ..entry(3, "gone", Ownership::Owned)
    });
    fake.map.push(entry(4, "linked-by-config", Ownership::Conflict));
    for slug in ["theirs", "old", "gone", "linked-by-config"] {
        fake.replies.insert(members_url(slug), ok(logins(&["mallory"]), None));
    }
    let github = GithubConfig { link_teams: vec!["linked-by-config".into()], ..github() };
    let mut job = ReconcileJob::new("r4", "acme", false);
    let m = message(&mut job, &fake, &github);
    assert_eq!(m.end, Action::Finish);
    assert_eq!(m.fetched, vec![teams_url(), members_url("linked-by-config")], "only the linked team is read");
    assert_eq!(m.fixes.len(), 1);
    assert_eq!(m.fixes[0].record.team_slug.as_deref(), Some("linked-by-config"));
    assert_eq!(job.counts.teams, 1);
}

#[test]
fn a_team_no_event_created_is_created_with_its_members_and_a_renamed_one_renamed() {
    let mut fake = Fake::default();
    fake.replies.insert(teams_url(), ok(teams_page(&[(7, "new-team"), (8, "platform")]), None));
    fake.replies.insert(members_url("new-team"), ok(logins(&["ann-gh"]), None));
    fake.replies.insert(members_url("platform"), ok(logins(&[]), None));
    fake.map.push(entry(8, "web", Ownership::Owned));
    let (job, messages) = run(ReconcileJob::new("r5", "acme", false), &fake);
    let fixes = all_fixes(&messages);
    let got: Vec<_> = fixes.iter().map(|f| summary(f)).collect();
    assert_eq!(
        got,
        vec![
            ("team".into(), "created".into(), None),
            ("team".into(), "edited".into(), None),
            ("membership".into(), "added".into(), Some("ann-gh".into())),
        ]
    );
    let Some(Job::GithubTeam(create)) = &fixes[0].job else { panic!() };
    assert_eq!(
        (create.action, create.slug.as_deref(), create.delivery.as_str()),
        (TeamAction::Created, Some("new-team"), "reconcile:r5:7")
    );
    let Some(Job::GithubTeam(rename)) = &fixes[1].job else { panic!() };
    assert_eq!((rename.action, rename.slug.as_deref()), (TeamAction::Edited, Some("platform")));
    assert_eq!(fixes[0].since, "t1", "a team correction yields to team events since the listing");
    assert_eq!(messages[0].recorded_reads, vec!["8".to_string()], "a team with no Sentry team has nobody on it");
    let expected = Counts { teams: 2, teams_missing: 1, teams_renamed: 1, members_missing: 1, members_extra: 0 };
    assert_eq!(job.counts, expected);
}

#[test]
fn pages_are_followed_and_an_extra_member_is_only_decided_after_the_last() {
    let mut fake = Fake::default();
    let page2 = format!("{API}/organizations/1/teams?per_page=100&page=2");
    let members2 = format!("{API}/organizations/1/team/42/members?per_page=100&page=2");
    fake.replies.insert(teams_url(), ok(teams_page(&[(41, "api")]), Some(&page2)));
    fake.replies.insert(page2.clone(), ok(teams_page(&[(42, "web")]), None));
    fake.replies.insert(members_url("api"), ok(logins(&[]), None));
    fake.replies.insert(members_url("web"), ok(logins(&["ann-gh"]), Some(&members2)));
    fake.replies.insert(members2.clone(), ok(logins(&["bob-gh"]), None));
    fake.map.push(entry(41, "api", Ownership::Owned));
    fake.map.push(entry(42, "web", Ownership::Linked));
    fake.recorded.insert("42".into(), vec!["ann-gh".into(), "bob-gh".into()]);
    let (job, messages) = run(ReconcileJob::new("r6", "acme", false), &fake);
    assert_eq!(messages[0].fetched, vec![teams_url(), members_url("api"), page2, members_url("web"), members2]);
    assert!(all_fixes(&messages).is_empty(), "bob is on page 2: not extra");
    assert_eq!(job.counts, Counts { teams: 2, ..Counts::default() });
}

#[test]
fn a_message_hands_over_after_its_call_budget_and_the_next_resumes_there() {
    let mut fake = Fake::default();
    let teams: Vec<(u32, String)> = (1..=30).map(|i| (i, format!("t{i}"))).collect();
    let refs: Vec<(u32, &str)> = teams.iter().map(|(i, s)| (*i, s.as_str())).collect();
    fake.replies.insert(teams_url(), ok(teams_page(&refs), None));
    for (i, slug) in &teams {
        fake.replies.insert(members_url(slug), ok(logins(&["ann-gh"]), None));
        fake.map.push(entry(*i, slug, Ownership::Owned));
        fake.recorded.insert(i.to_string(), vec!["ann-gh".into()]);
    }
    let (job, messages) = run(ReconcileJob::new("r7", "acme", false), &fake);
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0].end, Action::Continue { delay_secs: 0, error: None });
    assert_eq!(messages[0].fetched.len() as u32, CALLS_PER_MESSAGE);
    assert_eq!(messages[1].fetched.first(), Some(&members_url("t20")), "resumes at the next team");
    assert_eq!(messages[1].end, Action::Finish);
    assert_eq!(job.counts.teams, 30);
}

fn limited(reset: i64) -> HttpReply {
    let body = r#"{"message": "API rate limit exceeded"}"#.to_string();
    let (remaining, reset) = (Some("0".to_string()), Some(reset.to_string()));
    HttpReply {
        status: 403,
        body,
        rate_remaining: remaining,
        rate_reset: reset,
        received_secs: 1_000,
        ..Default::default()
    }
}

#[test]
fn a_rate_limited_page_is_asked_again_after_githubs_wait_and_the_run_gives_up_eventually() {
    let github = github();
    let mut job = ReconcileJob::new("r8", "acme", false);
    assert!(matches!(job.next(Input::Begin { holds: true }, &cx(&github)), Action::Fetch(_)));
    let reply = Input::Reply { reply: Ok(limited(1_900)), at: "t".into() };
    let Action::Continue { delay_secs, error } = job.next(reply, &cx(&github)) else { panic!("a wait") };
    assert_eq!(delay_secs, 900, "until x-ratelimit-reset");
    assert!(error.is_some_and(|e| e.contains("HTTP 403")));
    let mut job: ReconcileJob = serde_json::from_str(&serde_json::to_string(&job).unwrap()).unwrap();
    let Action::Fetch(again) = job.next(Input::Begin { holds: true }, &cx(&github)) else {
        panic!("the same page again")
    };
    assert_eq!(again.url, teams_url());
    for _ in 2..MAX_ATTEMPTS {
        let err = Err(CallError::Retryable { after: None, detail: "timeout".into() });
        assert!(matches!(job.next(Input::Reply { reply: err, at: "t".into() }, &cx(&github)), Action::Continue { .. }));
        assert!(matches!(job.next(Input::Begin { holds: true }, &cx(&github)), Action::Fetch(_)));
    }
    let err = Err(CallError::Retryable { after: None, detail: "timeout".into() });
    let Action::Fail(why) = job.next(Input::Reply { reply: err, at: "t".into() }, &cx(&github)) else { panic!() };
    assert!(why.contains("gave up after 6 attempt(s): timeout"), "{why}");
}

#[test]
fn a_used_up_window_waits_before_the_next_call_and_a_refusal_fails_at_once() {
    let mut fake = web_fake();
    let mut last = fake.replies[&teams_url()].clone();
    last.rate_remaining = Some("0".into());
    last.rate_reset = Some("1120".into());
    fake.replies.insert(teams_url(), last);
    let (_, messages) = run(ReconcileJob::new("r9", "acme", false), &fake);
    assert_eq!(messages[0].end, Action::Continue { delay_secs: 120, error: None });
    assert_eq!(messages[0].fetched, vec![teams_url()]);
    assert_eq!(messages[1].fetched, vec![members_url("web")]);

    let mut fake = Fake::default();
    let forbidden = r#"{"message": "Must have admin rights to Repository."}"#;
    fake.replies.insert(teams_url(), HttpReply { status: 403, body: forbidden.into(), ..Default::default() });
    let (_, messages) = run(ReconcileJob::new("r10", "acme", false), &fake);
    let Action::Fail(why) = &messages[0].end else { panic!("{:?}", messages[0].end) };
    assert!(why.contains("HTTP 403"), "{why}");
}

#[test]
fn a_team_gone_since_the_listing_is_left_alone() {
    let mut fake = web_fake();
    fake.replies.remove(&members_url("web"));
    let (job, messages) = run(ReconcileJob::new("r11", "acme", false), &fake);
    assert_eq!(messages[0].end, Action::Finish);
    assert!(all_fixes(&messages).is_empty(), "404: nobody is removed from it");
    assert_eq!(job.counts.members_extra, 0);
}

#[test]
fn without_a_token_nothing_is_called_and_an_unexpected_input_fails() {
    let none = GithubConfig { token: None, ..github() };
    let mut job = ReconcileJob::new("r12", "acme", false);
    let Action::Fail(why) = job.next(Input::Begin { holds: true }, &cx(&none)) else { panic!() };
    assert!(why.contains("GITHUB_TOKEN"), "{why}");
    let github = github();
    let mut job = ReconcileJob::new("r13", "acme", false);
    assert!(matches!(job.next(Input::Recorded(vec![]), &cx(&github)), Action::Fail(_)));
}

#[test]
fn dry_run_is_asked_for_or_configured() {
    assert!(dry_run_param(Some("dry_run=1")) && dry_run_param(Some("a=b&dry_run=TRUE")));
    assert!(!dry_run_param(Some("dry_run=0")) && !dry_run_param(None) && !dry_run_param(Some("dry_run")));
    let g = GithubConfig::default();
    assert!(!dry_run(false, &g) && dry_run(true, &g));
    assert!(dry_run(false, &GithubConfig { reconcile_dry_run: true, ..GithubConfig::default() }));
    assert!(dry_run(false, &GithubConfig { dry_run: true, ..GithubConfig::default() }), "the sync only describes");
}

#[test]
fn a_reconcile_needs_a_token_and_reads_github_org_else_the_newest_webhooks() {
    let mut gh = github();
    assert_eq!(target_org(&gh, Some("from-hooks".into())), Ok("from-hooks".to_string()));
    assert!(
        matches!(target_org(&gh, None), Err(crate::error::AppError::Unavailable(why)) if why.contains("GITHUB_ORG"))
    );
    gh.org = Some("acme".into());
    assert_eq!(target_org(&gh, Some("from-hooks".into())), Ok("acme".to_string()), "GITHUB_ORG wins");
    gh.token = None;
    assert!(
        matches!(target_org(&gh, Some("x".into())), Err(crate::error::AppError::Unavailable(why)) if why.contains("GITHUB_TOKEN"))
    );
}

#[test]
fn a_message_of_a_run_that_lost_its_lease_is_stale() {
    let github = github();
    let mut job = ReconcileJob::new("r1", "acme", false);
    assert_eq!(job.next(Input::Begin { holds: false }, &cx(&github)), Action::Stale);
    assert!(matches!(job.next(Input::Begin { holds: true }, &cx(&github)), Action::Fetch(_)), "a held run goes on");
}
