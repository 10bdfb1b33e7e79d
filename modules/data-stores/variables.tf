variable "create" {
  type        = bool
  description = "Create the module's resources. false creates nothing and every output that would name one is null (terraform-aws-modules' create toggle)."
  default     = true
}

variable "name" {
  type        = string
  description = "Name prefix for every resource of the Scalelite stack (lowercase letters, digits and hyphens)."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name))
    error_message = "name must be 3-32 characters of lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "vpc_id" {
  type        = string
  description = "ID of the VPC."

  validation {
    condition     = can(regex("^vpc-[0-9a-f]{8,17}$", var.vpc_id))
    error_message = "vpc_id must look like vpc-0123456789abcdef0."
  }
}

variable "private_subnet_ids" {
  type        = list(string)
  description = "Private subnets (two zones or more) of the database and Redis."

  validation {
    condition     = length(var.private_subnet_ids) >= 2 && alltrue([for s in var.private_subnet_ids : can(regex("^subnet-[0-9a-f]{8,17}$", s))])
    error_message = "Give at least two subnet IDs like subnet-0123456789abcdef0."
  }
}

variable "client_security_group_ids" {
  type        = map(string)
  description = "Security groups allowed to PostgreSQL (5432) and Redis (6379), keyed by a static label, e.g. { cluster = module.cluster.cluster_security_group_id } (the EKS cluster group: Auto Mode pods use it)."

  validation {
    condition     = length(var.client_security_group_ids) > 0 && alltrue([for s in values(var.client_security_group_ids) : can(regex("^sg-[0-9a-f]{8,17}$", s))])
    error_message = "client_security_group_ids must map labels to security group IDs like sg-0123456789abcdef0, at least one."
  }
}

variable "kms_key_arn" {
  type        = string
  description = "KMS key encrypting PostgreSQL, Redis and their logs (the cluster module's kms_key_arn)."

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN."
  }
}

variable "databases" {
  type        = list(string)
  description = "Databases of the applications, one per application on the same instance: the first is created with the instance (Scalelite's), the others by their application's module (the scalelite module creates Greenlight's); each gets its own Redis database number (its index)."
  default     = ["scalelite", "greenlight"]

  validation {
    condition     = length(var.databases) > 0 && length(var.databases) <= 16 && alltrue([for d in var.databases : can(regex("^[a-z][a-z0-9_]{0,62}$", d))])
    error_message = "databases must be 1 to 16 lowercase PostgreSQL database names."
  }
}

variable "database" {
  type = object({
    engine_version          = optional(string, "17")
    instance_class          = optional(string, "db.t4g.medium")
    allocated_storage_gb    = optional(number, 20)
    max_allocated_storage   = optional(number, 100)
    multi_az                = optional(bool, true)
    backup_retention_days   = optional(number, 14)
    deletion_protection     = optional(bool, true)
    performance_insights    = optional(bool, true)
    monitoring_interval_sec = optional(number, 60)
  })
  description = "RDS PostgreSQL shared by Scalelite and Greenlight (one database each)."
  default     = {}

  validation {
    condition     = can(regex("^1[4-9](\\.[0-9]+)?$", var.database.engine_version))
    error_message = "database.engine_version must be PostgreSQL 14 or newer, like 17 or 17.4."
  }

  validation {
    condition     = can(regex("^db\\.[a-z0-9]+\\.[a-z0-9]+$", var.database.instance_class))
    error_message = "database.instance_class must look like db.t4g.medium."
  }

  validation {
    condition = alltrue([
      floor(var.database.allocated_storage_gb) == var.database.allocated_storage_gb && var.database.allocated_storage_gb >= 20 && var.database.allocated_storage_gb <= 65536,
      floor(var.database.max_allocated_storage) == var.database.max_allocated_storage && var.database.max_allocated_storage >= var.database.allocated_storage_gb && var.database.max_allocated_storage <= 65536,
    ])
    error_message = "database storage must be 20-65536 GB with max_allocated_storage >= allocated_storage_gb."
  }

  validation {
    condition     = floor(var.database.backup_retention_days) == var.database.backup_retention_days && var.database.backup_retention_days >= 1 && var.database.backup_retention_days <= 35
    error_message = "database.backup_retention_days must be between 1 and 35."
  }

  validation {
    condition     = contains([1, 5, 10, 15, 30, 60], var.database.monitoring_interval_sec)
    error_message = "database.monitoring_interval_sec must be 1, 5, 10, 15, 30 or 60."
  }
}

variable "redis" {
  type = object({
    engine_version     = optional(string, "7.1")
    node_type          = optional(string, "cache.t4g.small")
    replicas           = optional(number, 1)
    snapshot_retention = optional(number, 7)
  })
  description = "ElastiCache Redis (TLS, AUTH, encrypted) shared by Scalelite and Greenlight."
  default     = {}

  validation {
    condition     = can(regex("^[67]\\.[0-9]+$", var.redis.engine_version))
    error_message = "redis.engine_version must be 6.x or 7.x."
  }

  validation {
    condition     = can(regex("^cache\\.[a-z0-9]+\\.[a-z0-9]+$", var.redis.node_type))
    error_message = "redis.node_type must look like cache.t4g.small."
  }

  validation {
    condition     = floor(var.redis.replicas) == var.redis.replicas && var.redis.replicas >= 0 && var.redis.replicas <= 5
    error_message = "redis.replicas must be between 0 and 5."
  }

  validation {
    condition     = floor(var.redis.snapshot_retention) == var.redis.snapshot_retention && var.redis.snapshot_retention >= 0 && var.redis.snapshot_retention <= 35
    error_message = "redis.snapshot_retention must be between 0 and 35 days."
  }
}

variable "log_retention_days" {
  type        = number
  description = "Retention of the Redis logs, in days."
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a retention CloudWatch Logs accepts."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every AWS resource."
  default     = {}
}
