//! Cancellation of long waits: Terraform answers Ctrl-C with `StopProvider`, and every wait a
//! resource makes (a destroy that waits for servers to drain) ends promptly then, with an error
//! that keeps the state, as terraform-plugin-framework's cancelled context does.
//!
//! The token is process-wide: Terraform starts one provider process per operation, and once
//! stopped the process serves nothing long-running again.

use std::future::Future;
use std::sync::LazyLock;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::diagnostics::Diagnostics;

static STOP: LazyLock<CancellationToken> = LazyLock::new(CancellationToken::new);

/// Asks every wait, present and future, to end (`StopProvider`, or the plugin's shutdown).
pub fn request() {
    if !STOP.is_cancelled() {
        tracing::info!("stop requested: ending the provider's waits");
    }
    STOP.cancel();
}

/// Whether a stop was requested.
pub fn requested() -> bool {
    STOP.is_cancelled()
}

/// The error a wait ends with when stopped. `what` says what was waited for.
pub fn cancelled(what: &str) -> Diagnostics {
    Diagnostics::from_error(
        "Cancelled",
        format!(
            "Terraform asked the provider to stop (Ctrl-C) while it waited for {what}. Nothing was removed \
             and the resource stays in the state; run the command again to go on waiting."
        ),
    )
}

/// Runs `fut` unless a stop is requested first; then the [`cancelled`] error.
pub async fn interruptible<F: Future>(fut: F, what: &str) -> Result<F::Output, Diagnostics> {
    tokio::select! {
        biased;
        () = STOP.cancelled() => Err(cancelled(what)),
        out = fut => Ok(out),
    }
}

/// Sleeps `d`, or less when a stop is requested ([`cancelled`] error).
pub async fn sleep(d: Duration, what: &str) -> Result<(), Diagnostics> {
    interruptible(tokio::time::sleep(d), what).await
}
