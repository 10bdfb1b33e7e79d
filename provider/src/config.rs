//! The provider's own configuration: schema, environment fallbacks, and the settings every
//! resource reads.

use std::time::Duration;

use crate::framework::validators::{at_least, http_url, not_blank, whole_number};
use crate::framework::{
    AttrPath, Attribute, Block, Diagnostics, NestedBlock, Nesting, Schema, Value,
};

/// AWS services whose endpoints can be overridden (emulators such as moto, or VPC endpoints),
/// with the standard AWS SDK environment variable for each.
pub const ENDPOINTS: [(&str, &str); 4] = [
    ("autoscaling", "AWS_ENDPOINT_URL_AUTO_SCALING"),
    ("route53", "AWS_ENDPOINT_URL_ROUTE_53"),
    ("ec2", "AWS_ENDPOINT_URL_EC2"),
    ("ssm", "AWS_ENDPOINT_URL_SSM"),
];

pub const DEFAULT_MAX_RETRIES: u32 = 3;
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

pub fn schema() -> Schema {
    let mut endpoints = Block::new()
        .description("Custom service endpoints, e.g. an AWS emulator or VPC endpoints.");
    for (service, env) in ENDPOINTS {
        endpoints = endpoints.attribute(
            Attribute::string(service)
                .optional()
                .validate(http_url())
                .description(&format!(
                    "Endpoint URL for {service}. Also from `{env}` or `AWS_ENDPOINT_URL`."
                )),
        );
    }
    Schema::new(
        Block::new()
            .description("Manages BigBlueButton fleets behind Scalelite on AWS.")
            .attribute(
                Attribute::string("scalelite_url")
                    .optional()
                    .validate(http_url())
                    .description("Base URL of Scalelite, e.g. `https://scalelite.example.com` (a trailing `/bigbluebutton/api` or `/scalelite/api` is ignored). Also from `BBB_SCALELITE_URL`."),
            )
            .attribute(
                Attribute::string("scalelite_secret")
                    .optional()
                    .sensitive()
                    .validate(not_blank())
                    .description("Scalelite's load-balancer secret (`LOADBALANCER_SECRET`). Also from `BBB_SCALELITE_SECRET`."),
            )
            .attribute(Attribute::string("region").optional().validate(not_blank()).description("AWS region. Also from `AWS_REGION` or `AWS_DEFAULT_REGION`."))
            .attribute(Attribute::string("profile").optional().validate(not_blank()).description("AWS shared-config profile. Also from `AWS_PROFILE`."))
            .attribute(
                Attribute::number("max_retries")
                    .optional()
                    .validate(at_least(0.0))
                    .validate(whole_number())
                    .description("Retries of a failed call where a retry is safe (default `3`). Also from `BBB_MAX_RETRIES`."),
            )
            .attribute(
                Attribute::string("request_timeout")
                    .optional()
                    .validate(duration())
                    .description("Timeout of one API request, as a duration (default `30s`). Also from `BBB_REQUEST_TIMEOUT`."),
            )
            .block(NestedBlock::new("endpoints", Nesting::Single, endpoints)),
    )
}

fn duration() -> impl crate::framework::validators::Validator {
    |path: &AttrPath, value: &Value, diags: &mut Diagnostics| {
        if let Some(s) = value.as_str() {
            if let Err(e) = humantime::parse_duration(s) {
                diags.error_at(
                    path.clone(),
                    format!("Invalid duration in {path}"),
                    format!("{path} must be a duration such as \"30s\" or \"2m\": {e}."),
                );
            }
        }
    }
}

/// A secret that never shows in Debug output or error text.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretString(String);

impl SecretString {
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SecretString {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

/// A setting that may be unknown while planning (it depends on a resource not yet created).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Setting<T> {
    Unset,
    Unknown,
    Known(T),
}

#[derive(Clone, Debug)]
pub struct Settings {
    pub scalelite_url: Setting<String>,
    pub scalelite_secret: Setting<SecretString>,
    pub region: Setting<String>,
    pub profile: Setting<String>,
    /// Service name -> endpoint URL.
    pub endpoints: Vec<(String, Setting<String>)>,
    pub max_retries: u32,
    pub timeout: Duration,
}

impl Settings {
    /// Reads the configuration, falling back to environment variables for values left out.
    pub fn from_config(
        config: &Value,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, Diagnostics> {
        let string = |v: &Value, vars: &[&str]| -> Setting<String> {
            match v {
                Value::Unknown => Setting::Unknown,
                Value::String(s) => Setting::Known(s.clone()),
                _ => vars
                    .iter()
                    .find_map(|k| env(k).filter(|s| !s.is_empty()))
                    .map_or(Setting::Unset, Setting::Known),
            }
        };
        let mut diags = Diagnostics::new();
        let secret = match string(config.get("scalelite_secret"), &["BBB_SCALELITE_SECRET"]) {
            Setting::Known(s) => Setting::Known(SecretString::new(s)),
            Setting::Unknown => Setting::Unknown,
            Setting::Unset => Setting::Unset,
        };
        let endpoints_cfg = config.get("endpoints");
        let endpoints = ENDPOINTS
            .iter()
            .map(|(service, var)| {
                (
                    service.to_string(),
                    string(endpoints_cfg.get(service), &[var, "AWS_ENDPOINT_URL"]),
                )
            })
            .collect();
        let max_retries = match config.get("max_retries") {
            Value::Number(n) => *n as u32,
            _ => match env("BBB_MAX_RETRIES") {
                Some(s) => s.parse().unwrap_or_else(|_| {
                    diags.error(
                        "Invalid BBB_MAX_RETRIES",
                        format!("BBB_MAX_RETRIES must be a whole number; got {s:?}."),
                    );
                    DEFAULT_MAX_RETRIES
                }),
                None => DEFAULT_MAX_RETRIES,
            },
        };
        let timeout = match string(config.get("request_timeout"), &["BBB_REQUEST_TIMEOUT"]) {
            Setting::Known(s) => humantime::parse_duration(&s).unwrap_or_else(|e| {
                diags.error_at(
                    AttrPath::attr("request_timeout"),
                    "Invalid request_timeout",
                    format!("request_timeout (or BBB_REQUEST_TIMEOUT) must be a duration such as \"30s\": {e}."),
                );
                DEFAULT_TIMEOUT
            }),
            _ => DEFAULT_TIMEOUT,
        };
        diags.into_result()?;
        Ok(Self {
            scalelite_url: string(config.get("scalelite_url"), &["BBB_SCALELITE_URL"]),
            scalelite_secret: secret,
            region: string(config.get("region"), &["AWS_REGION", "AWS_DEFAULT_REGION"]),
            profile: string(config.get("profile"), &["AWS_PROFILE"]),
            endpoints,
            max_retries,
            timeout,
        })
    }

    /// Scalelite's URL and secret, or an error that says which one is missing and how to set it.
    pub fn scalelite(&self) -> Result<(&str, &SecretString), Diagnostics> {
        let url = match &self.scalelite_url {
            Setting::Known(u) => u.as_str(),
            Setting::Unknown => return Err(unknown("scalelite_url")),
            Setting::Unset => return Err(missing("scalelite_url", "BBB_SCALELITE_URL")),
        };
        let secret = match &self.scalelite_secret {
            Setting::Known(s) => s,
            Setting::Unknown => return Err(unknown("scalelite_secret")),
            Setting::Unset => return Err(missing("scalelite_secret", "BBB_SCALELITE_SECRET")),
        };
        Ok((url, secret))
    }
}

fn missing(attr: &str, env: &str) -> Diagnostics {
    Diagnostics::from_error_at(
        AttrPath::attr(attr),
        format!("Provider attribute {attr} is not set"),
        format!("This resource needs the provider's {attr}. Set it in the provider block or in the {env} environment variable."),
    )
}

fn unknown(attr: &str) -> Diagnostics {
    Diagnostics::from_error_at(
        AttrPath::attr(attr),
        format!("Provider attribute {attr} is not known yet"),
        format!("{attr} depends on a value known only after apply. Apply its source first (terraform apply -target=...), then this resource."),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, Value)]) -> Value {
        let mut v = Value::Null;
        for (k, val) in pairs {
            v.set(k, val.clone());
        }
        v
    }

    #[test]
    fn environment_fills_what_configuration_leaves_out() {
        let env = |k: &str| match k {
            "BBB_SCALELITE_URL" => Some("https://sl.example".to_string()),
            "BBB_SCALELITE_SECRET" => Some("s3cr3t".to_string()),
            "AWS_DEFAULT_REGION" => Some("eu-west-1".to_string()),
            "AWS_ENDPOINT_URL" => Some("http://127.0.0.1:5000".to_string()),
            _ => None,
        };
        let s = Settings::from_config(&config(&[("region", "eu-central-1".into())]), env)
            .expect("settings");
        assert_eq!(
            s.region,
            Setting::Known("eu-central-1".into()),
            "configuration wins over environment"
        );
        let (url, secret) = s.scalelite().expect("scalelite");
        assert_eq!(url, "https://sl.example");
        assert_eq!(secret.expose(), "s3cr3t");
        assert_eq!(format!("{secret:?}"), "[redacted]");
        assert!(s
            .endpoints
            .iter()
            .all(|(_, e)| e == &Setting::Known("http://127.0.0.1:5000".into())));
        assert_eq!(s.max_retries, DEFAULT_MAX_RETRIES);
    }

    #[test]
    fn unknown_configuration_is_allowed_until_used() {
        let s = Settings::from_config(&config(&[("scalelite_url", Value::Unknown)]), |_| None)
            .expect("settings");
        let err = s.scalelite().expect_err("unknown");
        assert!(err
            .iter()
            .any(|d| d.summary.contains("scalelite_url is not known yet")));
    }

    #[test]
    fn missing_secret_names_attribute_and_variable() {
        let s = Settings::from_config(&config(&[("scalelite_url", "https://x".into())]), |_| None)
            .expect("settings");
        let err = s.scalelite().expect_err("missing");
        let d = err.iter().next().expect("diag");
        assert_eq!(d.path, Some(AttrPath::attr("scalelite_secret")));
        assert!(d.detail.contains("BBB_SCALELITE_SECRET"));
    }

    #[test]
    fn bad_timeout_is_an_error() {
        let err = Settings::from_config(&config(&[("request_timeout", "soon".into())]), |_| None)
            .expect_err("bad");
        assert!(err.has_errors());
    }
}
