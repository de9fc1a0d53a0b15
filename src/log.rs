//! The one structured log line per delivery. It names what arrived and what
//! was done; it never carries a secret, a signature or a body.

use crate::webhook::verdict::Outcome;
use serde_json::json;

/// Which deliveries get a console line (`LOG_DELIVERIES`). A delivery
/// without a row in the delivery log (D1, the delivery page) always gets
/// one: a queued error event, or one whose row could not be written. The
/// line costs each ack a JSON line and a `console.log`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogDeliveries {
    /// What needs a look: refusals, failures, and verified deliveries whose
    /// content could not be used.
    #[default]
    Problems,
    /// Every delivery (`LOG_DELIVERIES=all`), for `wrangler tail`.
    All,
}

impl LogDeliveries {
    pub fn from_setting(value: Option<&str>) -> Self {
        match value {
            Some(v) if v.trim().eq_ignore_ascii_case("all") => LogDeliveries::All,
            _ => LogDeliveries::Problems,
        }
    }
}

/// One delivery, as logged and as stored in the `deliveries` table.
#[derive(Debug, Clone, Default)]
pub struct DeliveryLog<'a> {
    pub received_at: &'a str,
    pub source: &'a str,
    pub resource: Option<&'a str>,
    pub action: Option<&'a str>,
    pub verdict: &'a str,
    pub status: u16,
    pub request_id: Option<&'a str>,
    pub detail: Option<&'a str>,
    /// Set only for deliveries whose signature verified.
    pub body_sha256: Option<&'a str>,
    pub latency_ms: u32,
    /// The delivery-log id of the delivery this one replays.
    pub replay_of: Option<i64>,
}

impl DeliveryLog<'_> {
    /// The console line, if `policy` shows this delivery; `recorded`:
    /// whether it has its row in the delivery log.
    pub fn line_for(&self, policy: LogDeliveries, recorded: bool) -> Option<String> {
        let problem = self.status >= 300 || self.verdict == Outcome::Unusable.as_str();
        (policy == LogDeliveries::All || problem || !recorded).then(|| self.line())
    }

    pub fn line(&self) -> String {
        json!({
            "event": "delivery",
            "source": self.source,
            "resource": self.resource,
            "action": self.action,
            "verdict": self.verdict,
            "status": self.status,
            "request_id": self.request_id,
            "detail": self.detail.map(|d| if self.verdict == Outcome::Unusable.as_str() { elide_quoted(d) } else { d.to_string() }),
            "latency_ms": self.latency_ms,
            "replay_of": self.replay_of,
        })
        .to_string()
    }
}

/// An unusable delivery's `detail` with every double-quoted span emptied to
/// `"…"`: a parser's message quotes the odd value it met ("invalid type:
/// string \"…\""), which is text from the body. The delivery page keeps
/// the whole reason; a failure's detail (the worker's own error) is kept.
fn elide_quoted(detail: &str) -> String {
    let mut out = String::with_capacity(detail.len());
    let mut chars = detail.chars();
    while let Some(c) = chars.next() {
        out.push(c);
        if c != '"' {
            continue;
        }
        let mut escaped = false;
        for q in chars.by_ref() {
            match (escaped, q) {
                (false, '\\') => escaped = true,
                (false, '"') => break,
                _ => escaped = false,
            }
        }
        out.push_str("…\"");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_default_only_a_delivery_that_needs_a_look_is_logged() {
        let record = |verdict, status| DeliveryLog { source: "sentry", verdict, status, ..Default::default() };
        let problems = LogDeliveries::from_setting(None);
        assert_eq!(problems, LogDeliveries::Problems);
        for (verdict, status) in [("applied", 200), ("filled", 200), ("repeat", 200), ("duplicate", 200)] {
            assert_eq!(record(verdict, status).line_for(problems, true), None, "{verdict}");
            let all = record(verdict, status).line_for(LogDeliveries::from_setting(Some(" ALL ")), true);
            assert_eq!(all, Some(record(verdict, status).line()), "{verdict}");
            let unrecorded = record(verdict, status).line_for(problems, false);
            assert_eq!(unrecorded, Some(record(verdict, status).line()), "{verdict}: no row, so a line");
        }
        for (verdict, status) in [("unusable", 200), ("bad_signature", 401), ("store_failed", 500), ("too_large", 413)]
        {
            let line = record(verdict, status).line_for(problems, true);
            assert_eq!(line, Some(record(verdict, status).line()), "{verdict}");
        }
        assert_eq!(LogDeliveries::from_setting(Some("problems")), LogDeliveries::Problems);
        assert_eq!(LogDeliveries::from_setting(Some("yes")), LogDeliveries::Problems, "only `all` adds lines");
    }

    #[test]
    fn the_line_never_carries_a_quoted_value_from_the_body() {
        let detail = r#"invalid type: string "café \"x\" – 9010", expected struct WireProject at line 1 column 80"#;
        let line =
            DeliveryLog { source: "sentry", verdict: "unusable", detail: Some(detail), ..Default::default() }.line();
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["detail"], r#"invalid type: string "…", expected struct WireProject at line 1 column 80"#);
        assert_eq!(elide_quoted("missing field `id`"), "missing field `id`", "field names are not quoted");
        let failed =
            DeliveryLog { verdict: "store_failed", detail: Some(r#"Internal("D1 down")"#), ..Default::default() };
        assert!(failed.line().contains(r#"Internal(\"D1 down\")"#), "a failure's own error stays: {}", failed.line());
        assert_eq!(elide_quoted(r#"a "b" c "d"#), r#"a "…" c "…""#, "an unclosed quote is elided too");
    }

    #[test]
    fn the_line_is_one_json_object_with_the_named_fields() {
        let line = DeliveryLog {
            source: "sentry",
            resource: Some("issue"),
            action: Some("created"),
            verdict: "applied",
            status: 200,
            request_id: Some("abc"),
            ..Default::default()
        }
        .line();
        assert!(!line.contains('\n'));
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["resource"], "issue");
        assert_eq!(v["verdict"], "applied");
        assert_eq!(v["request_id"], "abc");
        assert_eq!(v["status"], 200);
    }
}
