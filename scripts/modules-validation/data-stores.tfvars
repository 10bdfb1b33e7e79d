name                      = "bbb-dev"
vpc_id                    = "vpc-0123456789abcdef0"
private_subnet_ids        = ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]
client_security_group_ids = { cluster = "sg-0123456789abcdef0" }
kms_key_arn               = "arn:aws:kms:eu-central-1:123456789012:key/0a1b2c3d-1111-2222-3333-444455556666"
