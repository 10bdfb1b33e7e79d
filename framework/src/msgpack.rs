//! The msgpack encoding of `DynamicValue`, guided by the schema type.
//!
//! Unknown values travel as msgpack extension type 0; refined unknowns (Terraform 1.6+) as
//! extension type 12. Both decode to [`Value::Unknown`]; unknowns are sent as extension 0.

use std::collections::BTreeMap;

use rmpv::Value as Mp;

use super::types::Type;
use super::value::Value;

const UNKNOWN_EXT: i8 = 0;
const REFINED_UNKNOWN_EXT: i8 = 12;

#[derive(Debug, thiserror::Error)]
pub enum MsgpackError {
    #[error("malformed msgpack: {0}")]
    Malformed(String),
    #[error("{path}: expected {expected}, found {found}")]
    Type {
        path: String,
        expected: String,
        found: String,
    },
}

pub fn decode(bytes: &[u8], ty: &Type) -> Result<Value, MsgpackError> {
    if bytes.is_empty() {
        return Ok(Value::Null);
    }
    let mut cursor = bytes;
    let mp = rmpv::decode::read_value(&mut cursor)
        .map_err(|e| MsgpackError::Malformed(e.to_string()))?;
    from_mp(&mp, ty, "value")
}

pub fn encode(value: &Value, ty: &Type) -> Vec<u8> {
    let mut out = Vec::with_capacity(128);
    // Writing into a Vec cannot fail.
    let _ = rmpv::encode::write_value(&mut out, &to_mp(value, ty));
    out
}

fn mismatch(path: &str, ty: &Type, found: &Mp) -> MsgpackError {
    MsgpackError::Type {
        path: path.to_string(),
        expected: ty.friendly_name(),
        found: kind(found).to_string(),
    }
}

fn kind(mp: &Mp) -> &'static str {
    match mp {
        Mp::Nil => "null",
        Mp::Boolean(_) => "bool",
        Mp::Integer(_) | Mp::F32(_) | Mp::F64(_) => "number",
        Mp::String(_) => "string",
        Mp::Binary(_) => "binary",
        Mp::Array(_) => "array",
        Mp::Map(_) => "map",
        Mp::Ext(..) => "extension",
    }
}

fn from_mp(mp: &Mp, ty: &Type, path: &str) -> Result<Value, MsgpackError> {
    match mp {
        Mp::Nil => return Ok(Value::Null),
        Mp::Ext(UNKNOWN_EXT | REFINED_UNKNOWN_EXT, _) => return Ok(Value::Unknown),
        _ => {}
    }
    Ok(match ty {
        Type::Bool => Value::Bool(mp.as_bool().ok_or_else(|| mismatch(path, ty, mp))?),
        Type::Number => Value::Number(number(mp).ok_or_else(|| mismatch(path, ty, mp))?),
        Type::String => Value::String(
            mp.as_str()
                .ok_or_else(|| mismatch(path, ty, mp))?
                .to_string(),
        ),
        Type::List(e) | Type::Set(e) => {
            let items = mp.as_array().ok_or_else(|| mismatch(path, ty, mp))?;
            Value::List(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| from_mp(item, e, &format!("{path}[{i}]")))
                    .collect::<Result<_, _>>()?,
            )
        }
        Type::Map(e) => {
            let mut out = BTreeMap::new();
            for (k, v) in mp.as_map().ok_or_else(|| mismatch(path, ty, mp))? {
                let key = k.as_str().ok_or_else(|| mismatch(path, ty, mp))?;
                out.insert(key.to_string(), from_mp(v, e, &format!("{path}[{key:?}]"))?);
            }
            Value::Map(out)
        }
        Type::Object(attrs) => {
            let entries = mp.as_map().ok_or_else(|| mismatch(path, ty, mp))?;
            let mut out: BTreeMap<String, Value> =
                attrs.keys().map(|k| (k.clone(), Value::Null)).collect();
            for (k, v) in entries {
                let Some(key) = k.as_str() else { continue };
                if let Some(aty) = attrs.get(key) {
                    out.insert(key.to_string(), from_mp(v, aty, &format!("{path}.{key}"))?);
                }
            }
            Value::Map(out)
        }
    })
}

fn number(mp: &Mp) -> Option<f64> {
    match mp {
        Mp::Integer(i) => i
            .as_i64()
            .map(|v| v as f64)
            .or_else(|| i.as_u64().map(|v| v as f64)),
        Mp::F32(f) => Some(f64::from(*f)),
        Mp::F64(f) => Some(*f),
        // Numbers too precise for float64 travel as strings.
        Mp::String(s) => s.as_str().and_then(|s| s.parse().ok()),
        _ => None,
    }
}

fn to_mp(value: &Value, ty: &Type) -> Mp {
    match value {
        Value::Null => Mp::Nil,
        Value::Unknown => Mp::Ext(UNKNOWN_EXT, vec![0]),
        Value::Bool(b) => Mp::Boolean(*b),
        Value::Number(n) => {
            if n.fract() == 0.0 && n.abs() < 9.2e18 {
                Mp::from(*n as i64)
            } else {
                Mp::F64(*n)
            }
        }
        Value::String(s) => Mp::from(s.as_str()),
        Value::List(items) => {
            let ety = match ty {
                Type::List(e) | Type::Set(e) => e.as_ref(),
                _ => &Type::String,
            };
            Mp::Array(items.iter().map(|i| to_mp(i, ety)).collect())
        }
        Value::Map(items) => match ty {
            Type::Object(attrs) => Mp::Map(
                attrs
                    .iter()
                    .map(|(k, aty)| {
                        (
                            Mp::from(k.as_str()),
                            to_mp(items.get(k).unwrap_or(&Value::Null), aty),
                        )
                    })
                    .collect(),
            ),
            Type::Map(e) => Mp::Map(
                items
                    .iter()
                    .map(|(k, v)| (Mp::from(k.as_str()), to_mp(v, e)))
                    .collect(),
            ),
            _ => Mp::Nil,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj() -> Type {
        Type::Object(BTreeMap::from([
            ("id".to_string(), Type::String),
            ("n".to_string(), Type::Number),
            ("tags".to_string(), Type::map(Type::String)),
            ("ports".to_string(), Type::list(Type::Number)),
        ]))
    }

    #[test]
    fn unknown_is_extension_zero() {
        let bytes = encode(&Value::Unknown, &Type::String);
        assert_eq!(bytes, vec![0xd4, 0x00, 0x00]);
        assert_eq!(decode(&bytes, &Type::String).ok(), Some(Value::Unknown));
    }

    #[test]
    fn refined_unknown_decodes_as_unknown() {
        // fixext1, type 12, one payload byte, as Terraform sends refined unknowns.
        assert_eq!(
            decode(&[0xd4, 0x0c, 0x01], &Type::String).ok(),
            Some(Value::Unknown)
        );
    }

    #[test]
    fn object_round_trip_keeps_every_attribute() {
        let mut v = Value::Null;
        v.set("id", Value::Unknown);
        v.set("n", Value::Number(2.5));
        v.set("ports", Value::List(vec![Value::Number(443.0)]));
        let bytes = encode(&v, &obj());
        let back = decode(&bytes, &obj()).expect("decodes");
        assert_eq!(back.get("id"), &Value::Unknown);
        assert_eq!(back.get("n"), &Value::Number(2.5));
        assert!(back.get("tags").is_null());
        assert_eq!(back.get("ports"), &Value::List(vec![Value::Number(443.0)]));
    }

    #[test]
    fn type_mismatch_names_the_path() {
        let mut cursor = Vec::new();
        let _ =
            rmpv::encode::write_value(&mut cursor, &Mp::Map(vec![(Mp::from("n"), Mp::from("x"))]));
        let err = decode(&cursor, &obj()).expect_err("rejects");
        assert_eq!(err.to_string(), "value.n: expected number, found string");
    }

    #[test]
    fn big_numbers_arrive_as_strings() {
        let mut buf = Vec::new();
        let _ = rmpv::encode::write_value(&mut buf, &Mp::from("12345678901234567890"));
        assert_eq!(
            decode(&buf, &Type::Number).ok(),
            Some(Value::Number(12_345_678_901_234_567_890.0))
        );
    }
}
