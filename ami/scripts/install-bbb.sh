#!/bin/bash
# Image build: BigBlueButton 3.0 from its official apt repository (jammy-300) on Ubuntu 22.04, without
# any instance hostname or certificate: first boot (first-boot.sh) sets the hostname with
# `bbb-conf --setip`, rotates the shared secret and requests the certificate.
#
# This follows the package path of bbb-install.sh for jammy-300 (repositories, then the `bigbluebutton`
# metapackage) but none of its host steps (hostname, DNS checks, Let's Encrypt, firewall, coturn).
#
# Environment (set by the Packer template from its variables):
#   BBB_REPOSITORY    default https://ubuntu.bigbluebutton.org/jammy-300
#   BBB_VERSION       version of the bigbluebutton package (required; the AMI's tag bbb:bbb-version)
#   NODE_MAJOR        Node.js major from NodeSource, default 22
#   MONGODB_VERSION   MongoDB series, default 6.0
#   EFS_UTILS_VERSION aws/efs-utils tag for the `efs` mount type, default v1.36.0
#   SCALELITE_VERSION tag of Scalelite whose post_publish script is installed, default v1.8.5
#   SCALELITE_POST_PUBLISH_SHA256  sha256 of that tag's bigbluebutton/scalelite_post_publish.rb (required)
set -euo pipefail

BBB_REPOSITORY=${BBB_REPOSITORY:-https://ubuntu.bigbluebutton.org/jammy-300}
: "${BBB_VERSION:?set BBB_VERSION, the bigbluebutton package version to install (apt-cache policy bigbluebutton)}"
NODE_MAJOR=${NODE_MAJOR:-22}
MONGODB_VERSION=${MONGODB_VERSION:-6.0}
EFS_UTILS_VERSION=${EFS_UTILS_VERSION:-v1.36.0}
SCALELITE_VERSION=${SCALELITE_VERSION:-v1.8.5}
[[ ${SCALELITE_POST_PUBLISH_SHA256:-} =~ ^[0-9a-f]{64}$ ]] ||
  { printf 'install-bbb: error: SCALELITE_POST_PUBLISH_SHA256 must be the sha256 of scalelite_post_publish.rb at %s\n' "$SCALELITE_VERSION" >&2; exit 1; }
export DEBIAN_FRONTEND=noninteractive
apt_opts=(-y -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
log() { printf 'install-bbb: %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

[ "$(id -u)" -eq 0 ] || die "must run as root"
# shellcheck source=/dev/null
. /etc/os-release
[ "${VERSION_CODENAME:-}" = jammy ] || die "BigBlueButton 3.0 needs Ubuntu 22.04 (jammy), not ${VERSION_CODENAME:-unknown}"
[ "$(dpkg --print-architecture)" = amd64 ] || die "BigBlueButton packages exist for amd64 only"

# cloud-init's own apt runs may still hold the lock on a fresh build instance.
cloud-init status --wait >/dev/null 2>&1 || true

# keyring name, key URL: stores the dearmored key under /etc/apt/keyrings.
add_key() {
  install -d -m 0755 /etc/apt/keyrings
  curl --fail --silent --show-error --location --retry 5 "$2" | gpg --dearmor --yes -o "/etc/apt/keyrings/$1.gpg"
  chmod 0644 "/etc/apt/keyrings/$1.gpg"
}

apt-get update
apt-get "${apt_opts[@]}" dist-upgrade
apt-get "${apt_opts[@]}" install --no-install-recommends \
  ca-certificates curl gnupg software-properties-common apt-transport-https haveged \
  openjdk-17-jre-headless ruby certbot openssl xmlstarlet git binutils make \
  nfs-common stunnel4 python3 rsync

# --- repositories -----------------------------------------------------------------------------
add_key bigbluebutton "${BBB_REPOSITORY%/*}/repo/bigbluebutton.asc"
echo "deb [signed-by=/etc/apt/keyrings/bigbluebutton.gpg] $BBB_REPOSITORY bigbluebutton-jammy main" \
  >/etc/apt/sources.list.d/bigbluebutton.list

add_key mongodb "https://www.mongodb.org/static/pgp/server-$MONGODB_VERSION.asc"
echo "deb [arch=amd64 signed-by=/etc/apt/keyrings/mongodb.gpg] https://repo.mongodb.org/apt/ubuntu jammy/mongodb-org/$MONGODB_VERSION multiverse" \
  >/etc/apt/sources.list.d/mongodb-org.list

add_key nodesource https://deb.nodesource.com/gpgkey/nodesource-repo.gpg.key
echo "deb [signed-by=/etc/apt/keyrings/nodesource.gpg] https://deb.nodesource.com/node_$NODE_MAJOR.x nodistro main" \
  >/etc/apt/sources.list.d/nodesource.list

# Docker runs LibreOffice for presentation conversion (bbb-libreoffice-docker).
add_key docker https://download.docker.com/linux/ubuntu/gpg
echo "deb [arch=amd64 signed-by=/etc/apt/keyrings/docker.gpg] https://download.docker.com/linux/ubuntu jammy stable" \
  >/etc/apt/sources.list.d/docker.list

# yq (mikefarah's syntax), used by bbb-conf to edit BBB's YAML settings.
add-apt-repository -y ppa:rmescandon/yq
# BigBlueButton's support PPA, which bbb-install.sh adds on jammy for packages BBB's depend on
# ("Needed for libopusenc0"; bigbluebutton/bbb-install v3.0.x-release, need_ppa).
add-apt-repository -y ppa:bigbluebutton/support

apt-get update
apt-get "${apt_opts[@]}" install docker-ce docker-ce-cli containerd.io yq nodejs "mongodb-org"
# Exactly the pinned version (apt fails when the repository does not have it), not whatever 3.0.x is
# newest today; every bbb-* package's version goes into the image for the record.
apt-get "${apt_opts[@]}" install "bigbluebutton=$BBB_VERSION"
[ "$(dpkg-query -W -f '${Version}' bigbluebutton)" = "$BBB_VERSION" ] || die "bigbluebutton is not at $BBB_VERSION"
apt-mark hold bigbluebutton >/dev/null
install -d -m 0755 /usr/local/share/doc/bbb-fleet
dpkg-query -W -f '${Package} ${Version}\n' 'bbb-*' bigbluebutton >/usr/local/share/doc/bbb-fleet/bbb-packages.txt

props=/usr/share/bbb-web/WEB-INF/classes/bigbluebutton.properties
[ -f "$props" ] || die "$props missing after installing bigbluebutton"
getent group bigbluebutton >/dev/null || die "the bigbluebutton packages created no bigbluebutton group"
# The local overrides hold the shared secret: readable by bbb-web and the hook (group), nobody else.
touch /etc/bigbluebutton/bbb-web.properties
chown root:bigbluebutton /etc/bigbluebutton/bbb-web.properties
chmod 0640 /etc/bigbluebutton/bbb-web.properties

# --- nginx: HTTPS with a placeholder certificate until first boot -------------------------------
# The site is HTTPS from the start; first boot points the two symlinks at the Let's Encrypt
# certificate of the instance's name. bbb-conf --setip keeps the scheme of the current
# bigbluebutton.web.serverURL (upstream bigbluebutton-config/bin/bbb-conf: PROTOCOL=https only when
# serverURL already has it) and touches neither nginx's server_name nor the scheme, so the https
# switch bbb-install.sh makes in install_ssl() (bigbluebutton/bbb-install, v3.0.x-release) is made
# here, once, for every server: serverURL and the recordings' playback_protocol become https.
install -d -m 0755 /etc/nginx/ssl /etc/ssl/bbb-fleet
if [ ! -s /etc/ssl/bbb-fleet/placeholder.pem ]; then
  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=bbb-fleet-placeholder" \
    -keyout /etc/ssl/bbb-fleet/placeholder.key -out /etc/ssl/bbb-fleet/placeholder.pem 2>/dev/null
  chmod 0600 /etc/ssl/bbb-fleet/placeholder.key
fi
ln -sfn /etc/ssl/bbb-fleet/placeholder.pem /etc/nginx/ssl/bbb-fullchain.pem
ln -sfn /etc/ssl/bbb-fleet/placeholder.key /etc/nginx/ssl/bbb-privkey.pem
cat >/etc/nginx/sites-available/bigbluebutton <<'NGINX'
# Written by the bbb-fleet AMI (ami/scripts/install-bbb.sh). One server per port, so server_name
# (left at localhost: bbb-conf --setip does not change it) matches every host name.
server {
  listen 80;
  listen [::]:80;
  server_name localhost;

  # Let's Encrypt HTTP-01 (certbot --webroot, first boot and renewals).
  location ^~ /.well-known/acme-challenge/ {
    root /var/www/bigbluebutton-default/assets;
  }
  location / {
    return 301 https://$host$request_uri;
  }
}

server {
  listen 443 ssl http2;
  listen [::]:443 ssl http2;
  server_name localhost;

  ssl_certificate /etc/nginx/ssl/bbb-fullchain.pem;
  ssl_certificate_key /etc/nginx/ssl/bbb-privkey.pem;
  ssl_session_cache shared:SSL:10m;
  ssl_session_timeout 10m;
  ssl_protocols TLSv1.2 TLSv1.3;
  ssl_prefer_server_ciphers off;
  add_header Strict-Transport-Security "max-age=63072000" always;

  access_log /var/log/nginx/bigbluebutton.access.log;

  # BBB's include files use $real_scheme rather than $scheme; nginx refuses the whole configuration
  # when no server sets it (bigbluebutton/bigbluebutton PR 17732, issues 17857 and 18118;
  # bbb-install.sh sets it the same way when nginx terminates TLS itself).
  set $real_scheme $scheme;

  location / {
    root /var/www/bigbluebutton-default/assets;
    try_files $uri @bbb-fe;
  }

  # BBB's own locations (bbb-web API, HTML5 client, recordings, SIP).
  include /etc/bigbluebutton/nginx/*.nginx;
}
NGINX
ln -sfn /etc/nginx/sites-available/bigbluebutton /etc/nginx/sites-enabled/bigbluebutton
# The landing page's fallback, @bbb-fe: bbb-install.sh creates it, not BBB's packages; only when no
# front end (or a disabled one) is there already, as bbb-install.sh does.
fe=/usr/share/bigbluebutton/nginx/default-fe.nginx
if [ -d "${fe%/*}" ] && [ ! -e "$fe" ] && [ ! -e "$fe.disabled" ]; then
  printf '%s\n' '# Default BigBlueButton landing page (bbb-fleet AMI, as bbb-install.sh writes it).' \
    'location @bbb-fe {' '  index index.html index.htm;' '  expires 1m;' '}' >"$fe"
fi
nginx -t

# https in BBB's own URLs (see above): what bbb-conf --setip reads the scheme from.
sed -i 's/^bigbluebutton.web.serverURL=http:/bigbluebutton.web.serverURL=https:/' \
  "$props" /etc/bigbluebutton/bbb-web.properties
rap_yml=/usr/local/bigbluebutton/core/scripts/bigbluebutton.yml
if [ -f "$rap_yml" ]; then
  yq e -i '.playback_protocol = "https"' "$rap_yml"
  chmod 0644 "$rap_yml"
fi
grep -q '^bigbluebutton.web.serverURL=https:' "$props" /etc/bigbluebutton/bbb-web.properties ||
  die "bigbluebutton.web.serverURL is not https after the switch (bbb-conf --setip would make it http)"

# --- recordings: EFS mount type and Scalelite's post_publish script -----------------------------
# amazon-efs-utils is not in Ubuntu's archive: built from the pinned tag (1.x needs no Rust).
efs_src=$(mktemp -d)
git clone --quiet --depth 1 --branch "$EFS_UTILS_VERSION" https://github.com/aws/efs-utils "$efs_src"
(cd "$efs_src" && ./build-deb.sh)
apt-get "${apt_opts[@]}" install "$efs_src"/build/amazon-efs-utils*.deb
rm -rf "$efs_src"

# Copied into post_publish/ by first boot only when the fleet has a recordings EFS.
install -d -m 0755 /usr/local/lib/bbb-fleet
# A tag (v1.6.0 ... v1.6.12.1, v1.8.x), not a series: a name that is no tag fails the download.
curl --fail --silent --show-error --location --retry 5 \
  -o /usr/local/lib/bbb-fleet/scalelite_post_publish.rb.tmp \
  "https://raw.githubusercontent.com/blindsidenetworks/scalelite/$SCALELITE_VERSION/bigbluebutton/scalelite_post_publish.rb"
printf '%s  %s\n' "$SCALELITE_POST_PUBLISH_SHA256" /usr/local/lib/bbb-fleet/scalelite_post_publish.rb.tmp |
  sha256sum --check --quiet || die "scalelite_post_publish.rb at $SCALELITE_VERSION is not sha256 $SCALELITE_POST_PUBLISH_SHA256"
mv -f /usr/local/lib/bbb-fleet/scalelite_post_publish.rb.tmp /usr/local/lib/bbb-fleet/scalelite_post_publish.rb

# --- no automatic upgrades or service restarts under live meetings --------------------------------
# An instance is never upgraded in place: security and BBB updates come as a new AMI rolled out by an
# instance refresh, whose terminating lifecycle hook drains each server first. So Ubuntu's periodic
# apt runs and unattended-upgrades are off, and needrestart (run by apt on a manual install) only lists
# the services it would restart instead of restarting them (Ubuntu 22.04 defaults to restarting them).
cat >/etc/apt/apt.conf.d/99bbb-fleet-no-periodic <<'APT'
// Written by the bbb-fleet AMI (install-bbb.sh): no unattended upgrades, the AMI is rebuilt instead.
APT::Periodic::Update-Package-Lists "0";
APT::Periodic::Download-Upgradeable-Packages "0";
APT::Periodic::Unattended-Upgrade "0";
APT::Periodic::AutocleanInterval "0";
APT
systemctl disable apt-daily.timer apt-daily-upgrade.timer >/dev/null 2>&1 || true
systemctl disable unattended-upgrades.service >/dev/null 2>&1 || true
install -d -m 0755 /etc/needrestart/conf.d
cat >/etc/needrestart/conf.d/50-bbb-fleet.conf <<'NR'
# Written by the bbb-fleet AMI (install-bbb.sh): list the services needing a restart, restart none;
# a restart of FreeSWITCH, Redis or bbb-web ends live meetings.
$nrconf{restart} = 'l';
NR

apt-get "${apt_opts[@]}" autoremove
log "BigBlueButton $BBB_VERSION installed from $BBB_REPOSITORY (all bbb-* versions: /usr/local/share/doc/bbb-fleet/bbb-packages.txt)"
