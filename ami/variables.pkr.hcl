# Variables of the BBB fleet AMI (bbb.pkr.hcl). Override with -var name=value or a .pkrvars.hcl file.

variable "region" {
  type        = string
  description = "AWS region the AMI is built in (copy it elsewhere with ami_regions)."
  default     = "eu-central-1"
}

variable "ami_regions" {
  type        = list(string)
  description = "Further regions the finished AMI is copied to."
  default     = []
}

variable "instance_type" {
  type        = string
  description = "Build instance type (BBB's packages need 4 GB of memory to install)."
  default     = "c6i.xlarge"
}

variable "subnet_id" {
  type        = string
  description = "Subnet of the build instance (with a route to the internet); null lets Packer use the default VPC."
  default     = null
}

variable "root_volume_size_gb" {
  type        = number
  description = "Root volume size of the image, in GB (the fleet's launch template may make it larger)."
  default     = 30
}

variable "kms_key_id" {
  type        = string
  description = "KMS key for the AMI's encrypted root snapshot; null uses the account's default EBS key."
  default     = null
}

variable "ami_name_prefix" {
  type        = string
  description = "Prefix of the AMI name; a UTC timestamp is appended."
  default     = "bbb-fleet-jammy-300"
}

variable "tags" {
  type        = map(string)
  description = "Extra tags on the AMI, its snapshot and the build instance."
  default     = {}
}

variable "hook_binary" {
  type        = string
  description = "The bbb-hook binary to bake in (x86_64 Linux, built with cargo build --profile hook-release -p bbb-hook)."
  default     = "../target/hook-release/bbb-hook"
}

variable "bbb_repository" {
  type        = string
  description = "BigBlueButton apt repository of the release line (BBB 3.0 on Ubuntu 22.04)."
  default     = "https://ubuntu.bigbluebutton.org/jammy-300"
}

variable "node_major" {
  type        = string
  description = "Node.js major version from NodeSource that BBB 3.0 needs."
  default     = "22"
}

variable "mongodb_version" {
  type        = string
  description = "MongoDB series BBB 3.0 needs (repo.mongodb.org)."
  default     = "6.0"
}

variable "efs_utils_version" {
  type        = string
  description = "Tag of aws/efs-utils built for the efs mount type."
  default     = "v1.36.0"
}

variable "scalelite_version" {
  type        = string
  description = "Scalelite tag whose post_publish script is installed."
  default     = "v1.6"
}

variable "node_exporter_version" {
  type        = string
  description = "Prometheus node_exporter release (without the v)."
  default     = "1.8.2"
}

variable "node_exporter_sha256" {
  type        = string
  description = "sha256 of node_exporter-<version>.linux-amd64.tar.gz (from the release's sha256sums.txt); empty skips the check."
  default     = ""
}

variable "promtail_version" {
  type        = string
  description = "Grafana Loki release whose Promtail is installed (without the v)."
  default     = "3.2.1"
}

variable "promtail_sha256" {
  type        = string
  description = "sha256 of promtail-linux-amd64.zip (from the release's SHA256SUMS); empty skips the check."
  default     = ""
}
