data "aws_partition" "current" {}

locals {
  zone_id = var.create_zone ? one(aws_route53_zone.this[*].zone_id) : var.zone_id
}

# A created zone answers only once its parent delegates to it. With the parent in Route53 the delegation is
# written here; the zone_id output waits for it (outputs.tf), so nothing that resolves names in the zone
# (ACM DNS validation, each server's certbot, the provider's Scalelite URL) runs before it exists.
resource "aws_route53_record" "delegation" {
  count = var.create && var.create_zone && var.parent_zone_id != null ? 1 : 0

  zone_id = var.parent_zone_id
  name    = var.domain
  type    = "NS"
  ttl     = var.delegation_ttl
  records = aws_route53_zone.this[0].name_servers
}

resource "aws_route53_zone" "this" {
  #checkov:skip=CKV2_AWS_38:DNSSEC signing needs a KMS key in us-east-1 and a DS record at the parent zone's registrar; both live outside this module and are enabled per environment.
  #checkov:skip=CKV2_AWS_39:Query logging of a public zone must go to a log group in us-east-1 (a second provider configuration); the per-instance records are changed by the fleet and audited in CloudTrail instead.
  count = var.create && var.create_zone ? 1 : 0

  name    = var.domain
  comment = "BigBlueButton platform ${var.domain}"
  tags    = var.tags
}

resource "aws_route53_record" "scalelite" {
  count = var.create && var.create_scalelite_record ? 1 : 0

  zone_id = local.zone_id
  name    = "${var.scalelite_record_name}.${var.domain}"
  type    = "A"

  alias {
    name                   = var.scalelite_target.dns_name
    zone_id                = var.scalelite_target.zone_id
    evaluate_target_health = true
  }
}

resource "aws_route53_record" "extra" {
  for_each = var.create ? var.extra_records : {}

  zone_id = local.zone_id
  name    = "${each.key}.${var.domain}"
  type    = each.value.type
  ttl     = each.value.ttl
  records = each.value.records
}
