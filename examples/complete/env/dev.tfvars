# terraform plan -var-file=env/dev.tfvars
environment        = "dev"
region             = "eu-central-1"
availability_zones = ["eu-central-1a", "eu-central-1b"]
vpc_cidr           = "10.30.0.0/16"
nat_gateway        = "single"
domain             = "dev.bbb.example.org"

ami_id        = "ami-0123456789abcdef0"
instance_type = "c6i.xlarge"
fleet_capacity = {
  min     = 1
  max     = 3
  desired = 1
}

scalelite_secret_parameter_name = "/bbb/dev/scalelite-secret"

charts = {
  scalelite  = { repository = "oci://registry.example.org/helm", chart = "scalelite", version = "1.0.0" }
  greenlight = { repository = "oci://registry.example.org/helm", chart = "greenlight", version = "3.0.0" }
}

database = {
  instance_class      = "db.t4g.micro"
  multi_az            = false
  deletion_protection = false
}
redis_replicas        = 0
backup_retention_days = 7

tags = { cost-center = "bbb-dev" }
