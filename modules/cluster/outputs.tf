# The provider-facing outputs wait for the admin access entries: a kubernetes or helm provider configured from
# them only talks to the cluster once the identity running Terraform may.

output "cluster_name" {
  description = "Name of the EKS cluster (for the kubernetes and helm providers' token), once the admin access entries exist."
  value       = var.create ? local.cluster_name : null
  depends_on  = [aws_eks_access_policy_association.admin]
}

output "cluster_endpoint" {
  description = "API endpoint of the EKS cluster (for the kubernetes and helm providers), once the admin access entries exist."
  value       = try(local.cluster.endpoint, null)
  depends_on  = [aws_eks_access_policy_association.admin]
}

output "cluster_certificate_authority_data" {
  description = "Base64 CA certificate of the EKS cluster (for the kubernetes and helm providers)."
  value       = try(local.cluster.certificate_authority[0].data, null)
}

output "cluster_arn" {
  description = "ARN of the EKS cluster."
  value       = try(local.cluster.arn, null)
}

output "cluster_security_group_id" {
  description = "Security group of the cluster's nodes and pods (Auto Mode), once the EFS CSI driver is installed: what mounts EFS or needs the data stores' rules takes it from here."
  value       = try(local.cluster_security_group_id, null)
  depends_on  = [aws_eks_addon.efs_csi]
}

output "kms_key_arn" {
  description = "KMS key of the cluster's secrets and logs (created unless kms_key_arn was given): the data-stores module's kms_key_arn."
  value       = try(local.kms_key_arn, null)
}

output "storage_class_name" {
  description = "Name of the default StorageClass the module created (the monitoring module's storage_class_name, which also orders its volumes after it), or null."
  value       = try(kubernetes_storage_class_v1.ebs[0].metadata[0].name, null)
}

output "efs_csi_role_arn" {
  description = "IAM role of the EFS CSI driver (EKS Pod Identity)."
  value       = try(aws_iam_role.efs_csi[0].arn, null)
}
