//! `bbb_fleet`'s resource identity: its Auto Scaling group and its name, the two parts of its
//! import ID, both replaced rather than changed in place. The region and account are the
//! provider configuration's (one provider block reaches one), as for terraform-provider-aws's
//! resources configured per provider.

use tfplugin_framework::{identity_value, Diagnostics, IdentitySchema, Type, Value};

pub(super) fn schema() -> IdentitySchema {
    IdentitySchema::new()
        .required(
            "autoscaling_group_name",
            Type::String,
            "The fleet's Auto Scaling group.",
        )
        .required("name", Type::String, "The fleet's name.")
}

pub(super) fn of(state: &Value) -> Option<Value> {
    let asg = state.get("autoscaling_group_name").as_str()?;
    let name = state.get("name").as_str()?;
    Some(identity_value([
        ("autoscaling_group_name", Value::string(asg)),
        ("name", Value::string(name)),
    ]))
}

/// The import ID (`<autoscaling_group_name>/<name>`) an identity names.
pub(super) fn import_id(identity: &Value) -> Result<String, Diagnostics> {
    match (
        identity.get("autoscaling_group_name").as_str(),
        identity.get("name").as_str(),
    ) {
        (Some(asg), Some(name)) if !asg.is_empty() && !name.is_empty() => {
            Ok(format!("{asg}/{name}"))
        }
        _ => Err(Diagnostics::from_error(
            "Invalid identity",
            "identity.autoscaling_group_name and identity.name must both be set and not empty.",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_is_the_group_and_name_and_gives_the_import_id() {
        let mut state = Value::Null;
        state.set("autoscaling_group_name", Value::string("bbb-asg"));
        state.set("name", Value::string("main"));
        state.set("domain", Value::string("bbb.example.org"));
        let id = of(&state).expect("identity");
        assert_eq!(id.get("autoscaling_group_name").as_str(), Some("bbb-asg"));
        assert_eq!(id.get("domain"), &Value::Null);
        assert_eq!(import_id(&id).expect("id"), "bbb-asg/main");
        let half = identity_value([("name", Value::string("main"))]);
        assert!(import_id(&half).is_err());
    }
}
