//! A tiny HTTP/1.1 client: one POST per connection to the local worker, and
//! the response read by Content-Length, chunked encoding or until close.

use crate::args::Url;
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

#[derive(Debug)]
pub enum SendError {
    /// Nothing listens there (or it never answered the connection).
    Unreachable(String),
    Failed(String),
}

#[derive(Debug, PartialEq)]
pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
}

pub fn post(
    url: &Url,
    path: &str,
    headers: &[(&str, String)],
    body: &[u8],
    timeout: Duration,
) -> Result<Response, SendError> {
    let addrs: Vec<_> = (url.connect_host(), url.port)
        .to_socket_addrs()
        .map_err(|e| SendError::Unreachable(format!("cannot resolve {}: {e}", url.host)))?
        .collect();
    let mut last = String::from("no address");
    let mut stream = None;
    for addr in &addrs {
        match TcpStream::connect_timeout(addr, timeout) {
            Ok(s) => {
                stream = Some(s);
                break;
            }
            Err(e) => last = format!("{addr}: {e}"),
        }
    }
    let mut stream = stream.ok_or(SendError::Unreachable(last))?;
    let io = |e: std::io::Error| {
        if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) {
            SendError::Failed(format!("no answer within {:.0?}", timeout))
        } else {
            SendError::Failed(e.to_string())
        }
    };
    stream.set_read_timeout(Some(timeout)).map_err(io)?;
    stream.set_write_timeout(Some(timeout)).map_err(io)?;
    let mut head = format!(
        "POST {}{path} HTTP/1.1\r\nHost: {}:{}\r\nUser-Agent: sentry-kanban-replay/{}\r\nAccept: */*\r\n",
        url.base,
        url.host,
        url.port,
        env!("CARGO_PKG_VERSION")
    );
    for (k, v) in headers {
        let _ = write!(head, "{k}: {v}\r\n");
    }
    let _ = write!(head, "Content-Length: {}\r\nConnection: close\r\n\r\n", body.len());
    stream.write_all(head.as_bytes()).map_err(io)?;
    stream.write_all(body).map_err(io)?;
    stream.flush().map_err(io)?;
    read_response(&mut stream).map_err(|e| match e {
        ReadError::Io(e) => io(e),
        ReadError::Malformed(m) => SendError::Failed(m),
    })
}

#[derive(Debug)]
enum ReadError {
    Io(std::io::Error),
    Malformed(String),
}

/// Reads one HTTP/1.1 response: status, then the body by Content-Length,
/// chunked encoding or until the connection closes.
fn read_response(r: &mut impl Read) -> Result<Response, ReadError> {
    const MAX: usize = 4 << 20;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let mut eof = false;
    let mut fill = |buf: &mut Vec<u8>, eof: &mut bool| -> Result<(), ReadError> {
        let n = r.read(&mut chunk).map_err(ReadError::Io)?;
        if n == 0 {
            *eof = true;
        }
        buf.extend_from_slice(&chunk[..n]);
        if buf.len() > MAX {
            return Err(ReadError::Malformed("response larger than 4 MiB".into()));
        }
        Ok(())
    };
    let head_end = loop {
        if let Some(i) = find(&buf, b"\r\n\r\n") {
            break i + 4;
        }
        if eof {
            return Err(ReadError::Malformed("the connection closed before a complete HTTP response".into()));
        }
        fill(&mut buf, &mut eof)?;
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let status = status_line
        .strip_prefix("HTTP/1.")
        .and_then(|r| r.get(2..5))
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| ReadError::Malformed(format!("not an HTTP response: {status_line:?}")))?;
    let header = |name: &str| {
        head.split("\r\n").skip(1).find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
    };
    let chunked = header("transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    let length = header("content-length").and_then(|v| v.parse::<usize>().ok());
    let body = if chunked {
        loop {
            if let Some(body) = decode_chunked(&buf[head_end..])? {
                break body;
            }
            if eof {
                return Err(ReadError::Malformed("the connection closed inside a chunked body".into()));
            }
            fill(&mut buf, &mut eof)?;
        }
    } else if let Some(len) = length {
        while buf.len() < head_end + len {
            if eof {
                return Err(ReadError::Malformed("the connection closed before the whole body".into()));
            }
            fill(&mut buf, &mut eof)?;
        }
        buf[head_end..head_end + len].to_vec()
    } else {
        while !eof {
            fill(&mut buf, &mut eof)?;
        }
        buf[head_end..].to_vec()
    };
    Ok(Response { status, body })
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The decoded body once the final chunk is in, `None` while incomplete.
fn decode_chunked(mut data: &[u8]) -> Result<Option<Vec<u8>>, ReadError> {
    let mut out = Vec::new();
    loop {
        let Some(eol) = find(data, b"\r\n") else { return Ok(None) };
        let size_text = String::from_utf8_lossy(&data[..eol]);
        let size_text = size_text.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| ReadError::Malformed(format!("bad chunk size {size_text:?}")))?;
        data = &data[eol + 2..];
        if size == 0 {
            // Trailers, if any, end with an empty line; not needed here.
            return Ok(Some(out));
        }
        if data.len() < size + 2 {
            return Ok(None);
        }
        out.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    #[test]
    fn responses_parse_by_length_chunks_or_close() {
        let mut r = Cursor::new(b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n{\"ok\":true}EXTRA".to_vec());
        assert_eq!(read_response(&mut r).unwrap(), Response { status: 200, body: b"{\"ok\":true}".to_vec() });
        let mut r = Cursor::new(
            b"HTTP/1.1 401 Unauthorized\r\ntransfer-encoding: Chunked\r\n\r\n4\r\n{\"a\"\r\n3;x=y\r\n:1}\r\n0\r\n\r\n"
                .to_vec(),
        );
        assert_eq!(read_response(&mut r).unwrap(), Response { status: 401, body: b"{\"a\":1}".to_vec() });
        let mut r = Cursor::new(b"HTTP/1.0 503 Busy\r\nServer: x\r\n\r\nlater".to_vec());
        assert_eq!(read_response(&mut r).unwrap(), Response { status: 503, body: b"later".to_vec() });
        for bad in [&b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab"[..], b"SSH-2.0\r\n\r\n", b"HTTP/1.1 200"] {
            assert!(read_response(&mut Cursor::new(bad.to_vec())).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
    }
}
