//! The Auto Scaling group, as AWS documents it (EC2 Auto Scaling user guide: instance scale-in
//! protection, termination policies, lifecycle hooks).
//!
//! - The group launches when launching + in-service instances are fewer than the desired
//!   capacity; an instance is `Pending` (the launching lifecycle hook runs: boot, DNS, Scalelite
//!   registration) for `launch_s` (about 3 minutes), then `InService`.
//! - When it has more than desired, it terminates unprotected instances chosen by the default
//!   termination policy: (zone balance: one zone here), oldest launch template (one template
//!   here), closest to the next billing hour, then at random.
//! - Scale-in protection: "If all instances in an Auto Scaling group are protected from scale in,
//!   and a scale-in event occurs, its desired capacity is decremented. However, the Auto Scaling
//!   group can't terminate the required number of instances until their instance scale-in
//!   protection settings are disabled." Protected instances stay; the desired capacity stays
//!   lowered.
//! - `NewInstancesProtectedFromScaleIn` ([`Group::new_instances_protected`]) flags every new
//!   instance protected, and "Instance scale-in protection starts when the instance state is
//!   InService". Whether a scale-in may pick a launching instance so flagged AWS does not say:
//!   by default it may ([`Group::pending_protected`] off), like an unflagged one.
//! - A terminating instance (`Terminating:Wait`, the drain) no longer counts toward capacity;
//!   it is gone when its lifecycle action completes.

use crate::rng::Rng;

/// An instance's lifecycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lifecycle {
    Pending { ready_s: u64 },
    InService,
    Terminating { since_s: u64 },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Instance {
    pub id: String,
    pub launched_s: u64,
    pub lifecycle: Lifecycle,
    pub protected: bool,
}

impl Instance {
    pub fn counted(&self) -> bool {
        matches!(
            self.lifecycle,
            Lifecycle::Pending { .. } | Lifecycle::InService
        )
    }
}

/// What a step of the group did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GroupEvent {
    Launched(String),
    InService(String),
    Terminating(String),
}

#[derive(Clone, Debug)]
pub struct Group {
    pub min: u32,
    pub max: u32,
    desired: u32,
    pub launch_s: u64,
    /// The group's `NewInstancesProtectedFromScaleIn`.
    pub new_instances_protected: bool,
    /// Whether a scale-in spares a launching instance flagged protected (not documented by
    /// AWS either way; `Config::pending_protected`).
    pub pending_protected: bool,
    pub instances: Vec<Instance>,
    next_id: u64,
    rng: Rng,
}

impl Group {
    pub fn new(min: u32, max: u32, desired: u32, launch_s: u64, seed: u64) -> Self {
        Self {
            min,
            max,
            desired: desired.clamp(min, max),
            launch_s,
            new_instances_protected: false,
            pending_protected: false,
            instances: Vec::new(),
            next_id: 1,
            rng: Rng::new(seed),
        }
    }

    pub fn desired(&self) -> u32 {
        self.desired
    }

    /// `SetDesiredCapacity` (clamped to min and max, as the group does for scaling policies).
    pub fn set_desired(&mut self, desired: u32) {
        self.desired = desired.clamp(self.min, self.max);
    }

    /// Launching plus in-service instances.
    pub fn counted(&self) -> u32 {
        self.instances.iter().filter(|i| i.counted()).count() as u32
    }

    pub fn instance(&self, id: &str) -> Option<&Instance> {
        self.instances.iter().find(|i| i.id == id)
    }

    /// `SetInstanceProtection`.
    pub fn set_protected(&mut self, id: &str, protected: bool) {
        if let Some(i) = self.instances.iter_mut().find(|i| i.id == id) {
            i.protected = protected;
        }
    }

    /// The terminating lifecycle action completed: the instance is gone.
    pub fn remove(&mut self, id: &str) {
        self.instances.retain(|i| i.id != id);
    }

    /// Launch an instance now, already in service (the fleet's starting servers).
    pub fn seed_in_service(&mut self, now_s: u64) -> String {
        let id = self.new_id();
        self.instances.push(Instance {
            id: id.clone(),
            launched_s: now_s,
            lifecycle: Lifecycle::InService,
            protected: self.new_instances_protected,
        });
        id
    }

    fn new_id(&mut self) -> String {
        let id = format!("i-{:08}", self.next_id);
        self.next_id += 1;
        id
    }

    /// One pass of the group's own loop at `now_s`.
    pub fn step(&mut self, now_s: u64) -> Vec<GroupEvent> {
        let mut events = Vec::new();
        for i in &mut self.instances {
            if let Lifecycle::Pending { ready_s } = i.lifecycle {
                if ready_s <= now_s {
                    i.lifecycle = Lifecycle::InService;
                    events.push(GroupEvent::InService(i.id.clone()));
                }
            }
        }
        let counted = self.counted();
        if counted < self.desired {
            for _ in counted..self.desired {
                let id = self.new_id();
                self.instances.push(Instance {
                    id: id.clone(),
                    launched_s: now_s,
                    lifecycle: Lifecycle::Pending {
                        ready_s: now_s + self.launch_s,
                    },
                    protected: self.new_instances_protected,
                });
                events.push(GroupEvent::Launched(id));
            }
        } else {
            let mut excess = counted - self.desired;
            while excess > 0 {
                let Some(idx) = self.termination_choice(now_s) else {
                    break; // every remaining instance is protected: desired stays lowered
                };
                let inst = &mut self.instances[idx];
                inst.lifecycle = Lifecycle::Terminating { since_s: now_s };
                events.push(GroupEvent::Terminating(inst.id.clone()));
                excess -= 1;
            }
        }
        events
    }

    /// The default termination policy over the counted instances not protected (launching ones
    /// whatever their flag, unless [`Self::pending_protected`]): closest to the next billing
    /// hour, then at random.
    fn termination_choice(&mut self, now_s: u64) -> Option<usize> {
        let candidates: Vec<usize> = (0..self.instances.len())
            .filter(|&i| {
                let inst = &self.instances[i];
                match inst.lifecycle {
                    Lifecycle::Pending { .. } => !(self.pending_protected && inst.protected),
                    Lifecycle::InService => !inst.protected,
                    Lifecycle::Terminating { .. } => false,
                }
            })
            .collect();
        let into_hour = |i: usize| (now_s - self.instances[i].launched_s.min(now_s)) % 3600;
        let best = candidates.iter().map(|&i| into_hour(i)).max()?;
        let tied: Vec<usize> = candidates
            .into_iter()
            .filter(|&i| into_hour(i) == best)
            .collect();
        let pick = self.rng.range(0, tied.len() as u64 - 1) as usize;
        tied.get(pick).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn in_service(g: &Group) -> usize {
        g.instances
            .iter()
            .filter(|i| i.lifecycle == Lifecycle::InService)
            .count()
    }

    #[test]
    fn launches_take_launch_s_to_reach_in_service_and_are_not_launched_twice() {
        let mut g = Group::new(0, 10, 2, 180, 1);
        let ev = g.step(0);
        assert_eq!(ev.len(), 2);
        assert!(
            g.step(10).is_empty(),
            "pending instances count toward desired"
        );
        assert!(g.step(170).is_empty());
        let ev = g.step(180);
        assert!(ev.iter().all(|e| matches!(e, GroupEvent::InService(_))));
        assert_eq!(in_service(&g), 2);
    }

    #[test]
    fn protected_instances_stay_while_desired_stays_lowered() {
        let mut g = Group::new(1, 10, 3, 0, 1);
        g.step(0);
        g.step(0);
        for i in 0..3 {
            let id = g.instances[i].id.clone();
            g.set_protected(&id, true);
        }
        g.set_desired(1);
        assert!(g.step(60).is_empty());
        assert_eq!(g.desired(), 1);
        assert_eq!(g.counted(), 3);
        // One loses its protection: the group terminates exactly that one.
        let id = g.instances[1].id.clone();
        g.set_protected(&id, false);
        assert_eq!(g.step(120), vec![GroupEvent::Terminating(id.clone())]);
        assert_eq!(g.counted(), 2);
        // Terminating instances do not count; removing it changes nothing more.
        g.remove(&id);
        assert!(g.step(180).is_empty());
    }

    #[test]
    fn new_instances_are_protected_once_in_service_but_not_while_launching() {
        let mut g = Group::new(0, 10, 2, 180, 1);
        g.new_instances_protected = true;
        g.step(0);
        assert!(g.instances.iter().all(|i| i.protected), "flagged at launch");
        // Launching: the flag does not protect yet, a scale-in takes one.
        g.set_desired(1);
        let ev = g.step(10);
        assert!(matches!(ev.as_slice(), [GroupEvent::Terminating(_)]));
        // In service: protected, the group keeps it and the desired capacity stays lowered.
        g.step(180);
        assert_eq!(in_service(&g), 1);
        g.set_desired(0);
        assert!(g.step(190).is_empty());
        assert_eq!((g.desired(), g.counted()), (0, 1));
    }

    #[test]
    fn the_instance_closest_to_its_next_billing_hour_goes_first() {
        let mut g = Group::new(0, 10, 0, 0, 1);
        let a = g.seed_in_service(0); // 3000 s into its hour at 3000
        let b = g.seed_in_service(2000); // 1000 s into its hour
        let c = g.seed_in_service(500); // 2500 s
        g.set_desired(2);
        assert_eq!(g.step(3000), vec![GroupEvent::Terminating(a)]);
        g.set_desired(1);
        assert_eq!(g.step(3000), vec![GroupEvent::Terminating(c)]);
        assert_eq!(
            g.instance(&b).map(|i| i.lifecycle),
            Some(Lifecycle::InService)
        );
    }

    #[test]
    fn desired_is_clamped_to_min_and_max() {
        let mut g = Group::new(1, 4, 9, 0, 1);
        assert_eq!(g.desired(), 4);
        g.set_desired(0);
        assert_eq!(g.desired(), 1);
    }
}
