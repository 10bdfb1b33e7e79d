# terraform plan -var-file=env/staging.tfvars
environment        = "staging"
region             = "eu-central-1"
availability_zones = ["eu-central-1a", "eu-central-1b", "eu-central-1c"]
vpc_cidr           = "10.31.0.0/16"
nat_gateway        = "single"
domain             = "staging.bbb.example.org"

ami_id        = "ami-0123456789abcdef0"
instance_type = "c6i.2xlarge"
fleet_capacity = {
  min     = 1
  max     = 6
  desired = 2
}

scalelite_secret_parameter_name = "/bbb/staging/scalelite-secret"

charts = {
  scalelite  = { repository = "oci://registry.example.org/helm", chart = "scalelite", version = "1.0.0" }
  greenlight = { repository = "oci://registry.example.org/helm", chart = "greenlight", version = "3.0.0" }
}

database = {
  instance_class = "db.t4g.small"
  multi_az       = false
}
redis_replicas        = 1
backup_retention_days = 14

tags = { cost-center = "bbb-staging" }
