//! Conditional GETs: the board polls often, and an unchanged board should
//! cost a 304 and no re-render.

use crate::verify::body_digest;

/// A strong ETag for a response body.
pub fn for_body(body: &[u8]) -> String {
    format!("\"{}\"", &body_digest(body)[..32])
}

/// Whether `If-None-Match` names `tag` (weak forms and `*` included).
pub fn matches(if_none_match: Option<&str>, tag: &str) -> bool {
    if_none_match.is_some_and(|h| h.split(',').map(str::trim).any(|t| t == "*" || t.trim_start_matches("W/") == tag))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_follow_the_bytes_and_match_exactly_weakly_or_by_star() {
        let a = for_body(b"{\"items\":[]}");
        assert_eq!(a, for_body(b"{\"items\":[]}"));
        assert_ne!(a, for_body(b"{\"items\":[1]}"));
        assert!(matches(Some(&a), &a));
        assert!(matches(Some(&format!("W/{a}, \"x\"")), &a));
        assert!(matches(Some("*"), &a));
        assert!(!matches(Some("\"x\""), &a));
        assert!(!matches(None, &a));
    }
}
