//! `integration-schema.json` (pasted into Sentry's integration settings)
//! only names URIs the worker answers, with the method Sentry uses for each.

use sentry_kanban::routes::{route, Route};
use serde_json::Value;

fn schema() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/integration-schema.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("schema file")).expect("schema is JSON")
}

/// Every `uri` in the schema with the key of the object holding it.
fn uris(v: &Value, owner: &str, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(map) => {
            let kind = map.get("type").and_then(Value::as_str).unwrap_or(owner).to_string();
            if let Some(Value::String(uri)) = map.get("uri") {
                out.push((kind.clone(), uri.clone()));
            }
            map.values().for_each(|child| uris(child, &kind, out));
        }
        Value::Array(items) => items.iter().for_each(|child| uris(child, owner, out)),
        _ => {}
    }
}

#[test]
fn every_schema_uri_is_routed_with_sentrys_method() {
    let mut found = vec![];
    uris(&schema(), "", &mut found);
    assert_eq!(found.len(), 5, "{found:?}");
    for (kind, uri) in found {
        // Select fields are fetched with GET; forms are POSTed.
        let method = if kind == "select" { "GET" } else { "POST" };
        let r = route(method, &uri).unwrap_or_else(|e| panic!("{method} {uri}: {e:?}"));
        assert!(
            matches!(r, Route::SentryOptions(_) | Route::SentryIssueLink(_) | Route::SentryAlertRuleAction),
            "{method} {uri} → {r:?}"
        );
    }
}

#[test]
fn the_alert_rule_columns_are_the_ones_the_worker_accepts() {
    let s = schema();
    let action = s["elements"].as_array().unwrap().iter().find(|e| e["type"] == "alert-rule-action").unwrap();
    let options = action["settings"]["required_fields"][0]["options"].as_array().unwrap();
    for option in options {
        let column = option[0].as_str().unwrap();
        let body = format!(r#"{{"fields":[{{"name":"column","value":"{column}"}}],"installationId":"u"}}"#);
        assert!(sentry_kanban::sentry::ui::check_alert_rule_action(body.as_bytes()).is_ok(), "{column}");
    }
}
