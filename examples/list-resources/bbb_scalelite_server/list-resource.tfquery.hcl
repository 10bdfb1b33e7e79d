# servers.tfquery.hcl: run `terraform query` to list, or
# `terraform query -generate-config-out=servers.tf` to write import blocks and configuration.

# Every enabled server of the `exam` tag on bbbN.example.org.
list "bbb_scalelite_server" "exam" {
  provider         = bbb
  include_resource = true
  limit            = 500

  config {
    tag         = "exam"
    state       = "enabled"
    url_pattern = "^https://bbb[0-9]+\\.example\\.org/"
  }
}
