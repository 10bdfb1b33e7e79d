# Scalelite's secret from SSM Parameter Store, and a BBB server's secret from a JSON secret in
# Secrets Manager: read in every run, never stored in the plan or state file.
#
# An ephemeral resource is read through a configured provider, and a provider block cannot use
# its own resources: read the secrets through a second `bbb` provider configuration (an alias
# holding only the AWS settings), then configure the default one with them.
provider "bbb" {
  alias  = "secrets"
  region = "eu-central-1"
}

ephemeral "bbb_scalelite_secret" "loadbalancer" {
  provider           = bbb.secrets
  ssm_parameter_name = "/bbb/scalelite/loadbalancer-secret"
}

ephemeral "bbb_scalelite_secret" "lecture_hall" {
  provider                  = bbb.secrets
  secrets_manager_secret_id = "bbb/lecture-hall"
  json_key                  = "secret"
}

provider "bbb" {
  scalelite_url    = "https://scalelite.example.org"
  scalelite_secret = ephemeral.bbb_scalelite_secret.loadbalancer.value
}

resource "bbb_scalelite_server" "lecture_hall" {
  url               = "https://bbb-lecture.example.org/bigbluebutton/api"
  secret_wo         = ephemeral.bbb_scalelite_secret.lecture_hall.value
  secret_wo_version = 1 # bump it after rotating the secret
}
