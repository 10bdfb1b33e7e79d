# Not part of the generated docs (they show action.tf): lets this directory be planned on its own.
terraform {
  required_version = ">= 1.11"

  required_providers {
    bbb = {
      source  = "bbb-platform/bbb"
      version = "~> 0.1"
    }
  }
}
