//! Issue 20.5 end to end: a verified delivery that could not be used keeps
//! its exact bytes, which can be read back and replayed through the same
//! path, as a new delivery-log entry; an unverified request keeps nothing.

use crate::app;

use crate::scenario::Scenario;
use app::{fresh_request_id, spawn_app, App, SECRET};
use serde_json::Value;

fn worker() -> &'static App {
    static APP: Scenario = Scenario::new(module_path!(), || spawn_app(&[]));
    APP.app()
}

fn entry(app: &App, rid: &str) -> Value {
    app.deliveries().into_iter().find(|d| d["request_id"] == rid).unwrap_or_else(|| panic!("{rid} not logged"))
}

fn same_origin(app: &App) -> Vec<(&'static str, String)> {
    vec![("Origin", app.base.clone())]
}

fn post(app: &App, path: &str, headers: &[(&str, String)]) -> app::Reply {
    let h: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    app.request("POST", path, &h, b"")
}

#[test]
fn an_unusable_verified_delivery_keeps_its_exact_bytes_and_replays_as_a_new_entry() {
    let app = worker();
    // Signed, but not JSON: unusable, and not even UTF-8 in places.
    let body: &[u8] = b"{\"action\":\"resolved\",\"data\":{\"issue\":{}}, \xff trailing";
    let sig = sentry_kanban::verify::sign_hex(SECRET.as_bytes(), body);
    let rid = fresh_request_id();
    let r = app.request(
        "POST",
        "/api/webhooks/sentry",
        &[("Sentry-Hook-Resource", "issue"), ("Sentry-Hook-Signature", &sig), ("Request-ID", &rid)],
        body,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let original = entry(app, &rid);
    assert_eq!((original["verdict"].as_str(), original["body_kept"].as_f64()), (Some("unusable"), Some(1.0)));
    assert!(original["replay_of"].is_null());
    let id = original["id"].as_f64().expect("an id") as i64;

    // The stored bytes, exactly.
    let got = ureq::get(&format!("{}/api/deliveries/{id}/body", app.base)).call().expect("body");
    assert_eq!(got.content_type(), "application/octet-stream");
    let mut bytes = vec![];
    std::io::Read::read_to_end(&mut got.into_reader(), &mut bytes).unwrap();
    assert_eq!(bytes, body);

    // A replay from elsewhere is refused like any board write.
    assert_eq!(
        post(app, &format!("/api/deliveries/{id}/replay"), &[("Origin", "http://evil.example".into())]).status,
        403
    );
    let before = app.deliveries().len();
    let r = post(app, &format!("/api/deliveries/{id}/replay"), &same_origin(app));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["unusable"], "the body is not UTF-8", "the same reason again: {}", r.body);
    let log = app.deliveries();
    assert!(log.len() > before || log.len() == 200);
    let replayed = log.iter().find(|d| d["replay_of"].as_f64() == Some(id as f64)).expect("a new entry");
    assert_eq!((replayed["verdict"].as_str(), replayed["request_id"].as_str()), (Some("unusable"), Some(rid.as_str())));
    assert_ne!(replayed["id"], original["id"]);
}

#[test]
fn applied_and_unverified_deliveries_keep_no_body() {
    let app = worker();
    let body = r#"{"action":"created","installation":{"uuid":"u"},"data":{"issue":{"id":"20501","title":"t","status":"unresolved"}}}"#;
    let rid = fresh_request_id();
    assert_eq!(app.send_sentry_with("issue", body, None, &[("Request-ID", &rid)]).status, 200);
    let applied = entry(app, &rid);
    assert_eq!(applied["body_kept"].as_f64(), Some(0.0));
    let id = applied["id"].as_f64().unwrap() as i64;
    assert_eq!(app.request("GET", &format!("/api/deliveries/{id}/body"), &[], b"").status, 404);
    assert_eq!(post(app, &format!("/api/deliveries/{id}/replay"), &same_origin(app)).status, 404);

    let bad = fresh_request_id();
    let r = app.request(
        "POST",
        "/api/webhooks/sentry",
        &[("Sentry-Hook-Resource", "issue"), ("Sentry-Hook-Signature", &"0".repeat(64)), ("Request-ID", &bad)],
        b"not json",
    );
    assert_eq!(r.status, 401);
    assert!(app.deliveries().iter().all(|d| d["request_id"] != bad.as_str()), "an unverified request is not logged");
    assert!(app.rejections().iter().any(|d| d["request_id"] == bad.as_str()));
    let kept = app.d1_count("SELECT COUNT(*) AS n FROM delivery_bodies b JOIN deliveries d ON d.id = b.delivery_id WHERE d.verdict != 'unusable'");
    assert_eq!(kept, 0, "only unusable (or failed) deliveries keep a body");
}
