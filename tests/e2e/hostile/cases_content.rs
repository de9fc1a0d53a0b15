//! The table, part 3: what the worker stores — unknown resources, actions
//! and events (200, nothing written), SQL-looking text (stored verbatim,
//! never executed) and HTML in titles (served as JSON, never in a page).

use super::bodies::{comment, error_event, issue, issue_json, sql_issue, team, SQL_1, SQL_2, XSS_1, XSS_2};
use super::checks::sql_login_is_no_login;
use super::checks::{html_checks, logged_verbatim, sql_checks, sql_comment_stored, sql_error_group};
use super::harness::{case, Case, Expect};
use super::request::{github, sentry};
use serde_json::json;

pub fn cases() -> Vec<Case> {
    use Expect::*;
    let membership = |delivery: &str, scope: &str, login: &str, team: u64, slug: &str| {
        let body = json!({"action": "added", "scope": scope, "member": {"login": login},
            "team": {"id": team, "slug": slug}});
        github("membership", delivery, body.to_string())
    };
    Vec::from([
        // ---- unknown resources, actions and events: 200, nothing written
        case(
            "sentry: unknown resource",
            "880090",
            sentry("seer", r#"{"action":"root_cause_started","data":{"run_id":880090}}"#),
            200,
            Nothing,
        ),
        case(
            "sentry: missing Sentry-Hook-Resource",
            "880091",
            sentry("issue", issue("880091")).without("Sentry-Hook-Resource"),
            200,
            Nothing,
        ),
        case(
            "sentry: unknown issue action",
            "880092",
            sentry("issue", issue_json("exploded", "880092", "x").to_string()),
            200,
            Nothing,
        ),
        case(
            "sentry: SQL as the resource",
            "880093",
            sentry(SQL_1, issue("880093")),
            200,
            Check(logged_verbatim("resource", SQL_1)),
        ),
        case(
            "sentry: SQL as the Request-ID",
            "880094",
            sentry("seer", "{}").set("Request-ID", SQL_2),
            200,
            Check(logged_verbatim("request_id", SQL_2)),
        ),
        case(
            "github: unknown event",
            "hx880095",
            github("push", "hx880095", r#"{"ref":"refs/heads/hx880095"}"#),
            200,
            Nothing,
        ),
        case("github: ping", "hx880096", github("ping", "hx880096", r#"{"zen":"hx880096","hook_id":1}"#), 200, Nothing),
        case(
            "github: unknown team action",
            "hx880097",
            github("team", "hx880097", team("added_to_repository", 880097, "hx880097")),
            200,
            Nothing,
        ),
        case(
            "github: organization-scoped membership",
            "hx880098",
            membership("hx880098", "organization", "hx880098", 880098, "hx880098"),
            200,
            Nothing,
        ),
        case(
            "github: SQL as the event",
            "hx880099",
            github(SQL_1, "hx880099", team("created", 880099, "hx880099")),
            200,
            Nothing,
        ),
        // ---- SQL-looking text: stored verbatim, never executed
        case(
            "sentry: SQL in every issue field (1)",
            "",
            sentry("issue", sql_issue("880100", SQL_1).to_string()),
            200,
            Check(sql_checks("880100", SQL_1)),
        ),
        case(
            "sentry: SQL in every issue field (2)",
            "",
            sentry("issue", sql_issue("880101", SQL_2).to_string()),
            200,
            Check(sql_checks("880101", SQL_2)),
        ),
        case(
            "sentry: SQL in a comment",
            "",
            sentry("comment", comment("880100", 880102, SQL_2, SQL_1)),
            200,
            Check(sql_comment_stored("880100")),
        ),
        case(
            "sentry: SQL in an error event",
            "",
            sentry("error", error_event("hx880103", "880103", SQL_1)),
            200,
            Check(sql_error_group("880103")),
        ),
        case(
            "github: SQL as the team slug",
            "hx880104",
            github("team", "hx880104", team("created", 880104, SQL_1)),
            400,
            Nothing,
        ),
        case(
            "github: SQL as the delivery id",
            "hx880105",
            github("team", SQL_2, team("created", 880105, "hx880105")),
            400,
            Nothing,
        ),
        case(
            "github: SQL as the member login",
            "",
            membership("hx880106", "team", SQL_1, 880106, "hostile-sql-member"),
            200,
            Check(sql_login_is_no_login("hx880106")),
        ),
        // ---- HTML/JS in titles: stored verbatim, served as JSON, never in a page
        case(
            "sentry: <script> title",
            "",
            sentry("issue", issue_json("created", "880110", XSS_1).to_string()),
            200,
            Check(html_checks("880110", XSS_1)),
        ),
        case(
            "sentry: <img onerror> title",
            "",
            sentry("issue", issue_json("created", "880111", XSS_2).to_string()),
            200,
            Check(html_checks("880111", XSS_2)),
        ),
    ])
}
