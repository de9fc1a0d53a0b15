//! A minimal W3C WebDriver client over HTTP (ureq + serde_json) for the
//! browser tests: Debian's chromedriver, started once per test binary on a
//! free 127.0.0.1 port in a process group of its own (stopped when the tests
//! end, see run-chromedriver.sh), and one headless Chromium session per test
//! with a fresh profile directory.
// Each test uses a different part of this client.
#![allow(dead_code)]

use serde_json::{json, Value};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// The key WebDriver uses for an element reference in JSON.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Keys for `send_keys` / `keys` (WebDriver's private-use code points).
pub const ARROW_LEFT: &str = "\u{E012}";
pub const ARROW_UP: &str = "\u{E013}";
pub const ARROW_RIGHT: &str = "\u{E014}";
pub const ARROW_DOWN: &str = "\u{E015}";
pub const ENTER: &str = "\u{E007}";
pub const ESCAPE: &str = "\u{E00C}";

/// How long a command may take before the client gives up on chromedriver.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

struct Driver {
    url: String,
    log: PathBuf,
    /// The wrapper script; it outlives nothing but this test process.
    _wrapper: std::process::Child,
}

static DRIVER: OnceLock<Driver> = OnceLock::new();
static PROFILES: AtomicUsize = AtomicUsize::new(0);

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn driver() -> &'static Driver {
    DRIVER.get_or_init(|| {
        for bin in [CHROMIUM, CHROMEDRIVER] {
            assert!(
                Path::new(bin).exists(),
                "{bin} is missing: run tools/browser-deps.sh (apt-get install chromium chromium-driver)"
            );
        }
        let dir = root().join("target/browser");
        std::fs::create_dir_all(&dir).unwrap();
        let port = free_port();
        let log = dir.join(format!("chromedriver-{}-{port}.log", std::process::id()));
        let mut cmd = Command::new("bash");
        cmd.arg(root().join("tests/browser/run-chromedriver.sh"))
            .args([&std::process::id().to_string(), &port.to_string(), log.to_str().unwrap()])
            .current_dir(root())
            .stdin(Stdio::null());
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let wrapper = cmd.spawn().expect("chromedriver starts");
        let d = Driver { url: format!("http://127.0.0.1:{port}"), log, _wrapper: wrapper };
        let start = Instant::now();
        loop {
            let ready = ureq::get(&format!("{}/status", d.url))
                .timeout(Duration::from_secs(2))
                .call()
                .ok()
                .and_then(|r| r.into_json::<Value>().ok())
                .is_some_and(|v| v["value"]["ready"] == true);
            if ready {
                break;
            }
            if start.elapsed() > Duration::from_secs(30) {
                let log = std::fs::read_to_string(&d.log).unwrap_or_default();
                panic!("chromedriver not ready on port {port}; log:\n{log}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        d
    })
}

/// An error answer from chromedriver: `{"value":{"error","message"}}`.
#[derive(Debug)]
pub struct WdError {
    pub status: u16,
    pub error: String,
    pub message: String,
}

impl std::fmt::Display for WdError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status, self.error, self.message)
    }
}

/// One raw WebDriver command; `Ok(value)` is the reply's `value`.
fn command(method: &str, url: &str, body: Option<&Value>) -> Result<Value, WdError> {
    let req = ureq::request(method, url).timeout(COMMAND_TIMEOUT);
    let sent = match body {
        Some(b) => req.send_json(b.clone()),
        None => req.call(),
    };
    let (status, resp) = match sent {
        Ok(r) => (r.status(), r),
        Err(ureq::Error::Status(code, r)) => (code, r),
        Err(e) => {
            return Err(WdError { status: 0, error: "transport".into(), message: format!("{method} {url}: {e}") })
        }
    };
    let text = resp.into_string().unwrap_or_default();
    let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    let value = v.get("value").cloned().unwrap_or(Value::Null);
    if status >= 400 || value.get("error").is_some_and(Value::is_string) {
        return Err(WdError {
            status,
            error: value["error"].as_str().unwrap_or("unknown error").to_string(),
            message: value["message"].as_str().unwrap_or(&text).chars().take(2000).collect(),
        });
    }
    Ok(value)
}

/// A remote element, as returned by `find`.
#[derive(Clone, Debug)]
pub struct Element {
    pub id: String,
}

impl Element {
    /// The JSON a script argument needs to stand for this element.
    pub fn arg(&self) -> Value {
        json!({ ELEMENT_KEY: self.id })
    }
}

/// One browser: a headless Chromium with a fresh profile, quit on drop.
pub struct Browser {
    url: String,
    profile: PathBuf,
}

impl Browser {
    /// Starts a browser (1280x900).
    pub fn new() -> Browser {
        let d = driver();
        let n = PROFILES.fetch_add(1, Ordering::SeqCst);
        let profile = std::env::temp_dir().join(format!("sk-chromium-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&profile);
        std::fs::create_dir_all(&profile).unwrap();
        let args = [
            "--headless=new".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-dev-shm-usage".into(),
            "--no-first-run".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            format!("--user-data-dir={}", profile.display()),
            "--window-size=1280,900".into(),
        ];
        let caps = json!({
            "capabilities": {
                "alwaysMatch": {
                    "browserName": "chrome",
                    "pageLoadStrategy": "normal",
                    "unhandledPromptBehavior": "ignore",
                    "timeouts": { "implicit": 0, "pageLoad": 60000, "script": 30000 },
                    "goog:chromeOptions": { "binary": CHROMIUM, "args": args },
                }
            }
        });
        let value = command("POST", &format!("{}/session", d.url), Some(&caps)).unwrap_or_else(|e| {
            let log = std::fs::read_to_string(&d.log).unwrap_or_default();
            panic!("new session: {e}\nchromedriver log:\n{log}")
        });
        let id = value["sessionId"].as_str().expect("sessionId").to_string();
        Browser { url: format!("{}/session/{id}", d.url), profile }
    }

    fn cmd(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, WdError> {
        command(method, &format!("{}{path}", self.url), body.as_ref())
    }

    fn must(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.cmd(method, path, body).unwrap_or_else(|e| panic!("{method} {path}: {e}"))
    }

    pub fn goto(&self, url: &str) {
        self.must("POST", "/url", Some(json!({ "url": url })));
    }

    pub fn current_url(&self) -> String {
        self.must("GET", "/url", None).as_str().unwrap_or_default().to_string()
    }

    pub fn title(&self) -> String {
        self.must("GET", "/title", None).as_str().unwrap_or_default().to_string()
    }

    pub fn try_find(&self, css: &str) -> Option<Element> {
        match self.cmd("POST", "/element", Some(json!({ "using": "css selector", "value": css }))) {
            Ok(v) => v[ELEMENT_KEY].as_str().map(|id| Element { id: id.to_string() }),
            Err(e) if e.error == "no such element" => None,
            Err(e) => panic!("find {css}: {e}"),
        }
    }

    pub fn find(&self, css: &str) -> Element {
        self.try_find(css).unwrap_or_else(|| panic!("no element matches {css} on {}", self.current_url()))
    }

    pub fn find_all(&self, css: &str) -> Vec<Element> {
        let v = self.must("POST", "/elements", Some(json!({ "using": "css selector", "value": css })));
        v.as_array()
            .map(|a| a.iter().filter_map(|e| e[ELEMENT_KEY].as_str()).map(|id| Element { id: id.into() }).collect())
            .unwrap_or_default()
    }

    /// Elements matching `css` inside `parent`.
    pub fn find_in(&self, parent: &Element, css: &str) -> Vec<Element> {
        let v = self.must(
            "POST",
            &format!("/element/{}/elements", parent.id),
            Some(json!({ "using": "css selector", "value": css })),
        );
        v.as_array()
            .map(|a| a.iter().filter_map(|e| e[ELEMENT_KEY].as_str()).map(|id| Element { id: id.into() }).collect())
            .unwrap_or_default()
    }

    /// The rendered text (as a user sees it).
    pub fn text(&self, el: &Element) -> String {
        self.must("GET", &format!("/element/{}/text", el.id), None).as_str().unwrap_or_default().to_string()
    }

    /// The text, or `None` if the page re-rendered the element meanwhile
    /// (a poll replaced it): for probes that look again.
    pub fn try_text(&self, el: &Element) -> Option<String> {
        let v = self.cmd("GET", &format!("/element/{}/text", el.id), None).ok()?;
        Some(v.as_str().unwrap_or_default().to_string())
    }

    pub fn attribute(&self, el: &Element, name: &str) -> Option<String> {
        self.must("GET", &format!("/element/{}/attribute/{name}", el.id), None).as_str().map(str::to_string)
    }

    pub fn property(&self, el: &Element, name: &str) -> Value {
        self.must("GET", &format!("/element/{}/property/{name}", el.id), None)
    }

    pub fn css_value(&self, el: &Element, name: &str) -> String {
        self.must("GET", &format!("/element/{}/css/{name}", el.id), None).as_str().unwrap_or_default().to_string()
    }

    pub fn displayed(&self, el: &Element) -> bool {
        self.must("GET", &format!("/element/{}/displayed", el.id), None).as_bool().unwrap_or(false)
    }

    pub fn click(&self, el: &Element) {
        self.must("POST", &format!("/element/{}/click", el.id), Some(json!({})));
    }

    pub fn clear(&self, el: &Element) {
        self.must("POST", &format!("/element/{}/clear", el.id), Some(json!({})));
    }

    /// Types into an element (it gets the focus first); see the key constants.
    pub fn send_keys(&self, el: &Element, text: &str) {
        self.must("POST", &format!("/element/{}/value", el.id), Some(json!({ "text": text })));
    }

    /// Presses and releases each key in turn, on whatever has the focus.
    pub fn keys(&self, text: &str) {
        let mut actions = vec![];
        for c in text.chars() {
            actions.push(json!({ "type": "keyDown", "value": c.to_string() }));
            actions.push(json!({ "type": "keyUp", "value": c.to_string() }));
        }
        self.must(
            "POST",
            "/actions",
            Some(json!({ "actions": [{ "type": "key", "id": "keyboard", "actions": actions }] })),
        );
        let _ = self.cmd("DELETE", "/actions", None);
    }

    /// Runs `script` as a function body with `args` (use `Element::arg`);
    /// returns what it returns.
    pub fn execute(&self, script: &str, args: Vec<Value>) -> Value {
        self.must("POST", "/execute/sync", Some(json!({ "script": script, "args": args })))
    }

    pub fn cookies(&self) -> Vec<Value> {
        self.must("GET", "/cookie", None).as_array().cloned().unwrap_or_default()
    }

    pub fn cookie(&self, name: &str) -> Option<Value> {
        self.cookies().into_iter().find(|c| c["name"] == name)
    }

    pub fn add_cookie(&self, cookie: Value) {
        self.must("POST", "/cookie", Some(json!({ "cookie": cookie })));
    }

    pub fn delete_cookies(&self) {
        self.must("DELETE", "/cookie", None);
    }

    /// The text of an open alert/confirm/prompt, if one is open.
    pub fn alert_text(&self) -> Option<String> {
        match self.cmd("GET", "/alert/text", None) {
            Ok(v) => v.as_str().map(str::to_string),
            Err(e) if e.error == "no such alert" => None,
            Err(e) => panic!("alert text: {e}"),
        }
    }

    pub fn set_window_size(&self, width: u32, height: u32) {
        self.must("POST", "/window/rect", Some(json!({ "width": width, "height": height })));
    }

    /// A PNG of the viewport.
    pub fn screenshot(&self) -> Vec<u8> {
        let b64 = self.must("GET", "/screenshot", None);
        base64_decode(b64.as_str().expect("screenshot is base64"))
    }

    /// Saves a screenshot as target/screenshots/<name>.png and returns the path.
    pub fn save_screenshot(&self, name: &str) -> PathBuf {
        let dir = root().join("target/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, self.screenshot()).unwrap();
        path
    }

    /// Polls `probe` every 100 ms until it yields a value; panics after
    /// `limit` with `what`, the current URL and the page text.
    pub fn wait_for<T>(&self, what: &str, limit: Duration, mut probe: impl FnMut(&Browser) -> Option<T>) -> T {
        let start = Instant::now();
        loop {
            if let Some(v) = probe(self) {
                return v;
            }
            if start.elapsed() > limit {
                let url = self.current_url();
                let text = self.execute("return document.body ? document.body.innerText : ''", vec![]);
                let text: String = text.as_str().unwrap_or_default().chars().take(3000).collect();
                panic!("timed out after {limit:?} waiting for {what}; at {url}; page text:\n{text}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits until an element matches `css` and returns it.
    pub fn wait_find(&self, css: &str, limit: Duration) -> Element {
        self.wait_for(&format!("an element matching {css}"), limit, |b| b.try_find(css))
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Quits Chromium; the profile goes with it.
        let _ = command("DELETE", &self.url, None);
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// Standard base64 (with or without padding), as WebDriver sends screenshots.
fn base64_decode(s: &str) -> Vec<u8> {
    let val = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => (c - b'A') as u32,
            b'a'..=b'z' => (c - b'a' + 26) as u32,
            b'0'..=b'9' => (c - b'0' + 52) as u32,
            b'+' => 62,
            b'/' => 63,
            _ => panic!("not base64: {:?}", c as char),
        }
    };
    let bytes: Vec<u8> = s.bytes().filter(|c| !c.is_ascii_whitespace() && *c != b'=').collect();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            n |= val(c) << (18 - 6 * i);
        }
        let got = chunk.len() * 6 / 8;
        for i in 0..got {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64_decodes_with_and_without_padding() {
        assert_eq!(super::base64_decode("aGVsbG8="), b"hello");
        assert_eq!(super::base64_decode("aGVsbG8"), b"hello");
        assert_eq!(super::base64_decode("aGk="), b"hi");
        assert_eq!(super::base64_decode("aGV5"), b"hey");
        assert_eq!(super::base64_decode("iVBO\nRw0KGgo="), b"\x89PNG\r\n\x1a\n");
    }
}
