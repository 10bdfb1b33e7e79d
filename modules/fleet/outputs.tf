output "autoscaling_group_name" {
  description = "Name of the Auto Scaling group."
  value       = one(aws_autoscaling_group.this[*].name)
}

output "autoscaling_group_arn" {
  description = "ARN of the Auto Scaling group."
  value       = one(aws_autoscaling_group.this[*].arn)
}

output "launch_template_id" {
  description = "ID of the launch template."
  value       = one(aws_launch_template.this[*].id)
}

output "launch_template_version" {
  description = "Latest version of the launch template (a change starts an instance refresh)."
  value       = one(aws_launch_template.this[*].latest_version)
}

output "instance_role_name" {
  description = "Name of the servers' IAM role (attach extra policies to it if the AMI needs more)."
  value       = one(aws_iam_role.instance[*].name)
}

output "instance_role_arn" {
  description = "ARN of the servers' IAM role."
  value       = one(aws_iam_role.instance[*].arn)
}

output "fleet_name" {
  description = "Name of the bbb_fleet (bbb_schedule takes the group's name instead: autoscaling_group_name)."
  value       = one(bbb_fleet.this[*].name)
}

output "hook_config" {
  description = "bbb_fleet's hook configuration document (JSON, no secrets)."
  value       = one(bbb_fleet.this[*].hook_config)
}

output "hook_config_parameter_name" {
  description = "SSM parameter the servers read the hook configuration from at boot."
  value       = one(aws_ssm_parameter.hook_config[*].name)
}

output "instances" {
  description = "The fleet's instances as bbb_fleet reports them (records, Scalelite state)."
  value       = one(bbb_fleet.this[*].instances)
}

output "record_name_pattern" {
  description = "Pattern of the per-instance record names the servers may change."
  value       = var.create ? local.record_name_pattern : null
}

output "scaling_policy_names" {
  description = "Names of the target-tracking policies: participants per server, and the CPU guard (the predictive policy is predictive_scaling_policy_name)."
  value       = var.create ? [one(aws_autoscaling_policy.participants[*].name), one(aws_autoscaling_policy.cpu_guard[*].name)] : null
}

output "predictive_scaling_policy_name" {
  description = "Name of the predictive scaling policy (forecast pre-warming on the Participants metric), or null when predictive_scaling_mode is \"off\". Its forecast: aws autoscaling get-predictive-scaling-forecast."
  value       = one(aws_autoscaling_policy.predictive[*].name)
}

output "metrics_namespace" {
  description = "CloudWatch namespace the servers publish Participants, Meetings and VideoStreams in (dimension AutoScalingGroupName)."
  value       = var.create ? local.metrics_namespace : null
}

output "tls_certificate_secret_name" {
  description = "Secrets Manager secret the servers read their wildcard certificate from (tls.mode = \"shared\"), or null. Put the certificate there (see the README)."
  value       = var.create ? local.tls_secret_name : null
}

output "tls_certificate_secret_arn" {
  description = "ARN of that secret (with tls.certificate_secret_name, a pattern ending in -??????), or null."
  value       = var.create ? local.tls_secret_arn : null
}

output "tls_certificate_parameter" {
  description = "SSM parameter name the servers read the certificate through (BBB_TLS_CERTIFICATE_PARAMETER), or null."
  value       = var.create ? local.tls_parameter_name : null
}

output "held_above_desired_alarm_name" {
  description = "The alarm on servers held in service above the group's desired capacity (null without it: held_above_desired_hours = 0)."
  value       = try(aws_cloudwatch_metric_alarm.held_above_desired[0].alarm_name, null)
}
