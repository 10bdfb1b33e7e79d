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
  description = "Private subnets (two zones or more) for the cluster, the database, Redis and the internal load balancer."

  validation {
    condition     = length(var.private_subnet_ids) >= 2 && alltrue([for s in var.private_subnet_ids : can(regex("^subnet-[0-9a-f]{8,17}$", s))])
    error_message = "Give at least two subnet IDs like subnet-0123456789abcdef0."
  }
}

variable "create_cluster" {
  type        = bool
  description = "Create an EKS cluster (Auto Mode: managed compute, load balancing and storage). false uses the existing cluster named cluster_name."
  default     = true
}

variable "cluster_name" {
  type        = string
  description = "Name of the EKS cluster to create, or of the existing one when create_cluster is false; null names it after name."
  default     = null

  validation {
    condition     = var.cluster_name == null || can(regex("^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$", var.cluster_name))
    error_message = "cluster_name must be a valid EKS cluster name."
  }
}

variable "kubernetes_version" {
  type        = string
  description = "Kubernetes version of a created cluster."
  default     = "1.33"

  validation {
    condition     = can(regex("^1\\.[0-9]{2}$", var.kubernetes_version))
    error_message = "kubernetes_version must look like 1.33."
  }
}

variable "cluster_admin_principal_arns" {
  type        = list(string)
  description = "IAM roles or users given cluster-admin on a created cluster through EKS access entries, in addition to the identity running Terraform (enable_cluster_creator_admin_permissions)."
  default     = []

  validation {
    condition     = alltrue([for a in var.cluster_admin_principal_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:(role|user)/", a))])
    error_message = "Each principal must be an IAM role or user ARN."
  }
}

variable "cluster_endpoint_public_access" {
  type        = bool
  description = "Open a created cluster's API endpoint to the internet, limited to cluster_endpoint_public_access_cidrs. false keeps it private: Terraform must then run inside the VPC (or through a VPN)."
  default     = false
}

variable "cluster_endpoint_public_access_cidrs" {
  type        = list(string)
  description = "CIDR blocks that may reach a created cluster's public API endpoint (when cluster_endpoint_public_access is true)."
  default     = []

  validation {
    condition     = alltrue([for c in var.cluster_endpoint_public_access_cidrs : can(cidrnetmask(c)) && can(regex("/([89]|1[0-9]|2[0-9]|3[0-2])$", c))])
    error_message = "Each CIDR must be an IPv4 block of /8 or narrower (0.0.0.0/0 is refused)."
  }
}

variable "namespace" {
  type        = string
  description = "Kubernetes namespace of Scalelite and Greenlight."
  default     = "scalelite"

  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", var.namespace))
    error_message = "namespace must be a DNS label."
  }
}

variable "scalelite_chart" {
  type = object({
    repository = string
    chart      = string
    version    = string
  })
  description = "Helm chart of Scalelite (repository URL or oci:// registry, chart name, pinned version)."

  validation {
    condition     = can(regex("^(https://|oci://)", var.scalelite_chart.repository)) && can(regex("^[0-9]+\\.[0-9]+\\.[0-9]+", var.scalelite_chart.version))
    error_message = "scalelite_chart needs an https:// or oci:// repository and a pinned semantic version."
  }
}

variable "scalelite_values" {
  type        = any
  description = "Extra Helm values for Scalelite, applied after the module's own (image, replicas, resources...)."
  default     = {}
}

variable "enable_greenlight" {
  type        = bool
  description = "Install Greenlight next to Scalelite, using Scalelite as its BigBlueButton endpoint."
  default     = true
}

variable "greenlight_chart" {
  type = object({
    repository = string
    chart      = string
    version    = string
  })
  description = "Helm chart of Greenlight (used when enable_greenlight is true)."
  default     = null

  validation {
    condition     = var.greenlight_chart == null || (can(regex("^(https://|oci://)", var.greenlight_chart.repository)) && can(regex("^[0-9]+\\.[0-9]+\\.[0-9]+", var.greenlight_chart.version)))
    error_message = "greenlight_chart needs an https:// or oci:// repository and a pinned semantic version."
  }
}

variable "greenlight_values" {
  type        = any
  description = "Extra Helm values for Greenlight, applied after the module's own."
  default     = {}
}

variable "scalelite_hostname" {
  type        = string
  description = "Public host name of Scalelite (the dns module's scalelite_fqdn)."

  validation {
    condition     = can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", var.scalelite_hostname))
    error_message = "scalelite_hostname must be a lowercase DNS name."
  }
}

variable "greenlight_hostname" {
  type        = string
  description = "Public host name of Greenlight (used when enable_greenlight is true)."
  default     = null

  validation {
    condition     = var.greenlight_hostname == null || can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", var.greenlight_hostname))
    error_message = "greenlight_hostname must be a lowercase DNS name."
  }
}

variable "zone_id" {
  type        = string
  description = "Hosted zone receiving the internal record of Scalelite's internal load balancer (the dns module's zone_id)."

  validation {
    condition     = can(regex("^Z[0-9A-Z]{1,31}$", var.zone_id))
    error_message = "zone_id must be a Route53 hosted zone ID such as Z0123456789ABCDEFGHIJ."
  }
}

variable "scalelite_internal_hostname" {
  type        = string
  description = "Host name of Scalelite's internal load balancer, which the fleet's hook calls (certificate_arn must cover it), e.g. scalelite-internal.bbb.example.org."

  validation {
    condition     = can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", var.scalelite_internal_hostname))
    error_message = "scalelite_internal_hostname must be a lowercase DNS name."
  }
}

variable "certificate_arn" {
  type        = string
  description = "ACM certificate covering scalelite_hostname, scalelite_internal_hostname and greenlight_hostname, used by the TLS listeners of the load balancers."

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/", var.certificate_arn))
    error_message = "certificate_arn must be an ACM certificate ARN."
  }
}

variable "scalelite_secret_parameter_name" {
  type        = string
  description = "SSM SecureString parameter holding Scalelite's LOADBALANCER_SECRET (the same one bbb_fleet's hook reads)."

  validation {
    condition     = can(regex("^/[A-Za-z0-9_./-]{1,1000}$", var.scalelite_secret_parameter_name))
    error_message = "scalelite_secret_parameter_name must be a fully qualified SSM parameter name starting with /."
  }
}

variable "fleet_security_group_id" {
  type        = string
  description = "Security group of the BBB fleet: the only source allowed on Scalelite's internal load balancer."

  validation {
    condition     = can(regex("^sg-[0-9a-f]{8,17}$", var.fleet_security_group_id))
    error_message = "fleet_security_group_id must look like sg-0123456789abcdef0."
  }
}

variable "recordings" {
  type = object({
    file_system_id  = string
    access_point_id = string
  })
  description = "Recordings EFS and the Scalelite access point (the recordings module's outputs), mounted through the EFS CSI driver."

  validation {
    condition     = can(regex("^fs-[0-9a-f]{8,17}$", var.recordings.file_system_id)) && can(regex("^fsap-[0-9a-f]{8,17}$", var.recordings.access_point_id))
    error_message = "recordings needs an fs- file system ID and an fsap- access point ID."
  }
}

variable "recordings_security_group_id" {
  type        = string
  description = "Security group of the EFS mount targets; the module allows NFS from the cluster to it."

  validation {
    condition     = can(regex("^sg-[0-9a-f]{8,17}$", var.recordings_security_group_id))
    error_message = "recordings_security_group_id must look like sg-0123456789abcdef0."
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

variable "kms_key_arn" {
  type        = string
  description = "KMS key for EKS secrets, RDS, Performance Insights and ElastiCache; null creates a dedicated key with rotation."
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN."
  }
}

variable "log_retention_days" {
  type        = number
  description = "Retention of the EKS control-plane logs and the Redis logs, in days."
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a retention CloudWatch Logs accepts."
  }
}

variable "scalelite_frontend" {
  type = object({
    selector = optional(map(string), { "app.kubernetes.io/name" = "scalelite", "app.kubernetes.io/component" = "nginx" })
    port     = optional(number, 80)
  })
  description = "Scalelite's frontend pods in the chart and their HTTP port, targeted by the internal and public load balancers: upstream Scalelite's nginx, which serves recording playback (/playback, /presentation and the other formats from the published recordings) and proxies /bigbluebutton/api to the API. Pointing this at the API pods (port 3000) leaves recordings unserved."
  default     = {}

  validation {
    condition     = length(var.scalelite_frontend.selector) > 0 && floor(var.scalelite_frontend.port) == var.scalelite_frontend.port && var.scalelite_frontend.port >= 1 && var.scalelite_frontend.port <= 65535
    error_message = "scalelite_frontend needs a non-empty label selector and a port between 1 and 65535."
  }
}

variable "greenlight_frontend" {
  type = object({
    selector = optional(map(string), { "app.kubernetes.io/name" = "greenlight" })
    port     = optional(number, 3000)
  })
  description = "Greenlight's web pods in the chart and their HTTP port, targeted by the public load balancer."
  default     = {}

  validation {
    condition     = length(var.greenlight_frontend.selector) > 0 && floor(var.greenlight_frontend.port) == var.greenlight_frontend.port && var.greenlight_frontend.port >= 1 && var.greenlight_frontend.port <= 65535
    error_message = "greenlight_frontend needs a non-empty label selector and a port between 1 and 65535."
  }
}

variable "enable_cluster_creator_admin_permissions" {
  type        = bool
  description = "Give the IAM role running Terraform (resolved from its session) a cluster-admin access entry on a created cluster, as terraform-aws-modules/eks does. Listing that role in cluster_admin_principal_arns as well is harmless (one entry per principal)."
  default     = true
}

variable "create_storage_class" {
  type        = bool
  description = "Create the cluster's default StorageClass (EBS gp3, encrypted, provisioner ebs.csi.eks.amazonaws.com) on a created cluster: EKS Auto Mode creates none, and volume claims without one stay Pending."
  default     = true
}

variable "storage_class_name" {
  type        = string
  description = "Name of that StorageClass (also the monitoring module's storage_class_name)."
  default     = "gp3-encrypted"

  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9.-]{0,61}[a-z0-9])?$", var.storage_class_name))
    error_message = "storage_class_name must be a lowercase DNS subdomain name."
  }
}

variable "ebs_kms_key_arn" {
  type        = string
  description = "Customer managed KMS key of the volumes of that StorageClass; null uses the account's default EBS key (the Auto Mode cluster role must be allowed to use a customer managed key)."
  default     = null

  validation {
    condition     = var.ebs_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:", var.ebs_kms_key_arn))
    error_message = "ebs_kms_key_arn must be a KMS key ARN."
  }
}

variable "scalelite_secret_revision" {
  type        = number
  description = "Revision of the Scalelite secret in SSM: the module writes the secret to Kubernetes write-only (never in state), so Kubernetes receives it again only when this number changes. Increase it after rotating the parameter."
  default     = 1

  validation {
    condition     = floor(var.scalelite_secret_revision) == var.scalelite_secret_revision && var.scalelite_secret_revision >= 1
    error_message = "scalelite_secret_revision must be a whole number of 1 or more."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every AWS resource."
  default     = {}
}
