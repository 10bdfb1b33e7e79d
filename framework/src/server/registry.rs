//! Building a [`ProviderServer`]: the provider's resources and data sources by type name, each
//! with its schema and type computed once, and the schema answer.

use std::collections::HashMap;
use std::sync::RwLock;

use tfplugin_proto::tfplugin6 as pb;
use tonic::Status;

use super::wire::capabilities;
use super::{Entry, ProviderServer};
use crate::diagnostics::Diagnostics;
use crate::resource::{DataSource, Provider, Resource};
use std::sync::Arc;

impl<P: Provider> ProviderServer<P> {
    pub fn new(provider: P) -> Self {
        let provider_schema = provider.schema();
        let provider_ty = provider_schema.ty();
        let resources = provider
            .resources()
            .into_iter()
            .map(|r| (r.type_name(), Entry::new(r.clone(), r.schema())))
            .collect();
        let data_sources = provider
            .data_sources()
            .into_iter()
            .map(|d| (d.type_name(), Entry::new(d.clone(), d.schema())))
            .collect();
        Self {
            provider,
            provider_schema,
            provider_ty,
            resources,
            data_sources,
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

    pub(super) fn configured(&self) -> Result<Arc<P::Data>, Diagnostics> {
        self.data.read().ok().and_then(|d| d.clone()).ok_or_else(|| {
            Diagnostics::from_error(
                "Provider not configured",
                "Terraform called the provider before configuring it. This is a bug in Terraform or the provider.",
            )
        })
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
            functions: HashMap::new(),
            ephemeral_resource_schemas: HashMap::new(),
            list_resource_schemas: HashMap::new(),
            action_schemas: HashMap::new(),
        }
    }
}
