//! Civil dates of Unix times, in UTC, without a date-time crate: RFC 3339 as Terraform
//! configurations, AWS and certificates use it (`2026-02-10T08:30:00Z`), parsed and formatted. Howard Hinnant's
//! `days_from_civil` / `civil_from_days` algorithms (proleptic Gregorian calendar).

/// Days since 1970-01-01 of the civil date `y-m-d`.
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date `(year, month, day)` of a count of days since 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// `YYYY-MM-DDTHH:MM:SSZ` of Unix seconds.
pub fn format_rfc3339(secs: i64) -> String {
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Seconds since the Unix epoch of an RFC 3339 date-time (`2026-02-10T08:30:00Z`,
/// `2026-02-10T09:30:00+01:00`; fractions of a second are dropped).
pub fn parse_rfc3339(s: &str) -> Result<i64, String> {
    const SHAPE: &str = "expected an RFC 3339 date-time such as \"2026-02-10T08:30:00Z\"";
    let b = s.as_bytes();
    let digits = |from: usize, len: usize| -> Option<i64> {
        let part = b.get(from..from + len)?;
        part.iter()
            .all(u8::is_ascii_digit)
            .then(|| part.iter().fold(0, |n, d| n * 10 + i64::from(d - b'0')))
    };
    let sep = |at: usize, allowed: &[u8]| b.get(at).is_some_and(|c| allowed.contains(c));
    let shape = sep(4, b"-") && sep(7, b"-") && sep(10, b"Tt ") && sep(13, b":") && sep(16, b":");
    let (Some(y), Some(mo), Some(d), Some(h), Some(mi), Some(se), true) = (
        digits(0, 4),
        digits(5, 2),
        digits(8, 2),
        digits(11, 2),
        digits(14, 2),
        digits(17, 2),
        shape,
    ) else {
        return Err(SHAPE.into());
    };
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return Err(SHAPE.into());
        }
        rest = &frac[n..];
    }
    let offset = match rest.as_bytes() {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), oh1, oh2, b':', om1, om2] => {
            let two = |a: u8, b: u8| {
                (a.is_ascii_digit() && b.is_ascii_digit())
                    .then(|| i64::from(a - b'0') * 10 + i64::from(b - b'0'))
            };
            let (Some(oh), Some(om)) = (two(*oh1, *oh2), two(*om1, *om2)) else {
                return Err(SHAPE.into());
            };
            if oh > 23 || om > 59 {
                return Err("the UTC offset is out of range".into());
            }
            let offset = oh * 3600 + om * 60;
            if *sign == b'-' {
                -offset
            } else {
                offset
            }
        }
        _ => return Err(SHAPE.into()),
    };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let month_days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&mo)
        || d < 1
        || d > month_days[(mo - 1) as usize]
        || h > 23
        || mi > 59
        || se > 60
    {
        return Err("the date or time is out of range".into());
    }
    Ok(days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + se.min(59) - offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_across_eras_and_leap_days() {
        assert_eq!(format_rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(format_rfc3339(1_770_712_200), "2026-02-10T08:30:00Z");
        assert_eq!(format_rfc3339(-1), "1969-12-31T23:59:59Z");
        for days in [-800_000, -1, 0, 59, 10_957, 20_000, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days, "{y}-{m}-{d}");
        }
    }

    #[test]
    fn parses_rfc3339_with_offsets_and_fractions() {
        let t = parse_rfc3339("2026-02-10T08:30:00Z").expect("parses");
        assert_eq!(format_rfc3339(t), "2026-02-10T08:30:00Z");
        assert_eq!(parse_rfc3339("2026-02-10T09:30:00+01:00"), Ok(t));
        assert_eq!(parse_rfc3339("2026-02-10T07:30:00.250-01:00"), Ok(t));
        assert_eq!(parse_rfc3339("2026-02-10t08:30:00.5z"), Ok(t));
        assert_eq!(format_rfc3339(t - 45 * 60), "2026-02-10T07:45:00Z");
        assert!(parse_rfc3339("2026-02-30T08:30:00Z").is_err());
        assert!(parse_rfc3339("2026-02-10T08:30:00").is_err());
        assert!(parse_rfc3339("2026-02-10T08:30:00+1:00").is_err());
        assert!(parse_rfc3339("tomorrow").is_err());
        assert!(parse_rfc3339("2026-02-10T08:30:00.Z").is_err());
    }
}
