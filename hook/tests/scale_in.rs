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
use support::Instance;

/// Consolidation on every pass.
const CONSOLIDATING: [(&str, &str); 1] = [("BBB_HOOK_CONSOLIDATION_INTERVAL", "0.01")];

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
    i.hook_with(&["protect"], &CONSOLIDATING).await.ok();
    assert!(i.protected().await);
    i.want(0).await;
    let cordon = i.hook_with(&["protect"], &CONSOLIDATING).await;
    cordon.ok();
    assert_eq!(
        i.server().expect("registered").state,
        ServerState::Cordoned,
        "{}",
        cordon.stderr
    );
    assert!(
        i.protected().await,
        "BBB was read before the cordon: still protected\n{}",
        cordon.stderr
    );
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
