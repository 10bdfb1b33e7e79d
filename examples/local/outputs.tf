output "servers" {
  description = "Each registered server: Scalelite ID, API URL and state."
  value = {
    for name, s in bbb_scalelite_server.this : name => {
      id    = s.id
      url   = s.api_url
      state = s.state
    }
  }
}

output "pool_ids" {
  description = "IDs of the servers in Scalelite's pool with the demo tag."
  value       = data.bbb_scalelite_servers.pool.ids
}

output "meetings" {
  description = "Live meetings and participants per server, from each server's BBB API."
  value = {
    for name, m in data.bbb_server_meetings.this : name => {
      meetings     = m.meeting_count
      participants = m.participant_count
    }
  }
}
