//! Installation deliveries, signed and driven through `hook::handle`.
//! Kept out of `installation.rs` because `hook` calls into `installation`.

use crate::sentry::installation::{activation, members_check, verify_check, Activation, Check, Stored};

#[test]
fn activation_exchanges_once_and_then_only_follows_up() {
    let pending = Stored { status: "pending".into(), mode: "public".into(), grant_code: Some("c".into()) };
    assert_eq!(activation("u", Some(&pending), false, false), Activation::Exchange("c".into()));
    assert_eq!(
        activation("u", Some(&pending), true, false),
        Activation::FollowUp(vec![
            Job::VerifyInstallation { installation: "u".into() },
            Job::SyncMembers { installation: "u".into() }
        ])
    );
    let installed = Stored { status: "installed".into(), ..pending.clone() };
    assert_eq!(
        activation("u", Some(&installed), true, false),
        Activation::FollowUp(vec![Job::SyncMembers { installation: "u".into() }])
    );
    let deleted = Stored { status: "deleted".into(), ..pending.clone() };
    assert_eq!(activation("u", Some(&deleted), false, false), Activation::Nothing);
    assert_eq!(activation("u", Some(&pending), false, true), Activation::Nothing);
    let spent = Stored { grant_code: None, ..pending };
    assert!(matches!(activation("u", Some(&spent), false, false), Activation::Fail(_)));
    assert!(matches!(activation("u", None, false, false), Activation::Fail(_)));
}

use crate::config::{Config, Internal};
use crate::jobs::Job;
use crate::sentry::hook::tests::{deliver, deliver_with};
use crate::sql::SqlValue;

const CREATED: &str = r#"{"action":"created","actor":{"id":1,"name":"Meredith Heller","type":"user"},"data":{"installation":{"status":"pending","organization":{"slug":"test-org","id":5},"app":{"uuid":"2ebf","slug":"webhooks-galore"},"code":"f3c7","uuid":"a8e5"}},"installation":{"uuid":"a8e5"}}"#;

#[test]
fn created_stores_the_installation_and_queues_the_exchange() {
    let plan = deliver("installation", CREATED).unwrap();
    assert_eq!(plan.jobs, vec![Job::ActivateInstallation { installation: "a8e5".into() }]);
    let p = &plan.statements[0].params;
    assert_eq!(p[0], SqlValue::Text("a8e5".into()));
    assert_eq!(p[1], SqlValue::Text("test-org".into()));
    assert_eq!(p[2], SqlValue::Text("5".into()), "numeric org ids are kept as text");
    assert_eq!(p[4], SqlValue::Text("pending".into()));
    assert_eq!(p[6], SqlValue::Text("f3c7".into()), "the grant code waits in D1, not in the message");
    assert!(!serde_json::to_string(&plan.jobs).unwrap().contains("f3c7"));
}

#[test]
fn without_a_code_nothing_is_queued() {
    let body = CREATED.replace(r#""code":"f3c7","#, "");
    assert!(deliver("installation", &body).unwrap().jobs.is_empty());
}

#[test]
fn internal_mode_needs_no_exchange_and_syncs_members_at_once() {
    let cfg = Config { internal: Some(Internal { token: "t".into(), org_slug: "acme".into() }), ..Default::default() };
    let plan = deliver_with(cfg, "installation", CREATED).unwrap();
    assert_eq!(plan.jobs, vec![Job::SyncMembers { installation: "a8e5".into() }]);
    assert_eq!(plan.statements[0].params[4], SqlValue::Text("installed".into()));
    assert_eq!(plan.statements[0].params[5], SqlValue::Text("internal".into()));
}

#[test]
fn deleted_removes_tokens_and_queues_nothing() {
    let body = CREATED.replace(r#""action":"created""#, r#""action":"deleted""#);
    let plan = deliver("installation", &body).unwrap();
    assert!(plan.jobs.is_empty());
    assert_eq!(plan.statements.len(), 2);
    assert!(plan.statements[1].sql.starts_with("DELETE FROM installation_tokens"));
}

#[test]
fn a_created_delivery_without_a_uuid_is_unusable() {
    let body = r#"{"action":"created","data":{"installation":{"status":"pending"}}}"#;
    let plan = deliver("installation", body).unwrap();
    assert_eq!((plan.verdict.outcome.as_str(), plan.reply.status), ("unusable", 200));
    assert!(plan.statements.is_empty() && plan.jobs.is_empty());
    let plan = deliver("installation", r#"{"action":"updated","data":{}}"#).unwrap();
    assert_eq!(plan.verdict.outcome.as_str(), "skipped");
}

#[test]
fn a_deleted_installations_jobs_are_done_and_an_unknown_ones_fail() {
    let live = Stored { status: "installed".into(), ..Default::default() };
    let gone = Stored { status: "deleted".into(), ..Default::default() };
    assert_eq!(verify_check("u1", Some(&live)), Check::Run(()));
    assert_eq!(verify_check("u1", Some(&gone)), Check::Done);
    assert!(matches!(verify_check("u1", None), Check::Fail(why) if why.contains("not recorded")));
    assert_eq!(members_check("u1", Some(&live), Some("acme".into())), Check::Run("acme".to_string()));
    assert_eq!(members_check("u1", Some(&gone), None), Check::Done);
    for (stored, org) in [(Some(&live), None), (None, Some("acme".to_string()))] {
        assert!(matches!(members_check("u1", stored, org), Check::Fail(why) if why.contains("no organization")));
    }
}
