//! The command line: options, the worker's URL (plain http on loopback
//! only) and the webhook secrets from `.dev.vars`.

use std::path::PathBuf;
use std::time::Duration;

// ---------------------------------------------------------------------------
// Options

#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    pub url: Url,
    pub secret: Option<String>,
    pub github_secret: Option<String>,
    pub resource: Option<String>,
    pub github_event: Option<String>,
    pub demo: bool,
    pub files: Vec<PathBuf>,
    pub timeout: Duration,
}

/// `Ok(None)` means: print the help.
pub fn parse_args(args: &[String], port_env: Option<&str>) -> Result<Option<Options>, String> {
    let mut url = None;
    let mut secret = None;
    let mut github_secret = None;
    let mut resource = None;
    let mut github_event = None;
    let mut demo = false;
    let mut files = Vec::new();
    let mut timeout = Duration::from_secs(10);
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
            _ => (arg.as_str(), None),
        };
        let mut value = |name: &str| -> Result<String, String> {
            inline.clone().or_else(|| it.next().cloned()).ok_or_else(|| format!("{name} needs a value"))
        };
        match flag {
            "-h" | "--help" => return Ok(None),
            "--url" => url = Some(parse_url(&value("--url")?)?),
            "--secret" => secret = Some(value("--secret")?),
            "--github-secret" => github_secret = Some(value("--github-secret")?),
            "--resource" => resource = Some(value("--resource")?.trim().to_ascii_lowercase()),
            "--github-event" => github_event = Some(value("--github-event")?.trim().to_string()),
            "--timeout" => {
                let v = value("--timeout")?;
                let secs: f64 = v.parse().map_err(|_| format!("--timeout takes seconds, not {v:?}"))?;
                if !(secs.is_finite() && secs > 0.0) {
                    return Err(format!("--timeout must be positive, not {v}"));
                }
                timeout = Duration::from_secs_f64(secs);
            }
            "--demo" => demo = true,
            "--" => files.extend(it.by_ref().map(PathBuf::from)),
            f if f.starts_with('-') && f.len() > 1 => return Err(format!("unknown option {f}")),
            _ => files.push(PathBuf::from(arg)),
        }
    }
    if resource.is_some() && github_event.is_some() {
        return Err("--resource (Sentry) and --github-event (GitHub) do not go together".into());
    }
    if (resource.is_some() || github_event.is_some()) && files.is_empty() {
        return Err("--resource / --github-event apply to FILE arguments; none given".into());
    }
    let url = match url {
        Some(u) => u,
        None => {
            let port = port_env.map(str::trim).filter(|p| !p.is_empty()).unwrap_or("8787");
            parse_url(&format!("http://localhost:{port}")).map_err(|e| format!("PORT={port}: {e}"))?
        }
    };
    Ok(Some(Options {
        url,
        secret,
        github_secret,
        resource,
        github_event,
        demo: demo || files.is_empty(),
        files,
        timeout,
    }))
}

/// A plain-http URL of a worker on this machine.
#[derive(Debug, Clone, PartialEq)]
pub struct Url {
    /// As written in the Host header (`[::1]` with brackets).
    pub host: String,
    pub port: u16,
    /// A path prefix without its trailing slash ("" for none).
    pub base: String,
}

impl Url {
    pub fn connect_host(&self) -> &str {
        self.host.trim_start_matches('[').trim_end_matches(']')
    }

    pub fn display(&self) -> String {
        format!("http://{}:{}{}", self.host, self.port, self.base)
    }
}

fn parse_url(s: &str) -> Result<Url, String> {
    let s = s.trim();
    let rest = match s.split_once("://") {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("http") => rest,
        Some((scheme, _)) => {
            return Err(format!("{s}: only http:// to a local worker is supported, not {scheme}://"));
        }
        None => s,
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    if path.contains(['?', '#']) || authority.contains('@') {
        return Err(format!("{s}: give just the worker's address, e.g. http://localhost:8787"));
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (h, after) = v6.split_once(']').ok_or_else(|| format!("{s}: unclosed [ in the host"))?;
        (format!("[{h}]"), after.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), Some(p)),
            None => (authority.to_string(), None),
        }
    };
    let port = match port {
        None => 80,
        Some(p) => p.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(|| format!("{s}: bad port {p:?}"))?,
    };
    let host = host.to_ascii_lowercase();
    if !is_loopback(&host) {
        return Err(format!(
            "{s}: only a worker on this machine (localhost, 127.0.0.1, [::1]) is supported, not {host:?}"
        ));
    }
    Ok(Url { host, port, base: path.trim_end_matches('/').to_string() })
}

fn is_loopback(host: &str) -> bool {
    if host == "localhost" || host == "[::1]" {
        return true;
    }
    let parts: Vec<&str> = host.split('.').collect();
    parts.len() == 4 && parts[0] == "127" && parts.iter().all(|p| p.parse::<u8>().is_ok())
}

// ---------------------------------------------------------------------------
// Secrets from .dev.vars

/// `KEY=VALUE` lines as wrangler reads `.dev.vars` (dotenv): comments,
/// `export `, single or double quotes, and `#` comments after unquoted values.
fn parse_dotenv(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").map_or(line, str::trim_start);
        let Some((key, raw)) = line.split_once('=') else { continue };
        let key = key.trim();
        if key.is_empty() || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-') {
            continue;
        }
        let raw = raw.trim();
        let value = if let Some(q) = raw.strip_prefix('"').and_then(|r| r.rfind('"').map(|i| &r[..i])) {
            q.replace("\\n", "\n").replace("\\\"", "\"")
        } else if let Some(q) = raw.strip_prefix('\'').and_then(|r| r.rfind('\'').map(|i| &r[..i])) {
            q.to_string()
        } else {
            match raw.find(" #").or_else(|| raw.find("\t#")) {
                Some(i) => raw[..i].trim_end().to_string(),
                None => raw.to_string(),
            }
        };
        out.push((key.to_string(), value));
    }
    out
}

/// The first non-empty value of `names` (in that order of preference) in
/// the first of `files` that has one, and which file it came from.
fn secret_from(files: &[PathBuf], names: &[&str]) -> Option<(String, PathBuf)> {
    for file in files {
        let Ok(text) = std::fs::read_to_string(file) else { continue };
        let vars = parse_dotenv(&text);
        for name in names {
            if let Some((_, v)) = vars.iter().rev().find(|(k, v)| k == name && !v.is_empty()) {
                return Some((v.clone(), file.clone()));
            }
        }
    }
    None
}

/// `.dev.vars` then `.dev.vars.example`, in the current directory and, when
/// run from elsewhere, in the project's own.
fn vars_files() -> Vec<PathBuf> {
    let mut dirs = vec![PathBuf::from(".")];
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let same = std::env::current_dir().ok().and_then(|d| d.canonicalize().ok()) == manifest.canonicalize().ok();
    if !same {
        dirs.push(manifest);
    }
    let mut files: Vec<PathBuf> = dirs.iter().map(|d| d.join(".dev.vars")).collect();
    files.extend(dirs.iter().map(|d| d.join(".dev.vars.example")));
    files
}

/// The secret and where it came from: the flag, else the vars files.
pub fn resolve_secret(
    given: &Option<String>,
    flag: &str,
    names: &[&str],
    what: &str,
) -> Result<(String, String), String> {
    if let Some(s) = given.as_ref().filter(|s| !s.is_empty()) {
        return Ok((s.clone(), flag.into()));
    }
    let shown = |f: PathBuf| f.strip_prefix(".").map_or_else(|_| f.display().to_string(), |r| r.display().to_string());
    secret_from(&vars_files(), names).map(|(s, f)| (s, shown(f))).ok_or_else(|| {
        format!("no {what} secret: pass {flag} or set {} in .dev.vars (see .dev.vars.example)", names[0])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn dotenv_lines_parse_like_wranglers() {
        let text = "\
# comment
SENTRY_CLIENT_SECRET=local-dev-sentry-secret
# SENTRY_CLIENT_ID=
export GITHUB_WEBHOOK_SECRET = \"quoted # not a comment\"
SINGLE='it''s'
INLINE=value # a comment
EMPTY=
  SPACED  =  padded  
not a line
=nokey
URL=http://x/?a=b
";
        let vars = parse_dotenv(text);
        let get = |k: &str| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("SENTRY_CLIENT_SECRET"), Some("local-dev-sentry-secret"));
        assert_eq!(get("SENTRY_CLIENT_ID"), None);
        assert_eq!(get("GITHUB_WEBHOOK_SECRET"), Some("quoted # not a comment"));
        assert_eq!(get("SINGLE"), Some("it''s"));
        assert_eq!(get("INLINE"), Some("value"));
        assert_eq!(get("EMPTY"), Some(""));
        assert_eq!(get("SPACED"), Some("padded"));
        assert_eq!(get("URL"), Some("http://x/?a=b"));
        assert_eq!(vars.len(), 7, "{vars:?}");
    }

    #[test]
    fn secrets_come_from_dev_vars_then_the_example_and_names_in_order() {
        let dir = std::env::temp_dir().join(format!("replay-vars-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (vars, example) = (dir.join(".dev.vars"), dir.join(".dev.vars.example"));
        std::fs::write(&example, "SENTRY_CLIENT_SECRET=from-example\nGITHUB_WEBHOOK_SECRET=gh-example\n").unwrap();
        std::fs::write(&vars, "SENTRY_CLIENT_SECRET=\nSENTRY_WEBHOOK_SECRET=old-name\n").unwrap();
        let files = [vars.clone(), example.clone()];
        let names = ["SENTRY_CLIENT_SECRET", "SENTRY_WEBHOOK_SECRET"];
        assert_eq!(secret_from(&files, &names), Some(("old-name".into(), vars.clone())));
        assert_eq!(secret_from(&files, &["GITHUB_WEBHOOK_SECRET"]), Some(("gh-example".into(), example.clone())));
        std::fs::write(&vars, "SENTRY_CLIENT_SECRET=new\nSENTRY_WEBHOOK_SECRET=old-name\n").unwrap();
        assert_eq!(secret_from(&files, &names).map(|(s, _)| s), Some("new".into()));
        assert_eq!(secret_from(&[dir.join("missing")], &names), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn urls_must_be_plain_http_on_loopback() {
        let u = parse_url("http://localhost:8787").unwrap();
        assert_eq!((u.host.as_str(), u.port, u.base.as_str()), ("localhost", 8787, ""));
        assert_eq!(parse_url("http://127.0.0.1:9000/").unwrap().display(), "http://127.0.0.1:9000");
        assert_eq!(parse_url("127.0.0.1:9000").unwrap().port, 9000);
        assert_eq!(parse_url("HTTP://LocalHost").unwrap().port, 80);
        let v6 = parse_url("http://[::1]:8787").unwrap();
        assert_eq!((v6.host.as_str(), v6.connect_host(), v6.port), ("[::1]", "::1", 8787));
        assert_eq!(parse_url("http://localhost:8787/prefix/").unwrap().base, "/prefix");
        for bad in [
            "https://localhost:8787",
            "http://example.com:8787",
            "http://10.0.0.1:8787",
            "http://127.0.0.1.evil.com",
            "http://localhost:0",
            "http://localhost:99999",
            "http://localhost:x",
            "http://user@localhost:8787",
            "http://localhost:8787/?q",
            "http://[::1:8787",
        ] {
            assert!(parse_url(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn arguments_default_to_the_demo_on_port_or_8787() {
        let o = parse_args(&[], None).unwrap().unwrap();
        assert_eq!(
            (o.url.display(), o.demo, o.timeout),
            ("http://localhost:8787".into(), true, Duration::from_secs(10))
        );
        assert_eq!(parse_args(&[], Some("9911")).unwrap().unwrap().url.port, 9911);
        assert!(parse_args(&[], Some("nope")).is_err());
        let o =
            parse_args(&args(&["a.json", "--resource", "Issue", "--url=http://127.0.0.1:1234", "--secret", "s"]), None)
                .unwrap()
                .unwrap();
        assert_eq!(o.files, [PathBuf::from("a.json")]);
        assert_eq!((o.resource.as_deref(), o.secret.as_deref(), o.demo), (Some("issue"), Some("s"), false));
        assert_eq!(o.url.port, 1234);
        assert!(parse_args(&args(&["--demo", "a.json"]), None).unwrap().unwrap().demo);
        assert_eq!(parse_args(&args(&["--help"]), None).unwrap(), None);
        for bad in [
            &["--secret"][..],
            &["--bogus"],
            &["--resource", "issue"],
            &["a.json", "--resource", "issue", "--github-event", "team"],
            &["--timeout", "0"],
            &["--url", "https://localhost"],
        ] {
            assert!(parse_args(&args(bad), None).is_err(), "{bad:?} accepted");
        }
    }
}
