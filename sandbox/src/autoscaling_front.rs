//! The sandbox's Auto Scaling endpoint: moto behind it, plus what moto does not do. It answers
//! `CompleteLifecycleAction` and `RecordLifecycleActionHeartbeat`, and takes
//! `SetDesiredCapacity` itself so that a scale-in goes through the terminating lifecycle hook
//! (moto would remove the instances at once). Everything else goes to moto unchanged, with its
//! original `Host` header (part of the SigV4 signature moto verifies).
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

pub fn router(front: Front) -> Router {
    Router::new().fallback(handle).with_state(front)
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
        let auth = headers.get("authorization").and_then(|v| v.to_str().ok());
        if let Err(d) = front
            .principals
            .check(auth, &format!("autoscaling:{a}"), &front.group_arn)
        {
            front
                .fleet
                .events
                .push("autoscaling", format!("{a} refused: {}", d.code()));
            return denied(&d);
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
        Some("DescribeAutoScalingGroups") => {
            let resp = forward(&front, method, uri, headers, body).await;
            if resp.status().is_success() {
                as_the_group_is(resp, &front.fleet).await
            } else {
                resp
            }
        }
        _ => forward(&front, method, uri, headers, body).await,
    }
}

/// moto's answer as the group is: its wanted capacity as `DesiredCapacity`, and the instances
/// in their terminating lifecycle hook as `Terminating:Wait` (moto has them `InService`).
async fn as_the_group_is(resp: Response, fleet: &Fleet) -> Response {
    let (parts, body) = resp.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 16 * 1024 * 1024).await else {
        return (StatusCode::BAD_GATEWAY, "moto answer unreadable").into_response();
    };
    let mut text = String::from_utf8_lossy(&bytes).into_owned();
    if let Some(desired) = fleet.desired() {
        let name = format!(
            "<AutoScalingGroupName>{}</AutoScalingGroupName>",
            fleet.group
        );
        text = replace_after(&text, &name, "DesiredCapacity", &desired.to_string());
    }
    for id in fleet.terminating_ids() {
        let name = format!("<InstanceId>{id}</InstanceId>");
        text = replace_after(&text, &name, "LifecycleState", "Terminating:Wait");
    }
    let mut parts = parts;
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    Response::from_parts(parts, axum::body::Body::from(text))
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
            (status, [("content-type", ct)], bytes).into_response()
        }
        Err(e) => (StatusCode::BAD_GATEWAY, format!("moto: {e}")).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_groups_desired_capacity_and_terminating_instances() {
        let xml = "<r><member><AutoScalingGroupName>g</AutoScalingGroupName><MinSize>0</MinSize>\
                   <DesiredCapacity>4</DesiredCapacity><Instances><member><InstanceId>i-1</InstanceId>\
                   <LifecycleState>InService</LifecycleState></member><member><InstanceId>i-2\
                   </InstanceId><LifecycleState>InService</LifecycleState></member></Instances></member></r>";
        let group = "<AutoScalingGroupName>g</AutoScalingGroupName>";
        let out = replace_after(xml, group, "DesiredCapacity", "2");
        assert!(
            out.contains("<DesiredCapacity>2</DesiredCapacity>"),
            "{out}"
        );
        assert!(!out.contains("<DesiredCapacity>4"), "{out}");
        let out = replace_after(
            &out,
            "<InstanceId>i-1</InstanceId>",
            "LifecycleState",
            "Terminating:Wait",
        );
        assert!(
            out.contains("i-1</InstanceId><LifecycleState>Terminating:Wait<"),
            "{out}"
        );
        assert_eq!(
            out.matches("<LifecycleState>InService<").count(),
            1,
            "{out}"
        );
        assert_eq!(
            replace_after(xml, "<AutoScalingGroupName>other", "DesiredCapacity", "2"),
            xml
        );
    }
}
