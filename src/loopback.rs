//! Whether a host or client address is this machine: what `wrangler dev`
//! answers on, and what a tunnel must not be mistaken for.

/// `wrangler dev` answers on loopback; a deployed worker is never reached
/// under these names, since Cloudflare routes by host. A tunnel can send
/// such a `Host` (ngrok `--host-header=rewrite`): `forwarded` catches that.
pub fn is_loopback(host: &str) -> bool {
    let h = host.trim().trim_end_matches('.').to_ascii_lowercase();
    let ipv4_loopback = h.starts_with("127.") && h.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    h == "localhost" || h.ends_with(".localhost") || h == "::1" || h == "[::1]" || ipv4_loopback
}

/// 127/8 or ::1, also written as an IPv4-mapped address (`::ffff:127.0.0.1`,
/// what a dual-stack socket reports for a local IPv4 client).
pub fn is_loopback_ip(ip: &str) -> bool {
    match ip.trim().parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(v6)) => v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()),
        Ok(v4) => v4.is_loopback(),
        Err(_) => false,
    }
}
