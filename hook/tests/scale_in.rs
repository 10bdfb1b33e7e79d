//! A scale-in never takes a server Scalelite can route a `create` to.
//!
//! Scalelite sends each `create` to the least-loaded enabled server (an idle one first), and EC2
//! Auto Scaling's scale-in terminates an unprotected instance. With consolidation on, an idle
//! server stays protected while it is enabled in Scalelite; it leaves only through
//! consolidation: cordoned as surplus, then unprotected at the next pass (whose `getMeetings`
//! comes after the cordon, so a meeting routed just before it is seen), then terminated by the
//! group and drained. The simulator measures the race this closes (`sim/tests/scale_in_race.rs`).

mod support;

use bbb_core::scalelite::ServerState;
use support::{Instance, CONSOLIDATING, MEETINGS_ONLY};

async fn launched_idle() -> Instance {
    let i = Instance::new(60).await;
    i.hook(&["launch"]).await.ok();
    assert_eq!(i.server().expect("registered").state, ServerState::Enabled);
    i
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_idle_server_scalelite_can_route_to_keeps_its_protection() {
    let i = launched_idle().await;
    for _ in 0..2 {
        let pass = i.hook_with(&["protect"], &CONSOLIDATING).await;
        pass.ok();
        assert!(i.protected().await, "idle but enabled:\n{}", pass.stderr);
    }
    assert_eq!(i.state()["routable"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_surplus_server_is_cordoned_first_and_unprotected_at_the_next_pass() {
    let i = launched_idle().await;
    let cordon = i.cordon_as_surplus().await;
    assert!(
        i.protected().await,
        "BBB was read before the cordon: still protected\n{}",
        cordon.stderr
    );
    // One event for the decision and its write: the rule's record, and the state written.
    let events: Vec<&str> = cordon
        .stderr
        .lines()
        .filter(|l| l.contains("action=cordon"))
        .collect();
    assert_eq!(events.len(), 1, "{}", cordon.stderr);
    for field in [
        "consolidation decision",
        "state=\"cordoned\"",
        "written=true",
        "\"desired_capacity\":0",
    ] {
        assert!(events[0].contains(field), "{field}: {}", events[0]);
    }
    let release = i.hook_with(&["protect"], &CONSOLIDATING).await;
    release.ok();
    assert!(
        !i.protected().await,
        "cordoned and idle:\n{}",
        release.stderr
    );
    assert!(
        release.stderr.contains("routable=false"),
        "the log says why:\n{}",
        release.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_operators_cordon_lets_an_idle_server_go() {
    let i = launched_idle().await;
    i.hook_with(&["protect"], &CONSOLIDATING).await.ok();
    assert!(i.protected().await);
    let id = i.server().expect("registered").id;
    assert!(i
        .scalelite
        .modify_server(&id, |s| s.state = ServerState::Cordoned));
    // The first pass reads the cordon (after this pass's BBB read), the next one releases.
    i.hook_with(&["protect"], &CONSOLIDATING).await.ok();
    let release = i.hook_with(&["protect"], &CONSOLIDATING).await;
    release.ok();
    assert!(!i.protected().await, "{}", release.stderr);
    assert_eq!(i.server().expect("registered").state, ServerState::Cordoned);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn without_consolidation_protection_follows_the_meetings_alone() {
    // Nothing would ever cordon a surplus server, so holding idle servers would stop every
    // scale-in.
    let i = launched_idle().await;
    let pass = i
        .hook_with(&["protect"], &[("BBB_FLEET_CONSOLIDATION", "off")])
        .await;
    pass.ok();
    assert!(!i.protected().await, "{}", pass.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_enable_protects_the_server_in_the_same_pass() {
    let i = launched_idle().await;
    let id = i.server().expect("registered").id;
    i.scalelite
        .modify_server(&id, |s| s.state = ServerState::Cordoned);
    for _ in 0..2 {
        i.hook_with(&["protect"], &CONSOLIDATING).await.ok();
    }
    assert!(!i.protected().await, "cordoned by an operator and idle");
    // The operator enables it again: Scalelite can route the next `create` here at once.
    i.scalelite
        .modify_server(&id, |s| s.state = ServerState::Enabled);
    let enabled = i.hook_with(&["protect"], &CONSOLIDATING).await;
    enabled.ok();
    assert!(
        i.protected().await,
        "protected by the pass that read the enable:\n{}",
        enabled.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn with_scalelite_unreadable_for_long_protection_follows_the_meetings() {
    // Holding an idle server forever because its hook cannot read Scalelite would stop the
    // fleet from shrinking; Scalelite that cannot be read routes nothing either.
    let i = launched_idle().await;
    i.hook_with(&["protect"], &CONSOLIDATING).await.ok();
    assert!(i.protected().await);
    i.scalelite.set_available(false);
    let mut state = i.state();
    state["routable_at"] = 1.into();
    std::fs::write(i.path("state/state.json"), state.to_string()).expect("write state");
    let pass = i.hook_with(&["protect"], &CONSOLIDATING).await;
    assert!(!i.protected().await, "{}", pass.stderr);
    assert!(
        pass.stderr
            .contains("protection follows the meetings alone"),
        "{}",
        pass.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_cordoned_server_stays_protected_until_scalelite_forgets_its_meetings() {
    // Scalelite's `create` sends a reused meeting id to the server its record names; once the
    // poller made a cordoned, empty server `disabled`, without checking the meeting still runs
    // there. The record goes at the poller's next `poll:meetings`.
    let env = [
        ("BBB_HOOK_CONSOLIDATION_INTERVAL", "0.01"),
        ("BBB_HOOK_RELEASE_AFTER", "2"),
    ];
    let i = launched_idle().await;
    i.bbb
        .add_meeting(bbb_doubles::DoubleMeeting::new("room", "Room"));
    i.hook_with(&["protect"], &env).await.ok();
    i.want(0).await;
    i.hook_with(&["protect"], &env).await.ok();
    assert_eq!(i.server().expect("registered").state, ServerState::Cordoned);
    assert!(i.bbb.end_meeting("room"));
    let just_ended = i.hook_with(&["protect"], &env).await;
    just_ended.ok();
    assert!(i.protected().await, "{}", just_ended.stderr);
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let later = i.hook_with(&["protect"], &env).await;
    later.ok();
    assert!(!i.protected().await, "{}", later.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn consolidation_protects_a_server_before_enabling_it_again() {
    let i = launched_idle().await;
    i.hook_with(&["protect"], &CONSOLIDATING).await.ok();
    i.want(0).await;
    for _ in 0..2 {
        i.hook_with(&["protect"], &CONSOLIDATING).await.ok();
    }
    assert!(!i.protected().await, "cordoned as surplus and idle");
    i.want(1).await;
    let back = i.hook_with(&["protect"], &CONSOLIDATING).await;
    back.ok();
    assert_eq!(i.server().expect("registered").state, ServerState::Enabled);
    assert!(i.protected().await, "{}", back.stderr);
    let protected_at = back
        .stderr
        .find("scale-in protection set before the server is enabled")
        .expect("protected first");
    let enabled_at = back.stderr.find("action=enable").expect("then enabled");
    assert!(protected_at < enabled_at, "{}", back.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_vanished_registration_is_re_added_only_once_the_server_is_protected() {
    // Registration repair re-adds the server enabled: Scalelite can route to it at once, so
    // protection comes first, and when that call fails the server stays out of Scalelite for
    // the pass (re-added disabled, it would look like an operator's and stay so).
    let env = [
        ("BBB_HOOK_CONSOLIDATION_INTERVAL", "0.01"),
        ("BBB_HOOK_RELEASE_AFTER", "0.01"),
        ("BBB_HOOK_RECONCILE_INTERVAL", "0.01"),
    ];
    let i = launched_idle().await;
    i.hook_with(&["protect"], &env).await.ok();
    assert!(i.protected().await);
    // An operator lifts the protection and removes the registration.
    i.aws
        .set_instance_protection(&i.group, std::slice::from_ref(&i.instance_id), false)
        .await
        .expect("SetInstanceProtection");
    let id = i.server().expect("registered").id;
    assert!(i.scalelite.remove_server(&id));
    i.deny_next_protection().await;
    let failed = i.hook_with(&["protect"], &env).await;
    assert_ne!(
        failed.code, 0,
        "the repair's failure is the pass's:\n{}",
        failed.stderr
    );
    assert!(
        i.server().is_none(),
        "not re-added without its protection:\n{}",
        failed.stderr
    );
    let repaired = i.hook_with(&["protect"], &env).await;
    repaired.ok();
    assert_eq!(
        i.server().expect("re-added").state,
        ServerState::Enabled,
        "{}",
        repaired.stderr
    );
    assert!(i.protected().await, "{}", repaired.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_server_the_group_protected_as_it_entered_service_keeps_that_protection() {
    // `modules/fleet` sets the group's `protect_from_scale_in`: the instance is protected from
    // the moment it is InService. (moto's instance is in service from the start, so the test
    // sets that protection itself before the launch.) Launch reads it while it waits for
    // `InService` and enables the server without writing it again; the first pass keeps it
    // while the server is routable; without consolidation it lets an idle server go.
    let i = Instance::new(60).await;
    i.aws
        .set_instance_protection(&i.group, std::slice::from_ref(&i.instance_id), true)
        .await
        .expect("SetInstanceProtection");
    let launch = i.hook(&["launch"]).await;
    launch.ok();
    let first = i.hook_with(&["protect"], &CONSOLIDATING).await;
    first.ok();
    assert!(i.protected().await, "{}", first.stderr);
    assert_eq!(
        i.lifecycle.requests("SetInstanceProtection").await,
        0,
        "read, not written:\n{}\n{}",
        launch.stderr,
        first.stderr
    );
    let meetings_only = i.hook_with(&["protect"], &MEETINGS_ONLY).await;
    meetings_only.ok();
    assert!(!i.protected().await, "{}", meetings_only.stderr);
}
