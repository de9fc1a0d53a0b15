//! An in-process HTTP server on 127.0.0.1 that plays the Sentry and GitHub
//! APIs: it records every call and answers from a table of canned replies.
// Each test binary uses a different part of this helper.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone)]
pub struct Call {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// When the call arrived.
    pub at: std::time::Instant,
}

#[derive(Debug, Clone)]
pub struct Canned {
    pub method: String,
    pub path_prefix: String,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// Held back this long before answering (to make the worker time out).
    pub delay_ms: u64,
    /// Matches only calls whose body contains this (tests share one mock).
    pub body_contains: Option<String>,
    /// Close the connection without a byte of answer (status and body unused).
    pub hang_up: bool,
    /// Answered to a call whose method, path and body an earlier call had
    /// (Sentry's 409 to a second create of the same team).
    pub on_repeat: Option<u16>,
}

impl Canned {
    pub fn new(method: &str, path_prefix: &str, status: u16, body: &str) -> Canned {
        Canned {
            method: method.to_string(),
            path_prefix: path_prefix.to_string(),
            status,
            headers: vec![],
            body: body.to_string(),
            delay_ms: 0,
            body_contains: None,
            hang_up: false,
            on_repeat: None,
        }
    }

    /// A call that is read, recorded, and answered by closing the connection
    /// without a response (a crashed server or a proxy dropping it).
    pub fn drop_connection(method: &str, path_prefix: &str) -> Canned {
        Canned { hang_up: true, ..Canned::new(method, path_prefix, 0, "") }
    }

    pub fn header(mut self, name: &str, value: &str) -> Canned {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    pub fn for_body(mut self, needle: &str) -> Canned {
        self.body_contains = Some(needle.to_string());
        self
    }

    pub fn on_repeat(mut self, status: u16) -> Canned {
        self.on_repeat = Some(status);
        self
    }

    pub fn delayed(mut self, ms: u64) -> Canned {
        self.delay_ms = ms;
        self
    }
}

#[derive(Default)]
struct State {
    calls: Vec<Call>,
    /// Replies used once each, in order, before the standing routes.
    queue: VecDeque<Canned>,
    /// Replies used for every matching call once the queue has none.
    routes: Vec<Canned>,
}

#[derive(Clone)]
pub struct Mock {
    pub url: String,
    state: Arc<Mutex<State>>,
}

impl Mock {
    pub fn start() -> Mock {
        let server = tiny_http::Server::http("127.0.0.1:0").expect("mock server binds");
        let addr = server.server_addr().to_ip().expect("ip address");
        let url = format!("http://{addr}");
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        std::thread::spawn(move || {
            for req in server.incoming_requests() {
                let shared = shared.clone();
                // One thread per call: a delayed answer must not hold up the rest.
                std::thread::spawn(move || answer(req, &shared, addr));
            }
        });
        Mock { url, state }
    }

    /// Answers every call matching method and path prefix (after one-shot replies).
    pub fn route(&self, canned: Canned) {
        self.state.lock().unwrap().routes.push(canned);
    }

    /// Like `route`, but replaces the standing reply with the same method and
    /// path prefix in place (its order among the routes is kept).
    pub fn set_route(&self, canned: Canned) {
        let mut state = self.state.lock().unwrap();
        match state.routes.iter().position(|c| c.method == canned.method && c.path_prefix == canned.path_prefix) {
            Some(i) => state.routes[i] = canned,
            None => state.routes.push(canned),
        }
    }

    /// Queues a one-shot reply for the next call matching method and path prefix.
    pub fn reply_once(&self, canned: Canned) {
        self.state.lock().unwrap().queue.push_back(canned);
    }

    /// Drops the standing replies for this path prefix and status.
    pub fn unroute(&self, path_prefix: &str, status: u16) {
        self.state.lock().unwrap().routes.retain(|c| !(c.path_prefix == path_prefix && c.status == status));
    }

    /// Forgets every canned reply (calls stay recorded).
    pub fn reset(&self) {
        let mut state = self.state.lock().unwrap();
        state.queue.clear();
        state.routes.clear();
    }

    pub fn calls(&self) -> Vec<Call> {
        self.state.lock().unwrap().calls.clone()
    }
}

fn answer(mut req: tiny_http::Request, state: &Mutex<State>, local: std::net::SocketAddr) {
    let mut body = String::new();
    let _ = req.as_reader().read_to_string(&mut body);
    let call = Call {
        method: req.method().to_string(),
        path: req.url().to_string(),
        headers: req.headers().iter().map(|h| (h.field.to_string(), h.value.to_string())).collect(),
        body,
        at: std::time::Instant::now(),
    };
    let reply = state.lock().unwrap().reply_for(call);
    std::thread::sleep(std::time::Duration::from_millis(reply.delay_ms));
    if reply.hang_up {
        return hang_up(req, local);
    }
    let mut resp = tiny_http::Response::from_string(reply.body).with_status_code(reply.status);
    let json = ("Content-Type".to_string(), "application/json".to_string());
    for (k, v) in reply.headers.iter().chain(std::iter::once(&json)) {
        resp.add_header(tiny_http::Header::from_bytes(k.as_bytes(), v.as_bytes()).unwrap());
    }
    let _ = req.respond(resp);
}

/// Closes the connection `req` came in on without answering. tiny_http
/// has no call for that (dropping a request answers 500), so the request's
/// writer is taken (nothing is written) and its socket, found among this
/// process's descriptors by its two addresses, is shut down: the client
/// reads end of stream where the status line should be.
fn hang_up(req: tiny_http::Request, local: std::net::SocketAddr) {
    let peer = req.remote_addr().copied();
    let writer = req.into_writer();
    let closed = peer.is_some_and(|peer| shut_down_socket(local, peer));
    drop(writer);
    assert!(closed, "mock: no socket {local} <- {peer:?} to close");
}

#[cfg(target_os = "linux")]
fn shut_down_socket(local: std::net::SocketAddr, peer: std::net::SocketAddr) -> bool {
    use std::os::fd::FromRawFd;
    for entry in std::fs::read_dir("/proc/self/fd").into_iter().flatten().flatten() {
        let Ok(fd) = entry.file_name().to_string_lossy().parse::<i32>() else { continue };
        if !std::fs::read_link(entry.path()).is_ok_and(|l| l.to_string_lossy().starts_with("socket:")) {
            continue;
        }
        // SAFETY: the descriptor is only borrowed: ManuallyDrop never closes
        // it (tiny_http owns it). A descriptor that is not this connection's
        // socket fails the address checks and is left alone.
        let stream = std::mem::ManuallyDrop::new(unsafe { std::net::TcpStream::from_raw_fd(fd) });
        if stream.local_addr().ok() == Some(local) && stream.peer_addr().ok() == Some(peer) {
            return stream.shutdown(std::net::Shutdown::Both).is_ok();
        }
    }
    false
}

#[cfg(not(target_os = "linux"))]
fn shut_down_socket(_: std::net::SocketAddr, _: std::net::SocketAddr) -> bool {
    false
}

impl State {
    fn reply_for(&mut self, call: Call) -> Canned {
        let matches = |c: &Canned| {
            c.method == call.method
                && call.path.starts_with(&c.path_prefix)
                && c.body_contains.as_ref().is_none_or(|needle| call.body.contains(needle.as_str()))
        };
        let pos = self.queue.iter().position(matches);
        let reply = pos
            .and_then(|i| self.queue.remove(i))
            .or_else(|| self.routes.iter().find(|c| matches(c)).cloned())
            .unwrap_or_else(|| Canned::new(&call.method, &call.path, 200, "{}"));
        let repeated = |c: &Call| c.method == call.method && c.path == call.path && c.body == call.body;
        let reply = match reply.on_repeat {
            Some(status) if self.calls.iter().any(repeated) => {
                Canned { status, body: r#"{"detail":"already exists"}"#.into(), ..reply }
            }
            _ => reply,
        };
        self.calls.push(call);
        reply
    }
}
