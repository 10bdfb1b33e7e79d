# A one-off event: 20 servers from 08:30 to 17:00 UTC on exam day, then back to normal.
# Scheduled actions bbb-exam-day-up (at 08:00, start_time - lead_time) and bbb-exam-day-down (17:00).
resource "bbb_schedule" "exam_day" {
  autoscaling_group_name = "prod-main" # the fleet's group, e.g. bbb_fleet.main.autoscaling_group_name
  name                   = "exam-day"
  start_time             = "2027-02-10T08:30:00Z"
  end_time               = "2027-02-10T17:00:00Z"
  capacity               = 20
  lead_time              = "30m" # launch this much earlier so servers are warm at start_time
  raise_max_size         = true  # the group's max size is 10: raise it to 20 during the event

  return_to {
    min_size         = 1
    max_size         = 10
    desired_capacity = 1
  }
}

# Recurring lectures sized by audience: 1200 expected participants at 150 per server gives 8 servers,
# every weekday from 08:00 Berlin time for 10 hours. At the end the min and max size return to
# return_to; the desired capacity is left to the group's scaling policies.
resource "bbb_schedule" "lectures" {
  autoscaling_group_name  = "prod-main"
  name                    = "lectures"
  recurrence              = "0 8 * * MON-FRI"
  time_zone               = "Europe/Berlin"
  duration                = "10h"
  expected_participants   = 1200
  participants_per_server = 150
  lead_time               = "20m" # scale-up recurrence: "40 7 * * MON-FRI"

  return_to {
    min_size = 1
    max_size = 10
  }
}
