output "database_address" {
  description = "Address of the PostgreSQL instance."
  value       = try(aws_db_instance.this[0].address, null)
}

output "database_port" {
  description = "Port of the PostgreSQL instance."
  value       = try(aws_db_instance.this[0].port, null)
}

output "database_username" {
  description = "Master user the applications connect as."
  value       = try(aws_db_instance.this[0].username, null)
}

output "database_urls" {
  description = "PostgreSQL URL (TLS required) per entry of databases, with the generated password: the scalelite module's database_urls."
  value       = local.database_urls
  sensitive   = true
}

output "redis_endpoint" {
  description = "Primary endpoint of Redis."
  value       = try(aws_elasticache_replication_group.this[0].primary_endpoint_address, null)
}

output "redis_urls" {
  description = "Redis URL (TLS, AUTH token) per entry of databases, each on its own database number: the scalelite module's redis_urls."
  value       = local.redis_urls
  sensitive   = true
}

output "database_security_group_id" {
  description = "Security group of the PostgreSQL instance."
  value       = try(aws_security_group.database[0].id, null)
}

output "redis_security_group_id" {
  description = "Security group of Redis."
  value       = try(aws_security_group.redis[0].id, null)
}

output "database_instance_arn" {
  description = "ARN of the PostgreSQL instance."
  value       = try(aws_db_instance.this[0].arn, null)
}

output "redis_replication_group_arn" {
  description = "ARN of the Redis replication group."
  value       = try(aws_elasticache_replication_group.this[0].arn, null)
}
