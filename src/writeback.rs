//! Write-back: a change made on the board (resolve, unresolve, ignore,
//! assign) is applied to the card at once and pushed to Sentry by a queue
//! job. The job sends the card's *current* board-made fields, so a later
//! change supersedes an earlier job instead of racing it.

use crate::board::{Assignee, Status};
use crate::config::Config;
use crate::error::AppError;
use crate::outbound::HttpCall;
use crate::percent::encode;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// What the board asked for. `assignee: Some(None)` unassigns. `substatus`
/// only comes with `status: ignored` (how long to archive).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Change {
    pub status: Option<Status>,
    pub assignee: Option<Option<Assignee>>,
    pub substatus: Option<String>,
}

/// The archive substatuses the board can ask for with `status: ignored`:
/// the ones Sentry's update API takes without `statusDetails`.
pub const ARCHIVE_SUBSTATUSES: [&str; 2] = ["archived_until_escalating", "archived_forever"];

/// The queue message: which card, and which board change it stands for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WriteBackJob {
    pub card: String,
    /// The `writeback_at` of the change; a newer change makes this job moot.
    pub requested_at: String,
    #[serde(default)]
    pub installation: Option<String>,
}

/// Largest action body accepted.
pub const MAX_BODY_BYTES: usize = 4096;

/// Reads `{"status": …, "substatus"?: …, "assignee": null | {type, id, name?, email?}}`.
pub fn parse_change(body: &[u8]) -> Result<Change, AppError> {
    let bad = |m: &str| AppError::BadRequest(m.to_string());
    let v: Value = serde_json::from_slice(body).map_err(|_| bad("body must be a JSON object"))?;
    let obj = v.as_object().ok_or_else(|| bad("body must be a JSON object"))?;
    let status = match obj.get("status") {
        None => None,
        Some(Value::String(s)) if matches!(s.as_str(), "resolved" | "unresolved" | "ignored") => Status::parse(s),
        Some(_) => return Err(bad("status must be resolved, unresolved or ignored")),
    };
    let assignee = match obj.get("assignee") {
        None => None,
        Some(Value::Null) => Some(None),
        Some(Value::Object(a)) => Some(Some(
            assignee(a)
                .ok_or_else(|| bad("assignee needs type user or team and a Sentry id (letters, digits, - or _)"))?,
        )),
        Some(_) => return Err(bad("assignee must be null or an object")),
    };
    let substatus = match obj.get("substatus") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if status == Some(Status::Ignored) && ARCHIVE_SUBSTATUSES.contains(&s.as_str()) => {
            Some(s.clone())
        }
        Some(_) => {
            return Err(bad(
                "substatus goes with status ignored and must be archived_until_escalating or archived_forever",
            ))
        }
    };
    if status.is_none() && assignee.is_none() {
        return Err(bad("nothing to change: give status and/or assignee"));
    }
    Ok(Change { status, assignee, substatus })
}

fn assignee(a: &Map<String, Value>) -> Option<Assignee> {
    let kind = a.get("type")?.as_str().filter(|t| matches!(*t, "user" | "team"))?;
    let id = match a.get("id")? {
        Value::String(s) => s.trim().to_string(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    let id_ok =
        !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    let text = |k: &str| a.get(k).and_then(Value::as_str).map(|s| s.chars().take(200).collect::<String>());
    id_ok.then(|| Assignee { kind: kind.to_string(), id: Some(id), name: text("name"), email: text("email") })
}

/// Alert cards have no Sentry issue of their own to change.
pub fn check_card_id(id: &str) -> Result<(), AppError> {
    if id.starts_with("event_alert:") || id.starts_with("metric_alert:") {
        return Err(AppError::BadRequest("alert cards are not Sentry issues; change the issue's card instead".into()));
    }
    Ok(())
}

/// The card as the job reads it (`store::writeback::PENDING`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Pending {
    pub status: String,
    pub substatus: Option<String>,
    pub assignee_type: Option<String>,
    pub assignee_id: Option<String>,
    pub installation: Option<String>,
    pub org_slug: Option<String>,
    pub installation_deleted: bool,
    pub push_status: bool,
    pub push_assignee: bool,
    /// The pending status change carries `substatus` (archive until…).
    pub push_substatus: bool,
    pub writeback_at: Option<String>,
}

/// What the job should do for a card.
#[derive(Debug, Clone, PartialEq)]
pub enum Push {
    /// Nothing to send: the card is gone, a newer change will send, or
    /// nothing is pending.
    Skip(&'static str),
    /// `PUT …/issues/{id}/` with this body, in this organization, with the
    /// token of `installation` (or the internal integration's).
    Send {
        org: String,
        installation: Option<String>,
        body: Value,
    },
    Fail(String),
}

pub fn plan(cfg: &Config, job: &WriteBackJob, card: Option<&Pending>) -> Push {
    let Some(card) = card else { return Push::Skip("card no longer exists") };
    if card.writeback_at.as_deref() != Some(job.requested_at.as_str()) {
        return Push::Skip("superseded by a newer change");
    }
    let body = body(card);
    if body.as_object().is_none_or(Map::is_empty) {
        return Push::Skip("nothing pending");
    }
    if let Some(internal) = &cfg.internal {
        return Push::Send { org: internal.org_slug.clone(), installation: None, body };
    }
    match (&card.installation, &card.org_slug) {
        (Some(_), _) if card.installation_deleted => Push::Fail("the Sentry installation was removed".into()),
        (Some(uuid), Some(org)) => Push::Send { org: org.clone(), installation: Some(uuid.clone()), body },
        _ => Push::Fail("the card belongs to no installed Sentry organization".into()),
    }
}

/// Sentry's update body for the pending fields: `status` (with the
/// `substatus` the board chose, e.g. `ignored` + `archived_until_escalating`),
/// and `assignedTo` as `user:<id>` / `team:<id>`, or `""` to unassign.
pub fn body(card: &Pending) -> Value {
    let mut body = Map::new();
    if card.push_status {
        body.insert("status".into(), json!(card.status));
        if let (true, Some(sub)) = (card.push_substatus, &card.substatus) {
            body.insert("substatus".into(), json!(sub));
        }
    }
    if card.push_assignee {
        let to = match (card.assignee_type.as_deref(), card.assignee_id.as_deref()) {
            (Some(kind @ ("user" | "team")), Some(id)) => format!("{kind}:{id}"),
            _ => String::new(),
        };
        body.insert("assignedTo".into(), json!(to));
    }
    Value::Object(body)
}

/// `PUT /api/0/organizations/{org}/issues/{issue_id}/`.
pub fn call(cfg: &Config, org: &str, issue_id: &str, body: &Value, bearer: &str) -> HttpCall {
    HttpCall {
        method: "PUT",
        url: format!("{}/api/0/organizations/{}/issues/{}/", cfg.sentry_api_base, encode(org), encode(issue_id)),
        bearer: Some(bearer.to_string()),
        body: Some(body.to_string()),
        headers: vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Internal;

    fn pending() -> Pending {
        Pending {
            status: "resolved".into(),
            installation: Some("inst-1".into()),
            org_slug: Some("acme".into()),
            push_status: true,
            writeback_at: Some("T1".into()),
            ..Pending::default()
        }
    }

    fn job() -> WriteBackJob {
        WriteBackJob { card: "42".into(), requested_at: "T1".into(), installation: Some("inst-1".into()) }
    }

    #[test]
    fn a_change_names_a_status_an_assignee_or_both() {
        let c = parse_change(br#"{"status":"resolved"}"#).unwrap();
        assert_eq!((c.status, c.assignee), (Some(Status::Resolved), None));
        assert_eq!(parse_change(br#"{"assignee":null}"#).unwrap().assignee, Some(None));
        let c = parse_change(br#"{"status":"ignored","substatus":"archived_until_escalating"}"#).unwrap();
        assert_eq!((c.status, c.substatus.as_deref()), (Some(Status::Ignored), Some("archived_until_escalating")));
        let c = parse_change(br#"{"status":"unresolved","assignee":{"type":"user","id":123,"name":"Ann"}}"#).unwrap();
        let a = c.assignee.unwrap().unwrap();
        assert_eq!((a.kind.as_str(), a.id.as_deref(), a.name.as_deref()), ("user", Some("123"), Some("Ann")));
    }

    #[test]
    fn bad_changes_are_refused_with_a_reason() {
        for body in [
            &b"{}"[..],
            b"[]",
            b"not json",
            br#"{"status":"archived"}"#,
            br#"{"status":1}"#,
            br#"{"assignee":"ann"}"#,
            br#"{"assignee":{"type":"org","id":"1"}}"#,
            br#"{"assignee":{"type":"user","id":"1/../2"}}"#,
            br#"{"assignee":{"type":"user","id":""}}"#,
            br#"{"substatus":"archived_until_escalating"}"#,
            br#"{"status":"resolved","substatus":"archived_until_escalating"}"#,
            br#"{"status":"ignored","substatus":"escalating"}"#,
            br#"{"status":"ignored","substatus":1}"#,
        ] {
            let e = parse_change(body).unwrap_err();
            assert_eq!(e.status(), 400, "{}", String::from_utf8_lossy(body));
        }
        assert_eq!(check_card_id("event_alert:1:rule").unwrap_err().status(), 400);
        assert!(check_card_id("1170820242").is_ok());
    }

    #[test]
    fn the_job_sends_the_pending_fields_to_the_cards_organization() {
        let cfg = Config { sentry_api_base: "https://sentry.example".into(), ..Config::default() };
        let Push::Send { org, installation, body } = plan(&cfg, &job(), Some(&pending())) else { panic!() };
        assert_eq!((org.as_str(), installation.as_deref()), ("acme", Some("inst-1")));
        assert_eq!(body, json!({"status":"resolved"}));
        let c = call(&cfg, &org, "42", &body, "tok");
        assert_eq!((c.method, c.url.as_str()), ("PUT", "https://sentry.example/api/0/organizations/acme/issues/42/"));
        assert_eq!(c.body.as_deref(), Some(r#"{"status":"resolved"}"#));
    }

    #[test]
    fn archiving_until_escalating_sends_the_substatus_with_the_status() {
        let archive = Pending {
            status: "ignored".into(),
            substatus: Some("archived_until_escalating".into()),
            push_substatus: true,
            ..pending()
        };
        assert_eq!(body(&archive), json!({"status":"ignored","substatus":"archived_until_escalating"}));
        let from_sentry = Pending { push_substatus: false, ..archive.clone() };
        assert_eq!(body(&from_sentry), json!({"status":"ignored"}), "a substatus Sentry set is not sent back");
        let assign_only = Pending { push_status: false, push_assignee: true, ..archive };
        assert_eq!(body(&assign_only), json!({"assignedTo":""}));
    }

    #[test]
    fn assignments_and_unassignments_use_sentrys_actor_ids() {
        let assigned = Pending {
            push_status: false,
            push_assignee: true,
            assignee_type: Some("team".into()),
            assignee_id: Some("7".into()),
            ..pending()
        };
        assert_eq!(body(&assigned), json!({"assignedTo":"team:7"}));
        let nobody = Pending { assignee_type: None, assignee_id: None, ..assigned };
        assert_eq!(body(&nobody), json!({"assignedTo":""}));
    }

    #[test]
    fn superseded_gone_or_orphaned_cards_send_nothing() {
        let cfg = Config::default();
        assert_eq!(plan(&cfg, &job(), None), Push::Skip("card no longer exists"));
        let newer = Pending { writeback_at: Some("T2".into()), ..pending() };
        assert_eq!(plan(&cfg, &job(), Some(&newer)), Push::Skip("superseded by a newer change"));
        let done = Pending { push_status: false, ..pending() };
        assert_eq!(plan(&cfg, &job(), Some(&done)), Push::Skip("nothing pending"));
        let orphan = Pending { installation: None, org_slug: None, ..pending() };
        assert!(matches!(plan(&cfg, &job(), Some(&orphan)), Push::Fail(_)));
        let removed = Pending { installation_deleted: true, ..pending() };
        assert!(matches!(plan(&cfg, &job(), Some(&removed)), Push::Fail(_)));
    }

    #[test]
    fn internal_mode_writes_to_its_own_organization() {
        let cfg =
            Config { internal: Some(Internal { token: "t".into(), org_slug: "mine".into() }), ..Config::default() };
        let orphan = Pending { installation: None, org_slug: None, ..pending() };
        let Push::Send { org, installation, .. } = plan(&cfg, &job(), Some(&orphan)) else { panic!() };
        assert_eq!((org.as_str(), installation), ("mine", None));
    }
}
