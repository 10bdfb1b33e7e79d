data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  partition    = data.aws_partition.current.partition
  account_root = "arn:${local.partition}:iam::${data.aws_caller_identity.current.account_id}:root"
  tags         = merge(var.tags, { "bbb:scalelite" = var.name })

  cluster_name = coalesce(var.cluster_name, var.name)
  cluster      = var.create_cluster ? aws_eks_cluster.this[0] : data.aws_eks_cluster.existing[0]
  # Auto Mode nodes and pods use the cluster security group.
  cluster_security_group_id = local.cluster.vpc_config[0].cluster_security_group_id

  create_kms_key = var.kms_key_arn == null
  kms_key_arn    = local.create_kms_key ? aws_kms_key.this[0].arn : var.kms_key_arn

  greenlight = var.enable_greenlight ? 1 : 0
}

# --- Encryption key --------------------------------------------------------------------------

data "aws_iam_policy_document" "kms" {
  #checkov:skip=CKV_AWS_111:KMS key policy: Resource "*" in a key policy means this key only, and the conditions limit use to the named services of this account.
  #checkov:skip=CKV_AWS_356:KMS key policy: Resource "*" in a key policy means this key only (a key policy cannot name its own ARN before the key exists).
  #checkov:skip=CKV_AWS_109:KMS key policy: the account-root statement is AWS' default key policy, delegating key administration to IAM policies of this account.
  statement {
    sid       = "AccountAdministration"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = [local.account_root]
    }
  }

  statement {
    sid       = "CloudWatchLogs"
    actions   = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["logs.${data.aws_region.current.region}.amazonaws.com"]
    }
  }
}

resource "aws_kms_key" "this" {
  count = local.create_kms_key ? 1 : 0

  description             = "${var.name}: Scalelite stack (EKS secrets, RDS, ElastiCache, logs)"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.kms.json
  tags                    = local.tags
}

# --- EKS (Auto Mode) or an existing cluster --------------------------------------------------

data "aws_eks_cluster" "existing" {
  count = var.create_cluster ? 0 : 1
  name  = local.cluster_name
}

data "aws_iam_policy_document" "cluster_assume" {
  statement {
    actions = ["sts:AssumeRole", "sts:TagSession"]
    principals {
      type        = "Service"
      identifiers = ["eks.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "cluster" {
  count = var.create_cluster ? 1 : 0

  name_prefix        = "${var.name}-eks-"
  assume_role_policy = data.aws_iam_policy_document.cluster_assume.json
  tags               = local.tags
}

resource "aws_iam_role_policy_attachment" "cluster" {
  for_each = var.create_cluster ? toset([
    "AmazonEKSClusterPolicy",
    "AmazonEKSComputePolicy",
    "AmazonEKSBlockStoragePolicy",
    "AmazonEKSLoadBalancingPolicy",
    "AmazonEKSNetworkingPolicy",
  ]) : toset([])

  role       = aws_iam_role.cluster[0].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/${each.value}"
}

data "aws_iam_policy_document" "node_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "node" {
  count = var.create_cluster ? 1 : 0

  name_prefix        = "${var.name}-node-"
  assume_role_policy = data.aws_iam_policy_document.node_assume.json
  tags               = local.tags
}

resource "aws_iam_role_policy_attachment" "node" {
  for_each = var.create_cluster ? toset(["AmazonEKSWorkerNodeMinimalPolicy", "AmazonEC2ContainerRegistryPullOnly"]) : toset([])

  role       = aws_iam_role.node[0].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/${each.value}"
}

resource "aws_cloudwatch_log_group" "cluster" {
  count = var.create_cluster ? 1 : 0

  # EKS writes its control-plane logs to this fixed name.
  name              = "/aws/eks/${local.cluster_name}/cluster"
  retention_in_days = var.log_retention_days
  kms_key_id        = local.kms_key_arn
  tags              = local.tags
}

resource "aws_eks_cluster" "this" {
  count = var.create_cluster ? 1 : 0

  name                          = local.cluster_name
  version                       = var.kubernetes_version
  role_arn                      = aws_iam_role.cluster[0].arn
  bootstrap_self_managed_addons = false
  enabled_cluster_log_types     = ["api", "audit", "authenticator", "controllerManager", "scheduler"]

  # No bootstrap entry: the identity running Terraform gets its access entry below like every other admin,
  # so listing it in cluster_admin_principal_arns too cannot create a second, conflicting entry.
  access_config {
    authentication_mode                         = "API"
    bootstrap_cluster_creator_admin_permissions = false
  }

  compute_config {
    enabled       = true
    node_pools    = ["general-purpose", "system"]
    node_role_arn = aws_iam_role.node[0].arn
  }

  kubernetes_network_config {
    elastic_load_balancing {
      enabled = true
    }
  }

  storage_config {
    block_storage {
      enabled = true
    }
  }

  vpc_config {
    subnet_ids              = var.private_subnet_ids
    endpoint_private_access = true
    endpoint_public_access  = var.cluster_endpoint_public_access
    public_access_cidrs     = var.cluster_endpoint_public_access ? var.cluster_endpoint_public_access_cidrs : null
  }

  encryption_config {
    resources = ["secrets"]
    provider {
      key_arn = local.kms_key_arn
    }
  }

  tags = local.tags

  depends_on = [aws_iam_role_policy_attachment.cluster, aws_cloudwatch_log_group.cluster]
}

# The caller's IAM role (not its assumed-role session) as terraform-aws-modules/eks resolves it.
data "aws_iam_session_context" "current" {
  arn = data.aws_caller_identity.current.arn
}

locals {
  # Known at plan (inputs and data sources): one entry per principal, the caller's included once.
  cluster_admin_principal_arns = var.create_cluster ? toset(distinct(concat(
    var.cluster_admin_principal_arns,
    var.enable_cluster_creator_admin_permissions ? [data.aws_iam_session_context.current.issuer_arn] : [],
  ))) : toset([])
}

resource "aws_eks_access_entry" "admin" {
  for_each = local.cluster_admin_principal_arns

  cluster_name  = local.cluster_name
  principal_arn = each.value
  tags          = local.tags

  depends_on = [aws_eks_cluster.this]
}

resource "aws_eks_access_policy_association" "admin" {
  for_each = aws_eks_access_entry.admin

  cluster_name  = local.cluster_name
  principal_arn = each.value.principal_arn
  policy_arn    = "arn:${local.partition}:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"

  access_scope {
    type = "cluster"
  }
}

# --- Block storage: EKS Auto Mode creates no StorageClass -------------------------------------

# Without it every PersistentVolumeClaim that names no class stays Pending (the monitoring module's
# Prometheus, Alertmanager, Loki and Grafana volumes), and their atomic Helm releases time out.
resource "kubernetes_storage_class_v1" "ebs" {
  count = var.create_cluster && var.create_storage_class ? 1 : 0

  metadata {
    name        = var.storage_class_name
    annotations = { "storageclass.kubernetes.io/is-default-class" = "true" }
  }

  storage_provisioner    = "ebs.csi.eks.amazonaws.com"
  reclaim_policy         = "Delete"
  volume_binding_mode    = "WaitForFirstConsumer"
  allow_volume_expansion = true
  parameters = merge(
    { type = "gp3", encrypted = "true" },
    var.ebs_kms_key_arn != null ? { kmsKeyId = var.ebs_kms_key_arn } : {},
  )

  depends_on = [aws_eks_access_policy_association.admin]
}

# --- EFS CSI driver with EKS Pod Identity ----------------------------------------------------

data "aws_iam_policy_document" "pod_identity_assume" {
  statement {
    actions = ["sts:AssumeRole", "sts:TagSession"]
    principals {
      type        = "Service"
      identifiers = ["pods.eks.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "efs_csi" {
  name_prefix        = "${var.name}-efs-csi-"
  assume_role_policy = data.aws_iam_policy_document.pod_identity_assume.json
  tags               = local.tags
}

resource "aws_iam_role_policy_attachment" "efs_csi" {
  role       = aws_iam_role.efs_csi.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AmazonEFSCSIDriverPolicy"
}

resource "aws_eks_addon" "efs_csi" {
  cluster_name = local.cluster_name
  addon_name   = "aws-efs-csi-driver"

  pod_identity_association {
    role_arn        = aws_iam_role.efs_csi.arn
    service_account = "efs-csi-controller-sa"
  }

  tags = local.tags

  # EKS Auto Mode runs the Pod Identity agent itself; an existing cluster needs the eks-pod-identity-agent add-on.
  depends_on = [aws_eks_cluster.this]
}

resource "aws_vpc_security_group_ingress_rule" "efs_from_cluster" {
  security_group_id            = var.recordings_security_group_id
  referenced_security_group_id = local.cluster_security_group_id
  ip_protocol                  = "tcp"
  from_port                    = 2049
  to_port                      = 2049
  description                  = "NFS from the Scalelite cluster"
  tags                         = local.tags
}

# --- PostgreSQL ------------------------------------------------------------------------------

resource "aws_security_group" "database" {
  name        = "${var.name}-postgres"
  description = "PostgreSQL from the Scalelite cluster only"
  vpc_id      = var.vpc_id
  tags        = merge(local.tags, { Name = "${var.name}-postgres" })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "database" {
  security_group_id            = aws_security_group.database.id
  referenced_security_group_id = local.cluster_security_group_id
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
  description                  = "PostgreSQL from the Scalelite cluster"
  tags                         = local.tags
}

resource "aws_db_subnet_group" "this" {
  name_prefix = "${var.name}-"
  subnet_ids  = var.private_subnet_ids
  tags        = local.tags
}

resource "aws_db_parameter_group" "this" {
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
  length  = 40
  special = false
}

data "aws_iam_policy_document" "rds_monitoring_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["monitoring.rds.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "rds_monitoring" {
  name_prefix        = "${var.name}-rds-mon-"
  assume_role_policy = data.aws_iam_policy_document.rds_monitoring_assume.json
  tags               = local.tags
}

resource "aws_iam_role_policy_attachment" "rds_monitoring" {
  role       = aws_iam_role.rds_monitoring.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
}

resource "aws_db_instance" "this" {
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
  kms_key_id                            = local.kms_key_arn
  db_name                               = "scalelite"
  username                              = "scalelite"
  password                              = random_password.database.result
  multi_az                              = var.database.multi_az
  db_subnet_group_name                  = aws_db_subnet_group.this.name
  parameter_group_name                  = aws_db_parameter_group.this.name
  vpc_security_group_ids                = [aws_security_group.database.id]
  publicly_accessible                   = false
  backup_retention_period               = var.database.backup_retention_days
  copy_tags_to_snapshot                 = true
  deletion_protection                   = var.database.deletion_protection
  skip_final_snapshot                   = false
  final_snapshot_identifier             = "${var.name}-final"
  auto_minor_version_upgrade            = true
  performance_insights_enabled          = var.database.performance_insights
  performance_insights_kms_key_id       = var.database.performance_insights ? local.kms_key_arn : null
  monitoring_interval                   = var.database.monitoring_interval_sec
  monitoring_role_arn                   = aws_iam_role.rds_monitoring.arn
  enabled_cloudwatch_logs_exports       = ["postgresql", "upgrade"]
  iam_database_authentication_enabled   = false
  apply_immediately                     = false
  performance_insights_retention_period = var.database.performance_insights ? 7 : null
  tags                                  = local.tags
}

# --- Redis -----------------------------------------------------------------------------------

resource "aws_security_group" "redis" {
  name        = "${var.name}-redis"
  description = "Redis from the Scalelite cluster only"
  vpc_id      = var.vpc_id
  tags        = merge(local.tags, { Name = "${var.name}-redis" })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "redis" {
  security_group_id            = aws_security_group.redis.id
  referenced_security_group_id = local.cluster_security_group_id
  ip_protocol                  = "tcp"
  from_port                    = 6379
  to_port                      = 6379
  description                  = "Redis from the Scalelite cluster"
  tags                         = local.tags
}

resource "aws_elasticache_subnet_group" "this" {
  name       = "${var.name}-redis"
  subnet_ids = var.private_subnet_ids
  tags       = local.tags
}

resource "random_password" "redis" {
  length           = 64
  special          = true
  override_special = "!&#$^<>-"
}

resource "aws_cloudwatch_log_group" "redis" {
  name              = "/aws/elasticache/${var.name}-redis"
  retention_in_days = var.log_retention_days
  kms_key_id        = local.kms_key_arn
  tags              = local.tags
}

resource "aws_elasticache_replication_group" "this" {
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
  subnet_group_name          = aws_elasticache_subnet_group.this.name
  security_group_ids         = [aws_security_group.redis.id]
  at_rest_encryption_enabled = true
  transit_encryption_enabled = true
  kms_key_id                 = local.kms_key_arn
  auth_token                 = random_password.redis.result
  snapshot_retention_limit   = var.redis.snapshot_retention
  auto_minor_version_upgrade = true
  apply_immediately          = false

  log_delivery_configuration {
    destination      = aws_cloudwatch_log_group.redis.name
    destination_type = "cloudwatch-logs"
    log_format       = "json"
    log_type         = "slow-log"
  }

  tags = local.tags
}

# --- Kubernetes: namespace, secrets, recordings volume ---------------------------------------

# Read ephemerally and written through write-only arguments: the Scalelite secret is in neither plan nor
# state. Kubernetes only receives it again when scalelite_secret_revision changes (after a rotation).
ephemeral "aws_ssm_parameter" "scalelite_secret" {
  arn             = "arn:${local.partition}:ssm:${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}:parameter${var.scalelite_secret_parameter_name}"
  with_decryption = true
}

resource "random_password" "secret_key_base" {
  for_each = toset(["scalelite", "greenlight"])

  length  = 128
  special = false
}

locals {
  database_host = aws_db_instance.this.address
  redis_url     = "rediss://:${urlencode(random_password.redis.result)}@${aws_elasticache_replication_group.this.primary_endpoint_address}:6379"
  database_url = {
    for db in ["scalelite", "greenlight"] :
    db => "postgres://scalelite:${random_password.database.result}@${local.database_host}:5432/${db}?sslmode=require"
  }
  scalelite_url = "https://${var.scalelite_hostname}/bigbluebutton/api"
}

resource "kubernetes_namespace_v1" "this" {
  metadata {
    name   = var.namespace
    labels = { "app.kubernetes.io/part-of" = "bbb-platform" }
  }

  depends_on = [aws_eks_cluster.this, aws_eks_access_policy_association.admin]
}

resource "kubernetes_secret_v1" "scalelite" {
  metadata {
    name      = "scalelite-env"
    namespace = kubernetes_namespace_v1.this.metadata[0].name
  }

  data = {
    DATABASE_URL          = local.database_url["scalelite"]
    REDIS_URL             = local.redis_url
    SECRET_KEY_BASE       = random_password.secret_key_base["scalelite"].result
    URL_HOST              = var.scalelite_hostname
    RECORDING_DISABLED    = "false"
    RECORDING_SPOOL_DIR   = "/var/bigbluebutton/spool"
    RECORDING_WORK_DIR    = "/var/bigbluebutton/recording/scalelite"
    RECORDING_PUBLISH_DIR = "/var/bigbluebutton/published"
  }
}

resource "kubernetes_secret_v1" "greenlight" {
  count = local.greenlight

  metadata {
    name      = "greenlight-env"
    namespace = kubernetes_namespace_v1.this.metadata[0].name
  }

  data = {
    DATABASE_URL           = local.database_url["greenlight"]
    REDIS_URL              = local.redis_url
    SECRET_KEY_BASE        = random_password.secret_key_base["greenlight"].result
    BIGBLUEBUTTON_ENDPOINT = local.scalelite_url
  }
}

# The shared secret alone, write-only: LOADBALANCER_SECRET for Scalelite, BIGBLUEBUTTON_SECRET for Greenlight.
resource "kubernetes_secret_v1" "shared_secret" {
  metadata {
    name      = "scalelite-shared-secret"
    namespace = kubernetes_namespace_v1.this.metadata[0].name
  }

  data_wo = {
    LOADBALANCER_SECRET  = ephemeral.aws_ssm_parameter.scalelite_secret.value
    BIGBLUEBUTTON_SECRET = ephemeral.aws_ssm_parameter.scalelite_secret.value
  }
  data_wo_revision = var.scalelite_secret_revision
}

resource "kubernetes_persistent_volume_v1" "recordings" {
  metadata {
    name = "${var.namespace}-recordings"
  }

  spec {
    capacity                         = { storage = "1Ti" }
    access_modes                     = ["ReadWriteMany"]
    persistent_volume_reclaim_policy = "Retain"
    storage_class_name               = ""

    persistent_volume_source {
      csi {
        driver        = "efs.csi.aws.com"
        volume_handle = "${var.recordings.file_system_id}::${var.recordings.access_point_id}"
        volume_attributes = {
          encryptInTransit = "true"
        }
      }
    }
  }

  depends_on = [aws_eks_addon.efs_csi]
}

resource "kubernetes_persistent_volume_claim_v1" "recordings" {
  metadata {
    name      = "scalelite-recordings"
    namespace = kubernetes_namespace_v1.this.metadata[0].name
  }

  spec {
    access_modes       = ["ReadWriteMany"]
    storage_class_name = ""
    volume_name        = kubernetes_persistent_volume_v1.recordings.metadata[0].name
    resources {
      requests = { storage = "1Ti" }
    }
  }
}

# --- Helm releases ---------------------------------------------------------------------------

resource "helm_release" "scalelite" {
  name       = "scalelite"
  namespace  = kubernetes_namespace_v1.this.metadata[0].name
  repository = var.scalelite_chart.repository
  chart      = var.scalelite_chart.chart
  version    = var.scalelite_chart.version
  atomic     = true
  timeout    = 900

  # The module's contract with the chart: environment from the secret, recordings from the claim.
  # Chart-specific keys go in var.scalelite_values, applied last.
  values = [
    yamlencode({
      existingSecret = kubernetes_secret_v1.scalelite.metadata[0].name
      envFrom = [
        { secretRef = { name = kubernetes_secret_v1.scalelite.metadata[0].name } },
        { secretRef = { name = kubernetes_secret_v1.shared_secret.metadata[0].name } },
      ]
      recordings = {
        existingClaim = kubernetes_persistent_volume_claim_v1.recordings.metadata[0].name
      }
      service = { type = "ClusterIP" }
    }),
    yamlencode(var.scalelite_values),
  ]
}

resource "helm_release" "greenlight" {
  count = local.greenlight

  name       = "greenlight"
  namespace  = kubernetes_namespace_v1.this.metadata[0].name
  repository = var.greenlight_chart.repository
  chart      = var.greenlight_chart.chart
  version    = var.greenlight_chart.version
  atomic     = true
  timeout    = 900

  values = [
    yamlencode({
      existingSecret = kubernetes_secret_v1.greenlight[0].metadata[0].name
      envFrom = [
        { secretRef = { name = kubernetes_secret_v1.greenlight[0].metadata[0].name } },
        { secretRef = { name = kubernetes_secret_v1.shared_secret.metadata[0].name } },
      ]
      service = { type = "ClusterIP" }
    }),
    yamlencode(var.greenlight_values),
  ]

  depends_on = [helm_release.scalelite]
}

# --- Exposure: internal NLB for the fleet, public NLBs for users -----------------------------

resource "aws_security_group" "internal_lb" {
  #checkov:skip=CKV2_AWS_5:Attached to the internal NLB by EKS through the aws-load-balancer-security-groups annotation of kubernetes_service_v1.scalelite_internal, which checkov cannot follow.
  name        = "${var.name}-scalelite-internal"
  description = "Scalelite internal load balancer: HTTPS from the BBB fleet only"
  vpc_id      = var.vpc_id
  tags        = merge(local.tags, { Name = "${var.name}-scalelite-internal" })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "internal_lb" {
  security_group_id            = aws_security_group.internal_lb.id
  referenced_security_group_id = var.fleet_security_group_id
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
  description                  = "Scalelite API from the BBB fleet's hook"
  tags                         = local.tags
}

resource "aws_vpc_security_group_egress_rule" "internal_lb" {
  security_group_id            = aws_security_group.internal_lb.id
  referenced_security_group_id = local.cluster_security_group_id
  ip_protocol                  = "tcp"
  from_port                    = var.scalelite_frontend.port
  to_port                      = var.scalelite_frontend.port
  description                  = "To Scalelite's frontend pods"
  tags                         = local.tags
}

# The backend half: the EKS-managed cluster security group (nodes and pods in Auto Mode) admits only itself,
# and with frontend security groups given by annotation the load balancer controller adds no backend rule.
# Without this the NLB's IP targets fail their health checks and the fleet cannot reach Scalelite.
resource "aws_vpc_security_group_ingress_rule" "cluster_from_internal_lb" {
  security_group_id            = local.cluster_security_group_id
  referenced_security_group_id = aws_security_group.internal_lb.id
  ip_protocol                  = "tcp"
  from_port                    = var.scalelite_frontend.port
  to_port                      = var.scalelite_frontend.port
  description                  = "Scalelite's internal load balancer to the frontend pods"
  tags                         = local.tags
}

locals {
  nlb_common = {
    "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type"        = "ip"
    "service.beta.kubernetes.io/aws-load-balancer-ssl-cert"               = var.certificate_arn
    "service.beta.kubernetes.io/aws-load-balancer-ssl-ports"              = "443"
    "service.beta.kubernetes.io/aws-load-balancer-ssl-negotiation-policy" = "ELBSecurityPolicy-TLS13-1-2-2021-06"
  }
}

resource "kubernetes_service_v1" "scalelite_internal" {
  metadata {
    name      = "scalelite-internal"
    namespace = kubernetes_namespace_v1.this.metadata[0].name
    annotations = merge(local.nlb_common, {
      "service.beta.kubernetes.io/aws-load-balancer-scheme"          = "internal"
      "service.beta.kubernetes.io/aws-load-balancer-security-groups" = aws_security_group.internal_lb.id
    })
  }

  spec {
    type                = "LoadBalancer"
    load_balancer_class = "eks.amazonaws.com/nlb"
    selector            = var.scalelite_frontend.selector

    port {
      name        = "https"
      port        = 443
      target_port = var.scalelite_frontend.port
    }
  }

  wait_for_load_balancer = true
  depends_on             = [helm_release.scalelite]
}

resource "kubernetes_service_v1" "scalelite_public" {
  metadata {
    name      = "scalelite-public"
    namespace = kubernetes_namespace_v1.this.metadata[0].name
    annotations = merge(local.nlb_common, {
      "service.beta.kubernetes.io/aws-load-balancer-scheme" = "internet-facing"
    })
  }

  spec {
    type                = "LoadBalancer"
    load_balancer_class = "eks.amazonaws.com/nlb"
    selector            = var.scalelite_frontend.selector

    port {
      name        = "https"
      port        = 443
      target_port = var.scalelite_frontend.port
    }
  }

  wait_for_load_balancer = true
  depends_on             = [helm_release.scalelite]
}

resource "kubernetes_service_v1" "greenlight_public" {
  count = local.greenlight

  metadata {
    name      = "greenlight-public"
    namespace = kubernetes_namespace_v1.this.metadata[0].name
    annotations = merge(local.nlb_common, {
      "service.beta.kubernetes.io/aws-load-balancer-scheme" = "internet-facing"
    })
  }

  spec {
    type                = "LoadBalancer"
    load_balancer_class = "eks.amazonaws.com/nlb"
    selector            = var.greenlight_frontend.selector

    port {
      name        = "https"
      port        = 443
      target_port = var.greenlight_frontend.port
    }
  }

  wait_for_load_balancer = true
  depends_on             = [helm_release.greenlight]
}

resource "aws_route53_record" "scalelite_internal" {
  zone_id = var.zone_id
  name    = var.scalelite_internal_hostname
  type    = "A"

  alias {
    name                   = kubernetes_service_v1.scalelite_internal.status[0].load_balancer[0].ingress[0].hostname
    zone_id                = data.aws_lb_hosted_zone_id.nlb.id
    evaluate_target_health = true
  }
}

data "aws_lb_hosted_zone_id" "nlb" {
  load_balancer_type = "network"
}
