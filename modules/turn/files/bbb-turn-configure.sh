#!/bin/bash
# bbb-turn-configure: coturn on the TURN server of a BBB fleet (written by cloud-init from modules/turn).
#
#   install      first boot (cloud-init runcmd): packages without starting coturn, units, first start
#   config       every boot, before coturn (bbb-turn-configure.service): /etc/turnserver.conf from the
#                static-auth-secret in SSM and the addresses from IMDS, then the certificate
#   certificate  boot and hourly (bbb-turn-certificate.timer): the TLS certificate for TURN over TLS
#   deploy       certbot's deploy hook: copy the renewed Let's Encrypt certificate for coturn
#
# Settings (no secret) come from /etc/bbb-turn/turn.env. The secret is fetched with the instance role and
# written only to /etc/turnserver.conf (root:turnserver 0640); it is never printed or passed in argv.
# The configuration follows BigBlueButton's TURN documentation (docs/docs/administration/turn-server.md);
# see modules/turn/README.md.
set -euo pipefail
umask 077

# The paths and coturn's group can be moved for scripts/test-turn-configure only.
readonly ENV_FILE=${BBB_TURN_ENV_FILE:-/etc/bbb-turn/turn.env}
readonly CONF=${BBB_TURN_CONF:-/etc/turnserver.conf}
readonly CERT_DIR=${BBB_TURN_CERT_DIR:-/etc/turnserver}
readonly TURN_GROUP=${BBB_TURN_GROUP:-turnserver}
readonly IMDS=${BBB_TURN_IMDS:-http://169.254.169.254}
readonly POLICY_RC=${BBB_TURN_POLICY_RC:-/usr/sbin/policy-rc.d}

log() { printf 'bbb-turn-configure: %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

load_env() {
  [ -r "$ENV_FILE" ] || die "$ENV_FILE is missing (written by the turn module's user data)"
  # TURN_*=VALUE lines, read literally (not sourced: a value is data, never shell).
  local line key v
  while IFS= read -r line || [ -n "$line" ]; do
    case $line in '' | '#'*) continue ;; esac
    key=${line%%=*}
    [[ $key =~ ^TURN_[A-Z0-9_]+$ ]] || die "unexpected line in $ENV_FILE: $line"
    printf -v "$key" '%s' "${line#*=}"
  done <"$ENV_FILE"
  for v in TURN_REGION TURN_HOSTNAME TURN_REALM TURN_PUBLIC_IP TURN_SECRET_PARAMETER TURN_CERTIFICATE_MODE \
    TURN_CERTIFICATE_PARAMETER TURN_LETSENCRYPT_EMAIL TURN_RELAY_MIN_PORT TURN_RELAY_MAX_PORT TURN_TLS_5349; do
    [ -n "${!v:-}" ] || die "$v is not set in $ENV_FILE"
  done
  case "$TURN_CERTIFICATE_MODE" in
    shared | letsencrypt) ;;
    *) die "TURN_CERTIFICATE_MODE must be shared or letsencrypt, not $TURN_CERTIFICATE_MODE" ;;
  esac
}

# IMDSv2 only (the instance requires tokens).
imds() {
  local token
  token=$(curl -fsS --retry 5 --retry-connrefused -X PUT "$IMDS/latest/api/token" \
    -H 'X-aws-ec2-metadata-token-ttl-seconds: 300') || die "no IMDSv2 token"
  curl -fsS --retry 5 --retry-connrefused -H "X-aws-ec2-metadata-token: $token" "$IMDS/latest/meta-data/$1" ||
    die "IMDS meta-data/$1 unavailable"
}

# Prints the decrypted value of SSM parameter $1 on stdout, retrying for about five minutes (the role's
# credentials and the network may come up after this unit). Errors name the parameter, never the value.
ssm_get() {
  local name=$1 attempt
  for attempt in 1 2 3 4 5 6 7 8 9 10; do
    if python3 - "$name" "$TURN_REGION" <<'PY'; then
import sys
import boto3
import botocore.exceptions

name, region = sys.argv[1], sys.argv[2]
try:
    value = boto3.client("ssm", region_name=region).get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]
except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as e:
    print(f"bbb-turn-configure: reading SSM parameter {name}: {type(e).__name__}: {e}", file=sys.stderr)
    sys.exit(1)
sys.stdout.write(value)
PY
      return 0
    fi
    log "SSM parameter $name not readable yet (attempt $attempt/10), retrying in 30s"
    sleep 30
  done
  die "could not read SSM parameter $name"
}

write_config() {
  local private_ip secret tmp
  private_ip=$(imds local-ipv4)
  [[ $private_ip =~ ^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "IMDS local-ipv4 is not an IPv4 address"
  [[ $TURN_PUBLIC_IP =~ ^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "TURN_PUBLIC_IP is not an IPv4 address"
  secret=$(ssm_get "$TURN_SECRET_PARAMETER")
  [ -n "$secret" ] || die "SSM parameter $TURN_SECRET_PARAMETER is empty"
  [[ $secret =~ ^[A-Za-z0-9+/=_.-]+$ ]] || die "the secret in $TURN_SECRET_PARAMETER has characters other than letters, digits and +/=_.- (not safe in turnserver.conf and turn-stun-servers.xml)"

  tmp=$(mktemp "$(dirname "$CONF")/.turnserver.conf.XXXXXX")
  cat >"$tmp" <<EOF
# Written at boot by bbb-turn-configure (modules/turn); edits are lost at the next boot.
listening-port=3478
tls-listening-port=443

# EC2: the Elastic IP is NATed to the private address (coturn's "For Amazon EC2 users" mapping).
listening-ip=$private_ip
relay-ip=$private_ip
external-ip=$TURN_PUBLIC_IP/$private_ip

min-port=$TURN_RELAY_MIN_PORT
max-port=$TURN_RELAY_MAX_PORT

# TURN REST API credentials: BigBlueButton derives them from the shared secret.
fingerprint
use-auth-secret
static-auth-secret=$secret
realm=$TURN_REALM
server-name=$TURN_HOSTNAME

cert=$CERT_DIR/fullchain.pem
pkey=$CERT_DIR/privkey.pem
cipher-list="ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
no-tlsv1
no-tlsv1_1

keep-address-family
no-cli
# Browsers relay UDP only (RFC 6062 TCP relays are not used by WebRTC).
no-tcp-relay
no-multicast-peers
no-software-attribute
syslog

# Relay only to public peers (the BBB servers' public addresses): no private, link-local (IMDS) or
# special-purpose range, so the relay cannot reach into the VPC.
denied-peer-ip=0.0.0.0-0.255.255.255
denied-peer-ip=10.0.0.0-10.255.255.255
denied-peer-ip=100.64.0.0-100.127.255.255
denied-peer-ip=127.0.0.0-127.255.255.255
denied-peer-ip=169.254.0.0-169.254.255.255
denied-peer-ip=172.16.0.0-172.31.255.255
denied-peer-ip=192.0.0.0-192.0.0.255
denied-peer-ip=192.0.2.0-192.0.2.255
denied-peer-ip=192.168.0.0-192.168.255.255
denied-peer-ip=198.18.0.0-198.19.255.255
denied-peer-ip=198.51.100.0-198.51.100.255
denied-peer-ip=203.0.113.0-203.0.113.255
denied-peer-ip=240.0.0.0-255.255.255.255
denied-peer-ip=::-::ffff
denied-peer-ip=::ffff:0:0-::ffff:ffff:ffff
denied-peer-ip=64:ff9b::-64:ff9b::ffff:ffff
denied-peer-ip=64:ff9b:1::-64:ff9b:1:ffff:ffff:ffff:ffff:ffff
denied-peer-ip=2001::-2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff
denied-peer-ip=2001:db8::-2001:db8:ffff:ffff:ffff:ffff:ffff:ffff
denied-peer-ip=2002::-2002:ffff:ffff:ffff:ffff:ffff:ffff:ffff
denied-peer-ip=fc00::-fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff
denied-peer-ip=fe80::-febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff
EOF
  unset secret
  chown "root:$TURN_GROUP" "$tmp"
  chmod 0640 "$tmp"
  mv -f "$tmp" "$CONF"
  # coturn has one TLS port (443); the standard TURN-over-TLS port 5349 is redirected to it when enabled.
  if [ "$TURN_TLS_5349" = true ]; then
    iptables -t nat -C PREROUTING -p tcp --dport 5349 -j REDIRECT --to-ports 443 2>/dev/null ||
      iptables -t nat -A PREROUTING -p tcp --dport 5349 -j REDIRECT --to-ports 443 ||
      die "could not redirect 5349/tcp to 443"
  fi
  log "wrote $CONF: listening on $private_ip (external $TURN_PUBLIC_IP), relay ports $TURN_RELAY_MIN_PORT-$TURN_RELAY_MAX_PORT, realm $TURN_REALM"
}

# Installs fullchain.pem and privkey.pem from directory $1 for coturn if they differ from the current ones,
# after checking that the key matches the certificate and the certificate covers the host name.
install_certificate() {
  local dir=$1 changed=false had_certificate=false f
  [ -s "$dir/fullchain.pem" ] && [ -s "$dir/privkey.pem" ] || die "certificate or key missing"
  openssl x509 -in "$dir/fullchain.pem" -noout -checkhost "$TURN_HOSTNAME" | grep -q 'does match' ||
    die "the certificate does not cover $TURN_HOSTNAME"
  [ "$(openssl x509 -in "$dir/fullchain.pem" -noout -pubkey)" = "$(openssl pkey -in "$dir/privkey.pem" -pubout)" ] ||
    die "the private key does not belong to the certificate"
  openssl x509 -in "$dir/fullchain.pem" -noout -checkend 0 >/dev/null || die "the certificate has expired"
  [ -s "$CERT_DIR/fullchain.pem" ] && had_certificate=true
  install -d -m 0750 -o root -g "$TURN_GROUP" "$CERT_DIR"
  for f in fullchain.pem privkey.pem; do
    if ! cmp -s "$dir/$f" "$CERT_DIR/$f"; then
      install -m 0640 -o root -g "$TURN_GROUP" "$dir/$f" "$CERT_DIR/.$f.new"
      mv -f "$CERT_DIR/.$f.new" "$CERT_DIR/$f"
      changed=true
    fi
  done
  if [ "$changed" = true ]; then
    log "installed the certificate for $TURN_HOSTNAME (expires $(openssl x509 -in "$CERT_DIR/fullchain.pem" -noout -enddate | cut -d= -f2))"
    # coturn reloads its certificates on SIGUSR2 (mainrelay.c reload_ssl_certs), but a coturn started without
    # a certificate has no TLS listener to reload (openssl_setup turns TLS off): that one is restarted.
    if [ "$had_certificate" = true ]; then
      if systemctl is-active --quiet coturn.service; then systemctl kill -s USR2 coturn.service; fi
    else
      systemctl try-restart coturn.service
    fi
  fi
}

# The shared certificate document, as the fleet's BBB_TLS_CERTIFICATE_PARAMETER holds it (modules/fleet,
# bbb-hook's tls/cert.rs): a JSON object {"fullchain": PEM certificates leaf first, "private_key": PEM}, or
# a PEM bundle (private key and certificates). "certificate" and "chain" are accepted in place of fullchain.
shared_certificate() {
  local work
  work=$(mktemp -d)
  # shellcheck disable=SC2064 # expand now: the directory of this call
  trap "rm -rf '$work'" RETURN
  # The program is an argument: stdin carries the document.
  local split
  split=$(
    cat <<'PY'
import json
import re
import sys

PEM = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----.+?-----END \1-----", re.S)
out = sys.argv[1]
doc = sys.stdin.read()
try:
    obj = json.loads(doc)
except ValueError:
    obj = None
if isinstance(obj, dict):
    doc = "\n".join(str(obj.get(k) or "") for k in ("fullchain", "certificate", "chain", "private_key"))
certs, keys = [], []
for m in PEM.finditer(doc):
    if m.group(1) == "CERTIFICATE" and m.group(0) not in certs:
        certs.append(m.group(0))
    elif m.group(1).endswith("PRIVATE KEY"):
        keys.append(m.group(0))
if not certs or len(keys) != 1:
    sys.exit(1)
with open(f"{out}/fullchain.pem", "w") as f:
    f.write("\n".join(certs) + "\n")
with open(f"{out}/privkey.pem", "w") as f:
    f.write(keys[0] + "\n")
PY
  )
  ssm_get "$TURN_CERTIFICATE_PARAMETER" | python3 -c "$split" "$work" ||
    die "the document in $TURN_CERTIFICATE_PARAMETER is not a PEM bundle or a JSON certificate document"
  install_certificate "$work"
}

letsencrypt_certificate() {
  local live=/etc/letsencrypt/live/$TURN_HOSTNAME email_args=(--register-unsafely-without-email) attempt
  [ "$TURN_LETSENCRYPT_EMAIL" != "-" ] && email_args=(--email "$TURN_LETSENCRYPT_EMAIL")
  if [ ! -s "$live/fullchain.pem" ]; then
    # The A record and the Elastic IP may be a minute behind the first boot; a few spaced attempts stay well
    # under Let's Encrypt's limit of 5 failed validations per host name per hour.
    for attempt in 1 2 3; do
      if certbot certonly --standalone --non-interactive --agree-tos --preferred-challenges http \
        "${email_args[@]}" -d "$TURN_HOSTNAME" --deploy-hook "/usr/local/sbin/bbb-turn-configure deploy"; then
        break
      fi
      [ "$attempt" = 3 ] && die "certbot could not get a certificate for $TURN_HOSTNAME (retried hourly by bbb-turn-certificate.timer)"
      log "certbot failed (attempt $attempt/3), retrying in 120s"
      sleep 120
    done
  fi
  # certbot.timer (the certbot package) renews; its deploy hook copies the renewed files.
  install_certificate "$live"
}

cmd_certificate() {
  load_env
  if [ "$TURN_CERTIFICATE_MODE" = shared ]; then shared_certificate; else letsencrypt_certificate; fi
}

cmd_deploy() {
  load_env
  install_certificate "${RENEWED_LINEAGE:-/etc/letsencrypt/live/$TURN_HOSTNAME}"
}

cmd_config() {
  load_env
  write_config
  # Without a certificate coturn still serves STUN/TURN on 3478; the timer retries TLS.
  # A separate process: its own errors end it (set -e), not this unit, which coturn requires.
  "$0" certificate || log "no TLS certificate yet: TURN over TLS stays off until bbb-turn-certificate.timer installs one"
}

cmd_install() {
  load_env
  export DEBIAN_FRONTEND=noninteractive
  local packages=(coturn python3-boto3 curl openssl) attempt
  [ "$TURN_CERTIFICATE_MODE" = letsencrypt ] && packages+=(certbot)
  [ "$TURN_TLS_5349" = true ] && packages+=(iptables)
  # coturn must never run with the package's default configuration (no authentication: an open relay):
  # policy-rc.d keeps the package scripts from starting it; it starts after bbb-turn-configure.
  printf '#!/bin/sh\nexit 101\n' >"$POLICY_RC"
  chmod 0755 "$POLICY_RC"
  trap 'rm -f "$POLICY_RC"' EXIT
  for attempt in 1 2 3 4 5; do
    if apt-get update -q && apt-get install -y -q --no-install-recommends "${packages[@]}"; then break; fi
    [ "$attempt" = 5 ] && die "apt-get could not install ${packages[*]}"
    log "apt-get failed (attempt $attempt/5), retrying in 30s"
    sleep 30
  done
  rm -f "$POLICY_RC"
  systemctl daemon-reload
  systemctl enable bbb-turn-configure.service bbb-turn-certificate.timer coturn.service
  systemctl start bbb-turn-configure.service
  systemctl start coturn.service bbb-turn-certificate.timer
  # policy-rc.d also kept the certbot package from starting its renewal timer (enabled by the package, it
  # would otherwise first run after a reboot, and a server that never reboots would let the certificate expire).
  if [ "$TURN_CERTIFICATE_MODE" = letsencrypt ]; then systemctl enable --now certbot.timer; fi
  log "coturn is running for $TURN_HOSTNAME"
}

case "${1:-}" in
  install) cmd_install ;;
  config) cmd_config ;;
  certificate) cmd_certificate ;;
  deploy) cmd_deploy ;;
  *) die "usage: bbb-turn-configure install|config|certificate|deploy" ;;
esac
