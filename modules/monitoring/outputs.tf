output "prometheus_scrape_config" {
  description = "Prometheus scrape configuration (YAML) with EC2 service discovery of node-exporter and bigbluebutton-exporter on the fleet."
  value       = try(yamlencode(local.scrape_configs), null)
}

output "loki_push_url" {
  description = "Loki push URL on the internal load balancer (the fleet module's loki_push_url)."
  value       = try("http://${kubernetes_service_v1.loki_internal[0].status[0].load_balancer[0].ingress[0].hostname}:${local.loki_port}/loki/api/v1/push", null)
}

output "loki_security_group_id" {
  description = "Security group of Loki's internal load balancer."
  value       = try(aws_security_group.loki_lb[0].id, null)
}

output "grafana_admin_secret" {
  description = "Kubernetes secret (namespace/name) holding Grafana's admin credentials."
  value       = try("${var.namespace}/${kubernetes_secret_v1.grafana_admin[0].metadata[0].name}", null)
}

output "dashboards" {
  description = "Grafana dashboards provisioned from the module's dashboards/ directory."
  value       = sort(fileset("${path.module}/dashboards", "*.json"))
}

output "namespace" {
  description = "Kubernetes namespace of the monitoring stack."
  value       = try(kubernetes_namespace_v1.this[0].metadata[0].name, null)
}
