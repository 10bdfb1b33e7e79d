output "scalelite_internal_url" {
  description = "Scalelite API URL on the internal load balancer, reachable from the BBB fleet only: the fleet module's scalelite_url. Exists only once Scalelite's release and its internal load balancer and record do, so passing it orders the fleet after Scalelite."
  value       = "https://${aws_route53_record.scalelite_internal.fqdn}/bigbluebutton/api"
}

output "scalelite_public_lb" {
  description = "Public load balancer of Scalelite (dns_name and zone_id) for the dns module's scalelite_target."
  value = {
    dns_name = kubernetes_service_v1.scalelite_public.status[0].load_balancer[0].ingress[0].hostname
    zone_id  = data.aws_lb_hosted_zone_id.nlb.id
  }
}

output "greenlight_public_lb" {
  description = "Public load balancer of Greenlight (dns_name and zone_id), or null without Greenlight."
  value = var.enable_greenlight ? {
    dns_name = kubernetes_service_v1.greenlight_public[0].status[0].load_balancer[0].ingress[0].hostname
    zone_id  = data.aws_lb_hosted_zone_id.nlb.id
  } : null
}

output "greenlight_url" {
  description = "Greenlight's URL (https://<greenlight_hostname>/), or null without Greenlight."
  value       = var.enable_greenlight ? "https://${var.greenlight_hostname}/" : null
}

output "internal_lb_security_group_id" {
  description = "Security group of Scalelite's internal load balancer."
  value       = aws_security_group.internal_lb.id
}

output "namespace" {
  description = "Kubernetes namespace of Scalelite and Greenlight."
  value       = kubernetes_namespace_v1.this.metadata[0].name
}

output "scalelite_release" {
  description = "Name and version of Scalelite's Helm release."
  value       = { name = helm_release.scalelite.name, version = helm_release.scalelite.version }
}
