output "name_servers" {
  description = "Delegate the environment's domain to these name servers (when the zone was created here)."
  value       = module.dns.name_servers
}

output "scalelite_url" {
  description = "Scalelite's public API URL."
  value       = module.dns.scalelite_url
}

output "scalelite_internal_url" {
  description = "Scalelite's internal API URL, reachable from the fleet."
  value       = module.scalelite.scalelite_internal_url
}

output "greenlight_url" {
  description = "Greenlight's URL."
  value       = "https://${local.greenlight_hostname}"
}

output "fleet_autoscaling_group" {
  description = "Auto Scaling group of the BBB fleet."
  value       = module.fleet.autoscaling_group_name
}

output "fleet_instances" {
  description = "The fleet's servers, their records and Scalelite state."
  value       = module.fleet.instances
}

output "loki_push_url" {
  description = "Loki push URL on the internal load balancer."
  value       = module.monitoring.loki_push_url
}

output "grafana_admin_secret" {
  description = "Kubernetes secret with Grafana's admin credentials."
  value       = module.monitoring.grafana_admin_secret
}
