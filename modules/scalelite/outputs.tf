output "cluster_name" {
  description = "Name of the EKS cluster."
  value       = local.cluster.name
}

output "cluster_endpoint" {
  description = "API endpoint of the EKS cluster (for the kubernetes and helm providers)."
  value       = local.cluster.endpoint
}

output "cluster_certificate_authority_data" {
  description = "Base64 CA certificate of the EKS cluster (for the kubernetes and helm providers)."
  value       = local.cluster.certificate_authority[0].data
}

output "cluster_security_group_id" {
  description = "Security group of the cluster's nodes and pods."
  value       = local.cluster_security_group_id
}

output "scalelite_internal_url" {
  description = "Scalelite API URL on the internal load balancer, reachable from the BBB fleet only."
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

output "database_endpoint" {
  description = "Address of the PostgreSQL instance."
  value       = aws_db_instance.this.address
}

output "redis_endpoint" {
  description = "Primary endpoint of Redis."
  value       = aws_elasticache_replication_group.this.primary_endpoint_address
}

output "kms_key_arn" {
  description = "KMS key of the stack."
  value       = local.kms_key_arn
}

output "namespace" {
  description = "Kubernetes namespace of Scalelite and Greenlight."
  value       = kubernetes_namespace_v1.this.metadata[0].name
}

output "storage_class_name" {
  description = "Name of the default StorageClass the module created (the monitoring module's storage_class_name, which also orders its volumes after it), or null."
  value       = try(kubernetes_storage_class_v1.ebs[0].metadata[0].name, null)
}

output "cluster_arn" {
  description = "ARN of the EKS cluster."
  value       = local.cluster.arn
}

output "database_security_group_id" {
  description = "Security group of the PostgreSQL instance."
  value       = aws_security_group.database.id
}

output "redis_security_group_id" {
  description = "Security group of Redis."
  value       = aws_security_group.redis.id
}

output "internal_lb_security_group_id" {
  description = "Security group of Scalelite's internal load balancer."
  value       = aws_security_group.internal_lb.id
}
