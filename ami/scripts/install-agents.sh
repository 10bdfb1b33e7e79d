#!/bin/bash
# Image build: monitoring agents. Prometheus node_exporter (enabled here: it needs no instance data)
# and Grafana Promtail (installed, not enabled: first boot writes /etc/promtail/push.env from
# LOKI_PUSH_URL and enables it). Both from their GitHub releases, checked against the release's
# sha256 when given.
#
# Environment (set by the Packer template from its variables):
#   NODE_EXPORTER_VERSION  e.g. 1.8.2          NODE_EXPORTER_SHA256  optional, of the .tar.gz
#   PROMTAIL_VERSION       e.g. 3.2.1          PROMTAIL_SHA256       optional, of the .zip
set -euo pipefail

: "${NODE_EXPORTER_VERSION:?set NODE_EXPORTER_VERSION}" "${PROMTAIL_VERSION:?set PROMTAIL_VERSION}"
log() { printf 'install-agents: %s\n' "$*" >&2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

fetch() { # url, file, sha256 (may be empty)
  curl --fail --silent --show-error --location --retry 5 --output "$2" "$1"
  if [ -n "$3" ]; then
    printf '%s  %s\n' "$3" "$2" | sha256sum --check --quiet
  else
    log "no sha256 given for $1: downloaded over HTTPS without a pinned digest"
  fi
}

export DEBIAN_FRONTEND=noninteractive
apt-get install -y --no-install-recommends curl unzip ca-certificates

# --- node_exporter ------------------------------------------------------------------------------
ne="node_exporter-${NODE_EXPORTER_VERSION}.linux-amd64"
fetch "https://github.com/prometheus/node_exporter/releases/download/v${NODE_EXPORTER_VERSION}/${ne}.tar.gz" \
  "$work/ne.tar.gz" "${NODE_EXPORTER_SHA256:-}"
tar -xzf "$work/ne.tar.gz" -C "$work"
install -m 0755 "$work/$ne/node_exporter" /usr/local/bin/node_exporter
getent passwd node_exporter >/dev/null ||
  useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin node_exporter
cat >/etc/systemd/system/node_exporter.service <<'UNIT'
[Unit]
Description=Prometheus node_exporter
Wants=network-online.target
After=network-online.target

[Service]
User=node_exporter
Group=node_exporter
ExecStart=/usr/local/bin/node_exporter --web.listen-address=:9100 --collector.systemd
Restart=on-failure
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=read-only
PrivateTmp=yes
PrivateDevices=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectControlGroups=yes
RestrictNamespaces=yes
CapabilityBoundingSet=

[Install]
WantedBy=multi-user.target
UNIT

# --- promtail -----------------------------------------------------------------------------------
fetch "https://github.com/grafana/loki/releases/download/v${PROMTAIL_VERSION}/promtail-linux-amd64.zip" \
  "$work/promtail.zip" "${PROMTAIL_SHA256:-}"
unzip -q -o "$work/promtail.zip" -d "$work"
install -m 0755 "$work/promtail-linux-amd64" /usr/local/bin/promtail
getent passwd promtail >/dev/null ||
  useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin promtail
# systemd-journal: read the journal (the bbb-hook units log there); adm: read /var/log/nginx and friends.
usermod -a -G systemd-journal,adm promtail
install -d -m 0755 /etc/promtail
# ${...} are expanded by promtail itself (-config.expand-env) from /etc/promtail/push.env.
cat >/etc/promtail/config.yml <<'YAML'
# Installed by the AMI; the push URL and labels come from /etc/promtail/push.env (first boot).
server:
  http_listen_address: 127.0.0.1
  http_listen_port: 9080
  grpc_listen_port: 0
positions:
  filename: /var/lib/promtail/positions.yaml
clients:
  - url: ${LOKI_PUSH_URL}
scrape_configs:
  - job_name: journal
    journal:
      max_age: 12h
      labels:
        job: systemd-journal
        host: ${PROMTAIL_HOSTNAME}
        fleet: ${BBB_FLEET_NAME}
    relabel_configs:
      - source_labels: ["__journal__systemd_unit"]
        target_label: unit
  - job_name: bbb-logs
    static_configs:
      - targets: [localhost]
        labels:
          job: bbb
          host: ${PROMTAIL_HOSTNAME}
          fleet: ${BBB_FLEET_NAME}
          __path__: /var/log/{bigbluebutton,nginx}/*.log
YAML
cat >/etc/systemd/system/promtail.service <<'UNIT'
[Unit]
Description=Grafana Promtail (logs to the fleet's Loki)
Wants=network-online.target
After=network-online.target
ConditionPathExists=/etc/promtail/push.env

[Service]
User=promtail
Group=promtail
EnvironmentFile=/etc/promtail/push.env
ExecStart=/usr/local/bin/promtail -config.file=/etc/promtail/config.yml -config.expand-env=true
Restart=on-failure
StateDirectory=promtail
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectControlGroups=yes
RestrictNamespaces=yes
CapabilityBoundingSet=

[Install]
WantedBy=multi-user.target
UNIT

systemctl daemon-reload
systemctl enable node_exporter.service
systemctl disable promtail.service >/dev/null 2>&1 || true
log "node_exporter ${NODE_EXPORTER_VERSION} (enabled), promtail ${PROMTAIL_VERSION} (enabled at first boot)"
