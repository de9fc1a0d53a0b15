//! Tests of `github::sync`.

use super::*;

fn team_job(action: TeamAction, slug: Option<&str>) -> TeamJob {
    let slug = slug.map(str::to_string);
    TeamJob { delivery: "d1".into(), body_sha256: "h".into(), action, team_id: "42".into(), slug }
}

fn mapped(slug: &str, deleted: bool) -> MappedTeam {
    MappedTeam { sentry_slug: slug.into(), deleted, ownership: Ownership::Owned }
}

fn owned_by(slug: &str, ownership: Ownership) -> MappedTeam {
    MappedTeam { ownership, ..mapped(slug, false) }
}

const NO_LINKS: &[String] = &[];

fn cfg() -> Config {
    Config { sentry_api_base: "https://s".into(), ..Config::default() }
}

fn reply(status: u16) -> HttpReply {
    HttpReply { status, body: "{}".into(), ..Default::default() }
}

#[test]
fn created_teams_are_created_once_and_deleted_ones_never_come_back() {
    let job = team_job(TeamAction::Created, Some("web"));
    assert_eq!(team_step(&job, None, false, NO_LINKS), Ok(TeamStep::Create { slug: "web".into() }));
    assert!(team_step(&job, Some(&mapped("web", false)), false, NO_LINKS).is_err());
    assert!(team_step(&job, Some(&mapped("web", true)), false, NO_LINKS).is_err());
}

#[test]
fn only_mapped_teams_are_deleted() {
    let job = team_job(TeamAction::Deleted, Some("web"));
    assert_eq!(
        team_step(&job, Some(&mapped("sentry-web", false)), false, NO_LINKS),
        Ok(TeamStep::Delete { slug: "sentry-web".into() })
    );
    assert!(team_step(&job, None, false, NO_LINKS).is_err());
    assert!(team_step(&job, Some(&mapped("web", true)), false, NO_LINKS).is_err());
}

#[test]
fn edits_rename_in_place_unless_superseded_or_unchanged() {
    let job = team_job(TeamAction::Edited, Some("platform"));
    assert_eq!(
        team_step(&job, Some(&mapped("web", false)), false, NO_LINKS),
        Ok(TeamStep::Rename { from: "web".into(), to: "platform".into() })
    );
    assert!(team_step(&job, Some(&mapped("web", false)), true, NO_LINKS).is_err());
    assert!(team_step(&job, Some(&mapped("platform", false)), false, NO_LINKS).is_err());
    assert_eq!(team_step(&job, None, false, NO_LINKS), Ok(TeamStep::Create { slug: "platform".into() }));
    assert!(team_step(&team_job(TeamAction::Edited, None), None, false, NO_LINKS).is_err());
}

#[test]
fn memberships_use_the_mapped_slug_and_skip_deleted_or_superseded_teams() {
    let job = member_job(Some("gh-slug"));
    let links = vec!["GH-slug".to_string()];
    assert_eq!(member_step(&job, Some(&mapped("sentry-slug", false)), false, NO_LINKS), Ok("sentry-slug".to_string()));
    // Changed (issue 17): an unmapped GitHub team no longer falls back to
    // the Sentry team with its slug, unless that slug is linked on purpose.
    assert_eq!(member_step(&job, None, false, &links), Ok("gh-slug".to_string()));
    assert!(member_step(&job, Some(&mapped("x", true)), false, NO_LINKS).is_err());
    assert!(member_step(&job, None, true, NO_LINKS).is_err());
}

fn member_job(slug: Option<&str>) -> MembershipJob {
    MembershipJob {
        delivery: "d".into(),
        body_sha256: "h".into(),
        action: MemberAction::Added,
        team_id: "42".into(),
        team_slug: slug.map(str::to_string),
        login: "octo".into(),
        org: Some("acme".into()),
    }
}

#[test]
fn members_of_a_team_that_is_not_ours_are_never_changed() {
    let job = member_job(Some("web"));
    let skip = member_step(&job, None, false, NO_LINKS).unwrap_err();
    assert_eq!(skip.status, "unmanaged", "{skip:?}");
    assert!(skip.why.contains("GITHUB_LINK_TEAMS"), "{skip:?}");
    for ownership in [Ownership::Conflict, Ownership::Unknown] {
        let skip = member_step(&job, Some(&owned_by("web", ownership)), false, NO_LINKS).unwrap_err();
        assert_eq!(skip.status, "conflict", "{ownership:?}");
    }
    let linked = owned_by("web", Ownership::Linked);
    assert_eq!(member_step(&job, Some(&linked), false, NO_LINKS), Ok("web".to_string()));
    let links = vec!["web".to_string()];
    let conflict = owned_by("web", Ownership::Conflict);
    assert_eq!(member_step(&job, Some(&conflict), false, &links), Ok("web".to_string()), "linked since");
}

#[test]
fn a_dry_run_describes_members_of_the_team_it_would_have_created() {
    let job = member_job(Some("web"));
    let dry = GithubConfig { dry_run: true, ..GithubConfig::default() };
    assert_eq!(member_step_for(&job, None, false, false, &dry), Ok("web".to_string()));
    let live = GithubConfig::default();
    assert_eq!(member_step_for(&job, None, false, false, &live).unwrap_err().status, "unmanaged");
    let conflict = owned_by("web", Ownership::Conflict);
    assert_eq!(member_step_for(&job, Some(&conflict), false, false, &dry).unwrap_err().status, "conflict");
}

#[test]
fn a_membership_waits_for_its_teams_own_event_still_under_way() {
    let (job, live) = (member_job(Some("web")), GithubConfig::default());
    let skip = member_step_for(&job, None, false, true, &live).unwrap_err();
    assert!(skip.wait && skip.status == "retrying", "{skip:?}");
    assert!(!member_step_for(&job, None, false, false, &live).unwrap_err().wait, "nothing to wait for");
    let conflict = owned_by("web", Ownership::Conflict);
    assert!(!member_step_for(&job, Some(&conflict), false, true, &live).unwrap_err().wait, "mapped: decided");
    assert_eq!(member_step_for(&job, Some(&mapped("web", false)), false, true, &live), Ok("web".to_string()));
}

#[test]
fn a_deleted_team_stub_is_resolved_by_the_team_id() {
    let stub = member_job(None);
    assert_eq!(member_step(&stub, Some(&mapped("sentry-web", false)), false, NO_LINKS), Ok("sentry-web".into()));
    let none = member_step(&stub, None, false, NO_LINKS).unwrap_err();
    assert_eq!(none.status, "noop", "{none:?}");
    assert_eq!(member_step(&stub, Some(&mapped("sentry-web", true)), false, NO_LINKS).unwrap_err().status, "noop");
}

#[test]
fn a_team_that_is_not_ours_is_never_renamed_or_deleted() {
    for ownership in [Ownership::Conflict, Ownership::Unknown] {
        let theirs = owned_by("web", ownership);
        let deleted = team_step(&team_job(TeamAction::Deleted, Some("web")), Some(&theirs), false, NO_LINKS);
        let deleted = deleted.unwrap_err();
        assert!(deleted.forget && deleted.why.contains("not deleted"), "{deleted:?}");
        let same = team_step(&team_job(TeamAction::Edited, Some("web")), Some(&theirs), false, NO_LINKS);
        assert_eq!(same.unwrap_err().status, "conflict");
        let renamed = team_step(&team_job(TeamAction::Edited, Some("web2")), Some(&theirs), false, NO_LINKS);
        assert_eq!(renamed, Ok(TeamStep::Create { slug: "web2".into() }), "the old team is left alone");
        let created = team_step(&team_job(TeamAction::Created, Some("web")), Some(&theirs), false, NO_LINKS);
        assert_eq!(created, Ok(TeamStep::Create { slug: "web".into() }), "asks again; a 409 stays a conflict");
    }
    let linked = owned_by("web", Ownership::Linked);
    let edit = team_step(&team_job(TeamAction::Edited, Some("web2")), Some(&linked), false, NO_LINKS);
    assert_eq!(edit, Ok(TeamStep::Rename { from: "web".into(), to: "web2".into() }));
    let delete = team_step(&team_job(TeamAction::Deleted, Some("web")), Some(&linked), false, NO_LINKS);
    assert!(delete.is_err_and(|s| s.forget && s.why.contains("unlinked")), "a linked team is unlinked, never deleted");
}

#[test]
fn a_renamed_team_keeps_its_ownership_and_a_config_link_is_recorded() {
    assert_eq!(renamed_ownership(Some(&mapped("web", false))), Ownership::Owned);
    assert_eq!(renamed_ownership(Some(&owned_by("web", Ownership::Linked))), Ownership::Linked);
    assert_eq!(renamed_ownership(Some(&owned_by("web", Ownership::Unknown))), Ownership::Linked);
}

#[test]
fn a_409_is_a_conflict_unless_the_slug_is_linked() {
    let (status, ownership, detail) = creation("web", Created::Exists, NO_LINKS, false);
    assert_eq!((status, ownership), ("conflict", Ownership::Conflict));
    assert!(detail.contains("not created by this worker"), "{detail}");
    let links = vec!["Web".to_string()];
    assert_eq!(creation("web", Created::Exists, &links, false).1, Ownership::Linked);
    assert_eq!(creation("web", Created::Created, NO_LINKS, true).0, "done");
    assert_eq!(creation("web", Created::Created, NO_LINKS, false).1, Ownership::Owned);
    // A retry whose first create may have landed: its own team, never taken as owned.
    let (status, ownership, detail) = creation("web", Created::Exists, NO_LINKS, true);
    assert_eq!((status, ownership), ("done", Ownership::Linked), "{detail}");
    assert!(detail.contains("tried again") && detail.contains("never deleted"), "{detail}");
    assert_eq!(Ownership::parse(Some("owned")), Ownership::Owned);
    assert_eq!(Ownership::parse(None), Ownership::Unknown);
    for o in [Ownership::Owned, Ownership::Linked, Ownership::Conflict] {
        assert_eq!(Ownership::parse(o.as_str()), o);
    }
}

#[test]
fn calls_hit_the_documented_paths() {
    let c = cfg();
    let create = create_team(&c, "acme", "web", Some("tok"));
    assert_eq!((create.method, create.url.as_str()), ("POST", "https://s/api/0/organizations/acme/teams/"));
    assert_eq!(create.body.as_deref(), Some(r#"{"slug":"web"}"#));
    assert_eq!(delete_team(&c, "acme", "web", None).url, "https://s/api/0/teams/acme/web/");
    let rename = rename_team(&c, "acme", "web", "platform", None);
    assert_eq!((rename.method, rename.body.as_deref()), ("PUT", Some(r#"{"slug":"platform"}"#)));
    let add = membership(&c, MemberAction::Added, "acme", "101", "web", Some("tok"));
    assert_eq!((add.method, add.url.as_str()), ("POST", "https://s/api/0/organizations/acme/members/101/teams/web/"));
    let remove = membership(&c, MemberAction::Removed, "acme", "101", "web", None);
    assert_eq!(remove.method, "DELETE");
    assert_eq!(describe(&create, "https://s"), r#"POST /api/0/organizations/acme/teams/ {"slug":"web"}"#);
    assert!(!describe(&create, "https://s").contains("tok"));
}

#[test]
fn replies_map_to_idempotent_outcomes() {
    assert_eq!(team_created(&reply(201)), Ok(Created::Created));
    // Changed (issue 17): a 409 is reported as such, no longer as success.
    assert_eq!(team_created(&reply(409)), Ok(Created::Exists));
    assert!(matches!(team_created(&reply(500)), Err(CallError::Retryable { .. })));
    assert!(matches!(team_created(&reply(403)), Err(CallError::Permanent { .. })));
    assert!(team_deleted(&reply(204)).is_ok() && team_deleted(&reply(404)).is_ok());
    assert_eq!(team_renamed(&reply(404)), Ok(false));
    assert!(matches!(team_renamed(&reply(409)), Err(CallError::Permanent { .. })));
    for status in [201, 202, 204] {
        assert!(member_synced(MemberAction::Added, &reply(status)).is_ok(), "{status}");
    }
    assert!(matches!(member_synced(MemberAction::Added, &reply(404)), Err(CallError::Retryable { .. })));
    assert!(member_synced(MemberAction::Removed, &reply(404)).is_ok());
    assert!(matches!(member_synced(MemberAction::Removed, &reply(400)), Err(CallError::Permanent { .. })));
}
