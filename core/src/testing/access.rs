//! The IAM check of a request that a test endpoint answers itself instead of moto (the
//! lifecycle-action calls moto lacks, and the sandbox's own Auto Scaling answers): moto checks
//! the requests it serves (see [`super::iam`]); an endpoint in front of it checks the ones it
//! keeps with [`Principals::check`], the same way for every such endpoint.
//!
//! What is checked: the request is signed (SigV4 `Authorization` header) with an access key the
//! test gave out, and the policy bound to that key allows the action on the resource
//! ([`Policy::allows`]: actions and resources, not conditions). The signature itself is not
//! verified (moto verifies the ones of the requests it serves). The answers are AWS's:
//! `InvalidClientTokenId` for an unknown key, `AccessDenied` for an action the policy does not
//! allow, both HTTP 403.

use std::collections::HashMap;

use super::iam::Policy;

/// The access keys an endpoint accepts, each with the policy its owner is bound to.
#[derive(Debug, Clone, Default)]
pub struct Principals {
    keys: HashMap<String, Policy>,
}

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denial {
    /// No signature, or one by a key nobody was given.
    InvalidClientTokenId,
    /// The key's policy does not allow the action on the resource.
    AccessDenied { action: String, resource: String },
}

impl Denial {
    /// AWS's error code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidClientTokenId => "InvalidClientTokenId",
            Self::AccessDenied { .. } => "AccessDenied",
        }
    }

    /// AWS's error message.
    pub fn message(&self) -> String {
        match self {
            Self::InvalidClientTokenId => {
                "The security token included in the request is invalid.".to_owned()
            }
            Self::AccessDenied { action, resource } => {
                format!("User is not authorized to perform: {action} on resource: {resource}")
            }
        }
    }

    /// The HTTP status AWS answers with (403 for both).
    pub fn status(&self) -> u16 {
        403
    }
}

/// The access key id of a SigV4 `Authorization` header (`... Credential=<key>/<scope>, ...`).
pub fn signing_key(authorization: &str) -> Option<&str> {
    authorization
        .split("Credential=")
        .nth(1)
        .and_then(|c| c.split('/').next())
        .filter(|k| !k.is_empty())
}

impl Principals {
    /// No key accepted.
    pub fn new() -> Self {
        Self::default()
    }

    /// Accepts `access_key_id`, bound to `policy`.
    pub fn with(mut self, access_key_id: &str, policy: Policy) -> Self {
        self.keys.insert(access_key_id.to_owned(), policy);
        self
    }

    /// Checks a request carrying `authorization` (the header's value, if any) for `action`
    /// (`<service>:<operation>`) on `resource`.
    pub fn check(
        &self,
        authorization: Option<&str>,
        action: &str,
        resource: &str,
    ) -> Result<(), Denial> {
        let policy = authorization
            .and_then(signing_key)
            .and_then(|k| self.keys.get(k))
            .ok_or(Denial::InvalidClientTokenId)?;
        if policy.allows(action, resource) {
            Ok(())
        } else {
            Err(Denial::AccessDenied {
                action: action.to_owned(),
                resource: resource.to_owned(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const GROUP: &str =
        "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:u:autoScalingGroupName/g";

    fn auth(key: &str) -> String {
        format!("AWS4-HMAC-SHA256 Credential={key}/20261201/us-east-1/autoscaling/aws4_request, SignedHeaders=host, Signature=00")
    }

    #[test]
    fn unknown_or_missing_keys_are_invalid_tokens() {
        let p = Principals::new().with("AKIA1", Policy(json!({"Statement": []})));
        let action = "autoscaling:CompleteLifecycleAction";
        assert_eq!(
            p.check(None, action, GROUP),
            Err(Denial::InvalidClientTokenId)
        );
        assert_eq!(
            p.check(Some(&auth("AKIA2")), action, GROUP),
            Err(Denial::InvalidClientTokenId)
        );
        assert_eq!(
            p.check(Some("AWS4-HMAC-SHA256 Credential=/x"), action, GROUP),
            Err(Denial::InvalidClientTokenId)
        );
    }

    #[test]
    fn the_keys_policy_decides() {
        let allow = Policy(json!({"Statement": [{"Effect": "Allow",
            "Action": ["autoscaling:CompleteLifecycleAction"], "Resource": GROUP}]}));
        let p = Principals::new()
            .with("AKIA1", allow)
            .with("AKIA2", Policy(json!({"Statement": []})));
        let action = "autoscaling:CompleteLifecycleAction";
        assert_eq!(p.check(Some(&auth("AKIA1")), action, GROUP), Ok(()));
        let denied = p.check(
            Some(&auth("AKIA1")),
            "autoscaling:RecordLifecycleActionHeartbeat",
            GROUP,
        );
        assert_eq!(denied.as_ref().map_err(Denial::code), Err("AccessDenied"));
        assert_eq!(
            p.check(Some(&auth("AKIA1")), action, "arn:other")
                .map_err(|d| d.message()),
            Err(format!(
                "User is not authorized to perform: {action} on resource: arn:other"
            ))
        );
        assert!(p.check(Some(&auth("AKIA2")), action, GROUP).is_err());
    }
}
