data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  partition    = data.aws_partition.current.partition
  account_root = "arn:${local.partition}:iam::${data.aws_caller_identity.current.account_id}:root"
  tags         = merge(var.tags, { "bbb:cluster" = var.name })

  cluster_name = coalesce(var.cluster_name, var.name)
  cluster      = var.create_cluster ? one(aws_eks_cluster.this) : one(data.aws_eks_cluster.existing)
  # Auto Mode nodes and pods use the cluster security group.
  cluster_security_group_id = try(local.cluster.vpc_config[0].cluster_security_group_id, null)

  create_kms_key = var.kms_key_arn == null
  kms_key_arn    = local.create_kms_key ? one(aws_kms_key.this[*].arn) : var.kms_key_arn
}

# --- Encryption key --------------------------------------------------------------------------

data "aws_iam_policy_document" "kms" {
  count = var.create ? 1 : 0

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
  count = var.create && local.create_kms_key ? 1 : 0

  description             = "${var.name}: EKS secrets, control-plane logs and the data stores of the platform"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.kms[0].json
  tags                    = local.tags
}

# --- EKS (Auto Mode) or an existing cluster --------------------------------------------------

data "aws_eks_cluster" "existing" {
  count = var.create && !var.create_cluster ? 1 : 0
  name  = local.cluster_name
}

data "aws_iam_policy_document" "cluster_assume" {
  count = var.create ? 1 : 0

  statement {
    actions = ["sts:AssumeRole", "sts:TagSession"]
    principals {
      type        = "Service"
      identifiers = ["eks.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "cluster" {
  count = var.create && var.create_cluster ? 1 : 0

  name_prefix        = "${var.name}-eks-"
  assume_role_policy = data.aws_iam_policy_document.cluster_assume[0].json
  tags               = local.tags
}

resource "aws_iam_role_policy_attachment" "cluster" {
  for_each = var.create && var.create_cluster ? toset([
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
  count = var.create ? 1 : 0

  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "node" {
  count = var.create && var.create_cluster ? 1 : 0

  name_prefix        = "${var.name}-node-"
  assume_role_policy = data.aws_iam_policy_document.node_assume[0].json
  tags               = local.tags
}

resource "aws_iam_role_policy_attachment" "node" {
  for_each = var.create && var.create_cluster ? toset(["AmazonEKSWorkerNodeMinimalPolicy", "AmazonEC2ContainerRegistryPullOnly"]) : toset([])

  role       = aws_iam_role.node[0].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/${each.value}"
}

resource "aws_cloudwatch_log_group" "cluster" {
  count = var.create && var.create_cluster ? 1 : 0

  # EKS writes its control-plane logs to this fixed name.
  name              = "/aws/eks/${local.cluster_name}/cluster"
  retention_in_days = var.log_retention_days
  kms_key_id        = local.kms_key_arn
  tags              = local.tags
}

resource "aws_eks_cluster" "this" {
  count = var.create && var.create_cluster ? 1 : 0

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
  count = var.create ? 1 : 0

  arn = data.aws_caller_identity.current.arn
}

locals {
  # Known at plan (inputs and data sources): one entry per principal, the caller's included once.
  cluster_admin_principal_arns = var.create && var.create_cluster ? toset(distinct(concat(
    var.cluster_admin_principal_arns,
    var.enable_cluster_creator_admin_permissions ? [data.aws_iam_session_context.current[0].issuer_arn] : [],
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
  count = var.create && var.create_cluster && var.create_storage_class ? 1 : 0

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
  count = var.create ? 1 : 0

  statement {
    actions = ["sts:AssumeRole", "sts:TagSession"]
    principals {
      type        = "Service"
      identifiers = ["pods.eks.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "efs_csi" {
  count = var.create ? 1 : 0

  name_prefix        = "${var.name}-efs-csi-"
  assume_role_policy = data.aws_iam_policy_document.pod_identity_assume[0].json
  tags               = local.tags
}

resource "aws_iam_role_policy_attachment" "efs_csi" {
  count = var.create ? 1 : 0

  role       = aws_iam_role.efs_csi[0].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AmazonEFSCSIDriverPolicy"
}

resource "aws_eks_addon" "efs_csi" {
  count = var.create ? 1 : 0

  cluster_name = local.cluster_name
  addon_name   = "aws-efs-csi-driver"

  pod_identity_association {
    role_arn        = aws_iam_role.efs_csi[0].arn
    service_account = "efs-csi-controller-sa"
  }

  tags = local.tags

  # EKS Auto Mode runs the Pod Identity agent itself; an existing cluster needs the eks-pod-identity-agent add-on.
  depends_on = [aws_eks_cluster.this]
}

