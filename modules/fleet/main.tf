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

  # Route53 normalises record names to lowercase without the trailing dot.
  record_name_pattern = "${replace(var.record_name_template, "{instance_id}", "i-*")}.${var.domain}"

  fleet_env = join("\n", compact([
    "BBB_FLEET_NAME=${var.name}",
    "BBB_FLEET_REGION=${local.region}",
    "BBB_FLEET_HOOK_CONFIG_PARAMETER=${local.hook_config_parameter_name}",
    var.loki_push_url != null ? "LOKI_PUSH_URL=${var.loki_push_url}" : "",
    var.letsencrypt_email != null ? "LETSENCRYPT_EMAIL=${var.letsencrypt_email}" : "",
    var.recordings != null ? "SCALELITE_RECORDINGS_DIR=${var.recordings.mount_point}" : "",
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
        "_netdev,noresvport,tls,iam,accesspoint=${var.recordings.access_point_id}",
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
  name_prefix        = "${var.name}-bbb-"
  assume_role_policy = data.aws_iam_policy_document.assume.json
  tags               = local.tags
}

resource "aws_iam_instance_profile" "instance" {
  name_prefix = "${var.name}-bbb-"
  role        = aws_iam_role.instance.name
  tags        = local.tags
}

data "aws_iam_policy_document" "instance" {
  # The server's own record: IAM has no policy variable for the bare instance ID, so the change is limited to
  # names of the fleet's pattern (bbb-i-*.domain) and A/AAAA records in the fleet's zone.
  statement {
    sid       = "OwnRoute53Record"
    actions   = ["route53:ChangeResourceRecordSets"]
    resources = ["arn:${local.partition}:route53:::hostedzone/${var.hosted_zone_id}"]
    condition {
      test     = "ForAllValues:StringLike"
      variable = "route53:ChangeResourceRecordSetsNormalizedRecordNames"
      values   = [local.record_name_pattern]
    }
    condition {
      test     = "ForAllValues:StringEquals"
      variable = "route53:ChangeResourceRecordSetsRecordTypes"
      values   = ["A", "AAAA"]
    }
    condition {
      test     = "ForAllValues:StringEquals"
      variable = "route53:ChangeResourceRecordSetsActions"
      values   = ["UPSERT", "DELETE"]
    }
  }

  statement {
    sid       = "WaitForRoute53Change"
    actions   = ["route53:GetChange"]
    resources = ["arn:${local.partition}:route53:::change/*"]
  }

  # Scale-in protection and lifecycle actions on this fleet's group only (the ARN and the group's tag).
  statement {
    sid = "OwnGroupLifecycle"
    actions = [
      "autoscaling:SetInstanceProtection",
      "autoscaling:CompleteLifecycleAction",
      "autoscaling:RecordLifecycleActionHeartbeat",
    ]
    resources = [aws_autoscaling_group.this.arn]
    condition {
      test     = "StringEquals"
      variable = "autoscaling:ResourceTag/bbb:fleet"
      values   = [var.name]
    }
  }

  statement {
    sid       = "ReadOwnLifecycleState"
    actions   = ["autoscaling:DescribeAutoScalingInstances"]
    resources = ["*"]
  }

  statement {
    sid       = "ReadFleetParameters"
    actions   = ["ssm:GetParameter"]
    resources = [local.secret_parameter_arn, local.hook_config_parameter_arn]
  }

  dynamic "statement" {
    for_each = var.scalelite_secret_kms_key_arn != null ? [var.scalelite_secret_kms_key_arn] : []
    content {
      sid       = "DecryptSecretParameter"
      actions   = ["kms:Decrypt"]
      resources = [statement.value]
      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["ssm.${local.region}.amazonaws.com"]
      }
    }
  }

  dynamic "statement" {
    for_each = var.recordings != null ? [var.recordings] : []
    content {
      sid       = "MountRecordingsThroughAccessPoint"
      actions   = ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"]
      resources = ["arn:${local.partition}:elasticfilesystem:${local.region}:${local.account_id}:file-system/${statement.value.file_system_id}"]
      condition {
        test     = "StringEquals"
        variable = "elasticfilesystem:AccessPointArn"
        values   = ["arn:${local.partition}:elasticfilesystem:${local.region}:${local.account_id}:access-point/${statement.value.access_point_id}"]
      }
    }
  }
}

resource "aws_iam_role_policy" "instance" {
  name   = "bbb-fleet-hook"
  role   = aws_iam_role.instance.id
  policy = data.aws_iam_policy_document.instance.json
}

resource "aws_iam_role_policy_attachment" "ssm_core" {
  count = var.enable_ssm_session_manager ? 1 : 0

  role       = aws_iam_role.instance.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/AmazonSSMManagedInstanceCore"
}

# --- Launch template and group ---------------------------------------------------------------

resource "aws_launch_template" "this" {
  name_prefix            = "${var.name}-"
  description            = "BigBlueButton servers of fleet ${var.name}"
  image_id               = var.ami_id
  instance_type          = var.instance_type
  key_name               = var.key_name
  update_default_version = true
  user_data              = base64encode(local.user_data)

  iam_instance_profile {
    arn = aws_iam_instance_profile.instance.arn
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
  # Idle servers go first: servers with live meetings carry scale-in protection set by the hook.
  termination_policies = ["OldestLaunchTemplate", "ClosestToNextInstanceHour", "Default"]
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
    id      = aws_launch_template.this.id
    version = aws_launch_template.this.latest_version
  }

  # A new AMI or configuration replaces servers without losing capacity: new servers are launched and must be
  # healthy before old ones go, servers that already match are skipped, and protected servers (live meetings)
  # are waited for rather than cut off.
  instance_refresh {
    strategy = "Rolling"
    preferences {
      min_healthy_percentage       = 100
      max_healthy_percentage       = 200
      skip_matching                = true
      instance_warmup              = var.instance_warmup_seconds
      scale_in_protected_instances = "Wait"
      standby_instances            = "Wait"
    }
  }

  dynamic "tag" {
    for_each = merge(local.tags, { Name = "${var.name}-bbb" })
    content {
      key                 = tag.key
      value               = tag.value
      propagate_at_launch = true
    }
  }

  lifecycle {
    # Scaling policies and bbb_schedule change the desired capacity at run time.
    ignore_changes = [desired_capacity]
  }
}

# --- The fleet: per-instance records, Scalelite registration, lifecycle hooks ----------------

resource "bbb_fleet" "this" {
  name                       = var.name
  autoscaling_group_name     = aws_autoscaling_group.this.name
  hosted_zone_id             = var.hosted_zone_id
  domain                     = var.domain
  record_name_template       = var.record_name_template
  record_ttl                 = var.record_ttl
  scalelite_tag              = var.scalelite_tag
  load_multiplier            = var.load_multiplier
  scalelite_secret_parameter = var.scalelite_secret_parameter_name
  protect_live_meetings      = var.protect_live_meetings

  drain {
    lifecycle_hook_name = var.drain.lifecycle_hook_name
    heartbeat_timeout   = var.drain.heartbeat_timeout
    max_wait            = var.drain.max_wait
  }
}

resource "aws_ssm_parameter" "hook_config" {
  #checkov:skip=CKV2_AWS_34:bbb_fleet's hook_config holds no secret by design (the hook reads the Scalelite secret from its own SecureString parameter); a plain String keeps it readable without KMS.
  name        = local.hook_config_parameter_name
  description = "bbb_fleet hook configuration of fleet ${var.name} (no secrets)"
  type        = "String"
  tier        = "Intelligent-Tiering"
  value       = bbb_fleet.this.hook_config
  tags        = local.tags
}

# --- Scaling on the lowest CPU across the fleet ----------------------------------------------

resource "aws_autoscaling_policy" "scale_out" {
  name                   = "${var.name}-scale-out"
  autoscaling_group_name = aws_autoscaling_group.this.name
  policy_type            = "SimpleScaling"
  adjustment_type        = "ChangeInCapacity"
  scaling_adjustment     = var.scaling.scale_out_step
  cooldown               = var.scaling.cooldown_seconds
}

resource "aws_autoscaling_policy" "scale_in" {
  name                   = "${var.name}-scale-in"
  autoscaling_group_name = aws_autoscaling_group.this.name
  policy_type            = "SimpleScaling"
  adjustment_type        = "ChangeInCapacity"
  # A negative adjustment, written without the unary minus (see scripts/check_tf_config.py).
  scaling_adjustment = parseint(format("-%d", var.scaling.scale_in_step), 10)
  cooldown           = var.scaling.cooldown_seconds
}

resource "aws_cloudwatch_metric_alarm" "cpu_min_high" {
  alarm_name          = "${var.name}-lowest-cpu-high"
  alarm_description   = "Even the least busy BBB server of ${var.name} is above ${var.scale_out_cpu_threshold}% CPU: add servers."
  namespace           = "AWS/EC2"
  metric_name         = "CPUUtilization"
  statistic           = "Minimum"
  dimensions          = { AutoScalingGroupName = aws_autoscaling_group.this.name }
  period              = var.scaling.period_seconds
  evaluation_periods  = var.scaling.scale_out_periods
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.scale_out_cpu_threshold
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_autoscaling_policy.scale_out.arn]
  tags                = local.tags
}

resource "aws_cloudwatch_metric_alarm" "cpu_min_low" {
  alarm_name          = "${var.name}-lowest-cpu-low"
  alarm_description   = "The least busy BBB server of ${var.name} is below ${var.scale_in_cpu_threshold}% CPU: remove an idle server."
  namespace           = "AWS/EC2"
  metric_name         = "CPUUtilization"
  statistic           = "Minimum"
  dimensions          = { AutoScalingGroupName = aws_autoscaling_group.this.name }
  period              = var.scaling.period_seconds
  evaluation_periods  = var.scaling.scale_in_periods
  comparison_operator = "LessThanThreshold"
  threshold           = var.scale_in_cpu_threshold
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_autoscaling_policy.scale_in.arn]
  tags                = local.tags
}
