#!/bin/bash
# Image build: monitoring agents, each at a pinned version, each download checked against a pinned
# sha256. A missing sha256 fails the build: nothing is installed unverified.
#   * Prometheus node_exporter (enabled here; 127.0.0.1:9100 until first boot binds it to the private IP)
#   * greenstatic/bigbluebutton-exporter, "bbb-exporter" (:9688; enabled by first boot, which writes
#     its settings with BBB's rotated secret). A Python program: its release's source archive into
#     /opt/bbb-exporter, its libraries from Ubuntu's signed archive (python3-prometheus-client,
#     python3-requests, python3-xmltodict) rather than unpinned pip downloads
#   * Grafana Alloy, Promtail's successor (Promtail is deprecated, end of life early 2026): the journal
#     and BBB's logs to LOKI_PUSH_URL; enabled by first boot when the fleet has a Loki
# Their units (ami/systemd/node_exporter.service, bbb-exporter.service, alloy.service) and users
# (monitoring-agents.sysusers) are installed by install-hook.sh, which runs first.
#
# Environment (set by the Packer template from its variables):
#   NODE_EXPORTER_VERSION  e.g. 1.8.2    NODE_EXPORTER_SHA256  of node_exporter-<v>.linux-amd64.tar.gz
#   BBB_EXPORTER_VERSION   e.g. 0.7.1    BBB_EXPORTER_SHA256   of the release's source .tar.gz
#   ALLOY_VERSION          e.g. 1.18.1   ALLOY_SHA256          of alloy-linux-amd64.zip
set -euo pipefail

log() { printf 'install-agents: %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}
for v in NODE_EXPORTER_VERSION BBB_EXPORTER_VERSION ALLOY_VERSION; do
  [ -n "${!v:-}" ] || die "$v is not set"
done
# Every sha256 is required, and checked before anything is unpacked.
missing=()
for v in NODE_EXPORTER_SHA256 BBB_EXPORTER_SHA256 ALLOY_SHA256; do
  [[ ${!v:-} =~ ^[0-9a-f]{64}$ ]] || missing+=("$v")
done
if [ "${#missing[@]}" -gt 0 ]; then
  die "no valid sha256 for: ${missing[*]}. Give the value from the release's checksum file (or sha256sum of a download you checked) with -var (see ami/README.md, Build); the build installs nothing unverified"
fi
[ "$(id -u)" -eq 0 ] || die "must run as root"
for u in node_exporter bbb-exporter alloy; do
  getent passwd "$u" >/dev/null || die "user $u is missing: install-hook.sh applies monitoring-agents.sysusers first"
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

fetch() { # url, file, sha256
  curl --fail --silent --show-error --location --retry 5 --output "$2" "$1"
  printf '%s  %s\n' "$3" "$2" | sha256sum --check --quiet || die "sha256 of $1 is not $3"
  log "$1: sha256 $3 verified"
}

export DEBIAN_FRONTEND=noninteractive
apt-get install -y --no-install-recommends curl unzip ca-certificates python3 \
  python3-prometheus-client python3-requests python3-xmltodict

# --- node_exporter ------------------------------------------------------------------------------
ne="node_exporter-${NODE_EXPORTER_VERSION}.linux-amd64"
fetch "https://github.com/prometheus/node_exporter/releases/download/v${NODE_EXPORTER_VERSION}/${ne}.tar.gz" \
  "$work/ne.tar.gz" "$NODE_EXPORTER_SHA256"
tar -xzf "$work/ne.tar.gz" -C "$work"
install -m 0755 "$work/$ne/node_exporter" /usr/local/bin/node_exporter

# --- bbb-exporter -------------------------------------------------------------------------------
fetch "https://github.com/greenstatic/bigbluebutton-exporter/archive/refs/tags/v${BBB_EXPORTER_VERSION}.tar.gz" \
  "$work/bbb-exporter.tar.gz" "$BBB_EXPORTER_SHA256"
rm -rf /opt/bbb-exporter
install -d -m 0755 /opt/bbb-exporter
tar -xzf "$work/bbb-exporter.tar.gz" -C /opt/bbb-exporter --strip-components=1 --no-same-owner
[ -f /opt/bbb-exporter/bbb-exporter/server.py ] || die "bbb-exporter v$BBB_EXPORTER_VERSION has no bbb-exporter/server.py"
chown -R root:root /opt/bbb-exporter
chmod -R a+rX,go-w /opt/bbb-exporter
# It must at least import with the archive's libraries (settings.py reads its settings at import).
(cd /opt/bbb-exporter/bbb-exporter &&
  API_BASE_URL=http://127.0.0.1:8090/bigbluebutton/api/ API_SECRET=build-check \
    python3 -c 'import prometheus_client, requests, xmltodict, collector') ||
  die "bbb-exporter v$BBB_EXPORTER_VERSION does not import with Ubuntu's python3 libraries"

# --- Grafana Alloy ------------------------------------------------------------------------------
fetch "https://github.com/grafana/alloy/releases/download/v${ALLOY_VERSION}/alloy-linux-amd64.zip" \
  "$work/alloy.zip" "$ALLOY_SHA256"
unzip -q -o "$work/alloy.zip" -d "$work"
install -m 0755 "$work/alloy-linux-amd64" /usr/local/bin/alloy
install -d -m 0755 /etc/alloy
# sys.env(...) reads /etc/alloy/push.env (first boot) through the unit's EnvironmentFile=. The file
# targets cover BBB's logs including the recording processing logs in subdirectories, nginx, the SFU
# and FreeSWITCH; services that log to the journal are in the journal source.
cat >/etc/alloy/config.alloy <<'ALLOY'
// Installed by the bbb-fleet AMI (ami/scripts/install-agents.sh).
loki.write "fleet" {
  endpoint {
    url = sys.env("LOKI_PUSH_URL")
  }
  external_labels = {
    host  = sys.env("BBB_LOG_HOST"),
    fleet = sys.env("BBB_FLEET_NAME"),
  }
}

loki.relabel "journal" {
  forward_to = []
  rule {
    source_labels = ["__journal__systemd_unit"]
    target_label  = "unit"
  }
}

loki.source.journal "journal" {
  max_age       = "12h"
  relabel_rules = loki.relabel.journal.rules
  labels        = { job = "systemd-journal" }
  forward_to    = [loki.write.fleet.receiver]
}

local.file_match "bbb" {
  path_targets = [
    { "__path__" = "/var/log/bigbluebutton/**/*.log", "job" = "bbb" },
    { "__path__" = "/var/log/bbb-webrtc-sfu/*.log", "job" = "bbb-webrtc-sfu" },
    { "__path__" = "/opt/freeswitch/var/log/freeswitch/*.log", "job" = "freeswitch" },
    { "__path__" = "/var/log/nginx/*.log", "job" = "nginx" },
  ]
}

loki.source.file "bbb" {
  targets    = local.file_match.bbb.targets
  forward_to = [loki.write.fleet.receiver]
}
ALLOY
chmod 0644 /etc/alloy/config.alloy

systemctl daemon-reload
systemctl enable node_exporter.service
systemctl disable bbb-exporter.service alloy.service >/dev/null 2>&1 || true
log "node_exporter ${NODE_EXPORTER_VERSION} (enabled), bbb-exporter ${BBB_EXPORTER_VERSION} and alloy ${ALLOY_VERSION} (enabled at first boot)"
