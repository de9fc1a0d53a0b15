//! `installation.created` / `installation.deleted`: record the installation
//! and queue the token exchange. No Sentry API call runs on the ack path.

use super::wire::{opt_id, opt_text, Envelope};
use crate::config::Config;
use crate::error::AppError;
use crate::jobs::Job;
use crate::plan::{Plan, Reply, Verdict};
use crate::store::installations::{self, Installation};
use serde::Deserialize;
use serde_json::json;

#[derive(Debug, Deserialize)]
struct Data {
    installation: WireInstallation,
}

#[derive(Debug, Deserialize)]
struct WireInstallation {
    #[serde(default, deserialize_with = "opt_id")]
    uuid: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    status: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    code: Option<String>,
    #[serde(default)]
    organization: Option<Org>,
    #[serde(default)]
    app: Option<App>,
}

#[derive(Debug, Deserialize)]
struct Org {
    #[serde(default, deserialize_with = "opt_text")]
    slug: Option<String>,
    #[serde(default, deserialize_with = "opt_id")]
    id: Option<String>,
}

#[derive(Debug, Deserialize)]
struct App {
    #[serde(default, deserialize_with = "opt_text")]
    slug: Option<String>,
}

pub fn plan(cfg: &Config, env: &Envelope, applied_at: &str, now: &str) -> Result<Option<Plan>, AppError> {
    let action = env.action.as_str();
    if action != "created" && action != "deleted" {
        return Ok(None);
    }
    let inst = parse(cfg, env)?;
    let verdict = Verdict::new("installation", action, "applied");
    let reply = Reply::ok(json!({ "ok": true, "installation": inst.uuid, "action": action }));
    if action == "deleted" {
        return Ok(Some(Plan::writes(installations::delete_installation(&inst, applied_at, now), reply, verdict)));
    }
    // Internal integrations have a token already, so members can be read at
    // once; public ones exchange the grant code first.
    let jobs = match (&cfg.internal, &inst.grant_code) {
        (Some(_), _) => vec![Job::SyncMembers { installation: inst.uuid.clone() }],
        (None, Some(_)) => vec![Job::ActivateInstallation { installation: inst.uuid.clone() }],
        (None, None) => vec![],
    };
    let statements = vec![installations::upsert_installation(&inst, applied_at, now)];
    Ok(Some(Plan { statements, jobs, guard: None, reply, verdict }))
}

fn parse(cfg: &Config, env: &Envelope) -> Result<Installation, AppError> {
    let data: Data = serde_json::from_value(env.data.clone())
        .map_err(|e| AppError::BadRequest(format!("installation webhook without data.installation: {e}")))?;
    let w = data.installation;
    let uuid = w
        .uuid
        .or_else(|| env.installation.as_ref().and_then(|i| i.uuid.clone()))
        .filter(|u| !u.is_empty())
        .ok_or_else(|| AppError::BadRequest("installation webhook without an installation uuid".into()))?;
    let internal = cfg.internal.as_ref();
    let status = match (internal, w.status.as_deref()) {
        (Some(_), _) | (None, Some("installed")) => "installed",
        _ => "pending",
    };
    Ok(Installation {
        uuid,
        org_slug: w.organization.as_ref().and_then(|o| o.slug.clone()).or_else(|| internal.map(|i| i.org_slug.clone())),
        org_id: w.organization.and_then(|o| o.id),
        app_slug: w.app.and_then(|a| a.slug),
        status: status.to_string(),
        mode: if internal.is_some() { "internal" } else { "public" },
        grant_code: w.code.filter(|c| !c.is_empty()),
    })
}

/// The stored installation, as the activation job reads it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Stored {
    pub status: String,
    pub mode: String,
    pub grant_code: Option<String>,
}

/// What the activation job does next.
#[derive(Debug, Clone, PartialEq)]
pub enum Activation {
    /// Nothing to do (uninstalled, or an internal integration).
    Nothing,
    /// A token exists already (a retry, or a second message): go on.
    FollowUp(Vec<Job>),
    /// Exchange this grant code, then follow up.
    Exchange(String),
    Fail(String),
}

/// Idempotent: a retried or duplicated message never spends the grant code
/// twice, because an existing token skips the exchange.
pub fn activation(uuid: &str, stored: Option<&Stored>, has_token: bool, internal: bool) -> Activation {
    let Some(s) = stored else { return Activation::Fail(format!("installation {uuid} is not recorded")) };
    if s.status == "deleted" || internal || s.mode == "internal" {
        return Activation::Nothing;
    }
    match (has_token, &s.grant_code) {
        (true, _) => Activation::FollowUp(follow_up(uuid, &s.status)),
        (false, Some(code)) => Activation::Exchange(code.clone()),
        (false, None) => Activation::Fail("no grant code to exchange: reinstall the integration in Sentry".into()),
    }
}

/// After a token exists: verify the install (unless Sentry already says it
/// is installed) and mirror the organization's members.
pub fn follow_up(uuid: &str, status: &str) -> Vec<Job> {
    let installation = uuid.to_string();
    let mut jobs = vec![];
    if status != "installed" {
        jobs.push(Job::VerifyInstallation { installation: installation.clone() });
    }
    jobs.push(Job::SyncMembers { installation });
    jobs
}

#[cfg(test)]
mod tests {
    use super::{activation, Activation, Stored};

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
    use crate::plan::SqlValue;
    use crate::sentry::hook::tests::{deliver, deliver_with};

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
        let cfg =
            Config { internal: Some(Internal { token: "t".into(), org_slug: "acme".into() }), ..Default::default() };
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
        assert_eq!((plan.verdict.outcome, plan.reply.status), ("unusable", 200));
        assert!(plan.statements.is_empty() && plan.jobs.is_empty());
        let plan = deliver("installation", r#"{"action":"updated","data":{}}"#).unwrap();
        assert_eq!(plan.verdict.outcome, "skipped");
    }
}
