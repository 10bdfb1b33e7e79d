provider "aws" {
  region = var.region

  default_tags {
    tags = local.tags
  }
}

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

# The Scalelite secret lives in SSM (created out of band, see README); read without entering state or plan.
ephemeral "aws_ssm_parameter" "scalelite_secret" {
  arn             = "arn:${data.aws_partition.current.partition}:ssm:${var.region}:${data.aws_caller_identity.current.account_id}:parameter${var.scalelite_secret_parameter_name}"
  with_decryption = true
}

provider "bbb" {
  scalelite_url    = module.dns.scalelite_url
  scalelite_secret = ephemeral.aws_ssm_parameter.scalelite_secret.value
  region           = var.region
}

provider "kubernetes" {
  host                   = module.cluster.cluster_endpoint
  cluster_ca_certificate = base64decode(module.cluster.cluster_certificate_authority_data)

  exec {
    api_version = "client.authentication.k8s.io/v1beta1"
    command     = "aws"
    args        = ["eks", "get-token", "--region", var.region, "--cluster-name", module.cluster.cluster_name]
  }
}

provider "helm" {
  kubernetes = {
    host                   = module.cluster.cluster_endpoint
    cluster_ca_certificate = base64decode(module.cluster.cluster_certificate_authority_data)
    exec = {
      api_version = "client.authentication.k8s.io/v1beta1"
      command     = "aws"
      args        = ["eks", "get-token", "--region", var.region, "--cluster-name", module.cluster.cluster_name]
    }
  }
}
