//! Scheduled actions as AWS handles them and moto does not, for `bbb_schedule` tests.
//!
//! [`ScheduleFront`] is an Auto Scaling endpoint in front of moto that refuses what AWS refuses
//! and moto accepts: a `PutScheduledUpdateGroupAction` whose `StartTime` is not in the future.
//! The API reference says "If you try to schedule your action in the past, Amazon EC2 Auto
//! Scaling returns an error message"; the answer is a 400 `ValidationError` "Given start time is
//! in the past" (as quoted in terraform-provider-aws #3033 and #38983). Every request is recorded
//! ([`ScheduleFront::calls`]), so tests can count calls and check their order.
//!
//! [`run_due_scheduled_actions`] does what AWS does when a one-off action's time comes: it sets
//! the group's sizes the action gives (a desired capacity outside the new bounds is moved inside
//! them) and the action disappears: DescribeScheduledActions lists only "the scheduled actions
//! that haven't run or that have not reached their end time" (API reference), and a one-off
//! action that ran is then "not found" (terraform-provider-aws #19446). moto never runs them.

use std::time::SystemTime;

use url::Url;
use wiremock::matchers::{body_string_contains, method};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use super::lifecycle::ForwardTo;
use crate::aws::AwsClients;
use crate::time::parse_rfc3339;

const NS: &str = "http://autoscaling.amazonaws.com/doc/2011-01-01/";

/// One Auto Scaling request the front received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AsgCall {
    /// The API action, e.g. `DescribeScheduledActions`.
    pub action: String,
    pub group: Option<String>,
    pub scheduled_action: Option<String>,
}

/// The front; stopped when dropped.
pub struct ScheduleFront {
    server: MockServer,
    /// Requests received before the last [`ScheduleFront::reset_calls`].
    skip: std::sync::atomic::AtomicUsize,
}

fn validation_error(message: &str) -> ResponseTemplate {
    ResponseTemplate::new(400)
        .insert_header("content-type", "text/xml")
        .set_body_string(format!(
            "<ErrorResponse xmlns=\"{NS}\"><Error><Type>Sender</Type><Code>ValidationError</Code>\
             <Message>{message}</Message></Error><RequestId>stub</RequestId></ErrorResponse>"
        ))
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn form(req: &Request) -> std::collections::HashMap<String, String> {
    url::form_urlencoded::parse(&req.body)
        .into_owned()
        .collect()
}

/// PutScheduledUpdateGroupAction: refused when `StartTime` is not in the future, else moto's.
struct PutNotInPast {
    moto: ForwardTo,
}

impl Respond for PutNotInPast {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        if let Some(start) = form(req).get("StartTime") {
            match parse_rfc3339(start) {
                Err(_) => return validation_error("Invalid StartTime"),
                Ok(t) if t <= now_secs() => {
                    return validation_error("Given start time is in the past")
                }
                Ok(_) => {}
            }
        }
        self.moto.respond(req)
    }
}

impl ScheduleFront {
    /// Starts the front in front of moto at `moto`.
    pub async fn start(moto: &Url) -> Self {
        let server = MockServer::start().await;
        let addr = format!(
            "{}:{}",
            moto.host_str().unwrap_or("127.0.0.1"),
            moto.port_or_known_default().unwrap_or(80)
        );
        Mock::given(method("POST"))
            .and(body_string_contains("Action=PutScheduledUpdateGroupAction"))
            .respond_with(PutNotInPast {
                moto: ForwardTo { addr: addr.clone() },
            })
            .with_priority(1)
            .mount(&server)
            .await;
        Mock::given(wiremock::matchers::any())
            .respond_with(ForwardTo { addr })
            .with_priority(10)
            .mount(&server)
            .await;
        Self {
            server,
            skip: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    /// The endpoint URL.
    pub fn url(&self) -> String {
        self.server.uri()
    }

    /// Every Auto Scaling request received since the last [`ScheduleFront::reset_calls`],
    /// oldest first.
    pub async fn calls(&self) -> Vec<AsgCall> {
        let requests = self.server.received_requests().await.unwrap_or_default();
        let skip = self.skip.load(std::sync::atomic::Ordering::SeqCst);
        requests
            .iter()
            .skip(skip)
            .filter_map(|r| {
                let form = form(r);
                Some(AsgCall {
                    action: form.get("Action")?.clone(),
                    group: form
                        .get("AutoScalingGroupName")
                        .or_else(|| form.get("AutoScalingGroupNames.member.1"))
                        .cloned(),
                    scheduled_action: form.get("ScheduledActionName").cloned(),
                })
            })
            .collect()
    }

    /// How many `action` requests were received so far.
    pub async fn count(&self, action: &str) -> usize {
        self.calls()
            .await
            .iter()
            .filter(|c| c.action == action)
            .count()
    }

    /// Forgets the requests received so far.
    pub async fn reset_calls(&self) {
        let seen = self.server.received_requests().await.map_or(0, |r| r.len());
        self.skip.store(seen, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Runs group `group`'s one-off scheduled actions whose time is at or before `now`, oldest
/// first, as AWS would have: the group takes the action's sizes and the action is gone.
/// Returns the names of the actions run.
pub async fn run_due_scheduled_actions(
    clients: &AwsClients,
    group: &str,
    now: SystemTime,
) -> Vec<String> {
    let mut due: Vec<_> = clients
        .describe_scheduled_actions(group)
        .await
        .expect("DescribeScheduledActions")
        .into_iter()
        .filter(|a| a.recurrence.is_none() && a.start_time.is_some_and(|t| t <= now))
        .collect();
    due.sort_by_key(|a| a.start_time);
    let mut ran = Vec::new();
    for action in due {
        let g = clients
            .describe_auto_scaling_group(group)
            .await
            .expect("DescribeAutoScalingGroups");
        let min = action.min_size.unwrap_or(g.min_size);
        let max = action.max_size.unwrap_or(g.max_size);
        let desired = action
            .desired_capacity
            .unwrap_or(g.desired_capacity)
            .clamp(min, max.max(min));
        clients
            .autoscaling_sdk()
            .update_auto_scaling_group()
            .auto_scaling_group_name(group)
            .min_size(min)
            .max_size(max)
            .desired_capacity(desired)
            .send()
            .await
            .expect("UpdateAutoScalingGroup");
        clients
            .delete_scheduled_action(group, &action.name)
            .await
            .expect("DeleteScheduledAction");
        ran.push(action.name);
    }
    ran
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn refuses_a_start_time_in_the_past_and_forwards_the_rest() {
        let moto = crate::testing::shared();
        let clients = moto.clients().await;
        let group = crate::testing::TestGroup::create(&clients, "front", 1).await;
        let front = ScheduleFront::start(moto.url()).await;
        let mut config = moto.config();
        config.endpoints.autoscaling = Some(Url::parse(&front.url()).expect("front URL"));
        config.max_retries = 0;
        let via_front = AwsClients::new(&config).await.expect("clients");
        let spec = |name: &str, start: SystemTime| crate::aws::ScheduledActionSpec {
            asg_name: group.name.clone(),
            name: name.to_owned(),
            recurrence: None,
            start_time: Some(start),
            end_time: None,
            time_zone: None,
            min_size: Some(2),
            max_size: None,
            desired_capacity: None,
        };
        let hour = std::time::Duration::from_secs(3600);
        let err = via_front
            .put_scheduled_action(&spec("past", SystemTime::now() - hour))
            .await
            .expect_err("refused");
        assert_eq!(err.code(), Some("ValidationError"));
        assert!(
            err.to_string().contains("Given start time is in the past"),
            "{err}"
        );
        via_front
            .put_scheduled_action(&spec("future", SystemTime::now() + hour))
            .await
            .expect("a future start is accepted");
        let calls = front.calls().await;
        assert_eq!(
            calls
                .iter()
                .filter(|c| c.action == "PutScheduledUpdateGroupAction")
                .filter_map(|c| c.scheduled_action.as_deref())
                .collect::<Vec<_>>(),
            ["past", "future"]
        );

        // Its time comes: the group takes its sizes and the action is gone.
        let ran =
            run_due_scheduled_actions(&clients, &group.name, SystemTime::now() + 2 * hour).await;
        assert_eq!(ran, ["future"]);
        let g = clients
            .describe_auto_scaling_group(&group.name)
            .await
            .expect("group");
        assert_eq!((g.min_size, g.max_size, g.desired_capacity), (2, 3, 2));
        assert!(clients
            .describe_scheduled_actions(&group.name)
            .await
            .expect("actions")
            .is_empty());
    }
}
