//! D1: the lifecycle watcher lives for the instance's whole life, longer than an IMDSv2 session
//! token. It must renew its token before the TTL runs out and after a 401, and still see the
//! terminating signal.

mod support;

use bbb_core::scalelite::ServerState;
use support::{Instance, TERMINATING_HOOK};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_watcher_sees_terminated_after_its_token_expired() {
    let i = Instance::new(60).await;
    i.hook(&["launch"]).await.ok();
    let child = i.spawn(&["drain", "--on-lifecycle-signal"], &[]);
    i.eventually("the watcher polls the target lifecycle state", || {
        i.imds
            .calls("/latest/meta-data/autoscaling/target-lifecycle-state")
            >= 2
    })
    .await;
    // Six hours later (as far as IMDS is concerned): every token issued so far is expired.
    i.imds.expire_tokens();
    let refused = i.imds.unauthorized();
    i.eventually("a poll with the expired token", || {
        i.imds.unauthorized() > refused
    })
    .await;
    i.imds.set_target_lifecycle_state(Some("Terminated"));
    i.eventually("cordoned after the signal", || {
        i.server().is_some_and(|s| s.state == ServerState::Cordoned)
    })
    .await;
    let run = i.finish(child).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(i.server().is_none(), "deregistered");
    assert!(i.completed(TERMINATING_HOOK).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_hook_renews_its_token_before_the_ttl_runs_out() {
    let i = Instance::new(60).await;
    i.hook(&["launch"]).await.ok();
    // Tokens of 4 s, as asked for: renewed at three quarters of their life (3 s), never
    // refused. (Not 1 s: a poll sent just before the 750 ms mark can reach the metadata service
    // after the token died when the machine is loaded, and the test would flake.)
    let child = i.spawn(
        &["drain", "--on-lifecycle-signal"],
        &[("BBB_HOOK_IMDS_TOKEN_TTL", "4")],
    );
    let tokens = i.imds.calls("/latest/api/token");
    i.eventually("two more tokens within about 6 s", || {
        i.imds.calls("/latest/api/token") >= tokens + 2
    })
    .await;
    assert_eq!(i.imds.unauthorized(), 0, "no request with an expired token");
    i.imds.set_target_lifecycle_state(Some("Terminated"));
    let run = i.finish(child).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(i.completed(TERMINATING_HOOK).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_out_of_range_token_ttl_is_a_configuration_error() {
    let i = Instance::new(60).await;
    let run = i
        .hook_with(&["status"], &[("BBB_HOOK_IMDS_TOKEN_TTL", "21601")])
        .await;
    assert_eq!(run.code, 78, "{}", run.stderr);
    assert!(
        run.stderr.contains("BBB_HOOK_IMDS_TOKEN_TTL"),
        "{}",
        run.stderr
    );
}
