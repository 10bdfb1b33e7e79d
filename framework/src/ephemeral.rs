//! Ephemeral resources (`ephemeral "<type>" "<name>" {}`, Terraform 1.10+, OpenTofu 1.11+):
//! values opened for one Terraform run, such as a secret read from a secret store, that never
//! enter a plan or state file. They feed write-only arguments, provider blocks, other
//! ephemeral resources and ephemeral outputs/variables.
//!
//! Terraform validates the configuration (ValidateEphemeralResourceConfig), opens the resource
//! in every run that needs it, plan and apply alike (OpenEphemeralResource: the provider is
//! configured first; with an unknown configuration Terraform does not call the provider and the
//! result is unknown), and closes it when the run is done with it (CloseEphemeralResource, with
//! the private bytes Open answered). Renewal (RenewEphemeralResource) is only called when Open
//! answers a `renew_at` time; this framework never does, so a resource whose value expires
//! within a run (a lease) would need it added.

use async_trait::async_trait;

use crate::diagnostics::Diagnostics;
use crate::private::Private;
use crate::schema::Schema;
use crate::value::Value;

/// What Open answers: the result object (the schema's attributes, computed ones filled in),
/// private bytes given back to Close, and warnings.
#[derive(Debug, Clone)]
pub struct Opened {
    pub result: Value,
    pub private: Private,
    pub warnings: Diagnostics,
}

impl Opened {
    pub fn new(result: Value) -> Self {
        Self {
            result,
            private: Private::default(),
            warnings: Diagnostics::new(),
        }
    }
}

#[async_trait]
pub trait EphemeralResource<D: Send + Sync + 'static>: Send + Sync {
    /// The type, e.g. `bbb_scalelite_secret`.
    fn type_name(&self) -> &'static str;

    fn schema(&self) -> Schema;

    /// Checks across attributes, beyond each attribute's validators. `config` may hold
    /// unknown values.
    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}

    /// Opens the resource: reads what it stands for. `config` is wholly known.
    async fn open(&self, data: &D, config: Value) -> Result<Opened, Diagnostics>;

    /// Releases what Open took (a lease, a session); `private` is what Open answered.
    async fn close(&self, _data: &D, _private: Private) -> Result<(), Diagnostics> {
        Ok(())
    }
}
