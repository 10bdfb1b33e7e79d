//! `bbb-hook configure`: run as root at every boot before BigBlueButton starts
//! (`bbb-fleet-configure.service`). Puts this instance's addresses (IMDS `local-ipv4`,
//! `public-ipv4`) into FreeSWITCH, bbb-webrtc-sfu and nginx's `sip.nginx`, the public address
//! on `lo` for EC2's 1:1 NAT, and writes bbb-web's STUN/TURN file from the fleet's settings.
//! Needs IMDS, and SSM for the TURN secret; not the fleet document. Every file is planned
//! first: one whose layout is not recognised stops the run (78) before anything is written.

use std::os::unix::fs::MetadataExt;
use std::time::Duration;

use bbb_core::aws::{AwsClients, AwsConfig};
use serde::Serialize;

use crate::config::Settings;
use crate::error::HookError;
use crate::imds::Imds;
use crate::media::files::{self, Access};
use crate::media::turn::{self, TurnSettings};
use crate::media::{self, Addresses, Change, Paths};

/// The instance's private and public IPv4 addresses.
pub async fn addresses(imds: &Imds) -> Result<Addresses, HookError> {
    let (local, public) = tokio::try_join!(
        imds.get("meta-data/local-ipv4"),
        imds.get("meta-data/public-ipv4")
    )?;
    let parse = |what: &str, v: &str| {
        v.parse()
            .map_err(|_| HookError::Metadata(format!("{what} is not an IPv4 address: {v:?}")))
    };
    let local = local
        .filter(|v| !v.is_empty())
        .ok_or_else(|| HookError::Metadata("meta-data/local-ipv4: not present".into()))?;
    Ok(Addresses {
        private: parse("local-ipv4", &local)?,
        public: match public.filter(|p| !p.is_empty()) {
            Some(p) => Some(parse("public-ipv4", &p)?),
            None => None,
        },
    })
}

fn describe(changes: &[Change]) -> String {
    changes
        .iter()
        .map(|c| {
            format!(
                "{}: {} -> {}",
                c.key,
                c.found.as_deref().unwrap_or("(added)"),
                c.want
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

async fn turn_secret(
    settings: &Settings,
    imds: &Imds,
    parameter: &str,
) -> Result<bbb_core::Secret, HookError> {
    let region = match settings.region.clone() {
        Some(r) => r,
        None => imds
            .get("meta-data/placement/region")
            .await?
            .ok_or_else(|| HookError::Metadata("meta-data/placement/region: not present".into()))?,
    };
    let aws = AwsClients::new(&AwsConfig {
        region: Some(region),
        timeout: settings.request_timeout.max(Duration::from_secs(5)),
        ..AwsConfig::default()
    })
    .await
    .map_err(HookError::aws("set up the AWS clients"))?;
    aws.get_secure_parameter(parameter).await.map_err(|e| {
        if e.is_not_found() {
            HookError::Config(format!(
                "BBB_TURN_SECRET_PARAMETER: SSM parameter {parameter} does not exist"
            ))
        } else {
            HookError::aws("read the TURN secret (BBB_TURN_SECRET_PARAMETER)")(e)
        }
    })
}

/// Writes (or, when the fleet has no STUN/TURN, removes a file this hook wrote) bbb-web's
/// `turn-stun-servers.xml`. Whether it changed anything.
async fn configure_turn(
    settings: &Settings,
    imds: &Imds,
    paths: &Paths,
    turn: &TurnSettings,
) -> Result<bool, HookError> {
    let path = paths.file(media::TURN_XML);
    let existing = files::read(&path)?;
    if !turn.any() {
        if existing
            .as_deref()
            .is_some_and(|t| t.contains(turn::MARKER))
        {
            std::fs::remove_file(&path)
                .map_err(|e| HookError::Io(format!("cannot remove {}: {e}", path.display())))?;
            tracing::info!(file = %path.display(), "no STUN/TURN configured: removed the file this hook wrote, bbb-web uses its packaged servers");
            return Ok(true);
        }
        tracing::info!(file = %path.display(), "no STUN/TURN configured: file left as it is");
        return Ok(false);
    }
    let secret = match &turn.secret_parameter {
        Some(p) => Some(turn_secret(settings, imds, p).await?),
        None => None,
    };
    let text = turn::render(turn, secret.as_ref());
    let gid = files::group_id(&paths.file(media::GROUP_FILE), "bigbluebutton")?;
    let meta = std::fs::metadata(&path).ok();
    let access_right = meta.is_some_and(|m| m.mode() & 0o7777 == 0o640 && m.gid() == gid);
    if existing.as_deref() == Some(text.as_str()) && access_right {
        tracing::info!(file = %path.display(), "turn-stun-servers.xml already right");
        return Ok(false);
    }
    files::write(&path, &text, Access::Force(0o640, gid))?;
    tracing::info!(file = %path.display(), turn = turn.turn_uris.len(), stun = turn.stun_uris.len(), "turn-stun-servers.xml written (mode 0640, group bigbluebutton)");
    Ok(true)
}

pub async fn run(settings: &Settings) -> Result<u8, HookError> {
    let var = |n: &str| std::env::var(n).ok();
    let paths = Paths::from_vars(&var);
    let turn = TurnSettings::from_vars(&var).map_err(HookError::Config)?;
    let imds = Imds::connect(
        &settings.imds_endpoint,
        settings.request_timeout,
        settings.imds_token_ttl,
    )
    .await?;
    let a = addresses(&imds).await?;
    tracing::info!(private = %a.private, public = ?a.public.map(|p| p.to_string()), external = %a.external(), "instance addresses");
    let plans = media::plan_all(&paths, &a)?;
    let gid = files::group_id(&paths.file(media::GROUP_FILE), "bigbluebutton").ok();
    let mut changed = 0;
    for plan in &plans {
        match &plan.text {
            Some(text) => {
                files::write(&plan.path, text, Access::KeepOr(0o640, gid))?;
                changed += 1;
                tracing::info!(file = %plan.path.display(), changes = %describe(&plan.changes), "media file updated");
            }
            None => tracing::info!(file = %plan.path.display(), "media file already right"),
        }
    }
    if configure_turn(settings, &imds, &paths, &turn).await? {
        changed += 1;
    }
    let want = a.public.map(|p| format!("{p}/32"));
    let lo = files::ensure_lo_address(&paths.ip_command, want.as_deref())?;
    if lo.is_empty() {
        tracing::info!(address = ?want, "lo address already right");
    } else {
        tracing::info!(changes = %lo.join(", "), reason = "EC2 1:1 NAT: FreeSWITCH and the SFU reach the public address locally", "lo address set");
    }
    tracing::info!(files_changed = changed, "configure complete");
    Ok(0)
}

/// What `status` shows: each value that disagrees with IMDS.
#[derive(Debug, Serialize)]
pub struct MediaStatus {
    pub private: String,
    pub public: Option<String>,
    pub mismatches: Vec<Mismatch>,
}

#[derive(Debug, Serialize)]
pub struct Mismatch {
    pub file: String,
    pub key: String,
    pub found: Option<String>,
    pub want: String,
}

/// Compares the media files (and the `lo` address) with IMDS, changing nothing.
pub async fn check(imds: &Imds) -> Result<MediaStatus, HookError> {
    let paths = Paths::from_vars(&|n: &str| std::env::var(n).ok());
    let a = addresses(imds).await?;
    let mut mismatches = Vec::new();
    for plan in media::plan_all(&paths, &a)? {
        for c in plan.changes {
            mismatches.push(Mismatch {
                file: plan.path.display().to_string(),
                key: c.key,
                found: c.found,
                want: c.want,
            });
        }
    }
    if let Some(p) = a.public {
        let want = format!("{p}/32");
        let have = files::lo_addresses(&paths.ip_command)?;
        if !have.contains(&want) {
            mismatches.push(Mismatch {
                file: "lo".into(),
                key: files::LO_LABEL.into(),
                found: have.first().cloned(),
                want,
            });
        }
    }
    Ok(MediaStatus {
        private: a.private.to_string(),
        public: a.public.map(|p| p.to_string()),
        mismatches,
    })
}
