#!/bin/bash
# First boot of a BBB server of the fleet, installed by the AMI as /usr/local/lib/bbb-fleet/first-boot
# and run once, as root, by the fleet module's cloud-init user data (after cloud-init has written
# /etc/bbb-fleet/fleet.env and mounted the recordings EFS). Only the steps that need this instance's
# identity are here; everything else is baked into the image (ami/scripts/install-*.sh).
#
#   1. the instance's DNS name from bbb-hook (IMDS + the fleet's hook configuration), set as hostname
#      (and in /etc/hosts); the systemd drop-ins that follow from the fleet (drain time limits from
#      drain.max_wait, RequiresMountsFor= the recordings EFS); the lifecycle watcher started
#   2. fresh per-instance secrets for BBB (every server of the image would otherwise share the
#      build's): the API shared secret, FreeSWITCH's event socket password, Etherpad's API key, the
#      GraphQL (Hasura) admin secret
#   3. the Route53 A record, in sync, before anything asks for a certificate
#   4. this instance's IPs (bbb-fleet-configure.service), BBB's hostname (bbb-conf --setip) and its certificate:
#      the fleet's shared wildcard (BBB_TLS_MODE=shared), or Let's Encrypt (HTTP-01) within a weekly budget
#   5. the recordings EFS: checked mounted, Scalelite's post_publish configuration pointing at it
#   6. monitoring agents: node_exporter and bbb-exporter bound to the private IP, Grafana Alloy's
#      push URL (LOKI_PUSH_URL)
#   7. the bbb-hook units: launch (DNS, Scalelite, lifecycle action), protect timer
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
# The name resolves locally without DNS (sudo, Java's InetAddress.getLocalHost, bbb-conf). cloud-init
# leaves /etc/hosts alone when manage_etc_hosts is off (Ubuntu's default), so an own line is kept.
if ! grep -q "^127\.0\.1\.1[[:space:]]\+$fqdn\([[:space:]]\|\$\)" /etc/hosts; then
  sed -i '/# bbb-fleet hostname$/d' /etc/hosts
  printf '127.0.1.1 %s %s # bbb-fleet hostname\n' "$fqdn" "${fqdn%%.*}" >>/etc/hosts
fi

# The drain's time limits from the fleet's drain.max_wait (bbb-hook timeouts), and the recordings
# EFS required by the recording workers and the launch unit: drop-ins, before anything restarts BBB.
timeouts=$(hook_retry timeouts)
unit_stop=$(printf '%s\n' "$timeouts" | sed -n 's/^UNIT_TIMEOUT_STOP_SEC=\([0-9]*\)$/\1/p')
job_timeout=$(printf '%s\n' "$timeouts" | sed -n 's/^SHUTDOWN_JOB_TIMEOUT_SEC=\([0-9]*\)$/\1/p')
[ -n "$unit_stop" ] && [ -n "$job_timeout" ] || die "bbb-hook timeouts printed no time limits: '$timeouts'"
/usr/local/lib/bbb-fleet/write-dropins --stop-timeout "$unit_stop" --job-timeout "$job_timeout" \
  --recordings-dir "${SCALELITE_RECORDINGS_DIR:-}" --recording-workers "${BBB_RECORDING_WORKERS:-}"
systemctl daemon-reload
# The recording workers' count takes effect when the unit starts again (bbb-conf --setip below
# restarts BBB too; this does not depend on it).
systemctl try-restart bbb-rap-resque-worker.service

# The lifecycle watcher first, before anything this instance changes outside itself (the A record,
# the registration): if the launch is abandoned, the watcher drains what was done.
systemctl enable --now --no-block bbb-hook-lifecycle.service

# --- 2. BBB's per-instance secrets -------------------------------------------------------------
# Each once (a marker in $state), before bbb-conf --setip restarts BBB in step 4. Values are written by
# shell builtins or through awk's environment, never passed on a command line (argv is world-readable
# in /proc), except where bbb-conf takes the value as its argument. ami/README.md ("Secrets") says what
# is and is not rotated.
new_secret() { openssl rand -hex 32; }
# file.tmp takes file's place with file's owner and mode.
replace_file() {
  chmod --reference="$1" "$1.tmp"
  chown --reference="$1" "$1.tmp"
  mv -f "$1.tmp" "$1"
}

# The API shared secret: bbb-conf writes it to bbb-web.properties, bbb-apps-akka.conf and webhooks.
if [ ! -e "$state/secret-rotated" ]; then
  bbb-conf --setsecret "$(new_secret)" >/dev/null
  touch "$state/secret-rotated"
  log "new BBB shared secret set"
fi

# FreeSWITCH's event socket password. bbb-conf --setip (step 4) copies the one in bbb-fsesl-akka.conf
# to FreeSWITCH's event_socket.conf.xml, bbb-webrtc-sfu and the transcription controller, and makes
# one itself only while it is still the default "ClueCon" (upstream bigbluebutton-config/bin/bbb-conf);
# an image whose build ran --setip would carry the build's. So a new one goes into bbb-fsesl-akka.conf.
esl_conf=/etc/bigbluebutton/bbb-fsesl-akka.conf
if [ ! -e "$state/esl-rotated" ] && [ -f "$esl_conf" ]; then
  # The first `password="..."` line, the one bbb-conf reads.
  NEW="$(openssl rand -hex 16)" awk '!done && /password[[:space:]]*=[[:space:]]*"/ { sub(/"[^"]*"/, "\"" ENVIRON["NEW"] "\""); done = 1 } { print } END { exit !done }' \
    "$esl_conf" >"$esl_conf.tmp" || die "$esl_conf has no password=\"...\" line to replace"
  replace_file "$esl_conf"
  touch "$state/esl-rotated"
  log "new FreeSWITCH event socket password (bbb-conf --setip propagates it)"
elif [ ! -e "$state/esl-rotated" ]; then
  log "warning: $esl_conf not found: the event socket password is left to bbb-conf --setip"
fi

# Etherpad's API key: etherpad reads APIKEY.txt; bbb-pads got a copy in its settings.json at install
# (upstream build/packages-template/bbb-pads/after-install.sh). The old value is replaced where it is.
etherpad_key=/usr/share/etherpad-lite/APIKEY.txt
pads_settings=/usr/local/bigbluebutton/bbb-pads/config/settings.json
if [ ! -e "$state/etherpad-key-rotated" ] && [ -s "$etherpad_key" ]; then
  old_key=$(cat "$etherpad_key")
  new_key=$(new_secret)
  if [ -f "$pads_settings" ]; then
    grep -qF -- "$old_key" "$pads_settings" || die "$pads_settings does not hold Etherpad's API key: bbb-pads would lose Etherpad"
    OLD="$old_key" NEW="$new_key" awk '{ while ((i = index($0, ENVIRON["OLD"])) > 0) $0 = substr($0, 1, i - 1) ENVIRON["NEW"] substr($0, i + length(ENVIRON["OLD"])); print }' \
      "$pads_settings" >"$pads_settings.tmp"
    replace_file "$pads_settings"
  fi
  printf '%s' "$new_key" >"$etherpad_key.tmp"
  replace_file "$etherpad_key"
  unset old_key new_key
  touch "$state/etherpad-key-rotated"
  log "new Etherpad API key (etherpad and bbb-pads)"
elif [ ! -e "$state/etherpad-key-rotated" ]; then
  log "warning: $etherpad_key not found: the Etherpad API key is NOT rotated (check the pinned bbb_version)"
fi

# The GraphQL server's (Hasura) admin secret, made once at package install (upstream
# build/packages-template/bbb-graphql-server/after-install.sh: admin-secret, and the Hasura CLI's
# config.yaml admin_secret), so otherwise the build's on every server.
hasura_secret=/usr/share/bbb-graphql-server/admin-secret
hasura_cli=/usr/share/bbb-graphql-server/config.yaml
if [ ! -e "$state/hasura-secret-rotated" ] && [ -s "$hasura_secret" ]; then
  admin=$(new_secret)
  printf 'HASURA_GRAPHQL_ADMIN_SECRET=%s\n' "$admin" >"$hasura_secret.tmp"
  replace_file "$hasura_secret"
  if [ -f "$hasura_cli" ]; then
    NEW="$admin" awk '/^admin_secret:/ { print "admin_secret: " ENVIRON["NEW"]; next } { print }' "$hasura_cli" >"$hasura_cli.tmp"
    replace_file "$hasura_cli"
  fi
  unset admin
  touch "$state/hasura-secret-rotated"
  log "new GraphQL (Hasura) admin secret"
elif [ ! -e "$state/hasura-secret-rotated" ]; then
  # Its place moved within BBB 3.0.x (/etc/default/bbb-graphql-server, admin-secret, admin-secret.txt
  # in upstream's history): say so rather than claim a rotation that did not happen.
  log "warning: $hasura_secret not found: the GraphQL (Hasura) admin secret is NOT rotated (check the pinned bbb_version)"
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
# BBB_TLS_MODE (fleet.env): "shared" (the default when BBB_TLS_CERTIFICATE_PARAMETER is set) installs the
# fleet's wildcard certificate and never runs certbot, so replacing servers uses no Let's Encrypt quota;
# "letsencrypt" asks Let's Encrypt (HTTP-01) for this server's name, within a fleet-wide weekly budget.
bbb-conf --setip "$fqdn"
tls_mode=${BBB_TLS_MODE:-}
if [ -z "$tls_mode" ]; then
  tls_mode=letsencrypt
  [ -z "${BBB_TLS_CERTIFICATE_PARAMETER:-}" ] || tls_mode=shared
fi
install -d -m 0755 /etc/nginx/ssl
case $tls_mode in
  shared)
    # bbb-hook (as its user) checks the document (key, name, dates) and writes /etc/bbb-fleet/tls/bbb.pem:
    # certificates then key, mode 0600; nginx's master process reads it as root. A bad document stops
    # first boot here (exit 78, the parameter and the reason in the log).
    hook_retry tls install
    ln -sfn /etc/bbb-fleet/tls/bbb.pem /etc/nginx/ssl/bbb-fullchain.pem
    ln -sfn /etc/bbb-fleet/tls/bbb.pem /etc/nginx/ssl/bbb-privkey.pem
    # Renewals: bbb-hook protect re-reads the document every 10 minutes and replaces bbb.pem; this path
    # unit then runs nginx -t and reloads nginx.
    systemctl enable --now bbb-fleet-tls-reload.path
    ;;
  letsencrypt)
    cert_dir="/etc/letsencrypt/live/$fqdn"
    # A certificate already issued for this name (first boot run again) is reused, never asked for again.
    if [ ! -s "$cert_dir/fullchain.pem" ]; then
      # The fleet-wide budget: bbb-hook records this request under the fleet's SSM path, or refuses with
      # exit 78 once BBB_LETSENCRYPT_WEEKLY_BUDGET (default 40 of Let's Encrypt's 50 per registered domain)
      # were asked for in the last 7 days. First boot then stops without asking: the launch is abandoned
      # and a relaunch loop costs no quota. There is no fallback to --staging (browsers refuse its
      # certificates): a refused budget is an error to fix, e.g. with BBB_TLS_MODE=shared.
      hook_retry tls budget
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
    ln -sfn "$cert_dir/fullchain.pem" /etc/nginx/ssl/bbb-fullchain.pem
    ln -sfn "$cert_dir/privkey.pem" /etc/nginx/ssl/bbb-privkey.pem
    ;;
  *) die "BBB_TLS_MODE must be shared or letsencrypt, got '$tls_mode'" ;;
esac
nginx -t
systemctl reload nginx
log "certificate for $fqdn in place (BBB_TLS_MODE=$tls_mode)"

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
  # The access point maps every write to the BBB POSIX user, whoever writes. Group-writable (and setgid):
  # Scalelite's importer mounts as its own uid with the BBB group and must move and delete what it imported.
  # install -d also fixes a spool an older server created 0755 (this mount is its owner).
  install -d -m 2775 "$SCALELITE_RECORDINGS_DIR/spool"
  log "recordings go to $SCALELITE_RECORDINGS_DIR/spool"
else
  log "SCALELITE_RECORDINGS_DIR not set: recordings stay on this server"
fi

# --- 6. monitoring agents -----------------------------------------------------------------------
# node_exporter (:9100) and bbb-exporter (:9688) listen on the private IP only (the monitoring
# module scrapes them inside the VPC); until this ran they listen on 127.0.0.1 (their units' default).
imds_token=$(curl --fail --silent --show-error --max-time 5 --retry 5 -X PUT \
  -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' http://169.254.169.254/latest/api/token)
private_ip=$(curl --fail --silent --show-error --max-time 5 --retry 5 \
  -H "X-aws-ec2-metadata-token: $imds_token" http://169.254.169.254/latest/meta-data/local-ipv4)
unset imds_token
[[ $private_ip =~ ^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "instance metadata gave no private IPv4: '$private_ip'"
install -d -m 0755 /etc/bbb-fleet
printf '# Written by bbb-fleet first boot.\nNODE_EXPORTER_LISTEN=%s:9100\n' "$private_ip" >/etc/bbb-fleet/node_exporter.env
systemctl restart node_exporter.service

# bbb-exporter asks bbb-web on loopback with BBB's (new) shared secret: an environment file readable by
# root and the exporter's group only.
bbb_salt=$(sed -n 's/^securitySalt=//p' /etc/bigbluebutton/bbb-web.properties | tail -n 1)
[ -n "$bbb_salt" ] || die "no securitySalt in /etc/bigbluebutton/bbb-web.properties"
(
  umask 0027
  {
    printf '# Written by bbb-fleet first boot: bbb-exporter settings (upstream bbb-exporter/settings.py).\n'
    printf 'API_BASE_URL=http://127.0.0.1:8090/bigbluebutton/api/\n'
    printf 'API_SECRET=%s\n' "$bbb_salt"
    printf 'BIND_IP=%s\nPORT=9688\nRECORDINGS_METRICS_READ_FROM_DISK=true\n' "$private_ip"
  } >/etc/bbb-fleet/bbb-exporter.env.tmp
)
unset bbb_salt
chown root:bbb-exporter /etc/bbb-fleet/bbb-exporter.env.tmp
chmod 0640 /etc/bbb-fleet/bbb-exporter.env.tmp
mv -f /etc/bbb-fleet/bbb-exporter.env.tmp /etc/bbb-fleet/bbb-exporter.env
systemctl enable bbb-exporter.service
systemctl restart bbb-exporter.service
log "node_exporter on $private_ip:9100, bbb-exporter on $private_ip:9688"

# Grafana Alloy ships the journal and BBB's logs to the fleet's Loki (LOKI_PUSH_URL, the contract
# Promtail had).
if [ -n "${LOKI_PUSH_URL:-}" ]; then
  install -d -m 0755 /etc/alloy
  # Root only (systemd reads EnvironmentFile= as root), and the URL is not logged: a push URL may
  # carry credentials (https://user:token@...), and first boot's output reaches the EC2 console log.
  (
    umask 0077
    cat >/etc/alloy/push.env.tmp <<EOF
# Written by bbb-fleet first boot from LOKI_PUSH_URL in $fleet_env.
LOKI_PUSH_URL=$LOKI_PUSH_URL
BBB_LOG_HOST=$fqdn
BBB_FLEET_NAME=$BBB_FLEET_NAME
EOF
  )
  mv -f /etc/alloy/push.env.tmp /etc/alloy/push.env
  systemctl enable alloy.service
  systemctl restart alloy.service
  log "alloy pushes to the fleet's Loki (LOKI_PUSH_URL in $fleet_env)"
else
  log "LOKI_PUSH_URL not set: alloy stays off"
fi

# --- 7. the hook ------------------------------------------------------------------------------
systemctl daemon-reload
# --no-block: the launch unit retries temporary failures itself (Restart=on-failure); a blocking start
# would fail first boot on its first failed attempt. Its outcome is the launching lifecycle action.
# The protect timer is enabled into bbb-hook-launch.service.wants/ (WantedBy=): it runs while the
# launch unit is active. The lifecycle watcher was started in step 1.
systemctl enable bbb-hook-protect.timer
systemctl enable --now --no-block bbb-hook-launch.service
log "done: bbb-hook-launch.service started for $fqdn in fleet $BBB_FLEET_NAME (journalctl -u bbb-hook-launch)"
