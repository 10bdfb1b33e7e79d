output "zone_id" {
  description = "ID of the hosted zone (created or given); bbb_fleet writes the per-instance records into it. With parent_zone_id, known only after the delegation record exists."
  value       = try(local.zone_id, null)
  depends_on  = [aws_route53_record.delegation]
}

output "zone_arn" {
  description = "ARN of the hosted zone, for IAM policies."
  value       = try("arn:${data.aws_partition.current.partition}:route53:::hostedzone/${local.zone_id}", null)
}

output "name_servers" {
  description = "Name servers of the created zone (empty when an existing zone is used): delegate domain to them at the parent zone or registrar when parent_zone_id is null."
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
  description = "Scalelite's front URL (the BigBlueButton API base users and Greenlight call). Available once the front record (and the delegation) exist: a bbb provider configured from it reads Scalelite only after Scalelite is reachable by name."
  value       = "https://${var.scalelite_record_name}.${var.domain}/bigbluebutton/api"
  depends_on  = [aws_route53_record.scalelite, aws_route53_record.delegation]
}

output "delegated" {
  description = "Whether the module wrote the delegation of a created zone into parent_zone_id (false: delegate domain to name_servers yourself)."
  value       = length(aws_route53_record.delegation) > 0
}
