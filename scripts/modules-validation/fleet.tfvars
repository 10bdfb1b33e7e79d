name                            = "bbb-dev"
ami_id                          = "ami-0123456789abcdef0"
subnet_ids                      = ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]
security_group_ids              = ["sg-0123456789abcdef0"]
hosted_zone_id                  = "Z0123456789ABCDEFGHIJ"
domain                          = "bbb.example.org"
scalelite_secret_parameter_name = "/bbb/dev/scalelite-secret"
scalelite_url                   = "https://scalelite-internal.bbb.example.org/bigbluebutton/api"
recordings                      = { file_system_id = "fs-0123456789abcdef0", access_point_id = "fsap-0123456789abcdef0" }
turn = {
  uris                  = ["turns:turn.bbb.example.org:443?transport=tcp", "turn:turn.bbb.example.org:3478?transport=udp", "turn:turn.bbb.example.org:3478?transport=tcp"]
  stun_uris             = ["stun:turn.bbb.example.org:3478"]
  secret_parameter_name = "/bbb/turn/bbb-dev/static-auth-secret"
}
