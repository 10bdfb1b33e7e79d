//! Cron expressions of recurring schedules: 5 fields; shifting by whole minutes (for the lead
//! time and the duration) needs single-number minute and hour fields.

const DOW_NAMES: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

fn cron_fields(expr: &str) -> Result<Vec<&str>, String> {
    let fields: Vec<&str> = expr.split_whitespace().collect();
    if fields.len() != 5 {
        return Err(format!(
            "expected 5 fields (minute hour day-of-month month day-of-week), got {}",
            fields.len()
        ));
    }
    // The characters AWS's cron fields take: digits, names (JAN, MON, L, W), `* , / - ? #`.
    let allowed = |c: char| c.is_ascii_alphanumeric() || "*,/-?#".contains(c);
    for (f, what) in fields
        .iter()
        .zip(["minute", "hour", "day-of-month", "month", "day-of-week"])
    {
        if f.is_empty() || !f.chars().all(allowed) {
            return Err(format!(
                "the {what} field {f:?} holds characters cron does not allow"
            ));
        }
    }
    Ok(fields)
}

pub(super) fn check_cron(expr: &str) -> Result<(), String> {
    let f = cron_fields(expr)?;
    check_numeric_field(f[0], 0, 59, "minute")?;
    check_numeric_field(f[1], 0, 23, "hour")?;
    check_numeric_field(f[2], 1, 31, "day-of-month")?;
    Ok(())
}

/// Checks the numbers of a field made of `*`, numbers, ranges, lists and steps.
fn check_numeric_field(field: &str, min: i64, max: i64, what: &str) -> Result<(), String> {
    for part in field.split(',') {
        let (range, step) = part
            .split_once('/')
            .map_or((part, None), |(r, s)| (r, Some(s)));
        if let Some(step) = step {
            step.parse::<u32>()
                .ok()
                .filter(|s| *s > 0)
                .ok_or_else(|| format!("the {what} field has a bad step {step:?}"))?;
        }
        if range == "*" || range == "?" {
            continue;
        }
        for n in range.split('-') {
            let v: i64 = n
                .parse()
                .map_err(|_| format!("the {what} field {field:?} is not made of numbers"))?;
            if v < min || v > max {
                return Err(format!("the {what} field value {v} is outside {min}-{max}"));
            }
        }
    }
    Ok(())
}

fn dow_number(s: &str) -> Option<i64> {
    if let Ok(n) = s.parse::<i64>() {
        return (0..=7).contains(&n).then_some(n % 7);
    }
    DOW_NAMES
        .iter()
        .position(|d| d.eq_ignore_ascii_case(s))
        .map(|p| p as i64)
}

/// Shifts a day-of-week field by `days` (any sign): names become numbers; a range crossing
/// Saturday/Sunday is split in two.
fn shift_dow(field: &str, days: i64) -> Result<String, String> {
    if field == "*" || field == "?" {
        return Ok(field.to_string());
    }
    let mut out = Vec::new();
    for part in field.split(',') {
        if part.contains('/')
            || part.contains('#')
            || part.contains('L') && part.len() > 1 && dow_number(part).is_none()
        {
            return Err(format!(
                "its day-of-week part {part:?} cannot be shifted to another day"
            ));
        }
        let shift = |n: i64| (n + days).rem_euclid(7);
        match part.split_once('-') {
            None => out.push(
                shift(dow_number(part).ok_or_else(|| format!("unknown day of week {part:?}"))?)
                    .to_string(),
            ),
            Some((a, b)) => {
                let a0 = dow_number(a).ok_or_else(|| format!("unknown day of week {a:?}"))?;
                let mut b0 = dow_number(b).ok_or_else(|| format!("unknown day of week {b:?}"))?;
                if b == "7" {
                    b0 = 7;
                }
                if b0 < a0 {
                    return Err(format!("its day-of-week range {part:?} runs backwards"));
                }
                if b0 - a0 >= 6 {
                    out.push("*".to_string());
                    continue;
                }
                let (sa, sb) = (shift(a0), shift(b0));
                if sa <= sb {
                    out.push(format!("{sa}-{sb}"));
                } else {
                    out.push(if sa == 6 {
                        "6".to_string()
                    } else {
                        format!("{sa}-6")
                    });
                    out.push(if sb == 0 {
                        "0".to_string()
                    } else {
                        format!("0-{sb}")
                    });
                }
            }
        }
    }
    if out.iter().any(|p| p == "*") {
        return Ok("*".to_string());
    }
    Ok(out.join(","))
}

/// The cron expression `minutes` later (earlier when negative).
pub(super) fn shift_cron(expr: &str, minutes: i64) -> Result<String, String> {
    let f = cron_fields(expr)?;
    let (Ok(m), Ok(h)) = (f[0].parse::<i64>(), f[1].parse::<i64>()) else {
        return Err(format!(
            "its minute and hour fields ({:?} and {:?}) must be single numbers so the scale-up and scale-down times can be computed",
            f[0], f[1]
        ));
    };
    if !(0..60).contains(&m) || !(0..24).contains(&h) {
        return Err("its minute or hour is out of range".into());
    }
    let total = h * 60 + m + minutes;
    let days = total.div_euclid(1440);
    let t = total.rem_euclid(1440);
    let mut dow = f[4].to_string();
    if days != 0 {
        if f[2] != "*" && f[2] != "?" || f[3] != "*" {
            return Err(format!(
                "the shifted time falls on another day, which needs day-of-month and month fields of \"*\" (got {:?} and {:?})",
                f[2], f[3]
            ));
        }
        dow = shift_dow(f[4], days)?;
    }
    Ok(format!("{} {} {} {} {}", t % 60, t / 60, f[2], f[3], dow))
}

/// Minutes from the time of `from` to the time of `to` (both single-number cron times), in
/// 0..1440.
pub(super) fn cron_minutes_between(from: &str, to: &str) -> Option<i64> {
    let a = cron_fields(from).ok()?;
    let b = cron_fields(to).ok()?;
    let t = |f: &[&str]| Some(f[1].parse::<i64>().ok()? * 60 + f[0].parse::<i64>().ok()?);
    Some((t(&b)? - t(&a)?).rem_euclid(1440))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cron_shifts() {
        assert_eq!(
            shift_cron("0 8 * * MON-FRI", -20).as_deref(),
            Ok("40 7 * * MON-FRI")
        );
        assert_eq!(
            shift_cron("0 8 * * MON-FRI", 600).as_deref(),
            Ok("0 18 * * MON-FRI")
        );
        assert_eq!(
            shift_cron("5 0 * * MON-FRI", -10).as_deref(),
            Ok("55 23 * * 0-4")
        );
        assert_eq!(
            shift_cron("0 22 * * FRI-SAT", 180).as_deref(),
            Ok("0 1 * * 6,0")
        );
        assert_eq!(
            shift_cron("0 22 * * 1,3", 180).as_deref(),
            Ok("0 1 * * 2,4")
        );
        assert_eq!(shift_cron("0 0 * * *", -30).as_deref(), Ok("30 23 * * *"));
        assert!(shift_cron("*/5 8 * * *", 10).is_err());
        assert!(shift_cron("0 0 1 * *", -10).is_err());
        assert_eq!(cron_minutes_between("0 8 * * *", "0 18 * * *"), Some(600));
        assert!(check_cron("0 25 * * *").is_err());
        assert!(check_cron("0 8 * *").is_err());
    }
}
