provider "bbb" {
  scalelite_url    = var.scalelite_url
  scalelite_secret = var.scalelite_secret
  region           = var.region
}

# Registers servers you already run with your existing Scalelite; nothing on AWS is created.
resource "bbb_scalelite_server" "this" {
  for_each = var.servers

  url             = each.value.url
  secret          = var.server_secrets[each.key]
  state           = each.value.state
  load_multiplier = each.value.load_multiplier
  tag             = each.value.tag

  drain_on_destroy = true
  drain_timeout    = var.drain_timeout
}
