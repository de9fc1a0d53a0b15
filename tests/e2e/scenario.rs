//! A scenario group's worker in a test binary that holds many groups: the
//! module that declares a `Scenario` shares one worker among its tests, and
//! the worker is stopped once the run has moved past that module and no test
//! thread holds it any more.
//!
//! libtest runs a binary's tests in name order (`module::test`), so a
//! module's tests are contiguous: once a test sorting after every test of the
//! module has asked for a worker, the module's tests have all started, and a
//! worker of it that no running test holds will not be asked for again. A
//! test holds each worker it asked for until its thread ends (libtest runs
//! every test on a thread of its own, named after the test). Should a test
//! of the module ask again after all (a filtered run, a test outside the
//! declaring module), a fresh worker is started: slower, never wrong, as the
//! tests of a group never rely on each other's writes.
#![allow(dead_code)]

use super::app::App;
use std::cell::RefCell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

pub struct Scenario {
    /// The declaring module's path below the crate (`""` at the root).
    module: &'static str,
    start: fn() -> App,
    /// The running worker; also held while one starts.
    app: Mutex<Option<&'static App>>,
    /// Test threads that asked for it and have not ended; changed only
    /// under `BOOK`.
    holders: AtomicUsize,
}

/// Which scenarios have a worker, and the latest test (in name order) that
/// asked for one.
struct Book {
    running: Vec<&'static Scenario>,
    latest: String,
}

static BOOK: Mutex<Book> = Mutex::new(Book { running: Vec::new(), latest: String::new() });

thread_local! {
    static HELD: RefCell<Held> = const { RefCell::new(Held(Vec::new())) };
}

/// The scenarios this thread holds; released when the thread ends.
struct Held(Vec<&'static Scenario>);

impl Drop for Held {
    fn drop(&mut self) {
        let mut book = BOOK.lock().unwrap_or_else(|e| e.into_inner());
        for s in self.0.drain(..) {
            if s.holders.fetch_sub(1, Ordering::Relaxed) == 1 && s.passed(&book.latest) {
                s.stop(&mut book);
            }
        }
    }
}

impl Scenario {
    /// `module` is the declaring module's `module_path!()`.
    pub const fn new(module: &'static str, start: fn() -> App) -> Scenario {
        Scenario { module, start, app: Mutex::new(None), holders: AtomicUsize::new(0) }
    }

    /// This group's worker, started if it is not running.
    pub fn app(&'static self) -> &'static App {
        self.hold();
        let mut app = self.app.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(running) = *app {
            return running;
        }
        let started: &'static App = Box::leak(Box::new((self.start)()));
        *app = Some(started);
        BOOK.lock().unwrap_or_else(|e| e.into_inner()).running.push(self);
        started
    }

    /// Counts this thread as a holder (once), notes how far the run has got
    /// and stops the workers it has left behind.
    fn hold(&'static self) {
        let mut book = BOOK.lock().unwrap_or_else(|e| e.into_inner());
        let first = HELD.with(|h| {
            let mut h = h.borrow_mut();
            let first = !h.0.iter().any(|s| std::ptr::eq(*s, self));
            if first {
                h.0.push(self);
            }
            first
        });
        if first {
            self.holders.fetch_add(1, Ordering::Relaxed);
        }
        if let Some(test) = std::thread::current().name().filter(|n| *n != "main") {
            if test > book.latest.as_str() {
                book.latest = test.to_string();
            }
        }
        let latest = book.latest.clone();
        let idle: Vec<&'static Scenario> = book
            .running
            .iter()
            .copied()
            .filter(|s| s.holders.load(Ordering::Relaxed) == 0 && s.passed(&latest))
            .collect();
        for s in idle {
            s.stop(&mut book);
        }
    }

    /// Whether a test named `latest` sorts after every test of this module.
    fn passed(&self, latest: &str) -> bool {
        let module = self.module.split_once("::").map_or("", |(_, below)| below);
        if module.is_empty() || latest.starts_with(&format!("{module}::")) {
            return false;
        }
        latest > module
    }

    fn stop(&'static self, book: &mut Book) {
        book.running.retain(|s| !std::ptr::eq(*s, self));
        if let Some(app) = self.app.lock().unwrap_or_else(|e| e.into_inner()).take() {
            app.stop();
        }
    }
}
