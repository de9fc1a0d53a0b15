//! Hostile input for the `Link` header parser (issue 8): on generated
//! Sentry-style headers it returns exactly the next cursor and URL; on
//! arbitrary ones it never panics and only returns what the header carried
//! on a `rel="next"; results="true"` part. Fixed-seed cases replay exactly.

use crate::arbitrary::Rng;
use sentry_kanban::outbound::{next_cursor, next_page};
use std::panic::catch_unwind;

// ------------------------------------------------------------- Link header

/// One part of a generated `Link` header.
struct Part {
    url: String,
    rel: &'static str,
    results: bool,
    cursor: String,
}

fn cursor_text(rng: &mut Rng) -> String {
    const ALPHABET: &[u8] = b"0123456789:abcdefXYZ-_.";
    if rng.chance(8) {
        return String::new();
    }
    (0..rng.below(20) + 1).map(|_| *rng.pick(ALPHABET) as char).collect()
}

fn render(parts: &[Part], rng: &mut Rng) -> String {
    let sep = |rng: &mut Rng| if rng.chance(2) { "; " } else { ";" };
    parts
        .iter()
        .map(|p| {
            let params = [
                format!("rel=\"{}\"", p.rel),
                format!("results=\"{}\"", p.results),
                format!("cursor=\"{}\"", p.cursor),
            ];
            let mut s = format!("<{}>", p.url);
            for param in params {
                s.push_str(sep(rng));
                s.push_str(&param);
            }
            s
        })
        .collect::<Vec<_>>()
        .join(if rng.chance(2) { ", " } else { "," })
}

#[test]
fn link_headers_as_sentry_sends_them_yield_exactly_the_next_cursor() {
    let mut rng = Rng::new(0x114C);
    let (mut some, mut none) = (0, 0);
    for _ in 0..5000 {
        let parts: Vec<Part> = (0..rng.below(4))
            .map(|_| {
                let cursor = cursor_text(&mut rng);
                Part {
                    url: format!("https://sentry.io/api/0/organizations/o/issues/?query=is%3A&cursor={cursor}"),
                    rel: ["next", "previous", "first"][rng.below(3)],
                    results: rng.chance(2),
                    cursor,
                }
            })
            .collect();
        let link = render(&parts, &mut rng);
        let more = |p: &&Part| p.rel == "next" && p.results;
        let want_cursor = parts.iter().filter(more).find(|p| !p.cursor.is_empty()).map(|p| p.cursor.clone());
        let want_page = parts.iter().find(more).map(|p| p.url.clone());
        assert_eq!(next_cursor(Some(&link)), want_cursor, "{link}");
        assert_eq!(next_page(Some(&link)), want_page, "{link}");
        if want_cursor.is_some() {
            some += 1
        } else {
            none += 1
        }
    }
    assert!(some > 1000 && none > 1000, "{some} {none}");
}

/// Arbitrary text, and real headers with random edits.
fn arbitrary_link(rng: &mut Rng) -> String {
    const REAL: &str = r#"<https://s/api/0/x/?&cursor=0:0:1>; rel="previous"; results="false"; cursor="0:0:1", <https://s/api/0/x/?&cursor=0:100:0>; rel="next"; results="true"; cursor="0:100:0""#;
    const BITS: &[&str] =
        &["<", ">", ",", ";", " ", "\"", "rel=\"next\"", "results=\"true\"", "cursor=\"", "é", "\u{0}"];
    match rng.below(3) {
        0 => (0..rng.below(200)).map(|_| char::from_u32(rng.below(0x3000) as u32).unwrap_or('?')).collect(),
        1 => (0..rng.below(30)).map(|_| *rng.pick(BITS)).collect(),
        _ => {
            let mut chars: Vec<char> = REAL.chars().collect();
            for _ in 0..=rng.below(6) {
                let i = rng.below(chars.len() + 1);
                match rng.below(3) {
                    0 if i < chars.len() => {
                        chars.remove(i);
                    }
                    1 => chars.insert(i, *rng.pick(&['"', ',', ';', '>', '<', ' ', 'é'])),
                    _ => chars.truncate(i),
                }
            }
            chars.into_iter().collect()
        }
    }
}

#[test]
fn the_link_parser_never_panics_and_returns_only_what_the_header_carried() {
    let mut rng = Rng::new(0x0114_CBAD);
    let mut found = 0;
    for _ in 0..20_000 {
        let link = arbitrary_link(&mut rng);
        let (cursor, page) = catch_unwind(|| (next_cursor(Some(&link)), next_page(Some(&link))))
            .unwrap_or_else(|_| panic!("the Link parser panicked on {link:?}"));
        // Only ever something one part of the header said, a part that
        // says more results exist.
        let next_part_with = |needle: &str| {
            link.split(',').any(|p| p.contains("rel=\"next\"") && p.contains("results=\"true\"") && p.contains(needle))
        };
        if let Some(c) = &cursor {
            assert!(!c.is_empty() && next_part_with(&format!("cursor=\"{c}")), "{c:?} from {link:?}");
            found += 1;
        }
        if let Some(u) = &page {
            assert!(!u.contains('>') && next_part_with(&format!("{u}>")), "{u:?} from {link:?}");
        }
    }
    assert!(found > 500, "{found}");
    assert_eq!((next_cursor(None), next_page(None)), (None, None));
}

// ------------------------------------------------------------- URL origin

/// A URL built from pieces an attacker would mix: other hosts, userinfo,
/// ports, case, escapes, separators browsers treat specially.
fn arbitrary_url(rng: &mut Rng) -> String {
    const PIECES: &[&str] = &[
        "https://",
        "http://",
        "HTTPS://",
        "//",
        "https:",
        "sentry.io",
        "SENTRY.IO",
        "evil.com",
        "sentry.io.evil.com",
        "@",
        ":",
        "443",
        "8443",
        "/",
        "\\",
        "?",
        "#",
        "%2e",
        ".",
        "-",
        " ",
        "\t",
        "[::1]",
        "user:pw",
        "api/0/",
        "é",
    ];
    (0..rng.below(8) + 1).map(|_| *rng.pick(PIECES)).collect()
}

/// Issue 17.2: whatever the URL, it counts as the API's origin only when
/// it is, read the simplest way: the scheme and host of the base (any
/// case), the default or no port, then the end, a path, a query or a
/// fragment. Nothing else (userinfo, another host or port) gets the token.
#[test]
fn only_urls_that_plainly_start_with_the_api_origin_get_the_token() {
    use sentry_kanban::outbound::same_origin;
    let mut rng = Rng::new(0x0117_0416);
    let mut same = 0;
    for _ in 0..50_000 {
        let url = arbitrary_url(&mut rng);
        let verdict = catch_unwind(|| same_origin("https://sentry.io", &url))
            .unwrap_or_else(|_| panic!("same_origin panicked on {url:?}"));
        if verdict {
            let lower = url.to_ascii_lowercase();
            let rest = lower.strip_prefix("https://sentry.io").unwrap_or_else(|| panic!("{url:?}"));
            let rest = rest.strip_prefix(":443").or_else(|| rest.strip_prefix(':')).unwrap_or(rest);
            assert!(rest.is_empty() || rest.starts_with(['/', '?', '#']), "{url:?} counted as sentry.io");
            same += 1;
        }
    }
    assert!(same > 50, "{same}");
}
