//! The team and membership jobs driven step by step with canned answers,
//! as the shell would drive them: every fallback and dry-run branch.

use super::job_run::{Finish, JobRun, Step, TeamRun};
use super::member_run::MemberRun;
use super::sync::{MappedTeam, MemberAction, MembershipJob, Ownership, TeamAction, TeamJob};
use super::target::{NoTarget, Target};
use super::users::Mapping;
use crate::config::Config;
use crate::outbound::{CallError, HttpReply};
use crate::store::github as store;

fn cfg(dry_run: bool) -> Config {
    let mut cfg = Config { sentry_api_base: "https://s".into(), ..Config::default() };
    cfg.github.dry_run = dry_run;
    cfg.github.api_base = "https://gh".into();
    cfg.github.token = Some("ghp".into());
    cfg
}

fn target() -> Result<Target, NoTarget> {
    Ok(Target::Internal { org: "acme".into(), token: "tok".into() })
}

fn reply(status: u16, body: &str) -> HttpReply {
    HttpReply { status, body: body.into(), ..Default::default() }
}

fn team_job(action: TeamAction, slug: &str) -> TeamJob {
    TeamJob { delivery: "d1".into(), body_sha256: "h".into(), action, team_id: "42".into(), slug: Some(slug.into()) }
}

fn owned(slug: &str) -> MappedTeam {
    MappedTeam { sentry_slug: slug.into(), deleted: false, ownership: Ownership::Owned }
}

/// The call a `Send` step carries: method and URL.
fn sent(step: &Step) -> (&'static str, String) {
    match step {
        Step::Send { call, .. } => (call.method, call.url.clone()),
        other => panic!("expected a call, got {other:?}"),
    }
}

fn finished(step: Step) -> Finish {
    match step {
        Step::Finish(f) => f,
        other => panic!("expected the end, got {other:?}"),
    }
}

#[test]
fn a_rename_sentry_cannot_find_creates_the_new_slug_and_says_so() {
    let (cfg, job) = (cfg(false), team_job(TeamAction::Edited, "web2"));
    let mut run = TeamRun::new(&cfg, &job, "t");
    assert_eq!(run.start(Some(owned("web")), false), Step::Target);
    assert!(matches!(run.targeted(target()), Step::Bearer(_)));
    let rename = run.authorized("tok".into());
    assert_eq!(sent(&rename), ("PUT", "https://s/api/0/teams/acme/web/".into()));
    let create = run.replied(&reply(404, "{}")).unwrap();
    assert_eq!(sent(&create), ("POST", "https://s/api/0/organizations/acme/teams/".into()));
    let end = finished(run.replied(&reply(201, "{}")).unwrap());
    assert_eq!(end.status, "done");
    assert!(end.detail.starts_with("Sentry had no team web; team web2 created"), "{}", end.detail);
    assert_eq!(end.writes.len(), 1, "the map follows the new slug");
}

#[test]
fn a_rename_sentry_accepts_keeps_the_team_and_one_that_exists_elsewhere_is_a_conflict() {
    let (cfg, job) = (cfg(false), team_job(TeamAction::Edited, "web2"));
    let mut run = TeamRun::new(&cfg, &job, "t");
    run.start(Some(owned("web")), false);
    run.targeted(target());
    run.authorized("tok".into());
    let end = finished(run.replied(&reply(200, "{}")).unwrap());
    assert_eq!((end.status, end.detail.as_str()), ("done", "team web renamed to web2 in Sentry"));

    let mut run = TeamRun::new(&cfg, &job, "t");
    run.start(Some(owned("web")), false);
    run.targeted(target());
    run.authorized("tok".into());
    run.replied(&reply(404, "{}")).unwrap();
    let end = finished(run.replied(&reply(409, "{}")).unwrap());
    assert_eq!(end.status, "conflict", "a 409 on the fallback is never adopted");
}

#[test]
fn a_409_to_an_event_tried_before_manages_the_team_as_linked() {
    let (cfg, job) = (cfg(false), team_job(TeamAction::Created, "web"));
    for (tried, status, ownership) in [(false, "conflict", Ownership::Conflict), (true, "done", Ownership::Linked)] {
        let mut run = TeamRun::new(&cfg, &job, "t").tried(tried);
        run.start(None, false);
        run.targeted(target());
        run.authorized("tok".into());
        let end = finished(run.replied(&reply(409, "{}")).unwrap());
        assert_eq!(end.status, status, "tried before: {tried}");
        let map = store::map_team(&job.team_id, "web", "acme", "web", ownership, "t");
        assert_eq!(end.writes, vec![map], "tried before: {tried}");
    }
}

#[test]
fn a_failed_sentry_answer_is_an_error_for_the_queue_to_retry() {
    let (cfg, job) = (cfg(false), team_job(TeamAction::Created, "web"));
    let mut run = TeamRun::new(&cfg, &job, "t");
    run.start(None, false);
    run.targeted(target());
    run.authorized("tok".into());
    assert!(matches!(run.replied(&reply(503, "busy")), Err(CallError::Retryable { .. })));
}

#[test]
fn a_dry_run_team_job_describes_its_call_and_fetches_no_token() {
    let (cfg, job) = (cfg(true), team_job(TeamAction::Created, "web"));
    let mut run = TeamRun::new(&cfg, &job, "t");
    run.start(None, false);
    let end = finished(run.targeted(target()));
    assert_eq!(end.status, "dry_run");
    assert!(end.detail.starts_with("would send POST /api/0/organizations/acme/teams/"), "{}", end.detail);
    assert!(end.writes.is_empty());
}

#[test]
fn a_deleted_linked_team_is_forgotten_without_a_call_and_no_target_fails() {
    let mut cfg = cfg(false);
    cfg.github.link_teams = vec!["web".into()];
    let job = team_job(TeamAction::Deleted, "web");
    let mut run = TeamRun::new(&cfg, &job, "t");
    let linked = MappedTeam { ownership: Ownership::Linked, ..owned("web") };
    let end = finished(run.start(Some(linked), false));
    assert_eq!((end.status, end.writes.len()), ("noop", 1), "closed in the map, nothing sent");

    let job = team_job(TeamAction::Created, "web");
    let mut run = TeamRun::new(&cfg, &job, "t");
    run.start(None, false);
    let why = NoTarget::NotInstalledIn("acme".into());
    assert_eq!(
        run.targeted(Err(why)),
        Step::Fail("the Sentry integration is not installed in organization acme".into())
    );
}

fn member_job(action: MemberAction) -> MembershipJob {
    MembershipJob {
        delivery: "d2".into(),
        body_sha256: "h".into(),
        action,
        team_id: "42".into(),
        team_slug: Some("web".into()),
        login: "octo".into(),
        org: Some("acme-gh".into()),
    }
}

/// Until the mapping read: managed team, target, token.
fn member_at_user<'a>(cfg: &'a Config, job: &'a MembershipJob) -> MemberRun<'a> {
    let mut run = MemberRun::new(cfg, job, "t");
    assert_eq!(run.start(Some(&owned("web")), false, false), Step::Target);
    let next = run.targeted(target());
    if cfg.github.dry_run {
        assert_eq!(next, Step::ReadUser("octo".into()), "a dry run needs no token");
    } else {
        assert!(matches!(next, Step::Bearer(_)));
        assert_eq!(run.authorized("tok".into()), Step::ReadUser("octo".into()));
    }
    run
}

fn members(id: &str, email: &str) -> String {
    format!(r#"[{{"id":"{id}","user":{{"emails":[{{"email":"{email}","is_verified":true}}]}}}}]"#)
}

#[test]
fn a_login_is_found_by_its_verified_emails_trying_each_until_one_matches() {
    let (cfg, job) = (cfg(false), member_job(MemberAction::Added));
    let mut run = member_at_user(&cfg, &job);
    let graphql = run.user(None);
    assert!(matches!(&graphql, Step::Send { to: "GitHub GraphQL", .. }), "{graphql:?}");
    let emails = r#"{"data":{"user":{"organizationVerifiedDomainEmails":["a@acme.com","b@acme.com"]}}}"#;
    let first = run.replied(&reply(200, emails)).unwrap();
    assert!(sent(&first).1.ends_with("members/?query=email%3Aa%40acme.com"), "{first:?}");
    let second = run.replied(&reply(200, "[]")).unwrap();
    assert!(sent(&second).1.ends_with("members/?query=email%3Ab%40acme.com"), "{second:?}");
    let add = run.replied(&reply(200, &members("77", "b@acme.com"))).unwrap();
    assert_eq!(sent(&add), ("POST", "https://s/api/0/organizations/acme/members/77/teams/web/".into()));
    let end = finished(run.replied(&reply(201, "{}")).unwrap());
    assert_eq!(end.status, "done");
    assert_eq!(end.detail, "octo (Sentry member 77, via an organization-verified GitHub email) added to the team web");
    assert_eq!(end.writes.len(), 1, "who the worker added is recorded for the reconcile");
}

#[test]
fn no_matching_member_is_unmapped_with_every_miss_and_a_mapped_member_goes_straight_to_the_call() {
    let (cfg, job) = (cfg(false), member_job(MemberAction::Removed));
    let mut run = member_at_user(&cfg, &job);
    run.user(Some(Mapping { member_id: None, email: Some("c@acme.com".into()) }));
    let end = finished(run.replied(&reply(200, &members("9", "other@acme.com"))).unwrap());
    assert_eq!(end.status, "unmapped");
    assert!(end.detail.contains("c@acme.com") && end.detail.contains("the mapping table's email"), "{}", end.detail);

    let mut run = member_at_user(&cfg, &job);
    let remove = run.user(Some(Mapping { member_id: Some("5".into()), email: None }));
    assert_eq!(sent(&remove).0, "DELETE");
    let end = finished(run.replied(&reply(404, "{}")).unwrap());
    assert_eq!(
        (end.status, end.detail.as_str()),
        ("done", "octo (Sentry member 5, via the mapping table) was not on the team web")
    );
}

#[test]
fn a_dry_run_membership_reads_github_but_only_describes_the_sentry_search_and_call() {
    let (cfg, job) = (cfg(true), member_job(MemberAction::Added));
    let mut run = member_at_user(&cfg, &job);
    assert!(matches!(run.user(None), Step::Send { to: "GitHub GraphQL", .. }));
    let emails = r#"{"data":{"user":{"organizationVerifiedDomainEmails":["a@acme.com"]}}}"#;
    let end = finished(run.replied(&reply(200, emails)).unwrap());
    assert_eq!(end.status, "dry_run");
    assert!(end.detail.starts_with("would look up the Sentry member with email a@acme.com"), "{}", end.detail);
    let then = "then would send POST /api/0/organizations/acme/members/%7Bmember%7D/teams/web/";
    assert!(end.detail.contains(then), "{}", end.detail);

    let mut run = member_at_user(&cfg, &job);
    let end = finished(run.user(Some(Mapping { member_id: Some("5".into()), email: None })));
    assert_eq!(
        end.detail,
        "would send POST /api/0/organizations/acme/members/5/teams/web/ (octo via the mapping table)"
    );
}

#[test]
fn a_member_of_a_team_still_being_created_waits_and_an_unmanaged_one_is_skipped() {
    let (cfg, job) = (cfg(false), member_job(MemberAction::Added));
    let mut run = MemberRun::new(&cfg, &job, "t");
    assert!(matches!(run.start(None, false, true), Step::Retry(_)));
    let mut run = MemberRun::new(&cfg, &job, "t");
    assert_eq!(finished(run.start(None, false, false)).status, "unmanaged");
}
