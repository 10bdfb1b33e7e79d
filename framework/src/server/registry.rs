//! Building a [`ProviderServer`]: the provider's resources and data sources by type name, each
//! with its schema and type computed once, and the schema answer.

use std::collections::HashMap;
use std::sync::RwLock;

use tfplugin_proto::tfplugin6 as pb;
use tonic::Status;

use super::identity::IdentityEntry;
use super::wire::capabilities;
use super::{Entry, ProviderServer};
use crate::diagnostics::Diagnostics;
use crate::function::{Function, Signature};
use crate::list::ListResource;
use crate::resource::{DataSource, Provider, Resource};
use std::sync::Arc;

/// A function with its signature, computed once.
pub(super) struct FunctionEntry {
    pub(super) imp: Arc<dyn Function>,
    pub(super) signature: Signature,
}

impl<P: Provider> ProviderServer<P> {
    pub fn new(provider: P) -> Self {
        let provider_schema = provider.schema();
        let provider_ty = provider_schema.ty();
        let resources: HashMap<_, _> = provider
            .resources()
            .into_iter()
            .map(|r| (r.type_name(), Entry::new(r.clone(), r.schema())))
            .collect();
        let identities = resources
            .iter()
            .filter_map(|(k, e)| Some((*k, IdentityEntry::of(e.imp.as_ref())?)))
            .collect();
        let lists = provider
            .list_resources()
            .into_iter()
            .map(|l| (l.type_name(), Entry::new(l.clone(), l.schema())))
            .collect();
        let data_sources = provider
            .data_sources()
            .into_iter()
            .map(|d| (d.type_name(), Entry::new(d.clone(), d.schema())))
            .collect();
        let actions = provider
            .actions()
            .into_iter()
            .map(|a| (a.type_name(), Entry::new(a.clone(), a.schema())))
            .collect();
        let functions = provider
            .functions()
            .into_iter()
            .map(|f| {
                let signature = f.signature();
                (f.name(), FunctionEntry { imp: f, signature })
            })
            .collect();
        let ephemerals = provider
            .ephemeral_resources()
            .into_iter()
            .map(|e| (e.type_name(), Entry::new(e.clone(), e.schema())))
            .collect();
        Self {
            provider,
            provider_schema,
            provider_ty,
            resources,
            data_sources,
            identities,
            lists,
            actions,
            functions,
            ephemerals,
            data: RwLock::new(None),
        }
    }

    pub(super) fn resource(
        &self,
        type_name: &str,
    ) -> Result<&Entry<dyn Resource<P::Data>>, Status> {
        self.resources.get(type_name).ok_or_else(|| {
            Status::not_found(format!("this provider has no resource type {type_name:?}"))
        })
    }

    pub(super) fn data_source(
        &self,
        type_name: &str,
    ) -> Result<&Entry<dyn DataSource<P::Data>>, Status> {
        self.data_sources.get(type_name).ok_or_else(|| {
            Status::not_found(format!("this provider has no data source {type_name:?}"))
        })
    }

    pub(super) fn list(
        &self,
        type_name: &str,
    ) -> Result<&Entry<dyn ListResource<P::Data>>, Status> {
        self.lists.get(type_name).ok_or_else(|| {
            Status::not_found(format!("this provider has no list resource {type_name:?}"))
        })
    }

    pub(super) fn configured(&self) -> Result<Arc<P::Data>, Diagnostics> {
        self.data.read().ok().and_then(|d| d.clone()).ok_or_else(|| {
            Diagnostics::from_error(
                "Provider not configured",
                "Terraform called the provider before configuring it. This is a bug in Terraform or the provider.",
            )
        })
    }

    /// The actions' names, for GetMetadata.
    pub(super) fn action_metadata(&self) -> Vec<pb::get_metadata::ActionMetadata> {
        self.actions
            .keys()
            .map(|k| pb::get_metadata::ActionMetadata {
                type_name: k.to_string(),
            })
            .collect()
    }

    pub(super) fn function_metadata(&self) -> Vec<pb::get_metadata::FunctionMetadata> {
        self.functions
            .keys()
            .map(|k| pb::get_metadata::FunctionMetadata {
                name: k.to_string(),
            })
            .collect()
    }

    pub(super) fn ephemeral_metadata(&self) -> Vec<pb::get_metadata::EphemeralMetadata> {
        self.ephemerals
            .keys()
            .map(|k| pb::get_metadata::EphemeralMetadata {
                type_name: k.to_string(),
            })
            .collect()
    }

    /// What the provider serves, by name (GetMetadata).
    pub(super) fn metadata_response(&self) -> pb::get_metadata::Response {
        use pb::get_metadata as m;
        m::Response {
            server_capabilities: Some(capabilities()),
            diagnostics: Vec::new(),
            data_sources: self
                .data_sources
                .keys()
                .map(|k| m::DataSourceMetadata {
                    type_name: k.to_string(),
                })
                .collect(),
            resources: self
                .resources
                .keys()
                .map(|k| m::ResourceMetadata {
                    type_name: k.to_string(),
                })
                .collect(),
            functions: self.function_metadata(),
            ephemeral_resources: self.ephemeral_metadata(),
            list_resources: (self.lists.keys())
                .map(|k| m::ListResourceMetadata {
                    type_name: k.to_string(),
                })
                .collect(),
            actions: self.action_metadata(),
        }
    }

    /// Builds the full schema response (also used by the schema documentation checks).
    pub fn schema_response(&self) -> pb::get_provider_schema::Response {
        pb::get_provider_schema::Response {
            provider: Some(self.provider_schema.to_proto()),
            resource_schemas: self
                .resources
                .iter()
                .map(|(k, e)| (k.to_string(), e.schema.to_proto()))
                .collect(),
            data_source_schemas: self
                .data_sources
                .iter()
                .map(|(k, e)| (k.to_string(), e.schema.to_proto()))
                .collect(),
            diagnostics: Vec::new(),
            provider_meta: None,
            server_capabilities: Some(capabilities()),
            functions: self.function_signatures(),
            ephemeral_resource_schemas: self
                .ephemerals
                .iter()
                .map(|(k, e)| (k.to_string(), e.schema.to_proto()))
                .collect(),
            list_resource_schemas: self
                .lists
                .iter()
                .map(|(k, e)| (k.to_string(), e.schema.to_proto()))
                .collect(),
            action_schemas: self
                .actions
                .iter()
                .map(|(k, e)| {
                    let schema = Some(e.schema.to_proto());
                    (k.to_string(), pb::ActionSchema { schema })
                })
                .collect(),
        }
    }
}
