"""Where cargo puts this workspace's binaries, and the one build the checks run them from.

Standard library only; imported by the scripts beside it (plan_check.py, gen-docs,
test-fleet-hook-config, demo.py).

`cargo build --workspace --all-targets` resolves features as `cargo test --workspace` does (every
package, dev-dependencies included), so after the tests it only links the binaries the tests did
not build. Building one package's binary (`-p terraform-provider-bbb`) resolves a narrower feature
set (tokio, hyper, serde_json, syn, bbb-core's `secrets-manager`): most of the dependency graph compiled a second
time, and the workspace's binary replaced by one built with other features.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

BUILD = ["cargo", "build", "--locked", "--workspace", "--all-targets"]


class CargoError(Exception):
    """cargo failed; the message says which command."""


def target_dir() -> Path:
    """cargo's target directory (CARGO_TARGET_DIR and .cargo/config honoured)."""
    run = subprocess.run(["cargo", "metadata", "--format-version", "1", "--no-deps", "--offline"],
                         cwd=ROOT, capture_output=True, text=True)
    if run.returncode != 0:
        raise CargoError(f"cargo metadata failed:\n{run.stderr}")
    return Path(json.loads(run.stdout)["target_directory"])


def binary(name: str, profile: str = "debug") -> Path:
    """The path of the workspace binary `name` built with `profile`."""
    return target_dir() / profile / name


def build(quiet: bool = False) -> None:
    """Builds every target of the workspace with the tests' feature set (see the module's text)."""
    if subprocess.run(BUILD + (["--quiet"] if quiet else []), cwd=ROOT).returncode != 0:
        raise CargoError("cargo build failed: " + " ".join(BUILD))


if __name__ == "__main__":
    # `python3 scripts/cargo_target.py`: the target directory, for the shell scripts.
    import sys

    try:
        print(target_dir())
    except CargoError as e:
        sys.exit(f"cargo_target: {e}")
