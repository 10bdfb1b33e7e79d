# Plan check only (scripts/plan_check.py), after scripts/modules-validation/dns.tfvars: the load balancer
# the front record aliases, as the scalelite module passes it (create_scalelite_record defaults to true).
scalelite_target = {
  dns_name = "k8s-scalelite-0123456789.elb.eu-central-1.amazonaws.com"
  zone_id  = "Z215JYRZR1TBD5"
}
