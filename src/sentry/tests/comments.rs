//! Comment deliveries, signed and driven through `hook::handle`.
//! Kept out of `comments.rs` because `hook` calls into `comments`.

use crate::error::AppError;
use crate::plan::Plan;

use crate::sql::SqlValue;

fn deliver(body: &str) -> Result<Plan, AppError> {
    crate::sentry::hook::tests::deliver("comment", body)
}

const CREATED: &str = r#"{"action":"created","data":{"comment":"adding a comment","project_slug":"sentry","comment_id":1234,"issue_id":100,"timestamp":"2022-03-02T21:51:44.118160Z"},"installation":{"uuid":"u1"},"actor":{"type":"user","id":1,"name":"colleen"}}"#;

#[test]
fn a_created_comment_plans_one_conditional_write() {
    let plan = deliver(CREATED).unwrap();
    assert_eq!(plan.statements.len(), 1);
    let s = &plan.statements[0];
    assert!(s.sql.contains("WHERE EXISTS (SELECT 1 FROM cards WHERE id = ?2)"), "{}", s.sql);
    assert_eq!(s.params[0], SqlValue::Text("1234".into()), "int ids become text");
    assert_eq!(s.params[1], SqlValue::Text("100".into()));
    assert_eq!(s.params[2], SqlValue::Text("colleen".into()));
    assert_eq!(s.params[3], SqlValue::Text("adding a comment".into()));
    assert_eq!(s.params[4], SqlValue::Text("2022-03-02T21:51:44.118Z".into()));
    assert_eq!(s.params[5], SqlValue::Text("2023-11-14T22:13:20.000Z".into()), "applied_at is the arrival");
    assert_eq!((plan.verdict.resource.as_str(), plan.verdict.outcome.as_str()), ("comment", "applied"));
}

#[test]
fn deleted_plans_a_tombstone_and_string_ids_work_too() {
    let body = CREATED.replace(r#""created""#, r#""deleted""#).replace("1234", r#""1234""#);
    let plan = deliver(&body).unwrap();
    let s = &plan.statements[0];
    assert!(s.sql.contains("deleted = 1"), "{}", s.sql);
    assert_eq!(s.params[0], SqlValue::Text("1234".into()));
}

#[test]
fn unknown_actions_are_skipped_and_missing_ids_are_unusable() {
    let plan = deliver(r#"{"action":"reacted","data":{}}"#).unwrap();
    assert!(plan.statements.is_empty());
    assert_eq!(plan.verdict.outcome.as_str(), "skipped");
    for body in [
        r#"{"action":"created","data":{"issue_id":1,"comment":"x"}}"#,
        r#"{"action":"updated","data":{"comment_id":1,"comment":"x"}}"#,
        r#"{"action":"deleted","data":null}"#,
    ] {
        let plan = deliver(body).unwrap();
        assert_eq!((plan.verdict.outcome.as_str(), plan.reply.status), ("unusable", 200), "{body}");
        assert!(plan.statements.is_empty(), "{body}");
    }
}

#[test]
fn without_a_timestamp_the_comment_is_dated_by_the_delivery() {
    let plan = deliver(r#"{"action":"updated","data":{"comment_id":"7","issue_id":"8","comment":"y"}}"#).unwrap();
    let p = &plan.statements[0].params;
    assert_eq!(p[2], SqlValue::Null, "no actor, no author");
    assert_eq!(p[4], p[5]);
}
