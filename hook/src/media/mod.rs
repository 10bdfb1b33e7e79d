//! The instance's addresses where BigBlueButton's media components need them.
//!
//! BBB's package scripts write the address of the machine they are installed on (the image
//! build instance) into FreeSWITCH's `vars.xml` and bbb-webrtc-sfu's `default.yml`, and
//! `bbb-conf --setip` does not touch them. On EC2 the public address is a 1:1 NAT of the private
//! one, so, as bbb-install's `check_nat` and `install_ssl` do: FreeSWITCH binds the private
//! address (`local_ip_v4`) and announces the public one (`external_rtp_ip`/`external_sip_ip`,
//! used by the external profile's `ext-rtp-ip`/`ext-sip-ip`); the SFU listens on 0.0.0.0 and
//! announces the public one; nginx's `sip.nginx` and the SFU reach FreeSWITCH's WebSocket
//! listener at the public address, so its `ws-binding`/`wss-binding` bind that address, which is
//! therefore also put on `lo`. Without a public address the private one is
//! used everywhere.

pub mod files;
pub mod turn;
pub mod xml;
pub mod yaml;

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use serde::Serialize;

use yaml::Seg::{First, Key};

/// The instance's addresses, from IMDS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Addresses {
    pub private: Ipv4Addr,
    pub public: Option<Ipv4Addr>,
}

impl Addresses {
    /// The address browsers reach: the public one, else the private one.
    pub fn external(&self) -> Ipv4Addr {
        self.public.unwrap_or(self.private)
    }
}

/// Where the files are: the standard BBB 3.0 paths under `BBB_MEDIA_ROOT` (default `/`).
#[derive(Debug, Clone)]
pub struct Paths {
    pub root: PathBuf,
    /// The `ip` command (`BBB_IP_COMMAND`, default `/usr/sbin/ip`).
    pub ip_command: PathBuf,
}

pub const VARS_XML: &str = "opt/freeswitch/etc/freeswitch/vars.xml";
pub const EXTERNAL_XML: &str = "opt/freeswitch/etc/freeswitch/sip_profiles/external.xml";
pub const SIP_NGINX: &str = "usr/share/bigbluebutton/nginx/sip.nginx";
pub const SFU_DEFAULT: &str = "usr/local/bigbluebutton/bbb-webrtc-sfu/config/default.yml";
pub const SFU_OVERRIDE: &str = "etc/bigbluebutton/bbb-webrtc-sfu/production.yml";
pub const TURN_XML: &str = "etc/bigbluebutton/turn-stun-servers.xml";
pub const GROUP_FILE: &str = "etc/group";

impl Paths {
    pub fn from_vars(var: &impl Fn(&str) -> Option<String>) -> Self {
        let get = |n: &str| var(n).filter(|v| !v.trim().is_empty());
        Self {
            root: get("BBB_MEDIA_ROOT").map_or_else(|| PathBuf::from("/"), PathBuf::from),
            ip_command: get("BBB_IP_COMMAND")
                .map_or_else(|| PathBuf::from("/usr/sbin/ip"), PathBuf::from),
        }
    }

    pub fn file(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }
}

/// One value to change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub key: String,
    /// `None`: the key is added.
    pub found: Option<String>,
    pub want: String,
}

/// What one file needs.
#[derive(Debug)]
pub struct Plan {
    pub path: PathBuf,
    pub changes: Vec<Change>,
    /// The new text when something changes.
    pub text: Option<String>,
}

/// A file whose shape is not the one this hook knows: nothing is written.
#[derive(Debug)]
pub struct Unrecognised {
    pub path: PathBuf,
    pub key: String,
    pub reason: String,
}

impl std::fmt::Display for Unrecognised {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {}: {} (not the layout BBB 3.0 ships; nothing was changed)",
            self.path.display(),
            self.key,
            self.reason
        )
    }
}

fn unrecognised(path: &Path, key: &str) -> impl Fn(String) -> Unrecognised {
    let path = path.to_owned();
    let key = key.to_owned();
    move |reason| Unrecognised {
        path: path.clone(),
        key: key.clone(),
        reason,
    }
}

fn finish(path: &Path, old: &str, new: String, changes: Vec<Change>) -> Plan {
    let changes: Vec<Change> = changes
        .into_iter()
        .filter(|c| c.found.as_deref() != Some(&c.want))
        .collect();
    Plan {
        path: path.to_owned(),
        text: (new != old).then_some(new),
        changes,
    }
}

/// FreeSWITCH `vars.xml`: `local_ip_v4` (private), `external_rtp_ip` and `external_sip_ip`
/// (external).
pub fn plan_vars(path: &Path, text: &str, a: &Addresses) -> Result<Plan, Unrecognised> {
    let mut edits = Vec::new();
    let mut changes = Vec::new();
    for (key, want) in [
        ("local_ip_v4", a.private),
        ("external_rtp_ip", a.external()),
        ("external_sip_ip", a.external()),
    ] {
        let range = xml::preprocess_set(text, key).map_err(unrecognised(path, key))?;
        changes.push(Change {
            key: key.into(),
            found: Some(text[range.clone()].into()),
            want: want.to_string(),
        });
        edits.push((range, want.to_string()));
    }
    Ok(finish(path, text, xml::splice(text, edits), changes))
}

/// The host of a `host:port` binding, when it is an IPv4 address.
fn ipv4_host(binding: &str) -> Option<&str> {
    let (host, _) = binding.rsplit_once(':')?;
    host.parse::<Ipv4Addr>().ok().map(|_| host)
}

/// FreeSWITCH's external SIP profile: `ext-rtp-ip`/`ext-sip-ip` announce `vars.xml`'s external
/// addresses; `ws-binding`/`wss-binding`, when bound to an address rather than `:port`, bind the
/// external one (on `lo` behind NAT).
pub fn plan_external(path: &Path, text: &str, a: &Addresses) -> Result<Plan, Unrecognised> {
    let mut edits = Vec::new();
    let mut changes = Vec::new();
    for (name, want) in [
        ("ext-rtp-ip", "$${external_rtp_ip}"),
        ("ext-sip-ip", "$${external_sip_ip}"),
    ] {
        let found = xml::params(text, name).map_err(unrecognised(path, name))?;
        let [range] = found.as_slice() else {
            return Err(unrecognised(path, name)(format!(
                "expected one <param name=\"{name}\">, found {}",
                found.len()
            )));
        };
        changes.push(Change {
            key: name.into(),
            found: Some(text[range.clone()].into()),
            want: want.into(),
        });
        edits.push((range.clone(), want.to_owned()));
    }
    for name in ["ws-binding", "wss-binding"] {
        for range in xml::params(text, name).map_err(unrecognised(path, name))? {
            let value = &text[range.clone()];
            // BBB ships `:5066`/`:7443` (no host: FreeSWITCH then binds its sip-ip, the private
            // address), but nginx's sip.nginx and the SFU dial the external address, as
            // bbb-install's install_ssl sets them: the listener binds it (it is on lo).
            let host = if value.starts_with(':') {
                Some("")
            } else {
                ipv4_host(value)
            };
            if let Some(host) = host {
                let want = format!("{}{}", a.external(), &value[host.len()..]);
                changes.push(Change {
                    key: name.into(),
                    found: Some(value.into()),
                    want: want.clone(),
                });
                edits.push((range, want));
            }
        }
    }
    Ok(finish(path, text, xml::splice(text, edits), changes))
}

/// nginx's `sip.nginx`: every `proxy_pass` to an IPv4 address goes to the external address
/// (a `$variable` host, such as BBB's IPv6 `$freeswitch_addr` map, is left as it is).
pub fn plan_sip_nginx(path: &Path, text: &str, a: &Addresses) -> Result<Plan, Unrecognised> {
    let mut lines: Vec<String> = text.split('\n').map(str::to_owned).collect();
    let mut changes = Vec::new();
    let mut seen = 0;
    for line in &mut lines {
        let t = line.trim_start();
        if !t.starts_with("proxy_pass ") {
            continue;
        }
        seen += 1;
        let Some(scheme_end) = t.find("://") else {
            continue;
        };
        let host_start = line.len() - t.len() + scheme_end + 3;
        let host_len = line[host_start..].find([':', ';', '/']).unwrap_or(0);
        let host = line[host_start..host_start + host_len].to_owned();
        if host.parse::<Ipv4Addr>().is_ok_and(|h| !h.is_loopback()) {
            let want = a.external().to_string();
            changes.push(Change {
                key: "proxy_pass".into(),
                found: Some(host),
                want: want.clone(),
            });
            line.replace_range(host_start..host_start + host_len, &want);
        }
    }
    if seen == 0 {
        return Err(unrecognised(path, "proxy_pass")(
            "no proxy_pass line".into(),
        ));
    }
    Ok(finish(path, text, lines.join("\n"), changes))
}

/// The bbb-webrtc-sfu values bbb-install sets, with the address each gets.
fn sfu_values(a: &Addresses) -> Vec<(&'static [yaml::Seg], String)> {
    let ext = a.external().to_string();
    vec![
        (&[Key("freeswitch"), Key("ip")], ext.clone()),
        (&[Key("freeswitch"), Key("sip_ip")], ext.clone()),
        (
            &[
                Key("mediasoup"),
                Key("webrtc"),
                Key("listenIps"),
                First,
                Key("ip"),
            ],
            "0.0.0.0".into(),
        ),
        (
            &[
                Key("mediasoup"),
                Key("webrtc"),
                Key("listenIps"),
                First,
                Key("announcedIp"),
            ],
            ext.clone(),
        ),
        (
            &[
                Key("mediasoup"),
                Key("plainRtp"),
                Key("listenIp"),
                Key("ip"),
            ],
            "0.0.0.0".into(),
        ),
        (
            &[
                Key("mediasoup"),
                Key("plainRtp"),
                Key("listenIp"),
                Key("announcedIp"),
            ],
            ext,
        ),
    ]
}

fn path_name(path: &[yaml::Seg]) -> String {
    path.iter()
        .map(|s| match s {
            Key(k) => (*k).to_owned(),
            First => "[0]".to_owned(),
        })
        .collect::<Vec<_>>()
        .join(".")
        .replace(".[0]", "[0]")
}

/// bbb-webrtc-sfu's YAML: the package's `default.yml` (every key must be there) and the
/// `production.yml` override bbb-conf also writes to (missing keys are added).
pub fn plan_sfu(
    path: &Path,
    text: &str,
    a: &Addresses,
    insert: bool,
) -> Result<Plan, Unrecognised> {
    let mut out = text.to_owned();
    let mut changes = Vec::new();
    for (seg, want) in sfu_values(a) {
        let key = path_name(seg);
        let (next, outcome) =
            yaml::set(&out, seg, &want, insert).map_err(unrecognised(path, &key))?;
        let found = match outcome {
            yaml::Outcome::Was(v) => Some(v),
            yaml::Outcome::Added => None,
        };
        changes.push(Change { key, found, want });
        out = next;
    }
    Ok(finish(path, text, out, changes))
}

/// Every media file's plan. A required file that is missing, or any file whose shape is not
/// recognised, fails the whole plan before anything is written.
pub fn plan_all(paths: &Paths, a: &Addresses) -> Result<Vec<Plan>, PlanError> {
    let mut plans = Vec::new();
    let required = |rel: &str| -> Result<(PathBuf, String), PlanError> {
        let p = paths.file(rel);
        match files::read(&p).map_err(PlanError::Io)? {
            Some(t) => Ok((p, t)),
            None => Err(PlanError::Shape(Unrecognised {
                path: p,
                key: "-".into(),
                reason: "the file is missing".into(),
            })),
        }
    };
    let (p, t) = required(VARS_XML)?;
    plans.push(plan_vars(&p, &t, a)?);
    let (p, t) = required(EXTERNAL_XML)?;
    plans.push(plan_external(&p, &t, a)?);
    let (p, t) = required(SFU_DEFAULT)?;
    plans.push(plan_sfu(&p, &t, a, false)?);
    let p = paths.file(SFU_OVERRIDE);
    let t = files::read(&p).map_err(PlanError::Io)?.unwrap_or_default();
    plans.push(plan_sfu(&p, &t, a, true)?);
    // BBB releases after 3.0 no longer ship the SIP-over-WebSocket endpoint.
    let p = paths.file(SIP_NGINX);
    if let Some(t) = files::read(&p).map_err(PlanError::Io)? {
        plans.push(plan_sip_nginx(&p, &t, a)?);
    }
    Ok(plans)
}

#[derive(Debug)]
pub enum PlanError {
    Shape(Unrecognised),
    Io(crate::error::HookError),
}

impl From<Unrecognised> for PlanError {
    fn from(u: Unrecognised) -> Self {
        Self::Shape(u)
    }
}

impl From<PlanError> for crate::error::HookError {
    fn from(e: PlanError) -> Self {
        match e {
            PlanError::Shape(u) => Self::Config(u.to_string()),
            PlanError::Io(e) => e,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: Addresses = Addresses {
        private: Ipv4Addr::new(10, 0, 1, 10),
        public: Some(Ipv4Addr::new(203, 0, 113, 10)),
    };

    #[test]
    fn external_profile_websocket_bindings_follow_the_public_address() {
        let text = "<settings>\n<param name=\"ext-rtp-ip\" value=\"$${local_ip_v4}\"/>\n<param name=\"ext-sip-ip\" value=\"$${external_sip_ip}\"/>\n<param name=\"ws-binding\"  value=\"172.31.5.17:5066\"/>\n<param name=\"wss-binding\"  value=\":7443\"/>\n</settings>\n";
        let plan = plan_external(Path::new("external.xml"), text, &A).unwrap();
        let out = plan.text.expect("changed");
        assert!(out.contains("value=\"$${external_rtp_ip}\""));
        assert!(out.contains("<param name=\"ws-binding\"  value=\"203.0.113.10:5066\"/>"));
        // BBB's own `:7443` binds sip-ip (the private address), where the SFU and nginx, which
        // dial the external one, would find nothing.
        assert!(out.contains("<param name=\"wss-binding\"  value=\"203.0.113.10:7443\"/>"));
        let keys: Vec<&str> = plan.changes.iter().map(|c| c.key.as_str()).collect();
        assert_eq!(
            keys,
            ["ext-rtp-ip", "ws-binding", "wss-binding"],
            "only what differs is reported"
        );
        let e = plan_external(Path::new("external.xml"), "<settings/>", &A).unwrap_err();
        assert_eq!(e.key, "ext-rtp-ip");
    }

    #[test]
    fn sip_nginx_keeps_variables_and_loopback() {
        let text = "location /ws {\n  proxy_pass https://$freeswitch_addr:7443;\n}\n";
        let plan = plan_sip_nginx(Path::new("sip.nginx"), text, &A).unwrap();
        assert!(plan.text.is_none() && plan.changes.is_empty());
        let text = "location /ws {\n  proxy_pass http://172.31.5.17:5066;\n}\n";
        let plan = plan_sip_nginx(Path::new("sip.nginx"), text, &A).unwrap();
        assert_eq!(
            plan.text.as_deref(),
            Some("location /ws {\n  proxy_pass http://203.0.113.10:5066;\n}\n")
        );
        let e = plan_sip_nginx(Path::new("sip.nginx"), "location /ws {}\n", &A).unwrap_err();
        assert!(e.to_string().contains("sip.nginx: proxy_pass"), "{e}");
    }
}
