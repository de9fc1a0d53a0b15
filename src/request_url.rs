//! The parts of a request's URL the worker reads: its origin, host, path
//! and query. workerd hands the URL over already serialised by the WHATWG
//! URL parser (absolute, scheme and host lowercased, a default port
//! dropped, IDN hosts in punycode), so splitting it is all that is left:
//! the `url` crate's parser, its IDNA and Unicode tables stay out of the
//! wasm.

/// An absolute `scheme://authority/path?query#fragment`, borrowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestUrl<'a> {
    scheme: &'a str,
    /// `host[:port]`, without any `user:password@`.
    host_port: &'a str,
    path: &'a str,
    query: Option<&'a str>,
}

impl<'a> RequestUrl<'a> {
    /// `None` when `url` is not absolute (`scheme://…`).
    pub fn parse(url: &'a str) -> Option<Self> {
        let (scheme, rest) = url.split_once("://")?;
        if scheme.is_empty() || !scheme.bytes().all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b)) {
            return None;
        }
        let rest = rest.split_once('#').map_or(rest, |(before, _)| before);
        let (rest, query) = match rest.split_once('?') {
            Some((before, q)) => (before, Some(q)),
            None => (rest, None),
        };
        let (authority, path) = rest.find('/').map_or((rest, "/"), |i| (&rest[..i], &rest[i..]));
        let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        Some(RequestUrl { scheme, host_port, path, query })
    }

    /// `scheme://host[:port]`, the port left out when it is the scheme's
    /// default (as `Origin` headers and `url`'s ASCII serialisation write it).
    pub fn origin(&self) -> String {
        let default = match self.scheme {
            "http" | "ws" => Some("80"),
            "https" | "wss" => Some("443"),
            _ => None,
        };
        let host_port = match (self.port(), default) {
            (Some(p), Some(d)) if p == d => self.host(),
            _ => self.host_port,
        };
        format!("{}://{host_port}", self.scheme)
    }

    /// The host without its port; an IPv6 host keeps its brackets.
    pub fn host(&self) -> &'a str {
        let h = self.host_port;
        if h.starts_with('[') {
            return h.find(']').map_or(h, |i| &h[..=i]);
        }
        h.split_once(':').map_or(h, |(host, _)| host)
    }

    fn port(&self) -> Option<&'a str> {
        let after_host = &self.host_port[self.host().len()..];
        after_host.strip_prefix(':')
    }

    pub fn path(&self) -> &'a str {
        self.path
    }

    /// Everything after `?` (empty for a bare `?`), without the fragment.
    pub fn query(&self) -> Option<&'a str> {
        self.query
    }

    /// The path and, if any, `?` and the query: where a login sends back to.
    pub fn path_and_query(&self) -> String {
        match self.query {
            Some(q) => format!("{}?{q}", self.path),
            None => self.path.to_string(),
        }
    }

    /// The query's `name=value` pairs, decoded as a form decodes them.
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        query_pairs(self.query.unwrap_or(""))
    }

    /// The first value of `name` in the query.
    pub fn param(&self, name: &str) -> Option<String> {
        self.query_pairs().into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }
}

/// `a=1&b=x+y&c`: pairs in order, empty pieces skipped, a piece without
/// `=` a name with an empty value.
pub fn query_pairs(query: &str) -> Vec<(String, String)> {
    use crate::percent::decode_lossy;
    query
        .split('&')
        .filter(|piece| !piece.is_empty())
        .map(|piece| {
            let (k, v) = piece.split_once('=').unwrap_or((piece, ""));
            (decode_lossy(k), decode_lossy(v))
        })
        .collect()
}
