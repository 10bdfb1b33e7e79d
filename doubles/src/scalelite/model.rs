//! The double's server records and how Scalelite renders them.

use bbb_core::scalelite::ServerState;
use serde_json::{json, Value};

/// A BBB server as the Scalelite double stores it.
#[derive(Clone, Debug, PartialEq)]
pub struct DoubleServer {
    pub id: String,
    pub url: String,
    pub secret: String,
    pub tag: Option<String>,
    pub bbb_version: Option<String>,
    pub state: ServerState,
    /// The poller's load figure; rendered `"unavailable"` when `None` or when disabled.
    pub load: Option<f64>,
    pub load_multiplier: f64,
    pub online: bool,
    /// Its score in Redis' `server_load`, the set `create` routes on, while its state is not
    /// `enabled`: only Scalelite's poller saving an object it read before a state change puts
    /// it there (`poller.rs`), and only the next state change takes it out. `None` normally.
    pub stale_server_load: Option<f64>,
    /// Its score in `cordoned_server_load` while its state is not `cordoned`, put there the
    /// same way (a save of an object read cordoned); an `enable` from `disabled` takes it as the
    /// load (`self.load ||= zscore('cordoned_server_load', id)`). `None` normally.
    pub stale_cordoned_load: Option<f64>,
}

impl DoubleServer {
    /// A server as `addServer` creates it: random UUID, disabled, offline, no load, multiplier 1.
    pub fn new(url: impl Into<String>, secret: impl Into<String>) -> Self {
        Self {
            id: uuid::Uuid::new_v4().to_string(),
            url: url.into(),
            secret: secret.into(),
            tag: None,
            bbb_version: None,
            state: ServerState::Disabled,
            load: None,
            load_multiplier: 1.0,
            online: false,
            stale_server_load: None,
            stale_cordoned_load: None,
        }
    }

    /// A state change (`updateServer`, `panic`) as `save!` writes it: nothing when the state is
    /// the same (`state_changed?` is false: the sets stay as they were, stale entries too);
    /// otherwise the server leaves every set but its new state's, which it enters with the load it
    /// had, or, without one (a disabled server has none), the score it has in the other set
    /// (`self.load ||= zscore(...)`: `server_load` for a cordon, `cordoned_server_load` for an
    /// enable), or keeps the stale entry it already has in the new state's set.
    pub fn change_state(&mut self, next: ServerState) {
        if next == self.state {
            return;
        }
        let had = if self.state == ServerState::Disabled {
            None
        } else {
            self.load
        };
        let (server_load, cordoned_load) = (self.stale_server_load, self.stale_cordoned_load);
        self.load = match next {
            ServerState::Disabled => None,
            ServerState::Enabled => had.or(cordoned_load).or(server_load),
            ServerState::Cordoned => had.or(server_load).or(cordoned_load),
        };
        self.stale_server_load = None;
        self.stale_cordoned_load = None;
        self.state = next;
    }

    /// The JSON object Scalelite's `server_to_json` renders.
    pub fn to_json(&self) -> Value {
        let load = match (self.state, self.load) {
            (ServerState::Disabled, _) | (_, None) => json!("unavailable"),
            (_, Some(l)) => json!(l),
        };
        json!({
            "id": self.id,
            "url": self.url,
            "secret": self.secret,
            "tag": self.tag.clone().unwrap_or_default(),
            "bbb_version": self.bbb_version.clone().unwrap_or_default(),
            "state": self.state.as_str(),
            "load": load,
            "load_multiplier": decimal_string(self.load_multiplier),
            "online": if self.online { "online" } else { "offline" },
        })
    }
}

/// Ruby's `BigDecimal#to_s` as Rails renders it in JSON: `"1.0"`, `"2.5"`, `"10.0"`.
pub(crate) fn decimal_string(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.1}")
    } else {
        format!("{v}")
    }
}

/// Ruby's `to_d` on a JSON value: numbers as they are, strings by their leading decimal number
/// (`"2.5x"` -> 2.5, `"abc"` -> 0), everything else 0.
pub(crate) fn to_decimal(v: &Value) -> f64 {
    match v {
        Value::Number(n) => n.as_f64().unwrap_or(0.0),
        Value::String(s) => leading_number(s.trim()),
        _ => 0.0,
    }
}

fn leading_number(s: &str) -> f64 {
    let mut end = 0;
    let mut seen_dot = false;
    for (i, c) in s.char_indices() {
        let ok =
            c.is_ascii_digit() || (i == 0 && (c == '-' || c == '+')) || (c == '.' && !seen_dot);
        if !ok {
            break;
        }
        if c == '.' {
            seen_dot = true;
        }
        end = i + c.len_utf8();
    }
    s[..end].parse::<f64>().unwrap_or(0.0)
}

/// Ruby's `present?` on a JSON value.
pub(crate) fn present(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) | Some(Value::Bool(false)) => false,
        Some(Value::String(s)) => !s.trim().is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(o)) => !o.is_empty(),
        Some(_) => true,
    }
}

/// A JSON scalar as the string Rails would see in params.
pub(crate) fn as_param_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ruby_number_rules() {
        assert_eq!(decimal_string(1.0), "1.0");
        assert_eq!(decimal_string(2.5), "2.5");
        assert_eq!(decimal_string(10.0), "10.0");
        assert_eq!(to_decimal(&json!("2.5x")), 2.5);
        assert_eq!(to_decimal(&json!("abc")), 0.0);
        assert_eq!(to_decimal(&json!(0)), 0.0);
        assert!(!present(Some(&json!("  "))));
        assert!(!present(Some(&json!(false))));
        assert!(present(Some(&json!("false"))));
        assert!(present(Some(&json!(0))));
    }
}
