//! AWS calls the fleet needs: the Auto Scaling group and its lifecycle hooks, protection and
//! scheduled actions; EC2 instance addresses; the fleet's CloudWatch metrics; Route53 A records
//! and their TXT ownership marks ([`ownership`]); the Scalelite secret from SSM or Secrets Manager.
//!
//! [`AwsClients::new`] builds every client from one [`AwsConfig`] (the standard AWS credential and
//! region chain, a profile, endpoint overrides for emulators, retries, a timeout). Each method is
//! one typed operation that logs a single `tracing` event per API call (service, operation,
//! resource, duration, outcome; never a secret) and counts the call in [`CallCounters`].
//!
//! Auto Scaling, Route53, SSM and Secrets Manager go through the official AWS SDK for Rust, whose retry config
//! retries throttling errors. EC2 `DescribeInstances` and CloudWatch `PutMetricData` /
//! `GetMetricStatistics` are SigV4-signed Query API calls of their own (see [`ec2_query`]):
//! `aws-sdk-ec2` alone costs several minutes of cold build time, and the hook's binary has a size
//! budget.

mod autoscaling;
mod cloudwatch;
mod config;
mod counters;
pub mod ec2_query;
mod error;
mod instances;
mod lifecycle;
pub mod ownership;
mod route53;
mod scheduled;
mod secrets;
mod ssm;

pub use autoscaling::{
    AsgInstance, AutoScalingGroup, HealthStatus, InstanceStatus, LaunchTemplateRef, LifecycleState,
    SET_INSTANCE_PROTECTION_MAX_IDS,
};
pub use cloudwatch::{
    Datapoint, MetricDatum, FLEET_METRICS_NAMESPACE, GROUP_DIMENSION, PUT_METRIC_DATA_MAX,
};
pub use config::{AwsClients, AwsConfig, AwsEndpoints, RetryMode, StaticCredentials};
pub use counters::{CallCounters, CallCounts, Service};
pub use error::AwsError;
pub use instances::{Ec2Instance, DESCRIBE_INSTANCES_MAX_IDS};
pub use lifecycle::{
    LifecycleActionRef, LifecycleActionResult, LifecycleHook, LifecycleHookSpec,
    LifecycleTransition,
};
pub use route53::{
    ARecordChange, ChangeAction, ChangeStatus, DnsRecord, RecordChange, TxtRecordChange,
    CHANGE_BATCH_MAX_RECORDS,
};
pub use scheduled::{ScheduledAction, ScheduledActionSpec};
pub use secrets::{json_key, JsonKeyError};
pub use ssm::ParameterEntry;
