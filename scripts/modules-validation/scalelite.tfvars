name                            = "bbb-dev"
vpc_id                          = "vpc-0123456789abcdef0"
cluster_security_group_id       = "sg-0123456789abcdef0"
database_urls                   = { scalelite = "postgres://scalelite:x@db.internal:5432/scalelite?sslmode=require", greenlight = "postgres://scalelite:x@db.internal:5432/greenlight?sslmode=require" }
redis_urls                      = { scalelite = "rediss://:x@redis.internal:6379/0", greenlight = "rediss://:x@redis.internal:6379/1" }
scalelite_chart                 = { repository = "oci://r.example.org/helm", chart = "scalelite", version = "1.0.0" }
greenlight_chart                = { repository = "oci://r.example.org/helm", chart = "greenlight", version = "3.0.0" }
greenlight_hostname             = "greenlight.bbb.example.org"
greenlight_auth                 = { mode = "oidc", oidc = { issuer = "https://login.example.org/realms/bbb", client_id = "greenlight", client_secret_parameter_name = "/bbb/dev/greenlight-oidc-secret" } }
scalelite_hostname              = "scalelite.bbb.example.org"
zone_id                         = "Z0123456789ABCDEFGHIJ"
scalelite_internal_hostname     = "scalelite-internal.bbb.example.org"
certificate_arn                 = "arn:aws:acm:eu-central-1:123456789012:certificate/abc"
scalelite_secret_parameter_name = "/bbb/dev/scalelite-secret"
fleet_security_group_id         = "sg-0123456789abcdef0"
recordings                      = { file_system_id = "fs-0123456789abcdef0", access_point_id = "fsap-0123456789abcdef0" }
recordings_security_group_id    = "sg-0123456789abcdef0"
