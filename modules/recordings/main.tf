data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  create_kms_key = var.kms_key_arn == null
  kms_key_arn    = local.create_kms_key ? one(aws_kms_key.this[*].arn) : var.kms_key_arn
  account_root   = "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"
  tags           = merge(var.tags, { "bbb:recordings" = var.name })
}

# --- Encryption key ---------------------------------------------------------------------------

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
    sid       = "EfsAndBackupThroughTheirServices"
    actions   = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:CreateGrant", "kms:DescribeKey"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["*"]
    }
    condition {
      test     = "StringEquals"
      variable = "kms:CallerAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["elasticfilesystem.${data.aws_region.current.region}.amazonaws.com", "backup.${data.aws_region.current.region}.amazonaws.com"]
    }
  }
}

resource "aws_kms_key" "this" {
  count = var.create && local.create_kms_key ? 1 : 0

  description             = "${var.name}: BBB recordings (EFS and its backups)"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.kms[0].json
  tags                    = local.tags
}

resource "aws_kms_alias" "this" {
  count = var.create && local.create_kms_key ? 1 : 0

  name          = "alias/${var.name}-recordings"
  target_key_id = aws_kms_key.this[0].key_id
}

# --- File system -----------------------------------------------------------------------------

resource "aws_efs_file_system" "this" {
  count = var.create ? 1 : 0

  creation_token                  = "${var.name}-recordings"
  encrypted                       = true
  kms_key_id                      = local.kms_key_arn
  performance_mode                = "generalPurpose"
  throughput_mode                 = var.throughput_mode
  provisioned_throughput_in_mibps = var.throughput_mode == "provisioned" ? var.provisioned_throughput_mibps : null

  dynamic "lifecycle_policy" {
    for_each = var.transition_to_ia != null ? [var.transition_to_ia] : []
    content {
      transition_to_ia = lifecycle_policy.value
    }
  }

  dynamic "lifecycle_policy" {
    for_each = var.transition_to_ia != null ? ["AFTER_1_ACCESS"] : []
    content {
      transition_to_primary_storage_class = lifecycle_policy.value
    }
  }

  protection {
    replication_overwrite = "ENABLED"
  }

  tags = merge(local.tags, { Name = "${var.name}-recordings" })
}

# Backups are taken by the plan below, not by EFS' own default plan.
resource "aws_efs_backup_policy" "this" {
  count = var.create ? 1 : 0

  file_system_id = aws_efs_file_system.this[0].id

  backup_policy {
    status = "DISABLED"
  }
}

data "aws_iam_policy_document" "efs" {
  count = var.create ? 1 : 0

  statement {
    sid       = "DenyUnencryptedTransport"
    effect    = "Deny"
    actions   = ["*"]
    resources = [aws_efs_file_system.this[0].arn]
    principals {
      type        = "AWS"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }

  # Clients inside the VPC mount through a mount target and one of the two access points only; the access
  # point forces the POSIX identity. Principal "*" also covers the EFS CSI driver's mounts without IAM.
  statement {
    sid       = "MountThroughAccessPointsOnly"
    actions   = ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"]
    resources = [aws_efs_file_system.this[0].arn]
    principals {
      type        = "AWS"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "elasticfilesystem:AccessedViaMountTarget"
      values   = ["true"]
    }
    condition {
      test     = "StringEquals"
      variable = "elasticfilesystem:AccessPointArn"
      values   = [aws_efs_access_point.bbb[0].arn, aws_efs_access_point.scalelite[0].arn]
    }
  }
}

resource "aws_efs_file_system_policy" "this" {
  count = var.create ? 1 : 0

  file_system_id = aws_efs_file_system.this[0].id
  policy         = data.aws_iam_policy_document.efs[0].json
}

resource "aws_security_group" "efs" {
  count = var.create ? 1 : 0

  name        = "${var.name}-recordings-efs"
  description = "NFS to the recordings file system from the BBB fleet and Scalelite only"
  vpc_id      = var.vpc_id
  tags        = merge(local.tags, { Name = "${var.name}-recordings-efs" })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "efs" {
  for_each = var.create ? var.client_security_group_ids : {}

  security_group_id            = aws_security_group.efs[0].id
  referenced_security_group_id = each.value
  ip_protocol                  = "tcp"
  from_port                    = 2049
  to_port                      = 2049
  description                  = "NFS from ${each.key}"
  tags                         = local.tags
}

# Keyed by availability zone: the keys are known at plan even when the subnets are created in the same apply
# (for_each over subnet IDs would fail the first plan with "Invalid for_each argument").
resource "aws_efs_mount_target" "this" {
  for_each = var.create ? var.subnets : {}

  file_system_id  = aws_efs_file_system.this[0].id
  subnet_id       = each.value
  security_groups = [aws_security_group.efs[0].id]
}

# The BBB servers publish into /published; Scalelite's importer reads /recordings and serves /published.
resource "aws_efs_access_point" "bbb" {
  count = var.create ? 1 : 0

  file_system_id = aws_efs_file_system.this[0].id

  posix_user {
    uid = var.bbb_posix_user.uid
    gid = var.bbb_posix_user.gid
  }

  root_directory {
    path = "/recordings"
    creation_info {
      owner_uid   = var.scalelite_posix_user.uid
      owner_gid   = var.bbb_posix_user.gid
      permissions = "0775"
    }
  }

  tags = merge(local.tags, { Name = "${var.name}-bbb" })
}

resource "aws_efs_access_point" "scalelite" {
  count = var.create ? 1 : 0

  file_system_id = aws_efs_file_system.this[0].id

  posix_user {
    uid = var.scalelite_posix_user.uid
    gid = var.bbb_posix_user.gid
  }

  root_directory {
    path = "/recordings"
    creation_info {
      owner_uid   = var.scalelite_posix_user.uid
      owner_gid   = var.bbb_posix_user.gid
      permissions = "0775"
    }
  }

  tags = merge(local.tags, { Name = "${var.name}-scalelite" })
}

# --- Backups ---------------------------------------------------------------------------------

resource "aws_backup_vault" "this" {
  count = var.create ? 1 : 0

  name        = "${var.name}-recordings"
  kms_key_arn = local.kms_key_arn
  tags        = local.tags
}

resource "aws_backup_plan" "this" {
  count = var.create ? 1 : 0

  name = "${var.name}-recordings"

  rule {
    rule_name         = "daily"
    target_vault_name = aws_backup_vault.this[0].name
    schedule          = var.backup_schedule
    start_window      = 60
    completion_window = 720

    lifecycle {
      delete_after       = var.backup_retention_days
      cold_storage_after = var.backup_cold_storage_after_days
    }

    recovery_point_tags = local.tags
  }

  tags = local.tags
}

data "aws_iam_policy_document" "backup_assume" {
  count = var.create ? 1 : 0

  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["backup.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "backup" {
  count = var.create ? 1 : 0

  name_prefix        = "${var.name}-backup-"
  assume_role_policy = data.aws_iam_policy_document.backup_assume[0].json
  tags               = local.tags
}

resource "aws_iam_role_policy_attachment" "backup" {
  for_each = var.create ? toset(["AWSBackupServiceRolePolicyForBackup", "AWSBackupServiceRolePolicyForRestores"]) : toset([])

  role       = aws_iam_role.backup[0].name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/${each.value}"
}

resource "aws_backup_selection" "this" {
  count = var.create ? 1 : 0

  name         = "${var.name}-recordings"
  plan_id      = aws_backup_plan.this[0].id
  iam_role_arn = aws_iam_role.backup[0].arn
  resources    = [aws_efs_file_system.this[0].arn]
}
