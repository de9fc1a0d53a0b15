//! The worker reads its request URLs with `request_url` instead of the
//! `url` crate (which stays out of the wasm). workerd hands over URLs its
//! WHATWG parser serialised; so are these (each generated URL goes through
//! `url::Url` first), and on every one the split must read what `url`
//! reads: origin, host, path, query, and the decoded query pairs.

use crate::arbitrary::Rng;
use sentry_kanban::request_url::RequestUrl;

const SCHEMES: &[&str] = &["http", "https"];
const HOSTS: &[&str] =
    &["localhost", "127.0.0.1", "[::1]", "kanban.example.workers.dev", "xn--bcher-kva.example", "EXAMPLE.com"];
const PORTS: &[&str] = &["", ":80", ":443", ":8787", ":65535"];
const USERINFO: &[&str] = &["", "user@", "user:pw@"];
/// Path and query pieces, hostile ones among them: escapes (broken too),
/// `+`, `=` and `&` in values, non-ASCII, an embedded `?` after the query.
const PIECES: &[&str] = &[
    "api",
    "items",
    "a%2Fb",
    "%",
    "%zz",
    "%E2%9C%93",
    "✓",
    "+",
    "a+b",
    "=",
    "&",
    "&&",
    "k=v",
    "k=",
    "=v",
    "k",
    "x=1=2",
    "%C3",
    "é",
    " ",
    "?",
    "..",
    ".",
    "%3F",
    "%23",
    "q=%E2%9C%93+x",
];

fn piece(rng: &mut Rng, n: usize) -> String {
    (0..rng.below(n)).map(|_| *rng.pick(PIECES)).collect::<Vec<_>>().join(*rng.pick(&["/", "&", ""]))
}

fn generated(rng: &mut Rng) -> String {
    let mut u = format!("{}://{}{}{}", rng.pick(SCHEMES), rng.pick(USERINFO), rng.pick(HOSTS), rng.pick(PORTS));
    if rng.chance(4) {
        u.push('/');
    }
    if !rng.chance(6) {
        u.push('/');
        u.push_str(&piece(rng, 4));
    }
    if !rng.chance(3) {
        u.push('?');
        u.push_str(&piece(rng, 6));
    }
    if rng.chance(4) {
        u.push('#');
        u.push_str(&piece(rng, 3));
    }
    u
}

fn assert_reads_as_url(serialised: &str) {
    let url = url::Url::parse(serialised).expect("a serialised URL parses");
    let ours = RequestUrl::parse(serialised).unwrap_or_else(|| panic!("not split: {serialised}"));
    assert_eq!(ours.origin(), url.origin().ascii_serialization(), "origin of {serialised}");
    assert_eq!(ours.host(), url.host_str().unwrap_or_default(), "host of {serialised}");
    assert_eq!(ours.path(), url.path(), "path of {serialised}");
    assert_eq!(ours.query(), url.query(), "query of {serialised}");
    let pairs: Vec<(String, String)> = url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    assert_eq!(ours.query_pairs(), pairs, "query pairs of {serialised}");
    let path_and_query = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    };
    assert_eq!(ours.path_and_query(), path_and_query, "path and query of {serialised}");
}

#[test]
fn reads_every_serialised_url_as_the_url_crate_does() {
    let mut rng = Rng::new(0x0e1_2024);
    for _ in 0..20_000 {
        let raw = generated(&mut rng);
        let Ok(url) = url::Url::parse(&raw) else { continue };
        assert_reads_as_url(url.as_str());
    }
}

#[test]
fn reads_the_urls_workerd_hands_over() {
    for u in [
        "http://127.0.0.1:8787/api/webhooks/sentry",
        "https://kanban.example.workers.dev/api/items?substatus=new,ongoing&priority=high",
        "https://kanban.example.workers.dev/login?next=%2F%3Fa%3D1",
        "http://localhost:8787/api/sentry/options/items?installationId=abc&query=web+app",
        "https://kanban.example.workers.dev/setup?code=1&installationId=x&orgSlug=o#frag",
        "http://[::1]:8787/",
        "https://example.com",
        "https://example.com?",
    ] {
        assert_reads_as_url(url::Url::parse(u).unwrap().as_str());
    }
}

#[test]
fn a_relative_or_schemeless_url_is_not_split() {
    for u in ["/api/items", "", "localhost:8787/x", "://host/x", "ht tp://host/"] {
        assert_eq!(RequestUrl::parse(u), None, "{u}");
    }
}

#[test]
fn named_parameters_take_the_first_value_decoded() {
    let u = RequestUrl::parse("https://x.dev/e?status=unresolved&q=a+b%21&status=resolved&bad=%zz").unwrap();
    assert_eq!(u.param("status").as_deref(), Some("unresolved"));
    assert_eq!(u.param("q").as_deref(), Some("a b!"));
    assert_eq!(u.param("bad").as_deref(), Some("%zz"));
    assert_eq!(u.param("missing"), None);
}

#[test]
fn a_default_port_left_in_is_not_part_of_the_origin() {
    // workerd's serialiser drops it; a URL that still carries it reads the same.
    assert_eq!(RequestUrl::parse("https://x.dev:443/a").unwrap().origin(), "https://x.dev");
    assert_eq!(RequestUrl::parse("http://x.dev:80/a").unwrap().origin(), "http://x.dev");
    assert_eq!(RequestUrl::parse("http://x.dev:443/a").unwrap().origin(), "http://x.dev:443");
    assert_eq!(RequestUrl::parse("http://[::1]:80/").unwrap().origin(), "http://[::1]");
    assert_eq!(RequestUrl::parse("http://u:p@[::1]:8787/").unwrap().host(), "[::1]");
}
