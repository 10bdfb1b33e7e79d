# The BigBlueButton fleet AMI: Ubuntu 22.04 + BigBlueButton 3.0 + bbb-hook and its systemd units +
# node_exporter, bbb-exporter and Grafana Alloy, with nothing instance-specific (see README.md).
#
#   cd ami && packer init . && packer build -var bbb_version=<version> -var bbb_exporter_sha256=<sha256> .

packer {
  required_version = ">= 1.10.0"
  required_plugins {
    amazon = {
      source  = "github.com/hashicorp/amazon"
      version = "~> 1.3"
    }
  }
}

locals {
  timestamp = formatdate("YYYYMMDDhhmmss", timestamp())
  upload    = "/tmp/bbb-ami"
  tags = merge(var.tags, {
    "bbb:image"       = "bbb-fleet"
    "bbb:bbb-release" = "jammy-300"
    "bbb:bbb-version" = var.bbb_version
    "bbb:source-ami"  = "{{ .SourceAMI }}"
    "bbb:built"       = local.timestamp
  })
}

source "amazon-ebs" "bbb" {
  region        = var.region
  ami_regions   = var.ami_regions
  instance_type = var.instance_type
  subnet_id     = var.subnet_id
  ssh_username  = "ubuntu"
  # Packer's temporary key leaves the image: removed from authorized_keys before the snapshot
  # (and cleanup.sh removes every authorized_keys of the build).
  ssh_clear_authorized_keys = true

  ami_name        = "${var.ami_name_prefix}-${local.timestamp}"
  ami_description = "BigBlueButton 3.0 fleet server (Ubuntu 22.04, bbb-hook)"
  encrypt_boot    = true
  kms_key_id      = var.kms_key_id
  # A copy in another region is encrypted with that region's key (required with kms_key_id).
  region_kms_key_ids = var.region_kms_key_ids

  # The newest Ubuntu 22.04 (jammy) amd64 server image published by Canonical; the one used is
  # recorded in the tag bbb:source-ami.
  source_ami_filter {
    filters = {
      name                = "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-*"
      root-device-type    = "ebs"
      virtualization-type = "hvm"
      architecture        = "x86_64"
    }
    owners      = ["099720109477"]
    most_recent = true
  }

  # IMDSv2 only, on the build instance and as the AMI's default for instances launched from it.
  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }
  imds_support = "v2.0"

  launch_block_device_mappings {
    device_name           = "/dev/sda1"
    volume_size           = var.root_volume_size_gb
    volume_type           = "gp3"
    encrypted             = true
    kms_key_id            = var.kms_key_id
    delete_on_termination = true
  }

  tags            = local.tags
  snapshot_tags   = local.tags
  run_tags        = merge(local.tags, { Name = "packer-${var.ami_name_prefix}" })
  run_volume_tags = local.tags
}

# execute_command: sudo, with the provisioner's environment_vars ({{ .Vars }}) passed through env.
build {
  name    = "bbb-fleet"
  sources = ["source.amazon-ebs.bbb"]

  provisioner "shell" {
    inline = ["mkdir -p ${local.upload}/systemd ${local.upload}/scripts"]
  }

  provisioner "file" {
    source      = var.hook_binary
    destination = "${local.upload}/bbb-hook"
  }

  provisioner "file" {
    source      = "${path.root}/systemd/"
    destination = "${local.upload}/systemd"
  }

  provisioner "file" {
    source      = "${path.root}/scripts/"
    destination = "${local.upload}/scripts"
  }

  provisioner "file" {
    source      = "${path.root}/README.md"
    destination = "${local.upload}/README.md"
  }

  provisioner "shell" {
    execute_command = "sudo env {{ .Vars }} bash '{{ .Path }}'"
    environment_vars = [
      "BBB_REPOSITORY=${var.bbb_repository}",
      "BBB_VERSION=${var.bbb_version}",
      "NODE_MAJOR=${var.node_major}",
      "MONGODB_VERSION=${var.mongodb_version}",
      "EFS_UTILS_VERSION=${var.efs_utils_version}",
      "SCALELITE_VERSION=${var.scalelite_version}",
      "SCALELITE_POST_PUBLISH_SHA256=${var.scalelite_post_publish_sha256}",
    ]
    script = "${path.root}/scripts/install-bbb.sh"
  }

  provisioner "shell" {
    execute_command  = "sudo env {{ .Vars }} bash '{{ .Path }}'"
    environment_vars = ["BBB_AMI_UPLOAD=${local.upload}"]
    script           = "${path.root}/scripts/install-hook.sh"
  }

  provisioner "shell" {
    execute_command = "sudo env {{ .Vars }} bash '{{ .Path }}'"
    environment_vars = [
      "NODE_EXPORTER_VERSION=${var.node_exporter_version}",
      "NODE_EXPORTER_SHA256=${var.node_exporter_sha256}",
      "BBB_EXPORTER_VERSION=${var.bbb_exporter_version}",
      "BBB_EXPORTER_SHA256=${var.bbb_exporter_sha256}",
      "ALLOY_VERSION=${var.alloy_version}",
      "ALLOY_SHA256=${var.alloy_sha256}",
    ]
    script = "${path.root}/scripts/install-agents.sh"
  }

  provisioner "shell" {
    execute_command  = "sudo env {{ .Vars }} bash '{{ .Path }}'"
    environment_vars = ["BBB_AMI_UPLOAD=${local.upload}"]
    script           = "${path.root}/scripts/cleanup.sh"
  }

  post-processor "manifest" {
    output     = "${path.root}/packer-manifest.json"
    strip_path = true
  }
}
