# The live meetings of every enabled server in Scalelite's pool, named by Scalelite ID:
# the servers' secrets come from Scalelite.
data "bbb_scalelite_servers" "enabled" {
  state = "enabled"
}

data "bbb_server_meetings" "pool" {
  for_each  = toset(data.bbb_scalelite_servers.enabled.ids)
  server_id = each.value
}

output "participants_by_server" {
  description = "Participants on each enabled server, by Scalelite ID."
  value       = { for id, m in data.bbb_server_meetings.pool : id => m.participant_count }
}

# A server named by its URL and secret, e.g. one not (yet) registered with Scalelite.
data "bbb_server_meetings" "standalone" {
  url    = var.standalone_url
  secret = var.standalone_secret
}

output "standalone_breakout_rooms" {
  description = "Breakout rooms running on the standalone server."
  value       = [for m in data.bbb_server_meetings.standalone.meetings : m.name if m.is_breakout]
}

variable "standalone_url" {
  type        = string
  description = "API URL of the standalone BBB server."
  default     = "https://bbb-standalone.example.org/bigbluebutton/api"
}

variable "standalone_secret" {
  type        = string
  description = "Shared secret of the standalone BBB server (bbb-conf --secret)."
  sensitive   = true
}
