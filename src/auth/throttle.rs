//! The login throttle: at most `MAX_FAILURES` wrong tokens per client per
//! minute, then 429 with `Retry-After` until the minute is over. While a
//! client is throttled even the right token is refused, so the answer
//! cannot be used to keep guessing.
//!
//! The counters live in D1 (`login_failures`, one row per client and
//! minute, older minutes pruned as failures are recorded): D1 is shared by
//! every isolate, so the limit holds however many isolates an attacker's
//! requests land on. Per-isolate memory would not: each new isolate would
//! start from zero.

/// Wrong tokens allowed per client per minute.
pub const MAX_FAILURES: i64 = 10;

/// The client a counter belongs to: `CF-Connecting-IP`, which Cloudflare
/// sets and a client cannot forge on a deployed worker. An IPv6 client owns
/// at least a /64, so that is one client. Without the header (`wrangler
/// dev`) every request shares one fixed key.
pub fn client_key(cf_connecting_ip: Option<&str>) -> String {
    let ip = cf_connecting_ip.map(str::trim).unwrap_or_default();
    if let Ok(v6) = ip.parse::<std::net::Ipv6Addr>() {
        let s = v6.segments();
        return format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3]);
    }
    match ip.parse::<std::net::Ipv4Addr>() {
        Ok(v4) => v4.to_string(),
        Err(_) => "no-client-ip".to_string(),
    }
}

/// The minute a counter is kept for (epoch minutes fit D1's i32).
pub fn minute(now_secs: i64) -> i32 {
    i32::try_from(now_secs.div_euclid(60)).unwrap_or(i32::MAX)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Allow,
    /// Seconds until the minute ends.
    Refuse {
        retry_after_secs: u32,
    },
}

/// Before checking a token: `failures` is this client's count this minute.
pub fn verdict(failures: i64, now_secs: i64) -> Verdict {
    if failures < MAX_FAILURES {
        return Verdict::Allow;
    }
    let left = 60 - now_secs.rem_euclid(60);
    Verdict::Refuse { retry_after_secs: u32::try_from(left).unwrap_or(60) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_failures_a_minute_then_429_until_the_minute_ends() {
        assert_eq!(verdict(0, 120), Verdict::Allow);
        assert_eq!(verdict(MAX_FAILURES - 1, 120), Verdict::Allow);
        assert_eq!(verdict(MAX_FAILURES, 120), Verdict::Refuse { retry_after_secs: 60 });
        assert_eq!(verdict(MAX_FAILURES + 50, 179), Verdict::Refuse { retry_after_secs: 1 });
        assert_eq!((minute(119), minute(120), minute(-1)), (1, 2, -1));
    }

    #[test]
    fn the_client_is_its_address_or_a_fixed_key() {
        assert_eq!(client_key(Some("203.0.113.7")), "203.0.113.7");
        assert_eq!(client_key(Some(" 203.0.113.7 ")), "203.0.113.7");
        assert_eq!(client_key(Some("2001:db8:1:2:3:4:5:6")), "2001:db8:1:2::/64");
        assert_eq!(client_key(Some("2001:db8:1:2:ffff::1")), client_key(Some("2001:db8:1:2::9")), "one /64");
        assert_eq!(client_key(None), "no-client-ip");
        assert_eq!(client_key(Some("not an ip; DROP TABLE")), "no-client-ip", "junk shares the fixed key");
    }
}
