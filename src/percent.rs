//! Percent-encoding, once for every caller: `encode` for the segments and
//! values of the URLs the worker builds, `decode` for form fields (login,
//! the setup page, GitHub's form-encoded deliveries) and ids in paths.

/// Percent-encodes a path segment or query value (RFC 3986: everything but
/// the unreserved characters), so an email's `+` or `@` survives.
pub fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The bytes of `s` with `%XX` and `+` decoded; `None` for a broken escape.
/// Each escape digit must be a hex digit (`u8::from_str_radix` would also
/// take `"+1"`).
pub fn decode_bytes(s: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len());
    let mut bytes = s.iter();
    while let Some(&b) = bytes.next() {
        out.push(match b {
            b'+' => b' ',
            b'%' => {
                let hi = bytes.next().and_then(hex_digit)?;
                let lo = bytes.next().and_then(hex_digit)?;
                hi << 4 | lo
            }
            _ => b,
        });
    }
    Some(out)
}

/// Same, as text: `None` for a broken escape or bytes that are not UTF-8.
pub fn decode(s: &str) -> Option<String> {
    String::from_utf8(decode_bytes(s.as_bytes())?).ok()
}

/// As a form decoder reads a query (WHATWG `application/x-www-form-urlencoded`):
/// a broken escape is kept as it is, and bytes that are not UTF-8 become
/// U+FFFD, so a malformed query still reads (the filters then refuse it).
pub fn decode_lossy(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| Some(hex_digit(bytes.get(i + 1)?)? << 4 | hex_digit(bytes.get(i + 2)?)?))
            .flatten();
        match (bytes[i], escaped) {
            (_, Some(b)) => {
                out.push(b);
                i += 3;
                continue;
            }
            (b'+', None) => out.push(b' '),
            (b, None) => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_digit(b: &u8) -> Option<u8> {
    (*b as char).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_keeps_unreserved_characters_only() {
        assert_eq!(encode("web-team_1.x~"), "web-team_1.x~");
        assert_eq!(encode("email:a+b@x.io"), "email%3Aa%2Bb%40x.io");
        assert_eq!(encode("../é"), "..%2F%C3%A9");
    }

    #[test]
    fn escapes_and_plus_are_decoded() {
        assert_eq!(decode("a%20b+c%2Fd").as_deref(), Some("a b c/d"));
        assert_eq!(decode("%E2%9C%93").as_deref(), Some("✓"));
        assert_eq!(decode("").as_deref(), Some(""));
        assert_eq!(decode_bytes(b"%ff"), Some(vec![0xff]));
    }

    #[test]
    fn the_lossy_reading_keeps_broken_escapes_and_replaces_non_utf8() {
        assert_eq!(decode_lossy("a%20b+c%2Fd"), "a b c/d");
        assert_eq!(decode_lossy("%zz%4"), "%zz%4");
        assert_eq!(decode_lossy("100%"), "100%");
        assert_eq!(decode_lossy("%ff%E2%9C%93"), "\u{fffd}✓");
        assert_eq!(decode_lossy("%2B+"), "+ ");
    }

    #[test]
    fn a_broken_escape_or_non_utf8_is_refused() {
        for bad in ["%", "%4", "%zz", "%+1", "%-1", "a%2"] {
            assert_eq!(decode(bad), None, "{bad}");
        }
        assert_eq!(decode("%ff"), None, "not UTF-8");
    }
}
