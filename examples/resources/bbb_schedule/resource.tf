# A one-off event: 20 servers from 08:30 to 17:00 UTC on exam day, then back to normal.
resource "bbb_schedule" "exam_day" {
  fleet      = "prod-main" # a bbb_fleet's name, e.g. bbb_fleet.main.name
  start_time = "2026-02-10T08:30:00Z"
  end_time   = "2026-02-10T17:00:00Z"
  capacity   = 20
  lead_time  = "30m" # launch this much earlier so servers are warm at start_time

  return_to {
    min_size         = 1
    max_size         = 10
    desired_capacity = 1
  }
}

# Recurring lectures sized by audience: 1200 expected participants at 150 per server gives 8 servers,
# every weekday from 08:00 Berlin time for 10 hours.
resource "bbb_schedule" "lectures" {
  fleet                   = "prod-main"
  recurrence              = "0 8 * * MON-FRI"
  time_zone               = "Europe/Berlin"
  duration                = "10h"
  expected_participants   = 1200
  participants_per_server = 150
  lead_time               = "20m"

  return_to {
    min_size         = 1
    max_size         = 10
    desired_capacity = 1
  }
}
