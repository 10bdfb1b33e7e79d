//! The provider's AWS clients, built once per provider process from its settings.

use bbb_core::aws::{AwsClients, AwsConfig, AwsEndpoints, AwsError};

use crate::config::{Setting, Settings};
use crate::framework::{AttrPath, Diagnostics};

/// Builds the AWS clients; unknown settings (during plan) and bad endpoint URLs are named.
pub async fn clients(settings: &Settings) -> Result<AwsClients, Diagnostics> {
    let known = |name: &str, s: &Setting<String>| -> Result<Option<String>, Diagnostics> {
        match s {
            Setting::Known(v) => Ok(Some(v.clone())),
            Setting::Unset => Ok(None),
            Setting::Unknown => Err(Diagnostics::from_error_at(
                AttrPath::attr(name),
                format!("Provider attribute {name} is not known yet"),
                format!(
                    "{name} depends on a value known only after apply; apply its source first."
                ),
            )),
        }
    };
    let mut endpoints = AwsEndpoints::default();
    for (service, setting) in &settings.endpoints {
        let Some(raw) = known(&format!("endpoints.{service}"), setting)? else {
            continue;
        };
        let url = url::Url::parse(&raw).map_err(|e| {
            Diagnostics::from_error_at(
                AttrPath::attr("endpoints").join(service),
                format!("Invalid endpoint for {service}"),
                format!("endpoints.{service} is not a URL: {e}."),
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
        max_retries: settings.max_retries,
        timeout: settings.timeout,
        ..AwsConfig::default()
    };
    AwsClients::new(&config)
        .await
        .map_err(|e| aws_error("configure the AWS clients", &e))
}

/// An AWS failure as a diagnostic. The core's errors never carry secrets.
pub fn aws_error(action: &str, e: &AwsError) -> Diagnostics {
    Diagnostics::from_error(format!("Could not {action}"), e.to_string())
}
