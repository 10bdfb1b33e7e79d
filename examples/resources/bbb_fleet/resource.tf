# Binds an Auto Scaling group of BBB servers, a Route53 zone and the Scalelite pool into one fleet.
# The fleet owns the group's launching and terminating lifecycle hooks.
resource "bbb_fleet" "main" {
  name                   = "prod-main"
  autoscaling_group_name = "prod-main"
  hosted_zone_id         = "Z0123456789ABCDEFGHIJ"
  domain                 = "bbb.example.org"

  # Each server gets bbb-<instance id>.bbb.example.org while it runs.
  record_name_template = "bbb-{instance_id}"
  record_ttl           = 60

  scalelite_tag   = "main"
  load_multiplier = 1.0

  # SSM SecureString parameter the on-instance hook reads the Scalelite secret from (by name: no secret here).
  scalelite_secret_parameter = "/bbb/prod/scalelite-secret"

  # Servers with live meetings carry scale-in protection.
  protect_live_meetings = true

  drain {
    lifecycle_hook_name = "bbb-drain"
    heartbeat_timeout   = 900  # seconds between heartbeats of the terminating hook
    max_wait            = "4h" # longest wait for the last meeting before termination goes on
  }
}

# The on-instance hook's configuration document (JSON, no secrets), for the servers' boot.
output "hook_config" {
  description = "Configuration document of the on-instance hook."
  value       = bbb_fleet.main.hook_config
}

# The fleet's instances with their records and Scalelite state.
output "instances" {
  description = "Instances of the fleet."
  value       = bbb_fleet.main.instances
}
