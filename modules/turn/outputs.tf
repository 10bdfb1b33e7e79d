output "turn_uris" {
  description = "TURN URIs for BigBlueButton (the fleet's turn.uris, BBB_TURN_URIS): TURN over TLS on 443, then UDP and TCP on 3478. Empty when create is false."
  value       = local.turn_uris
}

output "stun_uris" {
  description = "STUN URIs for BigBlueButton (the fleet's turn.stun_uris, BBB_STUN_URIS). Empty when create is false."
  value       = local.stun_uris
}

output "secret_parameter_name" {
  description = "SSM SecureString holding coturn's static-auth-secret (the fleet's turn.secret_parameter_name, BBB_TURN_SECRET_PARAMETER); null when create is false."
  value       = var.create ? local.secret_parameter_name : null
}

output "secret_parameter_arn" {
  description = "ARN of the secret parameter: grant ssm:GetParameter on it to the BBB servers' role (and kms:Decrypt on secret_kms_key_arn when set)."
  value       = var.create ? local.secret_parameter_arn : null
}

output "security_group_id" {
  description = "ID of the TURN server's security group."
  value       = try(aws_security_group.this[0].id, null)
}

output "public_ip" {
  description = "Elastic IP of the TURN server (the A record of hostname points here)."
  value       = try(aws_eip.this[0].public_ip, null)
}

output "hostname" {
  description = "DNS name of the TURN server."
  value       = var.create ? var.hostname : null
}

output "instance_id" {
  description = "EC2 instance ID of the TURN server."
  value       = try(aws_instance.this[0].id, null)
}

output "instance_role_name" {
  description = "Name of the TURN server's IAM role."
  value       = try(aws_iam_role.this[0].name, null)
}
