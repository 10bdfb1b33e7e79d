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

variable "cluster_security_group_id" {
  type        = string
  description = "Security group of the cluster's nodes and pods (the cluster module's cluster_security_group_id): NFS to the recordings, and the backend rule of the internal load balancer."

  validation {
    condition     = can(regex("^sg-[0-9a-f]{8,17}$", var.cluster_security_group_id))
    error_message = "cluster_security_group_id must look like sg-0123456789abcdef0."
  }
}

variable "database_urls" {
  type        = map(string)
  description = "PostgreSQL URL per application, keys scalelite and greenlight (the data-stores module's database_urls)."
  sensitive   = true

  validation {
    condition     = contains(keys(var.database_urls), "scalelite") && alltrue([for u in values(var.database_urls) : can(regex("^postgres(ql)?://", u))])
    error_message = "database_urls needs a postgres:// URL for scalelite (and one for greenlight with enable_greenlight)."
  }
}

variable "redis_urls" {
  type        = map(string)
  description = "Redis URL per application, keys scalelite and greenlight, each on its own database number (the data-stores module's redis_urls)."
  sensitive   = true

  validation {
    condition     = contains(keys(var.redis_urls), "scalelite") && alltrue([for u in values(var.redis_urls) : can(regex("^rediss?://", u))])
    error_message = "redis_urls needs a redis:// or rediss:// URL for scalelite (and one for greenlight with enable_greenlight)."
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
  description = "How users sign in to Greenlight. \"local\": Greenlight's own accounts (sign-up and registration method set by its administrator). \"oidc\": OpenID Connect (Greenlight's OPENID_CONNECT_* settings): the issuer URL, the client ID, the SSM SecureString parameter holding the client secret (read ephemerally, never in state) and the claim identifying users; the redirect URI is https://<greenlight_hostname>/."
  default     = {}

  validation {
    condition     = contains(["local", "oidc"], var.greenlight_auth.mode) && (var.greenlight_auth.mode == "local" || var.greenlight_auth.oidc != null)
    error_message = "greenlight_auth.mode must be \"local\" or \"oidc\"; \"oidc\" needs greenlight_auth.oidc."
  }

  validation {
    condition = var.greenlight_auth.oidc == null || (
      can(regex("^https://[^ ]+$", try(var.greenlight_auth.oidc.issuer, ""))) &&
      can(regex("^/[A-Za-z0-9_./-]{1,1000}$", try(var.greenlight_auth.oidc.client_secret_parameter_name, ""))) &&
      length(try(var.greenlight_auth.oidc.client_id, "")) > 0
    )
    error_message = "greenlight_auth.oidc needs an https:// issuer, a client_id and a client_secret_parameter_name starting with /."
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
  description = "SMTP server Greenlight sends its mails through (account verification, password resets; Greenlight v3 needs it for local accounts); the password comes from an SSM SecureString parameter, read ephemerally (never in state). null: no mail."
  default     = null

  validation {
    condition = var.greenlight_smtp == null || (
      can(regex("^[A-Za-z0-9.-]+$", try(var.greenlight_smtp.server, ""))) &&
      can(regex("^/[A-Za-z0-9_./-]{1,1000}$", try(var.greenlight_smtp.password_parameter_name, ""))) &&
      can(regex("^[^@ ]+@[^@ ]+$", try(var.greenlight_smtp.sender_email, ""))) &&
      contains(["plain", "login", "cram_md5"], try(var.greenlight_smtp.auth, "plain"))
    )
    error_message = "greenlight_smtp needs a host name, a password_parameter_name starting with /, a sender_email and auth plain, login or cram_md5."
  }
}

variable "greenlight_secrets_revision" {
  type        = number
  description = "Revision of Greenlight's secrets in SSM (OIDC client secret, SMTP password): written write-only, Kubernetes receives them again only when this number changes."
  default     = 1

  validation {
    condition     = floor(var.greenlight_secrets_revision) == var.greenlight_secrets_revision && var.greenlight_secrets_revision >= 1
    error_message = "greenlight_secrets_revision must be a whole number of 1 or more."
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

  validation {
    condition     = !var.enable_greenlight || var.greenlight_chart != null
    error_message = "greenlight_chart is required with enable_greenlight."
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

  validation {
    condition     = !var.enable_greenlight || var.greenlight_hostname != null
    error_message = "greenlight_hostname is required with enable_greenlight (Greenlight's OIDC redirect and the certificate name)."
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

variable "scalelite_secret_revision" {
  type        = number
  description = "Revision of the Scalelite secret in SSM: the module writes the secret to Kubernetes write-only (never in state), so Kubernetes receives it again only when this number changes. Increase it after rotating the parameter."
  default     = 1

  validation {
    condition     = floor(var.scalelite_secret_revision) == var.scalelite_secret_revision && var.scalelite_secret_revision >= 1
    error_message = "scalelite_secret_revision must be a whole number of 1 or more."
  }
}

variable "database_init_image" {
  type        = string
  description = "Image with psql run once by the Job that creates Greenlight's database (pin a digest in production)."
  default     = "public.ecr.aws/docker/library/postgres:17-alpine"

  validation {
    condition     = can(regex("^[a-z0-9.-]+(:[0-9]+)?/[a-z0-9._/-]+(:[A-Za-z0-9._-]+|@sha256:[0-9a-f]{64})$", var.database_init_image))
    error_message = "database_init_image must be a registry image reference with a tag or a digest."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every AWS resource."
  default     = {}
}
