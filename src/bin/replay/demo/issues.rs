//! The demo's cast: three projects, the people and teams issues are
//! assigned to, and twelve issues with what happens to each.

use serde_json::{json, Value};

pub struct Project {
    pub id: &'static str,
    pub slug: &'static str,
    pub name: &'static str,
    pub platform: &'static str,
}

pub const PROJECTS: [Project; 3] = [
    Project { id: "4504011", slug: "web-frontend", name: "Web Frontend", platform: "javascript" },
    Project { id: "4504012", slug: "checkout-api", name: "Checkout API", platform: "python" },
    Project { id: "4504013", slug: "payments-worker", name: "Payments Worker", platform: "go" },
];

#[derive(Clone, Copy)]
pub enum Who {
    User(u64, &'static str, &'static str),
    Team(u64, &'static str, &'static str),
}

pub const ANA: Who = Who::User(101, "Ana Souza", "ana.souza@example.com");
pub const JONAS: Who = Who::User(102, "Jonas Müller", "jonas.mueller@example.com");
pub const PRIYA: Who = Who::User(103, "Priya Raman", "priya.raman@example.com");
pub const BACKEND: Who = Who::Team(11, "backend", "Backend");
pub const PAYMENTS: Who = Who::Team(12, "payments", "Payments");

impl Who {
    /// `data.assignee` of `issue.assigned`.
    pub fn assignee(self) -> Value {
        match self {
            Who::User(id, name, email) => json!({"type": "user", "name": name, "id": id, "email": email}),
            Who::Team(id, _, name) => json!({"type": "team", "name": name, "id": id}),
        }
    }

    /// `issue.assignedTo`: ids as strings.
    pub fn assigned_to(self) -> Value {
        match self {
            Who::User(id, name, email) => {
                json!({"id": id.to_string(), "name": name, "email": email, "type": "user"})
            }
            Who::Team(id, slug, name) => json!({"id": id.to_string(), "slug": slug, "name": name, "type": "team"}),
        }
    }

    pub fn actor(self) -> Value {
        match self {
            Who::User(id, name, _) => json!({"type": "user", "id": id, "name": name}),
            Who::Team(..) => ANA.actor(),
        }
    }
}

#[derive(Clone, Copy)]
pub enum Step {
    Assign(Who),
    Resolve,
    Ignore,
    Unresolve,
}

pub struct DemoIssue {
    pub id: &'static str,
    pub project: usize,
    pub short: &'static str,
    pub level: &'static str,
    pub kind: &'static str,
    pub value: &'static str,
    pub culprit: &'static str,
    /// Hours before now.
    pub first_seen: f64,
    pub last_seen: f64,
    pub count: u32,
    pub users: u32,
    pub steps: &'static [Step],
}

impl DemoIssue {
    pub fn title(&self) -> String {
        if self.kind.is_empty() {
            self.value.to_string()
        } else {
            format!("{}: {}", self.kind, self.value)
        }
    }

    pub fn short_id(&self) -> String {
        format!("{}-{}", PROJECTS[self.project].slug.to_ascii_uppercase(), self.short)
    }
}

pub const ISSUES: [DemoIssue; 12] = [
    DemoIssue {
        id: "4711000101",
        project: 0,
        short: "3F",
        level: "error",
        kind: "TypeError",
        value: "Cannot read properties of undefined (reading 'price')",
        culprit: "CartSummary(src/components/CartSummary.tsx)",
        first_seen: 70.0,
        last_seen: 0.3,
        count: 1284,
        users: 311,
        steps: &[Step::Assign(ANA)],
    },
    DemoIssue {
        id: "4711000102",
        project: 0,
        short: "3G",
        level: "warning",
        kind: "",
        value: "ResizeObserver loop completed with undelivered notifications.",
        culprit: "?(app.4f9c1e.js)",
        first_seen: 140.0,
        last_seen: 1.0,
        count: 5210,
        users: 2044,
        steps: &[Step::Ignore],
    },
    DemoIssue {
        id: "4711000103",
        project: 0,
        short: "3H",
        level: "error",
        kind: "ChunkLoadError",
        value: "Loading chunk 712 failed.",
        culprit: "__webpack_require__.f.j(webpack/runtime/jsonp chunk loading)",
        first_seen: 30.0,
        last_seen: 2.0,
        count: 87,
        users: 61,
        steps: &[Step::Resolve],
    },
    DemoIssue {
        id: "4711000104",
        project: 0,
        short: "3J",
        level: "info",
        kind: "",
        value: "User feedback: \u{201c}The checkout button does nothing\u{201d} \u{1f615}",
        culprit: "/checkout",
        first_seen: 20.0,
        last_seen: 20.0,
        count: 1,
        users: 1,
        steps: &[],
    },
    DemoIssue {
        id: "4711000105",
        project: 1,
        short: "8A",
        level: "error",
        kind: "KeyError",
        value: "'currency'",
        culprit: "checkout.pricing in convert_total",
        first_seen: 50.0,
        last_seen: 0.1,
        count: 342,
        users: 97,
        steps: &[Step::Assign(BACKEND)],
    },
    DemoIssue {
        id: "4711000106",
        project: 1,
        short: "8B",
        level: "error",
        kind: "UnicodeDecodeError",
        value: "'utf-8' codec can't decode byte 0xe9 in position 14 (caf\u{e9}_men\u{fc}.csv)",
        culprit: "importers.csv in read_rows",
        first_seen: 100.0,
        last_seen: 5.0,
        count: 29,
        users: 3,
        steps: &[Step::Assign(JONAS)],
    },
    DemoIssue {
        id: "4711000107",
        project: 1,
        short: "8C",
        level: "warning",
        kind: "",
        value: "Slow DB query: SELECT \u{2026} FROM orders WHERE customer_id = %s (2.4 s)",
        culprit: "checkout.views.orders in list_orders",
        first_seen: 160.0,
        last_seen: 0.5,
        count: 9120,
        users: 1870,
        steps: &[],
    },
    DemoIssue {
        id: "4711000108",
        project: 1,
        short: "8D",
        level: "info",
        kind: "",
        value: "Locale 'pt_BR' not found \u{2013} falling back to 'en'",
        culprit: "i18n.loader in resolve_locale",
        first_seen: 200.0,
        last_seen: 3.0,
        count: 640,
        users: 412,
        steps: &[Step::Resolve],
    },
    DemoIssue {
        id: "4711000109",
        project: 2,
        short: "2K",
        level: "fatal",
        kind: "OOMKilled",
        value: "payments-worker exceeded its 512 MiB memory limit",
        culprit: "main.(*Worker).processBatch",
        first_seen: 6.0,
        last_seen: 0.2,
        count: 14,
        users: 0,
        steps: &[Step::Assign(PAYMENTS)],
    },
    DemoIssue {
        id: "4711000110",
        project: 2,
        short: "2L",
        level: "error",
        kind: "panic",
        value: "runtime error: index out of range [3] with length 3",
        culprit: "ledger.(*Reconciler).Match",
        first_seen: 90.0,
        last_seen: 26.0,
        count: 57,
        users: 0,
        steps: &[Step::Assign(PRIYA), Step::Resolve],
    },
    DemoIssue {
        id: "4711000111",
        project: 2,
        short: "2M",
        level: "error",
        kind: "",
        value: "dial tcp 10.0.3.17:6379: i/o timeout",
        culprit: "cache.(*Client).Get",
        first_seen: 40.0,
        last_seen: 0.8,
        count: 233,
        users: 0,
        steps: &[],
    },
    DemoIssue {
        id: "4711000112",
        project: 2,
        short: "2N",
        level: "fatal",
        kind: "CardDeclined",
        value: "Zahlung fehlgeschlagen: Kartenpr\u{fc}fung abgelehnt (3-D Secure)",
        culprit: "stripe.(*Gateway).Confirm",
        first_seen: 120.0,
        last_seen: 4.0,
        count: 18,
        users: 11,
        steps: &[Step::Resolve, Step::Unresolve],
    },
];
