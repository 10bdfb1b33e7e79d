//! Actions (plugin protocol 6.10, Terraform 1.14+): operations an operator runs with
//! `terraform apply -invoke=action.<type>.<name>` or from a resource's `action_trigger`, with
//! no state of their own. Terraform asks `PlanAction` when it plans the invocation (checks
//! that need no change), then `InvokeAction`, a stream of progress lines ending in one
//! completion that carries the diagnostics.
//!
//! Ctrl-C: Terraform calls `StopProvider`, which ends the waits of [`crate::stop`]; an action
//! ends with an error that says what it left done (the stream's completion), as a resource's
//! wait does.

use async_trait::async_trait;
use tokio::sync::mpsc;

use super::diagnostics::Diagnostics;
use super::schema::Schema;
use super::value::Value;

/// Where a running action sends its progress lines; Terraform prints each as it arrives.
#[derive(Clone, Debug)]
pub struct Progress {
    tx: mpsc::UnboundedSender<String>,
}

impl Progress {
    /// A progress sink and the receiving end of its lines (the server forwards them).
    pub fn channel() -> (Self, mpsc::UnboundedReceiver<String>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (Self { tx }, rx)
    }

    /// Sends one line. A line Terraform no longer reads (the stream was cancelled) is dropped.
    pub fn send(&self, line: impl Into<String>) {
        let line = line.into();
        tracing::info!(progress = %line, "action progress");
        let _ = self.tx.send(line);
    }

    /// Whether Terraform stopped reading (it cancelled the invocation's stream).
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }

    /// Resolves once Terraform stops reading.
    pub async fn closed(&self) {
        self.tx.closed().await
    }
}

#[async_trait]
pub trait Action<D: Send + Sync + 'static>: Send + Sync {
    /// The action type, e.g. `bbb_scalelite_server_drain`.
    fn type_name(&self) -> &'static str;

    fn schema(&self) -> Schema;

    /// Checks across attributes, beyond each attribute's own validators. `config` may hold
    /// unknown values.
    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}

    /// Checks at plan time what can be checked without changing anything (the object the action
    /// works on exists, ...). `config` may hold unknown values: leave those for the invocation.
    async fn plan(&self, _data: &D, _config: &Value, _diags: &mut Diagnostics) {}

    /// Runs the action. Progress lines go to `progress`; the answer is the completion's
    /// diagnostics (warnings, or errors that say what was done before the failure).
    async fn invoke(&self, data: &D, config: Value, progress: &Progress) -> Diagnostics;
}
