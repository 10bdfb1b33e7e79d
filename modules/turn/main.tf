data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.region
  account_id = data.aws_caller_identity.current.account_id
  tags       = merge(var.tags, { "bbb:turn" = var.name })

  create_secret         = var.create && var.secret_parameter_name == null
  secret_parameter_name = coalesce(var.secret_parameter_name, "/bbb/turn/${var.name}/static-auth-secret")
  secret_parameter_arn  = "arn:${local.partition}:ssm:${local.region}:${local.account_id}:parameter${local.secret_parameter_name}"

  # shared: a certificate document from SSM (possibly a Secrets Manager secret through SSM's reference path);
  # letsencrypt: certbot on the server, HTTP-01 on port 80, for hostname only.
  certificate_mode            = var.certificate_parameter_name != null ? "shared" : "letsencrypt"
  certificate_parameter_arn   = var.certificate_parameter_name != null ? "arn:${local.partition}:ssm:${local.region}:${local.account_id}:parameter${var.certificate_parameter_name}" : null
  secretsmanager_reference    = "/aws/reference/secretsmanager/"
  certificate_secret_name     = var.certificate_parameter_name != null && startswith(coalesce(var.certificate_parameter_name, "-"), local.secretsmanager_reference) ? trimprefix(var.certificate_parameter_name, local.secretsmanager_reference) : null
  certificate_secret_arn_glob = local.certificate_secret_name != null ? "arn:${local.partition}:secretsmanager:${local.region}:${local.account_id}:secret:${local.certificate_secret_name}-??????" : null

  realm = coalesce(var.realm, join(".", slice(split(".", var.hostname), 1, length(split(".", var.hostname)))))

  anywhere_v4 = "0.0.0.0/0"
  # What clients reach. The relay range is open to anywhere as BigBlueButton's TURN documentation lists it:
  # coturn itself only accepts relay traffic from peers the client has created a permission for.
  ingress = merge(
    {
      turn_udp  = { protocol = "udp", from = 3478, to = 3478, description = "STUN and TURN over UDP" }
      turn_tcp  = { protocol = "tcp", from = 3478, to = 3478, description = "TURN over TCP" }
      turns_443 = { protocol = "tcp", from = 443, to = 443, description = "TURN over TLS on 443 (passes firewalls that allow only HTTPS)" }
      relay     = { protocol = "udp", from = var.relay_port_range.from, to = var.relay_port_range.to, description = "TURN relay ports (coturn min-port..max-port)" }
    },
    var.enable_turns_5349 ? { turns_5349 = { protocol = "tcp", from = 5349, to = 5349, description = "TURN over TLS on the standard port" } } : {},
    local.certificate_mode == "letsencrypt" ? { acme_http = { protocol = "tcp", from = 80, to = 80, description = "certbot's HTTP-01 challenges for the TURN host name" } } : {},
  )

  turn_uris = var.create ? concat(
    ["turns:${var.hostname}:443?transport=tcp", "turn:${var.hostname}:3478?transport=udp", "turn:${var.hostname}:3478?transport=tcp"],
    var.enable_turns_5349 ? ["turns:${var.hostname}:5349?transport=tcp"] : [],
  ) : []
  stun_uris = var.create ? ["stun:${var.hostname}:3478"] : []

  # Non-secret settings of the server; the secret and the certificate are read from SSM at boot by the role.
  turn_env = join("\n", [
    "TURN_NAME=${var.name}",
    "TURN_REGION=${local.region}",
    "TURN_HOSTNAME=${var.hostname}",
    "TURN_REALM=${local.realm}",
    "TURN_PUBLIC_IP=${try(aws_eip.this[0].public_ip, "")}",
    "TURN_SECRET_PARAMETER=${local.secret_parameter_name}",
    "TURN_CERTIFICATE_MODE=${local.certificate_mode}",
    "TURN_CERTIFICATE_PARAMETER=${coalesce(var.certificate_parameter_name, "-")}",
    "TURN_LETSENCRYPT_EMAIL=${coalesce(var.letsencrypt_email, "-")}",
    "TURN_RELAY_MIN_PORT=${var.relay_port_range.from}",
    "TURN_RELAY_MAX_PORT=${var.relay_port_range.to}",
    "TURN_TLS_5349=${var.enable_turns_5349}",
  ])

  user_data = join("\n", [
    "#cloud-config",
    yamlencode({
      write_files = [
        { path = "/etc/bbb-turn/turn.env", permissions = "0644", owner = "root:root", content = "${local.turn_env}\n" },
        { path = "/usr/local/sbin/bbb-turn-configure", permissions = "0750", owner = "root:root", content = file("${path.module}/files/bbb-turn-configure.sh") },
        { path = "/etc/systemd/system/bbb-turn-configure.service", permissions = "0644", owner = "root:root", content = file("${path.module}/files/bbb-turn-configure.service") },
        { path = "/etc/systemd/system/bbb-turn-certificate.service", permissions = "0644", owner = "root:root", content = file("${path.module}/files/bbb-turn-certificate.service") },
        { path = "/etc/systemd/system/bbb-turn-certificate.timer", permissions = "0644", owner = "root:root", content = file("${path.module}/files/bbb-turn-certificate.timer") },
        { path = "/etc/systemd/system/coturn.service.d/bbb-turn.conf", permissions = "0644", owner = "root:root", content = file("${path.module}/files/coturn-override.conf") },
      ]
      runcmd = [["/usr/local/sbin/bbb-turn-configure", "install"]]
    }),
  ])
}

# --- The static-auth-secret -------------------------------------------------------------------

# Ephemeral: generated during plan/apply and written through the write-only value_wo, so neither the value
# nor a hash of it is stored in state or plan. value_wo_version (secret_version) decides when it is written.
ephemeral "random_password" "secret" {
  count = local.create_secret ? 1 : 0

  length  = 48
  special = false
}

resource "aws_ssm_parameter" "secret" {
  count = local.create_secret ? 1 : 0

  name             = local.secret_parameter_name
  description      = "coturn static-auth-secret of TURN server ${var.name} (TURN REST API credentials for BigBlueButton)"
  type             = "SecureString"
  key_id           = var.secret_kms_key_arn
  value_wo         = ephemeral.random_password.secret[0].result
  value_wo_version = var.secret_version
  tags             = local.tags
}

# --- Instance role: read the secret and the certificate, nothing else ------------------------

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "this" {
  count = var.create ? 1 : 0

  name_prefix        = "${var.name}-turn-"
  assume_role_policy = data.aws_iam_policy_document.assume.json
  tags               = local.tags
}

resource "aws_iam_instance_profile" "this" {
  count = var.create ? 1 : 0

  name_prefix = "${var.name}-turn-"
  role        = aws_iam_role.this[0].name
  tags        = local.tags
}

data "aws_iam_policy_document" "instance" {
  statement {
    sid       = "ReadTurnParameters"
    actions   = ["ssm:GetParameter"]
    resources = compact([local.secret_parameter_arn, local.certificate_parameter_arn])
  }

  # Session Manager only (AWS's minimal instance policy for it), not AmazonSSMManagedInstanceCore, whose
  # ssm:GetParameter on * would let the server read every parameter of the account.
  dynamic "statement" {
    for_each = var.enable_ssm_session_manager ? [1] : []
    content {
      sid = "SessionManager"
      actions = [
        "ssm:UpdateInstanceInformation",
        "ssmmessages:CreateControlChannel",
        "ssmmessages:CreateDataChannel",
        "ssmmessages:OpenControlChannel",
        "ssmmessages:OpenDataChannel",
      ]
      resources = ["*"]
    }
  }

  dynamic "statement" {
    for_each = local.certificate_secret_arn_glob != null ? [local.certificate_secret_arn_glob] : []
    content {
      sid       = "ReadCertificateSecret"
      actions   = ["secretsmanager:GetSecretValue"]
      resources = [statement.value]
    }
  }

  dynamic "statement" {
    for_each = length(compact([var.secret_kms_key_arn, var.certificate_kms_key_arn])) > 0 ? [1] : []
    content {
      sid       = "DecryptThroughSsmOrSecretsManager"
      actions   = ["kms:Decrypt"]
      resources = compact([var.secret_kms_key_arn, var.certificate_kms_key_arn])
      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["ssm.${local.region}.amazonaws.com", "secretsmanager.${local.region}.amazonaws.com"]
      }
    }
  }
}

resource "aws_iam_role_policy" "this" {
  count = var.create ? 1 : 0

  name   = "bbb-turn"
  role   = aws_iam_role.this[0].id
  policy = data.aws_iam_policy_document.instance.json
}


# --- Security group --------------------------------------------------------------------------

resource "aws_security_group" "this" {
  count = var.create ? 1 : 0

  # name_prefix: with create_before_destroy a fixed name would collide with the group being replaced.
  name_prefix = "${var.name}-turn-"
  description = "TURN server: STUN/TURN 3478, TURN over TLS 443, relay ports; relays only to BBB media ports"
  vpc_id      = var.vpc_id
  tags        = merge(local.tags, { Name = "${var.name}-turn" })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "this" {
  # Port 80 is open only in Let's Encrypt mode, for certbot's standalone HTTP-01 challenge.
  for_each = var.create ? local.ingress : {}

  security_group_id = aws_security_group.this[0].id
  ip_protocol       = each.value.protocol
  from_port         = each.value.from
  to_port           = each.value.to
  cidr_ipv4         = local.anywhere_v4
  description       = each.value.description
  tags              = local.tags
}

# Outbound: relayed media to the BBB servers' media ports (their public IPs change with the Auto Scaling
# group, hence anywhere; coturn's denied-peer-ip refuses private and special ranges), HTTPS to SSM and ACME,
# HTTP to the Ubuntu mirrors.
resource "aws_vpc_security_group_egress_rule" "this" {
  for_each = var.create ? {
    relay_to_media = { protocol = "udp", from = var.media_port_range.from, to = var.media_port_range.to, description = "Relayed media to the BBB servers' WebRTC ports" }
    https          = { protocol = "tcp", from = 443, to = 443, description = "HTTPS to SSM and Let's Encrypt" }
    http           = { protocol = "tcp", from = 80, to = 80, description = "HTTP to the Ubuntu package mirrors" }
  } : {}

  security_group_id = aws_security_group.this[0].id
  ip_protocol       = each.value.protocol
  from_port         = each.value.from
  to_port           = each.value.to
  cidr_ipv4         = local.anywhere_v4
  description       = each.value.description
  tags              = local.tags
}

# --- The server, its Elastic IP and its name -------------------------------------------------

data "aws_ami" "ubuntu" {
  count = var.create && var.ami_id == null ? 1 : 0

  most_recent = true
  owners      = ["099720109477"] # Canonical

  filter {
    name   = "name"
    values = [var.ubuntu_release == "24.04" ? "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*" : "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-*"]
  }

  filter {
    name   = "architecture"
    values = ["x86_64"]
  }
}

# The address exists before the server, so its configuration (coturn's external-ip) and the DNS record
# never wait for the instance, and a replaced server gets the same address.
resource "aws_eip" "this" {
  count = var.create ? 1 : 0

  domain = "vpc"
  tags   = merge(local.tags, { Name = "${var.name}-turn" })
}

resource "aws_instance" "this" {
  #checkov:skip=CKV_AWS_88:The TURN server must be reachable from the internet; the launch-time public IP gives it internet access during first boot and is replaced by the Elastic IP; only the security group's TURN ports are open.
  count = var.create ? 1 : 0

  ami                         = coalesce(var.ami_id, try(data.aws_ami.ubuntu[0].id, null))
  instance_type               = var.instance_type
  subnet_id                   = var.subnet_id
  vpc_security_group_ids      = [aws_security_group.this[0].id]
  iam_instance_profile        = aws_iam_instance_profile.this[0].name
  associate_public_ip_address = true
  monitoring                  = true
  ebs_optimized               = true
  # gzip: the script and units are close to EC2's 16 KB user data limit; cloud-init unpacks gzip itself.
  user_data_base64 = base64gzip(local.user_data)
  # cloud-init runs the user data once per instance: a changed configuration needs a new server.
  user_data_replace_on_change = true

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }

  root_block_device {
    volume_type           = "gp3"
    volume_size           = var.root_volume_size_gb
    encrypted             = true
    kms_key_id            = var.ebs_kms_key_arn
    delete_on_termination = true
  }

  tags        = merge(local.tags, { Name = "${var.name}-turn" })
  volume_tags = merge(local.tags, { Name = "${var.name}-turn" })

  # The role's permissions exist before the first boot reads the secret (the instance profile alone does
  # not order the inline policy).
  depends_on = [aws_iam_role_policy.this]

  lifecycle {
    # A newer Ubuntu image must not replace a serving TURN server on the next apply; replace it on purpose
    # (terraform apply -replace=...). unattended-upgrades applies security updates in place.
    ignore_changes = [ami]
  }
}

resource "aws_eip_association" "this" {
  count = var.create ? 1 : 0

  allocation_id = aws_eip.this[0].id
  instance_id   = aws_instance.this[0].id
}

resource "aws_route53_record" "this" {
  # A known boolean, not zone_id != null: a zone created in the same apply has an unknown zone_id at plan,
  # which count cannot take ("Invalid count argument").
  count = var.create && var.create_dns_record ? 1 : 0

  zone_id = var.zone_id
  name    = var.hostname
  type    = "A"
  ttl     = 300
  records = [aws_eip.this[0].public_ip]
}

# --- Self-healing: recover on host failure, reboot on a failed instance check ----------------

resource "aws_cloudwatch_metric_alarm" "recover" {
  count = var.create ? 1 : 0

  alarm_name          = "${var.name}-turn-system-check"
  alarm_description   = "The TURN server's host failed its system status check: recover the instance (same ID, private IP, Elastic IP) on healthy hardware."
  namespace           = "AWS/EC2"
  metric_name         = "StatusCheckFailed_System"
  statistic           = "Maximum"
  dimensions          = { InstanceId = aws_instance.this[0].id }
  period              = 60
  evaluation_periods  = 2
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  alarm_actions       = concat(["arn:${local.partition}:automate:${local.region}:ec2:recover"], var.alarm_actions)
  tags                = local.tags
}

resource "aws_cloudwatch_metric_alarm" "reboot" {
  count = var.create ? 1 : 0

  alarm_name          = "${var.name}-turn-instance-check"
  alarm_description   = "The TURN server failed its instance status check: reboot it (coturn's configuration is rendered again at boot)."
  namespace           = "AWS/EC2"
  metric_name         = "StatusCheckFailed_Instance"
  statistic           = "Maximum"
  dimensions          = { InstanceId = aws_instance.this[0].id }
  period              = 60
  evaluation_periods  = 3
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  alarm_actions       = concat(["arn:${local.partition}:automate:${local.region}:ec2:reboot"], var.alarm_actions)
  tags                = local.tags
}
