//! Attribute validators: run at plan time on known, non-null values, each diagnostic
//! pointing at the attribute.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use super::diagnostics::Diagnostics;
use super::path::AttrPath;
use super::value::Value;

pub trait Validator: Send + Sync {
    /// Checks a known, non-null value.
    fn validate(&self, path: &AttrPath, value: &Value, diags: &mut Diagnostics);
}

impl<F> Validator for F
where
    F: Fn(&AttrPath, &Value, &mut Diagnostics) + Send + Sync,
{
    fn validate(&self, path: &AttrPath, value: &Value, diags: &mut Diagnostics) {
        self(path, value, diags)
    }
}

/// The string must be one of `allowed`.
pub fn one_of(allowed: &'static [&'static str]) -> impl Validator {
    move |path: &AttrPath, value: &Value, diags: &mut Diagnostics| {
        if let Some(s) = value.as_str() {
            if !allowed.contains(&s) {
                diags.error_at(
                    path.clone(),
                    format!("Invalid value for {path}"),
                    format!("{path} must be one of {}; got {s:?}.", quoted(allowed)),
                );
            }
        }
    }
}

/// The string must not be empty or blank.
pub fn not_blank() -> impl Validator {
    |path: &AttrPath, value: &Value, diags: &mut Diagnostics| {
        if value.as_str().is_some_and(|s| s.trim().is_empty()) {
            diags.error_at(
                path.clone(),
                format!("Empty value for {path}"),
                format!("{path} must not be empty."),
            );
        }
    }
}

/// The compiled form of `pattern`, compiled once per process: schemas (and so their
/// validators) are built again for every value a resource encodes.
fn compiled(pattern: &'static str) -> Option<regex::Regex> {
    static CACHE: LazyLock<Mutex<HashMap<&'static str, Option<regex::Regex>>>> =
        LazyLock::new(Default::default);
    let mut cache = CACHE
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    cache
        .entry(pattern)
        .or_insert_with(|| {
            COMPILATIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            regex::Regex::new(pattern).ok()
        })
        .clone()
}

/// How many patterns [`compiled`] has compiled (a test of the cache reads it).
static COMPILATIONS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// The string must match `pattern`; `what` says in words what is expected.
pub fn matches(pattern: &'static str, what: &'static str) -> impl Validator {
    let re = compiled(pattern);
    move |path: &AttrPath, value: &Value, diags: &mut Diagnostics| {
        let (Some(s), Some(re)) = (value.as_str(), re.as_ref()) else {
            return;
        };
        if !re.is_match(s) {
            diags.error_at(
                path.clone(),
                format!("Invalid value for {path}"),
                format!("{path} must be {what}; got {s:?}."),
            );
        }
    }
}

/// The number must be at least `min`.
pub fn at_least(min: f64) -> impl Validator {
    move |path: &AttrPath, value: &Value, diags: &mut Diagnostics| {
        if let Some(n) = value.as_f64() {
            if n < min {
                diags.error_at(
                    path.clone(),
                    format!("Value out of range for {path}"),
                    format!("{path} must be at least {min}; got {n}."),
                );
            }
        }
    }
}

/// The number must be at most `max`.
pub fn at_most(max: f64) -> impl Validator {
    move |path: &AttrPath, value: &Value, diags: &mut Diagnostics| {
        if let Some(n) = value.as_f64() {
            if n > max {
                diags.error_at(
                    path.clone(),
                    format!("Value out of range for {path}"),
                    format!("{path} must be at most {max}; got {n}."),
                );
            }
        }
    }
}

/// The string must be a duration such as `"30s"`, `"2m"` or `"1h30m"` (humantime's syntax);
/// [`DurationValidator::positive`] and [`DurationValidator::whole_minutes`] narrow it.
pub fn duration() -> DurationValidator {
    DurationValidator::default()
}

/// See [`duration`].
#[derive(Clone, Copy, Debug, Default)]
pub struct DurationValidator {
    positive: bool,
    whole_minutes: bool,
}

impl DurationValidator {
    /// Zero is refused.
    pub fn positive(mut self) -> Self {
        self.positive = true;
        self
    }

    /// Only whole minutes (as Auto Scaling's schedules take them).
    pub fn whole_minutes(mut self) -> Self {
        self.whole_minutes = true;
        self
    }
}

impl Validator for DurationValidator {
    fn validate(&self, path: &AttrPath, value: &Value, diags: &mut Diagnostics) {
        let Some(s) = value.as_str() else { return };
        let problem = match humantime::parse_duration(s) {
            Err(e) => format!("{path} must be a duration such as \"30s\" or \"2m\": {e}."),
            Ok(d) if self.whole_minutes && (d.as_secs() % 60 != 0 || d.subsec_nanos() != 0) => {
                format!("{path} must be whole minutes; got {s:?}.")
            }
            Ok(d) if self.positive && d.is_zero() => {
                format!("{path} must be longer than zero; got {s:?}.")
            }
            Ok(_) => return,
        };
        diags.error_at(path.clone(), format!("Invalid duration in {path}"), problem);
    }
}

/// The number must be strictly greater than `min`.
pub fn greater_than(min: f64) -> impl Validator {
    move |path: &AttrPath, value: &Value, diags: &mut Diagnostics| {
        if let Some(n) = value.as_f64() {
            if n <= min {
                diags.error_at(
                    path.clone(),
                    format!("Value out of range for {path}"),
                    format!("{path} must be greater than {min}; got {n}."),
                );
            }
        }
    }
}

/// The number must be a whole number.
pub fn whole_number() -> impl Validator {
    |path: &AttrPath, value: &Value, diags: &mut Diagnostics| {
        if let Some(n) = value.as_f64() {
            if n.fract() != 0.0 {
                diags.error_at(
                    path.clone(),
                    format!("Invalid value for {path}"),
                    format!("{path} must be a whole number; got {n}."),
                );
            }
        }
    }
}

/// The string must be an absolute http(s) URL.
pub fn http_url() -> impl Validator {
    |path: &AttrPath, value: &Value, diags: &mut Diagnostics| {
        let Some(s) = value.as_str() else { return };
        match url::Url::parse(s) {
            Ok(u) if (u.scheme() == "http" || u.scheme() == "https") && u.host().is_some() => {}
            Ok(u) => diags.error_at(
                path.clone(),
                format!("Invalid URL in {path}"),
                format!(
                    "{path} must be an http or https URL with a host; got scheme {:?}.",
                    u.scheme()
                ),
            ),
            Err(e) => diags.error_at(
                path.clone(),
                format!("Invalid URL in {path}"),
                format!("{path} is not a URL: {e}."),
            ),
        }
    }
}

fn quoted(items: &[&str]) -> String {
    items
        .iter()
        .map(|s| format!("{s:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(v: impl Validator, value: Value) -> Diagnostics {
        let mut d = Diagnostics::new();
        v.validate(&AttrPath::attr("state"), &value, &mut d);
        d
    }

    #[test]
    fn one_of_names_attribute_and_choices() {
        let d = run(one_of(&["enabled", "cordoned"]), Value::from("on"));
        let diag = d.iter().next().expect("one diagnostic");
        assert_eq!(diag.path, Some(AttrPath::attr("state")));
        assert_eq!(
            diag.detail,
            r#"state must be one of "enabled", "cordoned"; got "on"."#
        );
        assert!(!run(one_of(&["enabled"]), Value::from("enabled")).has_errors());
    }

    #[test]
    fn numeric_bounds() {
        assert!(run(greater_than(0.0), Value::Number(0.0)).has_errors());
        assert!(!run(greater_than(0.0), Value::Number(0.1)).has_errors());
        assert!(run(at_least(1.0), Value::Number(0.5)).has_errors());
        assert!(run(whole_number(), Value::Number(1.5)).has_errors());
    }

    #[test]
    fn urls_and_patterns() {
        assert!(run(http_url(), Value::from("ftp://x")).has_errors());
        assert!(run(http_url(), Value::from("not a url")).has_errors());
        assert!(!run(
            http_url(),
            Value::from("https://bbb.example.com/bigbluebutton/api")
        )
        .has_errors());
        assert!(run(matches("^[a-z]+$", "lower-case letters"), Value::from("A")).has_errors());
        assert!(!run(matches("^[a-z]+$", "lower-case letters"), Value::from("a")).has_errors());
        assert!(run(not_blank(), Value::from("  ")).has_errors());
    }

    #[test]
    fn a_pattern_is_compiled_once() {
        use std::sync::atomic::Ordering;
        const PATTERN: &str = "^compiled-once-[0-9]+$";
        let before = COMPILATIONS.load(Ordering::Relaxed);
        for _ in 0..50 {
            let v = matches(PATTERN, "a test pattern");
            assert!(run(v, Value::from("x")).has_errors());
        }
        // Other tests may compile their own patterns meanwhile, but not 50 of them.
        let compiled_now = COMPILATIONS.load(Ordering::Relaxed) - before;
        assert!(
            compiled_now < 50,
            "{compiled_now} compilations for 50 validators"
        );
        assert!(compiled("(").is_none(), "a bad pattern validates nothing");
    }

    #[test]
    fn upper_bound() {
        assert!(run(at_most(10.0), Value::Number(10.5)).has_errors());
        assert!(!run(at_most(10.0), Value::Number(10.0)).has_errors());
    }

    #[test]
    fn durations() {
        let detail = |v: DurationValidator, s: &str| {
            run(v, Value::from(s))
                .iter()
                .next()
                .map(|d| d.detail.clone())
        };
        assert_eq!(detail(duration(), "90s"), None);
        assert_eq!(detail(duration(), "0s"), None);
        assert!(detail(duration(), "soon").is_some_and(|d| d.contains("must be a duration")));
        assert!(detail(duration().positive(), "0s").is_some_and(|d| d.contains("longer than zero")));
        assert!(
            detail(duration().whole_minutes(), "90s").is_some_and(|d| d.contains("whole minutes"))
        );
        assert_eq!(detail(duration().whole_minutes().positive(), "2h"), None);
        assert!(
            run(duration(), Value::Number(1.0)).is_empty(),
            "not a string: not mine"
        );
    }
}
