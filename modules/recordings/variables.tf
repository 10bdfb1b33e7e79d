variable "create" {
  type        = bool
  description = "Create the module's resources. false creates nothing and every output that would name one is null (terraform-aws-modules' create toggle)."
  default     = true
}

variable "name" {
  type        = string
  description = "Name prefix for every resource of the recordings storage (lowercase letters, digits and hyphens)."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name))
    error_message = "name must be 3-32 characters of lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "vpc_id" {
  type        = string
  description = "ID of the VPC the file system is reachable in."

  validation {
    condition     = can(regex("^vpc-[0-9a-f]{8,17}$", var.vpc_id))
    error_message = "vpc_id must look like vpc-0123456789abcdef0."
  }
}

variable "subnets" {
  type        = map(string)
  description = "Subnets to put a mount target in, keyed by availability zone (one per zone the fleet and Scalelite run in), e.g. the network module's private_subnet_ids_by_az. The keys must be known at plan (zone names are); the subnet IDs may be created in the same apply."

  validation {
    condition     = length(var.subnets) > 0 && alltrue([for az, s in var.subnets : can(regex("^[a-z]{2}(-[a-z]+)+-[0-9][a-z]$", az)) && can(regex("^subnet-[0-9a-f]{8,17}$", s))])
    error_message = "subnets must map availability zone names (eu-central-1a) to subnet IDs like subnet-0123456789abcdef0, at least one."
  }
}

variable "client_security_group_ids" {
  type        = map(string)
  description = "Security groups allowed to mount the file system (NFS 2049), keyed by a static label such as bbb or scalelite."

  validation {
    condition     = alltrue([for k, v in var.client_security_group_ids : can(regex("^sg-[0-9a-f]{8,17}$", v))])
    error_message = "Each value must be a security group ID like sg-0123456789abcdef0."
  }
}

variable "kms_key_arn" {
  type        = string
  description = "KMS key encrypting the file system and the backup vault; null creates a dedicated key with rotation."
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN."
  }
}

variable "throughput_mode" {
  type        = string
  description = "EFS throughput mode: elastic (recommended for bursty publishing), bursting or provisioned."
  default     = "elastic"

  validation {
    condition     = contains(["elastic", "bursting", "provisioned"], var.throughput_mode)
    error_message = "throughput_mode must be elastic, bursting or provisioned."
  }
}

variable "provisioned_throughput_mibps" {
  type        = number
  description = "Throughput in MiB/s when throughput_mode is provisioned (ignored otherwise)."
  default     = null

  validation {
    condition     = var.provisioned_throughput_mibps == null || (var.provisioned_throughput_mibps >= 1 && var.provisioned_throughput_mibps <= 3414)
    error_message = "provisioned_throughput_mibps must be between 1 and 3414."
  }
}

variable "transition_to_ia" {
  type        = string
  description = "Move recordings not read for this long to Infrequent Access (an EFS lifecycle value such as AFTER_30_DAYS), or null to keep them in Standard."
  default     = "AFTER_30_DAYS"

  validation {
    condition     = var.transition_to_ia == null || contains(["AFTER_1_DAY", "AFTER_7_DAYS", "AFTER_14_DAYS", "AFTER_30_DAYS", "AFTER_60_DAYS", "AFTER_90_DAYS", "AFTER_180_DAYS", "AFTER_270_DAYS", "AFTER_365_DAYS"], var.transition_to_ia)
    error_message = "transition_to_ia must be an EFS lifecycle value such as AFTER_30_DAYS, or null."
  }
}

variable "bbb_posix_user" {
  type = object({
    uid = number
    gid = number
  })
  description = "POSIX owner of the BBB access point (the bigbluebutton user of the AMI writes published recordings)."
  default = {
    uid = 997
    gid = 997
  }

  validation {
    condition     = alltrue([for id in [var.bbb_posix_user.uid, var.bbb_posix_user.gid] : id >= 1 && id <= 4294967294])
    error_message = "uid and gid must be non-root ids (1 to 4294967294)."
  }
}

variable "scalelite_posix_user" {
  type = object({
    uid = number
    gid = number
  })
  description = "POSIX owner of the Scalelite access point (the user the Scalelite containers run as)."
  default = {
    uid = 1000
    gid = 1000
  }

  validation {
    condition     = alltrue([for id in [var.scalelite_posix_user.uid, var.scalelite_posix_user.gid] : id >= 1 && id <= 4294967294])
    error_message = "uid and gid must be non-root ids (1 to 4294967294)."
  }
}

variable "backup_schedule" {
  type        = string
  description = "AWS Backup cron expression (UTC) of the daily recordings backup."
  default     = "cron(0 3 * * ? *)"

  validation {
    condition     = can(regex("^(cron|rate)\\(.+\\)$", var.backup_schedule))
    error_message = "backup_schedule must be an AWS schedule expression: cron(...) or rate(...)."
  }
}

variable "backup_retention_days" {
  type        = number
  description = "Days a recordings backup is kept."
  default     = 35

  validation {
    condition     = floor(var.backup_retention_days) == var.backup_retention_days && var.backup_retention_days >= 1 && var.backup_retention_days <= 36500
    error_message = "backup_retention_days must be a whole number of days between 1 and 36500."
  }
}

variable "backup_cold_storage_after_days" {
  type        = number
  description = "Days after which a backup moves to cold storage (must leave 90 days in cold storage before deletion); null keeps backups warm."
  default     = null

  validation {
    condition     = var.backup_cold_storage_after_days == null || (floor(var.backup_cold_storage_after_days) == var.backup_cold_storage_after_days && var.backup_cold_storage_after_days >= 1 && var.backup_cold_storage_after_days <= 36500)
    error_message = "backup_cold_storage_after_days must be a whole number of days, or null."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}
