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

variable "region_kms_key_ids" {
  type        = map(string)
  description = "KMS key per region of ami_regions for the copies' snapshots (region => key ARN or alias); Packer needs one for every copy region when kms_key_id is set."
  default     = {}
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

variable "bbb_version" {
  type        = string
  description = "Version of the bigbluebutton package to install, exactly as `apt-cache policy bigbluebutton` lists it on the jammy-300 repository (required: the image records it in the tag bbb:bbb-version)."
  validation {
    condition     = can(regex("^[0-9A-Za-z.:~+-]+$", var.bbb_version))
    error_message = "The bbb_version must be a Debian package version such as 1:3.0-20."
  }
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
  description = "Scalelite tag (v1.6.0 ... v1.6.12.1, v1.7.x, v1.8.x; not a series such as v1.6) whose post_publish script is installed."
  default     = "v1.8.5"
}

variable "scalelite_post_publish_sha256" {
  type        = string
  description = "sha256 of bigbluebutton/scalelite_post_publish.rb at scalelite_version (the same file from v1.6.12.1 to v1.8.5); the build fails on any other content."
  default     = "29f8980e917e83b3d432d9ab4521407abb48bc6ca7055b888ea56eea6e031616"
}

variable "node_exporter_version" {
  type        = string
  description = "Prometheus node_exporter release (without the v)."
  default     = "1.8.2"
}

variable "node_exporter_sha256" {
  type        = string
  description = "sha256 of node_exporter-<version>.linux-amd64.tar.gz (the release's sha256sums.txt); the build fails without it."
  default     = "6809dd0b3ec45fd6e992c19071d6b5253aed3ead7bf0686885a51d85c6643c66"
}

variable "bbb_exporter_version" {
  type        = string
  description = "greenstatic/bigbluebutton-exporter release (without the v) installed as bbb-exporter (0.7.1, April 2024, is its newest; 0.6.0 predates BBB 2.6 and lacks the 0.6.1 fixes for getRecordings answers without messageKey)."
  default     = "0.7.1"
}

variable "bbb_exporter_sha256" {
  type        = string
  description = "sha256 of the bigbluebutton-exporter release's source archive (https://github.com/greenstatic/bigbluebutton-exporter/archive/refs/tags/v<version>.tar.gz; the project publishes no checksum file). Required: no value was available to pin here."
}

variable "alloy_version" {
  type        = string
  description = "Grafana Alloy release (without the v), Promtail's successor, that ships logs to LOKI_PUSH_URL."
  default     = "1.18.1"
}

variable "alloy_sha256" {
  type        = string
  description = "sha256 of alloy-linux-amd64.zip of that release (its SHA256SUMS); the build fails without it."
  default     = "fac853cbc3983a50a2368f9a685b31f74392ae86dd6155461b11a911c07b483c"
}
