# The enabled servers tagged "lecture" in Scalelite's pool. Secrets are never listed.
data "bbb_scalelite_servers" "lecture" {
  tag   = "lecture"
  state = "enabled" # "enabled", "cordoned" or "disabled"
}

output "lecture_server_urls" {
  description = "API URLs of the enabled lecture servers."
  value       = [for s in data.bbb_scalelite_servers.lecture.servers : s.url]
}

# The whole pool, whatever the tag or state.
data "bbb_scalelite_servers" "all" {}

output "offline_server_ids" {
  description = "Servers Scalelite's poller does not reach."
  value       = [for s in data.bbb_scalelite_servers.all.servers : s.id if !s.online]
}
