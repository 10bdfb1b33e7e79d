# One environment of the BBB platform: every module, wired together.

locals {
  name = "bbb-${var.environment}"
  tags = merge(var.tags, { "bbb:environment" = var.environment, "managed-by" = "terraform" })

  scalelite_hostname          = "scalelite.${var.domain}"
  scalelite_internal_hostname = "scalelite-internal.${var.domain}"
  greenlight_hostname         = "greenlight.${var.domain}"
}

module "network" {
  source = "../../modules/network"

  name               = local.name
  vpc_cidr           = var.vpc_cidr
  availability_zones = var.availability_zones
  nat_gateway        = var.nat_gateway
  ssh_ingress_cidrs  = var.ssh_ingress_cidrs
  tags               = local.tags
}

module "dns" {
  source = "../../modules/dns"

  domain                = var.domain
  create_zone           = var.existing_zone_id == null
  zone_id               = var.existing_zone_id
  parent_zone_id        = var.parent_zone_id
  scalelite_record_name = "scalelite"
  scalelite_target      = module.scalelite.scalelite_public_lb
  tags                  = local.tags
}

resource "aws_acm_certificate" "platform" {
  domain_name               = local.scalelite_hostname
  subject_alternative_names = [local.scalelite_internal_hostname, local.greenlight_hostname]
  validation_method         = "DNS"

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_route53_record" "certificate_validation" {
  for_each = { for o in aws_acm_certificate.platform.domain_validation_options : o.domain_name => o }

  zone_id         = module.dns.zone_id
  name            = each.value.resource_record_name
  type            = each.value.resource_record_type
  ttl             = 300
  records         = [each.value.resource_record_value]
  allow_overwrite = true
}

resource "aws_acm_certificate_validation" "platform" {
  certificate_arn         = aws_acm_certificate.platform.arn
  validation_record_fqdns = [for r in aws_route53_record.certificate_validation : r.fqdn]
}

resource "aws_route53_record" "greenlight" {
  zone_id = module.dns.zone_id
  name    = local.greenlight_hostname
  type    = "A"

  alias {
    name                   = module.scalelite.greenlight_public_lb.dns_name
    zone_id                = module.scalelite.greenlight_public_lb.zone_id
    evaluate_target_health = true
  }
}

module "recordings" {
  source = "../../modules/recordings"

  name    = local.name
  vpc_id  = module.network.vpc_id
  subnets = module.network.private_subnet_ids_by_az
  client_security_group_ids = {
    bbb = module.network.bbb_security_group_id
  }
  backup_retention_days = var.backup_retention_days
  tags                  = local.tags
}

# The platform's Kubernetes cluster (EKS Auto Mode), its data stores and the applications on it: three modules
# a platform team can own separately (or replace the first two with its own cluster and databases).
module "cluster" {
  source = "../../modules/cluster"

  name                                 = local.name
  private_subnet_ids                   = module.network.private_subnet_ids
  cluster_admin_principal_arns         = var.cluster_admin_principal_arns
  cluster_endpoint_public_access       = length(var.cluster_endpoint_public_access_cidrs) > 0
  cluster_endpoint_public_access_cidrs = var.cluster_endpoint_public_access_cidrs
  tags                                 = local.tags
}

module "data_stores" {
  source = "../../modules/data-stores"

  name                      = local.name
  vpc_id                    = module.network.vpc_id
  private_subnet_ids        = module.network.private_subnet_ids
  client_security_group_ids = { cluster = module.cluster.cluster_security_group_id }
  kms_key_arn               = module.cluster.kms_key_arn
  database                  = var.database
  redis                     = { replicas = var.redis_replicas }
  tags                      = local.tags
}

module "scalelite" {
  source = "../../modules/scalelite"

  name                      = local.name
  vpc_id                    = module.network.vpc_id
  cluster_security_group_id = module.cluster.cluster_security_group_id
  database_urls             = module.data_stores.database_urls
  redis_urls                = module.data_stores.redis_urls

  scalelite_chart   = var.charts.scalelite
  greenlight_chart  = var.charts.greenlight
  enable_greenlight = true
  greenlight_auth   = var.greenlight_auth
  greenlight_smtp   = var.greenlight_smtp

  zone_id                         = module.dns.zone_id
  scalelite_hostname              = local.scalelite_hostname
  scalelite_internal_hostname     = local.scalelite_internal_hostname
  greenlight_hostname             = local.greenlight_hostname
  certificate_arn                 = aws_acm_certificate_validation.platform.certificate_arn
  scalelite_secret_parameter_name = var.scalelite_secret_parameter_name
  fleet_security_group_id         = module.network.bbb_security_group_id

  recordings = {
    file_system_id  = module.recordings.file_system_id
    access_point_id = module.recordings.scalelite_access_point_id
  }
  recordings_security_group_id = module.recordings.security_group_id

  tags = local.tags
}

module "monitoring" {
  source = "../../modules/monitoring"

  name                      = local.name
  vpc_id                    = module.network.vpc_id
  cluster_name              = module.cluster.cluster_name
  cluster_security_group_id = module.cluster.cluster_security_group_id
  fleet_security_group_id   = module.network.bbb_security_group_id
  fleet_names               = [local.name]
  storage_class_name        = module.cluster.storage_class_name
  tags                      = local.tags
}

# TURN for participants whose networks block UDP: coturn on its own server with an Elastic IP, TURN over
# TLS on 443. The BBB servers get its URIs and the secret's parameter through fleet.env.
module "turn" {
  source = "../../modules/turn"

  create                     = var.enable_turn
  name                       = local.name
  vpc_id                     = module.network.vpc_id
  subnet_id                  = module.network.public_subnet_ids[0]
  hostname                   = "turn.${var.domain}"
  zone_id                    = module.dns.zone_id
  certificate_parameter_name = var.turn_certificate_parameter_name
  tags                       = local.tags
}

module "fleet" {
  source = "../../modules/fleet"

  name               = local.name
  ami_id             = var.ami_id
  instance_type      = var.instance_type
  subnet_ids         = module.network.public_subnet_ids
  security_group_ids = [module.network.bbb_security_group_id]
  capacity           = var.fleet_capacity

  hosted_zone_id       = module.dns.zone_id
  domain               = var.domain
  record_name_template = "bbb-{instance_id}"
  record_ttl           = 60

  scalelite_tag                   = null
  load_multiplier                 = 1
  scalelite_secret_parameter_name = var.scalelite_secret_parameter_name
  protect_live_meetings           = true
  # The servers register through the internal load balancer; the output exists only once Scalelite's release
  # and its internal service do, so the fleet (and its first servers) come after Scalelite.
  scalelite_url = module.scalelite.scalelite_internal_url

  participants_per_server = var.participants_per_server
  cpu_target_percent      = var.cpu_target_percent

  recordings = {
    file_system_id  = module.recordings.file_system_id
    access_point_id = module.recordings.bbb_access_point_id
  }
  loki_push_url = module.monitoring.loki_push_url
  turn = var.enable_turn ? {
    uris                  = module.turn.turn_uris
    stun_uris             = module.turn.stun_uris
    secret_parameter_name = module.turn.secret_parameter_name
  } : null
  tags = local.tags
}

# Scheduled capacity on top of the participant scaling (lectures, exams). Each event raises the group's min
# size lead_time before it starts; at its end the min and max size return to the module's, and target
# tracking brings the desired capacity down as the load allows (no desired_capacity in return_to).
resource "bbb_schedule" "this" {
  for_each = var.schedules

  autoscaling_group_name  = module.fleet.autoscaling_group_name
  name                    = each.key
  recurrence              = each.value.recurrence
  time_zone               = each.value.time_zone
  duration                = each.value.duration
  expected_participants   = each.value.expected_participants
  participants_per_server = each.value.participants_per_server
  lead_time               = each.value.lead_time

  return_to {
    min_size = var.fleet_capacity.min
    max_size = var.fleet_capacity.max
  }
}
