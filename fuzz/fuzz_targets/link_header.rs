//! The Sentry `Link` header parser (`outbound::next_cursor`, `next_page`):
//! never panics, and only returns a cursor or URL that one part of the
//! header carried, a part that says `rel="next"` and `results="true"`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sentry_kanban::outbound::{next_cursor, next_page};

fn next_part_with(link: &str, needle: &str) -> bool {
    link.split(',').any(|p| p.contains("rel=\"next\"") && p.contains("results=\"true\"") && p.contains(needle))
}

fuzz_target!(|data: &[u8]| {
    let link = String::from_utf8_lossy(data);
    if let Some(cursor) = next_cursor(Some(&link)) {
        assert!(!cursor.is_empty() && next_part_with(&link, &format!("cursor=\"{cursor}")), "{cursor:?} from {link:?}");
    }
    if let Some(url) = next_page(Some(&link)) {
        assert!(!url.contains('>') && next_part_with(&link, &format!("{url}>")), "{url:?} from {link:?}");
    }
    assert_eq!((next_cursor(None), next_page(None)), (None, None));
});
