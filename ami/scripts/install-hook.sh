#!/bin/bash
# Image build: installs bbb-hook, every systemd unit of ami/systemd (the hook's, the monitoring
# agents', the configuration units), the sysusers.d/tmpfiles.d entries, the shutdown timeout drop-ins,
# the first-boot script and write-dropins. Enables nothing that needs instance data: first boot enables
# bbb-hook-lifecycle.service, bbb-hook-protect.timer and bbb-hook-launch.service.
#
# Expects the files Packer uploaded under $BBB_AMI_UPLOAD (default /tmp/bbb-ami):
#   bbb-hook  systemd/  scripts/first-boot.sh  scripts/write-dropins.sh  README.md
set -euo pipefail

src=${BBB_AMI_UPLOAD:-/tmp/bbb-ami}
log() { printf 'install-hook: %s\n' "$*" >&2; }

[ "$(id -u)" -eq 0 ] || {
  log "must run as root"
  exit 1
}
for f in bbb-hook systemd/bbb-hook-launch.service scripts/first-boot.sh scripts/write-dropins.sh; do
  [ -e "$src/$f" ] || {
    log "$src/$f is missing (uploaded by the Packer template)"
    exit 1
  }
done
# The services read bbb-web.properties through this group (SupplementaryGroups=bigbluebutton);
# install-bbb.sh runs first.
getent group bigbluebutton >/dev/null || {
  log "group bigbluebutton is missing: install BigBlueButton first"
  exit 1
}

install -m 0755 -o root -g root "$src/bbb-hook" /usr/local/bin/bbb-hook
# Any answer to --help (0, or 64 for a usage error) proves it runs; 126/127 mean it cannot be executed.
rc=0
/usr/local/bin/bbb-hook --help >/dev/null 2>&1 || rc=$?
case $rc in
  126 | 127 | 132 | 139)
    log "/usr/local/bin/bbb-hook does not run on this image (exit $rc: wrong architecture or libc?)"
    exit 1
    ;;
esac

for f in "$src"/systemd/*.sysusers; do
  install -m 0644 "$f" "/usr/lib/sysusers.d/$(basename "$f" .sysusers).conf"
  systemd-sysusers "/usr/lib/sysusers.d/$(basename "$f" .sysusers).conf"
done
for f in "$src"/systemd/*.tmpfiles; do
  install -m 0644 "$f" "/usr/lib/tmpfiles.d/$(basename "$f" .tmpfiles).conf"
  systemd-tmpfiles --create "/usr/lib/tmpfiles.d/$(basename "$f" .tmpfiles).conf"
done

# Every unit file (scripts/check-ami verifies each of them).
for unit in "$src"/systemd/*.service "$src"/systemd/*.timer "$src"/systemd/*.path "$src"/systemd/*.socket; do
  [ -e "$unit" ] || continue
  install -m 0644 "$unit" "/etc/systemd/system/$(basename "$unit")"
done
for target in poweroff reboot halt kexec; do
  install -d -m 0755 "/etc/systemd/system/$target.target.d"
  install -m 0644 "$src/systemd/bbb-hook-shutdown-timeout.conf" "/etc/systemd/system/$target.target.d/bbb-hook.conf"
done

install -d -m 0755 /usr/local/lib/bbb-fleet /etc/bbb-fleet /usr/local/share/doc/bbb-fleet
install -m 0755 "$src/scripts/first-boot.sh" /usr/local/lib/bbb-fleet/first-boot
install -m 0755 "$src/scripts/write-dropins.sh" /usr/local/lib/bbb-fleet/write-dropins
if [ -e "$src/README.md" ]; then
  install -m 0644 "$src/README.md" /usr/local/share/doc/bbb-fleet/README.md
fi

systemctl daemon-reload
# Loads every unit as systemd will at boot; fails the build on an unknown key or a bad value.
systemd-analyze verify /etc/systemd/system/bbb-hook-launch.service /etc/systemd/system/bbb-hook-protect.service \
  /etc/systemd/system/bbb-hook-protect.timer /etc/systemd/system/bbb-hook-lifecycle.service \
  /etc/systemd/system/bbb-fleet-tls-reload.path /etc/systemd/system/bbb-fleet-tls-reload.service \
  /etc/systemd/system/bbb-fleet-configure.service
# Not enabled here: they need /etc/bbb-fleet/fleet.env and the instance's identity.
systemctl disable bbb-hook-launch.service bbb-hook-protect.timer bbb-hook-lifecycle.service bbb-fleet-configure.service >/dev/null 2>&1 || true
log "bbb-hook installed, units in /etc/systemd/system (not enabled: first boot does)"
