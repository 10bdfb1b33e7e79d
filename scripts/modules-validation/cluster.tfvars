name                         = "bbb-dev"
private_subnet_ids           = ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]
cluster_admin_principal_arns = ["arn:aws:iam::123456789012:role/bbb-platform-deploy"]
