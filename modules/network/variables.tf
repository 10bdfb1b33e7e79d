variable "create" {
  type        = bool
  description = "Create the module's resources. false creates nothing and every output that would name one is null (terraform-aws-modules' create toggle)."
  default     = true
}

variable "name" {
  type        = string
  description = "Name prefix for every resource of the network (lowercase letters, digits and hyphens)."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name))
    error_message = "name must be 3-32 characters of lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "vpc_cidr" {
  type        = string
  description = "IPv4 CIDR block of the VPC, /16 to /22."
  default     = "10.20.0.0/16"

  validation {
    condition     = can(regex("^(\\d{1,3}\\.){3}\\d{1,3}/(1[6-9]|2[0-2])$", var.vpc_cidr)) && can(cidrnetmask(var.vpc_cidr))
    error_message = "vpc_cidr must be a valid IPv4 CIDR block with a prefix between /16 and /22."
  }
}

variable "availability_zones" {
  type        = list(string)
  description = "Availability zones to spread the subnets over (at least two, at most six)."

  validation {
    condition     = length(var.availability_zones) >= 2 && length(var.availability_zones) <= 6
    error_message = "Give between two and six availability zones."
  }

  validation {
    condition     = alltrue([for az in var.availability_zones : can(regex("^[a-z]{2}(-[a-z]+)+-\\d[a-z]$", az))])
    error_message = "Each availability zone must look like eu-central-1a."
  }
}

variable "subnet_newbits" {
  type        = number
  description = "Bits added to the VPC prefix for each subnet (cidrsubnets newbits): 4 on a /16 gives /20 subnets. The VPC must hold two subnets per zone."
  default     = 4

  validation {
    condition     = floor(var.subnet_newbits) == var.subnet_newbits && var.subnet_newbits >= 2 && var.subnet_newbits <= 8
    error_message = "subnet_newbits must be an integer between 2 and 8."
  }
}

variable "create_private_subnets" {
  type        = bool
  description = "Create private subnets (one per zone) for EKS nodes, RDS, ElastiCache and the internal load balancers."
  default     = true
}

variable "nat_gateway" {
  type        = string
  description = "NAT for the private subnets: \"none\", \"single\" (one gateway, cheaper) or \"per_az\" (one per zone, survives a zone failure)."
  default     = "single"

  validation {
    condition     = contains(["none", "single", "per_az"], var.nat_gateway)
    error_message = "nat_gateway must be one of none, single, per_az."
  }
}

variable "media_port_range" {
  type = object({
    from = number
    to   = number
  })
  description = "UDP port range of the WebRTC media (FreeSWITCH/mediasoup); BigBlueButton uses 16384-32768."
  default = {
    from = 16384
    to   = 32768
  }

  validation {
    condition = alltrue([
      var.media_port_range.from >= 1024 && var.media_port_range.from <= 65535,
      var.media_port_range.to >= var.media_port_range.from && var.media_port_range.to <= 65535,
    ])
    error_message = "media_port_range must be within 1024-65535 with from <= to."
  }
}

variable "ssh_ingress_cidrs" {
  type        = list(string)
  description = "CIDR blocks allowed to SSH to the BBB servers (bastion or VPN ranges). Empty: no SSH rule at all (use SSM Session Manager)."
  default     = []

  validation {
    condition     = alltrue([for c in var.ssh_ingress_cidrs : can(regex("^(\\d{1,3}\\.){3}\\d{1,3}/(1[6-9]|2\\d|3[0-2])$", c)) && can(cidrnetmask(c))])
    error_message = "Each SSH CIDR must be an IPv4 block of /16 or narrower: 0.0.0.0/0 and other wide ranges are refused."
  }
}

variable "flow_log_retention_days" {
  type        = number
  description = "Retention of the VPC flow logs in CloudWatch Logs, in days."
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.flow_log_retention_days)
    error_message = "flow_log_retention_days must be a retention CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, ... 365, 400, 545, 731, ... 3653)."
  }
}

variable "flow_log_kms_key_arn" {
  type        = string
  description = "KMS key ARN encrypting the flow-log group; null uses CloudWatch Logs' own encryption."
  default     = null

  validation {
    condition     = var.flow_log_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:", var.flow_log_kms_key_arn))
    error_message = "flow_log_kms_key_arn must be a KMS key ARN."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}
