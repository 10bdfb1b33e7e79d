variable "servers" {
  description = "BBB servers to register with Scalelite, by name: their URL, wanted state and load multiplier."
  type = map(object({
    url             = string
    state           = optional(string, "enabled")
    load_multiplier = optional(number, 1)
  }))

  validation {
    condition     = alltrue([for s in values(var.servers) : contains(["enabled", "cordoned", "disabled"], s.state)])
    error_message = "Each server's state must be enabled, cordoned or disabled."
  }

  validation {
    condition     = alltrue([for s in values(var.servers) : s.load_multiplier > 0])
    error_message = "Each server's load_multiplier must be greater than 0."
  }
}

variable "server_secrets" {
  description = "The BBB secret of each server in var.servers, by the same names."
  type        = map(string)
  sensitive   = true
}

variable "tag" {
  description = "Scalelite tag for the demo's servers."
  type        = string
  default     = "demo"

  validation {
    condition     = length(var.tag) > 0
    error_message = "The tag must not be empty."
  }
}

variable "drain_timeout" {
  description = "How long destroy waits for a server's meetings to end, e.g. \"2m\"."
  type        = string
  default     = "2m"

  validation {
    condition     = can(regex("^[0-9]+(s|m|h)$", var.drain_timeout))
    error_message = "drain_timeout must be a number followed by s, m or h, e.g. \"2m\"."
  }
}

variable "fleet" {
  description = "The sandbox's fleet: its Auto Scaling group, hosted zone and domain, and the SSM parameter holding Scalelite's secret (scripts/demo fills this in). null: no fleet."
  type = object({
    name                       = string
    autoscaling_group_name     = string
    hosted_zone_id             = string
    domain                     = string
    scalelite_secret_parameter = string
    max_wait                   = optional(string, "10m")
  })
  default = null

  validation {
    condition     = var.fleet == null || can(regex("^[a-z0-9-]{1,40}$", var.fleet.name))
    error_message = "fleet.name must be 1 to 40 lowercase letters, digits or hyphens."
  }
}

variable "events" {
  description = "One-off events of the fleet, by name: start and end (RFC 3339), servers wanted, and how long before the start to scale up."
  type = map(object({
    start_time = string
    end_time   = string
    capacity   = number
    lead_time  = optional(string, "1m")
  }))
  default = {}

  validation {
    condition     = alltrue([for e in values(var.events) : e.capacity >= 1 && floor(e.capacity) == e.capacity])
    error_message = "Each event's capacity must be a whole number of at least 1."
  }
}
