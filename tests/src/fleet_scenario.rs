//! The fleet scenario with Terraform: `examples/local` applied against the sandbox
//! (`bbb-sandbox`), then scale out, meetings, a scale-in that keeps the busy servers, a crash
//! healed by the next `terraform apply`, and a scheduled event that adds capacity ahead of its
//! start. Played by `scripts/demo` (bin `fleet-demo`) and, shortened, by the acceptance tests.

use std::time::{Duration, SystemTime};

use bbb_core::scalelite::ServerState;
use bbb_doubles::BbbDouble;
use bbb_sandbox::{Sandbox, Traffic};
use serde_json::{json, Value};

use crate::{repo_root, rfc3339, Run, Workspace};

/// What the scenario saw. `failures` lists every step that did not turn out as expected.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct Outcome {
    pub servers_launched: usize,
    pub meetings_started: usize,
    pub meetings_kept: usize,
    /// Live meetings lost to a scale-in (target 0).
    pub meetings_dropped: usize,
    pub servers_drained: usize,
    /// Left by the crash before the next apply: records and Scalelite servers.
    pub crash_leftovers: (usize, usize),
    /// Left after the next apply (target 0, 0).
    pub leftovers_after_apply: (usize, usize),
    /// Servers in service when the event's scale-up came due, and the event's capacity.
    pub event_capacity: (usize, usize),
    /// Seconds between capacity being reached and the event's start (positive: ahead).
    pub event_ahead_seconds: i64,
    pub failures: Vec<String>,
}

struct Step<'a> {
    sb: &'a Sandbox,
    out: Outcome,
}

impl Step<'_> {
    fn say(&self, text: impl Into<String>) {
        self.sb.events.push("scenario", text);
    }

    fn check(&mut self, ok: bool, what: &str) -> bool {
        if !ok {
            self.say(format!("FAILED: {what}"));
            self.out.failures.push(what.to_owned());
        }
        ok
    }
}

fn fleet_servers(sb: &Sandbox) -> Vec<bbb_doubles::DoubleServer> {
    let suffix = format!(".{}/bigbluebutton/api", sb.endpoints.domain);
    sb.scalelite
        .servers()
        .into_iter()
        .filter(|s| s.url.ends_with(&suffix))
        .collect()
}

fn enabled(sb: &Sandbox) -> usize {
    fleet_servers(sb)
        .iter()
        .filter(|s| s.state == ServerState::Enabled)
        .count()
}

fn present(sb: &Sandbox, id: &str) -> bool {
    sb.fleet.views().iter().any(|v| v.instance_id == id)
}

async fn protected(sb: &Sandbox, id: &str) -> bool {
    sb.aws
        .describe_auto_scaling_group(&sb.endpoints.autoscaling_group_name)
        .await
        .ok()
        .and_then(|g| g.instance(id).map(|i| i.protected_from_scale_in))
        .unwrap_or(false)
}

async fn until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + timeout;
    while !cond() {
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    true
}

pub fn terraform(ws: &Workspace, args: &[&str]) -> Run {
    tokio::task::block_in_place(|| ws.terraform(args))
}

/// A Terraform working directory holding `examples/local`, whose provider reaches the
/// sandbox's moto, Auto Scaling endpoint and Scalelite double.
pub fn workspace(sb: &Sandbox, provider_bin: &str) -> Result<Workspace, String> {
    let e = &sb.endpoints;
    let mut ws = Workspace::new(provider_bin);
    for (k, v) in [
        ("BBB_SCALELITE_URL", e.scalelite_url.as_str()),
        ("BBB_SCALELITE_SECRET", e.scalelite_secret.as_str()),
        ("BBB_MAX_RETRIES", "1"),
        ("AWS_ACCESS_KEY_ID", e.access_key_id.as_str()),
        ("AWS_SECRET_ACCESS_KEY", e.secret_access_key.as_str()),
        ("AWS_REGION", e.region.as_str()),
        ("AWS_ENDPOINT_URL", e.moto_url.as_str()),
        ("AWS_ENDPOINT_URL_AUTO_SCALING", e.autoscaling_url.as_str()),
    ] {
        ws.set_env(k, v);
    }
    let src = repo_root().join("examples/local");
    for f in ["main.tf", "variables.tf", "outputs.tf", "versions.tf"] {
        std::fs::copy(src.join(f), ws.path().join(f))
            .map_err(|err| format!("copy examples/local/{f}: {err}"))?;
    }
    Ok(ws)
}

/// `terraform.tfvars.json` for `examples/local`: the BBB server `legacy` registered by
/// bbb_scalelite_server, the sandbox's fleet, and `events` for bbb_schedule.
pub fn tfvars(sb: &Sandbox, legacy: &BbbDouble, events: Value) -> String {
    let e = &sb.endpoints;
    json!({
        "servers": { "recordings": { "url": legacy.url() } },
        "server_secrets": { "recordings": legacy.secret() },
        "tag": "sandbox",
        "fleet": {
            "name": bbb_sandbox::FLEET_NAME,
            "autoscaling_group_name": e.autoscaling_group_name,
            "hosted_zone_id": e.hosted_zone_id,
            "domain": e.domain,
            "scalelite_secret_parameter": e.scalelite_secret_parameter,
        },
        "events": events,
    })
    .to_string()
}

/// Applies the workspace and stores `bbb_fleet`'s hook_config where the instances read it.
pub async fn apply_fleet(sb: &Sandbox, ws: &Workspace) -> Result<(), String> {
    let run = terraform(ws, &["apply", "-auto-approve", "-no-color"]);
    if run.code != 0 {
        return Err(format!("terraform apply failed: {}", run.flat()));
    }
    let out = terraform(ws, &["output", "-raw", "hook_config"]);
    if out.code != 0 {
        return Err(format!(
            "terraform output hook_config failed: {}",
            out.flat()
        ));
    }
    sb.publish_hook_config(out.stdout.trim()).await;
    Ok(())
}

/// The fleet's servers in the Scalelite double (by their domain).
pub fn fleet_servers_of(sb: &Sandbox) -> Vec<bbb_doubles::DoubleServer> {
    fleet_servers(sb)
}

/// Plays the scenario with `servers` (at least 3) fleet servers; `provider_bin` is the provider
/// Terraform runs. Scalelite's poller runs beside it, as it runs beside a real fleet: every
/// second, each server's load from its BBB (a meeting younger than 3 s counted as at least 15,
/// Scalelite's join buffer). The hooks rank the fleet by those loads (consolidation cordons the
/// emptiest), so without the poller every server would read empty.
pub async fn play(sb: &Sandbox, provider_bin: &str, servers: usize) -> Outcome {
    let poller = Traffic::new(Duration::from_secs(3));
    let polling = async {
        loop {
            poller.poll(sb);
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    };
    tokio::select! {
        out = steps(sb, provider_bin, servers) => out,
        () = polling => unreachable!("the poller runs until the scenario ends"),
    }
}

async fn steps(sb: &Sandbox, provider_bin: &str, servers: usize) -> Outcome {
    let mut st = Step {
        sb,
        out: Outcome::default(),
    };
    let n = servers.max(3);
    let limit = Duration::from_secs(120);

    // A BBB server outside the group, registered by bbb_scalelite_server (say, a recording
    // server), to show the three resources side by side.
    let legacy = match BbbDouble::start("legacy-bbb-secret-0123456789").await {
        Ok(b) => b,
        Err(err) => {
            st.check(false, &format!("start a BBB double: {err}"));
            return st.out;
        }
    };
    let ws = match workspace(sb, provider_bin) {
        Ok(ws) => ws,
        Err(err) => {
            st.check(false, &err);
            return st.out;
        }
    };
    let vars = |events: Value| tfvars(sb, &legacy, events);
    let apply = |st: &mut Step, ws: &Workspace, what: &str| {
        st.say(format!("terraform apply: {what}"));
        let run = terraform(ws, &["apply", "-auto-approve", "-no-color"]);
        let ok = st.check(run.code == 0, &format!("terraform apply ({what})"));
        if !ok {
            st.say(run.flat());
        }
        ok
    };

    // 1. Terraform sets up the fleet.
    ws.write_file("terraform.tfvars.json", &vars(json!({})));
    st.say("terraform apply: bbb_fleet, bbb_scalelite_server");
    if let Err(err) = apply_fleet(sb, &ws).await {
        st.check(false, &err);
        return st.out;
    }
    st.say("hook_config stored where the instances read it (the fleet module's SSM parameter)");

    // 2. Scale out: every server gets its record and joins Scalelite.
    st.say(format!("scale out to {n} servers"));
    sb.fleet.set_desired(n as i32);
    if !st.check(
        until(limit, || enabled(sb) == n).await,
        "the servers join Scalelite",
    ) {
        return st.out;
    }
    st.out.servers_launched = n;
    st.check(
        sb.records().await.len() == n,
        "each server has its A record",
    );

    // 3. Meetings start on two servers; their hooks protect them.
    let ids: Vec<String> = sb
        .fleet
        .views()
        .into_iter()
        .map(|v| v.instance_id)
        .collect();
    let busy = [ids[0].clone(), ids[1].clone()];
    for id in &busy {
        sb.fleet.with_instance(id, |i| i.start_meeting(30));
        st.out.meetings_started += 1;
        st.say(format!("a meeting starts on {id}"));
    }
    for id in &busy {
        let ok = sb.wait_for(limit, || protected(sb, id)).await;
        st.check(ok, "a server with a meeting is protected from scale-in");
    }

    // 4. Scale in to one while both meetings run: the idle servers drain and leave.
    st.say("scale in to 1 while two servers host meetings");
    sb.fleet.set_desired(1);
    for idle in &ids[2..] {
        let ok = until(limit, || !present(sb, idle)).await;
        if st.check(ok, "an idle server drains and leaves") {
            st.out.servers_drained += 1;
        }
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let live: usize = busy
        .iter()
        .filter_map(|id| sb.fleet.with_instance(id, |i| i.live_meetings()))
        .sum();
    st.out.meetings_dropped = st.out.meetings_started.saturating_sub(live);
    st.check(live == 2, "both meetings still run");

    // 5. One meeting ends: that server is no longer protected and drains.
    st.say(format!("the meeting on {} ends", busy[1]));
    sb.fleet.with_instance(&busy[1], |i| i.end_meetings());
    if st.check(
        until(limit, || !present(sb, &busy[1])).await,
        "the server whose meeting ended drains",
    ) {
        st.out.servers_drained += 1;
    }

    // 6. A new server crashes: its record and registration stay behind until Terraform.
    st.say("scale out to 2, then the new server crashes");
    sb.fleet.set_desired(2);
    let ok = until(limit, || enabled(sb) == 2 && sb.fleet.views().len() == 2).await;
    if st.check(ok, "a second server joins") {
        let victim = sb
            .fleet
            .views()
            .into_iter()
            .map(|v| v.instance_id)
            .find(|id| id != &busy[0])
            .unwrap_or_default();
        sb.fleet.crash(&sb.aws, &victim).await;
        let ok = until(limit, || enabled(sb) == 3).await;
        st.check(
            ok,
            "the replacement joins while the crashed server's registration stays",
        );
        st.out.crash_leftovers = (sb.records().await.len() - 2, fleet_servers(sb).len() - 2);
    }

    // 7. The next apply removes the leftovers, and schedules an event.
    let start = SystemTime::now() + Duration::from_secs(150);
    let start_s = rfc3339(start);
    let end_s = rfc3339(start + Duration::from_secs(1800));
    let capacity = 3usize;
    ws.write_file(
        "terraform.tfvars.json",
        &vars(json!({ "exam": { "start_time": start_s, "end_time": end_s, "capacity": capacity, "lead_time": "1m" } })),
    );
    let plan = terraform(&ws, &["plan", "-no-color"]);
    st.check(
        plan.stdout.contains("orphaned_records"),
        "terraform plan shows the orphaned record and server",
    );
    if apply(
        &mut st,
        &ws,
        "heal the crash's leftovers, schedule an event",
    ) {
        let records = sb.records().await.len();
        let live = sb.fleet.views().len();
        st.out.leftovers_after_apply = (
            records.saturating_sub(live),
            fleet_servers(sb).len().saturating_sub(live),
        );
        st.check(
            st.out.leftovers_after_apply == (0, 0),
            "nothing left behind after the apply",
        );
    }

    // 8. The event's scale-up comes due a minute before its start.
    st.say(format!(
        "event 'exam' starts at {start_s} with {capacity} servers; scale-up 1m before"
    ));
    let ok = until(Duration::from_secs(240), || enabled(sb) == capacity).await;
    let ahead = start
        .duration_since(SystemTime::now())
        .map(|d| d.as_secs() as i64)
        .unwrap_or_else(|e| -(e.duration().as_secs() as i64));
    st.out.event_capacity = (enabled(sb), capacity);
    st.out.event_ahead_seconds = ahead;
    if st.check(ok, "the event's capacity is in service") {
        st.check(ahead > 0, "capacity is in service before the event starts");
        st.say(format!(
            "{capacity} servers in service {ahead} s before the event starts"
        ));
    }
    st.out.meetings_kept = busy
        .iter()
        .filter_map(|id| sb.fleet.with_instance(id, |i| i.live_meetings()))
        .sum::<usize>()
        + 1; // the meeting on busy[1] ran until its users ended it
    st.out.meetings_kept = st.out.meetings_kept.min(st.out.meetings_started);

    // 9. Tear down what Terraform made (the group stays: bbb_fleet does not own it).
    st.say("terraform destroy");
    let run = terraform(&ws, &["destroy", "-auto-approve", "-no-color"]);
    st.check(run.code == 0, "terraform destroy");
    st.out
}
