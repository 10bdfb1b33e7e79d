# terraform plan -var-file=env/prod.tfvars
environment        = "prod"
region             = "eu-central-1"
availability_zones = ["eu-central-1a", "eu-central-1b", "eu-central-1c"]
vpc_cidr           = "10.32.0.0/16"
nat_gateway        = "per_az"
domain             = "bbb.example.org"

ami_id        = "ami-0123456789abcdef0"
instance_type = "c6i.4xlarge"
fleet_capacity = {
  min     = 2
  max     = 40
  desired = 2
}
participants_per_server = 140
cpu_target_percent      = 60

scalelite_secret_parameter_name = "/bbb/prod/scalelite-secret"
cluster_admin_principal_arns    = ["arn:aws:iam::123456789012:role/bbb-platform-deploy"]

charts = {
  scalelite  = { repository = "oci://registry.example.org/helm", chart = "scalelite", version = "1.0.0" }
  greenlight = { repository = "oci://registry.example.org/helm", chart = "greenlight", version = "3.0.0" }
}

database = {
  instance_class      = "db.r7g.large"
  multi_az            = true
  deletion_protection = true
}
redis_replicas        = 2
backup_retention_days = 90

schedules = {
  lectures = {
    recurrence              = "0 8 * * MON-FRI"
    time_zone               = "Europe/Berlin"
    duration                = "10h"
    expected_participants   = 2000
    participants_per_server = 150
    lead_time               = "30m"
  }
}

tags = { cost-center = "bbb-prod" }
