//! The one structured log line per delivery. It names what arrived and what
//! was done; it never carries a secret, a signature or a body.

use serde_json::json;

pub struct DeliveryLog<'a> {
    pub source: &'a str,
    pub resource: Option<&'a str>,
    pub action: Option<&'a str>,
    pub verdict: &'a str,
    pub status: u16,
    pub request_id: Option<&'a str>,
    pub detail: Option<&'a str>,
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
            detail: None,
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
