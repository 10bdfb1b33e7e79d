//! Auto Scaling behaviour moto lacks, shared by the test endpoints in front of it (the hook
//! tests' [`super::LifecycleStub`] and the sandbox's Auto Scaling endpoint): the lifecycle states
//! an instance shows while a lifecycle hook holds it, and the refusal of `SetInstanceProtection`
//! for an instance that is not in service.
//!
//! `SetInstanceProtection` is refused by AWS for an instance that is not `InService`,
//! `EnteringStandby` or `Standby`: HTTP 400, `ValidationError`, "The instance i-… is not in
//! InService or EnteringStandby or Standby." Public reports show it for an instance held in
//! `Pending:Wait` by a launching lifecycle hook (infrahouse/infrahouse-toolkit issue #223) and for
//! instances being terminated (guardian/riff-raff PR #510); the EC2 Auto Scaling user guide says
//! "Instance scale-in protection starts when the instance state is InService". moto accepts the
//! call in any state, so the endpoints refuse it themselves ([`protection_refusal`]).

use std::collections::BTreeMap;

/// AWS's message refusing `SetInstanceProtection` for `instance_id` (with `ValidationError`,
/// HTTP 400; see the module documentation).
pub fn not_in_service_message(instance_id: &str) -> String {
    format!("The instance {instance_id} is not in InService or EnteringStandby or Standby.")
}

/// The `InstanceIds.member.N` of a Query API request's form `pairs`, in the order of `N`.
pub fn instance_ids<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Vec<String> {
    let by_n: BTreeMap<u32, String> = pairs
        .into_iter()
        .filter_map(|(k, v)| {
            let n = k.strip_prefix("InstanceIds.member.")?.parse().ok()?;
            Some((n, v.to_owned()))
        })
        .collect();
    by_n.into_values().collect()
}

/// The instance for which a `SetInstanceProtection` naming `instance_ids` (in request order)
/// is refused: the first one `state` reports in a lifecycle state other than `InService`,
/// `EnteringStandby` or `Standby` (AWS names the first offending instance). `state` answers
/// `None` for an instance whose state the endpoint leaves to moto (in service there). Refused
/// whatever `ProtectedFromScaleIn` asks: AWS's message is about the instance's state (the public
/// reports are of calls setting it).
pub fn protection_refusal(
    instance_ids: &[String],
    state: impl Fn(&str) -> Option<&'static str>,
) -> Option<&str> {
    instance_ids
        .iter()
        .map(String::as_str)
        .find(|id| state(id).is_some_and(|s| !accepts_protection(s)))
}

/// Whether AWS lets `SetInstanceProtection` change an instance in lifecycle state `state`.
fn accepts_protection(state: &str) -> bool {
    matches!(state, "InService" | "EnteringStandby" | "Standby")
}

/// Rewrites the `LifecycleState` of each instance member of a `DescribeAutoScalingGroups` or
/// `DescribeAutoScalingInstances` document for which `state` has one; every other byte is kept.
pub fn with_lifecycle_states(xml: &str, state: impl Fn(&str) -> Option<&'static str>) -> String {
    let mut out = String::with_capacity(xml.len());
    let mut rest = xml;
    // Instance members hold no nested members: each runs from <member> to the next </member>.
    while let Some(start) = rest.find("<member>") {
        let Some(len) = rest[start..].find("</member>") else {
            break;
        };
        let end = start + len;
        let member = &rest[start..end];
        if member[8..].contains("<member>") {
            // An outer member (the group): copy its opening and look inside.
            out.push_str(&rest[..start + 8]);
            rest = &rest[start + 8..];
            continue;
        }
        out.push_str(&rest[..start]);
        let id = between(member, "<InstanceId>", "</InstanceId>");
        match (
            id.and_then(&state),
            between(member, "<LifecycleState>", "</LifecycleState>"),
        ) {
            (Some(new), Some(old)) => out.push_str(&member.replacen(
                &format!("<LifecycleState>{old}</LifecycleState>"),
                &format!("<LifecycleState>{new}</LifecycleState>"),
                1,
            )),
            _ => out.push_str(member),
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

fn between<'a>(text: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let from = text.find(open)? + open.len();
    let to = text[from..].find(close)? + from;
    Some(&text[from..to])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_held_instances_state_is_rewritten() {
        let xml = "<DescribeAutoScalingGroupsResult><AutoScalingGroups><member><AutoScalingGroupName>g</AutoScalingGroupName>\
<AvailabilityZones><member>us-east-1a</member></AvailabilityZones><Instances>\
<member><InstanceId>i-1</InstanceId><LifecycleState>InService</LifecycleState></member>\
<member><InstanceId>i-2</InstanceId><LifecycleState>InService</LifecycleState></member>\
</Instances></member></AutoScalingGroups></DescribeAutoScalingGroupsResult>";
        let out = with_lifecycle_states(xml, |id| (id == "i-2").then_some("Terminating:Wait"));
        assert_eq!(
            out,
            xml.replace(
                "<InstanceId>i-2</InstanceId><LifecycleState>InService</LifecycleState>",
                "<InstanceId>i-2</InstanceId><LifecycleState>Terminating:Wait</LifecycleState>"
            )
        );
        assert_eq!(with_lifecycle_states(xml, |_| None), xml);
    }

    #[test]
    fn instance_details_are_rewritten_too() {
        // DescribeAutoScalingInstances: one flat member per instance, a launch template inside.
        let xml = "<AutoScalingInstances><member><AutoScalingGroupName>g</AutoScalingGroupName>\
<InstanceId>i-1</InstanceId><LaunchTemplate><LaunchTemplateName>lt</LaunchTemplateName></LaunchTemplate>\
<LifecycleState>InService</LifecycleState><ProtectedFromScaleIn>false</ProtectedFromScaleIn></member>\
</AutoScalingInstances>";
        let out = with_lifecycle_states(xml, |id| (id == "i-1").then_some("Pending:Wait"));
        assert_eq!(
            out,
            xml.replace(
                "<LifecycleState>InService<",
                "<LifecycleState>Pending:Wait<"
            )
        );
    }

    #[test]
    fn instance_ids_follow_the_member_numbers() {
        let form = [
            ("Action", "SetInstanceProtection"),
            ("InstanceIds.member.10", "i-10"),
            ("InstanceIds.member.2", "i-2"),
            ("InstanceIds.member.1", "i-1"),
            ("InstanceIds.member.x", "i-x"),
            ("ProtectedFromScaleIn", "true"),
        ];
        assert_eq!(instance_ids(form), ["i-1", "i-2", "i-10"]);
    }

    #[test]
    fn protection_is_refused_for_the_first_instance_out_of_service() {
        let ids: Vec<String> = ["i-1", "i-2", "i-3"].map(String::from).to_vec();
        let state = |id: &str| match id {
            "i-1" => Some("InService"),
            "i-2" => Some("Terminating:Wait"),
            "i-3" => Some("Pending:Wait"),
            _ => None,
        };
        assert_eq!(protection_refusal(&ids, state), Some("i-2"));
        assert_eq!(protection_refusal(&ids[..1], state), None);
        assert_eq!(protection_refusal(&ids, |_| None), None);
        for ok in ["InService", "EnteringStandby", "Standby"] {
            assert_eq!(protection_refusal(&ids, |_| Some(ok)), None, "{ok}");
        }
        for refused in [
            "Pending",
            "Pending:Wait",
            "Pending:Proceed",
            "Terminating",
            "Terminating:Proceed",
        ] {
            assert_eq!(
                protection_refusal(&ids, |_| Some(refused)),
                Some("i-1"),
                "{refused}"
            );
        }
        assert_eq!(
            not_in_service_message("i-0123"),
            "The instance i-0123 is not in InService or EnteringStandby or Standby."
        );
    }
}
