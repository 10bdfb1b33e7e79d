variable "scalelite_url" {
  type        = string
  description = "BigBlueButton API URL of the Scalelite you already run, e.g. https://scalelite.example.org/bigbluebutton/api."

  validation {
    condition     = can(regex("^https?://[^/ ]+(/.*)?$", var.scalelite_url))
    error_message = "scalelite_url must be an http(s):// URL (https outside a private network)."
  }
}

variable "scalelite_secret" {
  type        = string
  description = "Scalelite's LOADBALANCER_SECRET (set TF_VAR_scalelite_secret; never commit it). Used by the provider only, never stored."
  sensitive   = true
  ephemeral   = true
}

variable "region" {
  type        = string
  description = "AWS region the provider talks to (unused by bbb_scalelite_server alone, required by the provider)."
  default     = "eu-central-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.region))
    error_message = "region must look like eu-central-1."
  }
}

variable "servers" {
  type = map(object({
    url             = string
    state           = optional(string, "enabled")
    load_multiplier = optional(number, 1)
    tag             = optional(string)
  }))
  description = "BBB servers to register, keyed by a short name; each server's secret comes from server_secrets under the same key."

  validation {
    condition     = alltrue([for k, s in var.servers : can(regex("^https?://[^/ ]+/bigbluebutton/api/?$", s.url))])
    error_message = "Each server url must be http(s)://<host>/bigbluebutton/api."
  }

  validation {
    condition     = alltrue([for k, s in var.servers : contains(["enabled", "cordoned", "disabled"], s.state)])
    error_message = "Each server state must be enabled, cordoned or disabled."
  }

  validation {
    condition     = alltrue([for k, s in var.servers : s.load_multiplier >= 0.01 && s.load_multiplier <= 100])
    error_message = "Each load_multiplier must be between 0.01 and 100."
  }
}

variable "server_secrets" {
  type        = map(string)
  description = "Shared secret of each server (bbb-conf --secret), keyed like servers; pass with TF_VAR_server_secrets or a git-ignored tfvars file."
  sensitive   = true
}

variable "drain_timeout" {
  type        = string
  description = "How long destroying a server waits for its meetings to end."
  default     = "2h"

  validation {
    condition     = can(regex("^([0-9]+h)?([0-9]+m)?([0-9]+s)?$", var.drain_timeout))
    error_message = "drain_timeout must be a duration such as 2h or 90m."
  }
}
