//! Terraform's type system (cty types) as far as schemas use it.

use std::collections::BTreeMap;

/// A Terraform value type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Type {
    Bool,
    Number,
    String,
    List(Box<Type>),
    Set(Box<Type>),
    Map(Box<Type>),
    Object(BTreeMap<String, Type>),
}

impl Type {
    pub fn list(element: Type) -> Self {
        Type::List(Box::new(element))
    }

    pub fn set(element: Type) -> Self {
        Type::Set(Box::new(element))
    }

    pub fn map(element: Type) -> Self {
        Type::Map(Box::new(element))
    }

    /// The type's JSON form, as the protocol's `Schema.Attribute.type` carries it.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::json;
        match self {
            Type::Bool => json!("bool"),
            Type::Number => json!("number"),
            Type::String => json!("string"),
            Type::List(e) => json!(["list", e.to_json()]),
            Type::Set(e) => json!(["set", e.to_json()]),
            Type::Map(e) => json!(["map", e.to_json()]),
            Type::Object(attrs) => {
                let attrs: serde_json::Map<String, serde_json::Value> = attrs
                    .iter()
                    .map(|(k, t)| (k.clone(), t.to_json()))
                    .collect();
                json!(["object", attrs])
            }
        }
    }

    /// Human-readable name for diagnostics, in Terraform's own words.
    pub fn friendly_name(&self) -> String {
        match self {
            Type::Bool => "bool".into(),
            Type::Number => "number".into(),
            Type::String => "string".into(),
            Type::List(e) => format!("list of {}", e.friendly_name()),
            Type::Set(e) => format!("set of {}", e.friendly_name()),
            Type::Map(e) => format!("map of {}", e.friendly_name()),
            Type::Object(_) => "object".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_encoding_matches_terraform() {
        let obj = Type::Object(BTreeMap::from([
            ("a".to_string(), Type::String),
            ("b".to_string(), Type::list(Type::Number)),
        ]));
        assert_eq!(
            serde_json::to_string(&obj.to_json()).ok().as_deref(),
            Some(r#"["object",{"a":"string","b":["list","number"]}]"#)
        );
        assert_eq!(
            Type::set(Type::Bool).to_json().to_string(),
            r#"["set","bool"]"#
        );
        assert_eq!(
            Type::map(Type::String).to_json().to_string(),
            r#"["map","string"]"#
        );
    }
}
