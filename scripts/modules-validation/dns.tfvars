domain           = "bbb.example.org"
scalelite_target = { dns_name = "k8s-scalelit-abc.elb.eu-central-1.amazonaws.com", zone_id = "Z3F0SRJ5LGBH90" }
