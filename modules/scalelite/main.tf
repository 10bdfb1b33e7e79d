data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  partition = data.aws_partition.current.partition
  tags      = merge(var.tags, { "bbb:scalelite" = var.name })

  greenlight = var.create && var.enable_greenlight ? 1 : 0
}

resource "aws_vpc_security_group_ingress_rule" "efs_from_cluster" {
  count = var.create ? 1 : 0

  security_group_id            = var.recordings_security_group_id
  referenced_security_group_id = var.cluster_security_group_id
  ip_protocol                  = "tcp"
  from_port                    = 2049
  to_port                      = 2049
  description                  = "NFS from the Scalelite cluster"
  tags                         = local.tags
}

# --- Kubernetes: namespace, secrets, recordings volume ---------------------------------------

# Read ephemerally and written through write-only arguments: the Scalelite secret is in neither plan nor
# state. Kubernetes only receives it again when scalelite_secret_revision changes (after a rotation).
ephemeral "aws_ssm_parameter" "scalelite_secret" {
  count = var.create ? 1 : 0

  arn             = "arn:${local.partition}:ssm:${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}:parameter${var.scalelite_secret_parameter_name}"
  with_decryption = true
}

resource "random_password" "secret_key_base" {
  for_each = var.create ? toset(["scalelite", "greenlight"]) : toset([])

  length  = 128
  special = false
}

locals {
  scalelite_url = "https://${var.scalelite_hostname}/bigbluebutton/api"

  # Greenlight v3's settings (its sample.env): OpenID Connect when greenlight_auth.mode = "oidc", otherwise
  # local accounts (Greenlight's own sign-up, whose registration method the administrator sets in its UI).
  greenlight_oidc = var.greenlight_auth.mode == "oidc" ? {
    OPENID_CONNECT_CLIENT_ID = var.greenlight_auth.oidc.client_id
    OPENID_CONNECT_ISSUER    = var.greenlight_auth.oidc.issuer
    OPENID_CONNECT_REDIRECT  = "https://${var.greenlight_hostname}/"
    OPENID_CONNECT_UID_FIELD = var.greenlight_auth.oidc.uid_field
  } : {}
  greenlight_smtp = var.greenlight_smtp != null ? {
    SMTP_SENDER_EMAIL  = var.greenlight_smtp.sender_email
    SMTP_SENDER_NAME   = var.greenlight_smtp.sender_name
    SMTP_SERVER        = var.greenlight_smtp.server
    SMTP_PORT          = tostring(var.greenlight_smtp.port)
    SMTP_DOMAIN        = var.greenlight_smtp.domain
    SMTP_USERNAME      = var.greenlight_smtp.username
    SMTP_AUTH          = var.greenlight_smtp.auth
    SMTP_STARTTLS_AUTO = "true"
  } : {}
  # Secrets of Greenlight's settings, read ephemerally from SSM and written write-only (never in state).
  greenlight_secret_parameters = merge(
    var.greenlight_auth.mode == "oidc" ? { OPENID_CONNECT_CLIENT_SECRET = var.greenlight_auth.oidc.client_secret_parameter_name } : {},
    var.greenlight_smtp != null ? { SMTP_PASSWORD = var.greenlight_smtp.password_parameter_name } : {},
  )
}

resource "kubernetes_namespace_v1" "this" {
  count = var.create ? 1 : 0

  metadata {
    name   = var.namespace
    labels = { "app.kubernetes.io/part-of" = "bbb-platform" }
  }
}

resource "kubernetes_secret_v1" "scalelite" {
  count = var.create ? 1 : 0

  metadata {
    name      = "scalelite-env"
    namespace = kubernetes_namespace_v1.this[0].metadata[0].name
  }

  data = {
    DATABASE_URL          = var.database_urls["scalelite"]
    REDIS_URL             = var.redis_urls["scalelite"]
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
    namespace = kubernetes_namespace_v1.this[0].metadata[0].name
  }

  data = merge(
    {
      DATABASE_URL           = var.database_urls["greenlight"]
      REDIS_URL              = var.redis_urls["greenlight"]
      SECRET_KEY_BASE        = random_password.secret_key_base["greenlight"].result
      BIGBLUEBUTTON_ENDPOINT = local.scalelite_url
      RAILS_LOG_TO_STDOUT    = "true"
    },
    local.greenlight_oidc,
    local.greenlight_smtp,
  )
}

ephemeral "aws_ssm_parameter" "greenlight" {
  for_each = local.greenlight == 1 ? local.greenlight_secret_parameters : {}

  arn             = "arn:${local.partition}:ssm:${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}:parameter${each.value}"
  with_decryption = true
}

resource "kubernetes_secret_v1" "greenlight_secrets" {
  count = local.greenlight == 1 && length(local.greenlight_secret_parameters) > 0 ? 1 : 0

  metadata {
    name      = "greenlight-secrets"
    namespace = kubernetes_namespace_v1.this[0].metadata[0].name
  }

  data_wo          = { for k, p in ephemeral.aws_ssm_parameter.greenlight : k => p.value }
  data_wo_revision = var.greenlight_secrets_revision
}

# The shared secret alone, write-only: LOADBALANCER_SECRET for Scalelite, BIGBLUEBUTTON_SECRET for Greenlight.
resource "kubernetes_secret_v1" "shared_secret" {
  count = var.create ? 1 : 0

  metadata {
    name      = "scalelite-shared-secret"
    namespace = kubernetes_namespace_v1.this[0].metadata[0].name
  }

  data_wo = {
    LOADBALANCER_SECRET  = ephemeral.aws_ssm_parameter.scalelite_secret[0].value
    BIGBLUEBUTTON_SECRET = ephemeral.aws_ssm_parameter.scalelite_secret[0].value
  }
  data_wo_revision = var.scalelite_secret_revision
}

resource "kubernetes_persistent_volume_v1" "recordings" {
  count = var.create ? 1 : 0

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

  # Mounting needs NFS from the cluster (the cluster module's security group output also waits for its EFS CSI driver).
  depends_on = [aws_vpc_security_group_ingress_rule.efs_from_cluster]
}

resource "kubernetes_persistent_volume_claim_v1" "recordings" {
  count = var.create ? 1 : 0

  metadata {
    name      = "scalelite-recordings"
    namespace = kubernetes_namespace_v1.this[0].metadata[0].name
  }

  spec {
    access_modes       = ["ReadWriteMany"]
    storage_class_name = ""
    volume_name        = kubernetes_persistent_volume_v1.recordings[0].metadata[0].name
    resources {
      requests = { storage = "1Ti" }
    }
  }
}

# Greenlight's own database on the shared PostgreSQL instance, created before its release (idempotent): a Job
# in the cluster, the only place that reaches the private database. The URL's database is created through the
# maintenance database "postgres" with the same credentials.
resource "kubernetes_job_v1" "greenlight_database" {
  count = local.greenlight

  metadata {
    name      = "greenlight-create-database"
    namespace = kubernetes_namespace_v1.this[0].metadata[0].name
  }

  spec {
    backoff_limit              = 6
    ttl_seconds_after_finished = 3600

    template {
      metadata {
        labels = { "app.kubernetes.io/name" = "greenlight-create-database" }
      }

      spec {
        restart_policy = "OnFailure"

        container {
          name  = "create-database"
          image = var.database_init_image
          command = ["/bin/sh", "-c", <<-EOT
            set -eu
            db="$${DATABASE_URL##*/}"; db="$${db%%\?*}"
            admin="$${DATABASE_URL%/*}/postgres?sslmode=require"
            if psql "$admin" -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1; then
              echo "database $db exists"
            else
              psql "$admin" -c "CREATE DATABASE \"$db\""
            fi
          EOT
          ]

          env_from {
            secret_ref {
              name = kubernetes_secret_v1.greenlight[0].metadata[0].name
            }
          }
        }
      }
    }
  }

  wait_for_completion = true

  timeouts {
    create = "10m"
  }
}

# --- Helm releases ---------------------------------------------------------------------------

resource "helm_release" "scalelite" {
  count = var.create ? 1 : 0

  name       = "scalelite"
  namespace  = kubernetes_namespace_v1.this[0].metadata[0].name
  repository = var.scalelite_chart.repository
  chart      = var.scalelite_chart.chart
  version    = var.scalelite_chart.version
  atomic     = true
  timeout    = 900

  # The module's contract with the chart: environment from the secret, recordings from the claim.
  # Chart-specific keys go in var.scalelite_values, applied last.
  values = [
    yamlencode({
      existingSecret = kubernetes_secret_v1.scalelite[0].metadata[0].name
      envFrom = [
        { secretRef = { name = kubernetes_secret_v1.scalelite[0].metadata[0].name } },
        { secretRef = { name = kubernetes_secret_v1.shared_secret[0].metadata[0].name } },
      ]
      recordings = {
        existingClaim = kubernetes_persistent_volume_claim_v1.recordings[0].metadata[0].name
      }
      service = { type = "ClusterIP" }
    }),
    yamlencode(var.scalelite_values),
  ]
}

resource "helm_release" "greenlight" {
  count = local.greenlight

  name       = "greenlight"
  namespace  = kubernetes_namespace_v1.this[0].metadata[0].name
  repository = var.greenlight_chart.repository
  chart      = var.greenlight_chart.chart
  version    = var.greenlight_chart.version
  atomic     = true
  timeout    = 900

  values = [
    yamlencode({
      existingSecret = kubernetes_secret_v1.greenlight[0].metadata[0].name
      envFrom = concat([
        { secretRef = { name = kubernetes_secret_v1.greenlight[0].metadata[0].name } },
        { secretRef = { name = kubernetes_secret_v1.shared_secret[0].metadata[0].name } },
        ],
        [for s in kubernetes_secret_v1.greenlight_secrets : { secretRef = { name = s.metadata[0].name } }],
      )
      service = { type = "ClusterIP" }
    }),
    yamlencode(var.greenlight_values),
  ]

  depends_on = [helm_release.scalelite, kubernetes_job_v1.greenlight_database]
}

# --- Exposure: internal NLB for the fleet, public NLBs for users -----------------------------

resource "aws_security_group" "internal_lb" {
  count = var.create ? 1 : 0

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
  count = var.create ? 1 : 0

  security_group_id            = aws_security_group.internal_lb[0].id
  referenced_security_group_id = var.fleet_security_group_id
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
  description                  = "Scalelite API from the BBB fleet's hook"
  tags                         = local.tags
}

resource "aws_vpc_security_group_egress_rule" "internal_lb" {
  count = var.create ? 1 : 0

  security_group_id            = aws_security_group.internal_lb[0].id
  referenced_security_group_id = var.cluster_security_group_id
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
  count = var.create ? 1 : 0

  security_group_id            = var.cluster_security_group_id
  referenced_security_group_id = aws_security_group.internal_lb[0].id
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
  count = var.create ? 1 : 0

  metadata {
    name      = "scalelite-internal"
    namespace = kubernetes_namespace_v1.this[0].metadata[0].name
    annotations = merge(local.nlb_common, {
      "service.beta.kubernetes.io/aws-load-balancer-scheme"          = "internal"
      "service.beta.kubernetes.io/aws-load-balancer-security-groups" = aws_security_group.internal_lb[0].id
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
  count = var.create ? 1 : 0

  metadata {
    name      = "scalelite-public"
    namespace = kubernetes_namespace_v1.this[0].metadata[0].name
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
    namespace = kubernetes_namespace_v1.this[0].metadata[0].name
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
  count = var.create ? 1 : 0

  zone_id = var.zone_id
  name    = var.scalelite_internal_hostname
  type    = "A"

  alias {
    name                   = kubernetes_service_v1.scalelite_internal[0].status[0].load_balancer[0].ingress[0].hostname
    zone_id                = data.aws_lb_hosted_zone_id.nlb.id
    evaluate_target_health = true
  }
}

data "aws_lb_hosted_zone_id" "nlb" {
  load_balancer_type = "network"
}

