output "scalelite_internal_url" {
  description = "Scalelite API URL on the internal load balancer, reachable from the BBB fleet only: the fleet module's scalelite_url. Exists only once Scalelite's release and its internal load balancer and record do, so passing it orders the fleet after Scalelite."
  value       = try("https://${aws_route53_record.scalelite_internal[0].fqdn}/bigbluebutton/api", null)
}

output "scalelite_public_lb" {
  description = "Public load balancer of Scalelite (dns_name and zone_id) for the dns module's scalelite_target."
  value = try({
    dns_name = kubernetes_service_v1.scalelite_public[0].status[0].load_balancer[0].ingress[0].hostname
    zone_id  = data.aws_lb_hosted_zone_id.nlb.id
  }, null)
}

output "greenlight_public_lb" {
  description = "Public load balancer of Greenlight (dns_name and zone_id), or null without Greenlight."
  value = try(var.enable_greenlight ? {
    dns_name = kubernetes_service_v1.greenlight_public[0].status[0].load_balancer[0].ingress[0].hostname
    zone_id  = data.aws_lb_hosted_zone_id.nlb.id
  } : null, null)
}

output "greenlight_url" {
  description = "Greenlight's URL (https://<greenlight_hostname>/), or null without Greenlight."
  value       = var.enable_greenlight ? "https://${var.greenlight_hostname}/" : null
}

output "internal_lb_security_group_id" {
  description = "Security group of Scalelite's internal load balancer."
  value       = try(aws_security_group.internal_lb[0].id, null)
}

output "namespace" {
  description = "Kubernetes namespace of Scalelite and Greenlight."
  value       = try(kubernetes_namespace_v1.this[0].metadata[0].name, null)
}

output "scalelite_release" {
  description = "Name and version of Scalelite's Helm release."
  value       = try({ name = helm_release.scalelite[0].name, version = helm_release.scalelite[0].version }, null)
}
