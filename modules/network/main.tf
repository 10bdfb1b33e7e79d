locals {
  azs = var.availability_zones

  # Two subnets per zone, carved contiguously: the public ones first, then the private ones.
  subnet_cidrs    = cidrsubnets(var.vpc_cidr, [for az in concat(local.azs, local.azs) : var.subnet_newbits]...)
  public_cidrs    = slice(local.subnet_cidrs, 0, length(local.azs))
  private_cidrs   = slice(local.subnet_cidrs, length(local.azs), length(local.subnet_cidrs))
  public_subnets  = { for i, az in local.azs : az => local.public_cidrs[i] }
  private_subnets = var.create_private_subnets ? { for i, az in local.azs : az => local.private_cidrs[i] } : {}

  nat_azs = var.create_private_subnets ? lookup({
    none   = []
    single = slice(local.azs, 0, 1)
    per_az = local.azs
  }, var.nat_gateway) : []
  # Zone of the NAT gateway each private route table sends to: its own when there is one, else the first.
  private_nat = { for az, cidr in local.private_subnets : az => contains(local.nat_azs, az) ? az : local.nat_azs[0] if length(local.nat_azs) > 0 }

  anywhere_v4 = "0.0.0.0/0"

  # Ingress BigBlueButton needs from participants, and nothing else. No TURN port: coturn does not run on
  # the BBB servers but on its own host (modules/turn), which has its own security group.
  public_ingress = merge(
    {
      https_v4 = { protocol = "tcp", from = 443, to = 443, cidr_ipv4 = local.anywhere_v4, description = "HTTPS: BBB web client, API and WebSocket signalling" }
      http_v4  = { protocol = "tcp", from = 80, to = 80, cidr_ipv4 = local.anywhere_v4, description = "HTTP: certbot HTTP-01 challenges and the redirect to HTTPS" }
      media_v4 = { protocol = "udp", from = var.media_port_range.from, to = var.media_port_range.to, cidr_ipv4 = local.anywhere_v4, description = "WebRTC media (UDP)" }
    },
    { for i, cidr in var.ssh_ingress_cidrs : "ssh_${i}" => { protocol = "tcp", from = 22, to = 22, cidr_ipv4 = cidr, description = "SSH from an administration range" } },
  )

  tags = merge(var.tags, { "bbb:network" = var.name })
}

resource "aws_vpc" "this" {
  count = var.create ? 1 : 0

  cidr_block           = var.vpc_cidr
  enable_dns_support   = true
  enable_dns_hostnames = true

  tags = merge(local.tags, { Name = var.name })
}

# The default security group allows traffic between its members: empty it so nothing relies on it.
resource "aws_default_security_group" "this" {
  count = var.create ? 1 : 0

  vpc_id = aws_vpc.this[0].id
  tags   = merge(local.tags, { Name = "${var.name}-default-unused" })
}

resource "aws_internet_gateway" "this" {
  count = var.create ? 1 : 0

  vpc_id = aws_vpc.this[0].id
  tags   = merge(local.tags, { Name = var.name })
}

resource "aws_subnet" "public" {
  for_each = var.create ? local.public_subnets : {}

  vpc_id            = aws_vpc.this[0].id
  availability_zone = each.key
  cidr_block        = each.value
  # Public IPs are given per instance by the fleet's launch template, not to everything in the subnet.
  map_public_ip_on_launch = false

  tags = merge(local.tags, { Name = "${var.name}-public-${each.key}", "bbb:tier" = "public", "kubernetes.io/role/elb" = "1" })
}

resource "aws_subnet" "private" {
  for_each = var.create ? local.private_subnets : {}

  vpc_id            = aws_vpc.this[0].id
  availability_zone = each.key
  cidr_block        = each.value

  tags = merge(local.tags, { Name = "${var.name}-private-${each.key}", "bbb:tier" = "private", "kubernetes.io/role/internal-elb" = "1" })
}

resource "aws_route_table" "public" {
  count = var.create ? 1 : 0

  vpc_id = aws_vpc.this[0].id
  tags   = merge(local.tags, { Name = "${var.name}-public" })
}

resource "aws_route" "public_internet_v4" {
  count = var.create ? 1 : 0

  route_table_id         = aws_route_table.public[0].id
  destination_cidr_block = local.anywhere_v4
  gateway_id             = aws_internet_gateway.this[0].id
}

resource "aws_route_table_association" "public" {
  for_each = var.create ? aws_subnet.public : {}

  subnet_id      = each.value.id
  route_table_id = aws_route_table.public[0].id
}

resource "aws_eip" "nat" {
  for_each = var.create ? toset(local.nat_azs) : toset([])

  domain = "vpc"
  tags   = merge(local.tags, { Name = "${var.name}-nat-${each.key}" })
}

resource "aws_nat_gateway" "this" {
  for_each = var.create ? toset(local.nat_azs) : toset([])

  allocation_id = aws_eip.nat[each.key].id
  subnet_id     = aws_subnet.public[each.key].id
  tags          = merge(local.tags, { Name = "${var.name}-${each.key}" })

  depends_on = [aws_internet_gateway.this]
}

resource "aws_route_table" "private" {
  for_each = var.create ? local.private_subnets : {}

  vpc_id = aws_vpc.this[0].id
  tags   = merge(local.tags, { Name = "${var.name}-private-${each.key}" })
}

resource "aws_route" "private_nat" {
  for_each = var.create ? local.private_nat : {}

  route_table_id         = aws_route_table.private[each.key].id
  destination_cidr_block = local.anywhere_v4
  nat_gateway_id         = aws_nat_gateway.this[each.value].id
}

resource "aws_route_table_association" "private" {
  for_each = var.create ? aws_subnet.private : {}

  subnet_id      = each.value.id
  route_table_id = aws_route_table.private[each.key].id
}

# --- Security group of the BBB media servers -------------------------------------------------

resource "aws_security_group" "bbb" {
  count = var.create ? 1 : 0

  #checkov:skip=CKV2_AWS_5:Attached to the BBB servers by the fleet module's launch template (output bbb_security_group_id), outside this module.
  name = "${var.name}-bbb"
  # The description is kept from when TURN ports were opened here: changing it replaces the group (and its
  # fixed name would collide with create_before_destroy). No TURN port is open any more.
  description = "BigBlueButton media servers: HTTPS, certbot, TURN and WebRTC media only"
  vpc_id      = aws_vpc.this[0].id

  tags = merge(local.tags, { Name = "${var.name}-bbb" })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "bbb" {
  # Port 80 must be open to the internet for certbot's HTTP-01 challenge and the HTTP to HTTPS redirect of the BBB web client.
  for_each = var.create ? local.public_ingress : {}

  security_group_id = aws_security_group.bbb[0].id
  ip_protocol       = each.value.protocol
  from_port         = each.value.from
  to_port           = each.value.to
  cidr_ipv4         = each.value.cidr_ipv4
  description       = each.value.description
  tags              = local.tags
}

# Outbound: HTTPS (Scalelite API, AWS APIs, ACME), HTTP (package mirrors), NFS to EFS and Loki in the VPC,
# and WebRTC media over UDP.
resource "aws_vpc_security_group_egress_rule" "bbb_https" {
  count = var.create ? 1 : 0

  security_group_id = aws_security_group.bbb[0].id
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = local.anywhere_v4
  description       = "HTTPS to Scalelite, AWS APIs and ACME"
  tags              = local.tags
}

resource "aws_vpc_security_group_egress_rule" "bbb_http" {
  count = var.create ? 1 : 0

  security_group_id = aws_security_group.bbb[0].id
  ip_protocol       = "tcp"
  from_port         = 80
  to_port           = 80
  cidr_ipv4         = local.anywhere_v4
  description       = "HTTP to package mirrors"
  tags              = local.tags
}

# WebRTC media (UDP) from the media ports to participants and to TURN relays (modules/turn, relay ports
# 32769-65535). The destination is the peer's port: a browser's ephemeral port or a relay port, so any UDP
# port. Connection tracking (EC2 "Security group connection tracking", untracked connections): a flow is
# untracked when the rule admitting it is open to 0.0.0.0/0 and a rule in the other direction admits all
# response traffic to 0.0.0.0/0 on all ports (0-65535). So UDP flows a peer starts on the media ports
# (media_v4 ingress, anywhere) are untracked with this rule; flows the server starts stay tracked (the
# ingress is not all ports), as does all TCP (HTTPS, WebSocket). Untracked responses pass only because
# this rule admits them.
resource "aws_vpc_security_group_egress_rule" "bbb_media" {
  count = var.create ? 1 : 0

  security_group_id = aws_security_group.bbb[0].id
  ip_protocol       = "udp"
  from_port         = 0
  to_port           = 65535
  cidr_ipv4         = local.anywhere_v4
  description       = "WebRTC media to participants and TURN relays (their ports are ephemeral)"
  tags              = local.tags
}

resource "aws_vpc_security_group_egress_rule" "bbb_vpc" {
  for_each = var.create ? {
    nfs  = { port = 2049, description = "NFS to the recordings EFS" }
    loki = { port = 3100, description = "Promtail to Loki's internal load balancer" }
  } : {}

  security_group_id = aws_security_group.bbb[0].id
  ip_protocol       = "tcp"
  from_port         = each.value.port
  to_port           = each.value.port
  cidr_ipv4         = aws_vpc.this[0].cidr_block
  description       = each.value.description
  tags              = local.tags
}

# --- Flow logs -------------------------------------------------------------------------------

resource "aws_cloudwatch_log_group" "flow_logs" {
  count = var.create ? 1 : 0

  # KMS encryption is the caller's choice through var.flow_log_kms_key_arn; without it CloudWatch Logs encrypts at rest with its own key.
  name              = "/vpc/${var.name}/flow-logs"
  retention_in_days = var.flow_log_retention_days
  kms_key_id        = var.flow_log_kms_key_arn
  tags              = local.tags
}

data "aws_iam_policy_document" "flow_logs_assume" {
  count = var.create ? 1 : 0

  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["vpc-flow-logs.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "flow_logs" {
  count = var.create ? 1 : 0

  statement {
    actions = [
      "logs:CreateLogStream",
      "logs:PutLogEvents",
      "logs:DescribeLogStreams",
    ]
    resources = ["${aws_cloudwatch_log_group.flow_logs[0].arn}:*"]
  }
}

resource "aws_iam_role" "flow_logs" {
  count = var.create ? 1 : 0

  name_prefix        = "${var.name}-flow-logs-"
  assume_role_policy = data.aws_iam_policy_document.flow_logs_assume[0].json
  tags               = local.tags
}

resource "aws_iam_role_policy" "flow_logs" {
  count = var.create ? 1 : 0

  name   = "write-flow-logs"
  role   = aws_iam_role.flow_logs[0].id
  policy = data.aws_iam_policy_document.flow_logs[0].json
}

resource "aws_flow_log" "this" {
  count = var.create ? 1 : 0

  vpc_id          = aws_vpc.this[0].id
  traffic_type    = "ALL"
  log_destination = aws_cloudwatch_log_group.flow_logs[0].arn
  iam_role_arn    = aws_iam_role.flow_logs[0].arn
  tags            = local.tags
}
