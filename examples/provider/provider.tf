terraform {
  required_version = ">= 1.11"

  required_providers {
    bbb = {
      source  = "bbb-platform/bbb"
      version = "~> 0.1"
    }
  }
}

variable "scalelite_secret" {
  type        = string
  description = "Scalelite's LOADBALANCER_SECRET (set TF_VAR_scalelite_secret; never commit it)."
  sensitive   = true
  ephemeral   = true
}

provider "bbb" {
  # Scalelite's base URL: the provider calls its server API under /scalelite/api/.
  scalelite_url    = "https://scalelite.bbb.example.org"
  scalelite_secret = var.scalelite_secret

  # AWS region of the fleets; credentials come from the usual AWS chain (environment, profile, instance role).
  region = "eu-central-1"

  # Optional endpoint overrides, e.g. VPC interface endpoints or a local emulator in tests.
  endpoints {
    autoscaling = "https://autoscaling.eu-central-1.amazonaws.com"
    route53     = "https://route53.amazonaws.com"
    ec2         = "https://ec2.eu-central-1.amazonaws.com"
    ssm         = "https://ssm.eu-central-1.amazonaws.com"
  }
}
