variable "environment" {
  type        = string
  description = "Environment name (dev, staging, prod): prefixes every resource and names the fleet."

  validation {
    condition     = contains(["dev", "staging", "prod"], var.environment)
    error_message = "environment must be dev, staging or prod."
  }
}

variable "region" {
  type        = string
  description = "AWS region of the environment."

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.region))
    error_message = "region must look like eu-central-1."
  }
}

variable "availability_zones" {
  type        = list(string)
  description = "Availability zones of the environment (two or more)."

  validation {
    condition     = length(var.availability_zones) >= 2
    error_message = "Give at least two availability zones."
  }
}

variable "vpc_cidr" {
  type        = string
  description = "CIDR block of the environment's VPC."

  validation {
    condition     = can(cidrnetmask(var.vpc_cidr))
    error_message = "vpc_cidr must be an IPv4 CIDR block."
  }
}

variable "nat_gateway" {
  type        = string
  description = "NAT for the private subnets: none, single or per_az."
  default     = "single"

  validation {
    condition     = contains(["none", "single", "per_az"], var.nat_gateway)
    error_message = "nat_gateway must be none, single or per_az."
  }
}

variable "domain" {
  type        = string
  description = "Domain of the environment, e.g. bbb.example.org or dev.bbb.example.org."

  validation {
    condition     = can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", var.domain))
    error_message = "domain must be a lowercase DNS name."
  }
}

variable "existing_zone_id" {
  type        = string
  description = "Use this existing hosted zone for domain instead of creating one (null creates it)."
  default     = null

  validation {
    condition     = var.existing_zone_id == null || can(regex("^Z[0-9A-Z]{1,31}$", var.existing_zone_id))
    error_message = "existing_zone_id must be null or a Route53 hosted zone ID such as Z0123456789ABCDEFGHIJ."
  }
}

variable "parent_zone_id" {
  type        = string
  description = "Route53 zone of domain's parent, to delegate a zone created here in the same apply (null: delegate at your registrar first, see the README)."
  default     = null

  validation {
    condition     = var.parent_zone_id == null || can(regex("^Z[0-9A-Z]{1,31}$", var.parent_zone_id))
    error_message = "parent_zone_id must be null or a Route53 hosted zone ID such as Z0123456789ABCDEFGHIJ."
  }
}

variable "greenlight_auth" {
  type = object({
    mode = optional(string, "local")
    oidc = optional(object({
      issuer                       = string
      client_id                    = string
      client_secret_parameter_name = string
      uid_field                    = optional(string, "sub")
    }))
  })
  description = "How users sign in to Greenlight: local accounts, or OpenID Connect (client secret in an SSM SecureString parameter). See the scalelite module's greenlight_auth."
  default     = {}

  validation {
    condition     = contains(["local", "oidc"], var.greenlight_auth.mode)
    error_message = "greenlight_auth.mode must be \"local\" or \"oidc\"."
  }
}

variable "greenlight_smtp" {
  type = object({
    server                  = string
    port                    = optional(number, 587)
    domain                  = optional(string, "")
    username                = string
    password_parameter_name = string
    auth                    = optional(string, "plain")
    sender_email            = string
    sender_name             = optional(string, "BigBlueButton")
  })
  description = "SMTP server of Greenlight's mails (password in an SSM SecureString parameter), or null. See the scalelite module's greenlight_smtp."
  default     = null

  validation {
    condition     = var.greenlight_smtp == null || can(regex("^/", try(var.greenlight_smtp.password_parameter_name, "")))
    error_message = "greenlight_smtp.password_parameter_name must be an SSM parameter name starting with /."
  }
}

variable "ami_id" {
  type        = string
  description = "Custom BigBlueButton AMI of the fleet (built from ami/)."

  validation {
    condition     = can(regex("^ami-[0-9a-f]{8,17}$", var.ami_id))
    error_message = "ami_id must look like ami-0123456789abcdef0."
  }
}

variable "instance_type" {
  type        = string
  description = "Instance type of the BBB servers."
  default     = "c6i.2xlarge"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*\\.[0-9]*[a-z]+$", var.instance_type))
    error_message = "instance_type must be an EC2 instance type."
  }
}

variable "fleet_capacity" {
  type = object({
    min     = number
    max     = number
    desired = number
  })
  description = "Size of the BBB fleet (desired at creation only)."
}

variable "participants_per_server" {
  type        = number
  description = "Participants per server the fleet scales to (the fleet module's target tracking)."
  default     = 140

  validation {
    condition     = floor(var.participants_per_server) == var.participants_per_server && var.participants_per_server >= 10 && var.participants_per_server <= 1000
    error_message = "participants_per_server must be a whole number between 10 and 1000."
  }
}

variable "cpu_target_percent" {
  type        = number
  description = "Average CPU above which servers are added whatever the participants (the fleet module's CPU guard)."
  default     = 60

  validation {
    condition     = var.cpu_target_percent >= 10 && var.cpu_target_percent <= 80
    error_message = "cpu_target_percent must be between 10 and 80."
  }
}

variable "scalelite_secret_parameter_name" {
  type        = string
  description = "SSM SecureString parameter holding Scalelite's LOADBALANCER_SECRET (create it once with aws ssm put-parameter)."

  validation {
    condition     = can(regex("^/[A-Za-z0-9_./-]+$", var.scalelite_secret_parameter_name))
    error_message = "scalelite_secret_parameter_name must start with /."
  }
}

variable "enable_turn" {
  type        = bool
  description = "Run a TURN server (modules/turn) and hand it to the fleet, for participants whose networks block UDP."
  default     = true
}

variable "turn_certificate_parameter_name" {
  type        = string
  description = "SSM parameter with a certificate document covering turn.<domain> (e.g. the fleet's wildcard); null: the TURN server gets its own Let's Encrypt certificate."
  default     = null

  validation {
    condition     = var.turn_certificate_parameter_name == null || can(regex("^/[A-Za-z0-9_./-]+$", var.turn_certificate_parameter_name))
    error_message = "turn_certificate_parameter_name must start with /."
  }
}

variable "ssh_ingress_cidrs" {
  type        = list(string)
  description = "Administration ranges allowed to SSH to the servers (empty: Session Manager only)."
  default     = []
}

variable "cluster_admin_principal_arns" {
  type        = list(string)
  description = "IAM roles with cluster-admin on the EKS cluster (CI's deploy role, operators)."
  default     = []
}

variable "cluster_endpoint_public_access_cidrs" {
  type        = list(string)
  description = "Ranges allowed on the EKS public endpoint (empty: private endpoint only; run Terraform from inside the VPC)."
  default     = []
}

variable "charts" {
  type = object({
    scalelite  = object({ repository = string, chart = string, version = string })
    greenlight = object({ repository = string, chart = string, version = string })
  })
  description = "Pinned Helm charts of Scalelite and Greenlight your organisation deploys."
}

variable "database" {
  type = object({
    instance_class      = optional(string, "db.t4g.medium")
    multi_az            = optional(bool, true)
    deletion_protection = optional(bool, true)
  })
  description = "Size and resilience of Scalelite's PostgreSQL."
  default     = {}
}

variable "redis_replicas" {
  type        = number
  description = "Redis replicas (0 for dev, 1 or more for failover)."
  default     = 1

  validation {
    condition     = floor(var.redis_replicas) == var.redis_replicas && var.redis_replicas >= 0 && var.redis_replicas <= 5
    error_message = "redis_replicas must be between 0 and 5."
  }
}

variable "backup_retention_days" {
  type        = number
  description = "Days the recordings backups are kept."
  default     = 35

  validation {
    condition     = floor(var.backup_retention_days) == var.backup_retention_days && var.backup_retention_days >= 1 && var.backup_retention_days <= 36500
    error_message = "backup_retention_days must be between 1 and 36500."
  }
}

variable "schedules" {
  type = map(object({
    recurrence              = string
    time_zone               = string
    duration                = string
    expected_participants   = number
    participants_per_server = number
    lead_time               = optional(string, "30m")
  }))
  description = "Recurring scheduled capacity of the fleet (lectures, office hours), keyed by a name."
  default     = {}
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource of the environment."
  default     = {}
}
