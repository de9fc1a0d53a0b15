//! When to fetch Cloudflare Access's signing keys (`/cdn-cgi/access/certs`)
//! and what to do when the fetch fails. The keys are kept per isolate by
//! the shell; this decides from their age and whether they hold the key a
//! token names.
//!
//! A good set is refreshed after `REFRESH_AFTER_MS`. If the refresh fails,
//! the last good keys still verify tokens until `LIFETIME_MS` after they
//! were fetched (Access publishes a new key well before it retires the old
//! one, so a day-old set is still right). Past that, or with no keys at
//! all, the worker cannot tell a good token from a forged one: it fails
//! closed with a 503 that says so, never a 401 that blames the viewer.

pub const REFRESH_AFTER_MS: f64 = 60.0 * 60.0 * 1000.0;
pub const LIFETIME_MS: f64 = 24.0 * 60.0 * 60.0 * 1000.0;
/// A token naming a key the cached set lacks (a rotation) triggers a fetch,
/// but at most this often, so made-up key ids cannot drive fetches.
pub const UNKNOWN_KID_REFETCH_MS: f64 = 60.0 * 1000.0;

/// The cached set as far as a decision needs it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cached {
    pub age_ms: f64,
    /// Whether the set has the key the token names.
    pub has_key: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Before {
    /// Verify with the cached key.
    Use,
    /// The cached set, fetched moments ago, lacks the key: the token is refused.
    Unknown,
    Fetch,
}

pub fn before_fetch(cached: Option<Cached>) -> Before {
    match cached {
        Some(c) if c.has_key && c.age_ms < REFRESH_AFTER_MS => Before::Use,
        Some(c) if !c.has_key && c.age_ms < UNKNOWN_KID_REFETCH_MS => Before::Unknown,
        _ => Before::Fetch,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFailure {
    /// Verify with the last good key, still within its lifetime.
    UseStale,
    /// Nothing trustworthy to verify with: 503.
    Unavailable,
}

/// The fetch failed, timed out, or answered with no usable key set.
pub fn after_failed_fetch(cached: Option<Cached>) -> AfterFailure {
    match cached {
        Some(c) if c.has_key && c.age_ms < LIFETIME_MS => AfterFailure::UseStale,
        _ => AfterFailure::Unavailable,
    }
}

/// What the 503 says.
pub fn unavailable_message(certs_url: &str) -> String {
    format!(
        "Cloudflare Access signing keys could not be fetched from {certs_url}, so no Access login can be \
         checked right now. Try again shortly; if it persists, check ACCESS_TEAM_DOMAIN."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: f64 = 60.0 * 1000.0;
    const HOUR: f64 = 60.0 * MIN;

    fn cached(age_ms: f64, has_key: bool) -> Option<Cached> {
        Some(Cached { age_ms, has_key })
    }

    #[test]
    fn fresh_keys_are_used_and_old_or_missing_ones_fetched() {
        assert_eq!(before_fetch(None), Before::Fetch);
        assert_eq!(before_fetch(cached(59.0 * MIN, true)), Before::Use);
        assert_eq!(before_fetch(cached(HOUR, true)), Before::Fetch);
        assert_eq!(before_fetch(cached(30_000.0, false)), Before::Unknown, "no fetch per made-up kid");
        assert_eq!(before_fetch(cached(MIN, false)), Before::Fetch, "a rotation is picked up");
    }

    #[test]
    fn a_failed_fetch_falls_back_to_the_last_good_keys_within_their_lifetime() {
        assert_eq!(after_failed_fetch(cached(2.0 * HOUR, true)), AfterFailure::UseStale);
        assert_eq!(after_failed_fetch(cached(23.9 * HOUR, true)), AfterFailure::UseStale);
        assert_eq!(after_failed_fetch(cached(24.0 * HOUR, true)), AfterFailure::Unavailable, "past the lifetime");
        assert_eq!(after_failed_fetch(cached(2.0 * MIN, false)), AfterFailure::Unavailable, "the key is not there");
        assert_eq!(after_failed_fetch(None), AfterFailure::Unavailable, "nothing to fall back on");
        assert!(unavailable_message("https://t.example/cdn-cgi/access/certs").contains("t.example/cdn-cgi"));
    }
}
