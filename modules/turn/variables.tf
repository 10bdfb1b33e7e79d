variable "create" {
  type        = bool
  description = "Create the TURN server. false creates nothing and every output is null or empty (the fleet then gets no TURN)."
  default     = true
}

variable "name" {
  type        = string
  description = "Name prefix of every resource of the module (lowercase letters, digits and hyphens)."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name))
    error_message = "name must be 3-32 characters of lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "vpc_id" {
  type        = string
  description = "VPC of the TURN server (the network module's vpc_id)."

  validation {
    condition     = can(regex("^vpc-[0-9a-f]{8,17}$", var.vpc_id))
    error_message = "vpc_id must look like vpc-0123456789abcdef0."
  }
}

variable "subnet_id" {
  type        = string
  description = "Public subnet of the TURN server (one of the network module's public_subnet_ids): clients reach it on its Elastic IP."

  validation {
    condition     = can(regex("^subnet-[0-9a-f]{8,17}$", var.subnet_id))
    error_message = "subnet_id must look like subnet-0123456789abcdef0."
  }
}

variable "hostname" {
  type        = string
  description = "DNS name of the TURN server, e.g. turn.bbb.example.org: the TURN/STUN URIs, the TLS certificate's name and the A record."

  validation {
    condition     = can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", var.hostname))
    error_message = "hostname must be a lowercase DNS name without trailing dot, like turn.bbb.example.org."
  }
}

variable "create_dns_record" {
  type        = bool
  description = "Create the A record of hostname in zone_id. false: DNS is managed elsewhere (point hostname at public_ip)."
  default     = true

  validation {
    condition     = !var.create_dns_record || var.zone_id != null
    error_message = "create_dns_record needs zone_id (or set create_dns_record = false when DNS is managed elsewhere)."
  }
}

variable "zone_id" {
  type        = string
  description = "Route53 hosted zone the A record of hostname is created in (the dns module's zone_id); may be unknown until apply. Required when create_dns_record is true."
  default     = null

  validation {
    condition     = var.zone_id == null || can(regex("^Z[0-9A-Z]{1,31}$", var.zone_id))
    error_message = "zone_id must be a Route53 hosted zone ID such as Z0123456789ABCDEFGHIJ."
  }
}

variable "realm" {
  type        = string
  description = "coturn realm; null uses the parent domain of hostname (BigBlueButton's TURN documentation uses the domain, realm=<example.com>)."
  default     = null

  validation {
    condition     = var.realm == null || can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)*[a-z0-9-]{2,63}$", var.realm))
    error_message = "realm must be a lowercase DNS name."
  }
}

variable "instance_type" {
  type        = string
  description = "EC2 instance type (x86_64) of the TURN server. TURN is network-bound, not CPU-bound; the type's network bandwidth is what counts."
  default     = "c6i.large"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*\\.[0-9]*[a-z]+$", var.instance_type))
    error_message = "instance_type must be an EC2 instance type such as c6i.large."
  }
}

variable "ubuntu_release" {
  type        = string
  description = "Ubuntu LTS release of the server when ami_id is null: 24.04 (coturn 4.6, what BigBlueButton's TURN documentation and bbb-install use) or 22.04 (coturn 4.5.2)."
  default     = "24.04"

  validation {
    condition     = contains(["22.04", "24.04"], var.ubuntu_release)
    error_message = "ubuntu_release must be 22.04 or 24.04."
  }
}

variable "ami_id" {
  type        = string
  description = "AMI of the server (an Ubuntu 22.04 or 24.04 x86_64 image); null uses Canonical's newest image of ubuntu_release at creation. Later images do not replace the server (security updates come from unattended-upgrades)."
  default     = null

  validation {
    condition     = var.ami_id == null || can(regex("^ami-[0-9a-f]{8,17}$", var.ami_id))
    error_message = "ami_id must look like ami-0123456789abcdef0."
  }
}

variable "root_volume_size_gb" {
  type        = number
  description = "Size of the encrypted gp3 root volume in GiB."
  default     = 16

  validation {
    condition     = floor(var.root_volume_size_gb) == var.root_volume_size_gb && var.root_volume_size_gb >= 8 && var.root_volume_size_gb <= 1024
    error_message = "root_volume_size_gb must be a whole number between 8 and 1024."
  }
}

variable "ebs_kms_key_arn" {
  type        = string
  description = "KMS key encrypting the root volume; null uses the account's default EBS key."
  default     = null

  validation {
    condition     = var.ebs_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:", var.ebs_kms_key_arn))
    error_message = "ebs_kms_key_arn must be a KMS key ARN."
  }
}

variable "secret_parameter_name" {
  type        = string
  description = "Existing SSM SecureString holding coturn's static-auth-secret (created out of band, e.g. aws ssm put-parameter). null: the module creates /bbb/turn/<name>/static-auth-secret with a random value written through value_wo (never in state)."
  default     = null

  validation {
    condition     = var.secret_parameter_name == null || can(regex("^/[A-Za-z0-9_./-]{1,1000}$", var.secret_parameter_name))
    error_message = "secret_parameter_name must be a fully qualified SSM parameter name starting with /."
  }
}

variable "secret_version" {
  type        = number
  description = "Version of the generated secret (value_wo_version): raise it to write a new random secret. The TURN server and the BBB servers read it at boot, so restart both after a change."
  default     = 1

  validation {
    condition     = floor(var.secret_version) == var.secret_version && var.secret_version >= 1
    error_message = "secret_version must be a whole number of 1 or more."
  }
}

variable "secret_kms_key_arn" {
  type        = string
  description = "Customer managed KMS key of the secret parameter (used to create it, and granted for decryption to the server); null uses the AWS managed aws/ssm key."
  default     = null

  validation {
    condition     = var.secret_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:", var.secret_kms_key_arn))
    error_message = "secret_kms_key_arn must be a KMS key ARN."
  }
}

variable "certificate_parameter_name" {
  type        = string
  description = "SSM parameter holding a certificate document that covers hostname (e.g. the fleet's wildcard, BBB_TLS_CERTIFICATE_PARAMETER); /aws/reference/secretsmanager/<secret> reads a Secrets Manager secret. null: the server gets a Let's Encrypt certificate for hostname itself (certbot HTTP-01 on port 80)."
  default     = null

  validation {
    condition     = var.certificate_parameter_name == null || can(regex("^/[A-Za-z0-9_./-]{1,1000}$", var.certificate_parameter_name))
    error_message = "certificate_parameter_name must be a fully qualified SSM parameter name starting with /."
  }
}

variable "certificate_kms_key_arn" {
  type        = string
  description = "Customer managed KMS key encrypting the certificate parameter or secret, granted for decryption; null when it uses an AWS managed key."
  default     = null

  validation {
    condition     = var.certificate_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:", var.certificate_kms_key_arn))
    error_message = "certificate_kms_key_arn must be a KMS key ARN."
  }
}

variable "letsencrypt_email" {
  type        = string
  description = "Email given to Let's Encrypt (expiry notices) when the server gets its own certificate; null registers without one."
  default     = null

  validation {
    condition     = var.letsencrypt_email == null || can(regex("^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}$", var.letsencrypt_email))
    error_message = "letsencrypt_email must be an email address such as ops@example.org."
  }
}

variable "relay_port_range" {
  type = object({
    from = number
    to   = number
  })
  description = "UDP ports coturn relays from (min-port/max-port); BigBlueButton's documentation uses 32769-65535, above the BBB servers' media range."
  default = {
    from = 32769
    to   = 65535
  }

  validation {
    condition = alltrue([
      floor(var.relay_port_range.from) == var.relay_port_range.from && var.relay_port_range.from >= 1024,
      floor(var.relay_port_range.to) == var.relay_port_range.to && var.relay_port_range.to <= 65535,
      var.relay_port_range.to - var.relay_port_range.from >= 1000,
    ])
    error_message = "relay_port_range must be whole ports within 1024-65535, at least 1000 ports wide."
  }
}

variable "media_port_range" {
  type = object({
    from = number
    to   = number
  })
  description = "UDP media ports of the BBB servers the relay sends to (the network module's media_port_range)."
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

variable "enable_turns_5349" {
  type        = bool
  description = "Also listen for TURN over TLS on the standard port 5349/tcp (443 is always on: it passes firewalls that allow only HTTPS)."
  default     = false
}

variable "enable_ssm_session_manager" {
  type        = bool
  description = "Allow Session Manager (the minimal ssm/ssmmessages actions, not AmazonSSMManagedInstanceCore) so operators reach the server without SSH (no SSH port is ever opened)."
  default     = true
}

variable "alarm_actions" {
  type        = list(string)
  description = "SNS topics notified when the server's status checks fail (besides the recover and reboot actions)."
  default     = []

  validation {
    condition     = alltrue([for a in var.alarm_actions : can(regex("^arn:aws[a-z-]*:sns:", a))])
    error_message = "alarm_actions must be SNS topic ARNs."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}
