#!/usr/bin/env python3
"""Static checks of the AMI's Packer template (ami/*.pkr.hcl), for scripts/check-ami.

Packer itself cannot be installed here, so `packer validate` cannot run. This parses every
*.pkr.hcl with the HCL parser of the project's venv (bc-python-hcl2, module `hcl2`) and checks what
the image promises: the amazon plugin pinned, Canonical's newest jammy amd64 AMI as source, IMDSv2
required, encrypted root volume, tags, the provisioners' scripts and uploads present, every `var.X`
declared with a type and description. Prints one line per problem; exit 1 when there is any.

Usage: check_packer.py [AMI_DIR]   (default: ami/ next to this script's folder)
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import hcl2

ROOT = Path(__file__).resolve().parent.parent
CANONICAL = "099720109477"
SCRIPTS = ("install-bbb.sh", "install-hook.sh", "install-agents.sh", "cleanup.sh")


def one(v):
    """bc-python-hcl2 wraps every attribute value in a list; unwrap single values."""
    while isinstance(v, list) and len(v) == 1:
        v = v[0]
    return v


def blocks(d: dict, name: str) -> list:
    return d.get(name, []) or []


def main(argv: list[str]) -> int:
    ami = Path(argv[1]) if len(argv) > 1 else ROOT / "ami"
    files = sorted(ami.glob("*.pkr.hcl"))
    problems: list[str] = []
    if not files:
        print(f"no *.pkr.hcl in {ami}")
        return 1

    merged: dict[str, list] = {}
    texts = {}
    for f in files:
        try:
            with f.open() as fh:
                d = hcl2.load(fh)
        except Exception as e:  # the parser raises lark errors of several kinds
            problems.append(f"{f.name}: does not parse: {e}")
            continue
        texts[f.name] = f.read_text()
        for k, v in d.items():
            merged.setdefault(k, []).extend(v)
    if problems:
        print("\n".join(problems))
        return 1

    # packer { required_plugins { amazon = { source, version } } }
    plugins = {}
    for p in blocks(merged, "packer"):
        for rp in blocks(p, "required_plugins"):
            plugins.update({k: one(v) for k, v in rp.items()})
    amazon = plugins.get("amazon") or {}
    if amazon.get("source") != "github.com/hashicorp/amazon":
        problems.append("packer.required_plugins.amazon.source must be github.com/hashicorp/amazon")
    if not amazon.get("version"):
        problems.append("packer.required_plugins.amazon.version must pin a version constraint")

    # source "amazon-ebs" "<name>"
    sources = {}
    for s in blocks(merged, "source"):
        for kind, named in s.items():
            for name, body in named.items():
                sources[f"{kind}.{name}"] = body
    ebs = [(n, b) for n, b in sources.items() if n.startswith("amazon-ebs.")]
    if len(ebs) != 1:
        problems.append(f"expected exactly one amazon-ebs source, found {len(ebs)}")
    for name, b in ebs:
        flt = one(b.get("source_ami_filter")) or {}
        filters = one(flt.get("filters")) or {}
        owners = one(flt.get("owners"))
        owners = owners if isinstance(owners, list) else [owners]
        if CANONICAL not in owners:
            problems.append(f"{name}: source_ami_filter.owners must be Canonical's {CANONICAL}")
        if one(flt.get("most_recent")) is not True:
            problems.append(f"{name}: source_ami_filter.most_recent must be true")
        if not re.search(r"ubuntu-jammy-22\.04-amd64-server", str(filters.get("name", ""))):
            problems.append(f"{name}: source_ami_filter name must select ubuntu-jammy-22.04-amd64-server")
        md = one(b.get("metadata_options")) or {}
        if one(md.get("http_tokens")) != "required":
            problems.append(f"{name}: metadata_options.http_tokens must be \"required\" (IMDSv2)")
        if one(b.get("imds_support")) != "v2.0":
            problems.append(f"{name}: imds_support must be \"v2.0\" (instances of the AMI default to IMDSv2)")
        if one(b.get("encrypt_boot")) is not True:
            problems.append(f"{name}: encrypt_boot must be true")
        for m in b.get("launch_block_device_mappings", []):
            if one(m.get("encrypted")) is not True:
                problems.append(f"{name}: launch_block_device_mappings {one(m.get('device_name'))} must be encrypted")
        for t in ("tags", "snapshot_tags", "run_tags"):
            if t not in b:
                problems.append(f"{name}: {t} missing")
        if one(b.get("ssh_clear_authorized_keys")) is not True:
            problems.append(f"{name}: ssh_clear_authorized_keys must be true (Packer's temporary key leaves the image)")
        if "region_kms_key_ids" not in b:
            problems.append(f"{name}: region_kms_key_ids missing (copies to ami_regions with kms_key_id need a key per region)")

    # build { sources, provisioners }
    builds = blocks(merged, "build")
    if len(builds) != 1:
        problems.append(f"expected exactly one build block, found {len(builds)}")
    text = "\n".join(texts.values())
    for b in builds:
        srcs = one(b.get("sources"))
        srcs = srcs if isinstance(srcs, list) else [srcs]
        for s in srcs:
            if str(s).removeprefix("source.") not in sources:
                problems.append(f"build.sources names {s}, which is not a declared source")
        provs = b.get("provisioner", [])
        scripts = []
        for p in provs:
            for kind, body in p.items():
                if kind == "shell" and "script" in body:
                    scripts.append(Path(str(one(body["script"]))).name)
                    if "{{ .Vars }}" not in str(one(body.get("execute_command", "{{ .Vars }}"))):
                        problems.append(f"shell provisioner {scripts[-1]}: execute_command drops environment_vars ({{{{ .Vars }}}})")
                if kind == "file":
                    src = str(one(body.get("source")))
                    m = re.fullmatch(r"\$\{path\.root\}/(.+)", src)
                    if m and not (ami / m.group(1)).exists():
                        problems.append(f"file provisioner uploads {m.group(1)}, which does not exist in {ami}")
        for s in SCRIPTS:
            if s not in scripts:
                problems.append(f"build has no shell provisioner running scripts/{s}")
            if not (ami / "scripts" / s).is_file():
                problems.append(f"scripts/{s} does not exist")
        if scripts and scripts[-1] != "cleanup.sh":
            problems.append(f"cleanup.sh must be the last shell script (is {scripts[-1]})")
        if "var.hook_binary" not in text:
            problems.append("the hook binary is not uploaded from var.hook_binary")

    # Every var.X used is declared, with a type and a description.
    declared = {}
    for v in blocks(merged, "variable"):
        declared.update(v)
    for name, body in declared.items():
        for attr in ("type", "description"):
            if attr not in body:
                problems.append(f"variable {name} has no {attr}")
    for used in sorted(set(re.findall(r"\bvar\.([A-Za-z_][A-Za-z0-9_-]*)", text))):
        if used not in declared:
            problems.append(f"var.{used} is used but not declared")
    # Every download is checked: a *_sha256 variable is either required (no default) or pins a
    # real sha256; an empty default would let the build skip the check.
    for name, body in declared.items():
        if name.endswith("_sha256") and "default" in body:
            if not re.fullmatch(r"[0-9a-f]{64}", str(one(body["default"]))):
                problems.append(f"variable {name} must default to a sha256 (64 hex digits) or have no default (required)")
    for name in ("bbb_version",):
        if name not in declared or "default" in declared[name]:
            problems.append(f"variable {name} must be declared without a default: the BBB version is pinned per build")
    if 'var.bbb_version' not in text or '"bbb:bbb-version"' not in text:
        problems.append("the AMI must carry the tag bbb:bbb-version = var.bbb_version")
    hook = declared.get("hook_binary", {})
    if one(hook.get("default")) != "../target/hook-release/bbb-hook":
        problems.append("variable hook_binary must default to ../target/hook-release/bbb-hook (cargo build --profile hook-release)")

    for p in problems:
        print(p)
    if not problems:
        names = ", ".join(f.name for f in files)
        print(f"{names}: parse; amazon plugin pinned; Canonical jammy amd64 source; IMDSv2; encrypted; "
              f"{len(declared)} variables declared; {len(SCRIPTS)} scripts provisioned")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
