//! ListResource and ValidateListResourceConfig: `list` blocks of `terraform query`.

use tfplugin_proto::tfplugin6 as pb;
use tonic::codegen::BoxStream;
use tonic::Status;

use super::wire::{decode, encode, validate};
use super::ProviderServer;
use crate::diagnostics::Diagnostics;
use crate::list::ListRequest;
use crate::plan;
use crate::resource::Provider;
use crate::types::Type;

impl<P: Provider> ProviderServer<P> {
    pub(super) fn validate_list(
        &self,
        req: pb::validate_list_resource_config::Request,
    ) -> Result<pb::validate_list_resource_config::Response, Status> {
        let entry = self.list(&req.type_name)?;
        let mut diags = validate(&entry.schema, &entry.ty, req.config.as_ref(), |c, d| {
            entry.imp.validate(c, d)
        });
        if let Ok(limit) = decode(req.limit.as_ref(), &Type::Number) {
            if limit.as_f64().is_some_and(|l| l < 0.0 || l.fract() != 0.0) {
                diags.error(
                    "Invalid limit",
                    format!(
                        "limit must be a whole number of results, 0 or more; got {}.",
                        limit.to_json()
                    ),
                );
            }
        }
        Ok(pb::validate_list_resource_config::Response {
            diagnostics: diags.to_proto(),
        })
    }

    /// Runs one list and answers its events: one per object found, at most `limit`, or one
    /// event carrying the errors.
    pub(super) async fn list_events(
        &self,
        req: pb::list_resource::Request,
    ) -> Result<BoxStream<pb::list_resource::Event>, Status> {
        let events = match self.list_results(&req).await {
            Ok(events) => events,
            Err(diags) => vec![pb::list_resource::Event {
                diagnostic: diags.to_proto(),
                ..Default::default()
            }],
        };
        Ok(Box::pin(tokio_stream::iter(events.into_iter().map(Ok))))
    }

    async fn list_results(
        &self,
        req: &pb::list_resource::Request,
    ) -> Result<Vec<pb::list_resource::Event>, Diagnostics> {
        let unknown =
            |s: Status| Diagnostics::from_error("Unknown list resource", s.message().to_string());
        let entry = self.list(&req.type_name).map_err(unknown)?;
        let resource = self.resource(&req.type_name).map_err(unknown)?;
        if !self.identities.contains_key(req.type_name.as_str()) {
            return Err(Diagnostics::from_error(
                "List resource without identity",
                format!(
                    "{} has no resource identity. This is a bug in the provider.",
                    req.type_name
                ),
            ));
        }
        let config = decode(req.config.as_ref(), &entry.ty)?;
        let data = self.configured()?;
        let limit = usize::try_from(req.limit).unwrap_or(0);
        let list = ListRequest {
            config,
            include_resource_object: req.include_resource_object,
            limit,
        };
        let found = entry.imp.list(&data, &list).await?;
        let mut events = Vec::new();
        for mut result in found.into_iter().take(limit) {
            let Some(identity) = self.identity_data(&req.type_name, &result.state) else {
                return Err(Diagnostics::from_error(
                    "List result without identity",
                    format!(
                        "{} found {:?} without its identity. This is a bug in the provider.",
                        req.type_name, result.display_name
                    ),
                ));
            };
            let resource_object = req.include_resource_object.then(|| {
                plan::clear_write_only(&resource.schema.block, &mut result.state);
                encode(&result.state, &resource.ty).unwrap_or_default()
            });
            events.push(pb::list_resource::Event {
                identity: Some(identity),
                display_name: result.display_name,
                resource_object,
                diagnostic: Vec::new(),
            });
        }
        Ok(events)
    }
}
