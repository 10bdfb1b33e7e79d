# Reports the fleet's instances whose DNS record, Scalelite registration or scale-in
# protection disagree, and what gone instances left behind; changes nothing:
#   terraform apply -invoke=action.bbb_fleet_check.main
# The values are the fleet's (its bbb_fleet resource's arguments, or the fleet module's outputs).
action "bbb_fleet_check" "main" {
  config {
    autoscaling_group_name = "bbb-fleet"
    hosted_zone_id         = "Z0123456789ABCDEFGHIJ"
    domain                 = "bbb.example.org"
    record_name_template   = "bbb-{instance_id}"
    scalelite_tag          = "fleet"
    protect_live_meetings  = true
  }
}
