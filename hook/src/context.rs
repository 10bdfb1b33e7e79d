//! Everything a command works with, built from the environment, the metadata service, the
//! fleet configuration and the secrets.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use bbb_core::aws::{AwsClients, AwsConfig};
use bbb_core::scalelite::{ScaleliteClient, ScaleliteConfig, Server};
use bbb_core::{normalize_bbb_api_url, Secret};

use crate::config::{read_local_config, FleetConfig, Settings};
use crate::error::HookError;
use crate::imds::{Identity, Imds};
use crate::state::StateDir;

/// Where the fleet configuration came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigSource {
    /// Read from SSM now (and cached).
    Parameter,
    /// The explicit file or the cached copy.
    Local,
}

pub struct Context {
    pub settings: Settings,
    pub imds: Imds,
    pub identity: Identity,
    pub config: FleetConfig,
    pub aws: AwsClients,
    pub state: StateDir,
    /// The Scalelite client of this run and when its secret was read ([`Context::scalelite`]).
    scalelite: Mutex<Option<(Instant, ScaleliteClient)>>,
}

/// How long a run reuses Scalelite's secret once read from SSM. A `protect` pass (a few seconds)
/// reads it once instead of once per step; the long runs (the drain, a launch that waits) read it
/// again after this, so that a secret rotated in SSM is taken within a minute.
const SCALELITE_SECRET_REUSE: Duration = Duration::from_secs(60);

async fn aws_clients(region: &str, settings: &Settings) -> Result<AwsClients, HookError> {
    AwsClients::new(&AwsConfig {
        region: Some(region.to_owned()),
        timeout: settings.request_timeout.max(Duration::from_secs(5)),
        ..AwsConfig::default()
    })
    .await
    .map_err(HookError::aws("set up the AWS clients"))
}

impl Context {
    /// Builds the context. With `refresh_config` (launch) the fleet configuration is read from
    /// its SSM parameter and cached, falling back to the cache when SSM fails; otherwise the
    /// local copy is used and SSM only when there is none.
    pub async fn build(settings: Settings, refresh_config: bool) -> Result<Self, HookError> {
        let state = StateDir::open(&settings.state_dir)?;
        let imds = Imds::connect(
            &settings.imds_endpoint,
            settings.request_timeout,
            settings.imds_token_ttl,
        )
        .await?;
        // The identity and the configuration are independent when the region is known up front.
        let (identity, loaded) = match settings.region.clone() {
            Some(region) => tokio::try_join!(
                imds.identity(),
                load_config(&settings, &state, &region, refresh_config)
            )?,
            None => {
                let identity = imds.identity().await?;
                let loaded =
                    load_config(&settings, &state, &identity.region, refresh_config).await?;
                (identity, loaded)
            }
        };
        let (config, aws, source) = loaded;
        let aws = match aws {
            Some(a) if a.region() == config.region => a,
            _ => aws_clients(&config.region, &settings).await?,
        };
        tracing::info!(
            instance_id = %identity.instance_id,
            address = %identity.address,
            fleet = %config.fleet_name,
            config = ?source,
            "identity"
        );
        Ok(Self {
            settings,
            imds,
            identity,
            config,
            aws,
            state,
            scalelite: Mutex::new(None),
        })
    }

    pub fn record_name(&self) -> String {
        self.config.record_name(&self.identity.instance_id)
    }

    pub fn server_url(&self) -> String {
        self.config.server_url(&self.identity.instance_id)
    }

    /// Scalelite's secret, from its SSM parameter (or Secrets Manager through SSM).
    pub async fn scalelite_secret(&self) -> Result<Secret, HookError> {
        self.aws
            .get_secure_parameter(&self.config.scalelite_secret_parameter)
            .await
            .map_err(HookError::aws("read Scalelite's secret"))
    }

    /// A Scalelite client: the run's, while its secret was read less than
    /// [`SCALELITE_SECRET_REUSE`] ago, else a new one with the secret read again.
    pub async fn scalelite(&self) -> Result<ScaleliteClient, HookError> {
        if let Some((read_at, client)) = &*self.cached_scalelite() {
            if read_at.elapsed() < SCALELITE_SECRET_REUSE {
                return Ok(client.clone());
            }
        }
        let read_at = Instant::now();
        let secret = self.scalelite_secret().await?;
        let mut cfg = ScaleliteConfig::new(self.config.scalelite_url.clone(), secret);
        cfg.timeout = self.settings.request_timeout;
        cfg.max_retries = 2;
        let client = ScaleliteClient::new(cfg)
            .map_err(|e| HookError::Config(format!("scalelite_url: {e}")))?;
        *self.cached_scalelite() = Some((read_at, client.clone()));
        Ok(client)
    }

    /// Drops the run's Scalelite client when `e` is Scalelite refusing its secret (a checksum
    /// error), so the next call reads the secret from SSM again: a secret rotated in SSM and
    /// replaced in Scalelite at once is taken at the next retry, not up to a minute later.
    pub fn forget_scalelite_on(&self, e: &HookError) {
        if e.is_checksum_error() && self.cached_scalelite().take().is_some() {
            tracing::warn!(
                parameter = %self.config.scalelite_secret_parameter,
                "scalelite refused the secret (checksum error): it is read again from SSM at the next call"
            );
        }
    }

    fn cached_scalelite(&self) -> std::sync::MutexGuard<'_, Option<(Instant, ScaleliteClient)>> {
        // Nothing panics while holding it; a poisoned lock still holds a whole value.
        self.scalelite.lock().unwrap_or_else(|e| e.into_inner())
    }
}

type Loaded = (FleetConfig, Option<AwsClients>, ConfigSource);

async fn load_config(
    settings: &Settings,
    state: &StateDir,
    region: &str,
    refresh: bool,
) -> Result<Loaded, HookError> {
    if let Some(path) = &settings.config_file {
        if let Some(cfg) = read_local_config(settings)? {
            return Ok((cfg, None, ConfigSource::Local));
        }
        if settings.config_parameter.is_none() {
            return Err(HookError::Config(format!(
                "BBB_FLEET_HOOK_CONFIG_FILE {} does not exist and BBB_FLEET_HOOK_CONFIG_PARAMETER is not set",
                path.display()
            )));
        }
    }
    let local = read_local_config(settings)?;
    let Some(parameter) = settings.config_parameter.clone() else {
        return local.map(|c| (c, None, ConfigSource::Local)).ok_or_else(|| {
            HookError::Config(
                "no fleet configuration: set BBB_FLEET_HOOK_CONFIG_PARAMETER (the SSM parameter bbb_fleet's hook_config is stored in) or BBB_FLEET_HOOK_CONFIG_FILE".into(),
            )
        });
    };
    if let (Some(cfg), false) = (&local, refresh) {
        return Ok((cfg.clone(), None, ConfigSource::Local));
    }
    let aws = aws_clients(region, settings).await?;
    match aws.get_secure_parameter(&parameter).await {
        Ok(text) => {
            let cfg = FleetConfig::parse(text.expose(), &format!("SSM parameter {parameter}"))?;
            state.write("hook-config.json", text.expose().as_bytes())?;
            Ok((cfg, Some(aws), ConfigSource::Parameter))
        }
        // A deleted parameter is a configuration error even with a cached copy: the fleet
        // is gone or renamed.
        Err(e) if e.is_not_found() => Err(HookError::Config(format!(
            "BBB_FLEET_HOOK_CONFIG_PARAMETER: SSM parameter {parameter} does not exist"
        ))),
        Err(e) => match local {
            Some(cfg) => {
                tracing::warn!(parameter = %parameter, error = %e, "fleet configuration not refreshed, using the cached copy");
                Ok((cfg, Some(aws), ConfigSource::Local))
            }
            None => Err(HookError::aws("read the fleet configuration")(e)),
        },
    }
}

/// The registration of `url` among `servers` (URLs compared normalised).
pub fn find_server<'a>(servers: &'a [Server], url: &str) -> Option<&'a Server> {
    let want = normalize_bbb_api_url(url).ok()?;
    servers
        .iter()
        .find(|s| normalize_bbb_api_url(&s.url).is_ok_and(|u| u == want))
}
