# --- Scaling: target tracking on participants per server, CPU as a guard -----------------------
#
# Every server's bbb-hook publishes its load from BBB's getMeetings once a minute (CloudWatch namespace
# BBB/Fleet, metrics Participants, Meetings and VideoStreams, dimension AutoScalingGroupName only), so the
# group's Average of Participants is the participants per server. Two target-tracking policies act on the
# group: Auto Scaling scales out when either wants more servers and scales in only when the participant
# policy wants fewer (the CPU guard has scale-in disabled). bbb_schedule's scheduled actions raise MinSize
# for events: capacity on top, which target tracking cannot go below.
#
# A scale-in lowers the desired capacity while servers hosting meetings stay protected; the hooks then
# consolidate (ARCHITECTURE.md, "Consolidation"): the emptiest surplus servers are cordoned in Scalelite,
# empty as their meetings end, lose their protection and leave through the drain.

locals {
  # The instance policy allows cloudwatch:PutMetricData into this namespace only
  # (policies/instance-policy.json.tftpl, bbb_core::aws::FLEET_METRICS_NAMESPACE).
  metrics_namespace = "BBB/Fleet"
}

resource "aws_autoscaling_policy" "participants" {
  count = var.create ? 1 : 0

  name                      = "${var.name}-participants-per-server"
  autoscaling_group_name    = aws_autoscaling_group.this[0].name
  policy_type               = "TargetTrackingScaling"
  estimated_instance_warmup = var.instance_warmup_seconds

  target_tracking_configuration {
    target_value     = var.participants_per_server
    disable_scale_in = false

    customized_metric_specification {
      namespace   = local.metrics_namespace
      metric_name = "Participants"
      statistic   = "Average"
      unit        = "Count"

      metric_dimension {
        name  = "AutoScalingGroupName"
        value = aws_autoscaling_group.this[0].name
      }
    }
  }
}

resource "aws_autoscaling_policy" "cpu_guard" {
  count = var.create ? 1 : 0

  name                      = "${var.name}-cpu-guard"
  autoscaling_group_name    = aws_autoscaling_group.this[0].name
  policy_type               = "TargetTrackingScaling"
  estimated_instance_warmup = var.instance_warmup_seconds

  target_tracking_configuration {
    target_value = var.cpu_target_percent
    # Only ever adds servers: removing them is the participant policy's call (and consolidation's).
    disable_scale_in = true

    predefined_metric_specification {
      predefined_metric_type = "ASGAverageCPUUtilization"
    }
  }
}
