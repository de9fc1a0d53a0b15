//! The one structured log line per delivery. It names what arrived and what
//! was done; it never carries a secret, a signature or a body.

use serde_json::json;

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
    pub fn line(&self) -> String {
        json!({
            "event": "delivery",
            "source": self.source,
            "resource": self.resource,
            "action": self.action,
            "verdict": self.verdict,
            "status": self.status,
            "request_id": self.request_id,
            "detail": self.detail,
            "latency_ms": self.latency_ms,
            "replay_of": self.replay_of,
        })
        .to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
