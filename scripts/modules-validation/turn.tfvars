name                       = "bbb-dev"
vpc_id                     = "vpc-0123456789abcdef0"
subnet_id                  = "subnet-0123456789abcdef0"
hostname                   = "turn.bbb.example.org"
zone_id                    = "Z0123456789ABCDEFGHIJ"
certificate_parameter_name = "/aws/reference/secretsmanager/bbb-dev-wildcard"
alarm_actions              = ["arn:aws:sns:eu-central-1:123456789012:ops"]
