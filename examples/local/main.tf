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
