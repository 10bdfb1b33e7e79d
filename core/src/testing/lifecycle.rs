//! An Auto Scaling endpoint for tests: moto, plus the two lifecycle-action calls moto lacks
//! (`CompleteLifecycleAction`, `RecordLifecycleActionHeartbeat`), stubbed with wiremock. Every
//! other request is forwarded to moto unchanged, so one endpoint serves the whole Auto Scaling
//! API (`AWS_ENDPOINT_URL_AUTO_SCALING`).
//!
//! [`LifecycleStub::start_enforcing`] stands in for IAM on the two stubbed calls, as moto does for
//! the forwarded ones (see [`super::iam`]): they must be signed with the given access key (the
//! signature itself is not verified) and the instance policy must allow the action on the group's
//! ARN ([`Policy::allows`]: actions and resources, not conditions); otherwise the answer is
//! AWS's 403 `AccessDenied` (or `InvalidClientTokenId`). The check is
//! [`super::access::Principals::check`], shared with the sandbox's Auto Scaling endpoint.
//!
//! [`LifecycleStub::pending_launch`] holds an instance in the launching hook's wait as AWS does
//! and moto does not (`Pending:Wait` shown, `SetInstanceProtection` refused, the completion
//! ends it): see [`super::launch_wait`]. The stub's refusals are listed by
//! [`LifecycleStub::refusals`]. Without an instance declared pending, every request is answered
//! as above.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use url::Url;
use wiremock::matchers::{body_string_contains, method};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use super::access::Principals;
use super::autoscaling::{
    instance_ids, not_in_service_message, protection_refusal, with_lifecycle_states,
};
use super::iam::Policy;
use super::launch_wait::{no_active_action_message, LaunchWaits, Refusal, Verdict};
use crate::aws::AwsConfig;

const NS: &str = "http://autoscaling.amazonaws.com/doc/2011-01-01/";

/// One lifecycle call the stub received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LifecycleCall {
    /// `CompleteLifecycleAction` or `RecordLifecycleActionHeartbeat`.
    pub action: String,
    pub hook_name: String,
    pub instance_id: String,
    /// `CONTINUE` / `ABANDON` for completions.
    pub result: Option<String>,
}

/// The stub; stopped when dropped.
pub struct LifecycleStub {
    server: MockServer,
    /// moto's URL.
    moto: Url,
    /// What answers the requests that reach "AWS" (moto, with the launching hook's wait).
    front: Front,
}

fn ok(action: &str) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .insert_header("content-type", "text/xml")
        .set_body_string(format!(
            "<{action}Response xmlns=\"{NS}\"><{action}Result/>\
             <ResponseMetadata><RequestId>stub</RequestId></ResponseMetadata></{action}Response>"
        ))
}

/// An Auto Scaling error document with HTTP `status` (403 for IAM's refusals, 400 for
/// validation and throttling).
fn error(status: u16, code: &str, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .insert_header("content-type", "text/xml")
        .set_body_string(format!(
            "<ErrorResponse xmlns=\"{NS}\"><Error><Type>Sender</Type><Code>{code}</Code>\
             <Message>{message}</Message></Error><RequestId>stub</RequestId></ErrorResponse>"
        ))
}

/// Who may call the stubbed actions, on which group.
#[derive(Clone)]
struct Access {
    principals: Principals,
    group_arn: String,
}

impl Access {
    /// IAM's refusal of `action` for a request, if any (none when the stub does not enforce).
    fn denial(access: &Option<Access>, req: &Request, action: &str) -> Option<ResponseTemplate> {
        let access = access.as_ref()?;
        let auth = req
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok());
        access
            .principals
            .check(auth, &format!("autoscaling:{action}"), &access.group_arn)
            .err()
            .map(|d| error(d.status(), d.code(), &d.message()))
    }
}

fn form(req: &Request) -> HashMap<String, String> {
    url::form_urlencoded::parse(&req.body)
        .into_owned()
        .collect()
}

/// The two lifecycle calls moto lacks: IAM's check, then the launching hook's wait for an
/// instance declared pending ([`LaunchWaits::lifecycle_call`]), otherwise accepted.
struct Answer {
    action: &'static str,
    access: Option<Access>,
    waits: LaunchWaits,
}

impl Respond for Answer {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        if let Some(denied) = Access::denial(&self.access, req, self.action) {
            return denied;
        }
        let form = form(req);
        let (Some(instance), Some(hook)) = (form.get("InstanceId"), form.get("LifecycleHookName"))
        else {
            return ok(self.action);
        };
        let result = form.get("LifecycleActionResult").map(String::as_str);
        match self
            .waits
            .lifecycle_call(self.action, instance, hook, result)
        {
            Verdict::NotModelled | Verdict::Accepted => ok(self.action),
            Verdict::NoActiveAction => {
                let message = no_active_action_message(instance);
                self.waits.refused(self.action, instance, &message);
                error(400, "ValidationError", &message)
            }
        }
    }
}

/// Every request the stub does not answer itself: moto's answer, with the launching hook's
/// wait of the instances declared pending ([`super::launch_wait`]): `SetInstanceProtection`
/// naming one in `Pending:Wait` refused (after IAM's check, as AWS authorizes a call before it
/// validates it), and its lifecycle state shown in `DescribeAutoScalingGroups` and
/// `DescribeAutoScalingInstances`.
#[derive(Clone)]
struct Front {
    moto: ForwardTo,
    waits: LaunchWaits,
    access: Option<Access>,
}

impl Front {
    fn answer(&self, req: &Request) -> Result<ResponseTemplate, String> {
        if !self.waits.any() {
            return self.moto.forward(req);
        }
        let form = form(req);
        match form.get("Action").map(String::as_str) {
            Some(action @ "SetInstanceProtection") => {
                let ids = instance_ids(form.iter().map(|(k, v)| (k.as_str(), v.as_str())));
                let Some(id) = protection_refusal(&ids, |id| self.waits.state(id)) else {
                    return self.moto.forward(req);
                };
                if let Some(denied) = Access::denial(&self.access, req, action) {
                    return Ok(denied);
                }
                let message = not_in_service_message(id);
                self.waits.refused(action, id, &message);
                Ok(error(400, "ValidationError", &message))
            }
            Some("DescribeAutoScalingGroups" | "DescribeAutoScalingInstances") => {
                let mut answer = self.moto.exchange(req)?;
                if (200..300).contains(&answer.status) {
                    let text = String::from_utf8_lossy(&answer.body);
                    let shown = with_lifecycle_states(&text, |id| self.waits.read(id));
                    answer.body = shown.into_bytes();
                }
                Ok(answer.into_template())
            }
            _ => self.moto.forward(req),
        }
    }
}

impl Respond for Front {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        self.answer(req).unwrap_or_else(|e| {
            ResponseTemplate::new(502).set_body_string(format!("forward to moto failed: {e}"))
        })
    }
}

/// moto's answer to one request.
struct MotoAnswer {
    status: u16,
    /// The headers kept: `content-type`, `x-amzn-requestid`.
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl MotoAnswer {
    fn into_template(self) -> ResponseTemplate {
        let mut resp = ResponseTemplate::new(self.status).set_body_bytes(self.body);
        for (k, v) in &self.headers {
            resp = resp.insert_header(k.as_str(), v.as_str());
        }
        resp
    }
}

/// Forwards a request to moto over a plain HTTP/1.0 connection (wiremock responders are
/// synchronous).
#[derive(Clone)]
pub(super) struct ForwardTo {
    pub(super) addr: String,
}

impl ForwardTo {
    fn forward(&self, req: &Request) -> Result<ResponseTemplate, String> {
        self.exchange(req).map(MotoAnswer::into_template)
    }

    fn exchange(&self, req: &Request) -> Result<MotoAnswer, String> {
        let mut stream = TcpStream::connect(&self.addr).map_err(|e| e.to_string())?;
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .map_err(|e| e.to_string())?;
        let target = match req.url.query() {
            Some(q) => format!("{}?{q}", req.url.path()),
            None => req.url.path().to_owned(),
        };
        // The original Host: it is part of the SigV4 signature an IAM-enforcing moto checks.
        let host = req
            .headers
            .get("host")
            .and_then(|v| v.to_str().ok())
            .unwrap_or(&self.addr);
        let mut head = format!("{} {target} HTTP/1.0\r\nHost: {host}\r\n", req.method);
        for (name, value) in req.headers.iter() {
            let n = name.as_str();
            if matches!(
                n,
                "host" | "content-length" | "connection" | "transfer-encoding"
            ) {
                continue;
            }
            if let Ok(v) = value.to_str() {
                head.push_str(&format!("{n}: {v}\r\n"));
            }
        }
        head.push_str(&format!(
            "Content-Length: {}\r\nConnection: close\r\n\r\n",
            req.body.len()
        ));
        stream
            .write_all(head.as_bytes())
            .and_then(|()| stream.write_all(&req.body))
            .map_err(|e| e.to_string())?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).map_err(|e| e.to_string())?;
        let split = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .ok_or("no header end in moto's answer")?;
        let head = String::from_utf8_lossy(&raw[..split]).to_string();
        let body = raw[split + 4..].to_vec();
        let status: u16 = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or("no status in moto's answer")?;
        let headers = head
            .lines()
            .skip(1)
            .filter_map(|line| line.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .filter(|(k, _)| matches!(k.as_str(), "content-type" | "x-amzn-requestid"))
            .collect();
        Ok(MotoAnswer {
            status,
            headers,
            body,
        })
    }
}

impl Respond for ForwardTo {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        self.forward(req).unwrap_or_else(|e| {
            ResponseTemplate::new(502).set_body_string(format!("forward to moto failed: {e}"))
        })
    }
}

impl LifecycleStub {
    /// Starts the stub in front of moto at `moto`.
    pub async fn start(moto: &Url) -> Self {
        Self::launch(moto, None).await
    }

    /// Starts the stub in front of an IAM-enforcing moto: the two stubbed calls must be signed
    /// with `access_key_id`, and `policy` must allow them on `group_arn`.
    pub async fn start_enforcing(
        moto: &Url,
        access_key_id: &str,
        policy: Policy,
        group_arn: &str,
    ) -> Self {
        let access = Access {
            principals: Principals::new().with(access_key_id, policy),
            group_arn: group_arn.to_owned(),
        };
        Self::launch(moto, Some(access)).await
    }

    async fn launch(moto: &Url, access: Option<Access>) -> Self {
        let server = MockServer::start().await;
        let waits = LaunchWaits::default();
        for action in ["CompleteLifecycleAction", "RecordLifecycleActionHeartbeat"] {
            Mock::given(method("POST"))
                .and(body_string_contains(format!("Action={action}")))
                .respond_with(Answer {
                    action,
                    access: access.clone(),
                    waits: waits.clone(),
                })
                .with_priority(1)
                .mount(&server)
                .await;
        }
        let addr = format!(
            "{}:{}",
            moto.host_str().unwrap_or("127.0.0.1"),
            moto.port_or_known_default().unwrap_or(80)
        );
        let front = Front {
            moto: ForwardTo { addr },
            waits,
            access,
        };
        Mock::given(wiremock::matchers::any())
            .respond_with(front.clone())
            .with_priority(10)
            .mount(&server)
            .await;
        Self {
            server,
            moto: moto.clone(),
            front,
        }
    }

    /// An [`AwsConfig`] whose Auto Scaling calls go through this stub and every other call to
    /// moto, with moto's dummy credentials and no retries (a refusal is seen as answered).
    pub fn config(&self) -> AwsConfig {
        let mut config = AwsConfig::emulator(&self.moto, super::REGION);
        config.endpoints.autoscaling = Some(Url::parse(&self.url()).expect("wiremock's URL"));
        config.max_retries = 0;
        config.timeout = Duration::from_secs(20);
        config
    }

    /// Holds `instance_id` in the launching lifecycle hook `hook_name`'s wait, as the group does
    /// with an instance it launches when it has a launching hook: `Pending:Wait` in
    /// `DescribeAutoScalingGroups` and `DescribeAutoScalingInstances`, `SetInstanceProtection`
    /// naming it refused (400 `ValidationError`, "The instance … is not in InService or
    /// EnteringStandby or Standby."), until a `CompleteLifecycleAction` for it and `hook_name`:
    /// `CONTINUE` puts it in service, `ABANDON` has the group terminate it. See
    /// [`super::launch_wait`] for the sources and what is left out.
    pub fn pending_launch(&self, instance_id: &str, hook_name: &str) {
        self.front.waits.hold(instance_id, hook_name, 0, false);
    }

    /// [`LifecycleStub::pending_launch`], and after `CONTINUE` the instance `Pending:Proceed`
    /// (`SetInstanceProtection` still refused) in the next `describes` answers of
    /// `DescribeAutoScalingGroups` or `DescribeAutoScalingInstances` naming it, then
    /// `InService`: AWS continues the launch before it puts the instance in service.
    pub fn pending_launch_proceeding(&self, instance_id: &str, hook_name: &str, describes: u32) {
        self.front
            .waits
            .hold(instance_id, hook_name, describes, false);
    }

    /// [`LifecycleStub::pending_launch_proceeding`], but the group terminates the instance
    /// before it is in service (an operator's `TerminateInstanceInAutoScalingGroup`, a scale-in
    /// of an instance still launching): `Terminating` after the `describes` answers.
    pub fn pending_launch_terminated(&self, instance_id: &str, hook_name: &str, describes: u32) {
        self.front
            .waits
            .hold(instance_id, hook_name, describes, true);
    }

    /// The calls refused as AWS refuses them (by the launching hook's wait,
    /// [`LifecycleStub::pending_launch`]), oldest first; IAM's refusals and the injected
    /// failures are not listed.
    pub fn refusals(&self) -> Vec<Refusal> {
        self.front.waits.refusals()
    }

    /// From now on, the `n`-th call of Auto Scaling action `action` (1-based) fails with
    /// AWS's 400 `code`; the calls before it, and every later one, reach moto. For failures
    /// in the middle of a sequence of calls, such as a create that puts two actions.
    pub async fn fail_nth(&self, action: &str, n: u64, code: &str, message: &str) {
        let call =
            || Mock::given(method("POST")).and(body_string_contains(format!("Action={action}")));
        if n > 1 {
            call()
                .respond_with(self.front.clone())
                .up_to_n_times(n - 1)
                .with_priority(2)
                .mount(&self.server)
                .await;
        }
        call()
            .respond_with(error(400, code, message))
            .up_to_n_times(1)
            .with_priority(3)
            .mount(&self.server)
            .await;
    }

    /// From now on, the next `n` calls of Auto Scaling action `action` are throttled as AWS
    /// throttles them (HTTP 400, `Throttling`, "Rate exceeded"), whichever client makes them;
    /// the calls after those reach moto. Not for the two calls this stub answers itself.
    pub async fn throttle_next(&self, action: &str, n: u64) {
        Mock::given(method("POST"))
            .and(body_string_contains(format!("Action={action}")))
            .respond_with(error(400, "Throttling", "Rate exceeded"))
            .up_to_n_times(n)
            .with_priority(1)
            .mount(&self.server)
            .await;
    }

    /// The next Route53 `ChangeResourceRecordSets` (this front forwards any request, so it can
    /// stand for Route53 too) is refused as Route53 refuses a batch holding a DELETE of a record
    /// that is no longer there: HTTP 400 `InvalidChangeBatch`, "... but it was not found"; the
    /// calls after it reach moto.
    pub async fn refuse_next_record_change(&self, name: &str) {
        let refused = ResponseTemplate::new(400)
            .insert_header("content-type", "text/xml")
            .set_body_string(format!(
                "<?xml version=\"1.0\"?>\n<ErrorResponse xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\">\
                 <Error><Type>Sender</Type><Code>InvalidChangeBatch</Code><Message>[Tried to delete resource \
                 record set [name='{name}.', type='A'] but it was not found]</Message></Error>\
                 <RequestId>stub</RequestId></ErrorResponse>"
            ));
        Mock::given(method("POST"))
            .and(wiremock::matchers::path_regex(
                r"^/2013-04-01/hostedzone/[^/]+/rrset/?$",
            ))
            .respond_with(refused)
            .up_to_n_times(1)
            .with_priority(1)
            .mount(&self.server)
            .await;
    }

    /// POST requests whose path ends with `suffix` received so far (Route53's
    /// ChangeResourceRecordSets: `/rrset`; its listing is a GET of the same path).
    pub async fn posts_to(&self, suffix: &str) -> usize {
        self.server
            .received_requests()
            .await
            .unwrap_or_default()
            .iter()
            .filter(|r| r.method.as_str() == "POST")
            .filter(|r| r.url.path().trim_end_matches('/').ends_with(suffix))
            .count()
    }

    /// The bodies of the requests of Auto Scaling action `action` received so far.
    pub async fn request_bodies(&self, action: &str) -> Vec<String> {
        let needle = format!("Action={action}");
        self.server
            .received_requests()
            .await
            .unwrap_or_default()
            .iter()
            .map(|r| String::from_utf8_lossy(&r.body).into_owned())
            .filter(|b| b.contains(&needle))
            .collect()
    }

    /// Requests of Auto Scaling action `action` received so far (throttled ones included).
    pub async fn requests(&self, action: &str) -> usize {
        self.request_bodies(action).await.len()
    }

    /// The endpoint URL.
    pub fn url(&self) -> String {
        self.server.uri()
    }

    /// The lifecycle calls received so far, oldest first.
    pub async fn calls(&self) -> Vec<LifecycleCall> {
        let requests = self.server.received_requests().await.unwrap_or_default();
        requests
            .iter()
            .filter_map(|r| {
                let form = form(r);
                let action = form.get("Action")?.clone();
                if action != "CompleteLifecycleAction" && action != "RecordLifecycleActionHeartbeat"
                {
                    return None;
                }
                Some(LifecycleCall {
                    action,
                    hook_name: form.get("LifecycleHookName").cloned().unwrap_or_default(),
                    instance_id: form.get("InstanceId").cloned().unwrap_or_default(),
                    result: form.get("LifecycleActionResult").cloned(),
                })
            })
            .collect()
    }
}
