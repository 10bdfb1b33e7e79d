#!/bin/bash
# Writes the systemd drop-ins that depend on the fleet, installed by the AMI as
# /usr/local/lib/bbb-fleet/write-dropins and run by first boot (then `systemctl daemon-reload`):
#
#   * the drain's time limits, from `bbb-hook timeouts` (the fleet document's drain.max_wait), so the
#     drain, the units' stop timeouts and the shutdown's job timeout come from one setting:
#       bbb-hook-launch.service.d/50-bbb-fleet-timeouts.conf     TimeoutStopSec=<stop>
#       bbb-hook-lifecycle.service.d/50-bbb-fleet-timeouts.conf  TimeoutStopSec=<stop>
#       {poweroff,reboot,halt,kexec}.target.d/bbb-hook.conf     JobTimeoutSec=<job>
#     (the last replaces the image's default, ami/systemd/bbb-hook-shutdown-timeout.conf);
#   * with a recordings EFS, RequiresMountsFor=<dir> on the recording workers (bbb-rap-resque-worker,
#     bbb-rap-starter: no recording is processed, and none published into the directory under the
#     mount point, before the EFS is mounted) and on bbb-hook-launch.service (the server joins the fleet
#     only with its recordings EFS mounted, and at shutdown drains before the EFS is unmounted);
#     without one, those drop-ins are removed;
#   * with --recording-workers N, Environment=COUNT=N on bbb-rap-resque-worker.service: BBB's unit
#     runs `rake resque:workers` with COUNT=1, one worker taking every recording of the server in turn;
#     BBB's documentation ("Increase number of recording workers") raises it with this drop-in. A
#     server leaves the fleet only once its recordings are published, so the queue is what it waits
#     for after a lecture block. Without the option the drop-in is removed (BBB's one worker).
#
#   write-dropins [--root DIR] --stop-timeout SECONDS --job-timeout SECONDS [--recordings-dir PATH]
#                 [--recording-workers N]
#
# --root writes under DIR instead of / (scripts/check-ami does, into a scratch root). Exits 64 on a
# bad argument, writing nothing.
set -euo pipefail

root=
stop_timeout=
job_timeout=
recordings_dir=
recording_workers=
usage() {
  printf 'write-dropins: %s\n' "$*" >&2
  printf 'usage: write-dropins [--root DIR] --stop-timeout SECONDS --job-timeout SECONDS [--recordings-dir PATH] [--recording-workers N]\n' >&2
  exit 64
}
while [ $# -gt 0 ]; do
  case $1 in
    --root) root=${2:?--root needs a value} ;;
    --stop-timeout) stop_timeout=${2:?--stop-timeout needs a value} ;;
    --job-timeout) job_timeout=${2:?--job-timeout needs a value} ;;
    --recordings-dir) recordings_dir=${2-} ;;
    --recording-workers) recording_workers=${2-} ;;
    *) usage "unknown argument $1" ;;
  esac
  shift 2
done
[[ $stop_timeout =~ ^[1-9][0-9]*$ ]] || usage "--stop-timeout must be a whole number of seconds, got '$stop_timeout'"
[[ $job_timeout =~ ^[1-9][0-9]*$ ]] || usage "--job-timeout must be a whole number of seconds, got '$job_timeout'"
[ "$job_timeout" -gt "$stop_timeout" ] || usage "--job-timeout ($job_timeout) must be longer than --stop-timeout ($stop_timeout): the shutdown would cut the drain short"
if [ -n "$recordings_dir" ]; then
  # RequiresMountsFor= takes a space-separated list: one absolute path without blanks.
  [[ $recordings_dir =~ ^/[A-Za-z0-9._/-]+$ ]] || usage "--recordings-dir must be an absolute path of letters, digits and ._-/, got '$recordings_dir'"
fi
if [ -n "$recording_workers" ]; then
  [[ $recording_workers =~ ^[1-8]$ ]] || usage "--recording-workers must be a whole number from 1 to 8, got '$recording_workers'"
fi

units=$root/etc/systemd/system
write() { # file, content: written whole (a temporary file renamed), mode 0644
  install -d -m 0755 "$(dirname "$1")"
  printf '%s' "$2" >"$1.tmp"
  chmod 0644 "$1.tmp"
  mv -f "$1.tmp" "$1"
}

header="# Written by bbb-fleet first boot (write-dropins) from the fleet's hook configuration."
for unit in bbb-hook-launch.service bbb-hook-lifecycle.service; do
  write "$units/$unit.d/50-bbb-fleet-timeouts.conf" "$header
# The drain waits up to drain.max_wait, plus 5 minutes to leave Scalelite, DNS and the group.
[Service]
TimeoutStopSec=$stop_timeout
"
done
for target in poweroff reboot halt kexec; do
  write "$units/$target.target.d/bbb-hook.conf" "$header
# systemd forces a shutdown after JobTimeoutSec; 5 minutes more than the drain's stop timeout.
[Unit]
JobTimeoutSec=$job_timeout
"
done

for unit in bbb-rap-resque-worker.service bbb-rap-starter.service bbb-hook-launch.service; do
  file=$units/$unit.d/50-bbb-fleet-recordings.conf
  if [ -n "$recordings_dir" ]; then
    write "$file" "$header
# The recordings EFS (SCALELITE_RECORDINGS_DIR) is mounted before this unit starts, and unmounted
# only after it stopped.
[Unit]
RequiresMountsFor=$recordings_dir
"
  else
    rm -f "$file"
  fi
done
file=$units/bbb-rap-resque-worker.service.d/50-bbb-fleet-workers.conf
if [ -n "$recording_workers" ]; then
  write "$file" "$header
# BBB's recording workers (resque:workers): each processes one recording at a time.
[Service]
Environment=COUNT=$recording_workers
"
else
  rm -f "$file"
fi
printf 'write-dropins: TimeoutStopSec=%s JobTimeoutSec=%s recordings=%s recording workers=%s under %s\n' \
  "$stop_timeout" "$job_timeout" "${recordings_dir:-none}" "${recording_workers:-BBB default}" "${root:-/}" >&2
