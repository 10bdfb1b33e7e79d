output "zone_id" {
  description = "ID of the hosted zone (created or given); bbb_fleet writes the per-instance records into it."
  value       = local.zone_id
}

output "zone_arn" {
  description = "ARN of the hosted zone, for IAM policies."
  value       = "arn:${data.aws_partition.current.partition}:route53:::hostedzone/${local.zone_id}"
}

output "name_servers" {
  description = "Name servers of the created zone, to delegate domain to (empty when an existing zone is used)."
  value       = flatten(aws_route53_zone.this[*].name_servers)
}

output "domain" {
  description = "Domain of the platform."
  value       = var.domain
}

output "scalelite_fqdn" {
  description = "Fully qualified name of Scalelite's front record."
  value       = "${var.scalelite_record_name}.${var.domain}"
}

output "scalelite_url" {
  description = "Scalelite's front URL (the BigBlueButton API base users and Greenlight call)."
  value       = "https://${var.scalelite_record_name}.${var.domain}/bigbluebutton/api"
}
