//! Secrets Manager: a secret's current value (`GetSecretValue`), e.g. the Scalelite secret kept
//! there instead of in SSM Parameter Store, whole or one key of a JSON secret.

#[cfg(feature = "secrets-manager")]
use super::{config::AwsClients, counters::Service, error::AwsError};
use crate::Secret;

#[cfg(feature = "secrets-manager")]
impl AwsClients {
    /// The string value of secret `secret_id` (name or ARN) at `version_stage` (Secrets
    /// Manager's default `AWSCURRENT` when `None`). Only ever held as a [`Secret`]; neither logs
    /// nor errors carry it. A binary secret is refused.
    pub async fn get_secret_string(
        &self,
        secret_id: &str,
        version_stage: Option<&str>,
    ) -> Result<Secret, AwsError> {
        let log = self.begin(Service::SecretsManager, "GetSecretValue", secret_id);
        let result = match self
            .secretsmanager
            .get_secret_value()
            .secret_id(secret_id)
            .set_version_stage(version_stage.map(str::to_owned))
            .send()
            .await
        {
            Ok(out) => out.secret_string.map(Secret::new).ok_or_else(|| {
                log.ctx
                    .invalid("the secret has no string value (binary secrets are not supported)")
            }),
            Err(e) => {
                let err = log.ctx.sdk_error(e);
                if err.code() == Some("ResourceNotFoundException") {
                    Err(log.ctx.not_found("secret"))
                } else {
                    Err(err)
                }
            }
        };
        log.finish(result)
    }
}

/// Why a key could not be taken from a JSON secret. Never carries the secret's text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JsonKeyError {
    #[error("the secret is not a JSON object")]
    NotAnObject,
    #[error("the secret has no key {0:?}")]
    MissingKey(String),
    #[error("the secret's key {0:?} is not a string")]
    NotAString(String),
}

/// The string at `key` of a secret that holds a JSON object (Secrets Manager's key/value
/// secrets, as the console writes them).
pub fn json_key(secret: &Secret, key: &str) -> Result<Secret, JsonKeyError> {
    let doc: serde_json::Value =
        serde_json::from_str(secret.expose()).map_err(|_| JsonKeyError::NotAnObject)?;
    let obj = doc.as_object().ok_or(JsonKeyError::NotAnObject)?;
    match obj.get(key) {
        None => Err(JsonKeyError::MissingKey(key.to_owned())),
        Some(serde_json::Value::String(s)) => Ok(Secret::new(s.clone())),
        Some(_) => Err(JsonKeyError::NotAString(key.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_key_takes_one_string_and_never_shows_the_secret() {
        let s = Secret::new(r#"{"loadbalancer_secret":"s3cr3t-value","n":1}"#);
        assert_eq!(
            json_key(&s, "loadbalancer_secret").expect("key").expose(),
            "s3cr3t-value"
        );
        for (key, want) in [
            ("missing", JsonKeyError::MissingKey("missing".into())),
            ("n", JsonKeyError::NotAString("n".into())),
        ] {
            let err = json_key(&s, key).expect_err(key);
            assert_eq!(err, want);
            assert!(!err.to_string().contains("s3cr3t"), "{err}");
        }
        let plain = Secret::new("s3cr3t-plain");
        let err = json_key(&plain, "k").expect_err("not JSON");
        assert_eq!(err, JsonKeyError::NotAnObject);
        assert!(!err.to_string().contains("s3cr3t"));
    }
}
