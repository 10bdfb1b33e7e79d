name               = "bbb-dev"
availability_zones = ["eu-central-1a", "eu-central-1b"]
ssh_ingress_cidrs  = ["10.1.0.0/16"]
