# By <autoscaling_group_name>/<fleet name>: the lifecycle hooks are read back; settings that live only in
# Terraform (zone, domain, Scalelite) come from the configuration at the next apply.
terraform import bbb_fleet.main prod-main/prod-main
