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

output "hook_config" {
  description = "bbb_fleet's hook configuration (no secret); the demo stores it where the instances read it."
  value       = one(bbb_fleet.sandbox[*].hook_config)
}

output "fleet_instances" {
  description = "The fleet's instances with their records and Scalelite registrations."
  value       = one(bbb_fleet.sandbox[*].instances)
}

output "schedules" {
  description = "Scale-up and scale-down times of each event."
  value = {
    for name, s in bbb_schedule.event : name => {
      scale_up   = s.scale_up_time
      scale_down = s.scale_down_time
    }
  }
}
