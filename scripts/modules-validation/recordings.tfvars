name                      = "bbb-dev"
vpc_id                    = "vpc-0123456789abcdef0"
subnets                   = { "eu-central-1a" = "subnet-0123456789abcdef0" }
client_security_group_ids = { bbb = "sg-0123456789abcdef0" }
