//! The server's TLS certificate: the fleet's shared (wildcard) certificate installed from its
//! SSM parameter, or per-instance Let's Encrypt with a fleet-wide weekly budget.
//!
//! The hook runs unprivileged and never reloads nginx: it replaces one file,
//! `$BBB_TLS_DIR/bbb.pem` (certificates leaf first, then the key; mode 0600, written to a
//! temporary file and renamed), and the root unit pair `bbb-fleet-tls-reload.path`/`.service`
//! runs `nginx -t` and reloads nginx when that file changes. nginx's master process runs as
//! root and reads the file whatever its owner; `ssl_certificate` and `ssl_certificate_key` both
//! point at it (nginx takes the certificates and the key from the same file).

pub mod cert;
pub mod store;

use std::path::PathBuf;
use std::time::Duration;

use crate::error::HookError;

/// The default directory of the installed certificate (`BBB_TLS_DIR`).
pub const DEFAULT_TLS_DIR: &str = "/etc/bbb-fleet/tls";
/// The default fleet-wide Let's Encrypt budget per 7 days (Let's Encrypt allows 50 new
/// certificates per registered domain per week, shared with anything else under the domain).
pub const DEFAULT_WEEKLY_BUDGET: u32 = 40;

/// How the server gets its certificate (`BBB_TLS_MODE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TlsMode {
    /// The fleet's certificate from `BBB_TLS_CERTIFICATE_PARAMETER`, installed by the hook.
    Shared,
    /// First boot asks Let's Encrypt (HTTP-01) for this server's name, within the budget.
    Letsencrypt,
}

/// The TLS settings of the environment.
#[derive(Debug, Clone)]
pub struct TlsSettings {
    pub mode: TlsMode,
    /// `BBB_TLS_CERTIFICATE_PARAMETER`: the SSM parameter with the certificate document
    /// (`/aws/reference/secretsmanager/<secret>` for a Secrets Manager secret).
    pub parameter: Option<String>,
    /// `BBB_TLS_DIR`.
    pub dir: PathBuf,
    /// `BBB_TLS_CHECK_INTERVAL` (seconds, default 600): how often `protect` re-reads the document.
    pub check_interval: Duration,
    /// `BBB_LETSENCRYPT_WEEKLY_BUDGET` (default 40).
    pub weekly_budget: u32,
    /// `BBB_LETSENCRYPT_ISSUANCE_PATH`: the SSM path of the fleet's issuance records
    /// (default `/bbb/fleets/<fleet>/letsencrypt-issuances`).
    pub issuance_path: Option<String>,
    /// What is wrong with these settings, reported by the certificate steps only: a bad TLS
    /// setting must not stop a drain.
    pub problem: Option<String>,
}

impl TlsSettings {
    /// Reads the settings through `get` (blank values are absent). An unusable value is kept
    /// in `problem` (see [`TlsSettings::check`]).
    pub fn from_vars(get: impl Fn(&str) -> Option<String>) -> Self {
        match Self::parse(&get) {
            Ok(s) => s,
            Err(e) => Self {
                mode: TlsMode::Letsencrypt,
                parameter: None,
                dir: PathBuf::from(DEFAULT_TLS_DIR),
                check_interval: Duration::from_secs(600),
                weekly_budget: DEFAULT_WEEKLY_BUDGET,
                issuance_path: None,
                problem: Some(e),
            },
        }
    }

    /// The settings' problem as a configuration error.
    pub fn check(&self) -> Result<(), HookError> {
        match &self.problem {
            Some(p) => Err(HookError::Config(p.clone())),
            None => Ok(()),
        }
    }

    fn parse(get: &impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let parameter = get("BBB_TLS_CERTIFICATE_PARAMETER").map(|p| p.trim().to_owned());
        let mode = match get("BBB_TLS_MODE").map(|m| m.trim().to_ascii_lowercase()) {
            None if parameter.is_some() => TlsMode::Shared,
            None => TlsMode::Letsencrypt,
            Some(m) if m == "shared" => TlsMode::Shared,
            Some(m) if m == "letsencrypt" => TlsMode::Letsencrypt,
            Some(m) => {
                return Err(format!(
                    "BBB_TLS_MODE must be shared or letsencrypt, got {m:?}"
                ))
            }
        };
        if mode == TlsMode::Shared && parameter.is_none() {
            return Err("BBB_TLS_MODE is shared but BBB_TLS_CERTIFICATE_PARAMETER (the SSM parameter with the fleet's certificate) is not set".into());
        }
        let check_interval = match get("BBB_TLS_CHECK_INTERVAL") {
            None => Duration::from_secs(600),
            Some(v) => match v.trim().parse::<f64>() {
                Ok(s) if s.is_finite() && s >= 0.0 => Duration::from_secs_f64(s),
                _ => {
                    return Err(format!(
                        "BBB_TLS_CHECK_INTERVAL must be a number of seconds, got {v:?}"
                    ))
                }
            },
        };
        let weekly_budget = match get("BBB_LETSENCRYPT_WEEKLY_BUDGET") {
            None => DEFAULT_WEEKLY_BUDGET,
            Some(v) => v.trim().parse::<u32>().map_err(|_| {
                format!("BBB_LETSENCRYPT_WEEKLY_BUDGET must be a whole number, got {v:?}")
            })?,
        };
        Ok(Self {
            mode,
            parameter,
            dir: get("BBB_TLS_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(DEFAULT_TLS_DIR)),
            check_interval,
            weekly_budget,
            issuance_path: get("BBB_LETSENCRYPT_ISSUANCE_PATH")
                .map(|p| p.trim().trim_end_matches('/').to_owned()),
            problem: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |n| {
            pairs
                .iter()
                .find(|(k, _)| *k == n)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn mode_defaults_follow_the_parameter() {
        let s = TlsSettings::from_vars(vars(&[]));
        s.check().unwrap();
        assert_eq!(s.mode, TlsMode::Letsencrypt);
        assert_eq!(s.weekly_budget, 40);
        assert_eq!(s.dir, PathBuf::from(DEFAULT_TLS_DIR));
        let s = TlsSettings::from_vars(vars(&[("BBB_TLS_CERTIFICATE_PARAMETER", "/p")]));
        assert_eq!(s.mode, TlsMode::Shared);
        let e = TlsSettings::from_vars(vars(&[("BBB_TLS_MODE", "shared")]))
            .check()
            .unwrap_err();
        assert!(
            e.to_string().contains("BBB_TLS_CERTIFICATE_PARAMETER"),
            "{e}"
        );
        let e = TlsSettings::from_vars(vars(&[("BBB_TLS_MODE", "acme")]))
            .check()
            .unwrap_err();
        assert!(e.to_string().contains("BBB_TLS_MODE"), "{e}");
        let e = TlsSettings::from_vars(vars(&[("BBB_LETSENCRYPT_WEEKLY_BUDGET", "-1")]))
            .check()
            .unwrap_err();
        assert!(
            e.to_string().contains("BBB_LETSENCRYPT_WEEKLY_BUDGET"),
            "{e}"
        );
    }
}
