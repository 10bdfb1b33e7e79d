output "vpc_id" {
  description = "ID of the VPC."
  value       = try(aws_vpc.this[0].id, null)
}

output "vpc_cidr_block" {
  description = "IPv4 CIDR block of the VPC."
  value       = try(aws_vpc.this[0].cidr_block, null)
}

output "availability_zones" {
  description = "Availability zones the subnets are in."
  value       = local.azs
}

output "public_subnet_ids" {
  description = "IDs of the public subnets, one per zone, in the order of availability_zones."
  value       = [for az in local.azs : aws_subnet.public[az].id if var.create]
}

output "private_subnet_ids" {
  description = "IDs of the private subnets, one per zone (empty when create_private_subnets is false)."
  value       = [for az in local.azs : aws_subnet.private[az].id if var.create && var.create_private_subnets]
}

output "private_subnet_ids_by_az" {
  description = "IDs of the private subnets keyed by availability zone (keys known at plan: use it for for_each, e.g. the recordings module's subnets)."
  value       = { for az, s in aws_subnet.private : az => s.id }
}

output "public_subnet_ids_by_az" {
  description = "IDs of the public subnets keyed by availability zone."
  value       = { for az, s in aws_subnet.public : az => s.id }
}

output "bbb_security_group_id" {
  description = "ID of the security group of the BBB media servers."
  value       = try(aws_security_group.bbb[0].id, null)
}

output "nat_public_ips" {
  description = "Public IPs of the NAT gateways (allow-list them where the private side calls out)."
  value       = [for az in local.nat_azs : aws_eip.nat[az].public_ip if var.create]
}
