variable "create" {
  type        = bool
  description = "Create the module's resources. false creates nothing and every output that would name one is null (terraform-aws-modules' create toggle)."
  default     = true
}

variable "name" {
  type        = string
  description = "Name prefix for every resource of the monitoring stack (lowercase letters, digits and hyphens)."

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

variable "cluster_name" {
  type        = string
  description = "EKS cluster running Prometheus, Loki and Grafana (the scalelite module's cluster_name)."

  validation {
    condition     = can(regex("^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$", var.cluster_name))
    error_message = "cluster_name must be a valid EKS cluster name."
  }
}

variable "cluster_security_group_id" {
  type        = string
  description = "Security group of the cluster's nodes and pods (the scalelite module's cluster_security_group_id): the source of the scrapes."

  validation {
    condition     = can(regex("^sg-[0-9a-f]{8,17}$", var.cluster_security_group_id))
    error_message = "cluster_security_group_id must look like sg-0123456789abcdef0."
  }
}

variable "fleet_security_group_id" {
  type        = string
  description = "Security group of the BBB servers: scrapes are allowed into it, and it is the only source allowed on Loki's load balancer."

  validation {
    condition     = can(regex("^sg-[0-9a-f]{8,17}$", var.fleet_security_group_id))
    error_message = "fleet_security_group_id must look like sg-0123456789abcdef0."
  }
}

variable "fleet_names" {
  type        = list(string)
  description = "bbb_fleet names to scrape: EC2 service discovery keeps running instances tagged bbb:fleet with one of these."

  validation {
    condition     = length(var.fleet_names) > 0 && alltrue([for f in var.fleet_names : can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", f))])
    error_message = "Give at least one fleet name (the fleet module's name)."
  }
}

variable "namespace" {
  type        = string
  description = "Kubernetes namespace of the monitoring stack."
  default     = "monitoring"

  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", var.namespace))
    error_message = "namespace must be a DNS label."
  }
}

variable "exporter_ports" {
  type = object({
    node = optional(number, 9100)
    bbb  = optional(number, 9688)
  })
  description = "Ports of node-exporter and bigbluebutton-exporter on the BBB servers."
  default     = {}

  validation {
    condition     = alltrue([for p in [var.exporter_ports.node, var.exporter_ports.bbb] : floor(p) == p && p >= 1024 && p <= 65535])
    error_message = "Exporter ports must be between 1024 and 65535."
  }
}

variable "scrape_interval" {
  type        = string
  description = "Prometheus scrape interval."
  default     = "30s"

  validation {
    condition     = can(regex("^[0-9]+(s|m)$", var.scrape_interval))
    error_message = "scrape_interval must be a duration such as 30s or 1m."
  }
}

variable "prometheus_retention" {
  type        = string
  description = "How long Prometheus keeps samples."
  default     = "30d"

  validation {
    condition     = can(regex("^[0-9]+(h|d|w|y)$", var.prometheus_retention))
    error_message = "prometheus_retention must be a duration such as 30d."
  }
}

variable "loki_retention" {
  type        = string
  description = "How long Loki keeps logs."
  default     = "744h"

  validation {
    condition     = can(regex("^[0-9]+h$", var.loki_retention))
    error_message = "loki_retention must be in hours, such as 744h."
  }
}

variable "storage_size" {
  type = object({
    prometheus = optional(string, "100Gi")
    loki       = optional(string, "200Gi")
  })
  description = "Persistent volume sizes of Prometheus and Loki."
  default     = {}

  validation {
    condition     = can(regex("^[0-9]+(Gi|Ti)$", var.storage_size.prometheus)) && can(regex("^[0-9]+(Gi|Ti)$", var.storage_size.loki))
    error_message = "Sizes must be Kubernetes quantities in Gi or Ti, such as 100Gi."
  }
}

variable "charts" {
  type = object({
    prometheus = optional(object({ repository = string, chart = string, version = string }), { repository = "https://prometheus-community.github.io/helm-charts", chart = "prometheus", version = "25.27.0" })
    loki       = optional(object({ repository = string, chart = string, version = string }), { repository = "https://grafana.github.io/helm-charts", chart = "loki", version = "6.16.0" })
    grafana    = optional(object({ repository = string, chart = string, version = string }), { repository = "https://grafana.github.io/helm-charts", chart = "grafana", version = "8.5.1" })
  })
  description = "Pinned Helm charts of Prometheus, Loki and Grafana."
  default     = {}

  validation {
    condition     = alltrue([for c in [var.charts.prometheus, var.charts.loki, var.charts.grafana] : can(regex("^[0-9]+\\.[0-9]+\\.[0-9]+", c.version))])
    error_message = "Chart versions must be pinned semantic versions."
  }
}

variable "extra_values" {
  type = object({
    prometheus = optional(any, {})
    loki       = optional(any, {})
    grafana    = optional(any, {})
  })
  description = "Extra Helm values per chart, applied after the module's own (e.g. Loki on S3 instead of a volume)."
  default     = {}
}

variable "storage_class_name" {
  type        = string
  description = "StorageClass of the Prometheus, Alertmanager, Loki and Grafana volumes (the scalelite module's storage_class_name, which also orders the releases after it); null uses the cluster's default class. EKS Auto Mode has none unless one is created."
  default     = null

  validation {
    condition     = var.storage_class_name == null || can(regex("^[a-z0-9]([a-z0-9.-]{0,61}[a-z0-9])?$", var.storage_class_name))
    error_message = "storage_class_name must be a lowercase DNS subdomain name."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every AWS resource."
  default     = {}
}
