//! `make demo` / `cargo run --bin replay -- [options] [FILE…]`: signs webhook
//! bodies with the local secret and posts them to a running worker
//! (`make dev`), the way Sentry (or GitHub) would, so a new user sees a
//! populated board without Sentry or a tunnel.
//!
//! Without files it sends a generated demo set (issues across three
//! projects, assignments, comments, alerts and error events); with files it
//! sends each file's bytes verbatim, signed as they are.
//!
//! Only `http://` to a loopback address (localhost, 127.x, ::1) is accepted:
//! this is a local development tool with a tiny HTTP/1.1 client of its own.

mod args;
mod delivery;
mod demo;
mod http;

use args::{parse_args, resolve_secret, Options};
use delivery::{file_delivery, request_parts, Kind};
use demo::demo_set;
use http::{post, SendError};
use serde_json::Value;
use std::time::{SystemTime, UNIX_EPOCH};

const USAGE: &str = "\
Usage: replay [OPTIONS] [FILE…]

Signs webhook bodies with the local secret and posts them to a running worker
(`make dev`). Without FILEs (or with --demo) it sends a generated demo set.

Options:
  --url URL               the worker (default http://localhost:$PORT, PORT defaults to 8787)
  --secret S              Sentry client secret (default: SENTRY_CLIENT_SECRET or
                          SENTRY_WEBHOOK_SECRET from .dev.vars, else .dev.vars.example)
  --github-secret S       GitHub webhook secret (default: GITHUB_WEBHOOK_SECRET likewise)
  --resource R            Sentry-Hook-Resource for the FILEs (issue, comment, error,
                          event_alert, metric_alert, installation, …); guessed from
                          the file name when left out
  --github-event E        send the FILEs to /api/webhooks/github as X-GitHub-Event E
  --demo                  send the demo set (the default without FILEs)
  --timeout SECS          per-request timeout (default 10)
  -h, --help              this text

Examples:
  make demo
  cargo run --bin replay -- tests/fixtures/sentry/issue-assigned.json --resource issue
  cargo run --bin replay -- tests/fixtures/github/team-created.json --github-event team
";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let opts = match parse_args(&args, std::env::var("PORT").ok().as_deref()) {
        Ok(Some(o)) => o,
        Ok(None) => {
            print!("{USAGE}");
            return;
        }
        Err(e) => {
            eprintln!("replay: {e}\n(run with --help for the options)");
            std::process::exit(2);
        }
    };
    match run(&opts) {
        Ok(true) => {}
        Ok(false) => std::process::exit(1),
        Err(e) => {
            eprintln!("replay: {e}");
            std::process::exit(1);
        }
    }
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// One line of a reply body for the terminal.
fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() > 200 {
        format!("{}…", line.chars().take(200).collect::<String>())
    } else {
        line
    }
}

fn run(opts: &Options) -> Result<bool, String> {
    let mut deliveries = if opts.demo { demo_set(now_ms()) } else { Vec::new() };
    for f in &opts.files {
        deliveries.push(file_delivery(f, opts.resource.as_deref(), opts.github_event.as_deref())?);
    }
    let needs_sentry = deliveries.iter().any(|d| matches!(d.kind, Kind::Sentry(_)));
    let needs_github = deliveries.iter().any(|d| matches!(d.kind, Kind::GitHub(_)));
    let sentry = if needs_sentry {
        Some(resolve_secret(&opts.secret, "--secret", &["SENTRY_CLIENT_SECRET", "SENTRY_WEBHOOK_SECRET"], "Sentry")?)
    } else {
        None
    };
    let github = if needs_github {
        Some(resolve_secret(
            &opts.github_secret,
            "--github-secret",
            &["GITHUB_WEBHOOK_SECRET", "GH_WEBHOOK_TOKEN"],
            "GitHub",
        )?)
    } else {
        None
    };
    let base = opts.url.display();
    let mut from = Vec::new();
    if let Some((_, f)) = &sentry {
        from.push(format!("Sentry secret from {f}"));
    }
    if let Some((_, f)) = &github {
        from.push(format!("GitHub secret from {f}"));
    }
    let n = deliveries.len();
    println!("replay: {n} deliver{} to {base} ({})", if n == 1 { "y" } else { "ies" }, from.join(", "));

    let width = deliveries.iter().map(|d| d.what().len()).max().unwrap_or(0);
    let (mut ok, mut failed, mut unauthorized) = (0usize, 0usize, false);
    for d in &deliveries {
        let secret = match d.kind {
            Kind::Sentry(_) => sentry.as_ref().map(|(s, _)| s.as_str()),
            Kind::GitHub(_) => github.as_ref().map(|(s, _)| s.as_str()),
        }
        .unwrap_or_default();
        let now_secs = now_ms() / 1000;
        let (path, headers) = request_parts(d, secret, now_secs);
        match post(&opts.url, path, &headers, &d.body, opts.timeout) {
            Ok(r) if (200..300).contains(&r.status) => {
                ok += 1;
                let dup = serde_json::from_slice::<Value>(&r.body).ok().is_some_and(|v| v["duplicate"] == true);
                let note = if dup { "  (duplicate: already delivered)" } else { "" };
                println!("  {} {:width$}  {}{note}", r.status, d.what(), d.label);
            }
            Ok(r) => {
                failed += 1;
                unauthorized |= r.status == 401;
                println!("  {} {:width$}  {}  -> {}", r.status, d.what(), d.label, excerpt(&r.body));
            }
            Err(SendError::Unreachable(e)) => {
                return Err(format!(
                    "cannot reach the worker at {base} ({e}): is `make dev` running on port {}?",
                    opts.url.port
                ));
            }
            Err(SendError::Failed(e)) => {
                failed += 1;
                println!("  --- {:width$}  {}  -> {e}", d.what(), d.label);
            }
        }
    }
    println!(
        "replay: {ok} of {} accepted, {failed} failed; board: {base}/  error log: {base}/errors",
        deliveries.len()
    );
    if unauthorized {
        eprintln!(
            "replay: 401 means the signature did not verify: the worker's secret differs from the one used here \
             (restart `make dev` after editing .dev.vars, or pass --secret / --github-secret)"
        );
    }
    Ok(failed == 0)
}
