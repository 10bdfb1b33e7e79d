//! What the hook runs with: the fleet configuration document (`bbb_fleet`'s `hook_config`) and
//! the instance-local settings from the environment (systemd's `EnvironmentFile=`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::HookError;

/// The version of the fleet configuration document this hook reads.
pub const CONFIG_VERSION: u32 = 1;
/// The placeholder of the record name template.
pub const INSTANCE_ID_PLACEHOLDER: &str = "{instance_id}";

/// `bbb_fleet`'s `hook_config`: every fleet setting the hook needs, and no secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FleetConfig {
    pub version: u32,
    pub fleet_name: String,
    pub region: String,
    pub autoscaling_group_name: String,
    /// Empty: the fleet manages no DNS.
    #[serde(default)]
    pub hosted_zone_id: String,
    #[serde(default)]
    pub domain: String,
    pub record_name_template: String,
    pub record_ttl: u32,
    pub scalelite_url: String,
    #[serde(default)]
    pub scalelite_tag: Option<String>,
    pub load_multiplier: f64,
    /// SSM parameter with Scalelite's secret (`/aws/reference/secretsmanager/<id>` reads a
    /// Secrets Manager secret through SSM).
    pub scalelite_secret_parameter: String,
    pub protect_live_meetings: bool,
    #[serde(default)]
    pub launching_hook_name: String,
    #[serde(default)]
    pub launching_heartbeat_timeout: u64,
    #[serde(default)]
    pub terminating_hook_name: String,
    pub heartbeat_timeout: u64,
    #[serde(default)]
    pub max_wait: String,
    pub max_wait_seconds: u64,
}

impl FleetConfig {
    /// Parses and checks a document; errors name the field.
    pub fn parse(text: &str, source: &str) -> Result<Self, HookError> {
        let cfg: FleetConfig = serde_json::from_str(text).map_err(|e| {
            HookError::Config(format!(
                "{source}: not a bbb_fleet hook_config document: {e}"
            ))
        })?;
        cfg.check()
            .map_err(|e| HookError::Config(format!("{source}: {e}")))?;
        Ok(cfg)
    }

    fn check(&self) -> Result<(), String> {
        if self.version != CONFIG_VERSION {
            return Err(format!(
                "version is {}, this hook reads version {CONFIG_VERSION}",
                self.version
            ));
        }
        let required = [
            ("fleet_name", &self.fleet_name),
            ("region", &self.region),
            ("autoscaling_group_name", &self.autoscaling_group_name),
            ("scalelite_url", &self.scalelite_url),
            (
                "scalelite_secret_parameter",
                &self.scalelite_secret_parameter,
            ),
        ];
        for (name, value) in required {
            if value.trim().is_empty() {
                return Err(format!("{name} is empty"));
            }
        }
        if self
            .record_name_template
            .matches(INSTANCE_ID_PLACEHOLDER)
            .count()
            != 1
        {
            return Err(format!(
                "record_name_template must contain {INSTANCE_ID_PLACEHOLDER} exactly once"
            ));
        }
        if self.domain.trim().is_empty() {
            return Err("domain is empty: the server's URL is <record>.<domain>".into());
        }
        if !(self.load_multiplier.is_finite() && self.load_multiplier > 0.0) {
            return Err("load_multiplier must be a positive number".into());
        }
        url::Url::parse(&self.scalelite_url)
            .map_err(|e| format!("scalelite_url is not a URL: {e}"))?;
        Ok(())
    }

    /// Whether the fleet manages the servers' DNS records.
    pub fn manages_dns(&self) -> bool {
        !self.hosted_zone_id.trim().is_empty()
    }

    /// The DNS name of instance `instance_id` (lower case, no trailing dot).
    pub fn record_name(&self, instance_id: &str) -> String {
        let host = self
            .record_name_template
            .replace(INSTANCE_ID_PLACEHOLDER, instance_id);
        format!("{host}.{}", self.domain.trim_end_matches('.')).to_ascii_lowercase()
    }

    /// The BBB API URL the instance registers in Scalelite.
    pub fn server_url(&self, instance_id: &str) -> String {
        format!(
            "https://{}/bigbluebutton/api",
            self.record_name(instance_id)
        )
    }

    pub fn max_wait(&self) -> Duration {
        Duration::from_secs(self.max_wait_seconds)
    }
}

/// Instance-local settings, from the environment.
#[derive(Debug, Clone)]
pub struct Settings {
    /// An explicit fleet configuration file (`BBB_FLEET_HOOK_CONFIG_FILE`).
    pub config_file: Option<PathBuf>,
    /// The SSM parameter holding the fleet configuration (`BBB_FLEET_HOOK_CONFIG_PARAMETER`).
    pub config_parameter: Option<String>,
    /// The region to read the parameter from before the document is known (`BBB_FLEET_REGION`).
    pub region: Option<String>,
    /// Where the hook keeps its state and the cached configuration (`STATE_DIRECTORY`, set by
    /// systemd's `StateDirectory=`, else `BBB_HOOK_STATE_DIR`, else `/var/lib/bbb-hook`).
    pub state_dir: PathBuf,
    /// bbb-web's properties files, the override first (`BBB_WEB_PROPERTIES`).
    pub bbb_properties: Vec<PathBuf>,
    /// The local BBB API (`BBB_HOOK_BBB_API_URL`).
    pub bbb_api_url: String,
    /// BBB's recording status directory (`BBB_RECORDING_STATUS_DIR`).
    pub recording_status_dir: PathBuf,
    /// BBB's raw recording directory (`BBB_RECORDING_RAW_DIR`; default: `raw` next to the
    /// status directory). rap-starter creates `raw/<id>/` before it queues the archive job.
    pub recording_raw_dir: PathBuf,
    /// Scalelite's post_publish script (`BBB_SCALELITE_POST_PUBLISH`). When it exists, a
    /// recording is in the works until the script's `published/<id>-sender.done`.
    pub scalelite_post_publish: PathBuf,
    /// BBB's record-and-playback scripts (`BBB_RECORDING_SCRIPTS_DIR`): `bigbluebutton.yml`
    /// with the default `steps:`, and `publish/<format>.rb`.
    pub recording_scripts_dir: PathBuf,
    /// BBB's recording settings override (`BBB_RECORDING_OVERRIDE`), whose `steps:` replaces
    /// the default one. Both tell which formats a recording waits for.
    pub recording_override: PathBuf,
    /// The instance metadata service (`AWS_EC2_METADATA_SERVICE_ENDPOINT`).
    pub imds_endpoint: String,
    /// How often drain re-checks meetings and the lifecycle signal (`BBB_HOOK_POLL_INTERVAL`,
    /// seconds).
    pub poll_interval: Duration,
    /// How long launch waits for Route53 to report the record in sync
    /// (`BBB_HOOK_DNS_TIMEOUT`, seconds).
    pub dns_timeout: Duration,
    /// Timeout of each Scalelite, BBB and metadata request (`BBB_HOOK_REQUEST_TIMEOUT`, seconds).
    pub request_timeout: Duration,
    /// The TTL of the metadata session tokens the hook asks for (`BBB_HOOK_IMDS_TOKEN_TTL`,
    /// whole seconds, 1 to 21600; default 21600). Tokens are renewed at three quarters of it.
    pub imds_token_ttl: Duration,
    /// How long the local BBB may fail to answer during a drain before the drain stops counting
    /// it as busy, when its last answer listed no meeting (`BBB_HOOK_BBB_ERROR_GRACE`, seconds;
    /// default 600). Meetings it listed are waited for until `max_wait`.
    pub bbb_error_grace: Duration,
    /// How long a drain keeps retrying a failed deregistration from Scalelite
    /// (`BBB_HOOK_DEREGISTER_TIMEOUT`, seconds; default 300).
    pub deregister_timeout: Duration,
    /// How often `protect` checks the Scalelite registration and the group's real scale-in
    /// protection (`BBB_HOOK_RECONCILE_INTERVAL`, seconds; default 300).
    pub reconcile_interval: Duration,
    /// How often `protect` publishes the instance's load to CloudWatch
    /// (`BBB_HOOK_METRICS_INTERVAL`, seconds; default 60: at most one `PutMetricData` a minute,
    /// the resolution of standard metrics; shorter only for the sandbox's compressed time).
    pub metrics_interval: Duration,
    /// Whether `protect` consolidates the fleet (`BBB_FLEET_CONSOLIDATION`, `on` or `off`;
    /// default `on`): cordons this server when the group wants fewer servers than it has and
    /// this one is among the surplus, enables it again when the group wants it back.
    pub consolidation: bool,
    /// How often `protect` runs a consolidation pass (`BBB_HOOK_CONSOLIDATION_INTERVAL`,
    /// seconds; default 60): one `DescribeAutoScalingGroups` and one `getServers` each.
    pub consolidation_interval: Duration,
    /// With consolidation, how long a cordoned server stays protected after `protect` first
    /// read it without a meeting (`BBB_HOOK_RELEASE_AFTER`, seconds; default 90: Scalelite's
    /// `POLL_INTERVAL` of 60 s, whose `poll:meetings` forgets the meetings that ended here, and
    /// the poll's own time). Until
    /// then a `create` that reuses an ended meeting's id still goes to this server once
    /// Scalelite's poller has made it `disabled` (its `create` checks only a cordoned server's
    /// meeting is still running), and a scale-in would take that meeting. Keep it at least
    /// Scalelite's `POLL_INTERVAL` plus 30 s (the poll loop sleeps its interval after each poll).
    pub release_after: Duration,
    /// How long after a cordon a meeting can still be created here by a `create` Scalelite
    /// routed before it (`BBB_HOOK_CREATE_IN_FLIGHT`, seconds; default 60). BBB stamps
    /// `createTime` when the request reaches it, which Scalelite's `CONNECT_TIMEOUT` (5 s) bounds
    /// only for the connection: a tenant's LRS token call between the routing and the request to
    /// BBB (`lrs_payload_service.rb` sets no timeout: Net::HTTP's 60 s to open plus 60 s to read),
    /// an upload of preloaded slides or a stalled bbb-web can take longer. A meeting created
    /// later than this under a cordon the hook holds was routed here despite it
    /// (`commands::cordon_leak`); a slower one costs a needless repair, a longer setting misses
    /// the leak's first meetings.
    pub create_in_flight: Duration,
    /// How long `launch` tries, after completing the launching lifecycle action, to see the
    /// instance in service, protect it and enable it in Scalelite before it reports the instance
    /// unhealthy for replacement (`BBB_HOOK_JOIN_TIMEOUT`, seconds; default 600: the group's
    /// `Pending:Proceed` takes seconds, the rest is a Scalelite or AWS outage to ride out).
    pub join_timeout: Duration,
    /// Consecutive `protect` passes with BBB failing its health probes before the instance is
    /// reported unhealthy to the group (`BBB_HOOK_HEALTH_FAILURES`; default 4, two minutes at the
    /// timer's 30 s: longer than a restart of bbb-web or FreeSWITCH; 0 turns the check off). A
    /// dead FreeSWITCH cordons the server in Scalelite sooner, after 2 passes (or this many when
    /// fewer; `commands::health_cordon`).
    pub health_failures: u32,
    /// FreeSWITCH's event socket, probed by `protect` (`BBB_HOOK_FREESWITCH_ESL`; default
    /// `127.0.0.1:8021`, `off` for none).
    pub freeswitch_esl: Option<String>,
    /// Participants one server carries (`BBB_FLEET_SERVER_CAPACITY`; default 200, BBB's
    /// guidance), the consolidation rule's capacity.
    pub server_capacity: u32,
    /// The certificate settings (`BBB_TLS_*`, `BBB_LETSENCRYPT_*`; see `crate::tls`).
    pub tls: crate::tls::TlsSettings,
}

pub const DEFAULT_STATE_DIR: &str = "/var/lib/bbb-hook";
pub const DEFAULT_BBB_PROPERTIES: [&str; 2] = [
    "/etc/bigbluebutton/bbb-web.properties",
    "/usr/share/bbb-web/WEB-INF/classes/bigbluebutton.properties",
];
pub const DEFAULT_BBB_API_URL: &str = "http://127.0.0.1:8090/bigbluebutton/api";
pub const DEFAULT_RECORDING_STATUS_DIR: &str = "/var/bigbluebutton/recording/status";
pub const DEFAULT_SCALELITE_POST_PUBLISH: &str =
    "/usr/local/bigbluebutton/core/scripts/post_publish/scalelite_post_publish.rb";
pub const DEFAULT_RECORDING_SCRIPTS_DIR: &str = "/usr/local/bigbluebutton/core/scripts";
pub const DEFAULT_RECORDING_OVERRIDE: &str = "/etc/bigbluebutton/recording/recording.yml";
pub const DEFAULT_IMDS_ENDPOINT: &str = "http://169.254.169.254";

impl Settings {
    /// Reads the settings through `var` (the process environment in production).
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, HookError> {
        let get = |name: &str| var(name).filter(|v| !v.trim().is_empty());
        let seconds = |name: &str, default: u64| -> Result<Duration, HookError> {
            match get(name) {
                None => Ok(Duration::from_secs(default)),
                Some(v) => match v.trim().parse::<f64>() {
                    Ok(s) if s.is_finite() && s > 0.0 => Ok(Duration::from_secs_f64(s)),
                    _ => Err(HookError::Config(format!(
                        "{name} must be a positive number of seconds, got {v:?}"
                    ))),
                },
            }
        };
        let bbb_properties = match get("BBB_WEB_PROPERTIES") {
            Some(p) => vec![PathBuf::from(p)],
            None => DEFAULT_BBB_PROPERTIES.iter().map(PathBuf::from).collect(),
        };
        let recording_status_dir = get("BBB_RECORDING_STATUS_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_RECORDING_STATUS_DIR));
        Ok(Self {
            config_file: get("BBB_FLEET_HOOK_CONFIG_FILE").map(PathBuf::from),
            config_parameter: get("BBB_FLEET_HOOK_CONFIG_PARAMETER"),
            region: get("BBB_FLEET_REGION"),
            state_dir: get("STATE_DIRECTORY")
                // systemd passes a colon-separated list when several are configured.
                .map(|s| s.split(':').next().unwrap_or_default().to_owned())
                .or_else(|| get("BBB_HOOK_STATE_DIR"))
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(DEFAULT_STATE_DIR)),
            bbb_properties,
            bbb_api_url: get("BBB_HOOK_BBB_API_URL").unwrap_or_else(|| DEFAULT_BBB_API_URL.into()),
            recording_raw_dir: get("BBB_RECORDING_RAW_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| crate::recordings::default_raw_dir(&recording_status_dir)),
            recording_status_dir,
            scalelite_post_publish: get("BBB_SCALELITE_POST_PUBLISH")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(DEFAULT_SCALELITE_POST_PUBLISH)),
            recording_scripts_dir: get("BBB_RECORDING_SCRIPTS_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(DEFAULT_RECORDING_SCRIPTS_DIR)),
            recording_override: get("BBB_RECORDING_OVERRIDE")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(DEFAULT_RECORDING_OVERRIDE)),
            imds_endpoint: get("AWS_EC2_METADATA_SERVICE_ENDPOINT")
                .unwrap_or_else(|| DEFAULT_IMDS_ENDPOINT.into()),
            poll_interval: seconds("BBB_HOOK_POLL_INTERVAL", 10)?,
            dns_timeout: seconds("BBB_HOOK_DNS_TIMEOUT", 300)?,
            request_timeout: seconds("BBB_HOOK_REQUEST_TIMEOUT", 10)?,
            imds_token_ttl: match get("BBB_HOOK_IMDS_TOKEN_TTL") {
                None => Duration::from_secs(crate::imds::MAX_TOKEN_TTL_SECONDS),
                Some(v) => match v.trim().parse::<u64>() {
                    Ok(n @ 1..=crate::imds::MAX_TOKEN_TTL_SECONDS) => Duration::from_secs(n),
                    _ => {
                        return Err(HookError::Config(format!(
                        "BBB_HOOK_IMDS_TOKEN_TTL must be whole seconds from 1 to 21600, got {v:?}"
                    )))
                    }
                },
            },
            bbb_error_grace: seconds("BBB_HOOK_BBB_ERROR_GRACE", 600)?,
            deregister_timeout: seconds("BBB_HOOK_DEREGISTER_TIMEOUT", 300)?,
            reconcile_interval: seconds("BBB_HOOK_RECONCILE_INTERVAL", 300)?,
            metrics_interval: seconds("BBB_HOOK_METRICS_INTERVAL", 60)?,
            consolidation: match get("BBB_FLEET_CONSOLIDATION").as_deref().map(str::trim) {
                None | Some("on") => true,
                Some("off") => false,
                Some(v) => {
                    return Err(HookError::Config(format!(
                        "BBB_FLEET_CONSOLIDATION must be on or off, got {v:?}"
                    )))
                }
            },
            consolidation_interval: seconds("BBB_HOOK_CONSOLIDATION_INTERVAL", 60)?,
            release_after: seconds("BBB_HOOK_RELEASE_AFTER", 90)?,
            create_in_flight: seconds("BBB_HOOK_CREATE_IN_FLIGHT", 60)?,
            join_timeout: seconds("BBB_HOOK_JOIN_TIMEOUT", 600)?,
            health_failures: match get("BBB_HOOK_HEALTH_FAILURES") {
                None => 4,
                Some(v) => v.trim().parse::<u32>().map_err(|_| {
                    HookError::Config(format!(
                        "BBB_HOOK_HEALTH_FAILURES must be a whole number of passes, got {v:?}"
                    ))
                })?,
            },
            freeswitch_esl: match get("BBB_HOOK_FREESWITCH_ESL").as_deref().map(str::trim) {
                None => Some("127.0.0.1:8021".to_owned()),
                Some("off") => None,
                Some(v) => Some(v.to_owned()),
            },
            server_capacity: match get("BBB_FLEET_SERVER_CAPACITY") {
                None => bbb_core::scaling::DEFAULT_CAPACITY_PARTICIPANTS,
                Some(v) => match v.trim().parse::<u32>() {
                    Ok(n @ 1..) => n,
                    _ => {
                        return Err(HookError::Config(format!(
                            "BBB_FLEET_SERVER_CAPACITY must be a whole number of participants, got {v:?}"
                        )))
                    }
                },
            },
            tls: crate::tls::TlsSettings::from_vars(get),
        })
    }

    /// The cached copy of the fleet configuration.
    pub fn cached_config(&self) -> PathBuf {
        self.state_dir.join("hook-config.json")
    }
}

/// Reads the fleet configuration without AWS: the explicit file, else the cached copy.
/// `Ok(None)` when neither exists.
pub fn read_local_config(settings: &Settings) -> Result<Option<FleetConfig>, HookError> {
    for path in [settings.config_file.clone(), Some(settings.cached_config())]
        .into_iter()
        .flatten()
    {
        if let Some(cfg) = read_config_file(&path)? {
            return Ok(Some(cfg));
        }
    }
    Ok(None)
}

fn read_config_file(path: &Path) -> Result<Option<FleetConfig>, HookError> {
    match std::fs::read_to_string(path) {
        Ok(text) => FleetConfig::parse(&text, &path.display().to_string()).map(Some),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(HookError::Config(format!(
            "cannot read {}: {e}",
            path.display()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample() -> String {
        serde_json::json!({
            "version": 1, "fleet_name": "main", "region": "eu-central-1",
            "autoscaling_group_name": "bbb-main", "hosted_zone_id": "Z123", "domain": "bbb.example.org.",
            "record_name_template": "bbb-{instance_id}", "record_ttl": 60,
            "scalelite_url": "https://scalelite.example.org", "scalelite_tag": null,
            "load_multiplier": 1.0, "scalelite_secret_parameter": "/bbb/scalelite-secret",
            "protect_live_meetings": true, "launching_hook_name": "bbb-launching",
            "launching_heartbeat_timeout": 900, "terminating_hook_name": "bbb-terminating",
            "heartbeat_timeout": 900, "max_wait": "4h", "max_wait_seconds": 14400
        })
        .to_string()
    }

    #[test]
    fn reads_the_fleet_document() {
        let cfg = FleetConfig::parse(&sample(), "test").unwrap();
        assert_eq!(cfg.record_name("i-0ABC"), "bbb-i-0abc.bbb.example.org");
        assert_eq!(
            cfg.server_url("i-0abc"),
            "https://bbb-i-0abc.bbb.example.org/bigbluebutton/api"
        );
        assert_eq!(cfg.max_wait(), Duration::from_secs(14400));
        assert!(cfg.manages_dns());
    }

    #[test]
    fn bad_documents_name_the_field() {
        let mut v: serde_json::Value = serde_json::from_str(&sample()).unwrap();
        v["record_name_template"] = "bbb".into();
        let e = FleetConfig::parse(&v.to_string(), "doc").unwrap_err();
        assert!(e.to_string().contains("record_name_template"), "{e}");
        v["record_name_template"] = "bbb-{instance_id}".into();
        v["version"] = 2.into();
        let e = FleetConfig::parse(&v.to_string(), "doc").unwrap_err();
        assert!(e.to_string().contains("version is 2"), "{e}");
        v["version"] = 1.into();
        v["surprise"] = 1.into();
        let e = FleetConfig::parse(&v.to_string(), "doc").unwrap_err();
        assert!(e.to_string().contains("surprise"), "{e}");
        let e = FleetConfig::parse("{", "doc").unwrap_err();
        assert!(matches!(e, HookError::Config(_)));
    }

    #[test]
    fn settings_defaults_and_errors() {
        let s = Settings::from_vars(|_| None).unwrap();
        assert_eq!(s.state_dir, PathBuf::from(DEFAULT_STATE_DIR));
        assert_eq!(s.bbb_properties.len(), 2);
        assert_eq!(s.poll_interval, Duration::from_secs(10));
        let s = Settings::from_vars(|n| (n == "STATE_DIRECTORY").then(|| "/a:/b".into())).unwrap();
        assert_eq!(s.state_dir, PathBuf::from("/a"));
        let e = Settings::from_vars(|n| (n == "BBB_HOOK_POLL_INTERVAL").then(|| "soon".into()))
            .unwrap_err();
        assert!(e.to_string().contains("BBB_HOOK_POLL_INTERVAL"), "{e}");
        assert_eq!(s.imds_token_ttl, Duration::from_secs(21600));
        for bad in ["0", "21601", "1.5"] {
            let e = Settings::from_vars(|n| (n == "BBB_HOOK_IMDS_TOKEN_TTL").then(|| bad.into()))
                .unwrap_err();
            assert!(e.to_string().contains("BBB_HOOK_IMDS_TOKEN_TTL"), "{e}");
        }
    }

    #[test]
    fn recording_paths() {
        let s = Settings::from_vars(|_| None).unwrap();
        assert_eq!(
            s.recording_raw_dir,
            PathBuf::from("/var/bigbluebutton/recording/raw")
        );
        assert_eq!(
            s.scalelite_post_publish,
            PathBuf::from(DEFAULT_SCALELITE_POST_PUBLISH)
        );
        assert_eq!(
            s.recording_scripts_dir,
            PathBuf::from("/usr/local/bigbluebutton/core/scripts")
        );
        assert_eq!(
            s.recording_override,
            PathBuf::from("/etc/bigbluebutton/recording/recording.yml")
        );
        let s =
            Settings::from_vars(|n| (n == "BBB_RECORDING_STATUS_DIR").then(|| "/r/status".into()))
                .unwrap();
        assert_eq!(s.recording_raw_dir, PathBuf::from("/r/raw"));
        let s = Settings::from_vars(|n| match n {
            "BBB_RECORDING_STATUS_DIR" => Some("/r/status".into()),
            "BBB_RECORDING_RAW_DIR" => Some("/elsewhere".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(s.recording_raw_dir, PathBuf::from("/elsewhere"));
    }
}
