//! `instance_record_name(instance_id, domain, record_name_template)`: the DNS name `bbb_fleet`
//! and the hook give an instance, `<template with {instance_id}>.<domain>` in lower case
//! (`resources/fleet/naming.rs`).

use tfplugin_framework::{Args, Function, FunctionError, Parameter, Signature, Type, Value};

use super::check;
use crate::resources::fleet::{domain_name, template_validator, Naming, DEFAULT_TEMPLATE};

pub struct InstanceRecordName;

impl Function for InstanceRecordName {
    fn name(&self) -> &'static str {
        "instance_record_name"
    }

    fn signature(&self) -> Signature {
        Signature {
            parameters: vec![
                Parameter::new("instance_id", Type::String, "The EC2 instance ID, e.g. `i-0123456789abcdef0`."),
                Parameter::new("domain", Type::String, "The fleet's `domain`, e.g. `bbb.example.org`."),
                Parameter::new("record_name_template", Type::String, "The fleet's `record_name_template`; `null` for its default `bbb-{instance_id}`.").nullable(),
            ],
            returns: Type::String,
            summary: "DNS record name of a fleet instance".into(),
            description: "The DNS name of an instance under a fleet's record template, as `bbb_fleet` and the on-instance hook name it: `record_name_template` with `{instance_id}` replaced, then `.` and `domain`, in lower case. The server's BBB API URL is `https://<name>/bigbluebutton/api`.".into(),
        }
    }

    fn call(&self, values: &[Value]) -> Result<Value, FunctionError> {
        let sig = self.signature();
        let args = Args::new(&sig.parameters, values);
        check(&args, "domain", domain_name())?;
        check(&args, "record_name_template", template_validator())?;
        let instance_id = args.string("instance_id")?;
        let domain = args.string("domain")?;
        let template = args
            .opt_string("record_name_template")
            .unwrap_or(DEFAULT_TEMPLATE);
        let naming = Naming::new(template, domain).ok_or_else(|| {
            args.error(
                "record_name_template",
                "record_name_template must contain {instance_id} once",
            )
        })?;
        let name = naming.record_name(instance_id);
        // The fleet only recognises names of real instance IDs as its own.
        if naming.instance_of(&name).is_none() {
            return Err(args.error(
                "instance_id",
                format!("instance_id must be an EC2 instance ID such as i-0123456789abcdef0; got {instance_id:?}"),
            ));
        }
        Ok(Value::string(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(id: &str, domain: &str, template: Value) -> Result<Value, FunctionError> {
        InstanceRecordName.call(&[Value::string(id), Value::string(domain), template])
    }

    #[test]
    fn names_as_the_fleet_and_names_bad_arguments() {
        let id = "i-0123456789ABCDEF0";
        assert_eq!(
            call(id, "bbb.example.org", Value::Null),
            Ok(Value::string("bbb-i-0123456789abcdef0.bbb.example.org"))
        );
        assert_eq!(
            call(id, "bbb.example.org", Value::string("{instance_id}-media")),
            Ok(Value::string("i-0123456789abcdef0-media.bbb.example.org"))
        );
        let bad = |r: Result<Value, FunctionError>| r.expect_err("bad").argument;
        assert_eq!(bad(call("web-1", "bbb.example.org", Value::Null)), Some(0));
        assert_eq!(bad(call(id, "BBB..org", Value::Null)), Some(1));
        assert_eq!(
            bad(call(id, "bbb.example.org", Value::string("bbb"))),
            Some(2)
        );
    }
}
