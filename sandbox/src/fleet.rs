//! The Auto Scaling behaviour moto lacks, kept beside moto's group: the wanted capacity, the
//! choice of instances to take out (never one protected from scale-in), the terminating
//! lifecycle hook (the instance is told through its metadata, and stays until its action is
//! completed or its heartbeat runs out), and the scheduled actions coming due.

use std::collections::{BTreeMap, HashSet};
use std::net::Ipv4Addr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use bbb_core::aws::{AwsClients, LifecycleTransition};

use crate::events::Events;
use crate::instance::{HookEnv, SimInstance};

struct Terminating {
    hook_name: String,
    deadline: Instant,
    heartbeat: Duration,
    completed: bool,
}

#[derive(Default)]
struct Inner {
    desired: Option<i32>,
    instances: BTreeMap<String, SimInstance>,
    terminating: BTreeMap<String, Terminating>,
    gone: HashSet<String>,
    scheduled_done: HashSet<String>,
    next_address: u8,
    /// Instances over capacity kept for their protection, as last reported.
    kept_protected: usize,
    stats: Stats,
    /// Kill the first launch of the next new instance after this long (a hook restarted
    /// mid-launch).
    interrupt_next_launch: Option<Duration>,
    /// Auto Scaling requests still to answer with a throttling error.
    throttle: u32,
    /// Terminated instances still shutting down (their units stopping).
    shutting_down: Vec<tokio::task::JoinHandle<()>>,
}

/// How long a terminated instance's hook processes may take to stop after SIGTERM, and its
/// launch unit's `ExecStop` drain to run: the units' `TimeoutStopSec`, compressed.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(5);

/// Counters of the group's behaviour, for the soak figures.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct Stats {
    /// Instances chosen for scale-in plus instances kept for their protection.
    pub scale_in_decisions: u64,
    pub kept_for_protection: u64,
    pub terminated: u64,
    /// Live meetings on instances at the moment they were terminated by a scale-in.
    pub meetings_dropped: u64,
    pub crashed: u64,
    pub throttled: u64,
}

/// Shared by the Auto Scaling endpoint and the reconcile loop.
#[derive(Clone)]
pub struct Fleet {
    inner: Arc<Mutex<Inner>>,
    pub group: String,
    pub events: Events,
}

/// What a person or a test sees of one instance.
#[derive(Debug, Clone, serde::Serialize)]
pub struct InstanceView {
    pub instance_id: String,
    pub address: String,
    pub terminating: bool,
    pub meetings: usize,
}

impl Fleet {
    pub fn new(group: String, events: Events) -> Self {
        Self {
            inner: Arc::new(Mutex::new(Inner {
                next_address: 10,
                ..Inner::default()
            })),
            group,
            events,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn set_desired(&self, n: i32) {
        self.lock().desired = Some(n);
        self.events
            .push("autoscaling", format!("desired capacity set to {n}"));
    }

    pub fn desired(&self) -> Option<i32> {
        self.lock().desired
    }

    /// Answers the next `n` Auto Scaling requests with `Throttling` (as AWS does under load).
    pub fn throttle_next(&self, n: u32) {
        self.lock().throttle = n;
    }

    /// Takes one pending throttle; `true` when this request is to be throttled.
    pub fn take_throttle(&self) -> bool {
        let mut inner = self.lock();
        if inner.throttle > 0 {
            inner.throttle -= 1;
            inner.stats.throttled += 1;
            true
        } else {
            false
        }
    }

    pub fn stats(&self) -> Stats {
        self.lock().stats.clone()
    }

    /// Kills the next new instance's first `bbb-hook launch` after `after` (systemd then
    /// restarts it, as on a real instance).
    pub fn interrupt_next_launch(&self, after: Duration) {
        self.lock().interrupt_next_launch = Some(after);
    }

    /// Whether the group has settled: nothing terminating, no instance pending.
    pub fn settled(&self) -> bool {
        let inner = self.lock();
        inner.terminating.is_empty()
    }

    pub fn complete_lifecycle_action(&self, instance: &str, hook: &str, result: &str) -> bool {
        let mut inner = self.lock();
        if let Some(t) = inner.terminating.get_mut(instance) {
            if t.hook_name == hook && !t.completed {
                t.completed = true;
                drop(inner);
                self.events.push(
                    instance,
                    format!("terminating lifecycle action completed ({result})"),
                );
                return true;
            }
            return false;
        }
        // A launching action: instances are in service at once here, so any completion of a
        // live instance is accepted once.
        let known = inner.instances.contains_key(instance);
        drop(inner);
        if known {
            self.events.push(
                instance,
                format!("launching lifecycle action completed ({result})"),
            );
        }
        known
    }

    /// Puts `instance` in `Terminating:Wait` on `hook_name` (what a scale-in does when the group
    /// has a terminating hook). It stays there until its action is completed, its heartbeat
    /// runs out, or the hook is deleted.
    pub fn hold_terminating(&self, instance: &str, hook_name: &str, heartbeat: Duration) {
        self.lock().terminating.insert(
            instance.to_owned(),
            Terminating {
                hook_name: hook_name.to_owned(),
                deadline: Instant::now() + heartbeat,
                heartbeat,
                completed: false,
            },
        );
        self.events.push(
            instance,
            format!("scale-in: Terminating:Wait in hook {hook_name}"),
        );
    }

    /// The lifecycle state AWS reports for `instance` while the group terminates it:
    /// `Terminating:Wait` until its action is completed, then `Terminating:Proceed`.
    pub fn terminating_state(&self, instance: &str) -> Option<&'static str> {
        self.lock().terminating.get(instance).map(|t| {
            if t.completed {
                "Terminating:Proceed"
            } else {
                "Terminating:Wait"
            }
        })
    }

    /// DeleteLifecycleHook: "If there are any outstanding lifecycle actions, they are completed
    /// first (ABANDON for launching instances, CONTINUE for terminating instances)" (Amazon EC2
    /// Auto Scaling API reference). Returns the instances released.
    pub fn delete_lifecycle_hook(&self, hook_name: &str) -> Vec<String> {
        let released: Vec<String> = {
            let mut inner = self.lock();
            inner
                .terminating
                .iter_mut()
                .filter(|(_, t)| t.hook_name == hook_name && !t.completed)
                .map(|(id, t)| {
                    t.completed = true;
                    id.clone()
                })
                .collect()
        };
        for id in &released {
            self.events.push(
                id,
                format!("lifecycle hook {hook_name} deleted: terminating lifecycle action completed (CONTINUE)"),
            );
        }
        released
    }

    pub fn heartbeat(&self, instance: &str, hook: &str) -> bool {
        let mut inner = self.lock();
        match inner.terminating.get_mut(instance) {
            Some(t) if t.hook_name == hook && !t.completed => {
                t.deadline = Instant::now() + t.heartbeat;
                true
            }
            _ => false,
        }
    }

    pub fn views(&self) -> Vec<InstanceView> {
        let inner = self.lock();
        inner
            .instances
            .values()
            .map(|i| InstanceView {
                instance_id: i.instance_id.clone(),
                address: i.address.to_string(),
                terminating: inner.terminating.contains_key(&i.instance_id),
                meetings: i.live_meetings(),
            })
            .collect()
    }

    /// Waits until every terminated instance has shut down (its hook processes stopped and its
    /// launch unit's `ExecStop` run), so that their last log lines are in the events.
    pub async fn shutdowns_done(&self) {
        let pending = std::mem::take(&mut self.lock().shutting_down);
        for shutdown in pending {
            let _ = shutdown.await;
        }
    }

    /// Runs `f` on instance `id`.
    pub fn with_instance<T>(&self, id: &str, f: impl FnOnce(&mut SimInstance) -> T) -> Option<T> {
        self.lock().instances.get_mut(id).map(f)
    }

    /// Kills an instance without its drain (a crash), and has moto replace it.
    pub async fn crash(&self, aws: &AwsClients, id: &str) -> bool {
        let Some(mut sim) = self.lock().instances.remove(id) else {
            return false;
        };
        sim.kill();
        {
            let mut inner = self.lock();
            inner.gone.insert(id.to_owned());
            inner.stats.crashed += 1;
        }
        let _ = aws
            .autoscaling_sdk()
            .terminate_instance_in_auto_scaling_group()
            .instance_id(id)
            .should_decrement_desired_capacity(false)
            .send()
            .await;
        self.events.push(id, "crashed: killed without its drain");
        drop(sim);
        true
    }

    /// One round of the group's control loop.
    pub async fn reconcile(&self, aws: &AwsClients, env: &HookEnv) -> Result<(), String> {
        let group = aws
            .describe_auto_scaling_group(&self.group)
            .await
            .map_err(|e| e.to_string())?;
        let hooks = aws
            .describe_lifecycle_hooks(&self.group, &[])
            .await
            .map_err(|e| e.to_string())?;
        let terminating_hook = hooks
            .iter()
            .find(|h| h.transition == LifecycleTransition::Terminating)
            .map(|h| {
                (
                    h.hook_name.clone(),
                    h.heartbeat_timeout.unwrap_or(Duration::from_secs(3600)),
                )
            });

        // New instances come up, with the address EC2 (moto) gave them.
        let new_ids: Vec<String> = {
            let inner = self.lock();
            group
                .instances
                .iter()
                .map(|i| i.instance_id.clone())
                .filter(|id| !inner.instances.contains_key(id) && !inner.gone.contains(id))
                .collect()
        };
        let described = if new_ids.is_empty() {
            Vec::new()
        } else {
            aws.describe_instances(&new_ids)
                .await
                .map_err(|e| e.to_string())?
        };
        let new: Vec<(String, Ipv4Addr)> = {
            let mut inner = self.lock();
            new_ids
                .into_iter()
                .map(|id| {
                    let d = described.iter().find(|d| d.instance_id == id);
                    let address =
                        d.and_then(|d| d.public_ip.or(d.private_ip))
                            .unwrap_or_else(|| {
                                inner.next_address = inner.next_address.wrapping_add(1).max(10);
                                Ipv4Addr::new(198, 51, 100, inner.next_address)
                            });
                    (id, address)
                })
                .collect()
        };
        for (id, address) in new {
            let interrupt = self.lock().interrupt_next_launch.take();
            let sim = SimInstance::start(id.clone(), address, env, self.events.clone(), interrupt)
                .await
                .map_err(|e| format!("simulate {id}: {e}"))?;
            self.events.push(
                &id,
                format!("launched by the Auto Scaling group at {address}"),
            );
            self.lock().instances.insert(id, sim);
        }

        // Scale out or in towards the wanted capacity.
        let desired = {
            let mut inner = self.lock();
            *inner.desired.get_or_insert(group.desired_capacity)
        };
        let (live, victims, present) = {
            let mut inner = self.lock();
            // A crashed instance a read from before its termination still lists is not there: moto
            // replaces it itself (no decrement), so counting it would launch a second replacement.
            let present = group
                .instances
                .iter()
                .filter(|i| !inner.gone.contains(&i.instance_id))
                .count() as i32;
            let live: Vec<&bbb_core::aws::AsgInstance> = group
                .instances
                .iter()
                .filter(|i| {
                    !inner.terminating.contains_key(&i.instance_id)
                        && !inner.gone.contains(&i.instance_id)
                })
                .collect();
            let excess = (live.len() as i32 - desired).max(0) as usize;
            let victims: Vec<String> = live
                .iter()
                .filter(|i| !i.protected_from_scale_in)
                .take(excess)
                .map(|i| i.instance_id.clone())
                .collect();
            let kept = excess - victims.len();
            inner.stats.scale_in_decisions += victims.len() as u64;
            if kept > inner.kept_protected {
                let newly = (kept - inner.kept_protected) as u64;
                inner.stats.scale_in_decisions += newly;
                inner.stats.kept_for_protection += newly;
            }
            if kept != inner.kept_protected {
                inner.kept_protected = kept;
                if kept > 0 {
                    self.events.push(
                        "autoscaling",
                        format!("{kept} instance(s) over capacity stay: protected from scale-in"),
                    );
                }
            }
            (live.len() as i32, victims, present)
        };
        if desired > live {
            let target = present + (desired - live);
            if target != group.desired_capacity {
                aws.autoscaling_sdk()
                    .set_desired_capacity()
                    .auto_scaling_group_name(&self.group)
                    .desired_capacity(target)
                    .send()
                    .await
                    .map_err(|e| format!("SetDesiredCapacity: {e}"))?;
            }
        }
        for id in victims {
            match &terminating_hook {
                Some((hook_name, heartbeat)) => {
                    if let Some(sim) = self.lock().instances.get(&id) {
                        sim.imds.set_target_lifecycle_state(Some("Terminated"));
                    }
                    self.hold_terminating(&id, hook_name, *heartbeat);
                }
                None => {
                    self.lock().terminating.insert(
                        id.clone(),
                        Terminating {
                            hook_name: String::new(),
                            deadline: Instant::now(),
                            heartbeat: Duration::ZERO,
                            completed: true,
                        },
                    );
                    self.events.push(
                        &id,
                        "scale-in without a terminating hook: terminated at once",
                    );
                }
            }
        }

        // Instances whose action is done (or timed out) leave.
        let leaving: Vec<(String, bool)> = {
            let inner = self.lock();
            let now = Instant::now();
            inner
                .terminating
                .iter()
                .filter(|(_, t)| t.completed || now >= t.deadline)
                .map(|(id, t)| (id.clone(), t.completed))
                .collect()
        };
        for (id, completed) in leaving {
            aws.autoscaling_sdk()
                .terminate_instance_in_auto_scaling_group()
                .instance_id(&id)
                .should_decrement_desired_capacity(true)
                .send()
                .await
                .map_err(|e| format!("TerminateInstanceInAutoScalingGroup {id}: {e}"))?;
            let sim = {
                let mut inner = self.lock();
                inner.terminating.remove(&id);
                inner.gone.insert(id.clone());
                let sim = inner.instances.remove(&id);
                inner.stats.terminated += 1;
                inner.stats.meetings_dropped +=
                    sim.as_ref().map_or(0, |s| s.live_meetings() as u64);
                sim
            };
            self.events.push(
                &id,
                if completed {
                    "terminated".to_owned()
                } else {
                    "terminated: heartbeat timeout ran out (default result)".to_owned()
                },
            );
            // The machine shuts down as systemd does: the drain that completed the action
            // finishes its last steps, then the launch unit's ExecStop runs.
            if let Some(sim) = sim {
                let events = self.events.clone();
                let shutdown = tokio::spawn(async move {
                    let started = Instant::now();
                    let id = sim.instance_id.clone();
                    sim.shutdown(STOP_TIMEOUT).await;
                    events.push(
                        &id,
                        format!("shut down in {} ms", started.elapsed().as_millis()),
                    );
                });
                let mut inner = self.lock();
                inner.shutting_down.retain(|h| !h.is_finished());
                inner.shutting_down.push(shutdown);
            }
        }

        // Scheduled actions coming due (one-off ones; recurring ones run on their own clock).
        let actions = aws
            .describe_scheduled_actions(&self.group)
            .await
            .map_err(|e| e.to_string())?;
        for a in actions {
            let (Some(start), None) = (a.start_time, a.recurrence.as_ref()) else {
                continue;
            };
            let key = format!("{}@{:?}", a.name, start);
            if start > SystemTime::now() || self.lock().scheduled_done.contains(&key) {
                continue;
            }
            self.lock().scheduled_done.insert(key);
            if let Some(n) = a.desired_capacity {
                self.events
                    .push("autoscaling", format!("scheduled action {} due", a.name));
                self.set_desired(n);
            }
        }
        Ok(())
    }
}
