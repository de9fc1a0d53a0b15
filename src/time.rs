//! UTC timestamps. Sentry sends both `…Z` and `…+00:00` (and any precision),
//! so every time is parsed leniently and stored in one canonical, sortable
//! form: `YYYY-MM-DDTHH:MM:SS.mmmZ`.

/// Milliseconds since the Unix epoch.
pub type Millis = i64;

/// Parses an RFC 3339 timestamp with optional fraction and any offset.
pub fn parse_rfc3339(s: &str) -> Option<Millis> {
    let b = s.trim().as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (y, mo, d) = (num(&b[0..4])?, num(&b[5..7])?, num(&b[8..10])?);
    let (h, mi, sec) = (num(&b[11..13])?, num(&b[14..16])?, num(&b[17..19])?);
    if !(1..=12).contains(&mo) || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let (frac_ms, rest) = fraction(&b[19..])?;
    let offset_min = offset(rest)?;
    let days = days_from_civil(y, mo, d);
    let secs = days * 86_400 + h * 3600 + mi * 60 + sec - offset_min * 60;
    Some(secs * 1000 + frac_ms)
}

fn num(digits: &[u8]) -> Option<i64> {
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(digits.iter().fold(0, |acc, d| acc * 10 + i64::from(d - b'0')))
}

fn fraction(b: &[u8]) -> Option<(i64, &[u8])> {
    if b.first() != Some(&b'.') {
        return Some((0, b));
    }
    let len = b[1..].iter().take_while(|c| c.is_ascii_digit()).count();
    if len == 0 {
        return None;
    }
    let digits = &b[1..1 + len];
    let mut ms = 0;
    for i in 0..3 {
        ms = ms * 10 + digits.get(i).map_or(0, |d| i64::from(d - b'0'));
    }
    Some((ms, &b[1 + len..]))
}

fn offset(b: &[u8]) -> Option<i64> {
    match b {
        [] | [b'Z'] | [b'z'] => Some(0),
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let mins = num(&[*h1, *h2])? * 60 + num(&[*m1, *m2])?;
            Some(if *sign == b'-' { -mins } else { mins })
        }
        _ => None,
    }
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

// Howard Hinnant's days_from_civil / civil_from_days.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Formats epoch milliseconds as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn format_millis(ms: Millis) -> String {
    let secs = ms.div_euclid(1000);
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z", sod / 3600, sod % 3600 / 60, sod % 60, ms.rem_euclid(1000))
}

/// Re-renders a timestamp canonically; `None` for anything unparseable.
pub fn canonical(s: &str) -> Option<String> {
    parse_rfc3339(s).map(format_millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_sentry_forms_give_the_same_instant() {
        let z = parse_rfc3339("2019-08-19T20:58:37.391000Z").unwrap();
        let off = parse_rfc3339("2019-08-19T20:58:37.391000+00:00").unwrap();
        assert_eq!(z, off);
        assert_eq!(z, 1_566_248_317_391);
    }

    #[test]
    fn offsets_and_precision_are_honoured() {
        assert_eq!(parse_rfc3339("2018-11-06T21:19:55Z"), Some(1_541_539_195_000));
        assert_eq!(parse_rfc3339("2018-11-06T23:19:55+02:00"), Some(1_541_539_195_000));
        assert_eq!(parse_rfc3339("2018-11-06T21:19:55.5Z"), Some(1_541_539_195_500));
    }

    #[test]
    fn canonical_form_round_trips_and_sorts() {
        assert_eq!(canonical("2019-08-19T20:58:37.391000+00:00").as_deref(), Some("2019-08-19T20:58:37.391Z"));
        assert_eq!(format_millis(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(format_millis(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert!(format_millis(1_000) < format_millis(10_000));
    }

    #[test]
    fn garbage_is_rejected() {
        for bad in [
            "",
            "yesterday",
            "2019-13-01T00:00:00Z",
            "2019-02-30T00:00:00Z",
            "2019-08-19T20:58:37+0000",
            "2019-08-19T20:58:37.Z",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }
}
