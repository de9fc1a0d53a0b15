//! End to end: GitHub organization webhooks mirrored into Sentry teams,
//! against `wrangler dev`, the real queue and the mock GitHub + Sentry APIs.
//! The worker runs in internal-integration mode (a fixed Sentry token for
//! one organization). Each test uses its own team ids, logins and delivery
//! ids, so they share one worker.

mod deliveries;

use crate::app;
use crate::github;
use crate::mock;

use crate::scenario::Scenario;
use app::{spawn_app, App, GITHUB_SECRET, INTERNAL_ORG, INTERNAL_TOKEN};
use github::{fixture, membership_body, team_body};
use mock::{Call, Canned};
use serde_json::{json, Value};
use std::time::Duration;

const ADMIN: &str = "e2e-admin-token";

fn vars(dry_run: &str) -> Vec<(&'static str, String)> {
    vec![
        ("SENTRY_AUTH_TOKEN", INTERNAL_TOKEN.to_string()),
        ("SENTRY_ORG_SLUG", INTERNAL_ORG.to_string()),
        ("GITHUB_WEBHOOK_SECRET", GITHUB_SECRET.to_string()),
        ("GITHUB_TOKEN", "e2e-github-token".to_string()),
        ("ADMIN_TOKEN", ADMIN.to_string()),
        ("GITHUB_SYNC_DRY_RUN", dry_run.to_string()),
        ("GITHUB_LINK_TEAMS", "linked-team, other-linked".to_string()),
    ]
}

fn spawn(dry_run: &str) -> App {
    let owned = vars(dry_run);
    let refs: Vec<(&str, &str)> = owned.iter().map(|(k, v)| (*k, v.as_str())).collect();
    spawn_app(&refs)
}

fn gh() -> &'static App {
    static APP: Scenario = Scenario::new(module_path!(), || spawn("false"));
    APP.app()
}

fn dry() -> &'static App {
    static APP: Scenario = Scenario::new(module_path!(), || spawn("true"));
    APP.app()
}

fn sync_status(app: &App) -> Value {
    let r = app.request("GET", "/api/github/sync", &[], b"");
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()
}

fn event(app: &App, delivery: &str) -> Option<Value> {
    sync_status(app)["events"].as_array()?.iter().find(|e| e["delivery"] == delivery).cloned()
}

fn wait_status(app: &App, delivery: &str, status: &str) -> Value {
    app.wait_for(&format!("{delivery} {status}"), Duration::from_secs(60), || {
        event(app, delivery).filter(|e| e["status"] == status)
    })
}

fn calls_to(app: &App, method: &str, prefix: &str) -> Vec<Call> {
    app.mock.calls().into_iter().filter(|c| c.method == method && c.path.starts_with(prefix)).collect()
}

fn header<'a>(call: &'a Call, name: &str) -> Option<&'a str> {
    call.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

const TEAMS: &str = "/api/0/organizations/internal-org/teams/";

fn member_path(member: &str, slug: &str) -> String {
    format!("/api/0/organizations/internal-org/members/{member}/teams/{slug}/")
}

/// Creates team `slug` through a delivery and waits until it is mirrored.
fn create_team(app: &App, id: u64, slug: &str) {
    let delivery = format!("create-{id}");
    assert_eq!(app.send_github("team", &delivery, &team_body("created", id, slug)).status, 200);
    wait_status(app, &delivery, "done");
}

/// GitHub's GraphQL answer for `login`: these organization-verified emails.
fn verified_emails(app: &App, login: &str, emails: &[&str]) {
    let body = json!({ "data": { "user": { "organizationVerifiedDomainEmails": emails } } });
    app.mock.route(Canned::new("POST", "/graphql", 200, &body.to_string()).for_body(&format!("\"{login}\"")));
}

/// Sentry's member search for `email` finds member `id`, whose user has
/// the address verified or not.
fn sentry_member(app: &App, email: &str, id: &str, verified: bool) {
    let search = format!("/api/0/organizations/internal-org/members/?query=email%3A{}", email.replace('@', "%40"));
    let user = json!({ "id": "7", "email": email, "emails": [{ "email": email, "is_verified": verified }] });
    let member = json!([{ "id": id, "email": email, "user": user }]);
    app.mock.route(Canned::new("GET", &search, 200, &member.to_string()));
}

fn team_row(app: &App, github_id: &str) -> Option<Value> {
    sync_status(app)["teams"].as_array()?.iter().find(|t| t["github_team_id"] == github_id).cloned()
}

fn map_login(app: &App, login: &str, body: &str) -> app::Reply {
    let auth = format!("Bearer {ADMIN}");
    app.request("PUT", &format!("/api/github/users/{login}"), &[("Authorization", &auth)], body.as_bytes())
}

// Changed (issue 17): a 409 used to count as success and adopt the
// existing Sentry team; it is now a recorded conflict, never written to.
#[test]
fn team_created_creates_and_owns_the_sentry_team_and_a_409_is_a_conflict() {
    let app = gh();
    let r = app.send_github("team", "tc-1", &team_body("created", 1001, "alpha"));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["outcome"], "queued");
    let done = wait_status(app, "tc-1", "done");
    assert!(done["detail"].as_str().unwrap().contains("created in Sentry"), "{done}");
    let posts: Vec<Call> = calls_to(app, "POST", TEAMS).into_iter().filter(|c| c.body.contains("\"alpha\"")).collect();
    assert_eq!(posts.len(), 1, "{posts:?}");
    assert_eq!(serde_json::from_str::<Value>(&posts[0].body).unwrap(), json!({"slug": "alpha"}));
    assert_eq!(header(&posts[0], "Authorization"), Some(format!("Bearer {INTERNAL_TOKEN}").as_str()));
    let team = team_row(app, "1001");
    assert_eq!(team.as_ref().map(|t| t["sentry_slug"].clone()), Some(json!("alpha")), "{team:?}");
    assert_eq!(team.as_ref().map(|t| t["ownership"].clone()), Some(json!("owned")), "{team:?}");

    let conflict = Canned::new("POST", TEAMS, 409, r#"{"detail":"A team with this slug already exists."}"#);
    app.mock.reply_once(conflict.for_body("\"beta\""));
    assert_eq!(app.send_github("team", "tc-2", &team_body("created", 1002, "beta")).status, 200);
    let recorded = wait_status(app, "tc-2", "conflict");
    assert!(recorded["detail"].as_str().unwrap().contains("not created by this worker"), "{recorded}");
    let status = sync_status(app);
    let listed = status["conflicts"].as_array().unwrap();
    assert!(listed.iter().any(|t| t["github_team_id"] == "1002" && t["sentry_slug"] == "beta"), "{status}");
}

#[test]
fn a_pre_existing_sentry_team_is_never_joined_renamed_or_deleted() {
    let app = gh();
    let conflict = Canned::new("POST", TEAMS, 409, r#"{"detail":"A team with this slug already exists."}"#);
    app.mock.reply_once(conflict.for_body("\"victims\""));
    assert_eq!(app.send_github("team", "take-1", &team_body("created", 1200, "victims")).status, 200);
    wait_status(app, "take-1", "conflict");
    assert_eq!(map_login(app, "intruder-gh", r#"{"member_id":"666"}"#).status, 200);
    let add = membership_body("added", 1200, "victims", "intruder-gh");
    assert_eq!(app.send_github("membership", "take-2", &add).status, 200);
    let refused = wait_status(app, "take-2", "conflict");
    assert!(refused["detail"].as_str().unwrap().contains("member not changed"), "{refused}");
    let remove = membership_body("removed", 1200, "victims", "intruder-gh");
    assert_eq!(app.send_github("membership", "take-3", &remove).status, 200);
    wait_status(app, "take-3", "conflict");
    assert_eq!(app.send_github("team", "take-4", &team_body("edited", 1200, "victims")).status, 200);
    wait_status(app, "take-4", "conflict");
    assert_eq!(app.send_github("team", "take-5", &team_body("deleted", 1200, "victims")).status, 200);
    let kept = wait_status(app, "take-5", "noop");
    assert!(kept["detail"].as_str().unwrap().contains("not deleted"), "{kept}");
    // Nor is a GitHub team that was never mirrored mapped onto the Sentry
    // team with its slug.
    let unmirrored = membership_body("added", 1201, "victims", "intruder-gh");
    assert_eq!(app.send_github("membership", "take-6", &unmirrored).status, 200);
    wait_status(app, "take-6", "unmanaged");
    std::thread::sleep(Duration::from_secs(1));
    let touched: Vec<Call> = app
        .mock
        .calls()
        .into_iter()
        .filter(|c| c.path.contains("/victims/") || c.path.contains("/members/666/"))
        .collect();
    assert!(touched.is_empty(), "no member, rename or delete call reached Sentry: {touched:?}");
}

#[test]
fn a_linked_team_is_managed_but_never_deleted() {
    let app = gh();
    let conflict = Canned::new("POST", TEAMS, 409, r#"{"detail":"A team with this slug already exists."}"#);
    app.mock.reply_once(conflict.for_body("\"linked-team\""));
    assert_eq!(app.send_github("team", "link-1", &team_body("created", 1210, "linked-team")).status, 200);
    let linked = wait_status(app, "link-1", "done");
    assert!(linked["detail"].as_str().unwrap().contains("linked"), "{linked}");
    assert_eq!(team_row(app, "1210").map(|t| t["ownership"].clone()), Some(json!("linked")));
    assert_eq!(map_login(app, "linda-gh", r#"{"member_id":"777"}"#).status, 200);
    let add = membership_body("added", 1210, "linked-team", "linda-gh");
    assert_eq!(app.send_github("membership", "link-2", &add).status, 200);
    wait_status(app, "link-2", "done");
    assert_eq!(calls_to(app, "POST", &member_path("777", "linked-team")).len(), 1);
    assert_eq!(app.send_github("team", "link-3", &team_body("deleted", 1210, "linked-team")).status, 200);
    let kept = wait_status(app, "link-3", "noop");
    assert!(kept["detail"].as_str().unwrap().contains("unlinked"), "{kept}");
    std::thread::sleep(Duration::from_secs(1));
    assert!(calls_to(app, "DELETE", "/api/0/teams/internal-org/linked-team/").is_empty());
}

#[test]
fn a_redelivery_is_answered_but_nothing_is_repeated() {
    let app = gh();
    let body = team_body("created", 1010, "redelivered");
    assert_eq!(app.send_github("team", "redeliver-1", &body).status, 200);
    wait_status(app, "redeliver-1", "done");
    let again = app.send_github("team", "redeliver-1", &body);
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.json()["duplicate"], true);
    std::thread::sleep(Duration::from_secs(2));
    let posts = calls_to(app, "POST", TEAMS).into_iter().filter(|c| c.body.contains("\"redelivered\"")).count();
    assert_eq!(posts, 1, "the redelivery must not call Sentry again");
}

#[test]
fn an_admin_links_a_conflicting_team_and_its_refused_event_runs_on_redelivery() {
    let app = gh();
    let conflict = Canned::new("POST", TEAMS, 409, r#"{"detail":"A team with this slug already exists."}"#);
    app.mock.reply_once(conflict.for_body("\"shared-team\""));
    assert_eq!(app.send_github("team", "admin-link-1", &team_body("created", 1250, "shared-team")).status, 200);
    wait_status(app, "admin-link-1", "conflict");
    assert_eq!(map_login(app, "sam-gh", r#"{"member_id":"888"}"#).status, 200);
    let add = membership_body("added", 1250, "shared-team", "sam-gh");
    assert_eq!(app.send_github("membership", "admin-link-2", &add).status, 200);
    wait_status(app, "admin-link-2", "conflict");

    let path = "/api/github/teams/1250/link";
    assert_eq!(app.request("PUT", path, &[], b"").status, 401);
    assert_eq!(app.request("PUT", path, &[("Authorization", "Bearer nope")], b"").status, 401);
    let auth = format!("Bearer {ADMIN}");
    let linked = app.request("PUT", path, &[("Authorization", &auth)], b"");
    assert_eq!(linked.status, 200, "{}", linked.body);
    assert_eq!(linked.json()["ownership"], "linked");
    assert_eq!(team_row(app, "1250").map(|t| t["ownership"].clone()), Some(json!("linked")));
    assert_eq!(app.request("PUT", "/api/github/teams/999999/link", &[("Authorization", &auth)], b"").status, 404);

    let again = app.send_github("membership", "admin-link-2", &add);
    assert_eq!((again.status, again.json()["outcome"].clone()), (200, json!("queued")), "{}", again.body);
    wait_status(app, "admin-link-2", "done");
    assert_eq!(calls_to(app, "POST", &member_path("888", "shared-team")).len(), 1);
    assert_eq!(app.send_github("team", "admin-link-3", &team_body("deleted", 1250, "shared-team")).status, 200);
    wait_status(app, "admin-link-3", "noop");
    std::thread::sleep(Duration::from_secs(1));
    assert!(calls_to(app, "DELETE", "/api/0/teams/internal-org/shared-team/").is_empty(), "linked: never deleted");
}

#[test]
fn a_redelivered_failed_or_unmapped_event_is_queued_and_runs_again() {
    let app = gh();
    let forbidden = Canned::new("POST", TEAMS, 403, r#"{"detail":"You do not have permission"}"#);
    app.mock.reply_once(forbidden.for_body("\"failing\""));
    let body = team_body("created", 1220, "failing");
    assert_eq!(app.send_github("team", "again-1", &body).status, 200);
    wait_status(app, "again-1", "failed");
    let again = app.send_github("team", "again-1", &body);
    assert_eq!((again.status, again.json()["outcome"].clone()), (200, json!("queued")), "{}", again.body);
    wait_status(app, "again-1", "done");
    let posts = calls_to(app, "POST", TEAMS).into_iter().filter(|c| c.body.contains("\"failing\"")).count();
    assert_eq!(posts, 2, "the redelivery ran the job again");

    let body = membership_body("added", 1220, "failing", "late-gh");
    assert_eq!(app.send_github("membership", "again-2", &body).status, 200);
    let unmapped = wait_status(app, "again-2", "unmapped");
    assert!(unmapped["detail"].as_str().unwrap().contains("no verified email"), "{unmapped}");
    verified_emails(app, "late-gh", &["late@example.com"]);
    sentry_member(app, "late@example.com", "808", true);
    let again = app.send_github("membership", "again-2", &body);
    assert_eq!((again.status, again.json()["outcome"].clone()), (200, json!("queued")), "{}", again.body);
    wait_status(app, "again-2", "done");
    assert_eq!(calls_to(app, "POST", &member_path("808", "failing")).len(), 1);
    let once_more = app.send_github("membership", "again-2", &body);
    assert_eq!(once_more.json()["duplicate"], true, "done now: a duplicate");
}

#[test]
fn a_reused_delivery_id_with_another_signed_body_is_not_swallowed() {
    let app = gh();
    // A captured body replayed first under another delivery id...
    let captured = team_body("created", 1230, "captured");
    assert_eq!(app.send_github("team", "reused-1", &captured).status, 200);
    wait_status(app, "reused-1", "done");
    // ...does not pre-claim that id: the genuine delivery is still processed.
    let genuine = team_body("created", 1231, "genuine");
    let r = app.send_github("team", "reused-1", &genuine);
    assert_eq!((r.status, r.json()["outcome"].clone()), (200, json!("queued")), "{}", r.body);
    app.wait_for("genuine created", Duration::from_secs(60), || {
        calls_to(app, "POST", TEAMS).into_iter().find(|c| c.body.contains("\"genuine\""))
    });
    app.wait_for("genuine mapped", Duration::from_secs(60), || team_row(app, "1231"));
    assert_eq!(app.send_github("team", "reused-1", &genuine).json()["duplicate"], true, "same id and body");
}

#[test]
fn edits_rename_in_place_and_deletion_is_final() {
    let app = gh();
    create_team(app, 1020, "gamma");
    assert_eq!(app.send_github("team", "edit-1020", &team_body("edited", 1020, "gamma-two")).status, 200);
    wait_status(app, "edit-1020", "done");
    let puts = calls_to(app, "PUT", "/api/0/teams/internal-org/gamma/");
    assert_eq!(puts.len(), 1, "{puts:?}");
    assert_eq!(serde_json::from_str::<Value>(&puts[0].body).unwrap(), json!({"slug": "gamma-two"}));

    assert_eq!(app.send_github("team", "delete-1020", &team_body("deleted", 1020, "gamma-two")).status, 200);
    wait_status(app, "delete-1020", "done");
    assert_eq!(calls_to(app, "DELETE", "/api/0/teams/internal-org/gamma-two/").len(), 1);
    // A late created for the same GitHub team id cannot bring it back.
    assert_eq!(app.send_github("team", "late-1020", &team_body("created", 1020, "gamma")).status, 200);
    wait_status(app, "late-1020", "noop");
    let recreated = calls_to(app, "POST", TEAMS).into_iter().filter(|c| c.body.contains("\"gamma\"")).count();
    assert_eq!(recreated, 1, "only the first created posted");
}

// Changed (issue 17): logins map through organization-verified emails
// (GraphQL), no longer through the public profile email.
#[test]
fn memberships_map_logins_by_verified_email_and_member_search() {
    let app = gh();
    create_team(app, 1030, "delta");
    verified_emails(app, "alice-gh", &["alice@example.com"]);
    sentry_member(app, "alice@example.com", "101", true);

    assert_eq!(
        app.send_github("membership", "add-alice", &membership_body("added", 1030, "delta", "alice-gh")).status,
        200
    );
    wait_status(app, "add-alice", "done");
    assert_eq!(calls_to(app, "POST", &member_path("101", "delta")).len(), 1);
    let lookup: Vec<Call> =
        calls_to(app, "POST", "/graphql").into_iter().filter(|c| c.body.contains("\"alice-gh\"")).collect();
    assert!(!lookup.is_empty());
    assert!(header(&lookup[0], "User-Agent").is_some_and(|ua| !ua.is_empty()));
    assert_eq!(header(&lookup[0], "X-GitHub-Api-Version"), Some("2022-11-28"));
    assert_eq!(header(&lookup[0], "Authorization"), Some("Bearer e2e-github-token"));
    let query: Value = serde_json::from_str(&lookup[0].body).unwrap();
    assert_eq!(query["variables"], json!({ "login": "alice-gh", "org": "Octocoders" }));
    assert!(calls_to(app, "GET", "/users/alice-gh").is_empty(), "the public profile is not read");

    let removed = membership_body("removed", 1030, "delta", "alice-gh");
    assert_eq!(app.send_github("membership", "remove-alice", &removed).status, 200);
    wait_status(app, "remove-alice", "done");
    assert_eq!(calls_to(app, "DELETE", &member_path("101", "delta")).len(), 1);
}

#[test]
fn an_unverified_email_never_maps_a_login() {
    let app = gh();
    create_team(app, 1240, "payroll");
    // A public profile email is whatever the user typed: not used.
    let public = r#"{"login":"mallory-gh","email":"boss@example.com"}"#;
    app.mock.route(Canned::new("GET", "/users/mallory-gh", 200, public));
    sentry_member(app, "boss@example.com", "900", true);
    verified_emails(app, "mallory-gh", &[]);
    let body = membership_body("added", 1240, "payroll", "mallory-gh");
    assert_eq!(app.send_github("membership", "mallory-1", &body).status, 200);
    let unmapped = wait_status(app, "mallory-1", "unmapped");
    assert!(unmapped["detail"].as_str().unwrap().contains("no verified email"), "{unmapped}");
    // A verified GitHub email that a Sentry account holds only unverified.
    verified_emails(app, "trudy-gh", &["trudy@example.com"]);
    sentry_member(app, "trudy@example.com", "901", false);
    let body = membership_body("added", 1240, "payroll", "trudy-gh");
    assert_eq!(app.send_github("membership", "trudy-1", &body).status, 200);
    let unmapped = wait_status(app, "trudy-1", "unmapped");
    assert!(unmapped["detail"].as_str().unwrap().contains("verified email"), "{unmapped}");
    assert!(calls_to(app, "POST", &member_path("900", "payroll")).is_empty());
    assert!(calls_to(app, "POST", &member_path("901", "payroll")).is_empty());
    assert!(calls_to(app, "GET", "/api/0/organizations/internal-org/members/?query=email%3Aboss").is_empty());
}

#[test]
fn an_explicit_mapping_wins_and_needs_the_admin_token() {
    let app = gh();
    create_team(app, 1040, "epsilon");
    let denied = app.request("PUT", "/api/github/users/bob-gh", &[], br#"{"member_id":"202"}"#);
    assert_eq!(denied.status, 401, "{}", denied.body);
    let wrong = app.request("PUT", "/api/github/users/bob-gh", &[("Authorization", "Bearer nope")], b"{}");
    assert_eq!(wrong.status, 401);
    assert_eq!(map_login(app, "bob-gh", r#"{"member_id":""}"#).status, 400);
    assert_eq!(map_login(app, "Bob-GH", r#"{"member_id":"202"}"#).status, 200);

    let body = membership_body("added", 1040, "epsilon", "bob-gh");
    assert_eq!(app.send_github("membership", "add-bob", &body).status, 200);
    let done = wait_status(app, "add-bob", "done");
    assert!(done["detail"].as_str().unwrap().contains("mapping table"), "{done}");
    assert_eq!(calls_to(app, "POST", &member_path("202", "epsilon")).len(), 1);
    assert!(calls_to(app, "GET", "/users/bob-gh").is_empty(), "a mapped login needs no GitHub lookup");
    let users = app.list("/api/github/users", "users");
    assert!(users.iter().any(|u| u["member_id"] == "202"), "{users:?}");
}

#[test]
fn an_unmapped_login_is_visible_and_replayed_once_mapped() {
    let app = gh();
    create_team(app, 1050, "zeta");
    verified_emails(app, "carol-gh", &[]);
    let body = membership_body("added", 1050, "zeta", "carol-gh");
    assert_eq!(app.send_github("membership", "add-carol", &body).status, 200);
    let unmapped = wait_status(app, "add-carol", "unmapped");
    assert!(unmapped["detail"].as_str().unwrap().contains("no verified email"), "{unmapped}");
    let listed = sync_status(app)["unmapped"].as_array().unwrap().clone();
    assert!(listed.iter().any(|u| u["login"] == "carol-gh" && u["why"].as_str().is_some()), "{listed:?}");
    let bad = app.mock.calls().into_iter().filter(|c| c.path.contains("/members//") || c.path.contains("None"));
    assert_eq!(bad.count(), 0, "never a call with an empty member id");

    let mapped = map_login(app, "carol-gh", r#"{"member_id":"303"}"#);
    assert_eq!(mapped.status, 200, "{}", mapped.body);
    assert_eq!(mapped.json()["replayed"], 1);
    wait_status(app, "add-carol", "done");
    assert_eq!(calls_to(app, "POST", &member_path("303", "zeta")).len(), 1);
    let still = sync_status(app)["unmapped"].as_array().unwrap().clone();
    assert!(!still.iter().any(|u| u["login"] == "carol-gh"), "{still:?}");
}

#[test]
fn deleted_teams_and_null_members_are_answered_without_calls() {
    let app = gh();
    // Changed (issue 17): the deleted team's stub is queued and resolved by
    // the team id (none is mapped here: a noop).
    let deleted = fixture("membership-removed.with-deleted-team").to_string();
    let r = app.send_github("membership", "deleted-team", &deleted);
    assert_eq!((r.status, r.json()["outcome"].clone()), (200, json!("queued")), "{}", r.body);
    wait_status(app, "deleted-team", "noop");
    let mut nobody = fixture("membership-added");
    nobody["member"] = Value::Null;
    let r = app.send_github("membership", "null-member", &nobody.to_string());
    assert_eq!((r.status, r.json()["outcome"].clone()), (200, json!("noop")), "{}", r.body);
    assert_eq!(event(app, "deleted-team").unwrap()["status"], "noop");
    assert_eq!(event(app, "null-member").unwrap()["status"], "noop");
    let ping = app.send_github("ping", "ping-1", &fixture("ping").to_string());
    assert_eq!((ping.status, ping.json()["outcome"].clone()), (200, json!("pong")));
    let ignored = app.send_github("team", "repo-1", &fixture("team-added_to_repository").to_string());
    assert_eq!((ignored.status, ignored.json()["outcome"].clone()), (200, json!("ignored")));
    std::thread::sleep(Duration::from_secs(1));
    // The fixtures' member (Codertocat) and team (github) are used by no other test.
    let ours = app.mock.calls().into_iter().filter(|c| c.path.contains("Codertocat") || c.path.contains("/github/"));
    assert_eq!(ours.count(), 0);
}

#[test]
fn a_removal_from_a_deleted_team_is_resolved_by_the_team_id() {
    let app = gh();
    create_team(app, 1270, "stubbed");
    assert_eq!(map_login(app, "stub-gh", r#"{"member_id":"909"}"#).status, 200);
    // GitHub's stub for a deleted team: id, name, deleted: true, no slug.
    let mut stub = fixture("membership-removed.with-deleted-team");
    stub["team"]["id"] = json!(1270);
    stub["member"]["login"] = json!("stub-gh");
    assert!(stub["team"].get("slug").is_none());
    let r = app.send_github("membership", "stub-1", &stub.to_string());
    assert_eq!((r.status, r.json()["outcome"].clone()), (200, json!("queued")), "{}", r.body);
    wait_status(app, "stub-1", "done");
    assert_eq!(calls_to(app, "DELETE", &member_path("909", "stubbed")).len(), 1, "the mapped team, found by id");
}

#[test]
fn a_membership_sent_with_its_new_team_waits_for_the_team() {
    let app = gh();
    let limited = Canned::new("POST", TEAMS, 429, r#"{"detail":"slow down"}"#).header("Retry-After", "1");
    app.mock.reply_once(limited.for_body("\"omega-team\""));
    assert_eq!(map_login(app, "olga-gh", r#"{"member_id":"1010"}"#).status, 200);
    // GitHub sends the creator's membership.added right after team.created.
    assert_eq!(app.send_github("team", "omega-1", &team_body("created", 1280, "omega-team")).status, 200);
    let add = membership_body("added", 1280, "omega-team", "olga-gh");
    assert_eq!(app.send_github("membership", "omega-2", &add).status, 200);
    app.wait_for("omega-2 done", Duration::from_secs(120), || event(app, "omega-2").filter(|e| e["status"] == "done"));
    assert_eq!(event(app, "omega-1").unwrap()["status"], "done");
    assert_eq!(calls_to(app, "POST", &member_path("1010", "omega-team")).len(), 1);
}
