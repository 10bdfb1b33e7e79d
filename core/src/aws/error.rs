//! Errors of the AWS calls, each naming the call and the resource it was about (never a secret).

use std::error::Error as StdError;
use std::time::Duration;

use aws_sdk_autoscaling::config::http::HttpResponse;
use aws_sdk_autoscaling::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

use super::counters::Service;

/// Error codes AWS services use for throttling (the SDK's retry classifier retries these).
pub(crate) const THROTTLING_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
];

/// An error of an AWS call.
#[derive(Debug, thiserror::Error)]
pub enum AwsError {
    /// The service answered with an error (after the configured retries).
    #[error("{service} {operation} ({resource}): {code}: {message}")]
    Service {
        service: Service,
        operation: &'static str,
        resource: String,
        code: String,
        message: String,
        request_id: Option<String>,
    },
    /// No answer within the configured timeout.
    #[error("{service} {operation} ({resource}): timed out")]
    Timeout {
        service: Service,
        operation: &'static str,
        resource: String,
    },
    /// The request could not be sent or its answer could not be read or parsed.
    #[error("{service} {operation} ({resource}): {detail}")]
    Transport {
        service: Service,
        operation: &'static str,
        resource: String,
        detail: String,
    },
    /// The request could not be built (bad input, no credentials, no region).
    #[error("{service} {operation} ({resource}): could not build the request: {detail}")]
    Request {
        service: Service,
        operation: &'static str,
        resource: String,
        detail: String,
    },
    /// The service answered successfully but without something the caller needs.
    #[error("{service} {operation} ({resource}): unexpected answer: {detail}")]
    InvalidResponse {
        service: Service,
        operation: &'static str,
        resource: String,
        detail: String,
    },
    /// The named resource does not exist.
    #[error("{service} {operation}: {kind} {resource} not found")]
    NotFound {
        service: Service,
        operation: &'static str,
        kind: &'static str,
        resource: String,
    },
    /// A Route53 change did not reach INSYNC in time.
    #[error("route53 change {change_id} still {last_status} after {waited:?}")]
    ChangeNotInSync {
        change_id: String,
        last_status: String,
        waited: Duration,
    },
    /// The configuration is unusable.
    #[error("aws configuration: {0}")]
    Config(String),
}

impl AwsError {
    /// The service's error code (`Throttling`, `ValidationError`, ...), for service errors.
    pub fn code(&self) -> Option<&str> {
        match self {
            AwsError::Service { code, .. } => Some(code),
            _ => None,
        }
    }

    /// Whether the service answered with a throttling error (retries ran out).
    pub fn is_throttling(&self) -> bool {
        self.code().is_some_and(|c| THROTTLING_CODES.contains(&c))
    }

    /// Whether IAM refused the call (the caller's policy does not allow it): no retry helps.
    pub fn is_access_denied(&self) -> bool {
        self.code().is_some_and(|c| {
            matches!(
                c,
                "AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation"
            )
        })
    }

    /// Whether the call failed because the resource it names does not exist.
    ///
    /// Auto Scaling has no not-found code: it answers `ValidationError` with a message, e.g.
    /// "AutoScalingGroup name not found - ...", "Scheduled Update Group Action not found" or,
    /// for DeleteLifecycleHook, "No Lifecycle Hook found for ..." (the shapes
    /// terraform-provider-aws matches too).
    pub fn is_not_found(&self) -> bool {
        match self {
            AwsError::NotFound { .. } => true,
            AwsError::Service {
                service,
                code,
                message,
                ..
            } => {
                matches!(
                    code.as_str(),
                    "ParameterNotFound" | "NoSuchHostedZone" | "NoSuchChange"
                ) || (code == "InvalidChangeBatch" && message.contains("not found"))
                    || code.starts_with("InvalidInstanceID.NotFound")
                    || (*service == Service::AutoScaling
                        && code == "ValidationError"
                        && names_missing(message))
            }
            _ => false,
        }
    }

    /// The service the failed call went to, if it got that far.
    pub fn service(&self) -> Option<Service> {
        match self {
            AwsError::Service { service, .. }
            | AwsError::Timeout { service, .. }
            | AwsError::Transport { service, .. }
            | AwsError::Request { service, .. }
            | AwsError::InvalidResponse { service, .. }
            | AwsError::NotFound { service, .. } => Some(*service),
            AwsError::ChangeNotInSync { .. } => Some(Service::Route53),
            AwsError::Config(_) => None,
        }
    }
}

/// Whether an Auto Scaling `ValidationError` message says that what the call names is missing.
fn names_missing(message: &str) -> bool {
    let lower = message.to_ascii_lowercase();
    lower.contains("not found") || lower.contains("no lifecycle hook found")
}

/// Which call an error is about: the service, the operation and the resource it named.
#[derive(Debug, Clone)]
pub(crate) struct CallContext {
    pub service: Service,
    pub operation: &'static str,
    pub resource: String,
}

impl CallContext {
    pub fn new(service: Service, operation: &'static str, resource: impl Into<String>) -> Self {
        Self {
            service,
            operation,
            resource: resource.into(),
        }
    }

    /// Maps an SDK error to an [`AwsError`] about this call. The raw HTTP answer is left out
    /// (only its status is kept).
    pub fn sdk_error<E>(&self, err: SdkError<E, HttpResponse>) -> AwsError
    where
        E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
    {
        match &err {
            SdkError::TimeoutError(_) => self.timeout(),
            SdkError::DispatchFailure(f) if f.is_timeout() => self.timeout(),
            SdkError::ConstructionFailure(_) => self.request(DisplayErrorContext(&err).to_string()),
            SdkError::ServiceError(ctx) => match err.code() {
                Some(code) => AwsError::Service {
                    service: self.service,
                    operation: self.operation,
                    resource: self.resource.clone(),
                    code: code.to_owned(),
                    message: err.message().unwrap_or_default().to_owned(),
                    request_id: err.meta().extra("aws_request_id").map(str::to_owned),
                },
                None => self.transport(format!(
                    "HTTP {} with an unreadable error answer: {}",
                    ctx.raw().status().as_u16(),
                    DisplayErrorContext(ctx.err())
                )),
            },
            SdkError::ResponseError(ctx) => self.transport(format!(
                "HTTP {} with an unreadable answer",
                ctx.raw().status().as_u16()
            )),
            _ => self.transport(DisplayErrorContext(&err).to_string()),
        }
    }

    pub fn timeout(&self) -> AwsError {
        AwsError::Timeout {
            service: self.service,
            operation: self.operation,
            resource: self.resource.clone(),
        }
    }

    pub fn transport(&self, detail: impl Into<String>) -> AwsError {
        AwsError::Transport {
            service: self.service,
            operation: self.operation,
            resource: self.resource.clone(),
            detail: detail.into(),
        }
    }

    pub fn request(&self, detail: impl Into<String>) -> AwsError {
        AwsError::Request {
            service: self.service,
            operation: self.operation,
            resource: self.resource.clone(),
            detail: detail.into(),
        }
    }

    pub fn invalid(&self, detail: impl Into<String>) -> AwsError {
        AwsError::InvalidResponse {
            service: self.service,
            operation: self.operation,
            resource: self.resource.clone(),
            detail: detail.into(),
        }
    }

    pub fn not_found(&self, kind: &'static str) -> AwsError {
        AwsError::NotFound {
            service: self.service,
            operation: self.operation,
            kind,
            resource: self.resource.clone(),
        }
    }

    pub fn service_error(
        &self,
        code: impl Into<String>,
        message: impl Into<String>,
        request_id: Option<String>,
    ) -> AwsError {
        AwsError::Service {
            service: self.service,
            operation: self.operation,
            resource: self.resource.clone(),
            code: code.into(),
            message: message.into(),
            request_id,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_call_and_resource() {
        let ctx = CallContext::new(Service::AutoScaling, "SetInstanceProtection", "asg-1");
        let e = ctx.service_error("ValidationError", "bad", None);
        assert_eq!(
            e.to_string(),
            "autoscaling SetInstanceProtection (asg-1): ValidationError: bad"
        );
        assert_eq!(e.code(), Some("ValidationError"));
        assert!(!e.is_throttling());
        assert!(ctx
            .service_error("Throttling", "Rate exceeded", None)
            .is_throttling());
        assert!(ctx.not_found("group").is_not_found());
        assert!(ctx
            .service_error("AccessDenied", "not authorized", None)
            .is_access_denied());
        assert!(!e.is_access_denied());
        assert_eq!(
            ctx.not_found("group").to_string(),
            "autoscaling SetInstanceProtection: group asg-1 not found"
        );
        assert_eq!(ctx.timeout().service(), Some(Service::AutoScaling));
    }

    #[test]
    fn auto_scaling_validation_errors_naming_a_missing_object_are_not_found() {
        let ctx = CallContext::new(Service::AutoScaling, "DeleteLifecycleHook", "asg-1/hook");
        for message in [
            "AutoScalingGroup name not found - AutoScalingGroup asg-1 not found",
            "Scheduled Update Group Action not found",
            "No Lifecycle Hook found for autoScalingGroupName asg-1 and lifecycleHookName hook",
        ] {
            assert!(
                ctx.service_error("ValidationError", message, None)
                    .is_not_found(),
                "{message}"
            );
        }
        // Other validation errors are real failures.
        assert!(!ctx
            .service_error("ValidationError", "Max bound must be >= min bound", None)
            .is_not_found());
        // Another service's ValidationError is not classified by Auto Scaling's messages.
        let ssm = CallContext::new(Service::Ssm, "GetParameter", "/p");
        assert!(!ssm
            .service_error("ValidationError", "thing not found", None)
            .is_not_found());
    }
}
