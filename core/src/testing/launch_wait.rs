//! The launching lifecycle hook's wait, as [`super::LifecycleStub`] plays it for the instances a
//! test declares pending ([`super::LifecycleStub::pending_launch`]); moto has no lifecycle
//! actions and puts every instance `InService` at once.
//!
//! What AWS does, and the stub with it:
//! - While a launching hook holds an instance, "the lifecycle hook puts the instance into a wait
//!   state (Pending:Wait)" (EC2 Auto Scaling user guide, How lifecycle hooks work); the stub
//!   shows it so in `DescribeAutoScalingGroups` and `DescribeAutoScalingInstances`.
//! - `SetInstanceProtection` naming it is refused: 400 `ValidationError`, "The instance i-… is
//!   not in InService or EnteringStandby or Standby." (infrahouse/infrahouse-toolkit issue #223
//!   saw exactly this for an instance in `Pending:Wait` during a launching hook; see
//!   [`super::autoscaling`]).
//! - `RecordLifecycleActionHeartbeat` and `CompleteLifecycleAction` are accepted for its hook.
//!   `CONTINUE` ends the wait. AWS continues the launch (`Pending:Proceed`) and then puts the
//!   instance `InService` (same page): a test chooses for how many `Describe…` answers naming
//!   the instance it shows `Pending:Proceed` (`SetInstanceProtection` still refused: read from
//!   AWS's message, which names the only states it accepts; no public report shows this state),
//!   0 by default, then `InService` (moto's own state is shown again).
//! - `ABANDON` ends the wait too, and the group terminates the instance instead of putting it
//!   in service (the `DefaultResult` of a launching hook, as AWS support explains it on re:Post,
//!   "Meaning of CONTINUE vs ABANDON in lifecycle hooks"): the stub shows it `Terminating` and
//!   keeps refusing `SetInstanceProtection` (AWS refuses it for terminating instances too,
//!   guardian/riff-raff PR #510). It models neither the terminating hooks such a termination
//!   runs nor the replacement launch, and moto keeps the instance.
//! - Once the wait is over, or for another hook while it lasts, a lifecycle call naming the
//!   instance and the hook is refused as AWS refuses an action that is not waiting: 400
//!   `ValidationError`, "No active Lifecycle Action found with instance ID i-…" (as quoted in
//!   convox/rack issue #2432 and department-of-veterans-affairs/va.gov-cms issue #1719). Calls
//!   for other hooks after the wait (a terminating hook) keep the stub's plain answer.
//!
//! Instances never declared pending keep the stub's behaviour without this model.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// A call the stub refused as AWS refuses it (see the module documentation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The Auto Scaling action, e.g. `SetInstanceProtection`.
    pub action: String,
    /// The instance the refusal names.
    pub instance_id: String,
    /// AWS's error message.
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// `Pending:Wait` in the hook.
    Waiting,
    /// Completed with `CONTINUE`, `Pending:Proceed` for this many more `Describe…` answers.
    Proceeding(u32),
    /// Completed with `CONTINUE`, in service.
    InService,
    /// Completed with `ABANDON`, or terminated while launching: the group terminates it.
    Terminating,
}

struct Launch {
    hook: String,
    phase: Phase,
    /// The `Describe…` answers that show `Pending:Proceed` after `CONTINUE`.
    proceed_reads: u32,
    /// What follows `Pending:Proceed`: `InService`, or `Terminating` (the group terminated the
    /// instance meanwhile).
    then: Phase,
}

#[derive(Default)]
struct Inner {
    launches: HashMap<String, Launch>,
    refusals: Vec<Refusal>,
}

/// How the model answers a lifecycle call (`CompleteLifecycleAction`,
/// `RecordLifecycleActionHeartbeat`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Verdict {
    /// Not an instance and hook the model holds: the stub's plain answer.
    NotModelled,
    /// The action is waiting: accepted (a completion ends the wait).
    Accepted,
    /// No action of that hook is waiting for the instance.
    NoActiveAction,
}

/// The instances declared pending, shared by the stub's responders.
#[derive(Clone, Default)]
pub(super) struct LaunchWaits {
    inner: Arc<Mutex<Inner>>,
}

impl LaunchWaits {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Puts `instance` in `Pending:Wait` in the launching hook `hook`; after `CONTINUE` it shows
    /// `Pending:Proceed` in the next `proceed_reads` `Describe…` answers naming it, then
    /// `InService`, or `Terminating` when `terminated`.
    pub(super) fn hold(&self, instance: &str, hook: &str, proceed_reads: u32, terminated: bool) {
        self.lock().launches.insert(
            instance.to_owned(),
            Launch {
                hook: hook.to_owned(),
                phase: Phase::Waiting,
                proceed_reads,
                then: if terminated {
                    Phase::Terminating
                } else {
                    Phase::InService
                },
            },
        );
    }

    /// Whether any instance was declared pending (otherwise moto's answers pass unchanged).
    pub(super) fn any(&self) -> bool {
        !self.lock().launches.is_empty()
    }

    /// The lifecycle state AWS would report for `instance` where it differs from moto's
    /// `InService`.
    pub(super) fn state(&self, instance: &str) -> Option<&'static str> {
        match self.lock().launches.get(instance)?.phase {
            Phase::Waiting => Some("Pending:Wait"),
            Phase::Proceeding(_) => Some("Pending:Proceed"),
            Phase::InService => None,
            Phase::Terminating => Some("Terminating"),
        }
    }

    /// [`Self::state`] as a `Describe…` answer shows it: each answer counts toward the end of
    /// `Pending:Proceed`.
    pub(super) fn read(&self, instance: &str) -> Option<&'static str> {
        let shown = self.state(instance);
        if let Some(launch) = self.lock().launches.get_mut(instance) {
            if let Phase::Proceeding(n) = launch.phase {
                launch.phase = if n > 1 {
                    Phase::Proceeding(n - 1)
                } else {
                    launch.then
                };
            }
        }
        shown
    }

    /// A lifecycle call `action` for `instance` on `hook`, with `result` for a completion.
    pub(super) fn lifecycle_call(
        &self,
        action: &str,
        instance: &str,
        hook: &str,
        result: Option<&str>,
    ) -> Verdict {
        let mut inner = self.lock();
        let Some(launch) = inner.launches.get_mut(instance) else {
            return Verdict::NotModelled;
        };
        match (launch.phase, launch.hook == hook) {
            (Phase::Waiting, true) => {
                if action == "CompleteLifecycleAction" {
                    match result {
                        Some("CONTINUE") if launch.proceed_reads > 0 => {
                            launch.phase = Phase::Proceeding(launch.proceed_reads)
                        }
                        Some("CONTINUE") => launch.phase = launch.then,
                        Some("ABANDON") => launch.phase = Phase::Terminating,
                        // Another value is AWS's to refuse; not modelled.
                        _ => return Verdict::NotModelled,
                    }
                }
                Verdict::Accepted
            }
            // Held in the launching hook: no other hook's action can be waiting.
            (Phase::Waiting, false) => Verdict::NoActiveAction,
            (Phase::Proceeding(_) | Phase::InService | Phase::Terminating, true) => {
                Verdict::NoActiveAction
            }
            (Phase::Proceeding(_) | Phase::InService | Phase::Terminating, false) => {
                Verdict::NotModelled
            }
        }
    }

    /// Records a refusal.
    pub(super) fn refused(&self, action: &str, instance: &str, message: &str) {
        self.lock().refusals.push(Refusal {
            action: action.to_owned(),
            instance_id: instance.to_owned(),
            message: message.to_owned(),
        });
    }

    /// The refusals so far, oldest first.
    pub(super) fn refusals(&self) -> Vec<Refusal> {
        self.lock().refusals.clone()
    }
}

/// AWS's message for a lifecycle call when no action is waiting for `instance`.
pub(super) fn no_active_action_message(instance: &str) -> String {
    format!("No active Lifecycle Action found with instance ID {instance}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const COMPLETE: &str = "CompleteLifecycleAction";
    const HEARTBEAT: &str = "RecordLifecycleActionHeartbeat";

    #[test]
    fn continue_ends_the_wait_and_the_instance_is_in_service() {
        let w = LaunchWaits::default();
        assert!(!w.any());
        w.hold("i-1", "launching", 0, false);
        assert!(w.any());
        assert_eq!(w.state("i-1"), Some("Pending:Wait"));
        assert_eq!(w.state("i-2"), None);
        assert_eq!(
            w.lifecycle_call(HEARTBEAT, "i-1", "launching", None),
            Verdict::Accepted
        );
        assert_eq!(
            w.lifecycle_call(COMPLETE, "i-1", "terminating", Some("CONTINUE")),
            Verdict::NoActiveAction,
            "held in the launching hook: no other action waits"
        );
        assert_eq!(w.state("i-1"), Some("Pending:Wait"));
        assert_eq!(
            w.lifecycle_call(COMPLETE, "i-1", "launching", Some("CONTINUE")),
            Verdict::Accepted
        );
        assert_eq!(w.state("i-1"), None, "InService: moto's state is shown");
        assert_eq!(
            w.lifecycle_call(COMPLETE, "i-1", "launching", Some("CONTINUE")),
            Verdict::NoActiveAction,
            "completed once"
        );
        assert_eq!(
            w.lifecycle_call(HEARTBEAT, "i-1", "launching", None),
            Verdict::NoActiveAction
        );
        assert_eq!(
            w.lifecycle_call(COMPLETE, "i-1", "terminating", Some("CONTINUE")),
            Verdict::NotModelled,
            "a later terminating hook is not modelled"
        );
        assert_eq!(
            w.lifecycle_call(COMPLETE, "i-2", "launching", Some("CONTINUE")),
            Verdict::NotModelled
        );
    }

    #[test]
    fn continue_passes_through_pending_proceed_for_the_reads_asked() {
        let w = LaunchWaits::default();
        w.hold("i-1", "launching", 2, false);
        assert_eq!(
            w.lifecycle_call(COMPLETE, "i-1", "launching", Some("CONTINUE")),
            Verdict::Accepted
        );
        assert_eq!(w.state("i-1"), Some("Pending:Proceed"));
        assert_eq!(
            w.state("i-1"),
            Some("Pending:Proceed"),
            "state() reads nothing"
        );
        assert_eq!(w.read("i-1"), Some("Pending:Proceed"));
        assert_eq!(w.read("i-1"), Some("Pending:Proceed"));
        assert_eq!(w.read("i-1"), None, "in service after two answers");
        assert_eq!(
            w.lifecycle_call(COMPLETE, "i-1", "launching", Some("CONTINUE")),
            Verdict::NoActiveAction
        );
    }

    #[test]
    fn an_instance_terminated_while_proceeding_is_terminating_after_the_reads_asked() {
        let w = LaunchWaits::default();
        w.hold("i-1", "launching", 1, true);
        assert_eq!(
            w.lifecycle_call(COMPLETE, "i-1", "launching", Some("CONTINUE")),
            Verdict::Accepted
        );
        assert_eq!(w.read("i-1"), Some("Pending:Proceed"));
        assert_eq!(w.read("i-1"), Some("Terminating"));
        assert_eq!(w.read("i-1"), Some("Terminating"), "never in service");
    }

    #[test]
    fn abandon_ends_the_wait_and_the_instance_is_terminating() {
        let w = LaunchWaits::default();
        w.hold("i-1", "launching", 0, false);
        assert_eq!(
            w.lifecycle_call(COMPLETE, "i-1", "launching", Some("ABANDON")),
            Verdict::Accepted
        );
        assert_eq!(w.state("i-1"), Some("Terminating"));
        assert_eq!(
            w.lifecycle_call(COMPLETE, "i-1", "launching", Some("CONTINUE")),
            Verdict::NoActiveAction
        );
    }

    #[test]
    fn refusals_are_recorded_in_order() {
        let w = LaunchWaits::default();
        w.refused("SetInstanceProtection", "i-1", "m1");
        w.refused(COMPLETE, "i-2", "m2");
        let r = w.refusals();
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].action, "SetInstanceProtection");
        assert_eq!(r[1].instance_id, "i-2");
        assert_eq!(
            no_active_action_message("i-9"),
            "No active Lifecycle Action found with instance ID i-9"
        );
    }
}
