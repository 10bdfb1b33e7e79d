//! SSM Parameter Store: the Scalelite secret, kept as a SecureString.

use super::config::AwsClients;
use super::counters::Service;
use super::error::AwsError;
use crate::Secret;

impl AwsClients {
    /// The value of parameter `name`, decrypted if it is a SecureString (`GetParameter` with
    /// decryption). The value is only ever held as a [`Secret`]; neither logs nor errors carry it.
    pub async fn get_secure_parameter(&self, name: &str) -> Result<Secret, AwsError> {
        let log = self.begin(Service::Ssm, "GetParameter", name);
        let result = match self
            .ssm
            .get_parameter()
            .name(name)
            .with_decryption(true)
            .send()
            .await
        {
            Ok(out) => out
                .parameter
                .and_then(|p| p.value)
                .map(Secret::new)
                .ok_or_else(|| log.ctx.invalid("the parameter has no value")),
            Err(e) => {
                let err = log.ctx.sdk_error(e);
                if err.code() == Some("ParameterNotFound") {
                    Err(log.ctx.not_found("parameter"))
                } else {
                    Err(err)
                }
            }
        };
        log.finish(result)
    }
}
