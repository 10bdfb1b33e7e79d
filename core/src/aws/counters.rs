//! Per-service call counters that callers (benchmarks, tests) can read at any time.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use aws_sdk_autoscaling::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_autoscaling::config::{ConfigBag, Intercept, RuntimeComponents};

/// An AWS service this module calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Service {
    AutoScaling,
    Route53,
    Ec2,
    Ssm,
    SecretsManager,
    CloudWatch,
}

impl Service {
    /// All services, in counter order.
    pub const ALL: [Service; 6] = [
        Service::AutoScaling,
        Service::Route53,
        Service::Ec2,
        Service::Ssm,
        Service::SecretsManager,
        Service::CloudWatch,
    ];

    /// The service's short name (`autoscaling`, `route53`, `ec2`, `ssm`, `secretsmanager`,
    /// `cloudwatch`).
    pub fn as_str(self) -> &'static str {
        match self {
            Service::AutoScaling => "autoscaling",
            Service::Route53 => "route53",
            Service::Ec2 => "ec2",
            Service::Ssm => "ssm",
            Service::SecretsManager => "secretsmanager",
            Service::CloudWatch => "cloudwatch",
        }
    }

    fn index(self) -> usize {
        match self {
            Service::AutoScaling => 0,
            Service::Route53 => 1,
            Service::Ec2 => 2,
            Service::Ssm => 3,
            Service::SecretsManager => 4,
            Service::CloudWatch => 5,
        }
    }
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A snapshot of one counter per service.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallCounts {
    pub autoscaling: u64,
    pub route53: u64,
    pub ec2: u64,
    pub ssm: u64,
    pub secretsmanager: u64,
    pub cloudwatch: u64,
}

impl CallCounts {
    /// The count for one service.
    pub fn get(&self, service: Service) -> u64 {
        match service {
            Service::AutoScaling => self.autoscaling,
            Service::Route53 => self.route53,
            Service::Ec2 => self.ec2,
            Service::Ssm => self.ssm,
            Service::SecretsManager => self.secretsmanager,
            Service::CloudWatch => self.cloudwatch,
        }
    }

    /// The sum over all services.
    pub fn total(&self) -> u64 {
        self.autoscaling
            + self.route53
            + self.ec2
            + self.ssm
            + self.secretsmanager
            + self.cloudwatch
    }
}

impl fmt::Display for CallCounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "autoscaling={} route53={} ec2={} ssm={} secretsmanager={} cloudwatch={}",
            self.autoscaling,
            self.route53,
            self.ec2,
            self.ssm,
            self.secretsmanager,
            self.cloudwatch
        )
    }
}

/// Counts API calls per service.
///
/// * `calls`: API operations sent (one per page or chunk of a paginated or batched method).
/// * `requests`: HTTP requests sent, retries included (so `requests >= calls`).
///
/// Shared by every clone of an [`AwsClients`](super::AwsClients); reading is lock-free.
#[derive(Debug, Default)]
pub struct CallCounters {
    calls: [AtomicU64; 6],
    requests: [AtomicU64; 6],
}

impl CallCounters {
    /// API operations sent to `service`.
    pub fn calls(&self, service: Service) -> u64 {
        self.calls[service.index()].load(Ordering::Relaxed)
    }

    /// HTTP requests sent to `service`, retries included.
    pub fn requests(&self, service: Service) -> u64 {
        self.requests[service.index()].load(Ordering::Relaxed)
    }

    /// All `calls` counters.
    pub fn call_counts(&self) -> CallCounts {
        self.snapshot(&self.calls)
    }

    /// All `requests` counters.
    pub fn request_counts(&self) -> CallCounts {
        self.snapshot(&self.requests)
    }

    /// Sets every counter back to zero.
    pub fn reset(&self) {
        for c in self.calls.iter().chain(self.requests.iter()) {
            c.store(0, Ordering::Relaxed);
        }
    }

    pub(crate) fn count_call(&self, service: Service) {
        self.calls[service.index()].fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn count_request(&self, service: Service) {
        self.requests[service.index()].fetch_add(1, Ordering::Relaxed);
    }

    fn snapshot(&self, counters: &[AtomicU64; 6]) -> CallCounts {
        let get = |s: Service| counters[s.index()].load(Ordering::Relaxed);
        CallCounts {
            autoscaling: get(Service::AutoScaling),
            route53: get(Service::Route53),
            ec2: get(Service::Ec2),
            ssm: get(Service::Ssm),
            secretsmanager: get(Service::SecretsManager),
            cloudwatch: get(Service::CloudWatch),
        }
    }
}

/// An SDK interceptor that counts each HTTP attempt (retries included) of one service.
#[derive(Debug)]
pub(crate) struct CountRequests {
    pub counters: Arc<CallCounters>,
    pub service: Service,
}

impl Intercept for CountRequests {
    fn name(&self) -> &'static str {
        "bbb-core::CountRequests"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), aws_sdk_autoscaling::error::BoxError> {
        self.counters.count_request(self.service);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_service() {
        let c = CallCounters::default();
        c.count_call(Service::Route53);
        c.count_call(Service::Route53);
        c.count_request(Service::Route53);
        c.count_call(Service::Ssm);
        assert_eq!(c.calls(Service::Route53), 2);
        assert_eq!(c.requests(Service::Route53), 1);
        assert_eq!(
            c.call_counts(),
            CallCounts {
                autoscaling: 0,
                route53: 2,
                ec2: 0,
                ssm: 1,
                secretsmanager: 0,
                cloudwatch: 0,
            }
        );
        assert_eq!(c.call_counts().total(), 3);
        assert_eq!(
            c.call_counts().to_string(),
            "autoscaling=0 route53=2 ec2=0 ssm=1 secretsmanager=0 cloudwatch=0"
        );
        c.reset();
        assert_eq!(c.call_counts(), CallCounts::default());
    }
}
