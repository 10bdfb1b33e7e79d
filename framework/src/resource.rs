//! Managed resources and data sources: what a resource implements, once; the framework does
//! the protocol, schema validation, defaults, unknown marking and plan modifiers.

use async_trait::async_trait;

use super::diagnostics::Diagnostics;
use super::path::AttrPath;
use super::private::Private;
use super::schema::Schema;
use super::value::Value;

/// Inputs of a create, update or delete. `config` holds write-only values, which `planned`
/// never does.
#[derive(Debug, Clone)]
pub struct ApplyRequest {
    pub prior: Value,
    pub planned: Value,
    pub config: Value,
    pub private: Private,
}

/// A resource's state after create, update, read or import, with any warnings about it
/// (e.g. "Scalelite did not answer; its values are the last known ones").
#[derive(Debug, Clone)]
pub struct Applied {
    pub state: Value,
    pub private: Private,
    /// Warnings answered with the state; errors belong in the `Err` of the call instead.
    pub warnings: Diagnostics,
}

impl Applied {
    pub fn new(state: Value) -> Self {
        Self::with_private(state, Private::default())
    }

    pub fn with_private(state: Value, private: Private) -> Self {
        Self {
            state,
            private,
            warnings: Diagnostics::new(),
        }
    }

    /// The same state, answered with `warnings` too.
    pub fn with_warnings(mut self, warnings: Diagnostics) -> Self {
        self.warnings.extend(warnings);
        self
    }
}

/// A create that failed, with the state of what it made anyway when it could not undo it.
///
/// With `partial` set, the framework answers that state together with the errors, and Terraform
/// records the resource as tainted: the object is not forgotten, and the next apply replaces it
/// (destroys it, then creates it again). Without it, nothing is recorded, as for any failure.
#[derive(Debug, Clone)]
pub struct CreateFailure {
    pub diagnostics: Diagnostics,
    pub partial: Option<Applied>,
}

impl CreateFailure {
    /// A failure that leaves `partial` behind, to be recorded (tainted).
    pub fn keeping(partial: Applied, diagnostics: Diagnostics) -> Self {
        Self {
            diagnostics,
            partial: Some(partial),
        }
    }
}

impl From<Diagnostics> for CreateFailure {
    fn from(diagnostics: Diagnostics) -> Self {
        Self {
            diagnostics,
            partial: None,
        }
    }
}

/// The plan of a create or update after the framework's own planning; a resource may change
/// it further in [`Resource::modify_plan`].
#[derive(Debug, Clone)]
pub struct Plan {
    pub prior: Value,
    pub config: Value,
    pub planned: Value,
    pub requires_replace: Vec<AttrPath>,
    pub private: Private,
}

impl Plan {
    pub fn is_create(&self) -> bool {
        self.prior.is_null()
    }
}

#[async_trait]
pub trait Resource<D: Send + Sync + 'static>: Send + Sync {
    /// The resource type, e.g. `bbb_scalelite_server`.
    fn type_name(&self) -> &'static str;

    fn schema(&self) -> Schema;

    /// Checks across attributes, beyond each attribute's own validators. `config` may hold
    /// unknown values.
    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}

    /// Changes a create or update plan (computed values the provider can know at plan time,
    /// warnings, remote checks). A destroy goes to [`Resource::plan_destroy`].
    async fn modify_plan(&self, _data: &D, _plan: &mut Plan, _diags: &mut Diagnostics) {}

    /// Looks at a destroy when it is planned (terraform-plugin-framework calls ModifyPlan with
    /// a null plan): warnings about what the destroy will wait for or cut short. The plan is
    /// the removal; `prior` and `private` are the state being destroyed.
    async fn plan_destroy(
        &self,
        _data: &D,
        _prior: &Value,
        _private: &Private,
        _diags: &mut Diagnostics,
    ) {
    }

    async fn create(&self, data: &D, req: ApplyRequest) -> Result<Applied, Diagnostics>;

    /// Refreshes state; `Ok(None)` when the object is gone, so Terraform forgets it.
    async fn read(&self, data: &D, current: Applied) -> Result<Option<Applied>, Diagnostics>;

    async fn update(&self, data: &D, req: ApplyRequest) -> Result<Applied, Diagnostics>;

    async fn delete(&self, data: &D, req: ApplyRequest) -> Result<(), Diagnostics>;

    /// What the framework calls to create. The default calls [`Resource::create`]; a resource
    /// whose create can fail after making something it cannot undo overrides this, returns
    /// [`CreateFailure::keeping`] with that object's state, and makes `create` call it.
    async fn create_or_keep(&self, data: &D, req: ApplyRequest) -> Result<Applied, CreateFailure> {
        self.create(data, req).await.map_err(CreateFailure::from)
    }

    /// Builds the state of an existing object from the ID given to `terraform import`;
    /// Terraform then reads it.
    async fn import(&self, _data: &D, _id: &str) -> Result<Applied, Diagnostics> {
        Err(Diagnostics::from_error(
            "Import not supported",
            format!("{} cannot be imported.", self.type_name()),
        ))
    }

    /// Upgrades JSON state written under schema `from_version` to the current schema.
    fn upgrade_state(
        &self,
        from_version: i64,
        state: serde_json::Value,
    ) -> Result<serde_json::Value, Diagnostics> {
        let current = self.schema().version;
        if from_version == current {
            Ok(state)
        } else {
            Err(Diagnostics::from_error(
                "Unsupported state version",
                format!(
                    "{} cannot upgrade state from schema version {from_version} to {current}.",
                    self.type_name()
                ),
            ))
        }
    }
}

#[async_trait]
pub trait DataSource<D: Send + Sync + 'static>: Send + Sync {
    fn type_name(&self) -> &'static str;

    fn schema(&self) -> Schema;

    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}

    /// Reads the data; returns the whole object, computed attributes filled in.
    async fn read(&self, data: &D, config: Value) -> Result<Value, Diagnostics>;
}

#[async_trait]
pub trait Provider: Send + Sync + 'static {
    /// What configuration produces and every resource uses (clients, settings).
    type Data: Send + Sync + 'static;

    fn schema(&self) -> Schema;

    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}

    /// Builds the provider's data. `config` may hold unknown values during plan: configure
    /// must then succeed and leave the affected clients unavailable until apply.
    async fn configure(
        &self,
        config: &Value,
        terraform_version: &str,
    ) -> Result<Self::Data, Diagnostics>;

    fn resources(&self) -> Vec<std::sync::Arc<dyn Resource<Self::Data>>>;

    fn data_sources(&self) -> Vec<std::sync::Arc<dyn DataSource<Self::Data>>>;
}
