//! An instance the group terminates shuts down as systemd stops its units: the running hook
//! processes get SIGTERM and may finish (up to the stop timeout, then SIGKILL), no unit starts
//! again, and the launch unit's `ExecStop=bbb-hook drain` runs beside the watcher's stop once the
//! launch had succeeded and the protect timer has stopped.
//! The hook here is a script that plays the real one's last steps, so the test needs no moto.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use bbb_core::aws::StaticCredentials;
use bbb_sandbox::instance::SimInstance;
use bbb_sandbox::{Events, HookEnv};

fn fake_hook(dir: &Path, drain_body: &str) -> std::path::PathBuf {
    let path = dir.join("bbb-hook");
    let script = format!(
        r#"#!/bin/sh
case "$1" in
  launch) echo "launch finished" >&2; exit 0 ;;
  protect) echo "protect pass" >&2; exit 0 ;;
  drain)
    if [ "$2" = "--on-lifecycle-signal" ]; then
{drain_body}
    else
      # The real hook waits for the state lock the lifecycle drain holds, then finds it drained.
      until [ -e "$STATE_DIRECTORY/drained" ]; do sleep 0.05; done
      echo "execstop drain: already drained" >&2; exit 0
    fi ;;
esac
exit 64
"#
    );
    std::fs::write(&path, script).expect("write the fake hook");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    path
}

fn env(hook: std::path::PathBuf) -> HookEnv {
    HookEnv {
        hook_binary: hook,
        moto_url: "http://127.0.0.1:9".into(),
        autoscaling_url: "http://127.0.0.1:9".into(),
        region: "eu-west-1".into(),
        config_parameter: "/bbb/test/hook-config".into(),
        credentials: StaticCredentials {
            access_key_id: "AKIDTEST".into(),
            secret_access_key: "not-a-secret".into(),
            session_token: None,
        },
        protect_every: Duration::from_millis(100),
        poll_interval: Duration::from_millis(100),
    }
}

/// A simulated instance of `id` running `hook`, and its events.
async fn start(id: &str, hook: std::path::PathBuf) -> (SimInstance, Events) {
    let events = Events::new(false);
    let sim = SimInstance::start(
        id.to_owned(),
        std::net::Ipv4Addr::new(127, 0, 0, 1),
        &env(hook),
        events.clone(),
        None,
    )
    .await
    .expect("instance");
    (sim, events)
}

async fn wait_for(events: &Events, text: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !events.all().iter().any(|e| e.text.contains(text)) {
        assert!(Instant::now() < deadline, "no event with {text:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn count(events: &Events, text: &str) -> usize {
    events
        .all()
        .iter()
        .filter(|e| e.text.contains(text))
        .count()
}

#[tokio::test]
async fn a_terminated_instance_lets_its_drain_finish_then_runs_execstop() {
    let dir = tempfile::tempdir().expect("tempdir");
    // The real drain's last steps after CompleteLifecycleAction (state saved, the summary line)
    // take a moment; SIGTERM does not cut them.
    let hook = fake_hook(
        dir.path(),
        r#"      trap 'echo "drain got SIGTERM" >&2' TERM
      echo "drain started" >&2
      sleep 1
      mkdir -p "$STATE_DIRECTORY"; touch "$STATE_DIRECTORY/drained"
      echo "drain complete" >&2; exit 0"#,
    );
    let (sim, events) = start("i-0shutdown1", hook).await;
    wait_for(&events, "drain started").await;
    wait_for(&events, "protect pass").await;
    sim.shutdown(Duration::from_secs(5)).await;

    assert_eq!(
        count(&events, "drain complete"),
        1,
        "the drain's last line: {:#?}",
        events.all()
    );
    assert_eq!(
        count(&events, "drain got SIGTERM"),
        1,
        "SIGTERM came mid-drain"
    );
    assert_eq!(count(&events, "execstop drain: already drained"), 1);
    let all = events.all();
    let complete_at = all.iter().position(|e| e.text.contains("drain complete"));
    let execstop_done_at = all.iter().position(|e| e.text.contains("already drained"));
    assert!(
        complete_at < execstop_done_at,
        "the ExecStop drain finds the work done after the lifecycle drain"
    );
    let execstop_at = events
        .all()
        .iter()
        .position(|e| e.text.contains("execstop drain"))
        .expect("execstop");
    let last_protect = events
        .all()
        .iter()
        .rposition(|e| e.text.contains("protect pass"))
        .expect("protect");
    assert!(
        last_protect < execstop_at,
        "the protect timer is stopped before the launch unit's ExecStop"
    );
    let settled = events.all().len();
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        events.all().len(),
        settled,
        "no unit runs after the shutdown"
    );
}

#[tokio::test]
async fn a_process_that_ignores_sigterm_is_killed_at_the_stop_timeout() {
    let dir = tempfile::tempdir().expect("tempdir");
    let hook = fake_hook(
        dir.path(),
        r#"      trap '' TERM
      echo "drain started" >&2
      exec sleep 30"#,
    );
    let (sim, events) = start("i-0shutdown2", hook).await;
    wait_for(&events, "drain started").await;
    let started = Instant::now();
    sim.shutdown(Duration::from_millis(500)).await;
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(5),
        "shutdown waited {took:?} for processes past their stop timeout"
    );
    // The watcher is killed at the timeout; the ExecStop drain (waiting for a drain that never
    // finishes) gets SIGTERM at its own, and stops.
    assert_eq!(
        count(
            &events,
            "drain --on-lifecycle-signal did not stop within 500 ms"
        ),
        1,
        "{:#?}",
        events.all()
    );
    assert_eq!(
        count(
            &events,
            "drain (ExecStop) still running after 500 ms: SIGTERM"
        ),
        1
    );
    assert_eq!(count(&events, "execstop drain: already drained"), 0);
}
