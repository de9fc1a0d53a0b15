//! The bodies the table sends: good Sentry and GitHub deliveries to start
//! from, and the ways they are made hostile (bad UTF-8, padding, nesting,
//! numbers past 64 bits, SQL- and HTML-looking text).

use serde_json::{json, Value};

pub const MIB: usize = 1024 * 1024;
pub const SQL_1: &str = "'); DROP TABLE cards; --";
pub const SQL_2: &str = "\" OR 1=1 --";
pub const XSS_1: &str = "<script>alert(1)</script>";
pub const XSS_2: &str = "<img src=x onerror=alert(1)>";
pub const FORM: &str = "application/x-www-form-urlencoded";

pub fn issue_json(action: &str, id: &str, title: &str) -> Value {
    json!({"action": action, "installation": {"uuid": "hostile-inst"},
        "data": {"issue": {"id": id, "shortId": format!("HOST-{id}"), "title": title, "culprit": "app.main",
            "permalink": format!("https://sentry.example/issues/{id}/"), "level": "error", "status": "unresolved",
            "project": {"id": "1", "slug": "web", "name": "Web"}, "count": "1", "userCount": 1,
            "firstSeen": "2026-11-01T10:00:00Z", "lastSeen": "2026-11-30T10:00:00Z", "assignedTo": null}},
        "actor": {"type": "application", "id": "sentry", "name": "Sentry"}, "skipped": "not read"})
}

pub fn issue(id: &str) -> Vec<u8> {
    issue_json("created", id, &format!("Hostile {id}")).to_string().into_bytes()
}

pub fn team(action: &str, id: u64, slug: &str) -> Vec<u8> {
    json!({"action": action, "team": {"id": id, "slug": slug, "name": slug, "privacy": "closed"},
        "organization": {"login": "acme"}, "sender": {"login": "octocat"}})
    .to_string()
    .into_bytes()
}

/// Bytes that are not UTF-8 at the start of the string value of `key` —
/// one the worker reads (a title, a slug) or one it skips.
pub fn bad_utf8(json: Vec<u8>, key: &str) -> Vec<u8> {
    let s = String::from_utf8(json).unwrap();
    let needle = format!(r#""{key}":""#);
    let at = s.find(&needle).unwrap_or_else(|| panic!("{needle} not in {s}")) + needle.len();
    let mut b = s.into_bytes();
    b.splice(at..at, [0xff, 0xfe, 0xc3]);
    b
}

pub fn nested(depth: usize) -> String {
    format!("{}{}", "[".repeat(depth), "]".repeat(depth))
}

/// A good issue body padded with trailing spaces to exactly `len` bytes.
pub fn padded_issue(id: &str, len: usize) -> Vec<u8> {
    let mut b = issue(id);
    assert!(b.len() <= len);
    b.resize(len, b' ');
    b
}

pub fn padded_team(id: u64, len: usize) -> Vec<u8> {
    let mut b = team("created", id, &format!("hx{id}"));
    b.resize(len, b' ');
    b
}

pub fn huge_counts(id: &str) -> Vec<u8> {
    let b = edited(issue(id), r#""count":"1""#, r#""count":"184467440737095516161844674407370955161""#);
    edited(b, r#""userCount":1"#, r#""userCount":18446744073709551616"#)
}

/// `body` with one literal replaced (to put a raw number where JSON has a string).
pub fn edited(body: Vec<u8>, from: &str, to: &str) -> Vec<u8> {
    let s = String::from_utf8(body).unwrap();
    assert!(s.contains(from), "{from} not in {s}");
    s.replacen(from, to, 1).into_bytes()
}

/// Every text field of an issue (and its assignee) set to `s`.
pub fn sql_issue(id: &str, s: &str) -> Value {
    let mut v = issue_json("assigned", id, s);
    let who = json!({"type": "user", "id": s, "name": s, "email": s});
    let i = &mut v["data"]["issue"];
    i["shortId"] = json!(s);
    i["culprit"] = json!(s);
    i["platform"] = json!(s);
    i["substatus"] = json!(s);
    i["permalink"] = json!(s);
    i["count"] = json!(s);
    i["project"] = json!({"id": "1", "slug": s, "name": s});
    i["assignedTo"] = who.clone();
    v["data"]["assignee"] = who;
    v
}

pub fn comment(id: &str, comment_id: u64, text: &str, author: &str) -> Vec<u8> {
    json!({"action": "created", "installation": {"uuid": "hostile-inst"},
        "data": {"comment": text, "project_slug": text, "comment_id": comment_id, "issue_id": id,
            "timestamp": "2026-11-30T10:00:00Z"},
        "actor": {"type": "user", "id": 1, "name": author}})
    .to_string()
    .into_bytes()
}

pub fn error_event(event_id: &str, issue_id: &str, title: &str) -> Vec<u8> {
    json!({"action": "created", "installation": {"uuid": "hostile-inst"},
        "data": {"error": {"event_id": event_id, "issue_id": issue_id, "title": title, "culprit": title,
            "level": "error", "platform": "python", "project": 1, "datetime": "2026-11-30T10:00:00Z",
            "web_url": "https://sentry.example/e/", "tags": [["environment", title]], "skipped": "not read"}}})
    .to_string()
    .into_bytes()
}

pub fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in bytes.chunks(3) {
        let n = (c[0] as u32) << 16 | (*c.get(1).unwrap_or(&0) as u32) << 8 | *c.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            out.push(if i <= c.len() { A[(n >> (18 - 6 * i) & 63) as usize] as char } else { '=' });
        }
    }
    out
}

pub fn hex_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len() / 2).map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap()).collect()
}
