data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.region
  account_id = data.aws_caller_identity.current.account_id

  tags = merge(var.tags, { "bbb:fleet" = var.name })

  # bbb_fleet's hook_config depends on the fleet, which depends on the Auto Scaling group, which depends on
  # the launch template: the document cannot be inlined in user data without a cycle. The launch template
  # carries this parameter's name instead, and the hook fetches the document from it (and caches it).
  hook_config_parameter_name = "/bbb/fleets/${var.name}/hook-config"
  hook_config_parameter_arn  = "arn:${local.partition}:ssm:${local.region}:${local.account_id}:parameter${local.hook_config_parameter_name}"
  secret_parameter_arn       = "arn:${local.partition}:ssm:${local.region}:${local.account_id}:parameter${var.scalelite_secret_parameter_name}"
  # Built from the name (the group does not exist yet when the policy is written; see ordering below).
  autoscaling_group_arn = "arn:${local.partition}:autoscaling:${local.region}:${local.account_id}:autoScalingGroup:*:autoScalingGroupName/${var.name}"

  # The lifecycle hooks bbb_fleet owns, created with the group itself (initial_lifecycle_hook) so that the
  # very first servers already wait in Pending:Wait for the hook and are abandoned if they never join.
  launch_hook_name         = "bbb-${var.name}-launching"
  launch_heartbeat_timeout = 900

  # bbb_fleet's hook_config document, built here from the same inputs so that the parameter exists before
  # the group launches its first server (no server ever boots without its configuration). bbb_fleet's
  # postcondition refuses a plan where the provider's document differs (e.g. after a provider upgrade).
  max_wait_parts = regex("^(?:([0-9]+)h)?(?:([0-9]+)m)?(?:([0-9]+)s)?$", var.drain.max_wait)
  hook_config = {
    version                     = 1
    fleet_name                  = var.name
    region                      = local.region
    autoscaling_group_name      = var.name
    hosted_zone_id              = var.hosted_zone_id
    domain                      = var.domain
    record_name_template        = var.record_name_template
    record_ttl                  = var.record_ttl
    scalelite_url               = var.scalelite_url
    scalelite_tag               = var.scalelite_tag
    load_multiplier             = var.load_multiplier
    scalelite_secret_parameter  = var.scalelite_secret_parameter_name
    protect_live_meetings       = var.protect_live_meetings
    launching_hook_name         = local.launch_hook_name
    launching_heartbeat_timeout = local.launch_heartbeat_timeout
    terminating_hook_name       = var.drain.lifecycle_hook_name
    heartbeat_timeout           = var.drain.heartbeat_timeout
    max_wait                    = var.drain.max_wait
    max_wait_seconds            = sum([for i, n in local.max_wait_parts : (n == null ? 0 : tonumber(n)) * [3600, 60, 1][i]])
  }

  # Route53 normalises record names to lowercase without the trailing dot.
  record_name_pattern = "${replace(var.record_name_template, "{instance_id}", "i-*")}.${var.domain}"

  fleet_env = join("\n", compact([
    "BBB_FLEET_NAME=${var.name}",
    "BBB_FLEET_REGION=${local.region}",
    "BBB_FLEET_HOOK_CONFIG_PARAMETER=${local.hook_config_parameter_name}",
    var.loki_push_url != null ? "LOKI_PUSH_URL=${var.loki_push_url}" : "",
    var.letsencrypt_email != null ? "LETSENCRYPT_EMAIL=${var.letsencrypt_email}" : "",
    var.recordings != null ? "SCALELITE_RECORDINGS_DIR=${var.recordings.mount_point}" : "",
    "BBB_RECORDING_WORKERS=${var.recording_workers}",
    # TURN (modules/turn): space-separated URIs and the parameter holding coturn's shared secret; absent = no TURN.
    var.turn != null ? "BBB_TURN_URIS=${join(" ", var.turn.uris)}" : "",
    var.turn != null && length(try(var.turn.stun_uris, [])) > 0 ? "BBB_STUN_URIS=${join(" ", var.turn.stun_uris)}" : "",
    var.turn != null ? "BBB_TURN_SECRET_PARAMETER=${var.turn.secret_parameter_name}" : "",
    local.tls_env,
  ]))

  user_data = join("\n", [
    "#cloud-config",
    yamlencode({
      write_files = [
        {
          path        = "/etc/bbb-fleet/fleet.env"
          permissions = "0644"
          owner       = "root:root"
          content     = "${local.fleet_env}\n"
        },
        {
          path        = "/usr/local/sbin/bbb-fleet-first-boot"
          permissions = "0750"
          owner       = "root:root"
          content     = templatefile("${path.module}/templates/first-boot.sh.tftpl", { extra_user_data = var.extra_user_data })
        },
      ]
      mounts = var.recordings != null ? [[
        "${var.recordings.file_system_id}:/",
        var.recordings.mount_point,
        "efs",
        # nofail: an EFS that is slow to answer holds back neither the boot nor remote-fs.target; what
        # needs it says so itself (RequiresMountsFor= drop-ins on the recording workers and the
        # bbb-hook launch unit, written by the AMI's first boot).
        "_netdev,nofail,noresvport,tls,iam,accesspoint=${var.recordings.access_point_id}",
        "0",
        "0",
      ]] : []
      runcmd = [["/usr/local/sbin/bbb-fleet-first-boot"]]
    }),
  ])
}

# --- Instance role: only what the on-instance hook needs -------------------------------------

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "instance" {
  count = var.create ? 1 : 0

  name_prefix        = "${var.name}-bbb-"
  assume_role_policy = data.aws_iam_policy_document.assume.json
  tags               = local.tags
}

resource "aws_iam_instance_profile" "instance" {
  count = var.create ? 1 : 0

  name_prefix = "${var.name}-bbb-"
  role        = aws_iam_role.instance[0].name
  tags        = local.tags
}

# The instance policy is one JSON template, modules/fleet/policies/instance-policy.json.tftpl, so that the
# hook's tests (bbb_core::testing::iam) render the very same document and run bbb-hook on an IAM-enforcing
# moto with credentials bound to it. The templates use `${...}` substitutions only (no directives): the
# tests render them with a plain string substitution. The statements that exist only when a setting is
# given (a customer managed KMS key, the recordings EFS, the TURN secret, the TLS certificate) are small
# one-statement templates in the same folder, appended here to the main document's Statement list; the
# tests append them the same way. What each statement allows, and why, is in this module's README.
locals {
  policies = "${path.module}/policies"

  turn_secret_parameter_arn = var.turn != null ? "arn:${local.partition}:ssm:${local.region}:${local.account_id}:parameter${var.turn.secret_parameter_name}" : null

  instance_policy_base = jsondecode(templatefile("${local.policies}/instance-policy.json.tftpl", {
    partition                      = local.partition
    hosted_zone_id                 = var.hosted_zone_id
    record_name_pattern            = local.record_name_pattern
    autoscaling_group_arn          = local.autoscaling_group_arn
    fleet_name                     = var.name
    scalelite_secret_parameter_arn = local.secret_parameter_arn
    hook_config_parameter_arn      = local.hook_config_parameter_arn
  }))

  instance_policy_optional = concat(
    var.scalelite_secret_kms_key_arn != null ? [jsondecode(templatefile("${local.policies}/decrypt-via-service.json.tftpl", {
      sid = "DecryptSecretParameter", key_arn = var.scalelite_secret_kms_key_arn, service = "ssm", region = local.region
    }))] : [],
    var.recordings != null ? [jsondecode(templatefile("${local.policies}/mount-recordings.json.tftpl", {
      partition       = local.partition
      region          = local.region
      account_id      = local.account_id
      file_system_id  = var.recordings.file_system_id
      access_point_id = var.recordings.access_point_id
    }))] : [],
    local.turn_secret_parameter_arn != null ? [jsondecode(templatefile("${local.policies}/read-parameter.json.tftpl", {
      sid = "ReadTurnSecretParameter", parameter_arn = local.turn_secret_parameter_arn
    }))] : [],
    # var.tls (tls.tf): the shared certificate through SSM's Secrets Manager reference, or the Let's Encrypt budget.
    [for arn in local.tls_iam.ssm_get_parameter_arns : jsondecode(templatefile("${local.policies}/read-parameter.json.tftpl", {
      sid = "ReadTlsCertificateParameter", parameter_arn = arn
    }))],
    [for arn in local.tls_iam.secret_arns : jsondecode(templatefile("${local.policies}/read-secret.json.tftpl", {
      sid = "ReadTlsCertificateSecret", secret_arn = arn
    }))],
    local.tls_iam.issuance_path_arn != null ? [jsondecode(templatefile("${local.policies}/letsencrypt-budget.json.tftpl", {
      issuance_path_arn = local.tls_iam.issuance_path_arn, issuance_records_arn = local.tls_iam.issuance_records_arn
    }))] : [],
    try(var.turn.secret_kms_key_arn, null) != null ? [jsondecode(templatefile("${local.policies}/decrypt-via-service.json.tftpl", {
      sid = "DecryptTurnSecret", key_arn = var.turn.secret_kms_key_arn, service = "ssm", region = local.region
    }))] : [],
    # A certificate in Secrets Manager is decrypted by Secrets Manager (SSM only forwards the reference).
    [for arn in local.tls_iam.kms_key_arns : jsondecode(templatefile("${local.policies}/decrypt-via-service.json.tftpl", {
      sid = "DecryptTlsCertificate", key_arn = arn, service = "secretsmanager", region = local.region
    }))],
  )

  instance_policy = jsonencode(merge(local.instance_policy_base, {
    Statement = concat(local.instance_policy_base.Statement, local.instance_policy_optional)
  }))
}

resource "aws_iam_role_policy" "instance" {
  count = var.create ? 1 : 0

  name   = "bbb-fleet-hook"
  role   = aws_iam_role.instance[0].id
  policy = local.instance_policy
}

# Session Manager without AmazonSSMManagedInstanceCore, which also allows ssm:GetParameter(s) on every
# parameter of the account: only the agent's registration and the session channels, as in AWS's documented
# minimal Session Manager instance profile (and the AWS managed AWSCloud9SSMInstanceProfile). No Run Command
# (ec2messages), no inventory or patching, no parameter reads.
resource "aws_iam_role_policy" "session_manager" {
  count = var.create && var.enable_ssm_session_manager ? 1 : 0

  name   = "bbb-fleet-session-manager"
  role   = aws_iam_role.instance[0].id
  policy = file("${local.policies}/session-manager-policy.json")
}

# --- Launch template and group ---------------------------------------------------------------

resource "aws_launch_template" "this" {
  count = var.create ? 1 : 0

  name_prefix            = "${var.name}-"
  description            = "BigBlueButton servers of fleet ${var.name}"
  image_id               = var.ami_id
  instance_type          = var.instance_type
  key_name               = var.key_name
  update_default_version = true
  user_data              = base64encode(local.user_data)

  iam_instance_profile {
    arn = aws_iam_instance_profile.instance[0].arn
  }

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = var.metadata_hop_limit
    instance_metadata_tags      = "enabled"
  }

  monitoring {
    enabled = true
  }

  network_interfaces {
    #checkov:skip=CKV_AWS_88:BigBlueButton media servers must be reachable on a public IP for WebRTC and TURN; only the ports of the network module's security group are open.
    device_index                = 0
    associate_public_ip_address = true
    delete_on_termination       = true
    security_groups             = var.security_group_ids
  }

  block_device_mappings {
    device_name = "/dev/sda1"
    ebs {
      volume_size           = var.root_volume.size_gb
      volume_type           = var.root_volume.type
      iops                  = var.root_volume.iops
      throughput            = var.root_volume.throughput
      encrypted             = true
      kms_key_id            = var.ebs_kms_key_arn
      delete_on_termination = true
    }
  }

  tag_specifications {
    resource_type = "instance"
    tags          = merge(local.tags, { Name = "${var.name}-bbb" })
  }

  tag_specifications {
    resource_type = "volume"
    tags          = merge(local.tags, { Name = "${var.name}-bbb" })
  }

  tags = local.tags
}

resource "aws_autoscaling_group" "this" {
  count = var.create ? 1 : 0

  name                      = var.name
  min_size                  = var.capacity.min
  max_size                  = var.capacity.max
  desired_capacity          = var.capacity.desired
  vpc_zone_identifier       = var.subnet_ids
  health_check_type         = "EC2"
  health_check_grace_period = var.instance_warmup_seconds
  default_instance_warmup   = var.instance_warmup_seconds
  wait_for_capacity_timeout = var.wait_for_capacity_timeout
  capacity_rebalance        = false
  # The hook protects every server that hosts a meeting, processes a recording or can take a new meeting
  # (enabled in Scalelite): a scale-in only takes servers consolidation has cordoned and emptied. A new
  # server is protected by the group from the moment it is InService (AWS: protection "starts when the
  # instance state is InService"; SetInstanceProtection is refused before), and launch enables it in
  # Scalelite only then. A server whose hook never runs stays protected: the group cannot scale it in.
  protect_from_scale_in = var.protect_live_meetings
  termination_policies  = ["OldestLaunchTemplate", "ClosestToNextInstanceHour", "Default"]
  enabled_metrics = [
    "GroupMinSize",
    "GroupMaxSize",
    "GroupDesiredCapacity",
    "GroupInServiceInstances",
    "GroupPendingInstances",
    "GroupTerminatingInstances",
    "GroupTotalInstances",
  ]

  launch_template {
    id      = aws_launch_template.this[0].id
    version = aws_launch_template.this[0].latest_version
  }

  # Both hooks exist before the first server launches (bbb_fleet then owns and updates them).
  initial_lifecycle_hook {
    name                 = local.launch_hook_name
    lifecycle_transition = "autoscaling:EC2_INSTANCE_LAUNCHING"
    default_result       = "ABANDON"
    heartbeat_timeout    = local.launch_heartbeat_timeout
  }

  initial_lifecycle_hook {
    name                 = var.drain.lifecycle_hook_name
    lifecycle_transition = "autoscaling:EC2_INSTANCE_TERMINATING"
    default_result       = "CONTINUE"
    heartbeat_timeout    = var.drain.heartbeat_timeout
  }

  # A new AMI or configuration replaces servers without losing capacity: new servers are launched and must
  # pass the launching hook (and, once in service, join Scalelite, or be reported Unhealthy) before old ones
  # go, and servers that already match are skipped. Every server in
  # service carries scale-in protection (see termination_policies); "Refresh" replaces them too (AWS: "Wait"
  # waits one hour for the protection to go and then fails the whole refresh). Meetings stay safe because every replaced server goes
  # through the terminating hook: bbb-hook disables it in Scalelite and holds the hook with heartbeats until
  # its last meeting ended, at most drain.max_wait. A refresh therefore takes up to drain.max_wait per
  # batch. No auto_rollback: this provider writes the new launch template version into the group before it
  # starts the refresh (terraform-provider-aws#34189), so AWS's rollback "to the previous configuration" would
  # return to the new template. A failed refresh stops where it is; re-applying the previous ami_id rolls back.
  instance_refresh {
    strategy = "Rolling"
    preferences {
      min_healthy_percentage       = 100
      max_healthy_percentage       = 200
      skip_matching                = true
      instance_warmup              = var.instance_warmup_seconds
      scale_in_protected_instances = "Refresh"
      standby_instances            = "Wait"
      auto_rollback                = false
    }
  }

  # The first servers boot with their permissions and configuration in place: the instance policy, the
  # Session Manager policy and the hook configuration parameter are created before the group.
  depends_on = [aws_iam_role_policy.instance, aws_iam_role_policy.session_manager, aws_ssm_parameter.hook_config]

  dynamic "tag" {
    for_each = merge(local.tags, { Name = "${var.name}-bbb" })
    content {
      key                 = tag.key
      value               = tag.value
      propagate_at_launch = true
    }
  }

  lifecycle {
    # Scaling policies change the desired capacity, and bbb_schedule the min and max size (and the desired
    # capacity) at run time: an apply during a scheduled event must not set them back and scale in the servers
    # launched for it. var.capacity applies at creation; see the README for changing the bounds later.
    ignore_changes = [desired_capacity, min_size, max_size]
  }
}

# --- The fleet: per-instance records, Scalelite registration, lifecycle hooks ----------------

resource "bbb_fleet" "this" {
  count = var.create ? 1 : 0

  name                       = var.name
  autoscaling_group_name     = aws_autoscaling_group.this[0].name
  hosted_zone_id             = var.hosted_zone_id
  domain                     = var.domain
  record_name_template       = var.record_name_template
  record_ttl                 = var.record_ttl
  scalelite_tag              = var.scalelite_tag
  load_multiplier            = var.load_multiplier
  scalelite_secret_parameter = var.scalelite_secret_parameter_name
  scalelite_url              = var.scalelite_url
  protect_live_meetings      = var.protect_live_meetings
  launch_hook_name           = local.launch_hook_name
  launch_heartbeat_timeout   = local.launch_heartbeat_timeout

  drain {
    lifecycle_hook_name = var.drain.lifecycle_hook_name
    heartbeat_timeout   = var.drain.heartbeat_timeout
    max_wait            = var.drain.max_wait
  }

  lifecycle {
    postcondition {
      # Every field but region: the parameter carries the AWS provider's region (where the group and its
      # servers are), bbb_fleet the bbb provider's; a mismatch there already fails bbb_fleet (no such group).
      condition     = self.hook_config == null || merge(jsondecode(self.hook_config), { region = local.region }) == jsondecode(aws_ssm_parameter.hook_config[0].value)
      error_message = "bbb_fleet's hook_config differs from the document the fleet module writes to the hook configuration parameter (local.hook_config): update the module to the provider's document."
    }
  }
}

resource "aws_ssm_parameter" "hook_config" {
  count = var.create ? 1 : 0

  #checkov:skip=CKV2_AWS_34:bbb_fleet's hook_config holds no secret by design (the hook reads the Scalelite secret from its own SecureString parameter); a plain String keeps it readable without KMS.
  name        = local.hook_config_parameter_name
  description = "bbb_fleet hook configuration of fleet ${var.name} (no secrets)"
  type        = "String"
  tier        = "Intelligent-Tiering"
  value       = jsonencode(local.hook_config)
  tags        = local.tags
}

# Scaling (target tracking on participants per server, the CPU guard): scaling.tf.
