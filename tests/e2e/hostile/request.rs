//! One request of the table: which webhook, its headers (duplicates kept)
//! and body, and how it goes out — through ureq, or over a plain socket
//! that writes every header line as listed, with the body declared or
//! chunked.

use crate::app::{App, Reply, GITHUB_SECRET, SECRET};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

pub const S_SIG: &str = "Sentry-Hook-Signature";
pub const G_SIG: &str = "X-Hub-Signature-256";

pub fn sentry_sig(body: &[u8]) -> String {
    sentry_kanban::verify::sign_hex(SECRET.as_bytes(), body)
}

pub fn github_sig(body: &[u8]) -> String {
    format!("sha256={}", sentry_kanban::verify::sign_hex(GITHUB_SECRET.as_bytes(), body))
}

pub fn now_secs() -> String {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs().to_string()
}

#[derive(Clone, Copy, PartialEq, Debug)]
pub enum Hook {
    Sentry,
    Github,
}

#[derive(Clone, Copy, PartialEq)]
pub enum Transport {
    /// ureq: one value per header name, `Content-Length` set.
    Ureq,
    /// Hand-written HTTP/1.1: headers exactly as listed (duplicates kept).
    Raw,
    /// Same, with the body sent chunked (no declared length).
    Chunked,
}

#[derive(Clone)]
pub struct Req {
    pub hook: Hook,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub transport: Transport,
}

/// A Sentry delivery signed the way Sentry signs it.
pub fn sentry<B: Into<Vec<u8>>>(resource: &str, body: B) -> Req {
    let body = body.into();
    let headers = vec![
        ("Content-Type".into(), "application/json".into()),
        ("Sentry-Hook-Resource".into(), resource.into()),
        ("Sentry-Hook-Timestamp".into(), now_secs()),
        ("Sentry-Hook-Signature".into(), sentry_sig(&body)),
    ];
    Req { hook: Hook::Sentry, headers, body, transport: Transport::Ureq }
}

/// A GitHub delivery signed with the webhook secret.
pub fn github<B: Into<Vec<u8>>>(event: &str, delivery: &str, body: B) -> Req {
    let body = body.into();
    let headers = vec![
        ("Content-Type".into(), "application/json".into()),
        ("X-GitHub-Event".into(), event.into()),
        ("X-GitHub-Delivery".into(), delivery.into()),
        ("User-Agent".into(), "GitHub-Hookshot/hostile".into()),
        ("X-Hub-Signature-256".into(), github_sig(&body)),
    ];
    Req { hook: Hook::Github, headers, body, transport: Transport::Ureq }
}

impl Req {
    /// Replaces (or adds) one header.
    pub fn set(mut self, name: &str, value: &str) -> Req {
        self.headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Adds a second value for a header (sent raw, so it is not folded away).
    pub fn add(mut self, name: &str, value: &str) -> Req {
        self.headers.push((name.into(), value.into()));
        self.transport = Transport::Raw;
        self
    }

    pub fn without(mut self, name: &str) -> Req {
        self.headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
        self
    }

    pub fn signature(self, value: &str) -> Req {
        match self.hook {
            Hook::Sentry => self.set("Sentry-Hook-Signature", value),
            Hook::Github => self.set("X-Hub-Signature-256", value),
        }
    }

    pub fn chunked(mut self) -> Req {
        self.transport = Transport::Chunked;
        self
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn path(&self) -> &'static str {
        match self.hook {
            Hook::Sentry => "/api/webhooks/sentry",
            Hook::Github => "/api/webhooks/github",
        }
    }

    pub fn send(&self, app: &App) -> Reply {
        let headers: Vec<(&str, &str)> = self.headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        match self.transport {
            Transport::Ureq => app.request("POST", self.path(), &headers, &self.body),
            Transport::Raw => raw_post(app, self.path(), &headers, &self.body, false),
            Transport::Chunked => raw_post(app, self.path(), &headers, &self.body, true),
        }
    }
}

/// A wrong value first, then the good one, under the same header name.
pub fn bad_then_good(req: Req, header: &str) -> Req {
    let good = req.header(header).unwrap().to_string();
    let bad = if good.starts_with("sha256=") { format!("sha256={}", "0".repeat(64)) } else { "0".repeat(64) };
    req.set(header, &bad).add(header, &good)
}

pub fn good_twice(req: Req, header: &str) -> Req {
    let good = req.header(header).unwrap().to_string();
    req.add(header, &good)
}

pub fn hook_bad_app_good(body: Vec<u8>) -> Req {
    let good = sentry_sig(&body);
    sentry("issue", body).set(S_SIG, &"0".repeat(64)).set("Sentry-App-Signature", &good)
}

/// POST over a plain socket: every header line goes out as written.
pub fn raw_post(app: &App, path: &str, headers: &[(&str, &str)], body: &[u8], chunked: bool) -> Reply {
    let addr = app.base.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).expect("connect to wrangler dev");
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut head = format!("POST {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&if chunked {
        "Transfer-Encoding: chunked\r\n\r\n".to_string()
    } else {
        format!("Content-Length: {}\r\n\r\n", body.len())
    });
    // The worker may answer (413) before it has read the body: a failed
    // write is fine as long as the answer arrives.
    let _ = (|| -> std::io::Result<()> {
        s.write_all(head.as_bytes())?;
        if chunked {
            for c in body.chunks(64 * 1024) {
                s.write_all(format!("{:x}\r\n", c.len()).as_bytes())?;
                s.write_all(c)?;
                s.write_all(b"\r\n")?;
            }
            s.write_all(b"0\r\n\r\n")?;
        } else {
            s.write_all(body)?;
        }
        s.flush()
    })();
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    parse_response(&buf).unwrap_or_else(|| panic!("no HTTP answer from {path}: {:?}", String::from_utf8_lossy(&buf)))
}

pub fn parse_response(buf: &[u8]) -> Option<Reply> {
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&buf[..end]).ok()?;
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> =
        lines.filter_map(|l| l.split_once(':')).map(|(k, v)| (k.trim().to_string(), v.trim().to_string())).collect();
    let mut rest = &buf[end + 4..];
    let is_chunked = headers.iter().any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    let body = if is_chunked {
        let mut out = Vec::new();
        loop {
            let nl = rest.windows(2).position(|w| w == b"\r\n")?;
            let n = usize::from_str_radix(std::str::from_utf8(&rest[..nl]).ok()?.split(';').next()?.trim(), 16).ok()?;
            if n == 0 {
                break;
            }
            out.extend_from_slice(rest.get(nl + 2..nl + 2 + n)?);
            rest = &rest[nl + 4 + n..];
        }
        out
    } else {
        rest.to_vec()
    };
    Some(Reply { status, headers, body: String::from_utf8_lossy(&body).into_owned() })
}
