//! How a GitHub delivery is taken: rate limits waited out, a persistent 500
//! dead-lettered, bad signatures refused, form encoding verified over the
//! form, and a dry run that records the calls without making them.

use super::*;

#[test]
fn rate_limits_are_waited_out_then_the_job_completes() {
    let app = gh();
    let limited = Canned::new("POST", TEAMS, 429, r#"{"detail":"slow down"}"#).header("Retry-After", "1");
    app.mock.reply_once(limited.for_body("\"eta\""));
    assert_eq!(app.send_github("team", "limited-1", &team_body("created", 1060, "eta")).status, 200);
    let done = wait_status(app, "limited-1", "done");
    assert!(done["attempts"].as_i64() >= Some(2), "{done}");
    let posts = calls_to(app, "POST", TEAMS).into_iter().filter(|c| c.body.contains("\"eta\"")).count();
    assert_eq!(posts, 2);

    // GitHub's primary limit: 403 with nothing remaining, wait until reset.
    let reset = (std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() + 1).to_string();
    let limited = Canned::new("POST", "/graphql", 403, r#"{"message":"API rate limit exceeded"}"#)
        .header("x-ratelimit-remaining", "0")
        .header("x-ratelimit-reset", &reset)
        .for_body("\"dave-gh\"");
    app.mock.reply_once(limited);
    verified_emails(app, "dave-gh", &["dave@example.com"]);
    sentry_member(app, "dave@example.com", "404", true);
    let body = membership_body("added", 1060, "eta", "dave-gh");
    assert_eq!(app.send_github("membership", "add-dave", &body).status, 200);
    wait_status(app, "add-dave", "done");
    let lookups = calls_to(app, "POST", "/graphql").into_iter().filter(|c| c.body.contains("\"dave-gh\"")).count();
    assert_eq!(lookups, 2);
    assert_eq!(calls_to(app, "POST", &member_path("404", "eta")).len(), 1);
}

#[test]
fn a_persistent_500_ends_in_the_dead_letter_queue_and_shows() {
    let app = gh();
    create_team(app, 1070, "theta");
    assert_eq!(map_login(app, "erin-gh", r#"{"member_id":"505"}"#).status, 200);
    app.mock.route(Canned::new("POST", &member_path("505", "theta"), 500, r#"{"detail":"boom"}"#));
    let body = membership_body("added", 1070, "theta", "erin-gh");
    assert_eq!(app.send_github("membership", "add-erin", &body).status, 200);
    let dead = app.wait_for("add-erin dead", Duration::from_secs(120), || {
        event(app, "add-erin").filter(|e| e["status"] == "dead")
    });
    let detail = dead["detail"].as_str().unwrap();
    assert!(detail.contains("gave up after 6 attempts") && detail.contains("HTTP 500"), "{dead}");
    assert_eq!(calls_to(app, "POST", &member_path("505", "theta")).len(), 6);
    assert!(sync_status(app)["counts"]["dead"].as_i64() >= Some(1));
}

#[test]
fn bad_or_missing_signatures_are_401_and_write_nothing() {
    let app = gh();
    let body = team_body("created", 1080, "iota");
    let wrong = format!("sha256={}", sentry_kanban::verify::sign_hex(b"not-the-secret", body.as_bytes()));
    for (delivery, sig) in [("unsigned-1", None), ("badsig-1", Some(wrong.as_str())), ("bare-1", Some(&wrong[7..]))] {
        let mut headers = vec![("Content-Type", "application/json")];
        if let Some(sig) = sig {
            headers.push(("X-Hub-Signature-256", sig));
        }
        let r = app.send_github_with("team", delivery, &body, &headers);
        assert_eq!(r.status, 401, "{delivery}: {}", r.body);
        assert!(event(app, delivery).is_none());
        assert!(!app.deliveries().iter().any(|d| d["request_id"] == delivery), "{delivery} was logged in D1");
    }
    std::thread::sleep(Duration::from_secs(1));
    assert!(calls_to(app, "POST", TEAMS).iter().all(|c| !c.body.contains("\"iota\"")));
}

/// `application/x-www-form-urlencoded` as GitHub's web form sends it:
/// unreserved bytes as is, space as `+`, the rest (UTF-8 bytes) as `%XX`.
fn form_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => (b as char).to_string(),
            b' ' => "+".to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn send_form(app: &App, event: &str, delivery: &str, form: &str, content_type: &str) -> app::Reply {
    let sig = format!("sha256={}", sentry_kanban::verify::sign_hex(GITHUB_SECRET.as_bytes(), form.as_bytes()));
    let headers = [("Content-Type", content_type), ("X-Hub-Signature-256", sig.as_str())];
    app.send_github_with(event, delivery, form, &headers)
}

// Changed (issue 16 #8): form-encoded hooks used to get 415.
#[test]
fn a_form_encoded_hook_is_verified_over_the_form_and_handled_like_json() {
    let app = gh();
    // The octokit team.created example, with a multibyte description.
    let mut payload = fixture("team-created");
    payload["team"]["id"] = json!(1090);
    payload["team"]["slug"] = json!("kappa");
    payload["team"]["description"] = json!("Équipe ☃ for the form test");
    let form = format!("payload={}", form_encode(&payload.to_string()));
    assert!(form.contains('+') && form.contains("%C3%89"), "{form}");
    let r = send_form(app, "team", "form-1", &form, "application/x-www-form-urlencoded");
    assert_eq!((r.status, r.json()["outcome"].clone()), (200, json!("queued")), "{}", r.body);
    wait_status(app, "form-1", "done");
    let posts = calls_to(app, "POST", TEAMS).into_iter().filter(|c| c.body.contains("\"kappa\"")).count();
    assert_eq!(posts, 1);

    let r = send_form(app, "team", "form-2", "zen=no+payload+here", "application/x-www-form-urlencoded");
    assert_eq!((r.status, r.json()["outcome"].clone()), (200, json!("unusable")), "{}", r.body);
    let logged = app.deliveries().into_iter().find(|d| d["request_id"] == "form-2").expect("logged");
    assert!(logged["error"].as_str().unwrap_or("").contains("without a payload"), "{logged}");
    assert!(event(app, "form-2").is_none(), "nothing to sync");

    let r = send_form(app, "team", "form-3", &payload.to_string(), "text/plain");
    assert_eq!(r.status, 415, "{}", r.body);
    assert!(r.json()["message"].as_str().unwrap().contains("application/json"), "{}", r.body);
    assert!(event(app, "form-3").is_none());
}

#[test]
fn dry_run_records_the_calls_without_making_them() {
    let app = dry();
    assert_eq!(app.send_github("team", "dry-team", &team_body("created", 2001, "lambda")).status, 200);
    let recorded = wait_status(app, "dry-team", "dry_run");
    let detail = recorded["detail"].as_str().unwrap();
    assert!(detail.contains(r#"POST /api/0/organizations/internal-org/teams/ {"slug":"lambda"}"#), "{detail}");
    assert_eq!(map_login(app, "frank-gh", r#"{"member_id":"606"}"#).status, 200);
    let body = membership_body("added", 2001, "lambda", "frank-gh");
    assert_eq!(app.send_github("membership", "dry-member", &body).status, 200);
    let recorded = wait_status(app, "dry-member", "dry_run");
    assert!(recorded["detail"].as_str().unwrap().contains(&member_path("606", "lambda")), "{recorded}");
    assert_eq!(sync_status(app)["mode"], "dry_run");
    let sentry_calls = app.mock.calls().into_iter().filter(|c| c.path.starts_with("/api/0/")).count();
    assert_eq!(sentry_calls, 0, "dry run must not call Sentry");
}
