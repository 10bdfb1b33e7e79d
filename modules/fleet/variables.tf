variable "create" {
  type        = bool
  description = "Create the module's resources. false creates nothing and every output that would name one is null (terraform-aws-modules' create toggle)."
  default     = true
}

variable "name" {
  type        = string
  description = "Name of the fleet: the Auto Scaling group, the bbb_fleet and the prefix of every resource of the module."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name))
    error_message = "name must be 3-32 characters of lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "ami_id" {
  type        = string
  description = "ID of the custom BigBlueButton AMI (BBB, the bbb_fleet hook, node-exporter, bbb-exporter and Grafana Alloy baked in; no coturn: TURN runs on its own server, see the turn variable)."

  validation {
    condition     = can(regex("^ami-[0-9a-f]{8,17}$", var.ami_id))
    error_message = "ami_id must look like ami-0123456789abcdef0."
  }
}

variable "instance_type" {
  type        = string
  description = "EC2 instance type of the BBB servers (BigBlueButton wants 8 vCPU / 16 GiB or more, e.g. c6i.2xlarge)."
  default     = "c6i.2xlarge"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*\\.[0-9]*(nano|micro|small|medium|large|xlarge|metal[a-z0-9-]*)$", var.instance_type))
    error_message = "instance_type must be an EC2 instance type such as c6i.2xlarge."
  }
}

variable "subnet_ids" {
  type        = list(string)
  description = "Public subnets to launch the servers in, one per availability zone (the servers need public IPs for WebRTC)."

  validation {
    condition     = length(var.subnet_ids) >= 2 && alltrue([for s in var.subnet_ids : can(regex("^subnet-[0-9a-f]{8,17}$", s))])
    error_message = "Give at least two subnet IDs (two zones) like subnet-0123456789abcdef0."
  }
}

variable "security_group_ids" {
  type        = list(string)
  description = "Security groups of the servers (the network module's bbb_security_group_id)."

  validation {
    condition     = length(var.security_group_ids) > 0 && alltrue([for s in var.security_group_ids : can(regex("^sg-[0-9a-f]{8,17}$", s))])
    error_message = "Give at least one security group ID like sg-0123456789abcdef0."
  }
}

variable "key_name" {
  type        = string
  description = "EC2 key pair for SSH, or null (recommended: use SSM Session Manager)."
  default     = null
}

variable "root_volume" {
  type = object({
    size_gb    = number
    type       = optional(string, "gp3")
    iops       = optional(number)
    throughput = optional(number)
  })
  description = "Root EBS volume of each server (always encrypted). Recordings are processed here before they go to EFS, so leave room."
  default = {
    size_gb = 100
  }

  validation {
    condition     = floor(var.root_volume.size_gb) == var.root_volume.size_gb && var.root_volume.size_gb >= 30 && var.root_volume.size_gb <= 16384
    error_message = "root_volume.size_gb must be a whole number between 30 and 16384."
  }

  validation {
    condition     = contains(["gp3", "gp2", "io1", "io2"], var.root_volume.type)
    error_message = "root_volume.type must be gp3, gp2, io1 or io2."
  }
}

variable "ebs_kms_key_arn" {
  type        = string
  description = "KMS key encrypting the EBS volumes; null uses the account's default EBS key."
  default     = null

  validation {
    condition     = var.ebs_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:", var.ebs_kms_key_arn))
    error_message = "ebs_kms_key_arn must be a KMS key ARN."
  }
}

variable "metadata_hop_limit" {
  type        = number
  description = "IMDSv2 PUT response hop limit: 1 keeps the credentials on the host; 2 only if a container on the server must reach the metadata service."
  default     = 1

  validation {
    condition     = contains([1, 2], var.metadata_hop_limit)
    error_message = "metadata_hop_limit must be 1 or 2."
  }
}

variable "capacity" {
  type = object({
    min     = number
    max     = number
    desired = number
  })
  description = "Size of the Auto Scaling group, used at creation only (the group ignores later changes: scaling policies own desired, bbb_schedule raises min and max during events). Change the running group's bounds outside Terraform or by replacing it. With min = 0 the group can reach no server, and then no demand brings one back: the participant and CPU metrics come from the servers, and target tracking does not act on a metric with no data. Only bbb_schedule's scale-ups and predictive scaling add servers then, and Scalelite refuses every create meanwhile."
  default = {
    min     = 1
    max     = 10
    desired = 1
  }

  validation {
    condition = alltrue([
      floor(var.capacity.min) == var.capacity.min && var.capacity.min >= 0 && var.capacity.min <= 1000,
      floor(var.capacity.max) == var.capacity.max && var.capacity.max >= var.capacity.min && var.capacity.max <= 1000,
      floor(var.capacity.desired) == var.capacity.desired && var.capacity.desired >= var.capacity.min && var.capacity.desired <= var.capacity.max,
    ])
    error_message = "capacity needs whole numbers with 0 <= min <= desired <= max <= 1000."
  }
}

variable "hosted_zone_id" {
  type        = string
  description = "Route53 hosted zone holding the per-instance records (the dns module's zone_id)."

  validation {
    condition     = can(regex("^Z[0-9A-Z]{1,31}$", var.hosted_zone_id))
    error_message = "hosted_zone_id must be a Route53 hosted zone ID such as Z0123456789ABCDEFGHIJ."
  }
}

variable "domain" {
  type        = string
  description = "Domain the per-instance records are created under (e.g. bbb.example.org gives bbb-i-0abc.bbb.example.org)."

  validation {
    condition     = can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", var.domain))
    error_message = "domain must be a lowercase DNS name without trailing dot."
  }
}

variable "record_name_template" {
  type        = string
  description = "Template of each server's record name under domain; {instance_id} is replaced by the EC2 instance ID."
  default     = "bbb-{instance_id}"

  validation {
    condition     = strcontains(var.record_name_template, "{instance_id}") && can(regex("^[a-z0-9-]*(\\{instance_id\\})[a-z0-9-]*$", var.record_name_template))
    error_message = "record_name_template must be one DNS label containing {instance_id} once, e.g. bbb-{instance_id}."
  }
}

variable "record_ttl" {
  type        = number
  description = "TTL in seconds of the per-instance records."
  default     = 60

  validation {
    condition     = floor(var.record_ttl) == var.record_ttl && var.record_ttl >= 10 && var.record_ttl <= 86400
    error_message = "record_ttl must be a whole number of seconds between 10 and 86400."
  }
}

variable "scalelite_tag" {
  type        = string
  description = "Scalelite server tag of the fleet's servers (meetings requesting this tag land here); null for untagged servers."
  default     = null

  validation {
    condition     = var.scalelite_tag == null || can(regex("^[A-Za-z0-9_.-]{1,64}!?$", var.scalelite_tag))
    error_message = "scalelite_tag must be 1-64 letters, digits, dot, dash or underscore (optionally ending in ! for a strict tag)."
  }
}

variable "load_multiplier" {
  type        = number
  description = "Scalelite load multiplier of the fleet's servers (larger instances: lower multiplier)."
  default     = 1

  validation {
    condition     = var.load_multiplier >= 0.01 && var.load_multiplier <= 100
    error_message = "load_multiplier must be between 0.01 and 100."
  }
}

variable "scalelite_secret_parameter_name" {
  type        = string
  description = "Name of the SSM SecureString parameter holding the Scalelite secret, e.g. /bbb/prod/scalelite-secret. The hook reads it; it is never put in user data or state by this module."

  validation {
    condition     = can(regex("^/[A-Za-z0-9_./-]{1,1000}$", var.scalelite_secret_parameter_name))
    error_message = "scalelite_secret_parameter_name must be a fully qualified SSM parameter name starting with /."
  }
}

variable "scalelite_secret_kms_key_arn" {
  type        = string
  description = "Customer managed KMS key of the secret parameter, or null when it uses the AWS managed aws/ssm key."
  default     = null

  validation {
    condition     = var.scalelite_secret_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:", var.scalelite_secret_kms_key_arn))
    error_message = "scalelite_secret_kms_key_arn must be a KMS key ARN."
  }
}

variable "scalelite_url" {
  type        = string
  description = "Scalelite API URL the servers' hook registers with, e.g. the scalelite module's scalelite_internal_url (the internal load balancer, reachable from the fleet only). Passing that output also orders the fleet after Scalelite is installed. Terraform itself (bbb_fleet's reads) uses the bbb provider's scalelite_url."

  validation {
    condition     = can(regex("^https?://[^ /]+(/[^ ]*)?$", var.scalelite_url))
    error_message = "scalelite_url must be an http(s) URL such as https://scalelite-internal.bbb.example.org/bigbluebutton/api."
  }
}

variable "protect_live_meetings" {
  type        = bool
  description = "Protect every new server from scale-in as it enters service (the group's protect_from_scale_in), and let the hook keep that protection while the server hosts meetings or processes recordings, and while Scalelite can route a new meeting to it, so scale-in takes only servers consolidation has cordoned and emptied."
  default     = true
}

variable "recording_workers" {
  type        = number
  description = "BBB recording workers per server (bbb-rap-resque-worker's COUNT; BBB ships 1). A server leaves the fleet only once its recordings are published, and one worker processes them one at a time. Raise it only with meeting events off everywhere: BBB says that with defaultKeepEvents or meetingKeepEvents enabled, more workers \"could result in data loss\" (a create parameter front-ends may send: Scalelite's OVERRIDE_CREATE_PARAMS=meetingKeepEvents=false enforces it). See the README."
  default     = 1

  validation {
    condition     = floor(var.recording_workers) == var.recording_workers && var.recording_workers >= 1 && var.recording_workers <= 8
    error_message = "recording_workers must be a whole number from 1 to 8."
  }
}

variable "drain" {
  type = object({
    lifecycle_hook_name = optional(string, "bbb-drain")
    heartbeat_timeout   = optional(number, 900)
    max_wait            = optional(string, "4h")
  })
  description = "Draining on termination: the terminating lifecycle hook's name, its heartbeat timeout in seconds, and how long to wait at most for the last meeting to end (a duration such as 4h)."
  default     = {}

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]{1,255}$", var.drain.lifecycle_hook_name))
    error_message = "drain.lifecycle_hook_name must be 1-255 letters, digits, dot, dash or underscore."
  }

  validation {
    condition     = floor(var.drain.heartbeat_timeout) == var.drain.heartbeat_timeout && var.drain.heartbeat_timeout >= 30 && var.drain.heartbeat_timeout <= 7200
    error_message = "drain.heartbeat_timeout must be a whole number of seconds between 30 and 7200."
  }

  validation {
    condition     = can(regex("^([0-9]+h)?([0-9]+m)?([0-9]+s)?$", var.drain.max_wait))
    error_message = "drain.max_wait must be a duration such as 4h, 90m or 1h30m."
  }
}

variable "participants_per_server" {
  type        = number
  description = "Target of the participant scaling: the group keeps the average of BBB participants per server near this number (target tracking on the servers' own Participants metric). BBB's guidance is about 200 users on a recommended server; 140 keeps 30% for meetings that grow after Scalelite placed them (it cannot know their size) and for the minutes a new server needs."
  default     = 140

  validation {
    condition     = floor(var.participants_per_server) == var.participants_per_server && var.participants_per_server >= 10 && var.participants_per_server <= 1000
    error_message = "participants_per_server must be a whole number between 10 and 1000."
  }
}

variable "cpu_target_percent" {
  type        = number
  description = "The CPU guard: servers are added when the group's average CPU passes this percentage, whatever the participant count (webcams and screen sharing cost more than participants). Below BBB's 80% (\"once the CPU reaches 80%, the audio starts to degrade\") with room for a new server's warm-up. It only ever adds servers; participants decide the scale-in."
  default     = 60

  validation {
    condition     = var.cpu_target_percent >= 10 && var.cpu_target_percent <= 80
    error_message = "cpu_target_percent must be between 10 and 80: at 80% BBB's audio degrades."
  }
}

variable "instance_warmup_seconds" {
  type        = number
  description = "The group's instance warm-up (default_instance_warmup, and the scaling policies' and instance refresh's): seconds after a new server is InService during which its metrics are left out and scaling policies do not scale in. Boot, certificate and Scalelite registration happen before InService, inside the launching hook, and the server takes meetings seconds after it. 600 keeps the servers predictive scaling launches predictive_scheduling_buffer_seconds (600) before an hour from being scaled in before that hour's lecture block starts, as AWS recommends with predictive scaling. AWS accepts 0 to 3600."
  default     = 600

  validation {
    condition     = floor(var.instance_warmup_seconds) == var.instance_warmup_seconds && var.instance_warmup_seconds >= 0 && var.instance_warmup_seconds <= 3600
    error_message = "instance_warmup_seconds must be a whole number from 0 to 3600 (AWS's range for the group's default instance warm-up)."
  }
}

variable "predictive_scaling_mode" {
  type        = string
  description = "Forecast pre-warming (Auto Scaling's predictive scaling on the servers' Participants metric): \"ForecastAndScale\" launches servers ahead of the hours the previous days' participants forecast, \"ForecastOnly\" computes the forecast without acting on it (to compare it with the load first), \"off\" creates no predictive policy. It only adds capacity on top of target tracking."
  default     = "ForecastAndScale"
  nullable    = false

  validation {
    condition     = contains(["ForecastAndScale", "ForecastOnly", "off"], var.predictive_scaling_mode)
    error_message = "predictive_scaling_mode must be \"ForecastAndScale\", \"ForecastOnly\" or \"off\"."
  }
}

variable "forecast_participants_per_server" {
  type        = number
  description = "Participants per server the forecast sizes the group for (the predictive policy's target): ahead of a forecast hour the group gets at least its forecast participants divided by this many servers. 180 is 9/10 of the about 200 users BBB's FAQ gives a recommended server: enough servers for the forecast burst, while target tracking (participants_per_server) adds the margin for meetings that grow."
  default     = 180
  nullable    = false

  validation {
    condition     = floor(var.forecast_participants_per_server) == var.forecast_participants_per_server && var.forecast_participants_per_server >= 10 && var.forecast_participants_per_server <= 1000
    error_message = "forecast_participants_per_server must be a whole number between 10 and 1000."
  }
}

variable "predictive_scheduling_buffer_seconds" {
  type        = number
  description = "Seconds before a forecast hour the predictive policy launches its servers (scheduling_buffer_time; under 3600, the forecast's hourly interval). 600 gives a server its boot, certificate and Scalelite registration (about 3 minutes) before a lecture block starts on the hour; instance_warmup_seconds (600) keeps it until then."
  default     = 600
  nullable    = false

  validation {
    condition     = floor(var.predictive_scheduling_buffer_seconds) == var.predictive_scheduling_buffer_seconds && var.predictive_scheduling_buffer_seconds >= 0 && var.predictive_scheduling_buffer_seconds <= 3599
    error_message = "predictive_scheduling_buffer_seconds must be a whole number of seconds from 0 to 3599 (less than the forecast's one-hour interval)."
  }
}

variable "held_above_desired_hours" {
  type        = number
  description = "Alarm (`<name>-held-above-desired`) when the group keeps more servers in service than it wants for a whole hour in this many of the last twice as many hours: scale-in protection holds them, as when a server's hook stopped running. Consolidation empties a surplus server within its longest meeting (rooms left open included), so keep it above that. 0 creates no alarm."
  default     = 12
  nullable    = false

  validation {
    condition     = floor(var.held_above_desired_hours) == var.held_above_desired_hours && var.held_above_desired_hours >= 0 && var.held_above_desired_hours <= 168
    error_message = "held_above_desired_hours must be a whole number of hours from 0 (no alarm) to 168 (CloudWatch evaluates at most 7 days)."
  }
}

variable "alarm_actions" {
  type        = list(string)
  description = "What the fleet's alarms (held_above_desired_hours) notify when they go off: SNS topics, Lambda functions, Systems Manager OpsItems or Incident Manager response plans (ARNs)."
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for a in var.alarm_actions : can(regex("^arn:aws[a-z-]*:(sns|lambda|ssm|ssm-incidents):", a))])
    error_message = "alarm_actions must be ARNs of SNS topics, Lambda functions, Systems Manager OpsItems or Incident Manager response plans."
  }
}

variable "ok_actions" {
  type        = list(string)
  description = "What the fleet's alarms notify when they are back to OK (ARNs, as alarm_actions)."
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for a in var.ok_actions : can(regex("^arn:aws[a-z-]*:(sns|lambda|ssm|ssm-incidents):", a))])
    error_message = "ok_actions must be ARNs of SNS topics, Lambda functions, Systems Manager OpsItems or Incident Manager response plans."
  }
}

variable "wait_for_capacity_timeout" {
  type        = string
  description = "How long terraform apply waits for the desired number of healthy servers (a duration, \"0\" not to wait)."
  default     = "20m"

  validation {
    condition     = can(regex("^(0|([0-9]+h)?([0-9]+m)?([0-9]+s)?)$", var.wait_for_capacity_timeout))
    error_message = "wait_for_capacity_timeout must be a duration such as 20m, or 0."
  }
}

variable "recordings" {
  type = object({
    file_system_id  = string
    access_point_id = string
    mount_point     = optional(string, "/mnt/scalelite-recordings")
  })
  description = "Recordings EFS the servers mount over TLS with IAM through the BBB access point (the recordings module's outputs); null mounts nothing."
  default     = null

  validation {
    condition = var.recordings == null || alltrue([
      can(regex("^fs-[0-9a-f]{8,17}$", var.recordings.file_system_id)),
      can(regex("^fsap-[0-9a-f]{8,17}$", var.recordings.access_point_id)),
      can(regex("^/[A-Za-z0-9_./-]+$", var.recordings.mount_point)),
    ])
    error_message = "recordings needs an fs- file system ID, an fsap- access point ID and an absolute mount_point."
  }
}

variable "turn" {
  type = object({
    uris                  = list(string)
    stun_uris             = optional(list(string), [])
    secret_parameter_name = string
    secret_kms_key_arn    = optional(string)
  })
  description = "TURN server the BBB servers hand to browsers (the turn module's turn_uris, stun_uris, secret_parameter_name and its secret's customer managed KMS key, if any), written to fleet.env as BBB_TURN_URIS, BBB_STUN_URIS and BBB_TURN_SECRET_PARAMETER; the instance role may read that one parameter (and decrypt it through SSM with secret_kms_key_arn). null: no TURN (users behind UDP-blocking firewalls get no media)."
  default     = null

  validation {
    condition = var.turn == null || alltrue(concat(
      [length(try(var.turn.uris, [])) > 0],
      [for u in try(var.turn.uris, []) : can(regex("^turns?:[A-Za-z0-9.-]+(:[0-9]{1,5})?(\\?transport=(udp|tcp))?$", u))],
      [for u in try(var.turn.stun_uris, []) : can(regex("^stuns?:[A-Za-z0-9.-]+(:[0-9]{1,5})?$", u))],
    ))
    error_message = "turn.uris must be one or more turn:/turns: URIs (host[:port][?transport=udp|tcp]) and turn.stun_uris stun:/stuns: URIs (host[:port]), without spaces."
  }

  validation {
    condition     = var.turn == null || can(regex("^/[A-Za-z0-9_./-]{1,1000}$", try(var.turn.secret_parameter_name, "")))
    error_message = "turn.secret_parameter_name must be a fully qualified SSM parameter name starting with /."
  }

  validation {
    condition     = try(var.turn.secret_kms_key_arn, null) == null || can(regex("^arn:aws[a-z-]*:kms:", try(var.turn.secret_kms_key_arn, "")))
    error_message = "turn.secret_kms_key_arn must be a KMS key ARN."
  }
}

variable "loki_push_url" {
  type        = string
  description = "Loki push URL Grafana Alloy on the servers sends logs to (the monitoring module's loki_push_url); null leaves Alloy off."
  default     = null

  validation {
    condition     = var.loki_push_url == null || can(regex("^https?://[^ ]+/loki/api/v1/push$", var.loki_push_url))
    error_message = "loki_push_url must be an http(s) URL ending in /loki/api/v1/push."
  }
}

variable "letsencrypt_email" {
  type        = string
  description = "Email address given to Let's Encrypt for each server's certificate (expiry notices); null registers without one."
  default     = null

  validation {
    condition     = var.letsencrypt_email == null || can(regex("^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}$", var.letsencrypt_email))
    error_message = "letsencrypt_email must be an email address such as ops@example.org."
  }
}

variable "enable_ssm_session_manager" {
  type        = bool
  description = "Allow Session Manager (agent registration and session channels only, see policies/session-manager-policy.json) so operators reach the servers without SSH. Grants no parameter reads."
  default     = true
}

variable "extra_user_data" {
  type        = string
  description = "Shell script appended to the cloud-init user data (runs once at first boot, as root, after the fleet configuration is in place)."
  default     = ""
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource, and propagated to the servers and their volumes."
  default     = {}
}

variable "tls" {
  type = object({
    mode                      = optional(string, "shared")
    certificate_secret_name   = optional(string)
    certificate_kms_key_arn   = optional(string)
    letsencrypt_weekly_budget = optional(number, 40)
  })
  description = <<-EOT
    How the servers get their TLS certificate. "shared" (default): one wildcard certificate for *.<domain>,
    kept in a Secrets Manager secret (the module creates "bbb/fleets/<name>/tls-certificate" unless
    certificate_secret_name names an existing one; certificate_kms_key_arn is its customer managed key, null
    for aws/secretsmanager); every server installs it at launch and picks up renewals within 10 minutes, and
    no server ever asks Let's Encrypt. "letsencrypt": each server asks Let's Encrypt (HTTP-01) for its own
    name at first boot, and refuses once the fleet asked letsencrypt_weekly_budget times in 7 days (Let's
    Encrypt allows 50 per registered domain per week). See the README for the certificate document.
  EOT
  default     = {}

  validation {
    condition     = contains(["shared", "letsencrypt"], var.tls.mode)
    error_message = "tls.mode must be \"shared\" or \"letsencrypt\"."
  }
  validation {
    condition     = var.tls.certificate_secret_name == null || can(regex("^[A-Za-z0-9/_+=.@-]{1,512}$", var.tls.certificate_secret_name))
    error_message = "tls.certificate_secret_name must be a Secrets Manager secret name (letters, digits and /_+=.@-), not an ARN."
  }
  validation {
    condition     = var.tls.certificate_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:", var.tls.certificate_kms_key_arn))
    error_message = "tls.certificate_kms_key_arn must be a KMS key ARN."
  }
  validation {
    condition     = var.tls.mode == "shared" || (var.tls.certificate_secret_name == null && var.tls.certificate_kms_key_arn == null)
    error_message = "tls.certificate_secret_name and tls.certificate_kms_key_arn only apply with tls.mode = \"shared\"."
  }
  validation {
    condition     = var.tls.letsencrypt_weekly_budget >= 1 && var.tls.letsencrypt_weekly_budget <= 50 && floor(var.tls.letsencrypt_weekly_budget) == var.tls.letsencrypt_weekly_budget
    error_message = "tls.letsencrypt_weekly_budget must be a whole number from 1 to 50 (Let's Encrypt issues at most 50 certificates per registered domain per week)."
  }
}
