# --- Scaling: target tracking on participants per server, CPU as a guard -----------------------
#
# Every server's bbb-hook publishes its load from BBB's getMeetings once a minute (CloudWatch namespace
# BBB/Fleet, metrics Participants, Meetings and VideoStreams, dimension AutoScalingGroupName only), so the
# group's Average of Participants is the participants per server. Two target-tracking policies act on the
# group: Auto Scaling scales out when either wants more servers and scales in only when the participant
# policy wants fewer (the CPU guard has scale-in disabled). bbb_schedule's scheduled actions raise MinSize
# for events: capacity on top, which target tracking cannot go below. A predictive scaling policy
# (predictive_scaling_mode) launches servers ahead of the hours the previous days' participants forecast;
# it only adds capacity, target tracking still removes it.
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

# Forecast pre-warming: Auto Scaling's own predictive scaling on the same Participants metric. From up to the
# last 14 days of data (24 hours at least before the first forecast) it forecasts the group's load for each
# hour of the next two days and, in ForecastAndScale mode, raises the capacity at the start of each hour
# (scheduling_buffer_time earlier) to what the forecast load needs at target_value participants per server.
# It never scales in: target tracking removes the servers, and while both act the group gets the larger
# capacity of the two. Why: a lecture block on the hour brings hundreds of participants within minutes,
# faster than target tracking's 3 breaching minutes plus a server's launch and warm-up.
#
# The load metric is the group's total (Sum of the servers' Participants) and the scaling metric the
# per-server Average, the shape of AWS's own ASGCPUUtilization pair (the Sum and Average of a per-instance
# gauge): the Sum grows with the participants whatever the number of servers, the Average falls as servers
# are added. The target is participants per server, as for target tracking.
resource "aws_autoscaling_policy" "predictive" {
  count = var.create && var.predictive_scaling_mode != "off" ? 1 : 0

  name                   = "${var.name}-participants-forecast"
  autoscaling_group_name = aws_autoscaling_group.this[0].name
  policy_type            = "PredictiveScaling"

  predictive_scaling_configuration {
    mode                   = var.predictive_scaling_mode
    scheduling_buffer_time = var.predictive_scheduling_buffer_seconds
    # capacity.max (and bbb_schedule's raised max during an event) stays the limit: a forecast never
    # raises the group's maximum.
    max_capacity_breach_behavior = "HonorMaxCapacity"

    metric_specification {
      target_value = var.forecast_participants_per_server

      # The group's load: every server's participants added up.
      customized_load_metric_specification {
        metric_data_queries {
          id          = "load"
          return_data = true

          metric_stat {
            stat = "Sum"
            unit = "Count"

            metric {
              namespace   = local.metrics_namespace
              metric_name = "Participants"

              dimensions {
                name  = "AutoScalingGroupName"
                value = aws_autoscaling_group.this[0].name
              }
            }
          }
        }
      }

      # Participants per server, what target_value is in.
      customized_scaling_metric_specification {
        metric_data_queries {
          id          = "participants_per_server"
          return_data = true

          metric_stat {
            stat = "Average"
            unit = "Count"

            metric {
              namespace   = local.metrics_namespace
              metric_name = "Participants"

              dimensions {
                name  = "AutoScalingGroupName"
                value = aws_autoscaling_group.this[0].name
              }
            }
          }
        }
      }
    }
  }
}

# A group held above its desired capacity: every in-service server protected while the group wants fewer.
# Consolidation normally empties the surplus within the longest meeting (cordoned servers take no new
# meeting); a server whose hook no longer runs keeps its protection for good, and the group then logs
# "Could not scale to desired capacity because all remaining instances are protected from scale-in".
# The group's own metrics (enabled_metrics): the fewest servers in service in an hour above the most the
# group wanted in it, in held_above_desired_hours of the last twice as many hours (M of N: a stuck server
# shows only while the group wants fewer servers than it has, at night in a daily cycle, and is absorbed
# by day when the desired capacity rises above it).
resource "aws_cloudwatch_metric_alarm" "held_above_desired" {
  count = var.create && var.held_above_desired_hours > 0 ? 1 : 0

  alarm_name          = "${var.name}-held-above-desired"
  alarm_description   = "${var.name}: more BBB servers in service than the Auto Scaling group wants, in ${var.held_above_desired_hours} of the last ${min(2 * var.held_above_desired_hours, 168)} hours. Scale-in protection holds them: look for servers whose bbb-hook protect pass stopped (journalctl -u bbb-hook-protect) or that stay cordoned with a meeting (the consolidation decision events), and the group's activity history."
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  evaluation_periods  = min(2 * var.held_above_desired_hours, 168)
  datapoints_to_alarm = var.held_above_desired_hours
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.ok_actions
  tags                = local.tags

  metric_query {
    id          = "held"
    expression  = "in_service - desired"
    label       = "Servers in service above the desired capacity"
    return_data = true
  }

  metric_query {
    id = "in_service"

    metric {
      namespace   = "AWS/AutoScaling"
      metric_name = "GroupInServiceInstances"
      period      = 3600
      stat        = "Minimum"
      dimensions  = { AutoScalingGroupName = aws_autoscaling_group.this[0].name }
    }
  }

  metric_query {
    id = "desired"

    metric {
      namespace   = "AWS/AutoScaling"
      metric_name = "GroupDesiredCapacity"
      period      = 3600
      stat        = "Maximum"
      dimensions  = { AutoScalingGroupName = aws_autoscaling_group.this[0].name }
    }
  }
}
