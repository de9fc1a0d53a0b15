//! An in-process HTTP server on 127.0.0.1 that plays the Sentry and GitHub
//! APIs: it records every call and answers from a table of canned replies.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone)]
pub struct Call {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

#[derive(Debug, Clone)]
pub struct Canned {
    pub method: String,
    pub path_prefix: String,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

#[derive(Default)]
struct State {
    calls: Vec<Call>,
    /// Replies used once each, in order, before falling back to `default_ok`.
    queue: VecDeque<Canned>,
}

#[derive(Clone)]
pub struct Mock {
    pub url: String,
    state: Arc<Mutex<State>>,
}

impl Mock {
    pub fn start() -> Mock {
        let server = tiny_http::Server::http("127.0.0.1:0").expect("mock server binds");
        let url = format!("http://{}", server.server_addr().to_ip().expect("ip address"));
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        std::thread::spawn(move || {
            for mut req in server.incoming_requests() {
                let mut body = String::new();
                let _ = req.as_reader().read_to_string(&mut body);
                let call = Call {
                    method: req.method().to_string(),
                    path: req.url().to_string(),
                    headers: req.headers().iter().map(|h| (h.field.to_string(), h.value.to_string())).collect(),
                    body,
                };
                let reply = shared.lock().unwrap().answer(call);
                let mut resp = tiny_http::Response::from_string(reply.body).with_status_code(reply.status);
                for (k, v) in
                    reply.headers.iter().chain([("Content-Type".to_string(), "application/json".to_string())].iter())
                {
                    resp.add_header(tiny_http::Header::from_bytes(k.as_bytes(), v.as_bytes()).unwrap());
                }
                let _ = req.respond(resp);
            }
        });
        Mock { url, state }
    }

    /// Queues a one-shot reply for the next call matching method and path prefix.
    pub fn reply_once(&self, canned: Canned) {
        self.state.lock().unwrap().queue.push_back(canned);
    }

    pub fn calls(&self) -> Vec<Call> {
        self.state.lock().unwrap().calls.clone()
    }
}

impl State {
    fn answer(&mut self, call: Call) -> Canned {
        let pos = self.queue.iter().position(|c| c.method == call.method && call.path.starts_with(&c.path_prefix));
        let reply = pos.and_then(|i| self.queue.remove(i)).unwrap_or_else(|| Canned {
            method: call.method.clone(),
            path_prefix: call.path.clone(),
            status: 200,
            headers: vec![],
            body: "{}".to_string(),
        });
        self.calls.push(call);
        reply
    }
}
