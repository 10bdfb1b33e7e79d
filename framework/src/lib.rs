//! tfplugin-framework: a small typed framework for Terraform providers (plugin protocol 6): a resource declares its schema (with
//! validators and plan modifiers) and its CRUD once; the framework does the protocol.
//!
//! Division of work, after HashiCorp's terraform-plugin-framework:
//! - [`types`], [`value`], [`msgpack`], [`json_dynamic`]: Terraform values and their wire forms.
//! - [`schema`], [`validators`]: declarations.
//! - [`plan`]: schema-driven validation and planning shared by every resource.
//! - [`resource`]: the traits a provider, resource and data source implement.
//! - [`server`]: the `tfplugin6.Provider` gRPC service.
//! - [`stop`], [`timeouts`]: cancellation (`StopProvider`) and `timeouts {}` bounds of waits.
//! - [`plugin`]: the go-plugin process: handshake, AutoMTLS, the gRPC services, graceful stop.
//!
//! It knows nothing of BigBlueButton: `terraform-provider-bbb` and the test-only plan-check
//! provider (`bbb-plancheck`) are built on it, as providers are on terraform-plugin-framework.

pub mod diagnostics;
pub mod import;
pub mod json_dynamic;
pub mod msgpack;
pub mod path;
pub mod plan;
pub mod plugin;
pub mod private;
pub mod resource;
pub mod schema;
pub mod server;
pub mod stop;
pub mod timeouts;
pub mod types;
pub mod validators;
pub mod value;

pub use diagnostics::{Diagnostic, Diagnostics, Severity};
pub use path::AttrPath;
pub use private::Private;
pub use resource::{Applied, ApplyRequest, CreateFailure, DataSource, Plan, Provider, Resource};
pub use schema::{Attribute, Block, NestedBlock, Nesting, PlanModifier, Schema};
pub use server::ProviderServer;
pub use types::Type;
pub use value::Value;
