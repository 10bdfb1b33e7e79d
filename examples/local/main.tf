# The local demo (scripts/demo): a Scalelite double and BBB doubles on 127.0.0.1 stand in for
# Scalelite and the BBB servers. The provider reads Scalelite's URL and secret from
# BBB_SCALELITE_URL and BBB_SCALELITE_SECRET.
provider "bbb" {}

resource "bbb_scalelite_server" "this" {
  for_each = var.servers

  url               = each.value.url
  secret_wo         = var.server_secrets[each.key]
  secret_wo_version = 1
  state             = each.value.state
  load_multiplier   = each.value.load_multiplier
  tag               = var.tag

  drain_on_destroy = true
  drain_timeout    = var.drain_timeout
}

data "bbb_scalelite_servers" "pool" {
  tag = var.tag

  depends_on = [bbb_scalelite_server.this]
}

data "bbb_server_meetings" "this" {
  for_each = bbb_scalelite_server.this

  server_id = each.value.id
}

# The sandbox's fleet (scripts/demo sets var.fleet): moto's Auto Scaling group, whose instances
# run the real bbb-hook, a Route53 zone in moto, and the Scalelite double. The provider reaches
# moto through AWS_ENDPOINT_URL (and the sandbox's Auto Scaling endpoint through
# AWS_ENDPOINT_URL_AUTO_SCALING).
resource "bbb_fleet" "sandbox" {
  count = var.fleet == null ? 0 : 1

  name                       = var.fleet.name
  autoscaling_group_name     = var.fleet.autoscaling_group_name
  hosted_zone_id             = var.fleet.hosted_zone_id
  domain                     = var.fleet.domain
  record_name_template       = "bbb-{instance_id}"
  record_ttl                 = 60
  scalelite_secret_parameter = var.fleet.scalelite_secret_parameter
  protect_live_meetings      = true

  drain {
    lifecycle_hook_name = "${var.fleet.name}-drain"
    heartbeat_timeout   = 60
    max_wait            = var.fleet.max_wait
  }
}

# Events that need capacity ahead of their start: the group scales up lead_time before.
resource "bbb_schedule" "event" {
  for_each = var.fleet == null ? {} : var.events

  autoscaling_group_name = bbb_fleet.sandbox[0].autoscaling_group_name
  name                   = each.key
  start_time             = each.value.start_time
  end_time               = each.value.end_time
  capacity               = each.value.capacity
  lead_time              = each.value.lead_time
  raise_max_size         = true
}
