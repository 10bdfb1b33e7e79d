//! Ephemeral resource `bbb_scalelite_secret`: a secret (Scalelite's `LOADBALANCER_SECRET`, a
//! BBB server's secret) read from SSM Parameter Store (a SecureString, decrypted) or Secrets
//! Manager (whole, or one key of a JSON secret), for write-only arguments and provider blocks.
//! It is read again in every run (plan and apply) and never stored: nothing to close, nothing
//! to renew (the value does not expire within a run).
//!
//! IAM: `ssm:GetParameter` on the parameter (and `kms:Decrypt` on its key when that is a
//! customer managed key), or `secretsmanager:GetSecretValue` on the secret (and `kms:Decrypt`
//! likewise).

use async_trait::async_trait;
use bbb_core::aws::json_key;

use crate::aws_access::aws_error;
use crate::provider::ProviderData;
use tfplugin_framework::validators::not_blank;
use tfplugin_framework::{
    AttrPath, Attribute, Block, Diagnostics, EphemeralResource, Opened, Schema, Value,
};

pub struct ScaleliteSecret;

const SSM: &str = "ssm_parameter_name";
const SM: &str = "secrets_manager_secret_id";
const KEY: &str = "json_key";

#[async_trait]
impl EphemeralResource<ProviderData> for ScaleliteSecret {
    fn type_name(&self) -> &'static str {
        "bbb_scalelite_secret"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            Block::new()
                .description("Reads a secret (Scalelite's `LOADBALANCER_SECRET`, or a BBB server's shared secret) from SSM Parameter Store or Secrets Manager for one run, never storing it in a plan or state file: feed it to a write-only argument (`bbb_scalelite_server`'s `secret_wo`) or a provider block (`scalelite_secret`). Needs Terraform 1.10+ or OpenTofu 1.11+.")
                .attribute(Attribute::string(SSM).optional().validate(not_blank()).description("Name (or ARN) of an SSM parameter holding the secret, a SecureString read with decryption (the Scalelite module's and the fleet's `scalelite_secret_parameter`). Set this or `secrets_manager_secret_id`."))
                .attribute(Attribute::string(SM).optional().validate(not_blank()).description("Name or ARN of a Secrets Manager secret holding the secret (its `AWSCURRENT` version). Set this or `ssm_parameter_name`."))
                .attribute(Attribute::string(KEY).optional().validate(not_blank()).description("With `secrets_manager_secret_id`: the secret is a JSON object and the value is this key's string, e.g. `loadbalancer_secret`."))
                .attribute(Attribute::string("value").computed().sensitive().description("The secret. Ephemeral: never in a plan or state file.")),
        )
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        let set = |n: &str| !config.get(n).is_null();
        match (set(SSM), set(SM)) {
            (true, true) => diags.error_at(
                AttrPath::attr(SM),
                "Conflicting sources",
                "Set either ssm_parameter_name or secrets_manager_secret_id, not both.",
            ),
            (false, false) => diags.error_at(
                AttrPath::attr(SSM),
                "Missing source",
                "Set ssm_parameter_name (SSM Parameter Store) or secrets_manager_secret_id (Secrets Manager).",
            ),
            _ => {}
        }
        if set(KEY) && !set(SM) {
            diags.error_at(
                AttrPath::attr(KEY),
                "json_key needs secrets_manager_secret_id",
                "json_key picks a key of a JSON secret in Secrets Manager; an SSM parameter is read whole.",
            );
        }
    }

    async fn open(&self, data: &ProviderData, config: Value) -> Result<Opened, Diagnostics> {
        let aws = data.aws().await?;
        let secret = if let Some(name) = config.get(SSM).as_str() {
            aws.get_secure_parameter(name)
                .await
                .map_err(|e| aws_error("read the secret from SSM Parameter Store", &e))?
        } else if let Some(id) = config.get(SM).as_str() {
            let whole = aws
                .get_secret_string(id, None)
                .await
                .map_err(|e| aws_error("read the secret from Secrets Manager", &e))?;
            match config.get(KEY).as_str() {
                Some(key) => json_key(&whole, key).map_err(|e| {
                    Diagnostics::from_error_at(
                        AttrPath::attr(KEY),
                        "Could not read the secret's key",
                        format!("Secrets Manager secret {id:?}: {e}."),
                    )
                })?,
                None => whole,
            }
        } else {
            return Err(Diagnostics::from_error(
                "Missing source",
                "Set ssm_parameter_name or secrets_manager_secret_id.",
            ));
        };
        if secret.is_empty() {
            return Err(Diagnostics::from_error(
                "Empty secret",
                "The secret read is empty; Scalelite and BBB refuse an empty secret.",
            ));
        }
        let mut result = config;
        result.set("value", Value::string(secret.expose()));
        Ok(Opened::new(result))
    }
}
