//! What the hooks run on every server, as the simulator plays it: the protect pass (scale-in
//! protection from the server's own meetings and recordings, and, under consolidation, while
//! Scalelite can route to it) and the consolidation rule fed the hooks' view
//! (`hook/src/commands/protect.rs`, `hook/src/commands/consolidate.rs`).

use super::World;
use crate::asg::Lifecycle;
use crate::policy::{Kind, RuleView};
use crate::scalelite::{State, LOAD_JOIN_BUFFER_TIME_S};
use bbb_core::scaling::{self, Action, FleetView, Phase, PoolState, ServerView};

impl World<'_> {
    pub(super) fn protect(&mut self, t: u64) {
        let mut changes = Vec::new();
        let mut no_meeting: Vec<(String, Option<u64>)> = Vec::new();
        for (id, s) in &self.servers {
            let Some(inst) = self.group.instance(id) else {
                continue;
            };
            if inst.lifecycle != Lifecycle::InService {
                continue;
            }
            let (meetings, _, recordings) = self.activity(s, t);
            let busy = meetings > 0 || recordings > 0;
            // The release delay counts from the last meeting (the hook's `no_meeting_since_ms`).
            let no_meeting_since = if meetings > 0 {
                None
            } else {
                s.no_meeting_since.or(Some(t))
            };
            no_meeting.push((id.clone(), no_meeting_since));
            let want = match self.kind {
                Kind::Cpu => meetings > 0,
                Kind::Target => meetings > 0 || recordings > 0,
                // The hooks with consolidation: an idle server stays protected while Scalelite
                // can route a `create` to it, and `release_after_s` after its last meeting; it
                // leaves through consolidation's cordon (`hook/src/commands/protect.rs`).
                Kind::Consolidating | Kind::ConsolidatingOnly => {
                    busy || no_meeting_since.is_some_and(|since| t < since + self.c.release_after_s)
                        || self
                            .pool
                            .server(id)
                            .is_some_and(|p| p.state == State::Enabled)
                }
            };
            if inst.protected != want {
                changes.push((id.clone(), want));
            }
        }
        for (id, want) in changes {
            self.group.set_protected(&id, want);
        }
        if self.c.cordon_repair && self.kind != Kind::Cpu {
            self.repair_cordons(t);
        }
        for (id, since) in no_meeting {
            if let Some(s) = self.servers.get_mut(&id) {
                s.no_meeting_since = since;
            }
        }
    }

    /// Every server cordons itself once its own meetings predict it near capacity.
    pub(super) fn steer_self(&mut self, t: u64) {
        for v in self.views(t) {
            let lighter = self.pool.lighter_routable(&v.instance_id);
            if let Some(d) = scaling::steer_self(&v, lighter, &self.c.rule) {
                self.cordon(&d.instance_id, t);
                self.acc.count_decision(d.action);
            }
        }
    }

    /// The servers as (c)'s rule is fed them ([`RuleView`]).
    fn views(&self, t: u64) -> Vec<ServerView> {
        match self.c.rule_view {
            RuleView::Hooks => self.hooks_views(),
            RuleView::Omniscient => self.omniscient_views(t),
        }
    }

    /// What every hook reads: the group and Scalelite's `getServers`.
    fn hooks_views(&self) -> Vec<ServerView> {
        self.group
            .instances
            .iter()
            .map(|i| {
                let server = self.pool.server(&i.id);
                ServerView::seen_by_hooks(
                    i.id.clone(),
                    phase_of(&i.lifecycle),
                    i.protected,
                    pool_state(server.map(|s| s.state)),
                    server.and_then(|s| s.load),
                    server.map_or(1.0, |s| s.load_multiplier),
                )
            })
            .collect()
    }

    /// The group's instances joined with Scalelite and every server's BBB.
    fn omniscient_views(&self, t: u64) -> Vec<ServerView> {
        self.group
            .instances
            .iter()
            .map(|i| {
                let phase = phase_of(&i.lifecycle);
                let pool = pool_state(self.pool.server(&i.id).map(|s| s.state));
                let mut v = ServerView::new(i.id.clone(), phase, pool, i.launched_s);
                v.protected = i.protected;
                v.awaiting_poll = self.pool.server(&i.id).is_some_and(|s| s.load.is_none());
                if let Some(s) = self.servers.get(&i.id) {
                    let (meetings, participants, recordings) = self.activity(s, t);
                    v.meetings = meetings;
                    v.participants = participants;
                    v.recordings_pending = recordings;
                    for &m in &s.meetings {
                        let spec = &self.specs[m];
                        if spec.expire_s() > t && spec.start_s + LOAD_JOIN_BUFFER_TIME_S > t {
                            v.young_meetings += 1;
                            v.young_participants += spec.participants_at(t);
                        }
                        if spec.expire_s() > t && spec.start_s + scaling::OLD_MEETING_S <= t {
                            v.old_meetings += 1;
                        }
                    }
                }
                v
            })
            .collect()
    }

    /// A hook's consolidation phase: its first protect pass after it went in service at `t`
    /// consolidates (nothing done yet), the next ones every `rule_interval_s`. Every hook's
    /// timer fires on the wall clock's half minutes (`OnCalendar=*:*:00/30`), so a fleet's
    /// hooks consolidate at :00 or at :30 depending on when each went in service.
    pub(super) fn first_pass_phase(&self, t: u64) -> u64 {
        t.next_multiple_of(self.c.protect_interval_s.max(1)) % self.c.rule_interval_s.max(1)
    }

    /// The consolidation passes due at `t`. Each hook decides from the view it reads at its own
    /// pass and applies the decisions about itself only; a controller with the omniscient view
    /// decides for every server at once.
    pub(super) fn consolidate(&mut self, t: u64) {
        let interval = self.c.rule_interval_s.max(1);
        let due: Vec<String> = match self.c.rule_view {
            RuleView::Omniscient if t.is_multiple_of(interval) => {
                self.servers.keys().cloned().collect()
            }
            RuleView::Omniscient => return,
            RuleView::Hooks => self
                .servers
                .iter()
                .filter(|(_, s)| s.consolidation_phase_s == t % interval)
                .map(|(id, _)| id.clone())
                .collect(),
        };
        if !due.is_empty() {
            self.rule(t, &due);
        }
    }

    fn rule(&mut self, t: u64, due: &[String]) {
        let servers = self.views(t);
        let view = FleetView {
            desired_capacity: self.group.desired(),
            servers,
        };
        let plan = scaling::decide(&view, &self.c.rule);
        for d in plan.changes().filter(|d| due.contains(&d.instance_id)) {
            match d.action {
                Action::Cordon => self.cordon(&d.instance_id, t),
                Action::Enable => self.enable(&d.instance_id),
                // The hooks leave protection to their protect pass (local meetings and
                // recordings); only a controller that saw every BBB could act on it.
                Action::Unprotect if self.c.rule_view == RuleView::Omniscient => {
                    self.group.set_protected(&d.instance_id, false)
                }
                _ => {}
            }
            self.acc.count_decision(d.action);
        }
        // Spreading: Scalelite's `updateServer` with the rule's `load_multiplier`s.
        for w in scaling::load_multipliers(&view, &self.c.rule)
            .into_iter()
            .filter(|w| due.contains(&w.instance_id))
        {
            let now = self.pool.server(&w.instance_id).map(|s| s.load_multiplier);
            if now.is_some_and(|m| m != w.load_multiplier) {
                self.pool
                    .set_load_multiplier(&w.instance_id, w.load_multiplier);
                self.acc.multiplier_updates += 1;
            }
        }
    }
}

fn phase_of(lifecycle: &Lifecycle) -> Phase {
    match lifecycle {
        Lifecycle::Pending { .. } => Phase::Launching,
        Lifecycle::InService => Phase::InService,
        Lifecycle::Terminating { .. } => Phase::Leaving,
    }
}

fn pool_state(state: Option<State>) -> PoolState {
    match state {
        Some(State::Enabled) => PoolState::Enabled,
        Some(State::Cordoned) => PoolState::Cordoned,
        Some(State::Disabled) => PoolState::Disabled,
        None => PoolState::Unregistered,
    }
}
