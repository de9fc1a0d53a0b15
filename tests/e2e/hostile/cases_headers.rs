//! The table, part 2: headers — duplicated signature and id headers,
//! signature formats and secrets, and replays.

use super::bodies::{base64, hex_bytes, issue, team};
use super::checks::{card_written, duplicate_changed_nothing, team_created_once, team_replay_repeats_nothing};
use super::harness::{case, Case, Expect};
use super::request::{bad_then_good, github, github_sig, good_twice, hook_bad_app_good, now_secs, sentry, sentry_sig};
use super::request::{G_SIG, S_SIG};
use sentry_kanban::verify::sign_hex;

pub fn cases() -> Vec<Case> {
    use Expect::*;
    let zeros = "0".repeat(64);
    // One good body per endpoint for the signature-format rows.
    let (si, gt) = (issue("880060"), team("created", 880070, "hx880070"));
    let (s_hex, g_hex) = (sentry_sig(&si), github_sig(&gt)[7..].to_string());
    let s_signed = |sig: &str| sentry("issue", si.clone()).signature(sig);
    let g_signed = |sig: &str| github("team", "hx880070", gt.clone()).signature(sig);
    let replay = issue("880080");
    let replay_team = team("created", 880081, "hostile-replay-team");
    let later = (now_secs().parse::<i64>().unwrap() + 5).to_string();
    Vec::from([
        // ---- duplicated headers: a signature is taken only when unambiguous
        case(
            "sentry: two Sentry-Hook-Signature values, good then bad",
            "880050",
            sentry("issue", issue("880050")).add(S_SIG, &zeros),
            401,
            Nothing,
        ),
        case(
            "sentry: two Sentry-Hook-Signature values, bad then good",
            "880051",
            bad_then_good(sentry("issue", issue("880051")), S_SIG),
            401,
            Nothing,
        ),
        case(
            "sentry: the same good Sentry-Hook-Signature twice",
            "880052",
            good_twice(sentry("issue", issue("880052")), S_SIG),
            401,
            Nothing,
        ),
        case(
            "sentry: good Hook, different App signature",
            "880053",
            sentry("issue", issue("880053")).set("Sentry-App-Signature", &zeros),
            401,
            Nothing,
        ),
        case("sentry: bad Hook, good App signature", "880054", hook_bad_app_good(issue("880054")), 401, Nothing),
        case(
            "sentry: two Sentry-Hook-Resource values",
            "880055",
            sentry("issue", issue("880055")).add("Sentry-Hook-Resource", "issue"),
            200,
            Nothing,
        ),
        case(
            "github: two X-Hub-Signature-256 values, good then bad",
            "hx880056",
            github("team", "hx880056", team("created", 880056, "hx880056")).add(G_SIG, &format!("sha256={zeros}")),
            401,
            Nothing,
        ),
        case(
            "github: two X-Hub-Signature-256 values, bad then good",
            "hx880057",
            bad_then_good(github("team", "hx880057", team("created", 880057, "hx880057")), G_SIG),
            401,
            Nothing,
        ),
        case(
            "github: two X-GitHub-Delivery values",
            "hx880058",
            github("team", "hx880058", team("created", 880058, "hx880058")).add("X-GitHub-Delivery", "hx880058-b"),
            400,
            Nothing,
        ),
        case(
            "github: two X-GitHub-Event values",
            "hx880059",
            github("team", "hx880059", team("created", 880059, "hx880059")).add("X-GitHub-Event", "team"),
            200,
            Nothing,
        ),
        // ---- signature formats and secrets
        case("sentry: sha256= prefix", "880060", s_signed(&format!("sha256={s_hex}")), 401, Nothing),
        case("sentry: uppercase hex", "880060", s_signed(&s_hex.to_uppercase()), 401, Nothing),
        case("sentry: base64", "880060", s_signed(&base64(&hex_bytes(&s_hex))), 401, Nothing),
        case("sentry: truncated to 63 hex digits", "880060", s_signed(&s_hex[..63]), 401, Nothing),
        case("sentry: truncated to 32 hex digits", "880060", s_signed(&s_hex[..32]), 401, Nothing),
        case("sentry: wrong secret", "880060", s_signed(&sign_hex(b"not-the-secret", &si)), 401, Nothing),
        case("github: bare hex (no sha256=)", "hx880070", g_signed(&g_hex), 401, Nothing),
        case("github: uppercase hex", "hx880070", g_signed(&format!("sha256={}", g_hex.to_uppercase())), 401, Nothing),
        case("github: SHA256= prefix", "hx880070", g_signed(&format!("SHA256={g_hex}")), 401, Nothing),
        case("github: base64", "hx880070", g_signed(&format!("sha256={}", base64(&hex_bytes(&g_hex)))), 401, Nothing),
        case("github: truncated", "hx880070", g_signed(&format!("sha256={}", &g_hex[..63])), 401, Nothing),
        case(
            "github: sha1= (the old header's format)",
            "hx880070",
            g_signed(&format!("sha1={}", &g_hex[..40])),
            401,
            Nothing,
        ),
        case(
            "github: wrong secret",
            "hx880070",
            g_signed(&format!("sha256={}", sign_hex(b"not-the-secret", &gt))),
            401,
            Nothing,
        ),
        // ---- replays
        // An exact replay is the same Request-ID with the same body.
        case(
            "sentry: replay, first delivery",
            "",
            sentry("issue", replay.clone()).set("Request-ID", "a0880080000000000000000000000000"),
            200,
            Check(card_written("880080")),
        ),
        case(
            "sentry: replay, verbatim",
            "",
            sentry("issue", replay.clone()).set("Request-ID", "a0880080000000000000000000000000"),
            200,
            Check(duplicate_changed_nothing("880080")),
        ),
        case(
            "sentry: replay, newer timestamp",
            "",
            sentry("issue", replay)
                .set("Request-ID", "a0880080000000000000000000000000")
                .set("Sentry-Hook-Timestamp", &later),
            200,
            Check(duplicate_changed_nothing("880080")),
        ),
        case(
            "github: replay, first delivery",
            "",
            github("team", "hx880081", replay_team.clone()),
            200,
            Check(team_created_once()),
        ),
        case(
            "github: replay, same delivery id",
            "",
            github("team", "hx880081", replay_team),
            200,
            Check(team_replay_repeats_nothing()),
        ),
    ])
}
