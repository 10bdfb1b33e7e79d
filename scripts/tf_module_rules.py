"""Design rules of the Terraform modules: the defects of the modules review (December 2026) that
stop a first `terraform apply` or break the fleet at run time, each written as a static check of the HCL
that a provider-less `terraform validate` cannot see (ordering, for_each keys, wiring between modules,
security group halves, claims of the READMEs).

    .tools/venv/bin/python scripts/tf_module_rules.py            # the working tree
    .tools/venv/bin/python scripts/tf_module_rules.py --root DIR # another checkout (e.g. an older commit)
    .tools/venv/bin/python scripts/tf_module_rules.py --list     # the rules and the defect each guards

Each rule returns the problems it finds; the script fails when any rule finds one. Run on the commit before
the fixes (`git worktree add /tmp/old 703f444`), every rule but the ones marked "already fixed" fails.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import hcl2


def u(v):
    """hcl2 wraps every attribute in a one-element list."""
    return v[0] if isinstance(v, list) and len(v) == 1 else v


def text(v) -> str:
    return json.dumps(v)


class Tree:
    """The parsed *.tf of every module and example directory under a root."""

    def __init__(self, root: Path):
        self.root = root
        self.docs: dict[str, list[dict]] = {}
        for f in sorted(root.glob("modules/*/*.tf")) + sorted(root.glob("examples/*/*.tf")):
            self.docs.setdefault(str(f.parent.relative_to(root)), []).append(hcl2.loads(f.read_text()))

    def blocks(self, d: str, kind: str):
        for doc in self.docs.get(d, []):
            yield from doc.get(kind, [])

    def resources(self, d: str, rtype: str | None = None):
        """(type, name, body) of the resources of directory d."""
        for block in self.blocks(d, "resource"):
            for t, named in block.items():
                if rtype in (None, t):
                    for name, body in named.items():
                        if not name.startswith("__"):
                            yield t, name, body

    def resource(self, d: str, rtype: str, name: str) -> dict | None:
        return next((b for t, n, b in self.resources(d, rtype) if n == name), None)

    def all_resources(self, rtype: str):
        for d in self.docs:
            for t, n, b in self.resources(d, rtype):
                yield d, n, b

    def named(self, d: str, kind: str, name: str) -> dict | None:
        for block in self.blocks(d, kind):
            if name in block:
                return block[name]
        return None

    def locals(self, d: str) -> dict:
        out = {}
        for block in self.blocks(d, "locals"):
            out.update(block)
        return out

    def read(self, rel: str) -> str:
        p = self.root / rel
        return p.read_text() if p.is_file() else ""


def rule_for_each_known_keys(t: Tree) -> list[str]:
    """D2: for_each keyed by IDs AWS assigns (var.*_ids) fails the first plan when they are created in the
    same apply ("Invalid for_each argument"); key by something known at plan (zone names, static labels)."""
    out = []
    for d in t.docs:
        for rtype, name, body in t.resources(d):
            fe = u(body.get("for_each"))
            if isinstance(fe, str) and re.search(r"var\.\w*_ids\b", fe) and "toset(" in fe:
                out.append(f"{d}: {rtype}.{name} has for_each = {fe}: IDs created in the same apply are unknown at plan")
    return out


def rule_auto_mode_storage_class(t: Tree) -> list[str]:
    """D3: EKS Auto Mode creates no StorageClass; every claim without one stays Pending and the monitoring
    releases (atomic) time out. A module creating an Auto Mode cluster must create a default class with the
    Auto Mode EBS provisioner."""
    out = []
    for d, name, body in t.all_resources("aws_eks_cluster"):
        cc = u(body.get("compute_config")) or {}
        if u(cc.get("enabled")) is not True:
            continue
        classes = [b for _, _, b in t.resources(d, "kubernetes_storage_class_v1")
                   if u(b.get("storage_provisioner")) == "ebs.csi.eks.amazonaws.com"
                   and "storageclass.kubernetes.io/is-default-class" in text(b.get("metadata"))]
        if not classes:
            out.append(f"{d}: aws_eks_cluster.{name} runs Auto Mode but no default kubernetes_storage_class_v1 with provisioner ebs.csi.eks.amazonaws.com exists")
    # The monitoring module's volumes must be ordered after the class (its output passed in).
    ex = t.named("examples/complete", "module", "monitoring")
    if ex is not None and "storage_class_name" not in text(ex):
        out.append("examples/complete: module.monitoring does not take the cluster's storage_class_name (its volumes are not ordered after the class)")
    return out


def rule_one_access_entry(t: Tree) -> list[str]:
    """D8: bootstrap_cluster_creator_admin_permissions = true already creates an entry for the caller; an
    aws_eks_access_entry for the same role (the deploy role listed as admin) then fails ResourceInUse."""
    out = []
    for d, name, body in t.all_resources("aws_eks_cluster"):
        ac = u(body.get("access_config")) or {}
        if u(ac.get("bootstrap_cluster_creator_admin_permissions")) is not False and any(t.resources(d, "aws_eks_access_entry")):
            out.append(f"{d}: aws_eks_cluster.{name} bootstraps the creator's access entry while aws_eks_access_entry also creates entries (duplicate for the deploy role)")
    return out


def rule_zone_delegated(t: Tree) -> list[str]:
    """D5: a created zone nobody delegates to: ACM DNS validation waits until its timeout. The dns module
    writes the NS record into a parent zone when given, and zone_id waits for it; the example says how to
    delegate otherwise."""
    out = []
    for d, name, _ in t.all_resources("aws_route53_zone"):
        ns = [b for _, _, b in t.resources(d, "aws_route53_record")
              if u(b.get("type")) == "NS" and f"aws_route53_zone.{name}" in text(b.get("records"))]
        if not ns:
            out.append(f"{d}: aws_route53_zone.{name} is created but no NS record delegates it from a parent zone")
        zone_out = t.named(d, "output", "zone_id")
        if zone_out is not None and "aws_route53_record.delegation" not in text(zone_out.get("depends_on")):
            out.append(f"{d}: output zone_id does not wait for the delegation record")
    if t.docs.get("examples/complete") and "delegat" not in t.read("examples/complete/README.md").lower():
        out.append("examples/complete/README.md: the first-apply steps do not say how the created zone is delegated")
    return out


def rule_fleet_after_scalelite(t: Tree) -> list[str]:
    """D6, D10: the fleet must register through the internal endpoint it is given, and that output (which
    exists only after Scalelite's release and internal load balancer) orders the fleet after Scalelite; the
    bbb provider's URL waits for Scalelite's front record."""
    out = []
    fleet = t.resource("modules/fleet", "bbb_fleet", "this")
    if fleet is not None and u(fleet.get("scalelite_url")) != "${var.scalelite_url}":
        out.append("modules/fleet: bbb_fleet.this does not take scalelite_url from the module's variable (the internal endpoint is not used)")
    call = t.named("examples/complete", "module", "fleet")
    if call is not None and not re.search(r"module\.\w+\.scalelite_internal_url", text(call.get("scalelite_url"))):
        out.append("examples/complete: module.fleet is not given module.scalelite.scalelite_internal_url (not ordered after Scalelite)")
    url = t.named("modules/dns", "output", "scalelite_url")
    if url is not None and "aws_route53_record.scalelite" not in text(url.get("depends_on")):
        out.append("modules/dns: output scalelite_url (the bbb provider's URL) does not wait for Scalelite's front record")
    return out


def rule_first_servers_have_permissions(t: Tree) -> list[str]:
    """D11: the first servers must boot with their policy, the hook configuration and both lifecycle hooks
    in place: the policy must not need the group's ARN, the group depends on the policy and the parameter,
    the parameter must not come from bbb_fleet (created after the group), the hooks are initial hooks."""
    d = "modules/fleet"
    asg = t.resource(d, "aws_autoscaling_group", "this")
    if asg is None:
        return []
    out = []
    loc = t.locals(d)
    if "aws_autoscaling_group." in text(loc.get("instance_policy_base")) or "aws_autoscaling_group." in text(t.resource(d, "aws_iam_role_policy", "instance")):
        out.append(f"{d}: the instance policy references the Auto Scaling group, so it is created after the first servers launch")
    deps = text(asg.get("depends_on"))
    for need in ("aws_iam_role_policy.instance", "aws_ssm_parameter.hook_config"):
        if need not in deps:
            out.append(f"{d}: aws_autoscaling_group.this does not depend on {need}")
    param = t.resource(d, "aws_ssm_parameter", "hook_config")
    if param is not None and "bbb_fleet." in text(param.get("value")):
        out.append(f"{d}: aws_ssm_parameter.hook_config takes its value from bbb_fleet, which exists only after the group")
    hooks = [u(h.get("lifecycle_transition")) for h in (asg.get("initial_lifecycle_hook") or [])]
    for tr in ("autoscaling:EC2_INSTANCE_LAUNCHING", "autoscaling:EC2_INSTANCE_TERMINATING"):
        if tr not in hooks:
            out.append(f"{d}: aws_autoscaling_group.this has no initial_lifecycle_hook for {tr}")
    return out


def rule_refresh_protected(t: Tree) -> list[str]:
    """D12: "Wait" waits one hour for scale-in protection to go, then fails the refresh; protected servers
    are replaced ("Refresh") and drained by the terminating hook. No auto_rollback: the AWS provider
    writes the new launch template into the group before it starts the refresh (UpdateAutoScalingGroup,
    then StartInstanceRefresh; hashicorp/terraform-provider-aws#34189, open), so AWS's rollback "to the
    previous configuration" returns to the new template: it replaces servers with the same ones again."""
    out = []
    for d, name, body in t.all_resources("aws_autoscaling_group"):
        for ir in body.get("instance_refresh") or []:
            pref = u(u(ir).get("preferences")) or {}
            if u(pref.get("scale_in_protected_instances")) != "Refresh":
                out.append(f"{d}: aws_autoscaling_group.{name} instance refresh does not replace protected servers (scale_in_protected_instances = {u(pref.get('scale_in_protected_instances'))!r})")
            if u(pref.get("auto_rollback")) is True and body.get("launch_template"):
                out.append(f"{d}: aws_autoscaling_group.{name} instance refresh sets auto_rollback, which returns to the launch template Terraform just wrote (terraform-provider-aws#34189)")
    return out


def rule_lb_backend_rules(t: Tree) -> list[str]:
    """D7: a load balancer given frontend security groups by annotation gets no backend rule; the cluster
    security group admits only itself, so an ingress rule from each frontend group must exist."""
    out = []
    key = "service.beta.kubernetes.io/aws-load-balancer-security-groups"
    for d in t.docs:
        for _, name, body in t.resources(d, "kubernetes_service_v1"):
            for sg in re.findall(re.escape(key) + r'[^$]*\$\{(aws_security_group\.\w+)(?:\[0\])?\.id\}', text(body.get("metadata"))):
                ok = any(
                    re.search(re.escape(sg) + r"(\[0\])?\.id", text(r.get("referenced_security_group_id")))
                    and "cluster_security_group_id" in text(r.get("security_group_id"))
                    for _, _, r in t.resources(d, "aws_vpc_security_group_ingress_rule"))
                if not ok:
                    out.append(f"{d}: kubernetes_service_v1.{name}'s load balancer group {sg} has no ingress rule on the cluster security group")
    return out


def rule_secret_not_in_state(t: Tree) -> list[str]:
    """D13: the Scalelite secret read with a data source (decrypted) lands in state, while the README says it
    never does. Secrets read from SSM in modules are ephemeral and go into write-only arguments."""
    out = []
    for d in t.docs:
        for block in t.blocks(d, "data"):
            for name, body in (block.get("aws_ssm_parameter") or {}).items():
                if u(body.get("with_decryption")) is not False:
                    out.append(f"{d}: data.aws_ssm_parameter.{name} reads a decrypted value into state")
    for readme in sorted(t.root.glob("modules/*/README.md")) + sorted(t.root.glob("examples/*/README.md")):
        s = readme.read_text()
        if re.search(r"never (enters|in) state", s) and out:
            out.append(f"{readme.relative_to(t.root)}: claims the secret never enters state")
    return out


def rule_playback_routed(t: Tree) -> list[str]:
    """G2: Scalelite's recordings are served by its nginx, not by the API on 3000; the load balancers must
    target the frontend (selector and port from scalelite_frontend)."""
    out = []
    for _, name, body in t.resources("modules/scalelite", "kubernetes_service_v1"):
        if not name.startswith("scalelite"):
            continue
        spec = text(body.get("spec"))
        if "scalelite_frontend" not in spec:
            out.append(f"modules/scalelite: kubernetes_service_v1.{name} targets the API pods, not the frontend serving /playback")
    return out


def rule_spool_group_writable(t: Tree) -> list[str]:
    """G10: the spool the BBB servers create must be group-writable for Scalelite's importer (BBB's group)."""
    s = t.read("ami/scripts/first-boot.sh")
    if s and not re.search(r'install -d -m 2775 "\$SCALELITE_RECORDINGS_DIR/spool"', s):
        return ["ami/scripts/first-boot.sh: the recordings spool is not created group-writable (2775)"]
    return []


def rule_instance_policy(t: Tree) -> list[str]:
    """D1, D9 (already fixed before this check): ListResourceRecordSets granted; no AmazonSSMManagedInstanceCore
    (ssm:GetParameter on every parameter) on the instance role."""
    out = []
    pol = t.read("modules/fleet/policies/instance-policy.json.tftpl")
    if pol and "route53:ListResourceRecordSets" not in pol:
        out.append("modules/fleet: the instance policy lacks route53:ListResourceRecordSets (bbb-hook launch --dns-only)")
    if "AmazonSSMManagedInstanceCore" in "".join(text(b) for _, _, b in t.resources("modules/fleet")):
        out.append("modules/fleet: AmazonSSMManagedInstanceCore lets the servers read every parameter")
    return out


def _metric_query(spec) -> tuple | None:
    """(stat, unit, namespace, metric name, dimensions) of a predictive customized metric with one query
    returning data, or None when it is not that."""
    queries = (u(spec) or {}).get("metric_data_queries") or []
    if len(queries) != 1:
        return None
    q = u(queries)
    stat = u(q.get("metric_stat"))
    if not stat or q.get("expression") is not None or u(q.get("return_data")) is False:
        return None
    metric = u(stat.get("metric")) or {}
    dims = tuple(sorted((u(x.get("name")), u(x.get("value"))) for x in (metric.get("dimensions") or [])))
    return (u(stat.get("stat")), u(stat.get("unit")), u(metric.get("namespace")), u(metric.get("metric_name")), dims)


def rule_forecast_prewarming(t: Tree) -> list[str]:
    """S1: the fleet's forecast pre-warming is AWS predictive scaling on the metric target tracking uses:
    the load metric is the group's total (Sum of Participants), the scaling metric the per-server Average of
    the same metric and dimension (a swapped or mismatched pair gives a forecast of the wrong size or none);
    target, mode and buffer come from their variables (the buffer's validation keeps it under 3600); the
    forecast never raises the group's maximum (HonorMaxCapacity); "off" creates no policy."""
    d = "modules/fleet"
    tracking = t.resource(d, "aws_autoscaling_policy", "participants")
    if tracking is None:
        return []
    pol = next((b for _, _, b in t.resources(d, "aws_autoscaling_policy") if u(b.get("policy_type")) == "PredictiveScaling"), None)
    if pol is None:
        return [f"{d}: no aws_autoscaling_policy with policy_type = \"PredictiveScaling\" (forecast pre-warming)"]
    out = []
    cms = u(u(tracking.get("target_tracking_configuration")).get("customized_metric_specification"))
    tracked = (u(cms.get("namespace")), u(cms.get("metric_name")),
               tuple(sorted((u(x.get("name")), u(x.get("value"))) for x in (cms.get("metric_dimension") or []))))
    conf = u(pol.get("predictive_scaling_configuration")) or {}
    spec = u(conf.get("metric_specification")) or {}
    load = _metric_query(spec.get("customized_load_metric_specification"))
    scaling = _metric_query(spec.get("customized_scaling_metric_specification"))
    for what, got, stat in (("load", load, "Sum"), ("scaling", scaling, "Average")):
        if got is None:
            out.append(f"{d}: the predictive {what} metric is not one metric_stat query returning data")
        elif got[0] != stat or got[2:] != tracked:
            out.append(f"{d}: the predictive {what} metric is {got[0]} of {got[2:]}, not {stat} of the tracked {tracked}")
        elif got[1] != u(cms.get("unit")):
            out.append(f"{d}: the predictive {what} metric's unit {got[1]!r} is not the published {u(cms.get('unit'))!r}")
    for attr, var in (("target_value", "forecast_participants_per_server"),):
        if text(spec.get(attr)) != text(["${var." + var + "}"]):
            out.append(f"{d}: the predictive {attr} is not var.{var}")
    for attr, var in (("mode", "predictive_scaling_mode"), ("scheduling_buffer_time", "predictive_scheduling_buffer_seconds")):
        if text(conf.get(attr)) != text(["${var." + var + "}"]):
            out.append(f"{d}: the predictive {attr} is not var.{var}")
    if u(conf.get("max_capacity_breach_behavior")) != "HonorMaxCapacity":
        out.append(f"{d}: the predictive policy may raise the group's maximum (max_capacity_breach_behavior is not HonorMaxCapacity)")
    if 'var.predictive_scaling_mode != "off"' not in text(pol.get("count")).replace('\\"', '"'):
        out.append(f"{d}: predictive_scaling_mode = \"off\" does not remove the predictive policy (count)")
    buf = t.named(d, "variable", "predictive_scheduling_buffer_seconds") or {}
    if "<= 3599" not in text(buf.get("validation")) and "< 3600" not in text(buf.get("validation")):
        out.append(f"{d}: variable predictive_scheduling_buffer_seconds is not validated under 3600 (AWS refuses 3600 and more)")
    return out


def rule_new_servers_protected(t: Tree) -> list[str]:
    """S2: a new server is protected from scale-in as it enters service (protect_from_scale_in), not only
    from its hook's first protect pass: Scalelite may route a meeting to it in between, and AWS refuses
    SetInstanceProtection before InService, so the group's setting is the only way to close that window.
    It follows protect_live_meetings (when false nothing would ever lift the protection)."""
    out = []
    for d, name, body in t.all_resources("aws_autoscaling_group"):
        if d != "modules/fleet":
            continue
        got = text(body.get("protect_from_scale_in"))
        if got != text(["${var.protect_live_meetings}"]):
            out.append(f"{d}: aws_autoscaling_group.{name} protect_from_scale_in is {got or 'unset'}, not var.protect_live_meetings")
    return out


def rule_alarms_read_enabled_group_metrics(t: Tree) -> list[str]:
    """S3: every AWS/AutoScaling metric an alarm of a module reads is among its group's enabled_metrics: the
    group publishes only those, and an alarm on a metric never published stays quiet (missing data)."""
    out = []
    for d, name, body in t.all_resources("aws_cloudwatch_metric_alarm"):
        read = set()
        queries = body.get("metric_query") or []
        for q in queries if isinstance(queries, list) else [queries]:
            for m in q.get("metric") or []:
                if u(m.get("namespace")) == "AWS/AutoScaling":
                    read.add(u(m.get("metric_name")))
        if u(body.get("namespace")) == "AWS/AutoScaling":
            read.add(u(body.get("metric_name")))
        if not read:
            continue
        enabled = set()
        for _, _, group in t.resources(d, "aws_autoscaling_group"):
            got = u(group.get("enabled_metrics"))
            if not (isinstance(got, list) and all(isinstance(m, str) and "${" not in m for m in got)):
                read = set()  # not a literal list: nothing to compare with
                break
            enabled |= set(got)
        for metric in sorted(read - enabled):
            out.append(f"{d}: aws_cloudwatch_metric_alarm.{name} reads {metric}, which the group does not publish (enabled_metrics)")
    return out


# Modules without the toggle, with the reason.
CREATE_EXEMPT: dict[str, str] = {}


def rule_create_toggle(t: Tree) -> list[str]:
    """P2: terraform-aws-modules' module-wide toggle: every module declares variable "create" (bool, default
    true) and gates every resource on it (CREATE_EXEMPT lists the modules without one, with the reason)."""
    out = []
    for d in sorted(x for x in t.docs if x.startswith("modules/")):
        if d.split("/")[1] in CREATE_EXEMPT:
            continue
        var = t.named(d, "variable", "create")
        if var is None or u(var.get("type")) != "${bool}" or u(var.get("default")) is not True:
            out.append(f"{d}: no variable \"create\" (bool, default true)")
            continue
        loc = t.locals(d)
        gated_locals = {n for n, v in loc.items() if "var.create" in text(v)}
        for rtype, name, body in t.resources(d):
            gate = text(body.get("count")) + text(body.get("for_each"))
            via_local = any(f"local.{n}" in gate for n in gated_locals)
            # for_each over another resource of the module is empty when that one is.
            via_resource = re.search(r"^\$\{[a-z]+_\w+\.\w+\}$", str(u(body.get("for_each"))))
            if "var.create" not in gate and not via_local and not via_resource:
                out.append(f"{d}: {rtype}.{name} is not gated by var.create")
    return out


RULES = [
    ("D2 for_each over IDs unknown at plan", rule_for_each_known_keys),
    ("D3 Auto Mode cluster without a default StorageClass", rule_auto_mode_storage_class),
    ("D8 duplicate cluster-creator access entry", rule_one_access_entry),
    ("D5 created zone never delegated", rule_zone_delegated),
    ("D6/D10 fleet not ordered after Scalelite, internal endpoint unused", rule_fleet_after_scalelite),
    ("D11 first servers launch before their policy, configuration and hooks", rule_first_servers_have_permissions),
    ("D12 instance refresh fails after an hour on protected servers, or rolls back to the new template", rule_refresh_protected),
    ("D7 internal load balancers cannot reach the pods", rule_lb_backend_rules),
    ("D13 Scalelite secret in state", rule_secret_not_in_state),
    ("G2 recordings playback not routed", rule_playback_routed),
    ("G10 spool not writable by Scalelite's importer", rule_spool_group_writable),
    ("D1/D9 instance policy (already fixed)", rule_instance_policy),
    ("P2 create toggle per module", rule_create_toggle),
    ("S1 forecast pre-warming: predictive scaling on the tracked metric's Sum and Average", rule_forecast_prewarming),
    ("S2 new servers protected from scale-in as they enter service", rule_new_servers_protected),
    ("S3 alarms read only the group metrics the group publishes", rule_alarms_read_enabled_group_metrics),
]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent)
    ap.add_argument("--list", action="store_true")
    args = ap.parse_args()
    if args.list:
        for what, fn in RULES:
            print(f"{what}: {' '.join(fn.__doc__.split())}")
        return 0
    tree = Tree(args.root.resolve())
    failed = 0
    for what, fn in RULES:
        problems = fn(tree)
        print(f"{'ok  ' if not problems else 'FAIL'} {what}")
        for p in problems:
            print(f"       {p}")
        failed += bool(problems)
    print(f"rules: {len(RULES) - failed} of {len(RULES)} hold")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
