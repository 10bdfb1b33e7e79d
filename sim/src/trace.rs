//! A trace: one meeting per row, `start_s,duration_s,participants[,tag]`.
//!
//! How a row plays (the same for every policy): the meeting is created through Scalelite at
//! `start_s`; its moderator joins at once and the other participants join evenly over the first
//! [`join_ramp_s`] seconds; everyone leaves at `start_s + duration_s`, and BBB ends the meeting
//! `meetingExpireWhenLastUserLeftInMinutes` (1) later. A row with 0 participants is created and
//! never joined: BBB ends it `meetingExpireIfNoUserJoinedInMinutes` (5) after creation. A `tag`
//! containing `rec` marks a recorded meeting (`record=true`), processed after it ends.

use std::fmt;

/// BBB's `meetingExpireWhenLastUserLeftInMinutes` default (bigbluebutton.properties).
pub const EXPIRE_WHEN_LAST_USER_LEFT_S: u64 = 60;
/// BBB's `meetingExpireIfNoUserJoinedInMinutes` default (bigbluebutton.properties).
pub const EXPIRE_IF_NO_USER_JOINED_S: u64 = 5 * 60;

/// One meeting of the trace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MeetingSpec {
    pub start_s: u64,
    pub duration_s: u64,
    pub participants: u32,
    pub tag: String,
}

impl MeetingSpec {
    pub fn new(start_s: u64, duration_s: u64, participants: u32, tag: &str) -> Self {
        Self {
            start_s,
            duration_s,
            participants,
            tag: tag.to_owned(),
        }
    }

    /// Whether the meeting is recorded (its tag contains `rec`).
    pub fn recorded(&self) -> bool {
        self.tag.contains("rec")
    }

    /// When everyone has left.
    pub fn leave_s(&self) -> u64 {
        self.start_s + self.duration_s
    }

    /// When BBB ends the meeting (it stays listed in `getMeetings` until then).
    pub fn expire_s(&self) -> u64 {
        if self.participants == 0 {
            self.start_s + EXPIRE_IF_NO_USER_JOINED_S
        } else {
            self.leave_s() + EXPIRE_WHEN_LAST_USER_LEFT_S
        }
    }

    /// Seconds over which the participants join: five minutes, or a third of a short meeting.
    pub fn join_ramp_s(&self) -> u64 {
        (self.duration_s / 3).clamp(1, 300)
    }

    /// Participants in the meeting at `t` (the moderator first, then the rest evenly).
    pub fn participants_at(&self, t: u64) -> u32 {
        if self.participants == 0 || t < self.start_s || t >= self.leave_s() {
            return 0;
        }
        let ramp = self.join_ramp_s();
        let elapsed = (t - self.start_s).min(ramp);
        let rest = u64::from(self.participants - 1) * elapsed / ramp;
        1 + rest as u32
    }
}

/// A malformed trace.
#[derive(Debug, PartialEq, Eq)]
pub struct TraceError {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for TraceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "trace line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for TraceError {}

/// Parses a CSV trace: a header `start_s,duration_s,participants` (optionally `,tag`), then one
/// meeting per row. Blank lines and lines starting with `#` are skipped. Rows come back sorted
/// by start.
pub fn parse_csv(text: &str) -> Result<Vec<MeetingSpec>, TraceError> {
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'));
    let (hline, header) = lines.next().ok_or(TraceError {
        line: 1,
        message: "empty trace: expected the header start_s,duration_s,participants[,tag]".into(),
    })?;
    let cols: Vec<&str> = header.split(',').map(str::trim).collect();
    let with_tag = match cols.as_slice() {
        ["start_s", "duration_s", "participants"] => false,
        ["start_s", "duration_s", "participants", "tag"] => true,
        _ => {
            return Err(TraceError {
                line: hline,
                message: format!(
                    "header {header:?}: expected start_s,duration_s,participants[,tag]"
                ),
            })
        }
    };
    let mut out = Vec::new();
    for (line, row) in lines {
        let fields: Vec<&str> = row.split(',').map(str::trim).collect();
        let want = if with_tag { 4 } else { 3 };
        if fields.len() != want && !(with_tag && fields.len() == 3) {
            return Err(TraceError {
                line,
                message: format!("{} fields, expected {want}", fields.len()),
            });
        }
        let num = |i: usize, name: &str| -> Result<u64, TraceError> {
            fields[i].parse::<u64>().map_err(|_| TraceError {
                line,
                message: format!("{name} {:?} is not a whole number", fields[i]),
            })
        };
        let start_s = num(0, "start_s")?;
        let duration_s = num(1, "duration_s")?;
        let participants = u32::try_from(num(2, "participants")?).map_err(|_| TraceError {
            line,
            message: "participants out of range".into(),
        })?;
        if duration_s == 0 {
            return Err(TraceError {
                line,
                message: "duration_s must be at least 1".into(),
            });
        }
        let tag = fields.get(3).copied().unwrap_or("");
        out.push(MeetingSpec::new(start_s, duration_s, participants, tag));
    }
    out.sort_by_key(|m| m.start_s);
    Ok(out)
}

/// Writes a trace as CSV (with the tag column).
pub fn to_csv(meetings: &[MeetingSpec]) -> String {
    let mut s = String::from("start_s,duration_s,participants,tag\n");
    for m in meetings {
        s.push_str(&format!(
            "{},{},{},{}\n",
            m.start_s, m.duration_s, m.participants, m.tag
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_with_and_without_the_tag_column() {
        let t = parse_csv("start_s,duration_s,participants\n60,600,3\n0,30,1\n").expect("ok");
        assert_eq!(t[0], MeetingSpec::new(0, 30, 1, ""));
        assert_eq!(t[1], MeetingSpec::new(60, 600, 3, ""));
        let t = parse_csv("# c\nstart_s,duration_s,participants,tag\n\n5,10,2,lecture-rec\n")
            .expect("ok");
        assert!(t[0].recorded());
    }

    #[test]
    fn rejects_bad_headers_and_rows_with_their_line() {
        assert_eq!(parse_csv("a,b,c\n").unwrap_err().line, 1);
        let e = parse_csv("start_s,duration_s,participants\n1,2,3\nx,2,3\n").unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.to_string().contains("start_s"));
        assert!(parse_csv("start_s,duration_s,participants\n1,0,3\n").is_err());
        assert!(parse_csv("start_s,duration_s,participants\n1,2\n").is_err());
        assert!(parse_csv("").is_err());
    }

    #[test]
    fn participants_ramp_up_then_leave_and_bbb_expires_the_meeting() {
        let m = MeetingSpec::new(100, 3600, 201, "");
        assert_eq!(m.participants_at(99), 0);
        assert_eq!(m.participants_at(100), 1);
        assert_eq!(m.participants_at(250), 101);
        assert_eq!(m.participants_at(400), 201);
        assert_eq!(m.participants_at(3699), 201);
        assert_eq!(m.participants_at(3700), 0);
        assert_eq!(m.expire_s(), 3760);
        let unjoined = MeetingSpec::new(0, 3600, 0, "");
        assert_eq!(unjoined.expire_s(), 300);
    }

    #[test]
    fn csv_round_trips() {
        let t = vec![
            MeetingSpec::new(0, 60, 2, "x"),
            MeetingSpec::new(5, 60, 3, "rec"),
        ];
        assert_eq!(parse_csv(&to_csv(&t)).expect("ok"), t);
    }
}
