# Take one server out of service before maintenance, without editing its bbb_scalelite_server:
#   terraform apply -invoke=action.bbb_scalelite_server_drain.bbb1
# It is cordoned at once; Terraform prints what is left on it while it waits
# ("3 meetings, 41 participants left on ..."). No meeting is ended.
action "bbb_scalelite_server_drain" "bbb1" {
  config {
    server            = "https://bbb1.example.com" # or its Scalelite ID
    timeout           = "2h"
    remove_when_empty = false # true: remove it from Scalelite once empty
  }
}
