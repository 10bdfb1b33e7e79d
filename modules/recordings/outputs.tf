output "file_system_id" {
  description = "ID of the recordings EFS file system. Available once its mount targets are, so that what mounts it (the fleet's servers, Scalelite's volume) is created after them."
  value       = try(aws_efs_file_system.this[0].id, null)
  depends_on  = [aws_efs_mount_target.this]
}

output "file_system_arn" {
  description = "ARN of the recordings EFS file system."
  value       = try(aws_efs_file_system.this[0].arn, null)
}

output "dns_name" {
  description = "DNS name of the file system (mount with amazon-efs-utils and TLS)."
  value       = try(aws_efs_file_system.this[0].dns_name, null)
}

output "bbb_access_point_id" {
  description = "Access point the BBB servers mount."
  value       = try(aws_efs_access_point.bbb[0].id, null)
}

output "bbb_access_point_arn" {
  description = "ARN of the access point the BBB servers mount (for IAM conditions)."
  value       = try(aws_efs_access_point.bbb[0].arn, null)
}

output "scalelite_access_point_id" {
  description = "Access point Scalelite mounts through the EFS CSI driver."
  value       = try(aws_efs_access_point.scalelite[0].id, null)
}

output "scalelite_access_point_arn" {
  description = "ARN of the access point Scalelite mounts (for IAM conditions)."
  value       = try(aws_efs_access_point.scalelite[0].arn, null)
}

output "security_group_id" {
  description = "Security group of the mount targets."
  value       = try(aws_security_group.efs[0].id, null)
}

output "kms_key_arn" {
  description = "KMS key encrypting the file system and its backups."
  value       = try(local.kms_key_arn, null)
}

output "backup_vault_name" {
  description = "Name of the AWS Backup vault holding the recordings backups."
  value       = try(aws_backup_vault.this[0].name, null)
}

output "backup_plan_id" {
  description = "ID of the AWS Backup plan."
  value       = try(aws_backup_plan.this[0].id, null)
}

output "mount_target_ids" {
  description = "IDs of the mount targets, keyed by availability zone."
  value       = { for az, mt in aws_efs_mount_target.this : az => mt.id }
}
