# A signed BBB `join` URL. The secret comes from a sensitive variable, so the checksum (and the
# URL) are sensitive too: Terraform never shows them in plan output.
variable "bbb_secret" {
  description = "BBB shared secret of the server the URL is for (sensitive)."
  type        = string
  sensitive   = true
  default     = "0123456789abcdef0123456789abcdef"
}

locals {
  join_query = "meetingID=exam-42&fullName=Alice&role=VIEWER"
}

output "join_url" {
  description = "A signed join URL (sensitive, as its secret)."
  value       = "https://bbb.example.org/bigbluebutton/api/join?${local.join_query}&checksum=${provider::bbb::api_checksum("join", local.join_query, var.bbb_secret, "sha256")}"
  sensitive   = true
}
