//! The table, part 1: malformed bodies — empty, over the size limit,
//! invalid UTF-8, deeply nested, numbers past 64 bits, the wrong content
//! type. A signed Sentry body the worker cannot use is accepted as
//! "unusable": 200, nothing written but its delivery-log row.

use super::bodies::{
    bad_utf8, edited, error_event, huge_counts, issue, nested, padded_issue, padded_team, team, FORM, MIB,
};
use super::checks::{card_written, github_team_synced, huge_counts_kept, still_serves};
use super::harness::{case, Case, Expect};
use super::request::{github, sentry, G_SIG, S_SIG};

pub fn cases() -> Vec<Case> {
    use Expect::*;
    let deep = nested(10_000);
    let num = |id: &str, to: &str| edited(issue(id), &format!(r#""id":"{id}""#), &format!(r#""id":{to}"#));
    let team_num =
        |id: u64, to: &str| edited(team("created", id, &format!("hx{id}")), &format!("{id},"), &format!("{to},"));
    let form = format!("payload={}", String::from_utf8(issue("880033")).unwrap().replace('"', "%22"));
    let gh_form = format!("payload={}", String::from_utf8(team("created", 880034, "hx880034")).unwrap());
    Vec::from([
        // ---- empty bodies
        case("sentry: empty body, unsigned", "880001", sentry("issue", vec![]).without(S_SIG), 401, Nothing),
        case("sentry: empty body, signed", "880002", sentry("issue", vec![]), 200, Nothing),
        case("sentry: empty body, signed, error resource", "880003", sentry("error", vec![]), 200, Nothing),
        case(
            "github: empty body, unsigned",
            "hx880004",
            github("team", "hx880004", vec![]).without(G_SIG),
            401,
            Nothing,
        ),
        case("github: empty body, signed", "hx880005", github("team", "hx880005", vec![]), 400, Nothing),
        // ---- size: the limit is 1 MiB, inclusive
        case(
            "sentry: 1 MiB + 1 byte (declared)",
            "880041",
            sentry("issue", padded_issue("880041", MIB + 1)),
            413,
            Nothing,
        ),
        case(
            "sentry: 1 MiB + 1 byte (chunked)",
            "880041",
            sentry("issue", padded_issue("880041", MIB + 1)).chunked(),
            413,
            Nothing,
        ),
        case(
            "sentry: exactly 1 MiB is accepted",
            "",
            sentry("issue", padded_issue("880042", MIB)),
            200,
            Check(card_written("880042")),
        ),
        case(
            "github: 1 MiB + 1 byte (declared)",
            "hx880043",
            github("team", "hx880043", padded_team(880043, MIB + 1)),
            413,
            Nothing,
        ),
        case(
            "github: 1 MiB + 1 byte (chunked)",
            "hx880044",
            github("team", "hx880044", padded_team(880044, MIB + 1)).chunked(),
            413,
            Nothing,
        ),
        // ---- invalid UTF-8, signed correctly
        case(
            "sentry: invalid UTF-8 in the title",
            "880010",
            sentry("issue", bad_utf8(issue("880010"), "title")),
            200,
            Nothing,
        ),
        case(
            "sentry: invalid UTF-8 in a skipped field",
            "880009",
            sentry("issue", bad_utf8(issue("880009"), "skipped")),
            200,
            Nothing,
        ),
        case(
            "sentry: invalid UTF-8 in a skipped field of an error event",
            "880011",
            sentry("error", bad_utf8(error_event("hx880011", "880011", "t"), "skipped")),
            200,
            Nothing,
        ),
        case(
            "github: invalid UTF-8 in the slug",
            "hx880012",
            github("team", "hx880012", bad_utf8(team("created", 880012, "hx880012"), "slug")),
            400,
            Nothing,
        ),
        case(
            "github: invalid UTF-8 in a skipped field",
            "hx880013",
            github("team", "hx880013", bad_utf8(team("created", 880013, "hx880013"), "login")),
            400,
            Nothing,
        ),
        // ---- deeply nested JSON: no crash, and the next request is served
        case(
            "sentry: 10,000 levels of [",
            "880014",
            sentry("issue", deep.clone()),
            200,
            NothingThen(still_serves("880015")),
        ),
        case(
            "sentry: 10,000 unclosed [",
            "880016",
            sentry("issue", "[".repeat(10_000)),
            200,
            NothingThen(still_serves("880017")),
        ),
        // In a field the issue reading skips (`sentry::wire::IssueEnvelope`),
        // the nesting is never built: the issue it carries is applied.
        case(
            "sentry: 10,000 levels inside data.issue, in a skipped field",
            "880018",
            sentry("issue", format!(r#"{{"action":"created","data":{{"issue":{{"id":"880018","x":{deep}}}}}}}"#)),
            200,
            Check(Box::new(|app, before, req, reply| {
                let card = app.item("880018").expect("the issue is applied");
                assert_eq!(card["title"], "Issue 880018", "no title sent: the card is named by its id");
                still_serves("880019")(app, before, req, reply);
            })),
        ),
        case(
            "sentry: 10,000 levels, error resource",
            "880020",
            sentry("error", deep.clone()),
            200,
            NothingThen(still_serves("880021")),
        ),
        case(
            "github: 10,000 levels of [",
            "hx880022",
            github("team", "hx880022", deep.clone()),
            400,
            NothingThen(still_serves("880023")),
        ),
        case(
            "github: 10,000 levels in a skipped field of an ignored event",
            "hx880024",
            github("push", "hx880024", format!(r#"{{"ref":"refs/heads/hx880024","commits":{deep}}}"#)),
            200,
            NothingThen(still_serves("880025")),
        ),
        // ---- huge numbers: ids are strings or integers that fit 64 bits
        case("sentry: issue id 1e400", "880026", sentry("issue", num("880026", "1e400")), 200, Nothing),
        case(
            "sentry: issue id 18446744073709551616",
            "880027",
            sentry("issue", num("880027", "18446744073709551616")),
            200,
            Nothing,
        ),
        case("sentry: issue id 880028.5", "880028", sentry("issue", num("880028", "880028.5")), 200, Nothing),
        case(
            "sentry: count 1e400",
            "880029",
            sentry("issue", edited(issue("880029"), r#""count":"1""#, r#""count":1e400"#)),
            200,
            Nothing,
        ),
        case(
            "sentry: huge counts as strings are kept verbatim",
            "",
            sentry("issue", huge_counts("880030")),
            200,
            Check(huge_counts_kept("880030")),
        ),
        case("github: team id 1e400", "hx880031", github("team", "hx880031", team_num(880031, "1e400")), 400, Nothing),
        case(
            "github: team id 18446744073709551616",
            "hx880032",
            github("team", "hx880032", team_num(880032, "18446744073709551616")),
            400,
            Nothing,
        ),
        // ---- content type: Sentry's is not consulted (the signed raw body
        // must be JSON); GitHub's must be JSON or a form whose `payload` is
        // JSON (changed, issue 16 #8: a form used to get 415)
        case(
            "sentry: text/plain, signed JSON body",
            "",
            sentry("issue", issue("880035")).set("Content-Type", "text/plain"),
            200,
            Check(card_written("880035")),
        ),
        case("sentry: form encoding", "880033", sentry("issue", form).set("Content-Type", FORM), 200, Nothing),
        case(
            "github: form encoding",
            "hx880034",
            github("team", "hx880034", gh_form).set("Content-Type", FORM),
            200,
            Check(github_team_synced("hx880034", "hx880034")),
        ),
        case(
            "github: text/plain, JSON body",
            "hx880036",
            github("team", "hx880036", team("created", 880036, "hx880036")).set("Content-Type", "text/plain"),
            415,
            Nothing,
        ),
    ])
}
