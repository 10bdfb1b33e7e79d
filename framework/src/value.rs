//! Dynamic Terraform values: known, null or unknown, of any schema type.

use std::collections::BTreeMap;

use super::diagnostics::Diagnostics;
use super::types::Type;

/// A value as Terraform sends it. Lists, sets and tuples are `List`; maps and objects are
/// `Map`: the schema's [`Type`] tells them apart when encoding.
#[derive(Clone, Debug, PartialEq, Default)]
pub enum Value {
    #[default]
    Null,
    /// Not known until apply (`(known after apply)` in a plan).
    Unknown,
    Bool(bool),
    Number(f64),
    String(String),
    List(Vec<Value>),
    Map(BTreeMap<String, Value>),
}

static NULL: Value = Value::Null;

impl Value {
    pub fn string(s: impl Into<String>) -> Self {
        Value::String(s.into())
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    pub fn is_unknown(&self) -> bool {
        matches!(self, Value::Unknown)
    }

    /// True when neither this value nor anything inside it is unknown.
    pub fn is_wholly_known(&self) -> bool {
        match self {
            Value::Unknown => false,
            Value::List(items) => items.iter().all(Value::is_wholly_known),
            Value::Map(items) => items.values().all(Value::is_wholly_known),
            _ => true,
        }
    }

    /// An attribute of an object value; null when absent or when this value is not an object.
    pub fn get(&self, name: &str) -> &Value {
        match self {
            Value::Map(m) => m.get(name).unwrap_or(&NULL),
            _ => &NULL,
        }
    }

    /// Sets an attribute of an object value (a null value becomes an empty object first).
    pub fn set(&mut self, name: &str, value: Value) {
        if !matches!(self, Value::Map(_)) {
            *self = Value::Map(BTreeMap::new());
        }
        if let Value::Map(m) = self {
            m.insert(name.to_string(), value);
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Number(n) => Some(*n),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(l) => Some(l),
            _ => None,
        }
    }

    /// Converts to JSON; unknown values become null. Used to hand values to typed models.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Value::Null | Value::Unknown => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Number(n) => number_to_json(*n),
            Value::String(s) => J::String(s.clone()),
            Value::List(items) => J::Array(items.iter().map(Value::to_json).collect()),
            Value::Map(items) => J::Object(
                items
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_json()))
                    .collect(),
            ),
        }
    }

    /// Builds a value of type `ty` from JSON (state files, typed models).
    pub fn from_json(json: &serde_json::Value, ty: &Type) -> Result<Value, String> {
        use serde_json::Value as J;
        Ok(match (json, ty) {
            (J::Null, _) => Value::Null,
            (J::Bool(b), Type::Bool) => Value::Bool(*b),
            (J::String(s), Type::Bool) => match s.as_str() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                _ => return Err(format!("{s:?} is not a bool")),
            },
            (J::Number(n), Type::Number) => Value::Number(n.as_f64().ok_or("number out of range")?),
            (J::String(s), Type::Number) => {
                Value::Number(s.parse().map_err(|_| format!("{s:?} is not a number"))?)
            }
            (J::String(s), Type::String) => Value::String(s.clone()),
            (J::Number(n), Type::String) => Value::String(n.to_string()),
            (J::Bool(b), Type::String) => Value::String(b.to_string()),
            (J::Array(items), Type::List(e) | Type::Set(e)) => Value::List(
                items
                    .iter()
                    .map(|i| Value::from_json(i, e))
                    .collect::<Result<_, _>>()?,
            ),
            (J::Object(items), Type::Map(e)) => Value::Map(
                items
                    .iter()
                    .map(|(k, v)| Ok((k.clone(), Value::from_json(v, e)?)))
                    .collect::<Result<_, String>>()?,
            ),
            (J::Object(items), Type::Object(attrs)) => {
                let mut out = BTreeMap::new();
                for (name, aty) in attrs {
                    let v = match items.get(name) {
                        Some(j) => Value::from_json(j, aty).map_err(|e| format!("{name}: {e}"))?,
                        None => Value::Null,
                    };
                    out.insert(name.clone(), v);
                }
                Value::Map(out)
            }
            (other, ty) => {
                return Err(format!(
                    "expected {}, found {}",
                    ty.friendly_name(),
                    json_kind(other)
                ))
            }
        })
    }

    /// Decodes a typed model (serde) from this value; unknown values read as null.
    pub fn decode<T: serde::de::DeserializeOwned>(&self) -> Result<T, Diagnostics> {
        serde_json::from_value(self.to_json()).map_err(|e| {
            Diagnostics::from_error("Provider could not read its own data", e.to_string())
        })
    }

    /// Encodes a typed model (serde) as a value of type `ty`.
    pub fn encode<T: serde::Serialize>(model: &T, ty: &Type) -> Result<Value, Diagnostics> {
        let json = serde_json::to_value(model).map_err(|e| {
            Diagnostics::from_error("Provider could not encode its state", e.to_string())
        })?;
        Value::from_json(&json, ty)
            .map_err(|e| Diagnostics::from_error("Provider produced a value of the wrong type", e))
    }
}

fn number_to_json(n: f64) -> serde_json::Value {
    if n.fract() == 0.0 && n.abs() < 9.007_199_254_740_992e15 {
        // Exact integers print without a fraction, as Terraform shows them.
        serde_json::Value::from(n as i64)
    } else {
        serde_json::Number::from_f64(n).map_or(serde_json::Value::Null, serde_json::Value::Number)
    }
}

fn json_kind(j: &serde_json::Value) -> &'static str {
    match j {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "bool",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<f64> for Value {
    fn from(n: f64) -> Self {
        Value::Number(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trip_follows_the_type() {
        let ty = Type::Object(BTreeMap::from([
            ("n".to_string(), Type::Number),
            ("tags".to_string(), Type::map(Type::String)),
            ("missing".to_string(), Type::String),
        ]));
        let json = serde_json::json!({"n": 3, "tags": {"a": "b"}});
        let v = Value::from_json(&json, &ty).expect("decodes");
        assert_eq!(v.get("n"), &Value::Number(3.0));
        assert_eq!(v.get("tags").get("a"), &Value::from("b"));
        assert!(v.get("missing").is_null());
        assert_eq!(
            v.to_json(),
            serde_json::json!({"n": 3, "tags": {"a": "b"}, "missing": null})
        );
    }

    #[test]
    fn wrong_json_type_names_the_attribute() {
        let ty = Type::Object(BTreeMap::from([("n".to_string(), Type::Number)]));
        let err = Value::from_json(&serde_json::json!({"n": [1]}), &ty).expect_err("rejects");
        assert_eq!(err, "n: expected number, found array");
    }

    #[test]
    fn unknown_is_not_wholly_known() {
        let v = Value::List(vec![Value::from("a"), Value::Unknown]);
        assert!(!v.is_wholly_known());
        assert_eq!(v.to_json(), serde_json::json!(["a", null]));
    }
}
