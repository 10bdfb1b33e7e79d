#!/usr/bin/env python3
"""Reads the unit graph systemd itself built, for scripts/check-ami (check 2d).

Input (stdin): the output of `SYSTEMD_LOG_LEVEL=debug systemd-analyze verify --root=R ... reboot.target`.
At debug level, verify dumps every unit named on its command line as systemd loaded it (fragment,
drop-ins, aliases and implicit dependencies merged: the "-> Unit X:" blocks with their "After:",
"Before:", "Requires:" lines and settings), then queues a start job for each, the last one being
reboot.target, whose conflict with shutdown.target replaces the others' start jobs by stop jobs:
the shutdown transaction ("Installed new job X/stop").

systemd stops units in the inverse of their start order (systemd.unit(5), Before=/After=: "When two
units with an ordering dependency between them are shut down, the inverse of the start-up order is
applied"). So the drain (DRAIN's ExecStop) finishes before unit U stops when, in systemd's own graph,
DRAIN is After= U, U is Before= DRAIN (the inverse edge systemd adds), and both get a stop job in the
shutdown transaction. This checks exactly that, for every U given with --stops-after.

Usage: check_unit_order.py --drain UNIT --stops-after UNIT... [--requires-mount UNIT=MOUNT...]
                           [--setting UNIT=KEY=VALUE...] < dump
Prints one line per problem (exit 1) or a summary (exit 0).
"""

from __future__ import annotations

import argparse
import re
import sys


def parse(text: str) -> tuple[dict[str, dict[str, list[str]]], set[str]]:
    units: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    stops: set[str] = set()
    for line in text.splitlines():
        m = re.match(r"^\t-> Unit (\S+):$", line)
        if m:
            current = units.setdefault(m.group(1), {})
            continue
        if current is not None and line.startswith("\t\t"):
            key, sep, value = line.strip().partition(": ")
            if sep:
                # "After: x.service (origin-file)" -> x.service; settings keep their whole value.
                current.setdefault(key, []).append(value)
            continue
        current = None
        m = re.search(r"Installed new job (\S+)/stop as \d+", line)
        if m:
            stops.add(m.group(1))
    return units, stops


def names(unit: dict[str, list[str]], key: str) -> set[str]:
    return {v.split(" ", 1)[0] for v in unit.get(key, [])}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--drain", required=True)
    ap.add_argument("--stops-after", nargs="+", default=[])
    ap.add_argument("--requires-mount", nargs="*", default=[])
    ap.add_argument("--setting", nargs="*", default=[])
    args = ap.parse_args()
    units, stops = parse(sys.stdin.read())
    problems: list[str] = []
    drain = units.get(args.drain)
    if drain is None:
        print(f"{args.drain}: not in the dump (run verify with SYSTEMD_LOG_LEVEL=debug and the unit named)")
        return 1
    if args.drain not in stops:
        problems.append(f"{args.drain}: no stop job in the shutdown transaction (reboot.target)")
    after = names(drain, "After")
    for u in args.stops_after:
        if u not in after:
            problems.append(f"{args.drain} is not After={u}: at shutdown {u} stops while the drain still runs")
            continue
        if u.endswith(".target"):
            continue  # targets stop instantly; the order against their members is checked through them
        other = units.get(u)
        if other is None:
            problems.append(f"{u}: not in the dump (name it on the verify command line)")
            continue
        if args.drain not in names(other, "Before"):
            problems.append(f"{u}: systemd did not add Before={args.drain} (its own ordering contradicts)")
        if u not in stops:
            problems.append(f"{u}: no stop job in the shutdown transaction")
    for spec in args.requires_mount:
        unit, _, mount = spec.partition("=")
        u = units.get(unit)
        if u is None:
            problems.append(f"{unit}: not in the dump")
        elif mount not in names(u, "Requires") or mount not in names(u, "After"):
            problems.append(f"{unit}: not Requires= and After= {mount} (RequiresMountsFor= missing?)")
    for spec in args.setting:
        unit, _, kv = spec.partition("=")
        key, _, want = kv.partition("=")
        got = (units.get(unit) or {}).get(key, [])
        if want not in got:
            problems.append(f"{unit}: {key} is {got or 'unset'}, expected {want}")
    for p in problems:
        print(p)
    if problems:
        return 1
    print(f"{args.drain} stops before {len(args.stops_after)} units at shutdown "
          f"(After=/Before= in systemd's graph, stop jobs in reboot.target's transaction); "
          f"{len(args.requires_mount)} mount requirements, {len(args.setting)} settings as expected")
    return 0


if __name__ == "__main__":
    sys.exit(main())
