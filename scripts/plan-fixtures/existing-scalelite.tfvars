# Plan check only (scripts/plan_check.py): the secrets the example takes from TF_VAR_*; placeholders.
scalelite_secret = "plancheck-scalelite-secret-0123456789abcdef"
server_secrets = {
  bbb1 = "plancheck-bbb1-secret-0123456789abcdef"
  bbb2 = "plancheck-bbb2-secret-0123456789abcdef"
}
