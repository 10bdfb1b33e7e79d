//! `bbb_fleet`'s schema: attributes, nested object types and the local validators.

use tfplugin_framework::timeouts::{self, positive_duration, Op};
use tfplugin_framework::validators::{
    at_least, at_most, greater_than, http_url, matches, not_blank, whole_number, Validator,
};
use tfplugin_framework::{
    AttrPath, Attribute, Block, Diagnostics, NestedBlock, Nesting, Schema, Type, Value,
};

use super::{DEFAULT_HEARTBEAT, DEFAULT_MAX_WAIT, DEFAULT_TEMPLATE, DEFAULT_TTL, PLACEHOLDER};

pub(crate) fn domain_name() -> impl Validator {
    matches(
        r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$",
        "a lowercase DNS name without trailing dot, such as bbb.example.org",
    )
}

pub(crate) fn template_validator() -> impl Validator {
    |path: &AttrPath, value: &Value, diags: &mut Diagnostics| {
        let Some(s) = value.as_str() else { return };
        // One DNS label: lowercase letters, digits and hyphens around the placeholder.
        let ok_label = s
            .replacen(PLACEHOLDER, "", 1)
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if s.matches(PLACEHOLDER).count() != 1 || !ok_label {
            diags.error_at(
                path.clone(),
                format!("Invalid value for {path}"),
                format!("{path} must be one DNS label containing {{instance_id}} once, such as \"bbb-{{instance_id}}\"; got {s:?}."),
            );
        }
    }
}

fn hook_name_validator() -> impl Validator {
    matches(
        r"^[A-Za-z0-9_./-]{1,255}$",
        "1-255 letters, digits, dot, dash, underscore or slash",
    )
}

fn heartbeat(name: &str, default: f64, what: &str) -> Attribute {
    Attribute::number(name)
        .default(default)
        .validate(whole_number())
        .validate(at_least(30.0))
        .validate(at_most(7200.0))
        .description(what)
}

fn instance_type() -> Type {
    let s = |n: &str| (n.to_string(), Type::String);
    Type::Object(
        [
            s("instance_id"),
            s("lifecycle_state"),
            s("health_status"),
            ("protected_from_scale_in".to_string(), Type::Bool),
            s("availability_zone"),
            s("private_ip"),
            s("public_ip"),
            s("dns_name"),
            s("scalelite_server_id"),
            s("scalelite_state"),
        ]
        .into_iter()
        .collect(),
    )
}

fn orphan_record_type() -> Type {
    Type::Object(
        [
            ("name".to_string(), Type::String),
            ("instance_id".to_string(), Type::String),
            ("ttl".to_string(), Type::Number),
            ("value".to_string(), Type::String),
        ]
        .into_iter()
        .collect(),
    )
}

fn orphan_server_type() -> Type {
    Type::Object(
        [
            ("id".to_string(), Type::String),
            ("url".to_string(), Type::String),
            ("instance_id".to_string(), Type::String),
        ]
        .into_iter()
        .collect(),
    )
}

/// The resource's schema.
pub(super) fn schema() -> Schema {
    let drain = Block::new()
        .description("Draining on termination: the terminating lifecycle hook that waits for the last meeting.")
        .attribute(
            Attribute::string("lifecycle_hook_name")
                .optional()
                .validate(hook_name_validator())
                .description("Name of the terminating lifecycle hook (default `bbb-<name>-terminating`)."),
        )
        .attribute(heartbeat("heartbeat_timeout", DEFAULT_HEARTBEAT, "Heartbeat timeout of the terminating hook in seconds (30 to 7200); the hook records a heartbeat while meetings run. On timeout termination goes on (CONTINUE)."))
        .attribute(
            Attribute::string("max_wait")
                .default(DEFAULT_MAX_WAIT)
                .validate(positive_duration())
                .description("Longest wait for the last meeting to end before termination goes on, e.g. `4h`. At most the terminating hook's global timeout, min(48h, 100 x `heartbeat_timeout`), minus the 5 minutes the drain needs after it and the minute it may take to notice the termination; the AMI derives its systemd stop timeouts from it."),
        );
    Schema::new(
        Block::new()
            .description("A fleet of BBB servers: an Auto Scaling group, its per-instance Route53 A records and Scalelite registrations (made by the on-instance hook), and the lifecycle hooks that hook completes. Import with `<autoscaling_group_name>/<name>`.")
            .attribute(Attribute::string("id").computed().use_state_for_unknown().description("`<autoscaling_group_name>/<name>`."))
            .attribute(
                Attribute::string("name")
                    .required()
                    .requires_replace()
                    .validate(matches(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$", "1-128 letters, digits, dot, dash or underscore, starting with a letter or digit"))
                    .description("Name of the fleet."),
            )
            .attribute(Attribute::string("autoscaling_group_name").required().requires_replace().validate(not_blank()).description("The Auto Scaling group of the fleet's BBB servers. Left alone on destroy."))
            .attribute(
                Attribute::string("hosted_zone_id")
                    .required()
                    .validate(matches(r"^(/hostedzone/)?[0-9A-Z]{1,32}$", "a Route53 hosted zone ID such as Z0123456789ABCDEFGHIJ"))
                    .description("Route53 hosted zone holding the per-instance records."),
            )
            .attribute(Attribute::string("domain").required().validate(domain_name()).description("Domain of the per-instance records, e.g. `bbb.example.org`."))
            .attribute(
                Attribute::string("record_name_template")
                    .default(DEFAULT_TEMPLATE)
                    .validate(template_validator())
                    .description("Record name of each server under `domain`; `{instance_id}` is replaced by the EC2 instance ID."),
            )
            .attribute(
                Attribute::number("record_ttl")
                    .default(DEFAULT_TTL)
                    .validate(whole_number())
                    .validate(at_least(10.0))
                    .validate(at_most(86400.0))
                    .description("TTL in seconds of the per-instance records (10 to 86400)."),
            )
            .attribute(Attribute::string("scalelite_url").optional().validate(http_url()).description("Scalelite URL the servers register with, when it differs from the provider's (e.g. an internal URL)."))
            .attribute(Attribute::string("scalelite_tag").optional().validate(not_blank()).description("Scalelite tag of the fleet's servers; orphaned servers are only those with this tag when set."))
            .attribute(Attribute::number("load_multiplier").default(1.0).validate(greater_than(0.0)).description("Scalelite load multiplier of the fleet's servers."))
            .attribute(
                Attribute::string("scalelite_secret_parameter")
                    .required()
                    .validate(matches(r"^(/[A-Za-z0-9_.-]+)+$|^[A-Za-z0-9_.-]+$", "an SSM parameter name such as /bbb/prod/scalelite-secret"))
                    .description("Name of the SSM SecureString parameter the hook reads Scalelite's secret from (a name, never the secret)."),
            )
            .attribute(Attribute::bool("protect_live_meetings").default(true).description("The hook sets scale-in protection on servers while they host meetings or process recordings, and, with consolidation (the default), while Scalelite can route a new meeting to them: the group then only scales in servers consolidation has cordoned and emptied. Set the group's `protect_from_scale_in` (`aws_autoscaling_group`) to the same value, as `modules/fleet` does: a new server is then protected from the moment it enters service, and the hook keeps or lifts that protection."))
            .attribute(
                Attribute::string("launch_hook_name")
                    .optional()
                    .computed()
                    .validate(hook_name_validator())
                    .description("Name of the launching lifecycle hook (default `bbb-<name>-launching`). On timeout the launch is abandoned (ABANDON), so a broken server never serves."),
            )
            .attribute(heartbeat("launch_heartbeat_timeout", DEFAULT_HEARTBEAT, "Heartbeat timeout of the launching hook in seconds (30 to 7200)."))
            .attribute(Attribute::string("terminating_hook_name").computed().description("Name of the terminating lifecycle hook in use."))
            .attribute(Attribute::string("hook_config").computed().description("JSON configuration document of the on-instance hook (no secret)."))
            .attribute(Attribute::new("instances", Type::list(instance_type())).computed().description("The group's instances with their record name and Scalelite registration."))
            .attribute(
                Attribute::new("orphaned_records", Type::list(orphan_record_type()))
                    .computed()
                    .description("A records of the fleet's naming scheme that carry this group's ownership mark (a TXT record `\"heritage=bbb-fleet,bbb-fleet/owner=<group>\"` the hook writes next to its A record) and whose instance is gone (not in the group, and terminated or unknown to EC2); apply deletes them with their marks. Names of another fleet (another mark), of a detached or warm-pool instance, or without a mark (written by a hook older than the mark, or by hand) are never deleted; unmarked ones are reported in a warning."),
            )
            .attribute(
                Attribute::new("orphaned_servers", Type::list(orphan_server_type()))
                    .computed()
                    .description("Scalelite servers of the fleet's naming scheme (and tag) whose host name carries this group's ownership mark and whose instance is gone; apply removes them. Not looked for while Scalelite does not answer (the refresh then warns and keeps the instances' last known registrations)."),
            )
            .attribute(
                Attribute::new("retired_hook_names", Type::list(Type::String))
                    .computed()
                    .description("Terminating lifecycle hooks replaced by a rename of `drain.lifecycle_hook_name`, kept while instances still wait in `Terminating:Wait`: deleting a hook completes its waiting actions, which would terminate a draining server mid-meeting. The first apply after no instance waits deletes them. (A renamed launching hook is deleted at once.)"),
            )
            .block(NestedBlock::new("drain", Nesting::Single, drain))
            .block(timeouts::block(&[(
                Op::Delete,
                "`drain.max_wait` plus 5 minutes: a destroy first waits until no instance is in `Terminating:Wait` or `Pending:Wait`, then deletes the hooks",
            )])),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_must_hold_the_placeholder_once() {
        let check = |s: &str| {
            let mut d = Diagnostics::new();
            template_validator().validate(
                &AttrPath::attr("record_name_template"),
                &Value::from(s),
                &mut d,
            );
            d.has_errors()
        };
        assert!(!check("bbb-{instance_id}"));
        assert!(check("bbb"));
        assert!(check("{instance_id}-{instance_id}"));
        assert!(check("a.{instance_id}"));
    }
}
