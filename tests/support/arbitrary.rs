//! Deterministic pseudo-random input for the property tests: a fixed-seed
//! xorshift generator, random and mutated JSON built from the handlers'
//! vocabulary, and the fixtures to start from. A failure replays exactly.
#![allow(dead_code)]

#[path = "handler_vocab.rs"]
mod handler_vocab;
use handler_vocab::{KEYS, STRINGS};
use serde_json::{json, Value};
use std::path::Path;

// ---------------------------------------------------------------- generator

/// Deterministic xorshift64*; no external crates.
pub struct Rng(pub u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: usize) -> usize {
        assert!(n > 0);
        (self.next() % n as u64) as usize
    }

    pub fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// Fisher–Yates: the same seed always gives the same order.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i + 1));
        }
    }
}

pub fn random_string(rng: &mut Rng) -> String {
    match rng.below(4) {
        0 => {
            let len = rng.below(80);
            (0..len).map(|_| char::from_u32(rng.below(0x11_0000) as u32).unwrap_or('\u{fffd}')).collect()
        }
        // Long multi-byte text, cut anywhere: truncation must respect
        // character boundaries.
        1 => {
            let ch = ["\u{e9}", "\u{20ac}", "\u{1f600}"][rng.below(3)];
            "x".repeat(rng.below(4)) + &ch.repeat(rng.below(700))
        }
        _ => rng.pick(STRINGS).to_string(),
    }
}

pub fn random_number(rng: &mut Rng) -> Value {
    match rng.below(6) {
        0 => json!(rng.next() as i64),
        1 => json!(rng.next()),
        2 => json!(f64::from_bits(rng.next())), // NaN and infinities become null
        3 => json!(i64::MIN),
        4 => json!(1.7e308),
        _ => json!(rng.below(10)),
    }
}

/// A random JSON value of bounded depth, biased towards the handlers' keys.
pub fn random_value(rng: &mut Rng, depth: usize) -> Value {
    let leaf = depth == 0 || rng.chance(3);
    match rng.below(if leaf { 4 } else { 6 }) {
        0 => Value::Null,
        1 => Value::Bool(rng.chance(2)),
        2 => random_number(rng),
        3 => Value::String(random_string(rng)),
        4 => Value::Array((0..rng.below(4)).map(|_| random_value(rng, depth - 1)).collect()),
        _ => {
            let mut map = serde_json::Map::new();
            for _ in 0..rng.below(6) {
                map.insert(rng.pick(KEYS).to_string(), random_value(rng, depth - 1));
            }
            Value::Object(map)
        }
    }
}

/// Replaces one random node of `v` (possibly `v` itself) with a random value.
pub fn mutate_value(rng: &mut Rng, v: &mut Value) {
    let children = match v {
        Value::Object(m) => m.len(),
        Value::Array(a) => a.len(),
        _ => 0,
    };
    if children == 0 || rng.chance(6) {
        if rng.chance(3) {
            if let Value::Object(m) = v {
                // Drop a key instead: required fields go missing.
                if let Some(k) = m.keys().nth(rng.below(m.len().max(1))).cloned() {
                    m.remove(&k);
                    return;
                }
            }
        }
        *v = random_value(rng, 3);
        return;
    }
    let i = rng.below(children);
    match v {
        Value::Object(m) => mutate_value(rng, m.values_mut().nth(i).expect("index below len")),
        Value::Array(a) => mutate_value(rng, &mut a[i]),
        _ => unreachable!(),
    }
}

/// Replaces some of the string leaves of `v` with random (often long,
/// multi-byte) text: every text field the planners keep is reached at once.
pub fn mutate_strings(rng: &mut Rng, v: &mut Value) {
    match v {
        Value::String(s) if rng.chance(6) => *s = random_string(rng),
        Value::Array(items) => items.iter_mut().for_each(|x| mutate_strings(rng, x)),
        Value::Object(map) => map.values_mut().for_each(|x| mutate_strings(rng, x)),
        _ => {}
    }
}

/// Bytes in several shapes: raw noise, byte-mutated fixtures, structurally
/// mutated fixtures, random JSON, deep nesting and huge numbers.
pub fn arbitrary_body(rng: &mut Rng, fixtures: &[Fixture]) -> Vec<u8> {
    arbitrary_delivery(rng, fixtures).0
}

/// Same, with the fixture the body was made from, if any (its resource or
/// event is then the likely header, so mutations reach the planners).
pub fn arbitrary_delivery<'f>(rng: &mut Rng, fixtures: &'f [Fixture]) -> (Vec<u8>, Option<&'f Fixture>) {
    let f = rng.pick(fixtures);
    let shape = rng.below(8);
    let body = match shape {
        0 => (0..rng.below(400)).map(|_| rng.next() as u8).collect(),
        1 => {
            let mut b = f.body.clone();
            for _ in 0..=rng.below(8) {
                let i = rng.below(b.len().max(1));
                match rng.below(3) {
                    0 if !b.is_empty() => b[i] = rng.next() as u8,
                    1 if !b.is_empty() => {
                        b.remove(i);
                    }
                    _ => b.insert(i.min(b.len()), rng.next() as u8),
                }
            }
            b
        }
        2 => {
            let b = &f.body;
            let cut = rng.below(b.len() + 1);
            b[..cut].to_vec()
        }
        3 | 4 => {
            let mut v: Value = match serde_json::from_slice(&f.body) {
                Ok(v) => v,
                Err(_) => random_value(rng, 4),
            };
            if rng.chance(2) {
                mutate_strings(rng, &mut v);
            } else {
                for _ in 0..=rng.below(2) {
                    mutate_value(rng, &mut v);
                }
            }
            v.to_string().into_bytes()
        }
        5 => {
            let mut v = random_value(rng, 5);
            if rng.chance(2) {
                v = json!({ "action": rng.pick(STRINGS), "data": v });
            }
            v.to_string().into_bytes()
        }
        6 => {
            let depth = rng.below(5000);
            let open = if rng.chance(2) { "[" } else { "{\"data\":" };
            let mut s = format!("{{\"action\":\"created\",\"data\":{{\"issue\":{}", open.repeat(depth));
            s.push_str(&"]".repeat(rng.below(depth + 1)));
            s.into_bytes()
        }
        _ => {
            let mut s = Vec::new();
            let digits = "9".repeat(rng.below(2000) + 1);
            let num = format!("-{digits}.{digits}e{}", rng.next() as i32);
            s.extend_from_slice(
                format!(r#"{{"action":"created","installation":{{"uuid":{num}}},"data":{{"issue":{{"id":{num},"title":{num}}},"error":{{"event_id":{num},"issue_id":{num},"timestamp":{num}}}}}}}"#)
                    .as_bytes(),
            );
            s
        }
    };
    (body, (1..=4).contains(&shape).then_some(f))
}

// ----------------------------------------------------------------- fixtures

pub struct Fixture {
    pub name: String,
    pub body: Vec<u8>,
}

/// The project's fixtures, plus the shared reference payloads next to the
/// checkout when they are there (they are not part of the repository).
pub fn fixtures(prefix: &str) -> Vec<Fixture> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = vec![];
    let mut add_dir = |dir: &Path, strip: &str| {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        let mut paths: Vec<_> = entries.filter_map(|e| e.ok()).map(|e| e.path()).collect();
        paths.sort();
        for path in paths.into_iter().filter(|p| p.extension().is_some_and(|e| e == "json")) {
            let file = path.file_stem().unwrap().to_string_lossy().to_string();
            let Some(name) = file.strip_prefix(strip) else { continue };
            let body = std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
            out.push(Fixture { name: name.to_string(), body });
        }
    };
    add_dir(&root.join("tests/fixtures").join(prefix), "");
    add_dir(&root.join("../shared/reference/payloads"), &format!("{prefix}-"));
    assert!(out.len() >= 8, "too few {prefix} fixtures: {}", out.len());
    out
}

pub fn sentry_resource(name: &str) -> &'static str {
    const KNOWN: &[(&str, &str)] = &[
        ("issue", "issue"),
        ("error", "error"),
        ("comment", "comment"),
        ("installation", "installation"),
        ("event-alert", "event_alert"),
        ("metric-alert", "metric_alert"),
        ("seer", "seer"),
        ("preprod-artifact", "preprod_artifact"),
    ];
    KNOWN.iter().find(|(prefix, _)| name.starts_with(prefix)).map_or("issue", |(_, r)| r)
}

pub fn github_event(name: &str) -> &'static str {
    ["membership", "team", "organization", "ping"].into_iter().find(|e| name.starts_with(e)).unwrap_or("team")
}
