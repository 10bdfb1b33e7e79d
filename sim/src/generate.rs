//! Built-in traces.
//!
//! `lecture-week`: a university's week on one fleet (Monday 00:00 is second 0).
//! - Weekdays: lecture blocks that start on the hour from 08:00 to 17:00 (within two minutes of
//!   it, hundreds of participants joining over the first five minutes), 45 to 90 minutes long,
//!   most recorded; sizes mostly 15 to 80, some 100 to 180, and one or two a day larger than a
//!   server (250 to 450).
//! - Seminars and office hours at any minute of the day (3 to 15 participants).
//! - Rooms left open for hours (1 to 3 participants, 3 to 9 hours).
//! - Thursday is exam day: at 10:00, 35 exam rooms of 40 to 90 participants for two hours.
//! - Evenings and the weekend: a few small meetings.
//!
//! `flat-day`: one day of small meetings arriving evenly (Poisson), 5 to 40 participants, 30 to
//! 120 minutes: no step at all, the case where every policy should do about as well.

use crate::rng::Rng;
use crate::trace::MeetingSpec;

pub const DAY_S: u64 = 86_400;
pub const HOUR_S: u64 = 3_600;
/// Exam day in the built-in week (0 = Monday).
pub const EXAM_DAY: u64 = 3;

/// The built-in lecture week.
pub fn lecture_week(seed: u64) -> Vec<MeetingSpec> {
    lecture_week_with(seed, true)
}

/// A lecture week, with or without Thursday's exams (the week before the benchmark's has none:
/// the exams are the surprise).
pub fn lecture_week_with(seed: u64, exams: bool) -> Vec<MeetingSpec> {
    let mut r = Rng::new(seed);
    let mut out = Vec::new();
    for day in 0..7u64 {
        let base = day * DAY_S;
        let weekday = day < 5;
        if weekday {
            for hour in 8..=17u64 {
                // Busiest mid-morning and early afternoon.
                let lectures = match hour {
                    10 | 11 | 14 => r.range(20, 28),
                    9 | 13 | 15 => r.range(14, 20),
                    _ => r.range(6, 12),
                };
                for _ in 0..lectures {
                    let start = base + hour * HOUR_S + r.range(0, 120);
                    let duration = [45, 60, 90][r.range(0, 2) as usize] * 60;
                    let size = lecture_size(&mut r);
                    let tag = if r.chance(0.7) {
                        "lecture-rec"
                    } else {
                        "lecture"
                    };
                    out.push(MeetingSpec::new(start, duration, size, tag));
                }
            }
            for _ in 0..r.range(1, 2) {
                let hour = [9, 11, 14][r.range(0, 2) as usize];
                let start = base + hour * HOUR_S + r.range(0, 60);
                out.push(MeetingSpec::new(
                    start,
                    90 * 60,
                    r.range(250, 450) as u32,
                    "plenary-rec",
                ));
            }
            for _ in 0..r.range(60, 90) {
                let start = base + r.range(8 * HOUR_S, 19 * HOUR_S);
                out.push(MeetingSpec::new(
                    start,
                    r.range(20, 60) * 60,
                    r.range(3, 15) as u32,
                    "seminar",
                ));
            }
            for _ in 0..r.range(8, 14) {
                let start = base + r.range(7 * HOUR_S, 13 * HOUR_S);
                out.push(MeetingSpec::new(
                    start,
                    r.range(3 * 60, 9 * 60) * 60,
                    r.range(1, 3) as u32,
                    "open-room",
                ));
            }
            if exams && day == EXAM_DAY {
                for _ in 0..35 {
                    let start = base + 10 * HOUR_S + r.range(0, 180);
                    out.push(MeetingSpec::new(
                        start,
                        2 * HOUR_S,
                        r.range(40, 90) as u32,
                        "exam-rec",
                    ));
                }
            }
        }
        // Evenings (weekdays) and the weekend: a few small meetings.
        let (n, from, to) = if weekday { (15, 18, 22) } else { (20, 9, 21) };
        for _ in 0..n {
            let start = base + r.range(from * HOUR_S, to * HOUR_S);
            out.push(MeetingSpec::new(
                start,
                r.range(20, 90) * 60,
                r.range(2, 12) as u32,
                "evening",
            ));
        }
    }
    out.sort_by_key(|m| m.start_s);
    out
}

/// The exam's `bbb_schedule` in the built-in week, as an operator would set it: 30 minutes of
/// lead time before 10:00, until 12:30, for the exam rooms' expected participants at 150 per
/// server on top of a regular Thursday morning's 10 servers.
pub fn exam_schedule(week: &[MeetingSpec]) -> crate::policy::Scheduled {
    let exam: u32 = week
        .iter()
        .filter(|m| m.tag.starts_with("exam"))
        .map(|m| m.participants)
        .sum();
    let base = EXAM_DAY * DAY_S;
    crate::policy::Scheduled {
        up_s: base + 10 * HOUR_S - 30 * 60,
        down_s: base + 12 * HOUR_S + 30 * 60,
        capacity: exam.div_ceil(150) + 10,
    }
}

fn lecture_size(r: &mut Rng) -> u32 {
    let x = r.unit();
    if x < 0.85 {
        r.range(10, 60) as u32
    } else {
        r.range(60, 150) as u32
    }
}

/// The built-in flat day.
pub fn flat_day(seed: u64) -> Vec<MeetingSpec> {
    let mut r = Rng::new(seed);
    let mut out = Vec::new();
    // About one meeting every 90 s, 5-40 participants for 30-120 min: ~1,000 concurrent.
    let mut t = 0.0f64;
    loop {
        t += -90.0 * (1.0 - r.unit()).ln();
        if t >= DAY_S as f64 {
            break;
        }
        let tag = if r.chance(0.5) {
            "meeting-rec"
        } else {
            "meeting"
        };
        out.push(MeetingSpec::new(
            t as u64,
            r.range(30, 120) * 60,
            r.range(5, 40) as u32,
            tag,
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lecture_week_has_what_the_benchmark_needs() {
        let w = lecture_week(1);
        assert_eq!(w, lecture_week(1), "deterministic for a seed");
        assert!(w.iter().all(|m| m.start_s < 7 * DAY_S));
        // Blocks on the hour with hundreds joining within minutes.
        let monday_ten: u32 = w
            .iter()
            .filter(|m| (10 * HOUR_S..10 * HOUR_S + 120 + 1).contains(&m.start_s))
            .map(|m| m.participants)
            .sum();
        assert!(monday_ten >= 300, "{monday_ten}");
        assert!(
            w.iter().any(|m| m.participants > 200),
            "meetings larger than a server"
        );
        assert!(w
            .iter()
            .any(|m| m.duration_s >= 3 * HOUR_S && m.participants <= 3));
        let exam: usize = w.iter().filter(|m| m.tag == "exam-rec").count();
        assert_eq!(exam, 35);
        assert!(w.iter().any(|m| m.recorded()));
    }

    #[test]
    fn the_flat_day_is_even() {
        let d = flat_day(1);
        let first_half = d.iter().filter(|m| m.start_s < DAY_S / 2).count() as f64;
        let ratio = first_half / d.len() as f64;
        assert!((0.4..0.6).contains(&ratio), "{ratio}");
    }
}
