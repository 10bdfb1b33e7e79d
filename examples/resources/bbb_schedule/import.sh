# By <autoscaling_group_name>/<name>: both scheduled actions (bbb-<name>-up, bbb-<name>-down) must exist.
# lead_time cannot be read back from them: the default (10m) is assumed when deriving start_time.
terraform import bbb_schedule.exam_day prod-main/exam-day
