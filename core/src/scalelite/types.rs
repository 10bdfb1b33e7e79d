//! Typed values of Scalelite's server API.

use crate::secret::Secret;
use serde_json::Value;
use std::fmt;

/// A server's administrative state as Scalelite reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ServerState {
    /// Takes new meetings.
    Enabled,
    /// Keeps its running meetings, takes no new ones; the poller turns it `Disabled` once its load
    /// reads zero.
    Cordoned,
    /// Takes no meetings. Servers are added in this state.
    Disabled,
}

impl ServerState {
    /// The wire form: `enabled`, `cordoned`, `disabled`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Enabled => "enabled",
            Self::Cordoned => "cordoned",
            Self::Disabled => "disabled",
        }
    }

    /// Parses the wire form.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "enabled" => Some(Self::Enabled),
            "cordoned" => Some(Self::Cordoned),
            "disabled" => Some(Self::Disabled),
            _ => None,
        }
    }
}

impl fmt::Display for ServerState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A state change requested through `updateServer` (`server.state`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StateChange {
    Enable,
    Cordon,
    Disable,
}

impl StateChange {
    /// The wire form: `enable`, `cordon`, `disable`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Enable => "enable",
            Self::Cordon => "cordon",
            Self::Disable => "disable",
        }
    }

    /// The state a server is in after this change.
    pub fn resulting_state(self) -> ServerState {
        match self {
            Self::Enable => ServerState::Enabled,
            Self::Cordon => ServerState::Cordoned,
            Self::Disable => ServerState::Disabled,
        }
    }
}

/// A BBB server registered in Scalelite.
#[derive(Clone, Debug, PartialEq)]
pub struct Server {
    /// A UUID, or the URL's host when Scalelite runs with `SERVER_ID_IS_HOSTNAME`.
    pub id: String,
    /// The BBB API URL (`https://host/bigbluebutton/api`).
    pub url: String,
    pub secret: Secret,
    /// `None` when Scalelite reports `""` (no tag) or predates tags.
    pub tag: Option<String>,
    /// `None` when unknown (`""`) or not reported.
    pub bbb_version: Option<String>,
    pub state: ServerState,
    /// `None` when Scalelite reports `"unavailable"` (disabled, or not polled yet).
    pub load: Option<f64>,
    pub load_multiplier: f64,
    pub online: bool,
}

/// The body of `addServer`.
#[derive(Clone, Debug, PartialEq)]
pub struct NewServer {
    pub url: String,
    pub secret: Secret,
    /// `None` (or zero) makes Scalelite use 1.0.
    pub load_multiplier: Option<f64>,
    pub tag: Option<String>,
}

/// The changes of one `updateServer` call; `None` fields are not sent. Scalelite cannot change
/// a server's URL.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ServerUpdate {
    pub state: Option<StateChange>,
    /// Must not be zero (Scalelite answers 400).
    pub load_multiplier: Option<f64>,
    pub secret: Option<Secret>,
    /// `Some("")` removes the tag.
    pub tag: Option<String>,
}

impl ServerUpdate {
    /// Whether nothing would be sent.
    pub fn is_empty(&self) -> bool {
        self.state.is_none()
            && self.load_multiplier.is_none()
            && self.secret.is_none()
            && self.tag.is_none()
    }
}

/// Why a server object could not be read. Never contains field values (the object carries the
/// BBB secret).
pub(crate) fn server_from_json(v: &Value) -> Result<Server, String> {
    let obj = v
        .as_object()
        .ok_or_else(|| format!("expected a server object, got {}", kind(v)))?;
    let string = |name: &str| -> Result<String, String> {
        match obj.get(name) {
            Some(Value::String(s)) => Ok(s.clone()),
            Some(other) => Err(format!("field `{name}` is {}, not a string", kind(other))),
            None => Err(format!("field `{name}` is missing")),
        }
    };
    let optional_string = |name: &str| -> Result<Option<String>, String> {
        match obj.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(format!("field `{name}` is {}, not a string", kind(other))),
        }
    };
    let id = match obj.get("id") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(other) => return Err(format!("field `id` is {}, not a string", kind(other))),
        None => return Err("field `id` is missing".to_owned()),
    };
    let state_raw = string("state")?;
    let state = ServerState::parse(&state_raw)
        .ok_or_else(|| format!("field `state` has unknown value {state_raw:?}"))?;
    let load = match obj.get("load") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => Some(
            n.as_f64()
                .ok_or_else(|| "field `load` is not a finite number".to_owned())?,
        ),
        Some(Value::String(s)) if s == "unavailable" || s.is_empty() => None,
        Some(Value::String(s)) => Some(
            s.trim()
                .parse::<f64>()
                .map_err(|_| format!("field `load` has unknown value {s:?}"))?,
        ),
        Some(other) => return Err(format!("field `load` is {}", kind(other))),
    };
    let load_multiplier = match obj.get("load_multiplier") {
        None | Some(Value::Null) => 1.0,
        Some(Value::Number(n)) => n
            .as_f64()
            .ok_or_else(|| "field `load_multiplier` is not a finite number".to_owned())?,
        Some(Value::String(s)) => s
            .trim()
            .parse::<f64>()
            .map_err(|_| format!("field `load_multiplier` has unknown value {s:?}"))?,
        Some(other) => return Err(format!("field `load_multiplier` is {}", kind(other))),
    };
    let online = match obj.get("online") {
        Some(Value::String(s)) if s == "online" => true,
        Some(Value::String(s)) if s == "offline" => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => return Err(format!("field `online` has unknown value {s:?}")),
        Some(other) => return Err(format!("field `online` is {}", kind(other))),
        None => return Err("field `online` is missing".to_owned()),
    };
    Ok(Server {
        id,
        url: string("url")?,
        secret: Secret::new(string("secret")?),
        tag: optional_string("tag")?,
        bbb_version: optional_string("bbb_version")?,
        state,
        load,
        load_multiplier,
        online,
    })
}

pub(crate) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_scalelite_server_json() {
        let v = json!({
            "id": "2ab5c4b6-1b1e-4b8e-9f44-3c9c1e0e7a10",
            "url": "https://bbb1.example.com/bigbluebutton/api",
            "secret": "s3cr3t",
            "tag": "",
            "bbb_version": "3.0.4",
            "state": "cordoned",
            "load": 12.5,
            "load_multiplier": "2.5",
            "online": "online"
        });
        let s = server_from_json(&v).unwrap();
        assert_eq!(s.state, ServerState::Cordoned);
        assert_eq!(s.tag, None);
        assert_eq!(s.bbb_version.as_deref(), Some("3.0.4"));
        assert_eq!(s.load, Some(12.5));
        assert_eq!(s.load_multiplier, 2.5);
        assert!(s.online);
        assert_eq!(s.secret.expose(), "s3cr3t");

        let v = json!({"id": "x", "url": "u", "secret": "s", "state": "disabled",
                       "load": "unavailable", "load_multiplier": 1.0, "online": "offline"});
        let s = server_from_json(&v).unwrap();
        assert_eq!(
            (s.load, s.load_multiplier, s.online, s.tag),
            (None, 1.0, false, None)
        );
    }

    #[test]
    fn shape_errors_do_not_leak_values() {
        let v = json!({"id": "x", "url": "u", "secret": 12345, "state": "enabled",
                       "load": 1, "load_multiplier": "1.0", "online": "online"});
        let e = server_from_json(&v).unwrap_err();
        assert!(e.contains("secret") && !e.contains("12345"), "{e}");
        let v = json!({"id": "x", "url": "u", "secret": "s", "state": "weird",
                       "load": 1, "load_multiplier": "1.0", "online": "online"});
        assert!(server_from_json(&v).unwrap_err().contains("state"));
    }
}
