//! Event and metric alert deliveries, signed and driven through `hook::handle`.
//! Kept out of `alerts.rs` because `hook` calls into `alerts`.

use crate::sql::SqlValue;

use crate::sentry::hook::tests::deliver;

const TRIGGERED: &str = r#"{"action":"triggered","actor":{"id":"sentry","name":"Sentry","type":"application"},"data":{"event":{"_ref":1,"culprit":"?(<anonymous>)","datetime":"2019-08-19T21:06:17.677000Z","event_id":"e4874d664c3540c1a32eab185f12c5ab","issue_id":"1117540176","level":"error","project":1,"tags":[["level","error"]],"timestamp":1566248777.677,"title":"ReferenceError: heck is not defined","web_url":"https://sentry.io/organizations/test-org/issues/1117540176/events/e4874d664c3540c1a32eab185f12c5ab/"},"triggered_rule":"Very Important Alert Rule!","issue_alert":{"title":"Very Important Alert Rule!","settings":[]}},"installation":{"uuid":"a8e5d37a"}}"#;

const METRIC: &str = r#"{"action":"resolved","data":{"description_text":"1000 events in the last 10 minutes","description_title":"Resolved: Too many errors","metric_alert":{"alert_rule":{"id":"7","name":"Too many errors","triggers":[]},"date_started":"2020-09-13T12:26:40.000000Z","id":"4","identifier":"1","projects":["bar"],"status":2,"title":"Sacred Marmot"},"web_url":"https://sentry.io/organizations/baz/alerts/1/"},"installation":{"uuid":"a8e5d37a"}}"#;

#[test]
fn an_event_alert_plans_the_card_the_trigger_and_the_count() {
    let plan = deliver("event_alert", TRIGGERED).unwrap();
    assert_eq!(plan.statements.len(), 3);
    let p = &plan.statements[0].params;
    assert_eq!(p[0], SqlValue::Text("event_alert:1117540176:Very Important Alert Rule!".into()));
    assert_eq!(p[2], SqlValue::Text("1117540176".into()));
    assert_eq!(p[4], SqlValue::Text("ReferenceError: heck is not defined".into()));
    assert_eq!(p[6], SqlValue::Text("error".into()));
    assert_eq!(p[9], SqlValue::Text("2019-08-19T21:06:17.677Z".into()));
    assert_eq!(plan.statements[1].params[1], SqlValue::Text("e4874d664c3540c1a32eab185f12c5ab".into()));
    assert_eq!(plan.verdict.outcome.as_str(), "applied");
}

#[test]
fn event_alerts_find_their_issue_in_the_urls_and_other_actions_are_skipped() {
    let no_issue_id = TRIGGERED.replace(r#""issue_id":"1117540176","#, "");
    let plan = deliver("event_alert", &no_issue_id).unwrap();
    assert_eq!(plan.statements[0].params[2], SqlValue::Text("1117540176".into()), "from web_url");
    let no_issue = no_issue_id.replace("/issues/1117540176/", "/discover/");
    for body in [no_issue.as_str(), r#"{"action":"triggered","data":{}}"#] {
        let plan = deliver("event_alert", body).unwrap();
        assert_eq!((plan.verdict.outcome.as_str(), plan.reply.status), ("unusable", 200), "{body}");
    }
    let plan = deliver("event_alert", r#"{"action":"snoozed","data":{}}"#).unwrap();
    assert_eq!((plan.statements.len(), plan.verdict.outcome.as_str()), (0, "skipped"));
}

#[test]
fn a_metric_alert_is_keyed_by_its_id_with_the_level_of_its_status() {
    for (action, level) in [
        ("critical", SqlValue::Text("fatal".into())),
        ("warning", SqlValue::Text("warning".into())),
        ("open", SqlValue::Text("warning".into())),
        ("resolved", SqlValue::Null),
    ] {
        let body = METRIC.replacen(r#""resolved""#, &format!("\"{action}\""), 1);
        let plan = deliver("metric_alert", &body).unwrap();
        let p = &plan.statements[0].params;
        assert_eq!(p[0], SqlValue::Text("metric_alert:4".into()), "{action}");
        assert_eq!(p[4], SqlValue::Text("Too many errors".into()), "the rule name is the title");
        assert_eq!(p[6], level, "{action}");
        assert_eq!(p[9], SqlValue::Text("bar".into()));
        assert_eq!(p[10], SqlValue::Text("2020-09-13T12:26:40.000Z".into()));
    }
}

#[test]
fn metric_alerts_need_an_id_and_unknown_actions_are_skipped() {
    let no_id = METRIC.replace(r#""id":"4","#, "");
    assert_eq!(deliver("metric_alert", &no_id).unwrap().verdict.outcome, "unusable");
    let plan = deliver("metric_alert", r#"{"action":"closed","data":{}}"#).unwrap();
    assert_eq!((plan.statements.len(), plan.verdict.outcome.as_str()), (0, "skipped"));
    let numeric = METRIC.replace(r#""id":"4","#, r#""id":4,"#);
    assert_eq!(
        deliver("metric_alert", &numeric).unwrap().statements[0].params[0],
        SqlValue::Text("metric_alert:4".into())
    );
}
