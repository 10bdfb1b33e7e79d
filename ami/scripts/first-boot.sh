#!/bin/bash
# First boot of a BBB server of the fleet, installed by the AMI as /usr/local/lib/bbb-fleet/first-boot
# and run once, as root, by the fleet module's cloud-init user data (after cloud-init has written
# /etc/bbb-fleet/fleet.env and mounted the recordings EFS). Only the steps that need this instance's
# identity are here; everything else is baked into the image (ami/scripts/install-*.sh).
#
#   1. the instance's DNS name from bbb-hook (IMDS + the fleet's hook configuration), set as hostname
#   2. a fresh BBB shared secret (every server of the image would otherwise share the build's one)
#   3. the Route53 A record, in sync, before anything asks for a certificate
#   4. BBB's hostname (bbb-conf --setip) and a Let's Encrypt certificate (HTTP-01)
#   5. the recordings EFS: checked mounted, Scalelite's post_publish configuration pointing at it
#   6. monitoring agents' configuration (Promtail's push URL; node_exporter needs none and runs already)
#   7. the bbb-hook units: launch (DNS, Scalelite, lifecycle action), protect timer, lifecycle watcher
#
# Safe to run again (each step checks what is already done). Exits non-zero on the first failure:
# the instance then never completes its launching lifecycle action and the Auto Scaling group replaces it.
set -euo pipefail

fleet_env=${BBB_FLEET_ENV:-/etc/bbb-fleet/fleet.env}
hook=${BBB_HOOK:-/usr/local/bin/bbb-hook}
state=/var/lib/bbb-fleet

log() { printf 'bbb-fleet-first-boot: %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

[ "$(id -u)" -eq 0 ] || die "must run as root"
[ -r "$fleet_env" ] || die "$fleet_env is missing (written by the fleet module's user data)"
# KEY=VALUE lines, read literally (not sourced: a value is data, never shell) and exported, as the
# units' EnvironmentFile= gives them to bbb-hook.
while IFS= read -r line || [ -n "$line" ]; do
  case $line in '' | '#'*) continue ;; esac
  key=${line%%=*}
  [[ $key =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || die "unexpected line in $fleet_env: $line"
  export "$key=${line#*=}"
done <"$fleet_env"
: "${BBB_FLEET_NAME:?is not set in fleet.env}" "${BBB_FLEET_REGION:?is not set in fleet.env}"
: "${BBB_FLEET_HOOK_CONFIG_PARAMETER:?is not set in fleet.env}"
mkdir -p "$state"

# Runs a bbb-hook command, retrying temporary failures (exit 75, or 1) a few times; a usage (64) or
# configuration (78) error stops first boot at once.
hook_retry() {
  local attempt rc
  for attempt in 1 2 3 4 5 6 7 8 9 10; do
    rc=0
    # As the units run it: the bbb-hook user, its state directory (created by tmpfiles.d), so the
    # configuration it caches there stays readable by the services.
    runuser -u bbb-hook -- env STATE_DIRECTORY=/var/lib/bbb-hook "$hook" "$@" || rc=$?
    case $rc in
      0) return 0 ;;
      64 | 78) die "bbb-hook $* failed with exit code $rc (not retried)" ;;
    esac
    log "bbb-hook $* failed with exit code $rc (attempt $attempt), retrying in 15 s"
    sleep 15
  done
  die "bbb-hook $* kept failing"
}

# --- 1. name ----------------------------------------------------------------------------------
fqdn=$(hook_retry record-name)
case $fqdn in
  '' | *[!A-Za-z0-9.-]*) die "bbb-hook record-name printed an unusable name: '$fqdn'" ;;
esac
log "this server is $fqdn"
if [ "$(hostname -f 2>/dev/null || true)" != "$fqdn" ]; then
  hostnamectl set-hostname "$fqdn"
fi
# cloud-init would set the EC2 name (ip-10-...) back at the next boot.
printf '%s\n' '# Written by bbb-fleet first boot: the hostname is the fleet DNS name.' 'preserve_hostname: true' \
  >/etc/cloud/cloud.cfg.d/99-bbb-fleet-hostname.cfg

# --- 2. BBB secret ----------------------------------------------------------------------------
if [ ! -e "$state/secret-rotated" ]; then
  bbb-conf --setsecret "$(openssl rand -hex 32)" >/dev/null
  touch "$state/secret-rotated"
  log "new BBB shared secret set"
fi

# --- 3. DNS -----------------------------------------------------------------------------------
hook_retry launch --dns-only
log "A record of $fqdn in sync"

# --- 4. BBB hostname and certificate ------------------------------------------------------------
# This instance's IPs into FreeSWITCH, bbb-webrtc-sfu and sip.nginx (the image holds the build
# instance's), the public IP on lo, the STUN/TURN file; enabled for every later boot too. Retried:
# IMDS or SSM may not answer yet; a file it does not recognise (78) keeps failing and stops here.
systemctl enable bbb-fleet-configure.service
for attempt in 1 2 3 4 5; do
  systemctl restart bbb-fleet-configure.service && break
  [ "$attempt" -lt 5 ] || die "bbb-fleet-configure.service failed (journalctl -u bbb-fleet-configure)"
  sleep 10
done
# bbb-conf --setip keeps the scheme of the current serverURL (it does not look at nginx), and the
# recordings' playback_protocol is separate: both https, as bbb-install's install_ssl sets them.
web_props=/etc/bigbluebutton/bbb-web.properties
if grep -q '^bigbluebutton.web.serverURL=' "$web_props"; then
  sed -i "s|^bigbluebutton.web.serverURL=.*|bigbluebutton.web.serverURL=https://$fqdn|" "$web_props"
else
  printf 'bigbluebutton.web.serverURL=https://%s\n' "$fqdn" >>"$web_props"
fi
yq e -i '.playback_protocol = "https"' /usr/local/bigbluebutton/core/scripts/bigbluebutton.yml
bbb-conf --setip "$fqdn"
cert_dir="/etc/letsencrypt/live/$fqdn"
if [ ! -s "$cert_dir/fullchain.pem" ]; then
  email_args=(--register-unsafely-without-email)
  if [ -n "${LETSENCRYPT_EMAIL:-}" ]; then
    email_args=(--email "$LETSENCRYPT_EMAIL")
  fi
  # nginx serves /.well-known/acme-challenge from this webroot (installed by install-bbb.sh).
  mkdir -p /var/www/bigbluebutton-default/assets
  certbot certonly --non-interactive --agree-tos "${email_args[@]}" \
    --webroot --webroot-path /var/www/bigbluebutton-default/assets \
    --cert-name "$fqdn" --domain "$fqdn" \
    --deploy-hook 'systemctl reload nginx'
fi
# BBB's nginx site reads the certificate from these two paths (see install-bbb.sh).
install -d -m 0755 /etc/nginx/ssl
ln -sfn "$cert_dir/fullchain.pem" /etc/nginx/ssl/bbb-fullchain.pem
ln -sfn "$cert_dir/privkey.pem" /etc/nginx/ssl/bbb-privkey.pem
nginx -t
systemctl reload nginx
log "certificate for $fqdn in place"

# --- 5. recordings ----------------------------------------------------------------------------
if [ -n "${SCALELITE_RECORDINGS_DIR:-}" ]; then
  for attempt in $(seq 1 30); do
    mountpoint -q "$SCALELITE_RECORDINGS_DIR" && break
    log "waiting for the recordings EFS at $SCALELITE_RECORDINGS_DIR (attempt $attempt)"
    mount "$SCALELITE_RECORDINGS_DIR" 2>/dev/null || sleep 10
  done
  mountpoint -q "$SCALELITE_RECORDINGS_DIR" || die "$SCALELITE_RECORDINGS_DIR is not mounted"
  # Scalelite's post_publish script (kept by install-bbb.sh in /usr/local/lib/bbb-fleet) copies each
  # published recording to the spool directory Scalelite imports from.
  install -d -m 0755 /usr/local/bigbluebutton/core/scripts/post_publish
  install -m 0644 /usr/local/lib/bbb-fleet/scalelite_post_publish.rb \
    /usr/local/bigbluebutton/core/scripts/post_publish/scalelite_post_publish.rb
  cat >/usr/local/bigbluebutton/core/scripts/scalelite.yml <<EOF
# Written by bbb-fleet first boot from SCALELITE_RECORDINGS_DIR in $fleet_env.
work_dir: /var/bigbluebutton/recording/scalelite
spool_dir: $SCALELITE_RECORDINGS_DIR/spool
extra_rsync_opts: []
EOF
  install -d -o bigbluebutton -g bigbluebutton -m 0755 /var/bigbluebutton/recording/scalelite
  # The access point maps every write to the BBB POSIX user, whoever writes.
  mkdir -p "$SCALELITE_RECORDINGS_DIR/spool"
  log "recordings go to $SCALELITE_RECORDINGS_DIR/spool"
else
  log "SCALELITE_RECORDINGS_DIR not set: recordings stay on this server"
fi

# --- 6. monitoring agents -----------------------------------------------------------------------
if [ -n "${LOKI_PUSH_URL:-}" ]; then
  install -d -m 0755 /etc/promtail
  cat >/etc/promtail/push.env <<EOF
# Written by bbb-fleet first boot from LOKI_PUSH_URL in $fleet_env.
LOKI_PUSH_URL=$LOKI_PUSH_URL
PROMTAIL_HOSTNAME=$fqdn
BBB_FLEET_NAME=$BBB_FLEET_NAME
EOF
  systemctl enable promtail.service
  systemctl restart promtail.service
  log "promtail pushes to $LOKI_PUSH_URL"
else
  log "LOKI_PUSH_URL not set: promtail stays off"
fi

# --- 7. the hook ------------------------------------------------------------------------------
systemctl daemon-reload
# --no-block: the launch unit retries temporary failures itself (Restart=on-failure); a blocking start
# would fail first boot on its first failed attempt. Its outcome is the launching lifecycle action.
systemctl enable --now --no-block bbb-hook-launch.service bbb-hook-protect.timer bbb-hook-lifecycle.service
log "done: bbb-hook-launch.service started for $fqdn in fleet $BBB_FLEET_NAME (journalctl -u bbb-hook-launch)"
