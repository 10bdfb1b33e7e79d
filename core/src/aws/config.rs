//! Configuration of the AWS clients and their construction.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use url::Url;

use super::counters::{CallCounters, CountRequests, Service};
use super::ec2_query::{self, Ec2QueryClient};
use super::error::{AwsError, CallContext};
use crate::Secret;

/// Endpoint overrides, one per service (for emulators such as moto). `None` keeps the
/// standard resolution, which also honours `AWS_ENDPOINT_URL` and `AWS_ENDPOINT_URL_<SERVICE>`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AwsEndpoints {
    pub autoscaling: Option<Url>,
    pub route53: Option<Url>,
    pub ec2: Option<Url>,
    pub ssm: Option<Url>,
    pub secretsmanager: Option<Url>,
    pub cloudwatch: Option<Url>,
}

impl AwsEndpoints {
    /// The same endpoint for every service (an emulator serving them all, like moto).
    pub fn all(url: &Url) -> Self {
        Self {
            autoscaling: Some(url.clone()),
            route53: Some(url.clone()),
            ec2: Some(url.clone()),
            ssm: Some(url.clone()),
            secretsmanager: Some(url.clone()),
            cloudwatch: Some(url.clone()),
        }
    }
}

/// Static credentials, for emulators and tests. Real deployments leave
/// [`AwsConfig::credentials`] unset and use the standard chain (environment, profile, web
/// identity, ECS, instance metadata).
#[derive(Debug, Clone)]
pub struct StaticCredentials {
    pub access_key_id: String,
    pub secret_access_key: Secret,
    pub session_token: Option<Secret>,
}

/// How to reach AWS.
#[derive(Debug, Clone)]
pub struct AwsConfig {
    /// The region; `None` uses the standard chain (`AWS_REGION`, profile, instance metadata).
    pub region: Option<String>,
    /// The shared-config profile; `None` uses `AWS_PROFILE` or `default`.
    pub profile: Option<String>,
    /// Endpoint overrides per service.
    pub endpoints: AwsEndpoints,
    /// Retries after the first attempt of each call, for errors the SDK's retry mode
    /// classifies as retryable (throttling, transient, 5xx, timeouts).
    pub max_retries: u32,
    /// How retries are paced: [`RetryMode::Standard`] (exponential backoff with jitter) or
    /// [`RetryMode::Adaptive`] (standard, plus a client-side rate limit that slows every call
    /// of the process down while AWS throttles it).
    pub retry_mode: RetryMode,
    /// Timeout of each attempt (connecting, sending, reading the answer).
    pub timeout: Duration,
    /// Fixed credentials instead of the standard chain.
    pub credentials: Option<StaticCredentials>,
}

impl Default for AwsConfig {
    fn default() -> Self {
        Self {
            region: None,
            profile: None,
            endpoints: AwsEndpoints::default(),
            max_retries: 3,
            retry_mode: RetryMode::Standard,
            timeout: Duration::from_secs(30),
            credentials: None,
        }
    }
}

impl AwsConfig {
    /// A configuration for an emulator at `url` serving every service, with fixed dummy
    /// credentials and `region`.
    pub fn emulator(url: &Url, region: &str) -> Self {
        Self {
            region: Some(region.to_owned()),
            endpoints: AwsEndpoints::all(url),
            credentials: Some(StaticCredentials {
                access_key_id: "testing".to_owned(),
                secret_access_key: Secret::new("testing"),
                session_token: None,
            }),
            ..Self::default()
        }
    }
}

/// The AWS clients of one configuration, and their call counters. Cheap to clone; clones share
/// connections and counters.
#[derive(Debug, Clone)]
pub struct AwsClients {
    pub(crate) autoscaling: aws_sdk_autoscaling::Client,
    pub(crate) route53: aws_sdk_route53::Client,
    pub(crate) ssm: aws_sdk_ssm::Client,
    #[cfg(feature = "secrets-manager")]
    pub(crate) secretsmanager: aws_sdk_secretsmanager::Client,
    pub(crate) ec2: Ec2QueryClient,
    pub(crate) cloudwatch: Ec2QueryClient,
    pub(crate) counters: Arc<CallCounters>,
    region: String,
}

impl AwsClients {
    /// Loads the SDK configuration (credential and region chains, profile) and builds the
    /// clients. Fails when no region can be found.
    pub async fn new(config: &AwsConfig) -> Result<Self, AwsError> {
        if config.timeout.is_zero() {
            return Err(AwsError::Config("timeout must be more than zero".into()));
        }
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .http_client(https_client())
            .retry_config(retry_config(config))
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(config.timeout)
                    .operation_attempt_timeout(config.timeout)
                    .build(),
            );
        if let Some(region) = &config.region {
            loader = loader.region(Region::new(region.clone()));
        }
        if let Some(profile) = &config.profile {
            loader = loader.profile_name(profile);
        }
        if let Some(creds) = &config.credentials {
            loader = loader.credentials_provider(Credentials::new(
                creds.access_key_id.clone(),
                creds.secret_access_key.expose().to_owned(),
                creds.session_token.as_ref().map(|t| t.expose().to_owned()),
                None,
                "bbb-core-static",
            ));
        }
        let sdk = loader.load().await;
        let region = sdk.region().map(|r| r.as_ref().to_owned()).ok_or_else(|| {
            AwsError::Config(
                "no AWS region: set it in the configuration, AWS_REGION or the profile".into(),
            )
        })?;
        let counters = Arc::new(CallCounters::default());
        Self::from_sdk_config(&sdk, config, region, counters)
    }

    fn from_sdk_config(
        sdk: &SdkConfig,
        config: &AwsConfig,
        region: String,
        counters: Arc<CallCounters>,
    ) -> Result<Self, AwsError> {
        let count = |service| CountRequests {
            counters: counters.clone(),
            service,
        };

        let mut b = aws_sdk_autoscaling::config::Builder::from(sdk)
            .interceptor(count(Service::AutoScaling));
        if let Some(url) = &config.endpoints.autoscaling {
            b = b.endpoint_url(endpoint_str(url));
        }
        let autoscaling = aws_sdk_autoscaling::Client::from_conf(b.build());

        let mut b =
            aws_sdk_route53::config::Builder::from(sdk).interceptor(count(Service::Route53));
        if let Some(url) = &config.endpoints.route53 {
            b = b.endpoint_url(endpoint_str(url));
        }
        let route53 = aws_sdk_route53::Client::from_conf(b.build());

        let mut b = aws_sdk_ssm::config::Builder::from(sdk).interceptor(count(Service::Ssm));
        if let Some(url) = &config.endpoints.ssm {
            b = b.endpoint_url(endpoint_str(url));
        }
        let ssm = aws_sdk_ssm::Client::from_conf(b.build());

        #[cfg(feature = "secrets-manager")]
        let secretsmanager = {
            let mut b = aws_sdk_secretsmanager::config::Builder::from(sdk)
                .interceptor(count(Service::SecretsManager));
            if let Some(url) = &config.endpoints.secretsmanager {
                b = b.endpoint_url(endpoint_str(url));
            }
            aws_sdk_secretsmanager::Client::from_conf(b.build())
        };

        let credentials: SharedCredentialsProvider =
            sdk.credentials_provider().ok_or_else(|| {
                AwsError::Config("no AWS credentials provider could be configured".into())
            })?;
        let query_client = |api: &'static ec2_query::QueryApi, configured: &Option<Url>| {
            let endpoint = match configured {
                Some(url) => url.clone(),
                None => ec2_query::default_endpoint_for(api, &region, sdk.endpoint_url())?,
            };
            Ec2QueryClient::new(
                api,
                endpoint,
                region.clone(),
                credentials.clone(),
                config.max_retries,
                config.timeout,
                counters.clone(),
            )
            .map(|c| c.with_adaptive_pacing(config.retry_mode == RetryMode::Adaptive))
        };
        let ec2 = query_client(&ec2_query::EC2, &config.endpoints.ec2)?;
        let cloudwatch = query_client(&ec2_query::CLOUDWATCH, &config.endpoints.cloudwatch)?;

        Ok(Self {
            autoscaling,
            route53,
            ssm,
            #[cfg(feature = "secrets-manager")]
            secretsmanager,
            ec2,
            cloudwatch,
            counters,
            region,
        })
    }

    /// The region the clients call.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The call counters shared by these clients.
    pub fn counters(&self) -> &Arc<CallCounters> {
        &self.counters
    }

    /// The Auto Scaling SDK client, for calls this module has no method for (test setup).
    /// Calls made with it are counted as requests but not as calls.
    pub fn autoscaling_sdk(&self) -> &aws_sdk_autoscaling::Client {
        &self.autoscaling
    }

    /// The Route53 SDK client, for calls this module has no method for (test setup).
    pub fn route53_sdk(&self) -> &aws_sdk_route53::Client {
        &self.route53
    }

    /// The SSM SDK client, for calls this module has no method for (test setup).
    pub fn ssm_sdk(&self) -> &aws_sdk_ssm::Client {
        &self.ssm
    }

    /// The EC2 Query API client, for calls this module has no method for (test setup).
    pub fn ec2_query(&self) -> &Ec2QueryClient {
        &self.ec2
    }

    /// Starts one API call: counts it and returns what logs its outcome.
    pub(crate) fn begin(
        &self,
        service: Service,
        operation: &'static str,
        resource: impl Into<String>,
    ) -> CallLog {
        self.counters.count_call(service);
        CallLog {
            ctx: CallContext::new(service, operation, resource),
            started: Instant::now(),
        }
    }
}

/// The SDK's HTTPS client: what its `default-https-client` feature builds (hyper 1.x, rustls,
/// the system's root certificates, `HTTPS_PROXY`/`NO_PROXY` from the environment), with rustls on
/// ring instead of aws-lc-rs, the one crypto provider the hook links (reqwest's rustls uses ring).
/// The credential and region chains (instance metadata, STS) share it through the loader.
fn https_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    use aws_smithy_http_client::proxy::ProxyConfig;
    use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
    use aws_smithy_http_client::{Builder, ConnectorBuilder};
    Builder::new().build_with_connector_fn(|settings, components| {
        let mut conn = ConnectorBuilder::default()
            .tls_provider(Provider::Rustls(CryptoMode::Ring))
            .proxy_config(ProxyConfig::from_env());
        conn.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            conn.set_sleep_impl(components.sleep_impl());
        }
        conn.build()
    })
}

/// One API call in progress; [`CallLog::finish`] writes its single `tracing` event.
pub(crate) struct CallLog {
    pub ctx: CallContext,
    started: Instant,
}

impl CallLog {
    /// Logs the outcome of the call (one event) and passes the result through.
    pub fn finish<T>(self, result: Result<T, AwsError>) -> Result<T, AwsError> {
        log_outcome(&self.ctx, self.started, result.as_ref().err());
        result
    }
}

pub(crate) fn log_outcome(ctx: &CallContext, started: Instant, err: Option<&AwsError>) {
    let duration_ms = started.elapsed().as_millis() as u64;
    let service = ctx.service.as_str();
    let operation = ctx.operation;
    let resource = ctx.resource.as_str();
    match err {
        None => tracing::info!(service, operation, resource, duration_ms, "aws call"),
        Some(e) => {
            let error = e.to_string();
            tracing::warn!(
                service,
                operation,
                resource,
                duration_ms,
                code = e.code().unwrap_or(""),
                error = error.as_str(),
                "aws call failed"
            )
        }
    }
}

/// How the clients pace their retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryMode {
    /// The SDKs' standard mode: exponential backoff with full jitter, capped at 20 s.
    Standard,
    /// Standard, plus client-side rate limiting while AWS throttles (the SDKs' adaptive mode):
    /// right for one process making many calls, as a Terraform provider refreshing many
    /// resources does.
    Adaptive,
}

/// The SDK retry configuration of `config`: `max_retries` retries after the first attempt.
fn retry_config(config: &AwsConfig) -> RetryConfig {
    let base = match config.retry_mode {
        RetryMode::Standard => RetryConfig::standard(),
        RetryMode::Adaptive => RetryConfig::adaptive(),
    };
    base.with_max_attempts(config.max_retries.saturating_add(1))
}

/// The endpoint as the SDK wants it: no trailing slash when the path is empty.
fn endpoint_str(url: &Url) -> String {
    let s = url.as_str();
    if url.path() == "/" {
        s.trim_end_matches('/').to_owned()
    } else {
        s.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_without_trailing_slash() {
        let u = Url::parse("http://127.0.0.1:5000").unwrap();
        assert_eq!(endpoint_str(&u), "http://127.0.0.1:5000");
        let u = Url::parse("http://127.0.0.1:5000/moto/").unwrap();
        assert_eq!(endpoint_str(&u), "http://127.0.0.1:5000/moto/");
    }

    #[test]
    fn retry_mode_and_attempts_reach_the_sdk() {
        let cfg = AwsConfig {
            max_retries: 25,
            retry_mode: RetryMode::Adaptive,
            ..AwsConfig::default()
        };
        let retry = retry_config(&cfg);
        assert_eq!(retry.mode(), aws_config::retry::RetryMode::Adaptive);
        assert_eq!(
            retry.max_attempts(),
            26,
            "25 retries after the first attempt"
        );
        let standard = retry_config(&AwsConfig::default());
        assert_eq!(standard.mode(), aws_config::retry::RetryMode::Standard);
        assert_eq!(standard.max_attempts(), 4);
    }

    #[tokio::test]
    async fn zero_timeout_is_rejected() {
        let cfg = AwsConfig {
            timeout: Duration::ZERO,
            ..AwsConfig::emulator(&Url::parse("http://127.0.0.1:1").unwrap(), "us-east-1")
        };
        assert!(matches!(
            AwsClients::new(&cfg).await,
            Err(AwsError::Config(_))
        ));
    }

    #[tokio::test]
    async fn emulator_config_builds_clients() {
        let url = Url::parse("http://127.0.0.1:1/").unwrap();
        let clients = AwsClients::new(&AwsConfig::emulator(&url, "eu-west-1"))
            .await
            .unwrap();
        assert_eq!(clients.region(), "eu-west-1");
        assert_eq!(clients.counters().call_counts().total(), 0);
    }
}
