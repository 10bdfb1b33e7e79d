data "aws_partition" "current" {}

locals {
  partition = data.aws_partition.current.partition
  tags      = merge(var.tags, { "bbb:data-stores" = var.name })
}

# --- PostgreSQL ------------------------------------------------------------------------------

resource "aws_security_group" "database" {
  count = var.create ? 1 : 0

  name        = "${var.name}-postgres"
  description = "PostgreSQL from client_security_group_ids only"
  vpc_id      = var.vpc_id
  tags        = merge(local.tags, { Name = "${var.name}-postgres" })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "database" {
  for_each = var.create ? var.client_security_group_ids : {}

  security_group_id            = aws_security_group.database[0].id
  referenced_security_group_id = each.value
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
  description                  = "PostgreSQL from ${each.key}"
  tags                         = local.tags
}

resource "aws_db_subnet_group" "this" {
  count = var.create ? 1 : 0

  name_prefix = "${var.name}-"
  subnet_ids  = var.private_subnet_ids
  tags        = local.tags
}

resource "aws_db_parameter_group" "this" {
  count = var.create ? 1 : 0

  name_prefix = "${var.name}-postgres-"
  family      = "postgres${split(".", var.database.engine_version)[0]}"

  parameter {
    name  = "rds.force_ssl"
    value = "1"
  }

  parameter {
    name  = "log_statement"
    value = "ddl"
  }

  parameter {
    name  = "log_min_duration_statement"
    value = "1000"
  }

  tags = local.tags

  lifecycle {
    create_before_destroy = true
  }
}

resource "random_password" "database" {
  count = var.create ? 1 : 0

  length  = 40
  special = false
}

data "aws_iam_policy_document" "rds_monitoring_assume" {
  count = var.create ? 1 : 0

  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["monitoring.rds.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "rds_monitoring" {
  count = var.create ? 1 : 0

  name_prefix        = "${var.name}-rds-mon-"
  assume_role_policy = data.aws_iam_policy_document.rds_monitoring_assume[0].json
  tags               = local.tags
}

resource "aws_iam_role_policy_attachment" "rds_monitoring" {
  count = var.create ? 1 : 0

  role       = aws_iam_role.rds_monitoring[0].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
}

resource "aws_db_instance" "this" {
  count = var.create ? 1 : 0

  #checkov:skip=CKV_AWS_293:Deletion protection defaults to on (var.database.deletion_protection = true; checkov cannot read optional() defaults); only throw-away dev environments turn it off.
  #checkov:skip=CKV_AWS_133:Backups are always on: var.database.backup_retention_days defaults to 14 and its validation refuses anything below 1 day (checkov cannot read optional() defaults).
  #checkov:skip=CKV_AWS_157:Multi-AZ defaults to on (var.database.multi_az = true); dev environments turn it off to halve the cost of a database they can rebuild.
  #checkov:skip=CKV_AWS_353:Performance Insights defaults to on (var.database.performance_insights = true; checkov cannot read optional() defaults).
  #checkov:skip=CKV_AWS_118:Enhanced monitoring is always on: the validation of var.database.monitoring_interval_sec only accepts 1-60 seconds, never 0.
  #checkov:skip=CKV_AWS_161:Scalelite and Greenlight (Rails) connect with a password; IAM database authentication would need a token-refreshing proxy in front of both.
  identifier_prefix                     = "${var.name}-"
  engine                                = "postgres"
  engine_version                        = var.database.engine_version
  instance_class                        = var.database.instance_class
  allocated_storage                     = var.database.allocated_storage_gb
  max_allocated_storage                 = var.database.max_allocated_storage
  storage_type                          = "gp3"
  storage_encrypted                     = true
  kms_key_id                            = var.kms_key_arn
  db_name                               = var.databases[0]
  username                              = "scalelite"
  password                              = random_password.database[0].result
  multi_az                              = var.database.multi_az
  db_subnet_group_name                  = aws_db_subnet_group.this[0].name
  parameter_group_name                  = aws_db_parameter_group.this[0].name
  vpc_security_group_ids                = [aws_security_group.database[0].id]
  publicly_accessible                   = false
  backup_retention_period               = var.database.backup_retention_days
  copy_tags_to_snapshot                 = true
  deletion_protection                   = var.database.deletion_protection
  skip_final_snapshot                   = false
  final_snapshot_identifier             = "${var.name}-final"
  auto_minor_version_upgrade            = true
  performance_insights_enabled          = var.database.performance_insights
  performance_insights_kms_key_id       = var.database.performance_insights ? var.kms_key_arn : null
  monitoring_interval                   = var.database.monitoring_interval_sec
  monitoring_role_arn                   = aws_iam_role.rds_monitoring[0].arn
  enabled_cloudwatch_logs_exports       = ["postgresql", "upgrade"]
  iam_database_authentication_enabled   = false
  apply_immediately                     = false
  performance_insights_retention_period = var.database.performance_insights ? 7 : null
  tags                                  = local.tags
}

# --- Redis -----------------------------------------------------------------------------------

resource "aws_security_group" "redis" {
  count = var.create ? 1 : 0

  name        = "${var.name}-redis"
  description = "Redis from client_security_group_ids only"
  vpc_id      = var.vpc_id
  tags        = merge(local.tags, { Name = "${var.name}-redis" })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "redis" {
  for_each = var.create ? var.client_security_group_ids : {}

  security_group_id            = aws_security_group.redis[0].id
  referenced_security_group_id = each.value
  ip_protocol                  = "tcp"
  from_port                    = 6379
  to_port                      = 6379
  description                  = "Redis from ${each.key}"
  tags                         = local.tags
}

resource "aws_elasticache_subnet_group" "this" {
  count = var.create ? 1 : 0

  name       = "${var.name}-redis"
  subnet_ids = var.private_subnet_ids
  tags       = local.tags
}

resource "random_password" "redis" {
  count = var.create ? 1 : 0

  length           = 64
  special          = true
  override_special = "!&#$^<>-"
}

resource "aws_cloudwatch_log_group" "redis" {
  count = var.create ? 1 : 0

  name              = "/aws/elasticache/${var.name}-redis"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = local.tags
}

resource "aws_elasticache_replication_group" "this" {
  count = var.create ? 1 : 0

  #checkov:skip=CKV2_AWS_50:Multi-AZ automatic failover is on whenever var.redis.replicas >= 1 (the default, which checkov cannot resolve from an optional attribute); a dev group without a replica has nothing to fail over to.
  replication_group_id       = "${var.name}-redis"
  description                = "Redis of Scalelite and Greenlight (${var.name})"
  engine                     = "redis"
  engine_version             = var.redis.engine_version
  node_type                  = var.redis.node_type
  num_cache_clusters         = var.redis.replicas + 1
  automatic_failover_enabled = var.redis.replicas > 0
  multi_az_enabled           = var.redis.replicas > 0
  port                       = 6379
  subnet_group_name          = aws_elasticache_subnet_group.this[0].name
  security_group_ids         = [aws_security_group.redis[0].id]
  at_rest_encryption_enabled = true
  transit_encryption_enabled = true
  kms_key_id                 = var.kms_key_arn
  auth_token                 = random_password.redis[0].result
  snapshot_retention_limit   = var.redis.snapshot_retention
  auto_minor_version_upgrade = true
  apply_immediately          = false

  log_delivery_configuration {
    destination      = aws_cloudwatch_log_group.redis[0].name
    destination_type = "cloudwatch-logs"
    log_format       = "json"
    log_type         = "slow-log"
  }

  tags = local.tags
}


# --- Connection strings of the applications --------------------------------------------------

locals {
  # One database per application on the same instance (the scalelite module creates Greenlight's with a Job
  # in the cluster); each application gets its own Redis database number (Scalelite 0, Greenlight 1).
  database_urls = {
    for db in var.databases :
    db => "postgres://${aws_db_instance.this[0].username}:${random_password.database[0].result}@${aws_db_instance.this[0].address}:${aws_db_instance.this[0].port}/${db}?sslmode=require" if var.create
  }
  redis_urls = {
    for i, db in var.databases :
    db => "rediss://:${urlencode(random_password.redis[0].result)}@${aws_elasticache_replication_group.this[0].primary_endpoint_address}:6379/${i}" if var.create
  }
}
