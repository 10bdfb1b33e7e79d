//! `bbb_schedule`: scheduled capacity of a fleet's Auto Scaling group for a planned event
//! (exam, webinar, lecture), one-off or recurring: two scheduled actions, `bbb-<name>-up`
//! (lead time before the start) and `bbb-<name>-down` (at the end, back to `return_to`).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use bbb_core::aws::{AutoScalingGroup, AwsClients, AwsError, ScheduledAction, ScheduledActionSpec};
use bbb_core::time::{days_from_civil, format_rfc3339};
use serde::{Deserialize, Serialize};

use crate::aws_access::aws_error;
use crate::framework::validators::{at_least, greater_than, matches, whole_number, Validator};
use crate::framework::{
    Applied, ApplyRequest, AttrPath, Attribute, Block, Diagnostics, NestedBlock, Nesting, Plan,
    Resource, Schema, Value,
};
use crate::provider::ProviderData;

pub struct Schedule;

const DEFAULT_LEAD_TIME: &str = "10m";

#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
struct ReturnTo {
    min_size: Option<f64>,
    max_size: Option<f64>,
    desired_capacity: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
struct Model {
    id: Option<String>,
    autoscaling_group_name: Option<String>,
    fleet: Option<String>,
    name: String,
    start_time: Option<String>,
    end_time: Option<String>,
    recurrence: Option<String>,
    time_zone: Option<String>,
    duration: Option<String>,
    capacity: Option<f64>,
    expected_participants: Option<f64>,
    participants_per_server: Option<f64>,
    lead_time: Option<String>,
    raise_max_size: Option<bool>,
    return_to: Option<ReturnTo>,
    desired_capacity: Option<f64>,
    scale_up_time: Option<String>,
    scale_down_time: Option<String>,
    scale_up_recurrence: Option<String>,
    scale_down_recurrence: Option<String>,
    scale_up_action_name: Option<String>,
    scale_down_action_name: Option<String>,
    return_min_size: Option<f64>,
    return_max_size: Option<f64>,
    return_desired_capacity: Option<f64>,
}

fn up_name(name: &str) -> String {
    format!("bbb-{name}-up")
}

fn down_name(name: &str) -> String {
    format!("bbb-{name}-down")
}

// ---------------------------------------------------------------------------------------------
// Time: RFC 3339 without a date-time crate.

/// Seconds since the Unix epoch of an RFC 3339 date-time (`2026-02-10T08:30:00Z`,
/// `2026-02-10T09:30:00+01:00`; fractions of a second are dropped).
fn parse_rfc3339(s: &str) -> Result<i64, String> {
    let re = regex::Regex::new(
        r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:([Zz])|([+-])(\d{2}):(\d{2}))$",
    )
    .map_err(|e| e.to_string())?;
    let c = re
        .captures(s)
        .ok_or("expected an RFC 3339 date-time such as \"2026-02-10T08:30:00Z\"")?;
    let n = |i: usize| {
        c.get(i)
            .map_or(0, |m| m.as_str().parse::<i64>().unwrap_or(0))
    };
    let (y, mo, d, h, mi, se) = (n(1), n(2), n(3), n(4), n(5), n(6));
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
    let mut secs = days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + se.min(59);
    if c.get(7).is_none() {
        let (oh, om) = (n(9), n(10));
        if oh > 23 || om > 59 {
            return Err("the UTC offset is out of range".into());
        }
        let offset = oh * 3600 + om * 60;
        secs -= if c.get(8).map(|m| m.as_str()) == Some("-") {
            -offset
        } else {
            offset
        };
    }
    Ok(secs)
}

fn to_system_time(secs: i64) -> SystemTime {
    if secs >= 0 {
        UNIX_EPOCH + Duration::from_secs(secs as u64)
    } else {
        UNIX_EPOCH - Duration::from_secs(secs.unsigned_abs())
    }
}

fn from_system_time(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs() as i64),
    }
}

fn now_secs() -> i64 {
    from_system_time(SystemTime::now())
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s).map_err(|e| e.to_string())
}

fn format_minutes(minutes: i64) -> String {
    match (minutes / 60, minutes % 60) {
        (0, m) => format!("{m}m"),
        (h, 0) => format!("{h}h"),
        (h, m) => format!("{h}h{m}m"),
    }
}

// ---------------------------------------------------------------------------------------------
// Cron: 5 fields; shifting by whole minutes needs single-number minute and hour fields.

const DOW_NAMES: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

fn cron_fields(expr: &str) -> Result<Vec<&str>, String> {
    let fields: Vec<&str> = expr.split_whitespace().collect();
    if fields.len() != 5 {
        return Err(format!(
            "expected 5 fields (minute hour day-of-month month day-of-week), got {}",
            fields.len()
        ));
    }
    let re = regex::Regex::new(r"^[0-9A-Za-z*,/\-?#LW]+$").map_err(|e| e.to_string())?;
    for (f, what) in fields
        .iter()
        .zip(["minute", "hour", "day-of-month", "month", "day-of-week"])
    {
        if !re.is_match(f) {
            return Err(format!(
                "the {what} field {f:?} holds characters cron does not allow"
            ));
        }
    }
    Ok(fields)
}

fn check_cron(expr: &str) -> Result<(), String> {
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
fn shift_cron(expr: &str, minutes: i64) -> Result<String, String> {
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
fn cron_minutes_between(from: &str, to: &str) -> Option<i64> {
    let a = cron_fields(from).ok()?;
    let b = cron_fields(to).ok()?;
    let t = |f: &[&str]| Some(f[1].parse::<i64>().ok()? * 60 + f[0].parse::<i64>().ok()?);
    Some((t(&b)? - t(&a)?).rem_euclid(1440))
}

// ---------------------------------------------------------------------------------------------
// Validators.

fn rfc3339() -> impl Validator {
    |path: &AttrPath, value: &Value, diags: &mut Diagnostics| {
        if let Some(s) = value.as_str() {
            if let Err(e) = parse_rfc3339(s) {
                diags.error_at(path.clone(), format!("Invalid time in {path}"), format!("{path} must be an RFC 3339 date-time such as \"2026-02-10T08:30:00Z\": {e}; got {s:?}."));
            }
        }
    }
}

fn duration(positive: bool) -> impl Validator {
    move |path: &AttrPath, value: &Value, diags: &mut Diagnostics| {
        if let Some(s) = value.as_str() {
            match parse_duration(s) {
                Err(e) => diags.error_at(
                    path.clone(),
                    format!("Invalid duration in {path}"),
                    format!("{path} must be a duration such as \"10m\" or \"2h\": {e}."),
                ),
                Ok(d) if d.as_secs() % 60 != 0 => diags.error_at(
                    path.clone(),
                    format!("Invalid duration in {path}"),
                    format!("{path} must be whole minutes; got {s:?}."),
                ),
                Ok(d) if positive && d.is_zero() => diags.error_at(
                    path.clone(),
                    format!("Invalid duration in {path}"),
                    format!("{path} must be longer than zero."),
                ),
                Ok(_) => {}
            }
        }
    }
}

fn cron() -> impl Validator {
    |path: &AttrPath, value: &Value, diags: &mut Diagnostics| {
        if let Some(s) = value.as_str() {
            if let Err(e) = check_cron(s) {
                diags.error_at(path.clone(), format!("Invalid cron expression in {path}"), format!("{path} must be a 5-field cron expression such as \"0 8 * * MON-FRI\": {e}."));
            }
        }
    }
}

/// An IANA time zone name; checked against the system's zone database when there is one.
fn time_zone() -> impl Validator {
    |path: &AttrPath, value: &Value, diags: &mut Diagnostics| {
        let Some(s) = value.as_str() else { return };
        let shape = regex::Regex::new(r"^[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+)*$")
            .map(|re| re.is_match(s))
            .unwrap_or(true);
        let zoneinfo = std::path::Path::new("/usr/share/zoneinfo");
        // Without a zone database, the IANA area (the part before the first '/') is checked.
        const AREAS: [&str; 11] = [
            "Africa",
            "America",
            "Antarctica",
            "Arctic",
            "Asia",
            "Atlantic",
            "Australia",
            "Europe",
            "Indian",
            "Pacific",
            "Etc",
        ];
        let known = if zoneinfo.is_dir() {
            s == "UTC" || zoneinfo.join(s).is_file()
        } else {
            matches!(s, "UTC" | "GMT")
                || s.split_once('/')
                    .is_some_and(|(area, _)| AREAS.contains(&area))
        };
        if !shape || s.contains("..") || !known {
            diags.error_at(path.clone(), format!("Invalid time zone in {path}"), format!("{path} must be an IANA time zone name such as \"Europe/Berlin\" or \"UTC\"; got {s:?}."));
        }
    }
}

fn capacity_number() -> impl Validator {
    |path: &AttrPath, value: &Value, diags: &mut Diagnostics| {
        whole_number().validate(path, value, diags);
        at_least(0.0).validate(path, value, diags);
    }
}

// ---------------------------------------------------------------------------------------------
// Planning helpers.

fn known_str<'a>(v: &'a Value, name: &str) -> Option<&'a str> {
    v.get(name).as_str()
}

fn set_if(planned: &mut Value, name: &str, v: Option<Value>, unknown: bool) {
    planned.set(
        name,
        if unknown {
            Value::Unknown
        } else {
            v.unwrap_or(Value::Null)
        },
    );
}

/// The capacity the configuration asks for: `Err(())` when unknown, `Ok(None)` when unset.
fn capacity_of(v: &Value) -> Result<Option<f64>, ()> {
    let (c, e, p) = (
        v.get("capacity"),
        v.get("expected_participants"),
        v.get("participants_per_server"),
    );
    if c.is_unknown() || e.is_unknown() || p.is_unknown() {
        return Err(());
    }
    if let Some(c) = c.as_f64() {
        return Ok(Some(c));
    }
    match (e.as_f64(), p.as_f64()) {
        (Some(e), Some(p)) if p > 0.0 => Ok(Some((e / p).ceil())),
        _ => Ok(None),
    }
}

fn capacity_path(v: &Value) -> AttrPath {
    if v.get("capacity").is_null() {
        AttrPath::attr("expected_participants")
    } else {
        AttrPath::attr("capacity")
    }
}

fn i32_of(n: Option<f64>) -> Option<i32> {
    n.map(|n| n as i32)
}

/// A one-off scheduled action with its time `secs` in the past is assumed to have run.
fn has_run(time: Option<&str>) -> bool {
    time.and_then(|t| parse_rfc3339(t).ok())
        .is_some_and(|t| t <= now_secs())
}

pub(super) fn is_gone(e: &AwsError) -> bool {
    e.is_not_found()
        || (e.code() == Some("ValidationError")
            && e.to_string().to_ascii_lowercase().contains("not found"))
}

impl Schedule {
    fn encode(&self, model: &Model) -> Result<Value, Diagnostics> {
        Value::encode(model, &self.schema().ty())
    }

    fn specs(model: &Model) -> Result<(ScheduledActionSpec, ScheduledActionSpec), Diagnostics> {
        let asg = model
            .autoscaling_group_name
            .clone()
            .or_else(|| model.fleet.clone())
            .unwrap_or_default();
        let capacity = i32_of(model.desired_capacity);
        let time = |t: &Option<String>, attr: &str| -> Result<Option<SystemTime>, Diagnostics> {
            t.as_deref()
                .map(|s| {
                    parse_rfc3339(s).map(to_system_time).map_err(|e| {
                        Diagnostics::from_error_at(
                            AttrPath::attr(attr),
                            format!("Invalid {attr}"),
                            e,
                        )
                    })
                })
                .transpose()
        };
        let return_max = i32_of(model.return_max_size);
        let up_max = if model.raise_max_size == Some(true) {
            match (capacity, return_max) {
                (Some(c), Some(m)) => Some(c.max(m)),
                (c, m) => c.or(m),
            }
        } else {
            None
        };
        let tz = if model.recurrence.is_some() {
            model.time_zone.clone()
        } else {
            None
        };
        let up = ScheduledActionSpec {
            asg_name: asg.clone(),
            name: up_name(&model.name),
            recurrence: model.scale_up_recurrence.clone(),
            start_time: time(&model.scale_up_time, "scale_up_time")?,
            end_time: None,
            time_zone: tz.clone(),
            min_size: capacity,
            max_size: up_max,
            desired_capacity: capacity,
        };
        let down = ScheduledActionSpec {
            asg_name: asg,
            name: down_name(&model.name),
            recurrence: model.scale_down_recurrence.clone(),
            start_time: time(&model.scale_down_time, "scale_down_time")?,
            end_time: None,
            time_zone: tz,
            min_size: i32_of(model.return_min_size),
            max_size: return_max,
            desired_capacity: i32_of(model.return_desired_capacity),
        };
        Ok((up, down))
    }

    /// Fills the sizes to return to that neither the configuration nor the plan gave, from
    /// the group as it is now.
    async fn fill_return_sizes(aws: &AwsClients, model: &mut Model) -> Result<(), Diagnostics> {
        if model.return_min_size.is_some()
            && model.return_max_size.is_some()
            && model.return_desired_capacity.is_some()
        {
            return Ok(());
        }
        let asg = model.autoscaling_group_name.clone().unwrap_or_default();
        let group = aws
            .describe_auto_scaling_group(&asg)
            .await
            .map_err(|e| aws_error(&format!("read Auto Scaling group {asg}"), &e))?;
        model
            .return_min_size
            .get_or_insert(f64::from(group.min_size));
        model
            .return_max_size
            .get_or_insert(f64::from(group.max_size));
        model
            .return_desired_capacity
            .get_or_insert(f64::from(group.desired_capacity));
        Ok(())
    }

    /// Puts both actions; see `schedule_actions` for the order and a failed create.
    async fn put(&self, data: &ProviderData, req: &ApplyRequest) -> Result<Applied, Diagnostics> {
        let aws = data.aws().await?;
        let mut model: Model = req.planned.decode()?;
        if model.autoscaling_group_name.is_none() {
            model.autoscaling_group_name = model.fleet.clone();
        }
        Self::fill_return_sizes(aws, &mut model).await?;
        let (up, down) = Self::specs(&model)?;
        super::schedule_actions::put_pair(aws, &up, &down, req.prior.is_null()).await?;
        model.id = Some(format!("{}/{}", up.asg_name, model.name));
        model.scale_up_action_name = Some(up.name);
        model.scale_down_action_name = Some(down.name);
        Ok(Applied::new(self.encode(&model)?))
    }

    /// Plan-time checks and warnings that need the group: its max size, and other bbb
    /// schedules of the same group overlapping this one.
    fn check_against_group(
        &self,
        plan: &mut Plan,
        group: &AutoScalingGroup,
        diags: &mut Diagnostics,
    ) {
        let planned = &plan.planned;
        if let Ok(Some(capacity)) = capacity_of(planned) {
            let raise = planned.get("raise_max_size").as_bool().unwrap_or(false);
            if !raise && capacity > f64::from(group.max_size) {
                let path = capacity_path(&plan.config);
                diags.error_at(
                    path.clone(),
                    format!("Capacity above the group's max size in {path}"),
                    format!(
                        "The schedule asks for {capacity} instances, but Auto Scaling group {} has max_size {}. Lower {path}, raise the group's max_size, or set raise_max_size = true.",
                        group.name, group.max_size
                    ),
                );
            }
        }
    }

    fn warn_overlaps(&self, plan: &Plan, actions: &[ScheduledAction], diags: &mut Diagnostics) {
        let planned = &plan.planned;
        let Some(name) = known_str(planned, "name") else {
            return;
        };
        let (Some(up), Some(down)) = (
            known_str(planned, "scale_up_time"),
            known_str(planned, "scale_down_time"),
        ) else {
            return;
        };
        let (Ok(up), Ok(down)) = (parse_rfc3339(up), parse_rfc3339(down)) else {
            return;
        };
        let mut others: Vec<(String, i64, i64)> = Vec::new();
        for a in actions {
            let Some(other) = a
                .name
                .strip_prefix("bbb-")
                .and_then(|n| n.strip_suffix("-up"))
            else {
                continue;
            };
            if other == name || a.recurrence.is_some() {
                continue;
            }
            let Some(start) = a.start_time.map(from_system_time) else {
                continue;
            };
            let end = actions
                .iter()
                .find(|d| d.name == down_name(other))
                .and_then(|d| d.start_time.map(from_system_time))
                .unwrap_or(start);
            others.push((other.to_string(), start, end));
        }
        for (other, start, end) in others {
            if start < down && up < end {
                diags.warning_at(
                    AttrPath::attr("start_time"),
                    "Overlapping schedules",
                    format!(
                        "Schedule {name:?} ({} to {}) overlaps schedule {other:?} ({} to {}) of the same Auto Scaling group; whichever action runs last sets the capacity.",
                        format_rfc3339(up),
                        format_rfc3339(down),
                        format_rfc3339(start),
                        format_rfc3339(end)
                    ),
                );
            }
        }
    }
}

#[async_trait]
impl Resource<ProviderData> for Schedule {
    fn type_name(&self) -> &'static str {
        "bbb_schedule"
    }

    fn schema(&self) -> Schema {
        let size = |name: &str, what: &str| {
            Attribute::number(name)
                .optional()
                .validate(capacity_number())
                .description(what)
        };
        Schema::new(
            Block::new()
                .description("Scheduled capacity of a fleet's Auto Scaling group for a planned event (exam, webinar, lecture), one-off or recurring: servers are launched `lead_time` before the start and the group returns to `return_to` at the end. Two scheduled actions, `bbb-<name>-up` and `bbb-<name>-down`.")
                .attribute(Attribute::string("id").computed().use_state_for_unknown().description("`<autoscaling_group_name>/<name>`; also the import ID."))
                .attribute(
                    Attribute::string("autoscaling_group_name")
                        .optional()
                        .computed()
                        .requires_replace()
                        .validate(matches(r"^[^\s]{1,255}$", "an Auto Scaling group name"))
                        .description("The fleet's Auto Scaling group, e.g. `bbb_fleet.main.autoscaling_group_name`. Set this or `fleet`. Changing it replaces the schedule."),
                )
                .attribute(
                    Attribute::string("fleet")
                        .optional()
                        .validate(matches(r"^[^\s]{1,255}$", "an Auto Scaling group name"))
                        .description("Same as `autoscaling_group_name` (the fleet's group name); set one of the two."),
                )
                .attribute(
                    Attribute::string("name")
                        .required()
                        .requires_replace()
                        .validate(matches(r"^[A-Za-z0-9_.\-]{1,240}$", "letters, digits, '.', '_' or '-' (at most 240)"))
                        .description("Names the scheduled actions `bbb-<name>-up` and `bbb-<name>-down`. Changing it replaces the schedule."),
                )
                .attribute(Attribute::string("start_time").optional().validate(rfc3339()).description("One-off: when the event starts (RFC 3339). With `end_time`; instead of `recurrence`."))
                .attribute(Attribute::string("end_time").optional().validate(rfc3339()).description("One-off: when the event ends (RFC 3339); the group returns to `return_to` then."))
                .attribute(Attribute::string("recurrence").optional().validate(cron()).description("Recurring: when each event starts, a 5-field cron expression (UTC unless `time_zone`), e.g. `0 8 * * MON-FRI`. Its minute and hour must be single numbers. With `duration`; instead of `start_time`/`end_time`."))
                .attribute(Attribute::string("time_zone").optional().validate(time_zone()).description("IANA time zone of `recurrence`, e.g. `Europe/Berlin`."))
                .attribute(Attribute::string("duration").optional().validate(duration(true)).description("Recurring: how long each event lasts, e.g. `2h`."))
                .attribute(size("capacity", "Instances during the event. Or `expected_participants` with `participants_per_server`."))
                .attribute(size("expected_participants", "Participants expected; capacity is `ceil(expected_participants / participants_per_server)`."))
                .attribute(Attribute::number("participants_per_server").optional().validate(greater_than(0.0)).description("Participants one server takes, with `expected_participants`."))
                .attribute(Attribute::string("lead_time").default(DEFAULT_LEAD_TIME).validate(duration(false)).description("How long before the start the group scales up, so servers are registered and warm (an instance takes about 3 minutes to launch)."))
                .attribute(Attribute::bool("raise_max_size").default(false).description("Raise the group's max size to the capacity during the event when it is lower; otherwise a capacity above max size is an error."))
                .block(NestedBlock::new(
                    "return_to",
                    Nesting::Single,
                    Block::new()
                        .description("The group's sizes after the event; each one left out keeps the group's value read when the schedule was created.")
                        .attribute(size("min_size", "Minimum size after the event."))
                        .attribute(size("max_size", "Maximum size after the event."))
                        .attribute(size("desired_capacity", "Desired capacity after the event.")),
                ))
                .attribute(Attribute::number("desired_capacity").computed().description("Instances during the event (min size and desired capacity of the scale-up action)."))
                .attribute(Attribute::string("scale_up_time").computed().description("One-off: when the group scales up (`start_time` - `lead_time`, RFC 3339 UTC)."))
                .attribute(Attribute::string("scale_down_time").computed().description("One-off: when the group scales down (`end_time`, RFC 3339 UTC)."))
                .attribute(Attribute::string("scale_up_recurrence").computed().description("Recurring: cron of the scale-up action (`recurrence` shifted by `lead_time`)."))
                .attribute(Attribute::string("scale_down_recurrence").computed().description("Recurring: cron of the scale-down action (`recurrence` shifted by `duration`)."))
                .attribute(Attribute::string("scale_up_action_name").computed().description("`bbb-<name>-up`."))
                .attribute(Attribute::string("scale_down_action_name").computed().description("`bbb-<name>-down`."))
                .attribute(Attribute::number("return_min_size").computed().description("Min size the scale-down action sets."))
                .attribute(Attribute::number("return_max_size").computed().description("Max size the scale-down action sets."))
                .attribute(Attribute::number("return_desired_capacity").computed().description("Desired capacity the scale-down action sets.")),
        )
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        let set = |n: &str| !config.get(n).is_null();
        match (set("autoscaling_group_name"), set("fleet")) {
            (true, true) => diags.error_at(AttrPath::attr("fleet"), "Conflicting fleet", "Set either autoscaling_group_name or fleet (its alias), not both."),
            (false, false) => diags.error_at(AttrPath::attr("autoscaling_group_name"), "Missing autoscaling_group_name", "Set autoscaling_group_name (or its alias fleet) to the fleet's Auto Scaling group."),
            _ => {}
        }
        let one_off = set("start_time") || set("end_time");
        let recurring = set("recurrence") || set("duration");
        if one_off && recurring {
            let at = if set("recurrence") {
                "recurrence"
            } else {
                "duration"
            };
            diags.error_at(AttrPath::attr(at), "Conflicting schedule styles", "Set either start_time and end_time (one-off) or recurrence and duration (recurring), not both.");
        } else if !one_off && !recurring {
            diags.error_at(AttrPath::attr("start_time"), "Missing schedule", "Set start_time and end_time (one-off event) or recurrence and duration (recurring event).");
        } else if one_off {
            for (a, b) in [("start_time", "end_time"), ("end_time", "start_time")] {
                if !set(a) {
                    diags.error_at(
                        AttrPath::attr(a),
                        format!("Missing {a}"),
                        format!("A one-off schedule needs {a} with {b}."),
                    );
                }
            }
        } else {
            for (a, b) in [("recurrence", "duration"), ("duration", "recurrence")] {
                if !set(a) {
                    diags.error_at(
                        AttrPath::attr(a),
                        format!("Missing {a}"),
                        format!("A recurring schedule needs {a} with {b}."),
                    );
                }
            }
        }
        if set("time_zone") && !set("recurrence") && one_off {
            diags.error_at(AttrPath::attr("time_zone"), "time_zone without recurrence", "time_zone applies to recurrence only; give start_time and end_time with a UTC offset instead.");
        }
        let by_participants = set("expected_participants") || set("participants_per_server");
        if set("capacity") && by_participants {
            let at = if set("expected_participants") {
                "expected_participants"
            } else {
                "participants_per_server"
            };
            diags.error_at(AttrPath::attr(at), "Conflicting capacity", "Set either capacity or expected_participants with participants_per_server, not both.");
        } else if !set("capacity") && !by_participants {
            diags.error_at(
                AttrPath::attr("capacity"),
                "Missing capacity",
                "Set capacity (instances) or expected_participants with participants_per_server.",
            );
        } else if by_participants {
            for (a, b) in [
                ("expected_participants", "participants_per_server"),
                ("participants_per_server", "expected_participants"),
            ] {
                if !set(a) {
                    diags.error_at(
                        AttrPath::attr(a),
                        format!("Missing {a}"),
                        format!("{b} needs {a}."),
                    );
                }
            }
        }
    }

    async fn modify_plan(&self, data: &ProviderData, plan: &mut Plan, diags: &mut Diagnostics) {
        let creating = plan.is_create();
        let prior = plan.prior.clone();
        let config = plan.config.clone();
        let p = &mut plan.planned;

        // The group: autoscaling_group_name, or the alias fleet.
        if config.get("autoscaling_group_name").is_null() {
            let fleet = config.get("fleet").clone();
            p.set("autoscaling_group_name", fleet);
        }
        let asg = p.get("autoscaling_group_name").clone();
        let name = p.get("name").clone();
        plan.requires_replace
            .retain(|path| *path != AttrPath::attr("autoscaling_group_name"));
        if !creating && prior.get("autoscaling_group_name") != &asg {
            plan.requires_replace
                .push(AttrPath::attr("autoscaling_group_name"));
        }
        let replacing = !plan.requires_replace.is_empty();
        match (asg.as_str(), name.as_str()) {
            (Some(a), Some(n)) => p.set("id", Value::string(format!("{a}/{n}"))),
            _ => p.set("id", Value::Unknown),
        }
        set_if(
            p,
            "scale_up_action_name",
            name.as_str().map(|n| Value::string(up_name(n))),
            name.is_unknown(),
        );
        set_if(
            p,
            "scale_down_action_name",
            name.as_str().map(|n| Value::string(down_name(n))),
            name.is_unknown(),
        );

        // Capacity.
        match capacity_of(p) {
            Ok(c) => p.set(
                "desired_capacity",
                c.map(Value::Number).unwrap_or(Value::Null),
            ),
            Err(()) => p.set("desired_capacity", Value::Unknown),
        }

        // Times.
        let lead = p.get("lead_time").clone();
        let lead_minutes = lead
            .as_str()
            .and_then(|s| parse_duration(s).ok())
            .map(|d| (d.as_secs() / 60) as i64);
        let (start, end) = (p.get("start_time").clone(), p.get("end_time").clone());
        let (rec, dur) = (p.get("recurrence").clone(), p.get("duration").clone());
        for n in [
            "scale_up_time",
            "scale_down_time",
            "scale_up_recurrence",
            "scale_down_recurrence",
        ] {
            p.set(n, Value::Null);
        }
        if !start.is_null() || !end.is_null() {
            let s = start.as_str().and_then(|s| parse_rfc3339(s).ok());
            let e = end.as_str().and_then(|s| parse_rfc3339(s).ok());
            set_if(
                p,
                "scale_up_time",
                s.zip(lead_minutes)
                    .map(|(s, l)| Value::string(format_rfc3339(s - l * 60))),
                start.is_unknown() || lead.is_unknown(),
            );
            set_if(
                p,
                "scale_down_time",
                e.map(|e| Value::string(format_rfc3339(e))),
                end.is_unknown(),
            );
            if let (Some(s), Some(e)) = (s, e) {
                if e <= s {
                    diags.error_at(
                        AttrPath::attr("end_time"),
                        "end_time before start_time",
                        format!(
                            "end_time ({}) must be after start_time ({}).",
                            format_rfc3339(e),
                            format_rfc3339(s)
                        ),
                    );
                }
            }
            // A start in the past is refused when the event is new or moved; an event that
            // already happened can stay in state unchanged.
            let moved = creating
                || replacing
                || prior.get("start_time") != &start
                || prior.get("lead_time") != &lead;
            if let (Some(s), true) = (s, moved) {
                let now = now_secs();
                if s <= now {
                    diags.error_at(
                        AttrPath::attr("start_time"),
                        "start_time in the past",
                        format!(
                            "start_time ({}) is not in the future (now is {}).",
                            format_rfc3339(s),
                            format_rfc3339(now)
                        ),
                    );
                } else if let Some(l) = lead_minutes.filter(|l| s - l * 60 <= now) {
                    diags.error_at(
                        AttrPath::attr("lead_time"),
                        "Scale-up time in the past",
                        format!("start_time - lead_time ({}) is in the past (now is {}); shorten lead_time to at most {}.", format_rfc3339(s - l * 60), format_rfc3339(now), format_minutes(((s - now) / 60 - 1).max(0))),
                    );
                }
            }
        } else if !rec.is_null() || !dur.is_null() {
            let dur_minutes = dur
                .as_str()
                .and_then(|s| parse_duration(s).ok())
                .map(|d| (d.as_secs() / 60) as i64);
            if let (Some(r), Some(l), Some(d)) = (rec.as_str(), lead_minutes, dur_minutes) {
                match (shift_cron(r, -l), shift_cron(r, d)) {
                    (Ok(up), Ok(down)) => {
                        p.set("scale_up_recurrence", Value::string(up));
                        p.set("scale_down_recurrence", Value::string(down));
                    }
                    (Err(e), _) | (_, Err(e)) => diags.error_at(
                        AttrPath::attr("recurrence"),
                        "Unsupported recurrence",
                        format!("recurrence {r:?} cannot be shifted by lead_time ({}) and duration ({}): {e}.", format_minutes(l), format_minutes(d)),
                    ),
                }
            } else {
                let unknown = rec.is_unknown() || lead.is_unknown() || dur.is_unknown();
                p.set(
                    "scale_up_recurrence",
                    if unknown { Value::Unknown } else { Value::Null },
                );
                p.set(
                    "scale_down_recurrence",
                    if unknown { Value::Unknown } else { Value::Null },
                );
            }
        }

        // Sizes after the event: configured, else kept from state, else the group's now.
        let ret = config.get("return_to").clone();
        let mut missing = false;
        for (inner, outer) in [
            ("min_size", "return_min_size"),
            ("max_size", "return_max_size"),
            ("desired_capacity", "return_desired_capacity"),
        ] {
            let configured = ret.get(inner);
            let value = if !configured.is_null() {
                configured.clone()
            } else if !creating && !replacing && !prior.get(outer).is_null() {
                prior.get(outer).clone()
            } else {
                missing = true;
                Value::Unknown
            };
            p.set(outer, value);
        }

        // What needs the group: its sizes, max-size check, overlapping schedules.
        let Some(asg_name) = asg.as_str().map(str::to_string) else {
            return;
        };
        let Ok(aws) = data.aws().await else { return };
        let group = match aws.describe_auto_scaling_group(&asg_name).await {
            Ok(g) => g,
            Err(e) => {
                // The group may be created by this same apply; checks wait for apply then.
                tracing::debug!(error = %e, "bbb_schedule: group not readable at plan");
                return;
            }
        };
        if missing {
            let p = &mut plan.planned;
            for (outer, v) in [
                ("return_min_size", group.min_size),
                ("return_max_size", group.max_size),
                ("return_desired_capacity", group.desired_capacity),
            ] {
                if p.get(outer).is_unknown() {
                    p.set(outer, Value::Number(f64::from(v)));
                }
            }
        }
        self.check_against_group(plan, &group, diags);
        match aws.describe_scheduled_actions(&asg_name).await {
            Ok(actions) => self.warn_overlaps(plan, &actions, diags),
            Err(e) => {
                tracing::debug!(error = %e, "bbb_schedule: scheduled actions not readable at plan")
            }
        }
    }

    async fn create(&self, data: &ProviderData, req: ApplyRequest) -> Result<Applied, Diagnostics> {
        self.put(data, &req).await
    }

    async fn read(
        &self,
        data: &ProviderData,
        current: Applied,
    ) -> Result<Option<Applied>, Diagnostics> {
        let aws = data.aws().await?;
        let mut model: Model = current.state.decode()?;
        let Some(asg) = model
            .autoscaling_group_name
            .clone()
            .or_else(|| model.fleet.clone())
        else {
            return Ok(None);
        };
        let actions = aws
            .describe_scheduled_actions(&asg)
            .await
            .map_err(|e| aws_error(&format!("read the scheduled actions of {asg}"), &e))?;
        let find = |n: &str| actions.iter().find(|a| a.name == n && a.asg_name == asg);
        let (up, down) = (find(&up_name(&model.name)), find(&down_name(&model.name)));
        let one_off = model.recurrence.is_none();
        let up_ran = one_off && has_run(model.scale_up_time.as_deref());
        let down_ran = one_off && has_run(model.scale_down_time.as_deref());
        if up.is_none() && down.is_none() {
            // A past one-off event: its actions ran and Auto Scaling removed them.
            return Ok(if down_ran { Some(current) } else { None });
        }
        match up {
            Some(a) => {
                model.desired_capacity = a.desired_capacity.map(f64::from);
                model.scale_up_time = a
                    .start_time
                    .filter(|_| a.recurrence.is_none())
                    .map(|t| format_rfc3339(from_system_time(t)));
                model.scale_up_recurrence = a.recurrence.clone();
                model.scale_up_action_name = Some(a.name.clone());
            }
            None if up_ran => {}
            // Deleted outside Terraform: the next plan puts it back.
            None => model.scale_up_action_name = None,
        }
        match down {
            Some(a) => {
                model.scale_down_time = a
                    .start_time
                    .filter(|_| a.recurrence.is_none())
                    .map(|t| format_rfc3339(from_system_time(t)));
                model.scale_down_recurrence = a.recurrence.clone();
                model.return_min_size = a.min_size.map(f64::from);
                model.return_max_size = a.max_size.map(f64::from);
                model.return_desired_capacity = a.desired_capacity.map(f64::from);
                model.scale_down_action_name = Some(a.name.clone());
            }
            None if down_ran => {}
            None => model.scale_down_action_name = None,
        }
        Ok(Some(Applied::with_private(
            self.encode(&model)?,
            current.private,
        )))
    }

    async fn update(&self, data: &ProviderData, req: ApplyRequest) -> Result<Applied, Diagnostics> {
        self.put(data, &req).await
    }

    async fn delete(&self, data: &ProviderData, req: ApplyRequest) -> Result<(), Diagnostics> {
        let aws = data.aws().await?;
        let model: Model = req.prior.decode()?;
        let Some(asg) = model
            .autoscaling_group_name
            .clone()
            .or_else(|| model.fleet.clone())
        else {
            return Ok(());
        };
        for name in [up_name(&model.name), down_name(&model.name)] {
            match aws.delete_scheduled_action(&asg, &name).await {
                Ok(()) => {}
                Err(e) if is_gone(&e) => {}
                Err(e) => return Err(aws_error(&format!("delete scheduled action {name}"), &e)),
            }
        }
        Ok(())
    }

    /// Imports `<autoscaling_group_name>/<name>`. The lead time cannot be told from the
    /// actions: the default (10m) is assumed.
    async fn import(&self, data: &ProviderData, id: &str) -> Result<Applied, Diagnostics> {
        let Some((asg, name)) = id
            .rsplit_once('/')
            .filter(|(a, n)| !a.is_empty() && !n.is_empty())
        else {
            return Err(Diagnostics::from_error(
                "Invalid import ID",
                format!("Expected <autoscaling_group_name>/<name>, got {id:?}."),
            ));
        };
        let aws = data.aws().await?;
        let actions = aws
            .describe_scheduled_actions(asg)
            .await
            .map_err(|e| aws_error(&format!("read the scheduled actions of {asg}"), &e))?;
        let find = |n: &str| actions.iter().find(|a| a.name == n && a.asg_name == asg);
        let (Some(up), Some(down)) = (find(&up_name(name)), find(&down_name(name))) else {
            return Err(Diagnostics::from_error(
                "Cannot import non-existent schedule",
                format!(
                    "Auto Scaling group {asg} has no scheduled actions {} and {}.",
                    up_name(name),
                    down_name(name)
                ),
            ));
        };
        let lead = parse_duration(DEFAULT_LEAD_TIME)
            .map(|d| (d.as_secs() / 60) as i64)
            .unwrap_or(10);
        let mut model = Model {
            id: Some(format!("{asg}/{name}")),
            autoscaling_group_name: Some(asg.to_string()),
            name: name.to_string(),
            capacity: up.desired_capacity.map(f64::from),
            lead_time: Some(DEFAULT_LEAD_TIME.to_string()),
            raise_max_size: Some(up.max_size.is_some()),
            ..Default::default()
        };
        match (&up.recurrence, &down.recurrence) {
            (Some(ur), Some(dr)) => {
                let start = shift_cron(ur, lead).map_err(|e| {
                    Diagnostics::from_error(
                        "Cannot import this schedule",
                        format!("{}: recurrence {ur:?}: {e}", up.name),
                    )
                })?;
                model.duration = cron_minutes_between(&start, dr).map(format_minutes);
                model.recurrence = Some(start);
                model.time_zone = up.time_zone.clone();
            }
            _ => {
                let up_t = up.start_time.map(from_system_time);
                model.start_time = up_t.map(|t| format_rfc3339(t + lead * 60));
                model.end_time = down.start_time.map(|t| format_rfc3339(from_system_time(t)));
            }
        }
        // read() fills the computed values from the actions.
        model.scale_up_action_name = Some(up.name.clone());
        model.scale_down_action_name = Some(down.name.clone());
        model.desired_capacity = model.capacity;
        model.scale_up_time = up
            .start_time
            .filter(|_| up.recurrence.is_none())
            .map(|t| format_rfc3339(from_system_time(t)));
        model.scale_down_time = down
            .start_time
            .filter(|_| down.recurrence.is_none())
            .map(|t| format_rfc3339(from_system_time(t)));
        model.scale_up_recurrence = up.recurrence.clone();
        model.scale_down_recurrence = down.recurrence.clone();
        model.return_min_size = down.min_size.map(f64::from);
        model.return_max_size = down.max_size.map(f64::from);
        model.return_desired_capacity = down.desired_capacity.map(f64::from);
        Ok(Applied::new(self.encode(&model)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_trip_and_offsets() {
        let t = parse_rfc3339("2026-02-10T08:30:00Z").expect("parses");
        assert_eq!(format_rfc3339(t), "2026-02-10T08:30:00Z");
        assert_eq!(parse_rfc3339("2026-02-10T09:30:00+01:00"), Ok(t));
        assert_eq!(parse_rfc3339("2026-02-10T07:30:00.250-01:00"), Ok(t));
        assert_eq!(format_rfc3339(t - 45 * 60), "2026-02-10T07:45:00Z");
        assert!(parse_rfc3339("2026-02-30T08:30:00Z").is_err());
        assert!(parse_rfc3339("tomorrow").is_err());
    }

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
