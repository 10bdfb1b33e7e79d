//! EC2 `DescribeInstances` for many instance ids at once: addresses, DNS names, state.

use std::collections::{BTreeMap, HashSet};
use std::net::{Ipv4Addr, Ipv6Addr};

use super::config::AwsClients;
use super::counters::Service;
use super::ec2_query::{child, child_text, children};
use super::error::{AwsError, CallContext};

/// The most instance ids one `DescribeInstances` call is given; longer lists are split.
pub const DESCRIBE_INSTANCES_MAX_IDS: usize = 1000;

/// An EC2 instance as `DescribeInstances` describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ec2Instance {
    pub instance_id: String,
    /// `pending`, `running`, `shutting-down`, `terminated`, `stopping`, `stopped`.
    pub state: String,
    pub instance_type: Option<String>,
    pub image_id: Option<String>,
    pub availability_zone: Option<String>,
    pub subnet_id: Option<String>,
    pub vpc_id: Option<String>,
    pub private_ip: Option<Ipv4Addr>,
    pub public_ip: Option<Ipv4Addr>,
    pub ipv6_address: Option<Ipv6Addr>,
    pub private_dns_name: Option<String>,
    pub public_dns_name: Option<String>,
    /// ISO 8601, as EC2 sends it.
    pub launch_time: Option<String>,
    pub tags: BTreeMap<String, String>,
}

impl AwsClients {
    /// Describes the instances `instance_ids` in as few calls as the API allows (one per
    /// [`DESCRIBE_INSTANCES_MAX_IDS`] ids, plus pages if EC2 paginates). Ids EC2 does not know
    /// (terminated long ago) are left out of the result rather than failing the call. The
    /// result is in the order EC2 returns; duplicates in `instance_ids` are described once.
    pub async fn describe_instances(
        &self,
        instance_ids: &[String],
    ) -> Result<Vec<Ec2Instance>, AwsError> {
        let mut seen = HashSet::new();
        let unique: Vec<&String> = instance_ids
            .iter()
            .filter(|id| seen.insert(id.as_str()))
            .collect();
        let mut out = Vec::with_capacity(unique.len());
        for chunk in unique.chunks(DESCRIBE_INSTANCES_MAX_IDS) {
            let mut ids: Vec<&String> = chunk.to_vec();
            // At most one retry without the ids EC2 reported missing.
            let mut dropped_missing = false;
            let mut next_token: Option<String> = None;
            loop {
                let resource = resource_label(&ids);
                let log = self.begin(Service::Ec2, "DescribeInstances", resource);
                let mut params: Vec<(String, String)> = ids
                    .iter()
                    .enumerate()
                    .map(|(i, id)| (format!("InstanceId.{}", i + 1), (*id).clone()))
                    .collect();
                if let Some(t) = &next_token {
                    params.push(("NextToken".into(), t.clone()));
                }
                let result = match self.ec2.send(&log.ctx, &params).await {
                    Ok(body) => parse_describe_instances(&log.ctx, &body),
                    Err(e) => Err(e),
                };
                let ctx = log.ctx.clone();
                match log.finish(result) {
                    Ok((instances, token)) => {
                        out.extend(instances);
                        match token {
                            Some(t) => next_token = Some(t),
                            None => break,
                        }
                    }
                    Err(e)
                        if e.code() == Some("InvalidInstanceID.NotFound") && !dropped_missing =>
                    {
                        let missing = missing_ids(&e);
                        let before = ids.len();
                        ids.retain(|id| !missing.contains(id.as_str()));
                        if missing.is_empty() || ids.len() == before {
                            return Err(e);
                        }
                        tracing::debug!(
                            service = "ec2",
                            operation = ctx.operation,
                            missing = missing.len(),
                            "describing again without instance ids EC2 does not know"
                        );
                        dropped_missing = true;
                        next_token = None;
                        if ids.is_empty() {
                            break;
                        }
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(out)
    }
}

fn resource_label(ids: &[&String]) -> String {
    match ids {
        [] => "no instances".into(),
        [one] => (*one).clone(),
        [first, ..] => format!("{first} and {} more", ids.len() - 1),
    }
}

/// The instance ids an `InvalidInstanceID.NotFound` message names:
/// `The instance ID 'i-1' does not exist` / `The instance IDs 'i-1, i-2' do not exist`.
fn missing_ids(err: &AwsError) -> HashSet<String> {
    let AwsError::Service { message, .. } = err else {
        return HashSet::new();
    };
    let Some(start) = message.find('\'') else {
        return HashSet::new();
    };
    let rest = &message[start + 1..];
    let Some(end) = rest.find('\'') else {
        return HashSet::new();
    };
    rest[..end]
        .split(',')
        .map(str::trim)
        .filter(|s| s.starts_with("i-"))
        .map(str::to_owned)
        .collect()
}

type Page = (Vec<Ec2Instance>, Option<String>);

/// Parses a `DescribeInstancesResponse`: reservationSet/item/instancesSet/item, and nextToken.
pub(crate) fn parse_describe_instances(ctx: &CallContext, body: &str) -> Result<Page, AwsError> {
    let doc = roxmltree::Document::parse(body)
        .map_err(|e| ctx.invalid(format!("DescribeInstances answer is not XML: {e}")))?;
    let root = doc.root_element();
    if root.tag_name().name() != "DescribeInstancesResponse" {
        return Err(ctx.invalid(format!(
            "expected DescribeInstancesResponse, got {}",
            root.tag_name().name()
        )));
    }
    let mut instances = Vec::new();
    if let Some(reservations) = child(root, "reservationSet") {
        for reservation in children(reservations, "item") {
            let Some(set) = child(reservation, "instancesSet") else {
                continue;
            };
            for item in children(set, "item") {
                instances.push(parse_instance(ctx, item)?);
            }
        }
    }
    let next_token = child_text(root, "nextToken").map(str::to_owned);
    Ok((instances, next_token))
}

fn parse_instance(
    ctx: &CallContext,
    item: roxmltree::Node<'_, '_>,
) -> Result<Ec2Instance, AwsError> {
    let text = |name: &str| child_text(item, name).map(str::to_owned);
    let instance_id =
        text("instanceId").ok_or_else(|| ctx.invalid("an instance has no instanceId"))?;
    let state = child(item, "instanceState")
        .and_then(|s| child_text(s, "name"))
        .unwrap_or("unknown")
        .to_owned();
    let ip = |name: &str| -> Result<Option<Ipv4Addr>, AwsError> {
        child_text(item, name)
            .map(|v| {
                v.parse().map_err(|_| {
                    ctx.invalid(format!(
                        "{instance_id}: {name} {v:?} is not an IPv4 address"
                    ))
                })
            })
            .transpose()
    };
    let ipv6_address = match child_text(item, "ipv6Address") {
        Some(v) => Some(v.parse::<Ipv6Addr>().map_err(|_| {
            ctx.invalid(format!(
                "{instance_id}: ipv6Address {v:?} is not an IPv6 address"
            ))
        })?),
        None => None,
    };
    let mut tags = BTreeMap::new();
    if let Some(set) = child(item, "tagSet") {
        for tag in children(set, "item") {
            if let Some(key) = child_text(tag, "key") {
                let value = child(tag, "value").and_then(|v| v.text()).unwrap_or("");
                tags.insert(key.to_owned(), value.to_owned());
            }
        }
    }
    Ok(Ec2Instance {
        private_ip: ip("privateIpAddress")?,
        public_ip: ip("ipAddress")?,
        ipv6_address,
        state,
        instance_type: text("instanceType"),
        image_id: text("imageId"),
        availability_zone: child(item, "placement")
            .and_then(|p| child_text(p, "availabilityZone"))
            .map(str::to_owned),
        subnet_id: text("subnetId"),
        vpc_id: text("vpcId"),
        private_dns_name: text("privateDnsName"),
        public_dns_name: text("dnsName"),
        launch_time: text("launchTime"),
        tags,
        instance_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
  <requestId>r-1</requestId>
  <reservationSet>
    <item>
      <reservationId>r-0a</reservationId>
      <instancesSet>
        <item>
          <instanceId>i-0123</instanceId>
          <imageId>ami-1</imageId>
          <instanceState><code>16</code><name>running</name></instanceState>
          <privateDnsName>ip-10-0-0-5.ec2.internal</privateDnsName>
          <dnsName></dnsName>
          <instanceType>c5.xlarge</instanceType>
          <launchTime>2026-01-01T00:00:00.000Z</launchTime>
          <placement><availabilityZone>us-east-1a</availabilityZone></placement>
          <subnetId>subnet-1</subnetId>
          <vpcId>vpc-1</vpcId>
          <privateIpAddress>10.0.0.5</privateIpAddress>
          <ipAddress>54.1.2.3</ipAddress>
          <groupSet><item><groupId>sg-1</groupId></item></groupSet>
          <tagSet>
            <item><key>Name</key><value>bbb-1</value></item>
            <item><key>empty</key><value/></item>
          </tagSet>
        </item>
      </instancesSet>
    </item>
  </reservationSet>
  <nextToken>tok</nextToken>
</DescribeInstancesResponse>"#;

    #[test]
    fn parses_instances_and_token() {
        let ctx = CallContext::new(Service::Ec2, "DescribeInstances", "i-0123");
        let (instances, token) = parse_describe_instances(&ctx, SAMPLE).unwrap();
        assert_eq!(token.as_deref(), Some("tok"));
        assert_eq!(instances.len(), 1);
        let i = &instances[0];
        assert_eq!(i.instance_id, "i-0123");
        assert_eq!(i.state, "running");
        assert_eq!(i.private_ip, Some(Ipv4Addr::new(10, 0, 0, 5)));
        assert_eq!(i.public_ip, Some(Ipv4Addr::new(54, 1, 2, 3)));
        assert_eq!(i.public_dns_name, None);
        assert_eq!(
            i.private_dns_name.as_deref(),
            Some("ip-10-0-0-5.ec2.internal")
        );
        assert_eq!(i.availability_zone.as_deref(), Some("us-east-1a"));
        assert_eq!(i.tags.get("Name").map(String::as_str), Some("bbb-1"));
        assert_eq!(i.tags.get("empty").map(String::as_str), Some(""));
    }

    #[test]
    fn rejects_bad_answers() {
        let ctx = CallContext::new(Service::Ec2, "DescribeInstances", "x");
        assert!(parse_describe_instances(&ctx, "nope").is_err());
        assert!(parse_describe_instances(&ctx, "<Other/>").is_err());
        let bad_ip = SAMPLE.replace("54.1.2.3", "not-an-ip");
        let err = parse_describe_instances(&ctx, &bad_ip).unwrap_err();
        assert!(err.to_string().contains("ipAddress"), "{err}");
    }

    #[test]
    fn reads_missing_ids_from_message() {
        let ctx = CallContext::new(Service::Ec2, "DescribeInstances", "x");
        let e = ctx.service_error(
            "InvalidInstanceID.NotFound",
            "The instance IDs 'i-1, i-2' do not exist",
            None,
        );
        let m = missing_ids(&e);
        assert_eq!(m.len(), 2);
        assert!(m.contains("i-1") && m.contains("i-2"));
        let e = ctx.service_error(
            "InvalidInstanceID.NotFound",
            "The instance ID 'i-9' does not exist",
            None,
        );
        assert!(missing_ids(&e).contains("i-9"));
    }
}
