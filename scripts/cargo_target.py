"""Where cargo puts this workspace's binaries, and the one build the checks run them from.

Standard library only. Imported by plan_check.py, gen-docs and test-fleet-hook-config, and by
demo.py when run without scripts/demo; its command line prints the target directory for the shell
scripts (scripts/demo, check-user-binary, the benchmarks), with `build` after building the
binaries.

`cargo build --workspace --bins --examples` resolves features as `cargo test --workspace` does
(every package, dev-dependencies included: asking for examples asks for them), so after the tests
it only links the binaries the tests did not build, and without them it builds no test target.
Building one package's binary (`-p terraform-provider-bbb`) resolves a narrower feature set
(tokio, hyper, serde_json, syn, bbb-core's `secrets-manager`): most of the dependency graph
compiled a second time, and the workspace's binary replaced by one built with other features.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

BUILD = ["cargo", "build", "--locked", "--workspace", "--bins", "--examples"]


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
    """Builds the workspace's binaries with the tests' feature set (see the module's text)."""
    if subprocess.run(BUILD + (["--quiet"] if quiet else []), cwd=ROOT).returncode != 0:
        raise CargoError("cargo build failed: " + " ".join(BUILD))


if __name__ == "__main__":
    # `python3 scripts/cargo_target.py [build]`: the target directory, for the shell scripts;
    # with `build`, after building the workspace's binaries (build's output on stderr).
    import sys

    try:
        if sys.argv[1:] == ["build"]:
            build(quiet=True)
        elif sys.argv[1:]:
            sys.exit("usage: cargo_target.py [build]")
        print(target_dir())
    except CargoError as e:
        sys.exit(f"cargo_target: {e}")
