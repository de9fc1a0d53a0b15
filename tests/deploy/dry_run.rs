//! The bundle deploys: `wrangler deploy --dry-run` accepts it, offline.

use std::path::Path;
use std::process::Command;

#[test]
fn wrangler_deploy_dry_run_accepts_the_bundle() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    if std::env::var("SK_PREBUILT").as_deref() != Ok("1") {
        assert!(Command::new("bash").arg("tools/build.sh").current_dir(root).status().unwrap().success());
    }
    let out = root.join("target/dry-run");
    let _ = std::fs::remove_dir_all(&out);
    let script = format!(
        r#"source tools/env.sh && SK_SKIP_BUILD=1 "${{WRANGLER[@]}}" deploy --dry-run --outdir '{}'"#,
        out.display()
    );
    let output = Command::new("bash").args(["-c", &script]).current_dir(root).output().expect("bash runs");
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "dry run failed:\n{text}");
    assert!(text.contains("--dry-run: exiting now"), "{text}");
    for binding in ["env.DB", "env.JOBS", "env.ASSETS"] {
        assert!(text.contains(binding), "binding {binding} missing from the dry-run summary:\n{text}");
    }
    let wasm = std::fs::read_dir(&out)
        .unwrap()
        .filter_map(Result::ok)
        .any(|e| e.path().extension().is_some_and(|x| x == "wasm"));
    assert!(wasm, "no .wasm module in {}", out.display());
}
