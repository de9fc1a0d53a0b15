//! A structure-aware mutator for the webhook targets. Byte-level mutation
//! rarely keeps JSON valid, and never grows a field past a length limit or
//! puts a multi-byte character on a cut; this one parses the body, edits one
//! node (long multi-byte text, extreme numbers, removed or added keys, the
//! values the handlers branch on) and re-serializes it. Half of the time, and
//! whenever the body is not JSON, libFuzzer's own mutator runs instead.

use serde_json::{json, Map, Value};

#[path = "../../tests/support/handler_vocab.rs"]
mod handler_vocab;
pub use handler_vocab::{KEYS, STRINGS};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

fn text(rng: &mut Rng) -> String {
    match rng.below(4) {
        // Long text of 2-, 3- or 4-byte characters after a short ASCII
        // prefix, so a byte limit falls inside a character sooner or later.
        0 | 1 => {
            let ch = *rng.pick(&["\u{e9}", "\u{20ac}", "\u{1f600}"]);
            "x".repeat(rng.below(4)) + &ch.repeat(100 + rng.below(600))
        }
        2 => "a".repeat(rng.below(2100)),
        _ => rng.pick(STRINGS).to_string(),
    }
}

fn number(rng: &mut Rng) -> Value {
    match rng.below(7) {
        0 => json!(i64::MIN),
        1 => json!(u64::MAX),
        2 => json!(1.7e308),
        3 => json!(-0.0),
        4 => json!(f64::from_bits(rng.next())), // NaN and infinities become null
        5 => json!(rng.next() as i64),
        _ => json!(rng.below(10)),
    }
}

fn value(rng: &mut Rng, depth: usize) -> Value {
    match rng.below(if depth == 0 { 4 } else { 6 }) {
        0 => Value::Null,
        1 => Value::Bool(rng.below(2) == 0),
        2 => number(rng),
        3 => Value::String(text(rng)),
        4 => Value::Array((0..rng.below(4)).map(|_| value(rng, depth - 1)).collect()),
        _ => {
            let mut m = Map::new();
            for _ in 0..rng.below(5) {
                m.insert(rng.pick(KEYS).to_string(), value(rng, depth - 1));
            }
            Value::Object(m)
        }
    }
}

fn count(v: &Value) -> usize {
    1 + match v {
        Value::Array(a) => a.iter().map(count).sum(),
        Value::Object(m) => m.values().map(count).sum(),
        _ => 0,
    }
}

/// Applies `f` to the `n`th node in pre-order; false if there are fewer.
fn at_nth(v: &mut Value, n: &mut usize, f: &mut dyn FnMut(&mut Value)) -> bool {
    if *n == 0 {
        f(v);
        return true;
    }
    *n -= 1;
    match v {
        Value::Array(a) => a.iter_mut().any(|x| at_nth(x, n, f)),
        Value::Object(m) => m.values_mut().any(|x| at_nth(x, n, f)),
        _ => false,
    }
}

/// Edits one node of `v`.
fn edit(rng: &mut Rng, v: &mut Value) {
    let mut n = rng.below(count(v));
    let op = rng.below(8);
    at_nth(v, &mut n, &mut |node| match (op, &mut *node) {
        (0, Value::String(s)) => *s = text(rng),
        (1, Value::Object(m)) if !m.is_empty() => {
            let k = m.keys().nth(rng.below(m.len())).cloned().expect("below len");
            m.remove(&k);
        }
        (2, Value::Object(m)) => {
            m.insert(rng.pick(KEYS).to_string(), value(rng, 3));
        }
        (3, _) => *node = number(rng),
        (4, _) => *node = Value::String(rng.pick(STRINGS).to_string()),
        (5, _) => {
            let copy = node.clone();
            *node = json!([copy.clone(), { "data": copy }]);
        }
        _ => *node = value(rng, 3),
    });
}

/// The custom mutator: `header` control bytes, then a body that may be JSON.
pub fn mutate(data: &mut [u8], size: usize, max_size: usize, seed: u32, header: usize) -> usize {
    let mut rng = Rng(u64::from(seed) << 1 | 1);
    if size > header && rng.below(2) == 0 {
        if let Ok(mut v) = serde_json::from_slice::<Value>(&data[header..size]) {
            for _ in 0..=rng.below(3) {
                edit(&mut rng, &mut v);
            }
            if let Ok(body) = serde_json::to_vec(&v) {
                if header + body.len() <= max_size {
                    data[header..header + body.len()].copy_from_slice(&body);
                    return header + body.len();
                }
            }
        }
    }
    libfuzzer_sys::fuzzer_mutate(data, size, max_size)
}
