//! Resource identity (protocol 6.9+, Terraform 1.12+): the few attributes that name a remote
//! object, stored by Terraform next to the state, used by `import` blocks (`identity = {...}`)
//! and by list resources (`terraform query`).
//!
//! Terraform's rules (terraform-plugin-framework's): the identity is answered with every read,
//! plan, apply and import; once known it must not change for the object (Terraform reports an
//! error when a read or update answers another one), so it holds only what cannot change in
//! place. A state written before the provider had identities gets one at its next read.

use std::collections::BTreeMap;

use tfplugin_proto::tfplugin6 as pb;

use crate::diagnostics::Diagnostics;
use crate::types::Type;
use crate::value::Value;

/// One attribute of an identity.
#[derive(Clone, Debug)]
pub struct IdentityAttribute {
    pub name: String,
    pub ty: Type,
    /// Must be given in an `import` block's `identity`.
    pub required_for_import: bool,
    pub description: String,
}

/// A resource type's identity schema.
#[derive(Clone, Debug, Default)]
pub struct IdentitySchema {
    pub version: i64,
    pub attributes: Vec<IdentityAttribute>,
}

impl IdentitySchema {
    pub fn new() -> Self {
        Self::default()
    }

    /// An attribute an `import` block must set.
    pub fn required(self, name: &str, ty: Type, description: &str) -> Self {
        self.attribute(name, ty, true, description)
    }

    /// An attribute an `import` block may leave out (the provider fills it, e.g. a region).
    pub fn optional(self, name: &str, ty: Type, description: &str) -> Self {
        self.attribute(name, ty, false, description)
    }

    fn attribute(mut self, name: &str, ty: Type, required: bool, description: &str) -> Self {
        self.attributes.push(IdentityAttribute {
            name: name.to_string(),
            ty,
            required_for_import: required,
            description: description.to_string(),
        });
        self
    }

    /// The identity's object type.
    pub fn ty(&self) -> Type {
        Type::Object(
            self.attributes
                .iter()
                .map(|a| (a.name.clone(), a.ty.clone()))
                .collect::<BTreeMap<_, _>>(),
        )
    }

    pub fn to_proto(&self) -> pb::ResourceIdentitySchema {
        use pb::resource_identity_schema::IdentityAttribute as Attr;
        pb::ResourceIdentitySchema {
            version: self.version,
            identity_attributes: self
                .attributes
                .iter()
                .map(|a| Attr {
                    name: a.name.clone(),
                    r#type: a.ty.to_json().to_string().into_bytes(),
                    required_for_import: a.required_for_import,
                    optional_for_import: !a.required_for_import,
                    description: a.description.clone(),
                })
                .collect(),
        }
    }

    /// Checks an identity given to import: every required attribute set, as a diagnostic
    /// naming the attribute.
    pub fn check_import(&self, type_name: &str, identity: &Value) -> Result<(), Diagnostics> {
        let mut diags = Diagnostics::new();
        for a in self.attributes.iter().filter(|a| a.required_for_import) {
            if identity.get(&a.name).is_null() {
                diags.error(
                    "Incomplete resource identity",
                    format!(
                        "Importing {type_name} by identity needs identity.{}: {}",
                        a.name, a.description
                    ),
                );
            }
        }
        if diags.has_errors() {
            Err(diags)
        } else {
            Ok(())
        }
    }
}

/// Builds an identity value from `(attribute, value)` pairs.
pub fn identity_value<'a>(pairs: impl IntoIterator<Item = (&'a str, Value)>) -> Value {
    Value::Map(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> IdentitySchema {
        IdentitySchema::new()
            .required("url", Type::String, "The server's URL.")
            .optional("region", Type::String, "The region.")
    }

    #[test]
    fn proto_marks_required_and_optional_attributes() {
        let p = schema().to_proto();
        let url = &p.identity_attributes[0];
        assert_eq!(url.name, "url");
        assert!(url.required_for_import && !url.optional_for_import);
        assert_eq!(url.r#type, b"\"string\"");
        let region = &p.identity_attributes[1];
        assert!(!region.required_for_import && region.optional_for_import);
    }

    #[test]
    fn import_needs_every_required_attribute() {
        let s = schema();
        let ok = identity_value([("url", Value::string("https://a"))]);
        assert!(s.check_import("t", &ok).is_ok());
        let missing = identity_value([("region", Value::string("eu-west-1"))]);
        let err = s.check_import("t", &missing).unwrap_err();
        let text = format!("{:?}", err.to_proto());
        assert!(text.contains("identity.url"), "{text}");
    }
}
