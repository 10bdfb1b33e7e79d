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

/// A parameter as `GetParametersByPath` lists it: its name and when it was last written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParameterEntry {
    pub name: String,
    pub last_modified: Option<std::time::SystemTime>,
}

impl AwsClients {
    /// The parameters directly under `path` (not recursive), all pages, without their values.
    pub async fn list_parameters(&self, path: &str) -> Result<Vec<ParameterEntry>, AwsError> {
        let log = self.begin(Service::Ssm, "GetParametersByPath", path);
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        let result = loop {
            match self
                .ssm
                .get_parameters_by_path()
                .path(path)
                .recursive(false)
                .with_decryption(false)
                .set_next_token(token.take())
                .send()
                .await
            {
                Ok(page) => {
                    out.extend(page.parameters().iter().filter_map(|p| {
                        Some(ParameterEntry {
                            name: p.name()?.to_owned(),
                            last_modified: p
                                .last_modified_date()
                                .and_then(|t| std::time::SystemTime::try_from(*t).ok()),
                        })
                    }));
                    match page.next_token() {
                        Some(t) if !t.is_empty() => token = Some(t.to_owned()),
                        _ => break Ok(std::mem::take(&mut out)),
                    }
                }
                Err(e) => break Err(log.ctx.sdk_error(e)),
            }
        };
        log.finish(result)
    }

    /// Creates String parameter `name` with `value` unless it exists (`PutParameter` without
    /// overwrite). `Ok(false)` when it already existed (left unchanged).
    pub async fn create_parameter(&self, name: &str, value: &str) -> Result<bool, AwsError> {
        let log = self.begin(Service::Ssm, "PutParameter", name);
        let result = match self
            .ssm
            .put_parameter()
            .name(name)
            .value(value)
            .r#type(aws_sdk_ssm::types::ParameterType::String)
            .overwrite(false)
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e) => {
                let err = log.ctx.sdk_error(e);
                if err.code() == Some("ParameterAlreadyExists") {
                    Ok(false)
                } else {
                    Err(err)
                }
            }
        };
        log.finish(result)
    }

    /// Deletes parameters (`DeleteParameters`, at most 10 per call); names that do not exist
    /// are ignored.
    pub async fn delete_parameters(&self, names: &[String]) -> Result<(), AwsError> {
        for chunk in names.chunks(10) {
            let log = self.begin(Service::Ssm, "DeleteParameters", chunk.join(","));
            let result = self
                .ssm
                .delete_parameters()
                .set_names(Some(chunk.to_vec()))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| log.ctx.sdk_error(e));
            log.finish(result)?;
        }
        Ok(())
    }
}
