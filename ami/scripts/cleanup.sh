#!/bin/bash
# Image build, last step: nothing of the build instance's identity stays in the AMI. cloud-init runs
# again on every instance launched from it (and with it the fleet's user data); SSH host keys and
# machine-id are made anew at first boot.
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive
apt-get -y autoremove
apt-get clean
rm -rf /var/lib/apt/lists/*

# Uploaded files of the build (the hook binary, units, scripts).
rm -rf "${BBB_AMI_UPLOAD:-/tmp/bbb-ami}"

cloud-init clean --logs --seed
rm -f /etc/ssh/ssh_host_*
# No SSH key of the build stays: Packer's temporary key (also removed by ssh_clear_authorized_keys)
# and any other. cloud-init installs the instance's own key pair, if the launch template has one.
find /root /home -maxdepth 3 -path '*/.ssh/authorized_keys' -type f -delete
# Empty, not removed: systemd then creates a new ID at first boot (and treats it as first boot).
truncate -s 0 /etc/machine-id
rm -f /var/lib/dbus/machine-id
ln -s /etc/machine-id /var/lib/dbus/machine-id

# Logs and shell history of the build.
journalctl --rotate >/dev/null 2>&1 || true
journalctl --vacuum-time=1s >/dev/null 2>&1 || true
find /var/log -type f \( -name '*.gz' -o -name '*.[0-9]' \) -delete
find /var/log -type f -exec truncate -s 0 {} +
rm -f /root/.bash_history /home/*/.bash_history
sync
