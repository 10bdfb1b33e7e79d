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

variable "private_subnet_ids" {
  type        = list(string)
  description = "Private subnets (two zones or more) of the cluster (its nodes, pods and internal load balancers)."

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
  description = "Retention of the EKS control-plane logs, in days."
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a retention CloudWatch Logs accepts."
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

variable "tags" {
  type        = map(string)
  description = "Tags added to every AWS resource."
  default     = {}
}
