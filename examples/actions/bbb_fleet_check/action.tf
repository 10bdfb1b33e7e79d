# Reports the fleet's instances whose DNS record, Scalelite registration or scale-in
# protection disagree, and what gone instances left behind; changes nothing:
#   terraform apply -invoke=action.bbb_fleet_check.main
action "bbb_fleet_check" "main" {
  config {
    autoscaling_group_name = bbb_fleet.main.autoscaling_group_name
    hosted_zone_id         = bbb_fleet.main.hosted_zone_id
    domain                 = bbb_fleet.main.domain
    record_name_template   = bbb_fleet.main.record_name_template
    scalelite_tag          = bbb_fleet.main.scalelite_tag
    protect_live_meetings  = bbb_fleet.main.protect_live_meetings
  }
}
