#!/usr/bin/env bash
# The launch of a bbb_fleet instance done the way the BBB-on-AWS scripts did it before bbb-hook:
# bash, curl and the AWS CLI (v1, PyPI's awscli, pinned in scripts/requirements-bench.txt), one
# step after the other. hook/benches/launch.rs times it beside `bbb-hook launch`, against the same
# doubles and with the same environment (issue #7). Not shipped, not run by the tests.
#
#   1. IMDSv2: a session token, then instance-id, public-ipv4 (local-ipv4 when none), region
#   2. the fleet configuration: aws ssm get-parameter, fields read with jq (python3 without jq)
#   3. Scalelite's secret: aws ssm get-parameter --with-decryption
#   4. BBB's secret: securitySalt from bbb-web.properties (grep/sed)
#   5. the A record: aws route53 change-resource-record-sets (UPSERT), then
#      aws route53 wait resource-record-sets-changed
#   6. Scalelite: getServers; addServer unless the URL is registered; updateServer state=enable
#      (checksum: sha256 of call name + query string without the checksum + secret; the JSON body
#      is not signed)
#   7. aws autoscaling complete-lifecycle-action CONTINUE
#
# Environment (as bbb-hook's): AWS_EC2_METADATA_SERVICE_ENDPOINT, BBB_FLEET_HOOK_CONFIG_PARAMETER,
# BBB_WEB_PROPERTIES, and for the AWS CLI the usual AWS_* variables (AWS_ENDPOINT_URL and
# AWS_ENDPOINT_URL_AUTO_SCALING point it at the doubles). Needs `aws` on PATH.
set -euo pipefail

log() { echo "legacy-launch: $*" >&2; }

imds=${AWS_EC2_METADATA_SERVICE_ENDPOINT:-http://169.254.169.254}
imds=${imds%/}
config_parameter=${BBB_FLEET_HOOK_CONFIG_PARAMETER:?BBB_FLEET_HOOK_CONFIG_PARAMETER is not set}
properties=${BBB_WEB_PROPERTIES:-/etc/bigbluebutton/bbb-web.properties}

# JSON: jq as the old scripts used it; python3 where jq is not installed.
if command -v jq >/dev/null 2>&1; then
  json_field() { # FIELD < JSON: the field's value, empty when null or absent
    jq -r --arg f "$1" '.[$f] // empty'
  }
  server_id_for() { # URL < getServers JSON: the id of the server with that URL, if any
    jq -r --arg url "$1" 'if type == "array" then (map(select(.url == $url)) | .[0].id // empty) else empty end'
  }
  add_server_body() { # URL SECRET MULTIPLIER TAG
    jq -cn --arg url "$1" --arg secret "$2" --argjson m "$3" --arg tag "$4" \
      '{server: ({url: $url, secret: $secret, load_multiplier: $m} + (if $tag == "" then {} else {tag: $tag} end))}'
  }
  enable_body() { # ID
    jq -cn --arg id "$1" '{id: $id, server: {state: "enable"}}'
  }
else
  json_field() {
    python3 -c 'import json, sys
v = json.load(sys.stdin).get(sys.argv[1])
print("" if v is None else v)' "$1"
  }
  server_id_for() {
    python3 -c 'import json, sys
v = json.load(sys.stdin)
print(next((s["id"] for s in v if s.get("url") == sys.argv[1]), "") if isinstance(v, list) else "")' "$1"
  }
  add_server_body() {
    python3 -c 'import json, sys
s = {"url": sys.argv[1], "secret": sys.argv[2], "load_multiplier": float(sys.argv[3])}
if sys.argv[4]:
    s["tag"] = sys.argv[4]
print(json.dumps({"server": s}))' "$1" "$2" "$3" "$4"
  }
  enable_body() {
    python3 -c 'import json, sys; print(json.dumps({"id": sys.argv[1], "server": {"state": "enable"}}))' "$1"
  }
fi

# --- 1. instance metadata (IMDSv2) -----------------------------------------------------------------
token=$(curl -fsS -X PUT "$imds/latest/api/token" -H "X-aws-ec2-metadata-token-ttl-seconds: 21600")
metadata() { curl -fsS -H "X-aws-ec2-metadata-token: $token" "$imds/latest/meta-data/$1"; }
instance_id=$(metadata instance-id)
address=$(metadata public-ipv4 2>/dev/null || metadata local-ipv4)
region=$(metadata placement/region)
log "instance $instance_id, address $address, region $region"

# --- 2. fleet configuration --------------------------------------------------------------------------
config=$(aws ssm get-parameter --region "$region" --name "$config_parameter" \
  --query Parameter.Value --output text)
cfg() { json_field "$1" <<<"$config"; }
asg_name=$(cfg autoscaling_group_name)
zone_id=$(cfg hosted_zone_id)
domain=$(cfg domain)
template=$(cfg record_name_template)
ttl=$(cfg record_ttl)
scalelite_url=$(cfg scalelite_url)
secret_parameter=$(cfg scalelite_secret_parameter)
multiplier=$(cfg load_multiplier)
tag=$(cfg scalelite_tag)
hook_name=$(cfg launching_hook_name)
record=${template//\{instance_id\}/$instance_id}.${domain%.}
record=${record,,}
server_url="https://$record/bigbluebutton/api"

# --- 3. Scalelite's secret ---------------------------------------------------------------------------
scalelite_secret=$(aws ssm get-parameter --region "$region" --name "$secret_parameter" \
  --with-decryption --query Parameter.Value --output text)

# --- 4. BBB's secret ---------------------------------------------------------------------------------
bbb_secret=$(grep -E '^[[:space:]]*securitySalt[[:space:]]*[=:]' "$properties" | tail -n1 |
  sed -E 's/^[[:space:]]*securitySalt[[:space:]]*[=:][[:space:]]*//')
[ -n "$bbb_secret" ] || {
  log "no securitySalt in $properties"
  exit 78
}

# --- 5. the A record ---------------------------------------------------------------------------------
change_batch=$(printf '{"Changes":[{"Action":"UPSERT","ResourceRecordSet":{"Name":"%s","Type":"A","TTL":%s,"ResourceRecords":[{"Value":"%s"}]}}]}' \
  "$record" "$ttl" "$address")
change_id=$(aws route53 change-resource-record-sets --region "$region" --hosted-zone-id "$zone_id" \
  --change-batch "$change_batch" --query ChangeInfo.Id --output text)
aws route53 wait resource-record-sets-changed --region "$region" --id "$change_id"
log "record $record -> $address in sync"

# --- 6. Scalelite --------------------------------------------------------------------------------------
api="${scalelite_url%/}/scalelite/api"
checksum() { # CALL QUERY: sha256 of call name + query string (without checksum) + secret
  printf '%s%s%s' "$1" "$2" "$scalelite_secret" | sha256sum | cut -d' ' -f1
}
post() { # CALL BODY: POST a JSON body (not signed) to CALL, print the answer
  curl -fsS -X POST -H 'Content-Type: application/json' --data-binary @- \
    "$api/$1?checksum=$(checksum "$1" "")" <<<"$2"
}
# An empty pool answers 404 {"error":"No servers are configured"}: no --fail here.
servers=$(curl -sS "$api/getServers?checksum=$(checksum getServers "")")
server_id=$(server_id_for "$server_url" <<<"$servers")
if [ -z "$server_id" ]; then
  added=$(post addServer "$(add_server_body "$server_url" "$bbb_secret" "$multiplier" "$tag")")
  server_id=$(json_field id <<<"$added")
  [ -n "$server_id" ] || {
    log "addServer failed: $(json_field error <<<"$added" 2>/dev/null || echo "${added:0:200}")"
    exit 75
  }
  log "registered in scalelite as $server_id"
fi
enabled=$(post updateServer "$(enable_body "$server_id")")
[ "$(json_field state <<<"$enabled")" = enabled ] || {
  log "updateServer did not enable $server_id"
  exit 75
}
log "scalelite server $server_id enabled"

# --- 7. lifecycle action -----------------------------------------------------------------------------
aws autoscaling complete-lifecycle-action --region "$region" --auto-scaling-group-name "$asg_name" \
  --lifecycle-hook-name "$hook_name" --instance-id "$instance_id" --lifecycle-action-result CONTINUE
log "launch complete"
