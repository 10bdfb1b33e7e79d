//! The sandbox's Auto Scaling endpoint: moto behind it, plus what moto does not do. It answers
//! `CompleteLifecycleAction` and `RecordLifecycleActionHeartbeat`, and takes
//! `SetDesiredCapacity` itself so that a scale-in goes through the terminating lifecycle hook
//! (moto would remove the instances at once). `DescribeAutoScalingGroups` and
//! `DescribeAutoScalingInstances` report the instances in that hook's wait as `Terminating:Wait`
//! (`Terminating:Proceed` once completed), `SetInstanceProtection` naming one of them is refused
//! as AWS refuses it for an instance not in service (HTTP 400 `ValidationError`, "The instance
//! i-… is not in InService or EnteringStandby or Standby."; moto would accept it; see
//! `bbb_core::testing::autoscaling`), and `DeleteLifecycleHook` completes their actions as AWS
//! does. Everything else goes to moto unchanged, with its original `Host` header (part of the
//! SigV4 signature moto verifies).
//!
//! `DescribeAutoScalingGroups` answers the group's wanted capacity as its `DesiredCapacity`, as
//! AWS does: a scale-in lowers the desired capacity at once even when protected instances keep
//! the group above it ("the desired capacity is decremented", Auto Scaling's instance
//! scale-in protection documentation), and the group terminates the surplus as soon as their
//! protection is removed (the reconcile loop, [`Fleet::reconcile`]). moto's own desired capacity
//! is kept at the instances present (moto would terminate instances at once).
//!
//! moto runs with IAM access control on, so it checks the calls it serves; the calls answered
//! here are checked the same way by [`Principals::check`] (shared with the hook tests'
//! `LifecycleStub`): signed by a key the sandbox gave out (its administrator's, or the instances'),
//! and allowed on the group's ARN by that key's policy (the instances': the fleet module's
//! instance policy). Otherwise AWS's 403 `InvalidClientTokenId` or `AccessDenied`.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use bbb_core::testing::access::{Denial, Principals};
use bbb_core::testing::autoscaling::{
    instance_ids, not_in_service_message, protection_refusal, with_lifecycle_states,
};

use crate::fleet::Fleet;

const NS: &str = "http://autoscaling.amazonaws.com/doc/2011-01-01/";

fn ok(action: &str) -> Response {
    (
        StatusCode::OK,
        [("content-type", "text/xml")],
        format!(
            "<{action}Response xmlns=\"{NS}\"><{action}Result/><ResponseMetadata><RequestId>{}</RequestId></ResponseMetadata></{action}Response>",
            uuid::Uuid::new_v4()
        ),
    )
        .into_response()
}

/// An Auto Scaling error document, as AWS sends it (HTTP 400).
fn error(code: &str, message: &str) -> Response {
    error_with(StatusCode::BAD_REQUEST, code, message)
}

fn denied(d: &Denial) -> Response {
    let status = StatusCode::from_u16(d.status()).unwrap_or(StatusCode::FORBIDDEN);
    error_with(status, d.code(), &d.message())
}

fn error_with(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        [("content-type", "text/xml")],
        format!(
            "<ErrorResponse xmlns=\"{NS}\"><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>{}</RequestId></ErrorResponse>",
            uuid::Uuid::new_v4()
        ),
    )
        .into_response()
}

fn validation_error(message: &str) -> Response {
    error("ValidationError", message)
}

fn throttled() -> Response {
    error("Throttling", "Rate exceeded")
}

#[derive(Clone)]
pub struct Front {
    pub fleet: Fleet,
    pub moto: String,
    pub http: reqwest::Client,
    /// Who may call the actions answered here.
    pub principals: Principals,
    /// The group's ARN, the resource of those actions.
    pub group_arn: String,
}

impl Front {
    /// A front for `fleet`'s group before the moto at `moto`.
    pub fn new(fleet: Fleet, moto: &str, principals: Principals, group_arn: &str) -> Self {
        Self {
            fleet,
            moto: moto.trim_end_matches('/').to_owned(),
            http: reqwest::Client::new(),
            principals,
            group_arn: group_arn.to_owned(),
        }
    }

    /// Serves the front on 127.0.0.1; returns its URL and the serving task.
    pub async fn serve(self) -> Result<(String, tokio::task::JoinHandle<()>), String> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(|e| e.to_string())?;
        let url = format!(
            "http://{}",
            listener.local_addr().map_err(|e| e.to_string())?
        );
        let app = router(self);
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok((url, task))
    }
}

pub fn router(front: Front) -> Router {
    Router::new().fallback(handle).with_state(front)
}

/// IAM's check of Auto Scaling action `action` for a call answered here (not by moto): AWS's 403
/// when the caller's key or policy does not allow it (recorded in the events), `None` when it
/// does.
fn iam_refusal(front: &Front, headers: &HeaderMap, action: &str) -> Option<Response> {
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok());
    front
        .principals
        .check(auth, &format!("autoscaling:{action}"), &front.group_arn)
        .err()
        .map(|d| {
            front
                .fleet
                .events
                .push("autoscaling", format!("{action} refused: {}", d.code()));
            denied(&d)
        })
}

async fn handle(
    State(front): State<Front>,
    method: axum::http::Method,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    let get = |k: &str| form.get(k).cloned().unwrap_or_default();
    if front.fleet.take_throttle() {
        return throttled();
    }
    let action = form.get("Action").map(String::as_str);
    if let Some(
        a @ ("CompleteLifecycleAction" | "RecordLifecycleActionHeartbeat" | "SetDesiredCapacity"),
    ) = action
    {
        if let Some(denial) = iam_refusal(&front, &headers, a) {
            return denial;
        }
    }
    match action {
        Some("CompleteLifecycleAction") => {
            if front.fleet.complete_lifecycle_action(
                &get("InstanceId"),
                &get("LifecycleHookName"),
                &get("LifecycleActionResult"),
            ) {
                ok("CompleteLifecycleAction")
            } else {
                validation_error("No active Lifecycle Action found with instance ID")
            }
        }
        Some("RecordLifecycleActionHeartbeat") => {
            if front
                .fleet
                .heartbeat(&get("InstanceId"), &get("LifecycleHookName"))
            {
                ok("RecordLifecycleActionHeartbeat")
            } else {
                validation_error("No active Lifecycle Action found with instance ID")
            }
        }
        Some("SetDesiredCapacity") => match get("DesiredCapacity").parse::<i32>() {
            Ok(n) if n >= 0 => {
                front.fleet.set_desired(n);
                ok("SetDesiredCapacity")
            }
            _ => validation_error("DesiredCapacity must be a non-negative integer"),
        },
        Some("SetInstanceProtection") => {
            let Some(id) = refused_protection(&form, |id| front.fleet.terminating_state(id)) else {
                // moto checks the caller's IAM permission on the calls it serves.
                return forward(&front, method, uri, headers, body).await;
            };
            // Answered here: checked as the other calls answered here are (AWS authorizes a
            // call before it validates it).
            if let Some(denial) = iam_refusal(&front, &headers, "SetInstanceProtection") {
                return denial;
            }
            front.fleet.events.push(
                "autoscaling",
                format!("SetInstanceProtection refused: {id} is terminating"),
            );
            validation_error(&not_in_service_message(&id))
        }
        Some(a @ ("DescribeAutoScalingGroups" | "DescribeAutoScalingInstances")) => {
            let (status, ct, bytes) = forward_raw(&front, method, uri, headers, body).await;
            let text = String::from_utf8_lossy(&bytes);
            let shown = if status.is_success() {
                let shown = with_lifecycle_states(&text, |id| front.fleet.terminating_state(id));
                match front.fleet.desired() {
                    Some(desired) if a == "DescribeAutoScalingGroups" => {
                        with_desired_capacity(&shown, &front.fleet.group, desired)
                    }
                    _ => shown,
                }
            } else {
                text.into_owned()
            };
            (status, [("content-type", ct)], shown).into_response()
        }
        Some("DeleteLifecycleHook") => {
            let hook = get("LifecycleHookName");
            let (status, ct, bytes) = forward_raw(&front, method, uri, headers, body).await;
            if status.is_success() {
                front.fleet.delete_lifecycle_hook(&hook);
            }
            (status, [("content-type", ct)], bytes).into_response()
        }
        _ => forward(&front, method, uri, headers, body).await,
    }
}

/// The instance a `SetInstanceProtection` request (its `form`) is refused for: the first of its
/// `InstanceIds.member.N` that the group is terminating (`terminating` gives its state,
/// `Terminating:Wait` or `Terminating:Proceed`). AWS refuses the call for an instance that is not
/// `InService`, `EnteringStandby` or `Standby` (guardian/riff-raff PR #510 saw it for terminating
/// instances; see `bbb_core::testing::autoscaling`); here instances are in service as soon as
/// they are launched (no `Pending` state), so only the terminating states apply.
fn refused_protection(
    form: &HashMap<String, String>,
    terminating: impl Fn(&str) -> Option<&'static str>,
) -> Option<String> {
    let ids = instance_ids(form.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    protection_refusal(&ids, terminating).map(str::to_owned)
}

/// The group `group`'s `DesiredCapacity` in a DescribeAutoScalingGroups document set to
/// `desired` (the group's wanted capacity, see the module documentation).
fn with_desired_capacity(xml: &str, group: &str, desired: i32) -> String {
    let name = format!("<AutoScalingGroupName>{group}</AutoScalingGroupName>");
    replace_after(xml, &name, "DesiredCapacity", &desired.to_string())
}

/// In `xml`, the text of the first element `tag` after `anchor` set to `value` (the group's
/// `DesiredCapacity` follows its name, an instance's `LifecycleState` its id, in the shapes'
/// member order); `xml` unchanged when either is missing.
fn replace_after(xml: &str, anchor: &str, tag: &str, value: &str) -> String {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    let Some(at) = xml.find(anchor) else {
        return xml.to_owned();
    };
    let Some(start) = xml[at..].find(&open).map(|i| at + i + open.len()) else {
        return xml.to_owned();
    };
    let Some(end) = xml[start..].find(&close).map(|i| start + i) else {
        return xml.to_owned();
    };
    format!("{}{value}{}", &xml[..start], &xml[end..])
}

async fn forward(
    front: &Front,
    method: axum::http::Method,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (status, ct, bytes) = forward_raw(front, method, uri, headers, body).await;
    (status, [("content-type", ct)], bytes).into_response()
}

/// moto's answer: status, content type and body.
async fn forward_raw(
    front: &Front,
    method: axum::http::Method,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, axum::http::HeaderValue, Bytes) {
    let target = format!(
        "{}{}",
        front.moto,
        uri.path_and_query().map(|p| p.as_str()).unwrap_or("/")
    );
    // The Host header is kept (hyper sets one only when the request has none): the client
    // signed it, and moto checks the signature.
    let mut req = front.http.request(method, target).body(body);
    for (name, value) in headers.iter() {
        if !matches!(name.as_str(), "content-length" | "connection") {
            req = req.header(name, value);
        }
    }
    match req.send().await {
        Ok(resp) => {
            let status = resp.status();
            let ct = resp
                .headers()
                .get("content-type")
                .cloned()
                .unwrap_or_else(|| axum::http::HeaderValue::from_static("text/xml"));
            let bytes = resp.bytes().await.unwrap_or_default();
            (status, ct, bytes)
        }
        Err(e) => (
            StatusCode::BAD_GATEWAY,
            axum::http::HeaderValue::from_static("text/plain"),
            Bytes::from(format!("moto: {e}")),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(body: &str) -> HashMap<String, String> {
        url::form_urlencoded::parse(body.as_bytes())
            .into_owned()
            .collect()
    }

    #[test]
    fn protection_is_refused_for_the_first_listed_terminating_instance() {
        let terminating = |id: &str| match id {
            "i-2" => Some("Terminating:Wait"),
            "i-3" => Some("Terminating:Proceed"),
            _ => None,
        };
        let request = |ids: &[&str]| {
            let members: String = ids
                .iter()
                .enumerate()
                .map(|(n, id)| format!("&InstanceIds.member.{}={id}", n + 1))
                .collect();
            form(&format!(
                "Action=SetInstanceProtection&Version=2011-01-01&AutoScalingGroupName=g\
                 {members}&ProtectedFromScaleIn=true"
            ))
        };
        assert_eq!(refused_protection(&request(&["i-1"]), terminating), None);
        assert_eq!(
            refused_protection(&request(&["i-1", "i-3", "i-2"]), terminating).as_deref(),
            Some("i-3"),
            "the first offending id in request order"
        );
        assert_eq!(
            refused_protection(&request(&["i-2"]), terminating).as_deref(),
            Some("i-2")
        );
        // Refused whatever the value asked: the refusal is about the instance's state.
        let unprotect = form(
            "Action=SetInstanceProtection&AutoScalingGroupName=g&InstanceIds.member.1=i-2\
             &ProtectedFromScaleIn=false",
        );
        assert_eq!(
            refused_protection(&unprotect, terminating).as_deref(),
            Some("i-2")
        );
        assert_eq!(
            refused_protection(&form("Action=SetInstanceProtection"), terminating),
            None
        );
    }

    #[test]
    fn only_the_groups_desired_capacity_is_rewritten() {
        let xml = "<r><member><AutoScalingGroupName>g</AutoScalingGroupName><MinSize>0</MinSize>\
<DesiredCapacity>4</DesiredCapacity><Instances><member><InstanceId>i-1</InstanceId>\
<LifecycleState>InService</LifecycleState></member></Instances></member>\
<member><AutoScalingGroupName>h</AutoScalingGroupName><DesiredCapacity>4</DesiredCapacity></member></r>";
        let out = with_desired_capacity(xml, "g", 2);
        assert_eq!(
            out,
            xml.replacen(
                "<DesiredCapacity>4</DesiredCapacity>",
                "<DesiredCapacity>2</DesiredCapacity>",
                1
            )
        );
        assert_eq!(with_desired_capacity(xml, "other", 2), xml);
    }
}
