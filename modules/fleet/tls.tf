# The servers' TLS certificate (var.tls). "shared": a wildcard certificate for *.<domain> in a Secrets Manager
# secret, read by bbb-hook through SSM's /aws/reference/secretsmanager/<name> path, installed at launch and
# re-read every 10 minutes. "letsencrypt": per-server HTTP-01 behind a fleet-wide weekly budget recorded under
# an SSM path. The instance role's permissions for both are listed in locals below (tls_iam) for the policy.

locals {
  tls_shared         = var.tls.mode == "shared"
  tls_create_secret  = local.tls_shared && var.tls.certificate_secret_name == null
  tls_secret_name    = local.tls_shared ? coalesce(var.tls.certificate_secret_name, "bbb/fleets/${var.name}/tls-certificate") : null
  tls_parameter_name = local.tls_shared ? "/aws/reference/secretsmanager/${local.tls_secret_name}" : null
  # Secrets Manager appends six random characters to a secret's ARN.
  tls_secret_arn = local.tls_create_secret ? one(aws_secretsmanager_secret.tls[*].arn) : (
    local.tls_shared ? "arn:${local.partition}:secretsmanager:${local.region}:${local.account_id}:secret:${local.tls_secret_name}-??????" : null
  )
  letsencrypt_issuance_path = "/bbb/fleets/${var.name}/letsencrypt-issuances"

  tls_env = join("\n", compact([
    "BBB_TLS_MODE=${var.tls.mode}",
    local.tls_shared ? "BBB_TLS_CERTIFICATE_PARAMETER=${local.tls_parameter_name}" : "",
    local.tls_shared ? "" : "BBB_LETSENCRYPT_WEEKLY_BUDGET=${var.tls.letsencrypt_weekly_budget}",
    local.tls_shared ? "" : "BBB_LETSENCRYPT_ISSUANCE_PATH=${local.letsencrypt_issuance_path}",
  ]))

  # What the instance role needs for var.tls (for the instance policy template).
  tls_iam = local.tls_shared ? {
    # GetParameter on the reference path, and GetSecretValue on the secret it reads.
    ssm_get_parameter_arns = ["arn:${local.partition}:ssm:${local.region}:${local.account_id}:parameter${local.tls_parameter_name}"]
    secret_arns            = compact([local.tls_secret_arn]) # null with create = false
    kms_key_arns           = compact([var.tls.certificate_kms_key_arn])
    issuance_path_arn      = null
    issuance_records_arn   = null
    } : {
    ssm_get_parameter_arns = []
    secret_arns            = []
    kms_key_arns           = []
    # GetParametersByPath on the path; PutParameter and DeleteParameters on the records under it.
    issuance_path_arn    = "arn:${local.partition}:ssm:${local.region}:${local.account_id}:parameter${local.letsencrypt_issuance_path}"
    issuance_records_arn = "arn:${local.partition}:ssm:${local.region}:${local.account_id}:parameter${local.letsencrypt_issuance_path}/*"
  }
}

resource "aws_secretsmanager_secret" "tls" {
  #checkov:skip=CKV2_AWS_57:the wildcard certificate is renewed by the operator's scheduled certbot DNS-01 job (README), not by a Secrets Manager rotation Lambda.
  #checkov:skip=CKV_AWS_149:a customer managed key is optional (tls.certificate_kms_key_arn); the default is the aws/secretsmanager key.
  count = var.create && local.tls_create_secret ? 1 : 0

  name        = local.tls_secret_name
  description = "Wildcard TLS certificate of BBB fleet ${var.name} (*.${var.domain}): JSON {\"fullchain\": PEM, \"private_key\": PEM}, installed by bbb-hook on every server"
  kms_key_id  = var.tls.certificate_kms_key_arn
  tags        = local.tags
}
