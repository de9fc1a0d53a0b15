//! Sentry `issue` webhook bodies, byte for byte the way Sentry sends them:
//! compact separators, insertion key order (`action`, `installation`, `data`,
//! `actor`), and every non-ASCII character escaped as `\uXXXX` (surrogate
//! pairs beyond the BMP), as `sentry.utils.json.dumps` does.
//!
//! The literal files in `tests/fixtures/sentry/` are this builder's output
//! (see `literal_fixtures`); `REGENERATE_FIXTURES=1 cargo test --test store
//! fixture_files` rewrites them.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

pub const INSTALLATION: &str = "a8e5d37a-696c-4c54-adb5-b3f28d64c7de";

/// A JSON string literal with Python's `ensure_ascii` escaping.
pub fn js(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
    }
    out.push('"');
    out
}

fn opt(s: &Option<String>) -> String {
    s.as_deref().map_or_else(|| "null".to_string(), js)
}

/// A user or team, as `issue.assigned` names it.
#[derive(Debug, Clone)]
pub struct Person {
    pub kind: &'static str,
    pub id: u64,
    pub name: String,
    pub email: Option<String>,
}

impl Person {
    pub fn user(id: u64, name: &str, email: &str) -> Person {
        Person { kind: "user", id, name: name.into(), email: Some(email.into()) }
    }

    pub fn team(id: u64, name: &str) -> Person {
        Person { kind: "team", id, name: name.into(), email: None }
    }

    /// `data.assignee`: `{"type","name","id"(int),"email"?}`.
    pub fn assignee_json(&self) -> String {
        let email = self.email.as_ref().map_or(String::new(), |e| format!(",\"email\":{}", js(e)));
        format!(r#"{{"type":"{}","name":{},"id":{}{email}}}"#, self.kind, js(&self.name), self.id)
    }

    /// `issue.assignedTo`: the serialized user or team (ids as strings) plus `type`.
    pub fn assigned_to_json(&self) -> String {
        match self.kind {
            "team" => format!(
                r#"{{"id":"{}","slug":{},"name":{},"type":"team"}}"#,
                self.id,
                js(&self.name.to_lowercase().replace(' ', "-")),
                js(&self.name)
            ),
            _ => format!(
                r#"{{"id":"{}","name":{},"email":{},"type":"user"}}"#,
                self.id,
                js(&self.name),
                opt(&self.email)
            ),
        }
    }

    /// The board's view of this person (`item.assignee`).
    pub fn on_board(&self) -> serde_json::Value {
        serde_json::json!({
            "type": self.kind, "id": self.id.to_string(), "name": self.name, "email": self.email,
        })
    }
}

pub fn jane() -> Person {
    Person::user(1, "Jane Doe", "jane@example.com")
}

pub fn backend_team() -> Person {
    Person::team(4, "Backend")
}

/// `issue.assignedTo` as sent, or not sent at all.
#[derive(Debug, Clone)]
pub enum Assigned {
    /// The key is missing (some older bodies): the card keeps its assignee.
    Absent,
    /// `"assignedTo":null`: nobody.
    Null,
    To(Person),
}

/// One issue snapshot (Sentry's GroupSerializer output, trimmed).
#[derive(Debug, Clone)]
pub struct Issue {
    pub id: String,
    /// Send `id` as a bare JSON number instead of a string.
    pub numeric_id: bool,
    pub short_id: String,
    pub title: String,
    pub culprit: String,
    pub level: String,
    pub status: String,
    pub substatus: Option<String>,
    pub platform: String,
    pub project: (String, String, String),
    pub count: String,
    pub user_count: i64,
    pub first_seen: String,
    pub last_seen: String,
    pub assigned_to: Assigned,
    /// `data.resolution_type` on `resolved`.
    pub resolution_type: String,
}

impl Issue {
    pub fn new(id: &str) -> Issue {
        Issue {
            id: id.into(),
            numeric_id: false,
            short_id: format!("FRONT-END-{id}"),
            title: "TypeError: Caf\u{e9} \u{2013} \u{201c}d\u{e9}j\u{e0} vu\u{201d} \u{1f600}".into(),
            culprit: "?(runner)".into(),
            level: "error".into(),
            status: "unresolved".into(),
            substatus: Some("new".into()),
            platform: "javascript".into(),
            project: ("1".into(), "front-end".into(), "Front End".into()),
            count: "1".into(),
            user_count: 1,
            first_seen: "2019-08-19T20:58:37.391000Z".into(),
            last_seen: "2019-08-19T20:58:37.391000Z".into(),
            assigned_to: Assigned::Null,
            resolution_type: "now".into(),
        }
    }

    pub fn title(mut self, t: &str) -> Self {
        self.title = t.into();
        self
    }

    /// Sets `status` and a matching `substatus`.
    pub fn status(mut self, s: &str) -> Self {
        self.substatus = match s {
            "unresolved" => Some("ongoing".into()),
            "ignored" => Some("archived_until_escalating".into()),
            _ => None,
        };
        self.status = s.into();
        self
    }

    pub fn assigned(mut self, a: Assigned) -> Self {
        self.assigned_to = a;
        self
    }

    pub fn to(self, p: &Person) -> Self {
        self.assigned(Assigned::To(p.clone()))
    }

    pub fn seen(mut self, first: &str, last: &str) -> Self {
        self.first_seen = first.into();
        self.last_seen = last.into();
        self
    }

    pub fn numeric_id(mut self) -> Self {
        self.numeric_id = true;
        self
    }

    /// The `issue` object. `urls` adds `url`/`web_url`/`project_url` first,
    /// as `issue.created` has them.
    pub fn to_json(&self, urls: bool) -> String {
        let mut f: Vec<String> = Vec::new();
        if urls {
            f.push(format!(
                r#""url":"https://sentry.io/api/0/organizations/example/issues/{0}/","web_url":"https://example.sentry.io/issues/{0}/","project_url":"https://example.sentry.io/issues/?project={1}""#,
                self.id, self.project.0
            ));
        }
        let id = if self.numeric_id { self.id.clone() } else { js(&self.id) };
        f.push(format!(r#""id":{id},"shareId":null,"shortId":{}"#, js(&self.short_id)));
        f.push(format!(
            r#""title":{},"culprit":{},"permalink":null,"logger":null"#,
            js(&self.title),
            js(&self.culprit)
        ));
        f.push(format!(r#""level":{},"status":{},"statusDetails":{{}}"#, js(&self.level), js(&self.status)));
        f.push(format!(r#""substatus":{},"isPublic":false,"platform":{}"#, opt(&self.substatus), js(&self.platform)));
        let (pid, slug, name) = &self.project;
        f.push(format!(
            r#""project":{{"id":{},"name":{},"slug":{},"platform":{}}}"#,
            js(pid),
            js(name),
            js(slug),
            js(&self.platform)
        ));
        f.push(format!(
            r#""type":"error","metadata":{{"type":"TypeError","value":{}}},"numComments":0"#,
            js(&self.title)
        ));
        match &self.assigned_to {
            Assigned::Absent => {}
            Assigned::Null => f.push(r#""assignedTo":null"#.into()),
            Assigned::To(p) => f.push(format!(r#""assignedTo":{}"#, p.assigned_to_json())),
        }
        f.push(
            r#""isBookmarked":false,"isSubscribed":false,"subscriptionDetails":null,"hasSeen":false,"annotations":[]"#
                .into(),
        );
        f.push(r#""issueType":"error","issueCategory":"error","priority":"high","priorityLockedAt":null,"isUnhandled":false"#.into());
        f.push(format!(
            r#""count":{},"userCount":{},"firstSeen":{},"lastSeen":{}"#,
            js(&self.count),
            self.user_count,
            js(&self.first_seen),
            js(&self.last_seen)
        ));
        format!("{{{}}}", f.join(","))
    }
}

/// Who acted: Sentry itself for `created`, a user (integer id) otherwise.
fn actor(action: &str) -> &'static str {
    match action {
        "created" => r#"{"type":"application","id":"sentry","name":"Sentry"}"#,
        _ => r#"{"type":"user","id":1,"name":"Jane Doe"}"#,
    }
}

/// The whole body of an `issue.<action>` webhook, shaped per action:
/// `created` carries the URLs, `assigned` adds `data.assignee` (the issue's
/// `assignedTo` person), `resolved` adds `data.resolution_type`.
pub fn issue_body(action: &str, issue: &Issue) -> String {
    let data = match action {
        "created" => format!(r#"{{"issue":{}}}"#, issue.to_json(true)),
        "assigned" => match &issue.assigned_to {
            Assigned::To(p) => format!(r#"{{"assignee":{},"issue":{}}}"#, p.assignee_json(), issue.to_json(false)),
            _ => format!(r#"{{"issue":{}}}"#, issue.to_json(false)),
        },
        "resolved" => {
            format!(r#"{{"resolution_type":{},"issue":{}}}"#, js(&issue.resolution_type), issue.to_json(false))
        }
        _ => format!(r#"{{"issue":{}}}"#, issue.to_json(false)),
    };
    format!(
        r#"{{"action":{},"installation":{{"uuid":"{INSTALLATION}"}},"data":{data},"actor":{}}}"#,
        js(action),
        actor(action)
    )
}

/// The issue every literal fixture file is about.
pub const FIXTURE_ISSUE: &str = "1170820242";

/// The literal files under `tests/fixtures/sentry/`, as (file stem, body):
/// one issue's life, in the order Sentry would send it.
pub fn literal_fixtures() -> Vec<(&'static str, String)> {
    let base = Issue::new(FIXTURE_ISSUE);
    vec![
        (
            "issue-created",
            issue_body(
                "created",
                &base.clone().seen("2019-08-19T20:58:37.391000+00:00", "2019-08-19T20:58:37.391000+00:00"),
            ),
        ),
        ("issue-assigned", issue_body("assigned", &base.clone().status("unresolved").to(&jane()))),
        ("issue-assigned-team", issue_body("assigned", &base.clone().status("unresolved").to(&backend_team()))),
        ("issue-resolved", issue_body("resolved", &base.clone().status("resolved").to(&jane()))),
        ("issue-unresolved", issue_body("unresolved", &base.clone().status("unresolved").to(&jane()))),
        ("issue-ignored", issue_body("ignored", &base.clone().status("ignored").to(&jane()))),
        ("issue-archived", issue_body("archived", &base.clone().status("ignored").to(&jane()))),
    ]
}

pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sentry")
}

/// The raw bytes of `tests/fixtures/sentry/<stem>.json`.
pub fn fixture(stem: &str) -> Vec<u8> {
    let path = fixtures_dir().join(format!("{stem}.json"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}
