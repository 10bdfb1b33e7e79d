name                      = "bbb-dev"
vpc_id                    = "vpc-0123456789abcdef0"
cluster_name              = "bbb-dev"
cluster_security_group_id = "sg-0123456789abcdef0"
fleet_security_group_id   = "sg-0123456789abcdef1"
fleet_names               = ["bbb-dev"]
