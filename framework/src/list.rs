//! List resources (protocol 6.10, Terraform 1.14+ `terraform query`): a `list` block in a
//! `*.tfquery.hcl` file finds existing objects of a managed resource type of the same name.
//!
//! The provider declares the schema of the block's `config {}` (Terraform adds `provider`,
//! `include_resource` and `limit` around it itself) and returns the objects found; the
//! framework streams one event per object with the managed resource's identity, a display name
//! and, when Terraform asks for it (`include_resource = true`, `-generate-config-out`), the full
//! object with write-only attributes cleared. It stops at `limit`.

use async_trait::async_trait;

use crate::diagnostics::Diagnostics;
use crate::schema::Schema;
use crate::value::Value;

/// What a `list` block asks for.
#[derive(Debug, Clone)]
pub struct ListRequest {
    /// The `config {}` block's value (null attributes when not set).
    pub config: Value,
    /// Whether the results' full objects are wanted.
    pub include_resource_object: bool,
    /// The most results Terraform reads.
    pub limit: usize,
}

/// One object found: its state in the managed resource type's schema, from which the
/// framework takes the identity ([`crate::Resource::identity`]).
#[derive(Debug, Clone)]
pub struct ListResult {
    pub display_name: String,
    pub state: Value,
}

#[async_trait]
pub trait ListResource<D: Send + Sync + 'static>: Send + Sync {
    /// The managed resource type listed, e.g. `bbb_scalelite_server`; it must have an identity.
    fn type_name(&self) -> &'static str;

    /// The schema of the `list` block's `config {}`.
    fn schema(&self) -> Schema;

    /// Checks across attributes (ValidateListResourceConfig); `config` may hold unknowns.
    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}

    /// Finds the objects. At most `req.limit` are streamed; a lister that can stop early
    /// should.
    async fn list(&self, data: &D, req: &ListRequest) -> Result<Vec<ListResult>, Diagnostics>;
}
