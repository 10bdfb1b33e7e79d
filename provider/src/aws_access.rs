//! The provider's AWS clients, built once per provider process from its settings.

use bbb_core::aws::{AwsClients, AwsConfig, AwsEndpoints, AwsError, RetryMode};

use crate::config::{self, Setting, Settings};
use tfplugin_framework::Diagnostics;

/// Builds the AWS clients; unknown settings (during plan) and bad endpoint URLs are named in
/// words. The diagnostics carry no attribute path: this runs inside a resource's call, where
/// Terraform would resolve a provider path against the resource's own body.
pub async fn clients(settings: &Settings) -> Result<AwsClients, Diagnostics> {
    let known = |name: &str, s: &Setting<String>| -> Result<Option<String>, Diagnostics> {
        match s {
            Setting::Known(v) => Ok(Some(v.clone())),
            Setting::Unset => Ok(None),
            Setting::Unknown => Err(config::unknown(name)),
        }
    };
    let mut endpoints = AwsEndpoints::default();
    for (service, setting) in &settings.endpoints {
        let Some(raw) = known(&format!("endpoints.{service}"), setting)? else {
            continue;
        };
        let url = url::Url::parse(&raw).map_err(|e| {
            Diagnostics::from_error(
                format!("Invalid endpoint for {service}"),
                format!("The provider's endpoints.{service} (or its environment variable) is not a URL: {e}."),
            )
        })?;
        match service.as_str() {
            "autoscaling" => endpoints.autoscaling = Some(url),
            "route53" => endpoints.route53 = Some(url),
            "ec2" => endpoints.ec2 = Some(url),
            "ssm" => endpoints.ssm = Some(url),
            _ => {}
        }
    }
    let config = AwsConfig {
        region: known("region", &settings.region)?,
        profile: known("profile", &settings.profile)?,
        endpoints,
        max_retries: settings.aws_max_retries(),
        retry_mode: RetryMode::Adaptive,
        timeout: settings.timeout,
        ..AwsConfig::default()
    };
    AwsClients::new(&config)
        .await
        .map_err(|e| aws_error("configure the AWS clients", &e))
}

/// An AWS failure as a diagnostic. The core's errors never carry secrets. When AWS was still
/// throttling after every retry, the detail says how to get more of them.
pub fn aws_error(action: &str, e: &AwsError) -> Diagnostics {
    let mut detail = e.to_string();
    if e.is_throttling() {
        detail.push_str(
            "\n\nAWS kept throttling the call until the retries ran out (other tools or \
             workspaces calling the same API in this account and region share its rate limit). \
             Raise max_retries in the provider block (or BBB_MAX_RETRIES; default 25), or run \
             fewer Terraform operations in parallel (-parallelism).",
        );
    }
    Diagnostics::from_error(format!("Could not {action}"), detail)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tfplugin_framework::Value;

    #[tokio::test]
    async fn unknown_settings_are_named_without_a_provider_path() {
        let mut settings = Settings::from_config(&Value::Null, |_| None).expect("settings");
        settings.region = Setting::Unknown;
        let err = clients(&settings).await.expect_err("unknown region");
        let d = err.iter().next().expect("diag");
        assert_eq!(
            d.path, None,
            "a provider path would point into the resource"
        );
        assert!(d.summary.contains("region"), "{}", d.summary);
    }

    #[test]
    fn exhausted_throttling_tells_to_raise_max_retries() {
        let throttled = AwsError::Service {
            service: bbb_core::aws::Service::AutoScaling,
            operation: "DescribeScheduledActions",
            resource: "asg".into(),
            code: "Throttling".into(),
            message: "Rate exceeded".into(),
            request_id: None,
        };
        let d = aws_error("read the scheduled actions", &throttled);
        let detail = &d.iter().next().expect("diag").detail;
        assert!(detail.contains("Rate exceeded"), "{detail}");
        assert!(detail.contains("max_retries"), "{detail}");
        let other = AwsError::Service {
            service: bbb_core::aws::Service::AutoScaling,
            operation: "DescribeScheduledActions",
            resource: "asg".into(),
            code: "ValidationError".into(),
            message: "bad".into(),
            request_id: None,
        };
        let d = aws_error("read the scheduled actions", &other);
        assert!(!d.iter().any(|d| d.detail.contains("max_retries")));
    }
}
