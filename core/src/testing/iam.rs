//! The fleet's instance policy in tests: the module's own template
//! (`modules/fleet/policies/instance-policy.json.tftpl` and the one-statement templates beside
//! it) rendered with a test's values, and a moto with IAM access control on whose users are bound
//! to such a document.
//!
//! What moto checks (moto 5.2, `moto/core/authorization.py` and `moto/iam/access_control.py`):
//! once `INITIAL_NO_AUTH_ACTION_COUNT` requests have passed, every request must carry a SigV4
//! signature by a moto IAM user's (or assumed role's) access key, and its action
//! (`<signing service>:<operation>`, e.g. `route53:ListResourceRecordSets`) must be allowed by
//! one of that user's policies and denied by none. It does not check the Resource of Route53,
//! Auto Scaling or SSM requests: it matches every statement's Resource against `*`, so a statement
//! scoped to an ARN never applies. It does not evaluate conditions (only `StringEquals` on
//! request values it does not collect here). So the user gets [`Policy::moto_view`] (every
//! Resource `*`, conditions kept and ignored): moto checks actions and signatures, and
//! [`Policy::allows`] checks actions with resources where a test knows the resource (the
//! lifecycle stub, and the tests' own assertions). Conditions are checked by nothing offline.

use std::path::PathBuf;
use std::time::SystemTime;

use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use serde_json::{json, Value};

use super::{repo_root, xml_text, MotoServer, REGION};
use crate::aws::{AwsClients, AwsConfig, StaticCredentials};
use crate::Secret;

/// moto's account id.
pub const ACCOUNT_ID: &str = "123456789012";

fn policies_dir() -> PathBuf {
    repo_root().join("modules/fleet/policies")
}

/// Renders `${name}` substitutions (the only template syntax the module's policy files use).
/// Fails on a value that would break the JSON, on a directive and on a substitution left over.
pub fn render_template(text: &str, vars: &[(&str, &str)]) -> Result<String, String> {
    if text.contains("%{") {
        return Err("template directives (%{...}) are not supported".into());
    }
    let mut out = text.to_owned();
    for (name, value) in vars {
        if value.contains(['"', '\\']) || value.chars().any(char::is_control) {
            return Err(format!("value of {name} is not JSON-safe: {value:?}"));
        }
        out = out.replace(&format!("${{{name}}}"), value);
    }
    match out.find("${") {
        Some(i) => Err(format!(
            "substitution left unrendered: {}",
            &out[i..out.len().min(i + 40)]
        )),
        None => Ok(out),
    }
}

fn render_file(file: &str, vars: &[(&str, &str)]) -> Result<Value, String> {
    let path = policies_dir().join(file);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let rendered = render_template(&text, vars).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&rendered).map_err(|e| format!("{} is not JSON: {e}", path.display()))
}

/// The values the module substitutes (modules/fleet/main.tf `instance_policy_base` and
/// `instance_policy_optional`), as ARNs.
#[derive(Debug, Clone)]
pub struct PolicyInputs {
    pub hosted_zone_id: String,
    pub record_name_pattern: String,
    pub autoscaling_group_arn: String,
    pub fleet_name: String,
    pub scalelite_secret_parameter: String,
    pub hook_config_parameter: String,
    pub turn_secret_parameter: Option<String>,
    pub tls_certificate_parameter: Option<String>,
    pub tls_certificate_secret_arn: Option<String>,
}

/// The ARN of SSM parameter `name` (which starts with `/`) in moto's account and [`REGION`].
pub fn parameter_arn(name: &str) -> String {
    format!("arn:aws:ssm:{REGION}:{ACCOUNT_ID}:parameter{name}")
}

/// An IAM policy document.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy(pub Value);

impl Policy {
    /// The module's instance policy for `inputs` (optional statements as the module adds them;
    /// no KMS keys or recordings file system in tests).
    pub fn instance(inputs: &PolicyInputs) -> Result<Self, String> {
        let mut doc = render_file(
            "instance-policy.json.tftpl",
            &[
                ("partition", "aws"),
                ("hosted_zone_id", &inputs.hosted_zone_id),
                ("record_name_pattern", &inputs.record_name_pattern),
                ("autoscaling_group_arn", &inputs.autoscaling_group_arn),
                ("fleet_name", &inputs.fleet_name),
                (
                    "scalelite_secret_parameter_arn",
                    &parameter_arn(&inputs.scalelite_secret_parameter),
                ),
                (
                    "hook_config_parameter_arn",
                    &parameter_arn(&inputs.hook_config_parameter),
                ),
            ],
        )?;
        let mut extra = Vec::new();
        if let Some(p) = &inputs.turn_secret_parameter {
            extra.push(render_file(
                "read-parameter.json.tftpl",
                &[
                    ("sid", "ReadTurnSecretParameter"),
                    ("parameter_arn", &parameter_arn(p)),
                ],
            )?);
        }
        if let Some(p) = &inputs.tls_certificate_parameter {
            extra.push(render_file(
                "read-parameter.json.tftpl",
                &[
                    ("sid", "ReadTlsCertificateParameter"),
                    ("parameter_arn", &parameter_arn(p)),
                ],
            )?);
        }
        if let Some(arn) = &inputs.tls_certificate_secret_arn {
            extra.push(render_file(
                "read-secret.json.tftpl",
                &[("sid", "ReadTlsCertificateSecret"), ("secret_arn", arn)],
            )?);
        }
        doc.get_mut("Statement")
            .and_then(Value::as_array_mut)
            .ok_or("instance-policy.json.tftpl has no Statement list")?
            .extend(extra);
        Ok(Self(doc))
    }

    fn statements(&self) -> impl Iterator<Item = &Value> {
        self.0
            .get("Statement")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
    }

    /// The same document without `action` in any statement (statements left with no action
    /// are dropped).
    pub fn without_action(&self, action: &str) -> Self {
        let mut doc = self.0.clone();
        if let Some(list) = doc.get_mut("Statement").and_then(Value::as_array_mut) {
            for st in list.iter_mut() {
                let kept: Vec<Value> = strings(st.get("Action"))
                    .into_iter()
                    .filter(|a| !a.eq_ignore_ascii_case(action))
                    .map(Value::from)
                    .collect();
                st["Action"] = Value::Array(kept);
            }
            list.retain(|st| !strings(st.get("Action")).is_empty());
        }
        Self(doc)
    }

    /// The document moto can enforce: every statement's Resource is `*` (moto compares the
    /// Resource of non-IAM, non-S3 requests with `*` only; see the module documentation).
    pub fn moto_view(&self) -> Value {
        let mut doc = self.0.clone();
        if let Some(list) = doc.get_mut("Statement").and_then(Value::as_array_mut) {
            for st in list.iter_mut() {
                st["Resource"] = json!("*");
            }
        }
        doc
    }

    /// Whether the document allows `action` on `resource`: an Allow statement whose Action and
    /// Resource patterns (`*` and `?` wildcards, actions case-insensitive) match, and no Deny
    /// statement that does. Conditions are not evaluated (treated as met), nor NotAction or
    /// NotResource (such statements never match).
    pub fn allows(&self, action: &str, resource: &str) -> bool {
        let matching = |st: &&Value| {
            strings(st.get("Action"))
                .iter()
                .any(|p| wildcard(&p.to_ascii_lowercase(), &action.to_ascii_lowercase()))
                && strings(st.get("Resource"))
                    .iter()
                    .any(|p| wildcard(p, resource))
        };
        let effect = |st: &&Value, e: &str| st.get("Effect").and_then(Value::as_str) == Some(e);
        !self
            .statements()
            .filter(matching)
            .any(|st| effect(&st, "Deny"))
            && self
                .statements()
                .filter(matching)
                .any(|st| effect(&st, "Allow"))
    }
}

impl Policy {
    /// Whether the document allows one record change of `ChangeResourceRecordSets` on
    /// `zone_arn`: an Allow statement for the action and zone whose Route53 conditions
    /// (`ForAllValues:StringLike` / `StringEquals` on `route53:ChangeResourceRecordSets*`: the
    /// normalized record names, record types and actions) the change meets. Only those
    /// condition operators are understood; a statement with another condition never matches.
    pub fn allows_record_change(
        &self,
        zone_arn: &str,
        name: &str,
        record_type: &str,
        action: &str,
    ) -> bool {
        let allows = |st: &Value| {
            let effect = st.get("Effect").and_then(Value::as_str) == Some("Allow");
            let acts = strings(st.get("Action"))
                .iter()
                .any(|p| wildcard(&p.to_ascii_lowercase(), "route53:changeresourcerecordsets"));
            let on_zone = strings(st.get("Resource"))
                .iter()
                .any(|p| wildcard(p, zone_arn));
            effect && acts && on_zone && route53_conditions_met(st, name, record_type, action)
        };
        self.statements().any(allows)
    }

    /// The values a `StringEquals` condition on `key` requires in the Allow statements that
    /// grant `action` (empty when none conditions it). moto evaluates no condition: tests
    /// compare what the hook sends with these.
    pub fn string_equals(&self, action: &str, key: &str) -> Vec<String> {
        self.statements()
            .filter(|st| st.get("Effect").and_then(Value::as_str) == Some("Allow"))
            .filter(|st| {
                strings(st.get("Action"))
                    .iter()
                    .any(|p| wildcard(&p.to_ascii_lowercase(), &action.to_ascii_lowercase()))
            })
            .flat_map(|st| strings(st.pointer(&format!("/Condition/StringEquals/{key}"))))
            .collect()
    }
}

/// Whether a statement's conditions hold for one record change (see
/// [`Policy::allows_record_change`]).
fn route53_conditions_met(st: &Value, name: &str, record_type: &str, action: &str) -> bool {
    let Some(conditions) = st.get("Condition").and_then(Value::as_object) else {
        return true;
    };
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    conditions.iter().all(|(operator, keys)| {
        let Some(keys) = keys.as_object() else {
            return false;
        };
        keys.iter().all(|(key, wanted)| {
            let value = match key.as_str() {
                "route53:ChangeResourceRecordSetsNormalizedRecordNames" => name.as_str(),
                "route53:ChangeResourceRecordSetsRecordTypes" => record_type,
                "route53:ChangeResourceRecordSetsActions" => action,
                _ => return false,
            };
            let wanted = strings(Some(wanted));
            match operator.as_str() {
                "ForAllValues:StringLike" => wanted.iter().any(|p| wildcard(p, value)),
                "ForAllValues:StringEquals" => wanted.iter().any(|w| w == value),
                _ => false,
            }
        })
    })
}

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

/// IAM's wildcard match: `*` any run of characters, `?` one character.
fn wildcard(pattern: &str, value: &str) -> bool {
    let (p, v): (Vec<char>, Vec<char>) = (pattern.chars().collect(), value.chars().collect());
    let (mut pi, mut vi, mut star, mut mark) = (0, 0, None, 0);
    while vi < v.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == v[vi]) {
            pi += 1;
            vi += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = vi;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            vi = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// A moto with IAM access control on, and an administrator (a user allowed `*`) for the test's
/// set-up and checks. Stopped on drop.
pub struct IamMoto {
    server: MotoServer,
    admin: StaticCredentials,
}

/// The three unchecked requests of [`IamMoto::start`]: CreateUser, PutUserPolicy and
/// CreateAccessKey for the administrator.
const BOOTSTRAP_REQUESTS: u32 = 3;

impl IamMoto {
    /// Starts moto with `INITIAL_NO_AUTH_ACTION_COUNT` = 3 and spends those three unchecked
    /// requests on the administrator; every later request is checked.
    pub async fn start() -> Result<Self, String> {
        // Starting moto blocks (a child process, up to two minutes): off the async workers.
        let server =
            tokio::task::spawn_blocking(|| MotoServer::start_enforcing_iam(BOOTSTRAP_REQUESTS))
                .await
                .map_err(|e| format!("starting moto: {e}"))??;
        let anyone = StaticCredentials {
            access_key_id: "bootstrap".into(),
            secret_access_key: Secret::new("bootstrap"),
            session_token: None,
        };
        let mut moto = Self {
            server,
            admin: anyone,
        };
        let admin = moto
            .user_with_policy("test-admin", &Self::admin_policy().0)
            .await?;
        moto.admin = admin;
        Ok(moto)
    }

    /// The server's URL.
    pub fn url(&self) -> &url::Url {
        self.server.url()
    }

    /// The administrator's policy: every action on every resource.
    pub fn admin_policy() -> Policy {
        Policy(json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "TestAdministrator", "Effect": "Allow", "Action": "*", "Resource": "*"}
        ]}))
    }

    /// The administrator's access key.
    pub fn admin_credentials(&self) -> &StaticCredentials {
        &self.admin
    }

    /// An [`AwsConfig`] signing as the administrator.
    pub fn admin_config(&self) -> AwsConfig {
        AwsConfig {
            credentials: Some(self.admin.clone()),
            ..self.server.config()
        }
    }

    /// Clients signing as the administrator.
    pub async fn admin_clients(&self) -> AwsClients {
        AwsClients::new(&self.admin_config())
            .await
            .expect("clients for moto")
    }

    /// Creates IAM user `name` whose only policy is `document` (inline), and an access key for it.
    pub async fn user_with_policy(
        &self,
        name: &str,
        document: &Value,
    ) -> Result<StaticCredentials, String> {
        self.iam("CreateUser", &[("UserName", name)]).await?;
        self.iam(
            "PutUserPolicy",
            &[
                ("UserName", name),
                ("PolicyName", "instance"),
                ("PolicyDocument", &document.to_string()),
            ],
        )
        .await?;
        let out = self.iam("CreateAccessKey", &[("UserName", name)]).await?;
        let key = xml_text(&out, "AccessKeyId").ok_or("CreateAccessKey: no AccessKeyId")?;
        let secret =
            xml_text(&out, "SecretAccessKey").ok_or("CreateAccessKey: no SecretAccessKey")?;
        Ok(StaticCredentials {
            access_key_id: key,
            secret_access_key: Secret::new(secret),
            session_token: None,
        })
    }

    /// One IAM Query API call signed with the administrator's key (moto routes a request to a
    /// service by the signature's credential scope).
    async fn iam(&self, action: &str, params: &[(&str, &str)]) -> Result<String, String> {
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        form.append_pair("Action", action)
            .append_pair("Version", "2010-05-08");
        for (k, v) in params {
            form.append_pair(k, v);
        }
        let body = form.finish();
        let endpoint = self.server.url().as_str();
        let host = format!(
            "{}:{}",
            self.server.url().host_str().unwrap_or("127.0.0.1"),
            self.server.url().port_or_known_default().unwrap_or(80)
        );
        let identity: Identity = aws_credential_types::Credentials::new(
            self.admin.access_key_id.clone(),
            self.admin.secret_access_key.expose().to_owned(),
            None,
            None,
            "test-admin",
        )
        .into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(REGION)
            .name("iam")
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| e.to_string())?
            .into();
        const CONTENT_TYPE: &str = "application/x-www-form-urlencoded; charset=utf-8";
        let headers = [("content-type", CONTENT_TYPE), ("host", host.as_str())];
        let signable = SignableRequest::new(
            "POST",
            endpoint,
            headers.iter().copied(),
            SignableBody::Bytes(body.as_bytes()),
        )
        .map_err(|e| e.to_string())?;
        let instructions = sign(signable, &params)
            .map_err(|e| e.to_string())?
            .into_parts()
            .0;
        let mut req = reqwest::Client::new()
            .post(endpoint)
            .header(reqwest::header::CONTENT_TYPE, CONTENT_TYPE)
            .body(body);
        for (name, value) in instructions.headers() {
            req = req.header(name, value);
        }
        let resp = req.send().await.map_err(|e| format!("IAM {action}: {e}"))?;
        let status = resp.status();
        let text = resp
            .text()
            .await
            .map_err(|e| format!("IAM {action}: {e}"))?;
        if !status.is_success() {
            return Err(format!("IAM {action}: HTTP {status}: {text}"));
        }
        Ok(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs() -> PolicyInputs {
        PolicyInputs {
            hosted_zone_id: "Z123".into(),
            record_name_pattern: "bbb-i-*.example.org".into(),
            autoscaling_group_arn: "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:u:autoScalingGroupName/g".into(),
            fleet_name: "f".into(),
            scalelite_secret_parameter: "/bbb/s".into(),
            hook_config_parameter: "/bbb/fleets/f/hook-config".into(),
            turn_secret_parameter: None,
            tls_certificate_parameter: None,
            tls_certificate_secret_arn: None,
        }
    }

    #[test]
    fn renders_the_module_template_and_scopes_resources() {
        let p = Policy::instance(&inputs()).unwrap();
        let zone = "arn:aws:route53:::hostedzone/Z123";
        assert!(p.allows("route53:ListResourceRecordSets", zone));
        assert!(p.allows("route53:ChangeResourceRecordSets", zone));
        assert!(!p.allows(
            "route53:ChangeResourceRecordSets",
            "arn:aws:route53:::hostedzone/Z999"
        ));
        assert!(p.allows("route53:GetChange", "arn:aws:route53:::change/C1"));
        assert!(p.allows("ssm:GetParameter", &parameter_arn("/bbb/s")));
        assert!(!p.allows("ssm:GetParameter", &parameter_arn("/bbb/other")));
        assert!(!p.allows("ssm:GetParameters", &parameter_arn("/bbb/s")));
        // protect reads the group's real protection of its instance (hook/src/commands/protect.rs).
        assert!(p.allows("autoscaling:DescribeAutoScalingInstances", "*"));
        assert!(!p.allows("autoscaling:UpdateAutoScalingGroup", "*"));
        assert!(p.allows("autoscaling:DescribeAutoScalingGroups", "*"));
        // The hook publishes its metrics into the fleet's namespace only.
        assert!(p.allows("cloudwatch:PutMetricData", "*"));
        assert_eq!(
            p.string_equals("cloudwatch:PutMetricData", "cloudwatch:namespace"),
            vec![crate::aws::FLEET_METRICS_NAMESPACE.to_owned()]
        );
        assert!(!p.allows("cloudwatch:PutMetricAlarm", "*"));
        let without = p.without_action("route53:ListResourceRecordSets");
        assert!(!without.allows("route53:ListResourceRecordSets", zone));
        assert!(without.allows("route53:ChangeResourceRecordSets", zone));
    }

    #[test]
    fn the_hook_may_change_its_a_record_and_ownership_mark_and_nothing_else() {
        let p = Policy::instance(&inputs()).unwrap();
        let zone = "arn:aws:route53:::hostedzone/Z123";
        let own = "bbb-i-0123456789abcdef0.example.org";
        for rtype in ["A", "TXT"] {
            for action in ["UPSERT", "DELETE"] {
                assert!(
                    p.allows_record_change(zone, own, rtype, action),
                    "{rtype} {action}"
                );
            }
            assert!(!p.allows_record_change(zone, own, rtype, "CREATE"));
            assert!(
                !p.allows_record_change(zone, "scalelite.example.org", rtype, "UPSERT"),
                "another name"
            );
            assert!(!p.allows_record_change(
                "arn:aws:route53:::hostedzone/Z999",
                own,
                rtype,
                "UPSERT"
            ));
        }
        for rtype in ["AAAA", "CNAME", "NS", "MX"] {
            assert!(
                !p.allows_record_change(zone, own, rtype, "UPSERT"),
                "{rtype}"
            );
        }
    }

    #[test]
    fn optional_statements_only_when_configured() {
        let mut i = inputs();
        let p = Policy::instance(&i).unwrap();
        assert!(!p.allows("ssm:GetParameter", &parameter_arn("/bbb/turn")));
        assert!(!p.allows("secretsmanager:GetSecretValue", "*"));
        i.turn_secret_parameter = Some("/bbb/turn".into());
        i.tls_certificate_parameter = Some("/aws/reference/secretsmanager/cert".into());
        i.tls_certificate_secret_arn =
            Some("arn:aws:secretsmanager:us-east-1:123456789012:secret:cert-AbCdEf".into());
        let p = Policy::instance(&i).unwrap();
        assert!(p.allows("ssm:GetParameter", &parameter_arn("/bbb/turn")));
        assert!(p.allows(
            "ssm:GetParameter",
            &parameter_arn("/aws/reference/secretsmanager/cert")
        ));
        assert!(p.allows(
            "secretsmanager:GetSecretValue",
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:cert-AbCdEf"
        ));
    }

    #[test]
    fn wildcards_and_rendering_errors() {
        assert!(wildcard("a*c", "abbbc"));
        assert!(wildcard("a?c", "abc"));
        assert!(!wildcard("a?c", "abbc"));
        assert!(!wildcard("abc", "*"));
        assert!(render_template("${x}", &[]).is_err());
        assert!(render_template("\"${x}\"", &[("x", "a\"b")]).is_err());
        assert_eq!(render_template("${x}-${x}", &[("x", "v")]).unwrap(), "v-v");
    }
}
