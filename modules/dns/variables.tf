variable "create" {
  type        = bool
  description = "Create the module's resources. false creates nothing and every output that would name one is null (terraform-aws-modules' create toggle)."
  default     = true
}

variable "domain" {
  type        = string
  description = "Domain of the BBB platform, e.g. bbb.example.org: the hosted zone's name, and the parent of every per-instance record."

  validation {
    condition     = can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", var.domain))
    error_message = "domain must be a lowercase DNS name without trailing dot, like bbb.example.org."
  }
}

variable "create_zone" {
  type        = bool
  description = "Create the public hosted zone for domain. false uses the existing zone given by zone_id."
  default     = true
}

variable "zone_id" {
  type        = string
  description = "ID of an existing public hosted zone for domain (used only when create_zone is false)."
  default     = null

  validation {
    condition     = var.zone_id == null || can(regex("^Z[0-9A-Z]{1,31}$", var.zone_id))
    error_message = "zone_id must be a Route53 hosted zone ID such as Z0123456789ABCDEFGHIJ."
  }

  validation {
    condition     = !var.create || var.create_zone || var.zone_id != null
    error_message = "zone_id is required with create_zone = false."
  }
}

variable "parent_zone_id" {
  type        = string
  description = "Route53 hosted zone of domain's parent (e.g. example.org's zone for bbb.example.org), to delegate a created zone in the same apply: the module writes the NS record there, and zone_id is only available after it, so certificate validation, certbot and the Scalelite URL never wait on a zone nobody resolves. null when the parent is not in Route53 (delegate at the registrar before the first full apply, see the README)."
  default     = null

  validation {
    condition     = var.parent_zone_id == null || can(regex("^Z[0-9A-Z]{1,31}$", var.parent_zone_id))
    error_message = "parent_zone_id must be a Route53 hosted zone ID such as Z0123456789ABCDEFGHIJ."
  }
}

variable "delegation_ttl" {
  type        = number
  description = "TTL in seconds of the NS record written into parent_zone_id."
  default     = 3600

  validation {
    condition     = floor(var.delegation_ttl) == var.delegation_ttl && var.delegation_ttl >= 60 && var.delegation_ttl <= 172800
    error_message = "delegation_ttl must be a whole number of seconds between 60 and 172800."
  }
}

variable "scalelite_record_name" {
  type        = string
  description = "Left-most label of Scalelite's front record under domain (the URL users and Greenlight call), e.g. scalelite."
  default     = "scalelite"

  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", var.scalelite_record_name))
    error_message = "scalelite_record_name must be one DNS label."
  }
}

variable "scalelite_target" {
  type = object({
    dns_name = string
    zone_id  = string
  })
  description = "Load balancer in front of Scalelite (dns_name and canonical hosted zone id) that the front record aliases (used when create_scalelite_record is true)."
  default     = null

  validation {
    condition     = !var.create || !var.create_scalelite_record || var.scalelite_target != null
    error_message = "scalelite_target is required with create_scalelite_record (the scalelite module's scalelite_public_lb)."
  }
}

variable "create_scalelite_record" {
  type        = bool
  description = "Create Scalelite's front record aliasing scalelite_target (false when Scalelite's front is managed elsewhere)."
  default     = true
}

variable "extra_records" {
  type = map(object({
    type    = string
    ttl     = number
    records = list(string)
  }))
  description = "Additional records in the zone keyed by name relative to domain (e.g. greenlight CNAME); the per-instance records belong to bbb_fleet."
  default     = {}

  validation {
    condition     = alltrue([for k, r in var.extra_records : contains(["A", "AAAA", "CNAME", "TXT", "CAA", "MX"], r.type)])
    error_message = "extra_records types must be A, AAAA, CNAME, TXT, CAA or MX."
  }

  validation {
    condition     = alltrue([for k, r in var.extra_records : r.ttl >= 30 && r.ttl <= 172800])
    error_message = "extra_records ttl must be between 30 and 172800 seconds."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags added to the hosted zone."
  default     = {}
}
