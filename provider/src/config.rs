//! The provider's own configuration: schema, environment fallbacks, and the settings every
//! resource reads.

use std::time::Duration;

use tfplugin_framework::validators::{at_least, duration, http_url, not_blank, whole_number};
use tfplugin_framework::{
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

/// Retries of a throttled or failed AWS call when `max_retries` is not set:
/// terraform-provider-aws's default, with the SDK's adaptive retry mode (a provider refreshing
/// many resources is one process making many calls, the case adaptive mode is for).
pub const DEFAULT_AWS_MAX_RETRIES: u32 = 25;
/// Retries of a Scalelite call that is safe to repeat (5xx, transport errors) when
/// `max_retries` is not set: an outage should fail a refresh in seconds, not minutes.
pub const DEFAULT_SCALELITE_MAX_RETRIES: u32 = 3;
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
                    .description("Retries of a failed call where a retry is safe: AWS calls that are throttled or fail transiently (default `25`, as terraform-provider-aws, with the AWS SDK's adaptive retry mode: exponential backoff up to 20 s, and calls slowed down while AWS throttles) and Scalelite calls answered with a 5xx or a transport error (default `3`). Also from `BBB_MAX_RETRIES`."),
            )
            .attribute(
                Attribute::string("request_timeout")
                    .optional()
                    .validate(duration().positive())
                    .description("Timeout of one API request, as a duration (default `30s`). Also from `BBB_REQUEST_TIMEOUT`."),
            )
            .block(NestedBlock::new("endpoints", Nesting::Single, endpoints)),
    )
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
    /// The configured `max_retries`; see [`Settings::aws_max_retries`] and
    /// [`Settings::scalelite_max_retries`] for the defaults.
    pub max_retries: Option<u32>,
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
            Value::Number(n) => Some(*n as u32),
            _ => match env("BBB_MAX_RETRIES") {
                Some(s) => s.parse().map(Some).unwrap_or_else(|_| {
                    diags.error(
                        "Invalid BBB_MAX_RETRIES",
                        format!("BBB_MAX_RETRIES must be a whole number; got {s:?}."),
                    );
                    None
                }),
                None => None,
            },
        };
        let timeout = match string(config.get("request_timeout"), &["BBB_REQUEST_TIMEOUT"]) {
            Setting::Known(s) => humantime::parse_duration(&s).unwrap_or_else(|e| {
                let detail = format!("request_timeout (or BBB_REQUEST_TIMEOUT) must be a duration such as \"30s\": {e}.");
                // The provider block's attribute is pointed at only when it holds the value.
                if config.get("request_timeout").is_null() {
                    diags.error("Invalid BBB_REQUEST_TIMEOUT", detail);
                } else {
                    diags.error_at(AttrPath::attr("request_timeout"), "Invalid request_timeout", detail);
                }
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

    /// Retries of an AWS call (configured, or [`DEFAULT_AWS_MAX_RETRIES`]).
    pub fn aws_max_retries(&self) -> u32 {
        self.max_retries.unwrap_or(DEFAULT_AWS_MAX_RETRIES)
    }

    /// Retries of a Scalelite call (configured, or [`DEFAULT_SCALELITE_MAX_RETRIES`]).
    pub fn scalelite_max_retries(&self) -> u32 {
        self.max_retries.unwrap_or(DEFAULT_SCALELITE_MAX_RETRIES)
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

// The two diagnostics below are raised from resource calls, where Terraform resolves an
// attribute path against the resource's own body (a `bbb_fleet` has a `scalelite_url` too):
// they carry no path and name the provider attribute in words instead.

fn missing(attr: &str, env: &str) -> Diagnostics {
    Diagnostics::from_error(
        format!("Provider attribute {attr} is not set"),
        format!("This resource needs the provider's {attr}. Set it in the provider block or in the {env} environment variable."),
    )
}

/// A provider setting that is unknown when a resource needs it (it depends on a value known
/// only after apply). No attribute path: see above.
pub fn unknown(attr: &str) -> Diagnostics {
    Diagnostics::from_error(
        format!("Provider attribute {attr} is not known yet"),
        format!("The provider's {attr} depends on a value known only after apply. Apply its source first (terraform apply -target=...), then this resource."),
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
        assert_eq!(s.aws_max_retries(), DEFAULT_AWS_MAX_RETRIES);
        assert_eq!(s.aws_max_retries(), 25, "terraform-provider-aws's default");
        assert_eq!(s.scalelite_max_retries(), DEFAULT_SCALELITE_MAX_RETRIES);
        let s = Settings::from_config(&config(&[("max_retries", Value::Number(7.0))]), env)
            .expect("settings");
        assert_eq!((s.aws_max_retries(), s.scalelite_max_retries()), (7, 7));
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
        // Raised from a resource call: a path would point into the resource's own body.
        assert_eq!(d.path, None);
        assert!(d.summary.contains("scalelite_secret"), "{}", d.summary);
        assert!(d.detail.contains("BBB_SCALELITE_SECRET"));
        let s = Settings::from_config(&config(&[("scalelite_url", Value::Unknown)]), |_| None)
            .expect("settings");
        assert!(s
            .scalelite()
            .expect_err("unknown")
            .iter()
            .all(|d| d.path.is_none()));
    }

    #[test]
    fn bad_timeout_points_at_the_provider_attribute_that_holds_it() {
        let err = Settings::from_config(&config(&[("request_timeout", "soon".into())]), |_| None)
            .expect_err("bad");
        let d = err.iter().next().expect("diag");
        assert_eq!(d.path, Some(AttrPath::attr("request_timeout")));
        // From the environment, there is no attribute to point at.
        let env = |k: &str| (k == "BBB_REQUEST_TIMEOUT").then(|| "soon".to_string());
        let err = Settings::from_config(&Value::Null, env).expect_err("bad");
        let d = err.iter().next().expect("diag");
        assert_eq!(d.path, None);
        assert!(d.summary.contains("BBB_REQUEST_TIMEOUT"), "{}", d.summary);
    }
}
