//! The protocol plumbing, written once: the `tfplugin6.Provider` gRPC service on top of a
//! [`Provider`] and its resources and data sources.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use tfplugin_proto::tfplugin6 as pb;
use tfplugin_proto::tfplugin6::provider_server::Provider as ProviderRpc;
use tonic::{Request, Response, Status};

use super::diagnostics::Diagnostics;
use super::path::AttrPath;
use super::plan;
use super::private::Private;
use super::resource::{Applied, ApplyRequest, CreateFailure, DataSource, Plan, Provider, Resource};
use super::schema::Schema;
use super::types::Type;
use super::value::Value;

mod registry;
mod wire;
use wire::{
    capabilities, decode, decode_change, encode, kept_after_failed_create, validate, Change,
};

struct Entry<T: ?Sized> {
    imp: Arc<T>,
    schema: Schema,
    ty: Type,
}

impl<T: ?Sized> Entry<T> {
    fn new(imp: Arc<T>, schema: Schema) -> Self {
        let ty = schema.ty();
        Self { imp, schema, ty }
    }
}

/// Serves one [`Provider`] over the plugin protocol.
pub struct ProviderServer<P: Provider> {
    provider: P,
    provider_schema: Schema,
    provider_ty: Type,
    resources: HashMap<&'static str, Entry<dyn Resource<P::Data>>>,
    data_sources: HashMap<&'static str, Entry<dyn DataSource<P::Data>>>,
    data: RwLock<Option<Arc<P::Data>>>,
}

type RpcResult<T> = Result<Response<T>, Status>;

/// Unwraps `Result<T, Diagnostics>` inside an RPC: on error, answers with the diagnostics.
macro_rules! attempt {
    ($expr:expr, $diags:ident, $respond:expr) => {
        match $expr {
            Ok(v) => v,
            Err(e) => {
                $diags.extend(e);
                return Ok(Response::new($respond));
            }
        }
    };
}

#[tonic::async_trait]
impl<P: Provider> ProviderRpc for ProviderServer<P> {
    async fn get_metadata(
        &self,
        _: Request<pb::get_metadata::Request>,
    ) -> RpcResult<pb::get_metadata::Response> {
        use pb::get_metadata as m;
        Ok(Response::new(m::Response {
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
            functions: Vec::new(),
            ephemeral_resources: Vec::new(),
            list_resources: Vec::new(),
            actions: Vec::new(),
        }))
    }

    async fn get_provider_schema(
        &self,
        _: Request<pb::get_provider_schema::Request>,
    ) -> RpcResult<pb::get_provider_schema::Response> {
        Ok(Response::new(self.schema_response()))
    }

    async fn validate_provider_config(
        &self,
        req: Request<pb::validate_provider_config::Request>,
    ) -> RpcResult<pb::validate_provider_config::Response> {
        let config = req.into_inner().config;
        let diags = validate(
            &self.provider_schema,
            &self.provider_ty,
            config.as_ref(),
            |c, d| self.provider.validate(c, d),
        );
        Ok(Response::new(pb::validate_provider_config::Response {
            diagnostics: diags.to_proto(),
        }))
    }

    async fn validate_resource_config(
        &self,
        req: Request<pb::validate_resource_config::Request>,
    ) -> RpcResult<pb::validate_resource_config::Response> {
        let req = req.into_inner();
        let entry = self.resource(&req.type_name)?;
        // Terraform before 1.11 (and OpenTofu before 1.11) sends no capability and would
        // treat a write-only attribute as a normal one.
        let write_only_allowed = req
            .client_capabilities
            .as_ref()
            .is_some_and(|c| c.write_only_attributes_allowed);
        let diags = validate(&entry.schema, &entry.ty, req.config.as_ref(), |c, d| {
            if !write_only_allowed {
                plan::refuse_write_only(&entry.schema.block, c, &AttrPath::root(), d);
            }
            entry.imp.validate(c, d)
        });
        Ok(Response::new(pb::validate_resource_config::Response {
            diagnostics: diags.to_proto(),
        }))
    }

    async fn validate_data_resource_config(
        &self,
        req: Request<pb::validate_data_resource_config::Request>,
    ) -> RpcResult<pb::validate_data_resource_config::Response> {
        let req = req.into_inner();
        let entry = self.data_source(&req.type_name)?;
        let diags = validate(&entry.schema, &entry.ty, req.config.as_ref(), |c, d| {
            entry.imp.validate(c, d)
        });
        Ok(Response::new(pb::validate_data_resource_config::Response {
            diagnostics: diags.to_proto(),
        }))
    }

    async fn upgrade_resource_state(
        &self,
        req: Request<pb::upgrade_resource_state::Request>,
    ) -> RpcResult<pb::upgrade_resource_state::Response> {
        let req = req.into_inner();
        let entry = self.resource(&req.type_name)?;
        let mut diags = Diagnostics::new();
        let respond = |d: &Diagnostics, state: Option<pb::DynamicValue>| {
            pb::upgrade_resource_state::Response {
                upgraded_state: state,
                diagnostics: d.to_proto(),
            }
        };
        let raw = req.raw_state.unwrap_or_default();
        if raw.json.is_empty() {
            if !raw.flatmap.is_empty() {
                diags.error("Unsupported state format", "This provider never wrote flatmap state; the state file is not this provider's.");
            }
            return Ok(Response::new(respond(&diags, None)));
        }
        let json: serde_json::Value = attempt!(
            serde_json::from_slice(&raw.json).map_err(|e| Diagnostics::from_error(
                "Unreadable state",
                format!("The stored state is not JSON: {e}.")
            )),
            diags,
            respond(&diags, None)
        );
        let upgraded = attempt!(
            entry.imp.upgrade_state(req.version, json),
            diags,
            respond(&diags, None)
        );
        let value = attempt!(
            Value::from_json(&upgraded, &entry.ty).map_err(|e| Diagnostics::from_error(
                "State does not match the schema",
                format!(
                    "The stored state of {} does not fit its schema: {e}.",
                    req.type_name
                )
            )),
            diags,
            respond(&diags, None)
        );
        Ok(Response::new(respond(&diags, encode(&value, &entry.ty))))
    }

    async fn get_resource_identity_schemas(
        &self,
        _: Request<pb::get_resource_identity_schemas::Request>,
    ) -> RpcResult<pb::get_resource_identity_schemas::Response> {
        Ok(Response::new(
            pb::get_resource_identity_schemas::Response::default(),
        ))
    }

    async fn upgrade_resource_identity(
        &self,
        req: Request<pb::upgrade_resource_identity::Request>,
    ) -> RpcResult<pb::upgrade_resource_identity::Response> {
        let type_name = req.into_inner().type_name;
        let diags = Diagnostics::from_error(
            "Resource identity not supported",
            format!("{type_name} has no resource identity to upgrade."),
        );
        Ok(Response::new(pb::upgrade_resource_identity::Response {
            upgraded_identity: None,
            diagnostics: diags.to_proto(),
        }))
    }

    async fn configure_provider(
        &self,
        req: Request<pb::configure_provider::Request>,
    ) -> RpcResult<pb::configure_provider::Response> {
        let req = req.into_inner();
        let mut diags = Diagnostics::new();
        let respond = |d: &Diagnostics| pb::configure_provider::Response {
            diagnostics: d.to_proto(),
        };
        let config = attempt!(
            decode(req.config.as_ref(), &self.provider_ty),
            diags,
            respond(&diags)
        );
        let data = attempt!(
            self.provider
                .configure(&config, &req.terraform_version)
                .await,
            diags,
            respond(&diags)
        );
        if let Ok(mut slot) = self.data.write() {
            *slot = Some(Arc::new(data));
        }
        Ok(Response::new(respond(&diags)))
    }

    async fn read_resource(
        &self,
        req: Request<pb::read_resource::Request>,
    ) -> RpcResult<pb::read_resource::Response> {
        let req = req.into_inner();
        let entry = self.resource(&req.type_name)?;
        let mut diags = Diagnostics::new();
        // On failure the current state is kept as it is: a failed refresh must lose nothing.
        let keep = pb::read_resource::Response {
            new_state: req.current_state.clone(),
            private: req.private.clone(),
            ..Default::default()
        };
        let respond = |d: &Diagnostics| pb::read_resource::Response {
            diagnostics: d.to_proto(),
            ..keep.clone()
        };
        let state = attempt!(
            decode(req.current_state.as_ref(), &entry.ty),
            diags,
            respond(&diags)
        );
        let private = attempt!(Private::from_bytes(&req.private), diags, respond(&diags));
        let data = attempt!(self.configured(), diags, respond(&diags));
        let current = Applied::with_private(state, private);
        match attempt!(entry.imp.read(&data, current).await, diags, respond(&diags)) {
            Some(mut read) => {
                diags.extend(std::mem::take(&mut read.warnings));
                plan::clear_write_only(&entry.schema.block, &mut read.state);
                Ok(Response::new(pb::read_resource::Response {
                    new_state: encode(&read.state, &entry.ty),
                    private: read.private.to_bytes(),
                    diagnostics: diags.to_proto(),
                    ..Default::default()
                }))
            }
            None => Ok(Response::new(pb::read_resource::Response {
                new_state: encode(&Value::Null, &entry.ty),
                diagnostics: diags.to_proto(),
                ..Default::default()
            })),
        }
    }

    async fn plan_resource_change(
        &self,
        req: Request<pb::plan_resource_change::Request>,
    ) -> RpcResult<pb::plan_resource_change::Response> {
        let req = req.into_inner();
        let entry = self.resource(&req.type_name)?;
        let mut diags = Diagnostics::new();
        let respond = |d: &Diagnostics| pb::plan_resource_change::Response {
            diagnostics: d.to_proto(),
            ..Default::default()
        };
        let Change {
            prior,
            planned: proposed,
            config,
            private,
        } = attempt!(
            decode_change(
                &entry.ty,
                req.prior_state.as_ref(),
                req.proposed_new_state.as_ref(),
                req.config.as_ref(),
                &req.prior_private,
            ),
            diags,
            respond(&diags)
        );

        if proposed.is_null() {
            // Destroy: the plan is the removal itself; the resource may warn about it.
            if let Ok(data) = self.configured() {
                entry
                    .imp
                    .plan_destroy(&data, &prior, &private, &mut diags)
                    .await;
            }
            return Ok(Response::new(pb::plan_resource_change::Response {
                planned_state: encode(&Value::Null, &entry.ty),
                planned_private: req.prior_private,
                diagnostics: diags.to_proto(),
                ..Default::default()
            }));
        }
        let block = &entry.schema.block;
        let mut planned = proposed;
        plan::apply_defaults(block, &config, &mut planned);
        if prior.is_null() || planned != prior {
            plan::mark_computed_unknown(block, &prior, &config, &mut planned);
        }
        let requires_replace = plan::requires_replace(block, &prior, &planned, &AttrPath::root());
        let mut plan = Plan {
            prior,
            config,
            planned,
            requires_replace,
            private,
        };
        let data = attempt!(self.configured(), diags, respond(&diags));
        entry.imp.modify_plan(&data, &mut plan, &mut diags).await;
        Ok(Response::new(pb::plan_resource_change::Response {
            planned_state: encode(&plan.planned, &entry.ty),
            requires_replace: plan
                .requires_replace
                .iter()
                .map(AttrPath::to_proto)
                .collect(),
            planned_private: plan.private.to_bytes(),
            diagnostics: diags.to_proto(),
            ..Default::default()
        }))
    }

    async fn apply_resource_change(
        &self,
        req: Request<pb::apply_resource_change::Request>,
    ) -> RpcResult<pb::apply_resource_change::Response> {
        let req = req.into_inner();
        let entry = self.resource(&req.type_name)?;
        let mut diags = Diagnostics::new();
        // On failure Terraform keeps the prior state: answer with it, so nothing is lost.
        let fallback = req.prior_state.clone();
        let respond = |d: &Diagnostics| pb::apply_resource_change::Response {
            new_state: fallback.clone(),
            diagnostics: d.to_proto(),
            ..Default::default()
        };
        let Change {
            prior,
            planned,
            config,
            private,
        } = attempt!(
            decode_change(
                &entry.ty,
                req.prior_state.as_ref(),
                req.planned_state.as_ref(),
                req.config.as_ref(),
                &req.planned_private,
            ),
            diags,
            respond(&diags)
        );
        let data = attempt!(self.configured(), diags, respond(&diags));
        let apply = ApplyRequest {
            prior: prior.clone(),
            planned: planned.clone(),
            config,
            private,
        };

        if planned.is_null() {
            attempt!(entry.imp.delete(&data, apply).await, diags, respond(&diags));
            return Ok(Response::new(pb::apply_resource_change::Response {
                new_state: encode(&Value::Null, &entry.ty),
                diagnostics: diags.to_proto(),
                ..Default::default()
            }));
        }
        let result = if prior.is_null() {
            match entry.imp.create_or_keep(&data, apply).await {
                Ok(created) => Ok(created),
                Err(CreateFailure {
                    diagnostics,
                    partial: Some(kept),
                }) => {
                    diags.extend(diagnostics);
                    let block = &entry.schema.block;
                    return Ok(Response::new(kept_after_failed_create(
                        block, &entry.ty, kept, diags,
                    )));
                }
                Err(failure) => Err(failure.diagnostics),
            }
        } else {
            entry.imp.update(&data, apply).await
        };
        let mut applied = attempt!(result, diags, respond(&diags));
        diags.extend(std::mem::take(&mut applied.warnings));
        plan::clear_write_only(&entry.schema.block, &mut applied.state);
        plan::reject_unknowns(&mut applied.state, &AttrPath::root(), &mut diags);
        Ok(Response::new(pb::apply_resource_change::Response {
            new_state: encode(&applied.state, &entry.ty),
            private: applied.private.to_bytes(),
            diagnostics: diags.to_proto(),
            ..Default::default()
        }))
    }

    async fn import_resource_state(
        &self,
        req: Request<pb::import_resource_state::Request>,
    ) -> RpcResult<pb::import_resource_state::Response> {
        let req = req.into_inner();
        let entry = self.resource(&req.type_name)?;
        let mut diags = Diagnostics::new();
        let respond = |d: &Diagnostics| pb::import_resource_state::Response {
            diagnostics: d.to_proto(),
            ..Default::default()
        };
        let data = attempt!(self.configured(), diags, respond(&diags));
        let mut imported = attempt!(
            entry.imp.import(&data, &req.id).await,
            diags,
            respond(&diags)
        );
        diags.extend(std::mem::take(&mut imported.warnings));
        plan::clear_write_only(&entry.schema.block, &mut imported.state);
        Ok(Response::new(pb::import_resource_state::Response {
            imported_resources: vec![pb::import_resource_state::ImportedResource {
                type_name: req.type_name,
                state: encode(&imported.state, &entry.ty),
                private: imported.private.to_bytes(),
                identity: None,
            }],
            diagnostics: diags.to_proto(),
            deferred: None,
        }))
    }

    async fn move_resource_state(
        &self,
        req: Request<pb::move_resource_state::Request>,
    ) -> RpcResult<pb::move_resource_state::Response> {
        let req = req.into_inner();
        let diags = Diagnostics::from_error(
            "Move not supported",
            format!(
                "{} cannot be moved from {}.",
                req.target_type_name, req.source_type_name
            ),
        );
        Ok(Response::new(pb::move_resource_state::Response {
            diagnostics: diags.to_proto(),
            ..Default::default()
        }))
    }

    async fn read_data_source(
        &self,
        req: Request<pb::read_data_source::Request>,
    ) -> RpcResult<pb::read_data_source::Response> {
        let req = req.into_inner();
        let entry = self.data_source(&req.type_name)?;
        let mut diags = Diagnostics::new();
        let respond = |d: &Diagnostics| pb::read_data_source::Response {
            diagnostics: d.to_proto(),
            ..Default::default()
        };
        let config = attempt!(
            decode(req.config.as_ref(), &entry.ty),
            diags,
            respond(&diags)
        );
        let data = attempt!(self.configured(), diags, respond(&diags));
        let mut state = attempt!(entry.imp.read(&data, config).await, diags, respond(&diags));
        plan::reject_unknowns(&mut state, &AttrPath::root(), &mut diags);
        Ok(Response::new(pb::read_data_source::Response {
            state: encode(&state, &entry.ty),
            diagnostics: diags.to_proto(),
            deferred: None,
        }))
    }

    async fn get_functions(
        &self,
        _: Request<pb::get_functions::Request>,
    ) -> RpcResult<pb::get_functions::Response> {
        Ok(Response::new(pb::get_functions::Response::default()))
    }

    async fn call_function(
        &self,
        req: Request<pb::call_function::Request>,
    ) -> RpcResult<pb::call_function::Response> {
        let name = req.into_inner().name;
        Ok(Response::new(pb::call_function::Response {
            result: None,
            error: Some(pb::FunctionError {
                text: format!("this provider has no function {name:?}"),
                function_argument: None,
            }),
        }))
    }

    async fn stop_provider(
        &self,
        _: Request<pb::stop_provider::Request>,
    ) -> RpcResult<pb::stop_provider::Response> {
        // Terraform's answer to Ctrl-C: every wait ends now, with an error that keeps state.
        super::stop::request();
        Ok(Response::new(pb::stop_provider::Response::default()))
    }
}
