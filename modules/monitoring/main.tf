data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  partition = data.aws_partition.current.partition
  region    = data.aws_region.current.region
  tags      = merge(var.tags, { "bbb:monitoring" = var.name })

  ec2_sd = {
    region = local.region
    filters = [
      { name = "tag:bbb:fleet", values = var.fleet_names },
      { name = "instance-state-name", values = ["running"] },
    ]
  }

  # Labels every BBB target carries: the instance, its fleet, zone and type.
  ec2_relabel = [
    { source_labels = ["__meta_ec2_instance_id"], target_label = "instance" },
    { source_labels = ["__meta_ec2_tag_bbb_fleet"], target_label = "fleet" },
    { source_labels = ["__meta_ec2_availability_zone"], target_label = "availability_zone" },
    { source_labels = ["__meta_ec2_instance_type"], target_label = "instance_type" },
  ]

  scrape_configs = [
    {
      job_name        = "bbb-node"
      scrape_interval = var.scrape_interval
      ec2_sd_configs  = [merge(local.ec2_sd, { port = var.exporter_ports.node })]
      relabel_configs = local.ec2_relabel
    },
    {
      job_name        = "bbb-exporter"
      scrape_interval = var.scrape_interval
      ec2_sd_configs  = [merge(local.ec2_sd, { port = var.exporter_ports.bbb })]
      relabel_configs = local.ec2_relabel
    },
  ]

  loki_port = 3100

  # The charts' keys for a volume's StorageClass (Grafana's differs); nothing set = the cluster's default.
  storage_class = {
    prometheus = var.storage_class_name != null ? { storageClass = var.storage_class_name } : {}
    grafana    = var.storage_class_name != null ? { storageClassName = var.storage_class_name } : {}
  }
}

resource "kubernetes_namespace_v1" "this" {
  count = var.create ? 1 : 0

  metadata {
    name   = var.namespace
    labels = { "app.kubernetes.io/part-of" = "bbb-platform" }
  }
}

# --- Scrapes into the fleet ------------------------------------------------------------------

resource "aws_vpc_security_group_ingress_rule" "scrape" {
  for_each = var.create ? {
    node = var.exporter_ports.node
    bbb  = var.exporter_ports.bbb
  } : {}

  security_group_id            = var.fleet_security_group_id
  referenced_security_group_id = var.cluster_security_group_id
  ip_protocol                  = "tcp"
  from_port                    = each.value
  to_port                      = each.value
  description                  = "Prometheus scrapes the ${each.key} exporter"
  tags                         = local.tags
}

# --- Prometheus with EC2 service discovery ---------------------------------------------------

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

data "aws_iam_policy_document" "ec2_discovery" {
  count = var.create ? 1 : 0

  statement {
    # EC2 Describe* calls support no resource-level permissions.
    actions   = ["ec2:DescribeInstances", "ec2:DescribeAvailabilityZones"]
    resources = ["*"]
  }
}

resource "aws_iam_role" "prometheus" {
  count = var.create ? 1 : 0

  name_prefix        = "${var.name}-prometheus-"
  assume_role_policy = data.aws_iam_policy_document.pod_identity_assume[0].json
  tags               = local.tags
}

resource "aws_iam_role_policy" "prometheus" {
  count = var.create ? 1 : 0

  name   = "ec2-service-discovery"
  role   = aws_iam_role.prometheus[0].id
  policy = data.aws_iam_policy_document.ec2_discovery[0].json
}

resource "aws_eks_pod_identity_association" "prometheus" {
  count = var.create ? 1 : 0

  cluster_name    = var.cluster_name
  namespace       = kubernetes_namespace_v1.this[0].metadata[0].name
  service_account = "prometheus-server"
  role_arn        = aws_iam_role.prometheus[0].arn
  tags            = local.tags
}

resource "helm_release" "prometheus" {
  count = var.create ? 1 : 0

  name       = "prometheus"
  namespace  = kubernetes_namespace_v1.this[0].metadata[0].name
  repository = var.charts.prometheus.repository
  chart      = var.charts.prometheus.chart
  version    = var.charts.prometheus.version
  atomic     = true

  values = [
    yamlencode({
      serviceAccounts = { server = { create = true, name = "prometheus-server" } }
      alertmanager    = { persistence = local.storage_class.prometheus }
      server = {
        retention        = var.prometheus_retention
        persistentVolume = merge({ enabled = true, size = var.storage_size.prometheus }, local.storage_class.prometheus)
        global           = { scrape_interval = var.scrape_interval }
      }
      extraScrapeConfigs = yamlencode(local.scrape_configs)
    }),
    yamlencode(var.extra_values.prometheus),
  ]

  depends_on = [aws_eks_pod_identity_association.prometheus]
}

# --- Loki behind an internal load balancer reachable from the fleet only ---------------------

resource "aws_security_group" "loki_lb" {
  count = var.create ? 1 : 0

  #checkov:skip=CKV2_AWS_5:Attached to Loki's internal NLB by EKS through the aws-load-balancer-security-groups annotation of kubernetes_service_v1.loki_internal, which checkov cannot follow.
  name        = "${var.name}-loki"
  description = "Loki internal load balancer: log pushes from the BBB fleet only"
  vpc_id      = var.vpc_id
  tags        = merge(local.tags, { Name = "${var.name}-loki" })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "loki_lb" {
  count = var.create ? 1 : 0

  security_group_id            = aws_security_group.loki_lb[0].id
  referenced_security_group_id = var.fleet_security_group_id
  ip_protocol                  = "tcp"
  from_port                    = local.loki_port
  to_port                      = local.loki_port
  description                  = "Promtail on the BBB servers"
  tags                         = local.tags
}

resource "aws_vpc_security_group_egress_rule" "loki_lb" {
  count = var.create ? 1 : 0

  security_group_id            = aws_security_group.loki_lb[0].id
  referenced_security_group_id = var.cluster_security_group_id
  ip_protocol                  = "tcp"
  from_port                    = local.loki_port
  to_port                      = local.loki_port
  description                  = "To the Loki pods"
  tags                         = local.tags
}

# The backend half: the cluster security group admits only itself, and with a frontend security group given
# by annotation no backend rule is added for the NLB's IP targets. Without it Alloy cannot push to Loki.
resource "aws_vpc_security_group_ingress_rule" "cluster_from_loki_lb" {
  count = var.create ? 1 : 0

  security_group_id            = var.cluster_security_group_id
  referenced_security_group_id = aws_security_group.loki_lb[0].id
  ip_protocol                  = "tcp"
  from_port                    = local.loki_port
  to_port                      = local.loki_port
  description                  = "Loki's internal load balancer to the Loki pods"
  tags                         = local.tags
}

resource "helm_release" "loki" {
  count = var.create ? 1 : 0

  name       = "loki"
  namespace  = kubernetes_namespace_v1.this[0].metadata[0].name
  repository = var.charts.loki.repository
  chart      = var.charts.loki.chart
  version    = var.charts.loki.version
  atomic     = true
  timeout    = 900

  values = [
    yamlencode({
      deploymentMode = "SingleBinary"
      loki = {
        auth_enabled = false
        commonConfig = { replication_factor = 1 }
        storage      = { type = "filesystem" }
        schemaConfig = {
          configs = [{
            from         = "2025-01-01"
            store        = "tsdb"
            object_store = "filesystem"
            schema       = "v13"
            index        = { prefix = "loki_index_", period = "24h" }
          }]
        }
        limits_config = { retention_period = var.loki_retention }
        compactor     = { retention_enabled = true, delete_request_store = "filesystem" }
      }
      singleBinary = {
        replicas    = 1
        persistence = merge({ enabled = true, size = var.storage_size.loki }, local.storage_class.prometheus)
      }
      read         = { replicas = 0 }
      write        = { replicas = 0 }
      backend      = { replicas = 0 }
      chunksCache  = { enabled = false }
      resultsCache = { enabled = false }
      gateway      = { enabled = false }
    }),
    yamlencode(var.extra_values.loki),
  ]
}

resource "kubernetes_service_v1" "loki_internal" {
  count = var.create ? 1 : 0

  metadata {
    name      = "loki-internal"
    namespace = kubernetes_namespace_v1.this[0].metadata[0].name
    annotations = {
      "service.beta.kubernetes.io/aws-load-balancer-scheme"          = "internal"
      "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type" = "ip"
      "service.beta.kubernetes.io/aws-load-balancer-security-groups" = aws_security_group.loki_lb[0].id
    }
  }

  spec {
    type                = "LoadBalancer"
    load_balancer_class = "eks.amazonaws.com/nlb"
    selector = {
      "app.kubernetes.io/name"      = "loki"
      "app.kubernetes.io/component" = "single-binary"
    }

    port {
      name        = "http"
      port        = local.loki_port
      target_port = local.loki_port
    }
  }

  wait_for_load_balancer = true
  depends_on             = [helm_release.loki]
}

# --- Grafana with the platform's dashboards --------------------------------------------------

resource "random_password" "grafana_admin" {
  count = var.create ? 1 : 0

  length  = 32
  special = false
}

resource "kubernetes_secret_v1" "grafana_admin" {
  count = var.create ? 1 : 0

  metadata {
    name      = "grafana-admin"
    namespace = kubernetes_namespace_v1.this[0].metadata[0].name
  }

  data = {
    admin-user     = "admin"
    admin-password = random_password.grafana_admin[0].result
  }
}

resource "kubernetes_config_map_v1" "dashboards" {
  for_each = var.create ? fileset("${path.module}/dashboards", "*.json") : toset([])

  metadata {
    name      = "dashboard-${trimsuffix(each.value, ".json")}"
    namespace = kubernetes_namespace_v1.this[0].metadata[0].name
    labels    = { grafana_dashboard = "1" }
  }

  data = {
    (each.value) = file("${path.module}/dashboards/${each.value}")
  }
}

resource "helm_release" "grafana" {
  count = var.create ? 1 : 0

  name       = "grafana"
  namespace  = kubernetes_namespace_v1.this[0].metadata[0].name
  repository = var.charts.grafana.repository
  chart      = var.charts.grafana.chart
  version    = var.charts.grafana.version
  atomic     = true

  values = [
    yamlencode({
      admin = {
        existingSecret = kubernetes_secret_v1.grafana_admin[0].metadata[0].name
        userKey        = "admin-user"
        passwordKey    = "admin-password"
      }
      persistence = merge({ enabled = true, size = "10Gi" }, local.storage_class.grafana)
      sidecar = {
        dashboards = { enabled = true, label = "grafana_dashboard", labelValue = "1", searchNamespace = kubernetes_namespace_v1.this[0].metadata[0].name }
      }
      datasources = {
        "datasources.yaml" = {
          apiVersion = 1
          datasources = [
            { name = "Prometheus", uid = "prometheus", type = "prometheus", access = "proxy", url = "http://prometheus-server.${var.namespace}.svc", isDefault = true },
            { name = "Loki", uid = "loki", type = "loki", access = "proxy", url = "http://loki.${var.namespace}.svc:${local.loki_port}" },
          ]
        }
      }
    }),
    yamlencode(var.extra_values.grafana),
  ]

  depends_on = [helm_release.prometheus, helm_release.loki, kubernetes_config_map_v1.dashboards]
}
