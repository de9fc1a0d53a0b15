//! Sentry webhook bodies as serde types. They tolerate unknown fields and
//! treat ids as strings whether Sentry sent a string or a number.

use crate::board::{priority_text, Assignee, AssigneeChange, IssueSnapshot, Status};
use crate::time;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// The envelope every resource shares.
#[derive(Debug, Deserialize)]
pub struct Envelope {
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub installation: Option<InstallationRef>,
    #[serde(default)]
    pub data: Value,
    /// Who acted (`{type, id, name}`); the author of a comment.
    #[serde(default)]
    pub actor: Option<Value>,
}

/// An issue delivery read straight into the fields the plan uses: unknown
/// fields are skipped without building a tree (a 200 KB body is mostly
/// them). Anything this refuses is read again through `Envelope`, whose
/// errors and tolerance are the reference.
#[derive(Debug, Deserialize)]
pub struct IssueEnvelope {
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub installation: Option<InstallationRef>,
    pub data: IssueData,
    /// Small, and read as the `Envelope` reads it (a struct would also
    /// take `["Ann"]` as a name).
    #[serde(default)]
    pub actor: Option<Value>,
}

#[derive(Debug, Deserialize)]
pub struct InstallationRef {
    #[serde(default, deserialize_with = "opt_id")]
    pub uuid: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct IssueData {
    pub issue: WireIssue,
    #[serde(default)]
    pub assignee: Option<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireIssue {
    #[serde(deserialize_with = "id")]
    pub id: String,
    #[serde(default)]
    pub short_id: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub culprit: Option<String>,
    #[serde(default)]
    pub permalink: Option<String>,
    #[serde(default, rename = "web_url")]
    pub web_url: Option<String>,
    #[serde(default)]
    pub level: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    /// `None` when the key is absent, `Some(Null)` when Sentry says none.
    #[serde(default, deserialize_with = "present")]
    pub substatus: Option<Value>,
    /// `high`/`medium`/`low`; anything but a non-blank string is no priority.
    #[serde(default, deserialize_with = "opt_text")]
    pub priority: Option<String>,
    #[serde(default)]
    pub platform: Option<String>,
    #[serde(default)]
    pub project: Option<WireProject>,
    #[serde(default, deserialize_with = "opt_id")]
    pub count: Option<String>,
    #[serde(default)]
    pub user_count: Option<Value>,
    #[serde(default)]
    pub first_seen: Option<String>,
    #[serde(default)]
    pub last_seen: Option<String>,
    /// `None` when the key is absent, `Some(Null)` when Sentry says nobody.
    #[serde(default, deserialize_with = "present")]
    pub assigned_to: Option<Value>,
}

#[derive(Debug, Default, Deserialize)]
pub struct WireProject {
    #[serde(default, deserialize_with = "opt_id")]
    pub id: Option<String>,
    #[serde(default)]
    pub slug: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
}

impl WireIssue {
    pub fn into_snapshot(self, installation_uuid: Option<String>) -> (IssueSnapshot, AssigneeChange) {
        let assignee = match &self.assigned_to {
            None => AssigneeChange::Keep,
            Some(Value::Null) => AssigneeChange::Set(None),
            Some(v) => assignee_from(v).map_or(AssigneeChange::Keep, |a| AssigneeChange::Set(Some(a))),
        };
        let project = self.project.unwrap_or_default();
        let title = self.title.filter(|t| !t.trim().is_empty());
        let snapshot = IssueSnapshot {
            installation_uuid,
            short_id: self.short_id,
            title,
            culprit: self.culprit,
            permalink: self.permalink.or(self.web_url),
            level: self.level,
            substatus: match self.substatus {
                None => None,
                Some(Value::String(s)) if !s.trim().is_empty() => Some(Some(s)),
                Some(Value::Null) => Some(None),
                // A number or an object is no substatus: keep the card's.
                Some(_) => None,
            },
            priority: self.priority.as_deref().and_then(priority_text),
            project_id: project.id,
            project_slug: project.slug,
            project_name: project.name,
            platform: self.platform,
            count: self.count,
            user_count: self.user_count.as_ref().and_then(Value::as_i64).and_then(|n| i32::try_from(n).ok()),
            first_seen: self.first_seen.as_deref().and_then(time::canonical),
            last_seen: self.last_seen.as_deref().and_then(time::canonical),
            status: self.status.as_deref().and_then(Status::parse),
            id: self.id,
        };
        (snapshot, assignee)
    }
}

/// Reads Sentry's assignee object (`{type, id, name, email}`); anything
/// without an id or a name is not an assignee.
pub fn assignee_from(v: &Value) -> Option<Assignee> {
    let obj = v.as_object()?;
    let text = |k: &str| obj.get(k).and_then(value_to_id);
    let a = Assignee {
        kind: text("type").unwrap_or_else(|| "user".to_string()),
        id: text("id"),
        name: text("name").or_else(|| text("username")),
        email: text("email"),
    };
    (a.id.is_some() || a.name.is_some()).then_some(a)
}

/// A string as sent, or a JSON integer that fits 64 bits. A float (`1.5`,
/// `1e3`, or an integer too big for `u64`, which serde_json rounds to a
/// float) is no id: two different ids could round to the same one.
pub(crate) fn value_to_id(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) if n.is_u64() || n.is_i64() => Some(n.to_string()),
        _ => None,
    }
}

pub(crate) fn id<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let v = Value::deserialize(d)?;
    value_to_id(&v).ok_or_else(|| serde::de::Error::custom("expected a string or numeric id"))
}

pub(crate) fn opt_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(value_to_id(&Value::deserialize(d)?))
}

/// A non-blank string, or `None` for anything else (null, numbers, objects).
pub(crate) fn opt_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) if !s.trim().is_empty() => Some(s),
        _ => None,
    })
}

fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_and_string_ids_both_parse_as_text() {
        let a: WireIssue = serde_json::from_str(r#"{"id":1170820242}"#).unwrap();
        let b: WireIssue = serde_json::from_str(r#"{"id":"1170820242"}"#).unwrap();
        assert_eq!(a.id, b.id);
        let huge: WireIssue = serde_json::from_str(r#"{"id":"9007199254740993"}"#).unwrap();
        assert_eq!(huge.id, "9007199254740993");
        let max: WireIssue = serde_json::from_str(r#"{"id":18446744073709551615}"#).unwrap();
        assert_eq!(max.id, "18446744073709551615");
    }

    #[test]
    fn floats_and_integers_past_u64_are_not_ids() {
        for id in ["18446744073709551616", "1.5", "1e3", "-0.0"] {
            let r = serde_json::from_str::<WireIssue>(&format!(r#"{{"id":{id}}}"#));
            assert!(r.is_err(), "{id} became the id {:?}", r.map(|w| w.id));
        }
        assert!(serde_json::from_str::<WireIssue>(r#"{"id":1e400}"#).is_err());
    }

    #[test]
    fn absent_null_and_set_assignees_differ() {
        let absent: WireIssue = serde_json::from_str(r#"{"id":"1"}"#).unwrap();
        let null: WireIssue = serde_json::from_str(r#"{"id":"1","assignedTo":null}"#).unwrap();
        let team: WireIssue =
            serde_json::from_str(r#"{"id":"1","assignedTo":{"type":"team","id":"4","name":"backend"}}"#).unwrap();
        assert_eq!(absent.into_snapshot(None).1, AssigneeChange::Keep);
        assert_eq!(null.into_snapshot(None).1, AssigneeChange::Set(None));
        let (_, a) = team.into_snapshot(None);
        let AssigneeChange::Set(Some(a)) = a else { panic!("team assignee lost: {a:?}") };
        assert_eq!((a.kind.as_str(), a.name.as_deref()), ("team", Some("backend")));
    }

    #[test]
    fn priority_and_substatus_are_read_absent_null_or_set() {
        let w: WireIssue =
            serde_json::from_str(r#"{"id":"1","status":"unresolved","substatus":"escalating","priority":"high"}"#)
                .unwrap();
        let (s, _) = w.into_snapshot(None);
        assert_eq!((s.substatus, s.priority.as_deref()), (Some(Some("escalating".into())), Some("high")));
        let (s, _) = serde_json::from_str::<WireIssue>(r#"{"id":"1"}"#).unwrap().into_snapshot(None);
        assert_eq!((s.substatus, s.priority), (None, None), "absent: the card keeps its own");
        let (s, _) = serde_json::from_str::<WireIssue>(r#"{"id":"1","substatus":null,"priority":null}"#)
            .unwrap()
            .into_snapshot(None);
        assert_eq!((s.substatus, s.priority), (Some(None), None), "null substatus clears; null priority keeps");
        let odd = format!(r#"{{"id":"1","substatus":7,"priority":"{}"}}"#, "urgent!".repeat(20));
        let (s, _) =
            serde_json::from_str::<WireIssue>(&odd).expect("odd types never fail the issue").into_snapshot(None);
        assert_eq!(s.substatus, None);
        let p = s.priority.expect("an unknown priority is kept as text");
        assert!(p.starts_with("urgent!") && p.chars().count() == crate::board::MAX_PRIORITY_CHARS, "{p}");
        let (s, _) =
            serde_json::from_str::<WireIssue>(r#"{"id":"1","priority":{"level":"high"}}"#).unwrap().into_snapshot(None);
        assert_eq!(s.priority, None);
    }

    #[test]
    fn timestamps_are_canonicalised_and_a_missing_title_is_none() {
        let w: WireIssue = serde_json::from_str(
            r#"{"id":"5","shortId":"P-1","firstSeen":"2019-08-19T20:58:37.391000+00:00","lastSeen":"bogus"}"#,
        )
        .unwrap();
        let (s, _) = w.into_snapshot(None);
        assert_eq!(s.first_seen.as_deref(), Some("2019-08-19T20:58:37.391Z"));
        assert_eq!(s.last_seen, None);
        assert_eq!(s.title, None, "no title: the card keeps the one it has");
    }
}
