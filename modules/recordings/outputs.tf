output "file_system_id" {
  description = "ID of the recordings EFS file system. Available once its mount targets are, so that what mounts it (the fleet's servers, Scalelite's volume) is created after them."
  value       = aws_efs_file_system.this.id
  depends_on  = [aws_efs_mount_target.this]
}

output "file_system_arn" {
  description = "ARN of the recordings EFS file system."
  value       = aws_efs_file_system.this.arn
}

output "dns_name" {
  description = "DNS name of the file system (mount with amazon-efs-utils and TLS)."
  value       = aws_efs_file_system.this.dns_name
}

output "bbb_access_point_id" {
  description = "Access point the BBB servers mount."
  value       = aws_efs_access_point.bbb.id
}

output "bbb_access_point_arn" {
  description = "ARN of the access point the BBB servers mount (for IAM conditions)."
  value       = aws_efs_access_point.bbb.arn
}

output "scalelite_access_point_id" {
  description = "Access point Scalelite mounts through the EFS CSI driver."
  value       = aws_efs_access_point.scalelite.id
}

output "scalelite_access_point_arn" {
  description = "ARN of the access point Scalelite mounts (for IAM conditions)."
  value       = aws_efs_access_point.scalelite.arn
}

output "security_group_id" {
  description = "Security group of the mount targets."
  value       = aws_security_group.efs.id
}

output "kms_key_arn" {
  description = "KMS key encrypting the file system and its backups."
  value       = local.kms_key_arn
}

output "backup_vault_name" {
  description = "Name of the AWS Backup vault holding the recordings backups."
  value       = aws_backup_vault.this.name
}

output "backup_plan_id" {
  description = "ID of the AWS Backup plan."
  value       = aws_backup_plan.this.id
}

output "mount_target_ids" {
  description = "IDs of the mount targets, keyed by availability zone."
  value       = { for az, mt in aws_efs_mount_target.this : az => mt.id }
}
