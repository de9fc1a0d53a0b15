//! What the benchmarks share (each uses a part): the e2e helpers that run
//! the worker under `wrangler dev`, the signed bodies, the load driver and
//! the measurements `make bench-report` gathers from the other benches.
#![allow(dead_code)]

#[path = "../../tests/e2e/app.rs"]
pub mod app;
pub mod bodies;
pub mod compare;
pub mod errors;
#[path = "../../tests/e2e/github.rs"]
pub mod github;
#[path = "../../tests/e2e/issues.rs"]
pub mod issues;
pub mod load;
#[path = "../../tests/e2e/mock.rs"]
pub mod mock;
pub mod native;
pub mod sync;

use std::path::{Path, PathBuf};
use std::time::Duration;

pub fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// The `p` quantile (0..=1) of sorted durations.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The worker's wasm as built (`build/worker/*.wasm`, else `build/*.wasm`):
/// path, raw bytes, `gzip -9` bytes.
pub fn wasm_sizes() -> Vec<(PathBuf, u64, u64)> {
    let found = |dir: &str| -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(root().join(dir))
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "wasm"))
            .collect();
        files.sort();
        files
    };
    let files = Some(found("build/worker")).filter(|f| !f.is_empty()).unwrap_or_else(|| found("build"));
    files
        .into_iter()
        .map(|path| {
            let raw = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            let gz = std::process::Command::new("sh")
                .arg("-c")
                .arg(r#"gzip -9 -c "$0" | wc -c"#)
                .arg(&path)
                .output()
                .ok()
                .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse::<u64>().ok())
                .unwrap_or(0);
            (path.strip_prefix(root()).unwrap_or(&path).to_path_buf(), raw, gz)
        })
        .collect()
}

/// Bytes per section of a wasm module: `code`, `data`, custom sections by
/// their name (`name`, `producers`, ...), other standard ones as `id N`.
pub fn wasm_sections(path: &Path) -> Vec<(String, u64)> {
    fn leb(d: &[u8], i: &mut usize) -> Option<u64> {
        let (mut value, mut shift) = (0u64, 0);
        loop {
            let byte = *d.get(*i)?;
            *i += 1;
            value |= u64::from(byte & 0x7f) << shift;
            shift += 7;
            if byte < 0x80 || shift > 63 {
                return Some(value);
            }
        }
    }
    let d = std::fs::read(path).unwrap_or_default();
    let mut sections = Vec::new();
    let mut i = 8; // magic and version
    while i < d.len() {
        let id = d[i];
        i += 1;
        let Some(size) = leb(&d, &mut i) else { break };
        let start = i;
        let name = match id {
            0 => {
                let len = leb(&d, &mut i).unwrap_or(0) as usize;
                String::from_utf8_lossy(d.get(i..i + len).unwrap_or_default()).into_owned()
            }
            10 => "code".to_string(),
            11 => "data".to_string(),
            other => format!("id {other}"),
        };
        sections.push((name, size));
        i = start + size as usize;
    }
    sections
}

pub fn print_wasm_sizes() {
    for (path, raw, gz) in wasm_sizes() {
        println!("wasm size: {raw} bytes raw, {gz} bytes gzipped ({})", path.display());
    }
}
