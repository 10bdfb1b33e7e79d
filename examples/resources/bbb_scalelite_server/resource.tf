# A BigBlueButton server you run outside any fleet, registered with Scalelite.
resource "bbb_scalelite_server" "lecture_hall" {
  url    = "https://bbb-lecture.example.org/bigbluebutton/api"
  secret = var.lecture_hall_secret

  state           = "enabled" # "enabled", "cordoned" (no new meetings) or "disabled"
  load_multiplier = 2.0
  tag             = "lecture"

  # On destroy: cordon the server and wait for its meetings to end before removing it.
  drain_on_destroy = true
  drain_timeout    = "2h"
}

# The same with a write-only secret (Terraform 1.11+): never stored in state or plan.
# Bump secret_wo_version to push a rotated secret.
resource "bbb_scalelite_server" "seminar" {
  url               = "https://bbb-seminar.example.org/bigbluebutton/api"
  secret_wo         = var.seminar_secret
  secret_wo_version = 1
  state             = "cordoned"
}

variable "lecture_hall_secret" {
  type        = string
  description = "Shared secret of the lecture-hall BBB server (bbb-conf --secret)."
  sensitive   = true
}

variable "seminar_secret" {
  type        = string
  description = "Shared secret of the seminar BBB server, passed write-only."
  sensitive   = true
  ephemeral   = true
}
