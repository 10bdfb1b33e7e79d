terraform {
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.0"
    }
    helm = {
      source  = "hashicorp/helm"
      version = "~> 3.0"
    }
    kubernetes = {
      source  = "hashicorp/kubernetes"
      version = "~> 2.38"
    }
    random = {
      source  = "hashicorp/random"
      version = "~> 3.7"
    }
    bbb = {
      source  = "bbb-platform/bbb"
      version = "~> 0.1"
    }
  }

  # Keep state remote and encrypted: it holds the database and Redis passwords of the Scalelite stack.
  # backend "s3" {}   # terraform init -backend-config=env/<environment>.s3.tfbackend
}
