terraform {
  required_version = ">= 1.11"

  required_providers {
    bbb = {
      source  = "bbb-platform/bbb"
      version = "~> 0.1"
    }
  }
}
