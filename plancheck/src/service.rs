//! The `tfplugin6.Provider` service of the schema provider: it serves one provider's schema,
//! so Terraform validates configurations against it (types, required and unknown arguments,
//! block counts: Terraform does these from the schema, as for the real provider); plans leave
//! unset computed attributes unknown; apply, data sources and ephemeral resources answer
//! type-shaped placeholders. Nothing is called outside the process.

use rmpv::Value as Mp;
use tfplugin_proto::tfplugin6 as pb;
use tfplugin_proto::tfplugin6::provider_server::Provider as ProviderRpc;
use tonic::{Request, Response, Status};

use crate::schema::{ProviderSchema, TypeSchema};
use crate::values;

pub struct SchemaProvider {
    schema: ProviderSchema,
}

type RpcResult<T> = Result<Response<T>, Status>;

fn error(summary: &str, detail: impl Into<String>) -> pb::Diagnostic {
    pb::Diagnostic {
        severity: pb::diagnostic::Severity::Error as i32,
        summary: summary.to_string(),
        detail: detail.into(),
        attribute: None,
    }
}

fn dynamic(v: &Mp) -> Option<pb::DynamicValue> {
    Some(pb::DynamicValue {
        msgpack: values::encode(v),
        json: Vec::new(),
    })
}

/// A DynamicValue as msgpack (null when absent).
fn decode(dv: Option<&pb::DynamicValue>, ts: &TypeSchema) -> Result<Mp, pb::Diagnostic> {
    let Some(dv) = dv else { return Ok(Mp::Nil) };
    if !dv.msgpack.is_empty() {
        values::decode(&dv.msgpack).map_err(|e| error("Invalid value from Terraform", e.0))
    } else if !dv.json.is_empty() {
        let j: serde_json::Value = serde_json::from_slice(&dv.json)
            .map_err(|e| error("Invalid value from Terraform", e.to_string()))?;
        Ok(values::from_json(&j, &ts.ty))
    } else {
        Ok(Mp::Nil)
    }
}

impl SchemaProvider {
    pub fn new(schema: ProviderSchema) -> Self {
        Self { schema }
    }

    fn resource(&self, name: &str) -> Result<&TypeSchema, Status> {
        self.schema.resources.get(name).ok_or_else(|| {
            Status::not_found(format!(
                "no resource type {name:?} in {}",
                self.schema.source
            ))
        })
    }

    fn data_source(&self, name: &str) -> Result<&TypeSchema, Status> {
        self.schema.data_sources.get(name).ok_or_else(|| {
            Status::not_found(format!("no data source {name:?} in {}", self.schema.source))
        })
    }

    fn ephemeral(&self, name: &str) -> Result<&TypeSchema, Status> {
        self.schema.ephemeral.get(name).ok_or_else(|| {
            Status::not_found(format!(
                "no ephemeral resource {name:?} in {}",
                self.schema.source
            ))
        })
    }

    /// Block counts of a known configuration (Terraform checks them too; a provider that
    /// receives a configuration breaking them refuses it).
    fn validate(ts: &TypeSchema, config: Option<&pb::DynamicValue>) -> Vec<pb::Diagnostic> {
        match decode(config, ts) {
            Err(d) => vec![d],
            Ok(c) => {
                let mut problems = Vec::new();
                values::block_count_problems(&ts.block, &c, &mut problems);
                problems.iter().map(|(s, d)| error(s, d.clone())).collect()
            }
        }
    }
}

fn capabilities() -> pb::ServerCapabilities {
    pb::ServerCapabilities {
        plan_destroy: true,
        get_provider_schema_optional: false,
        move_resource_state: false,
        ..Default::default()
    }
}

#[tonic::async_trait]
impl ProviderRpc for SchemaProvider {
    async fn get_metadata(
        &self,
        _: Request<pb::get_metadata::Request>,
    ) -> RpcResult<pb::get_metadata::Response> {
        use pb::get_metadata as m;
        Ok(Response::new(m::Response {
            server_capabilities: Some(capabilities()),
            data_sources: self
                .schema
                .data_sources
                .keys()
                .map(|k| m::DataSourceMetadata {
                    type_name: k.clone(),
                })
                .collect(),
            resources: self
                .schema
                .resources
                .keys()
                .map(|k| m::ResourceMetadata {
                    type_name: k.clone(),
                })
                .collect(),
            ephemeral_resources: self
                .schema
                .ephemeral
                .keys()
                .map(|k| m::EphemeralMetadata {
                    type_name: k.clone(),
                })
                .collect(),
            ..Default::default()
        }))
    }

    async fn get_provider_schema(
        &self,
        _: Request<pb::get_provider_schema::Request>,
    ) -> RpcResult<pb::get_provider_schema::Response> {
        let map = |m: &std::collections::BTreeMap<String, TypeSchema>| {
            m.iter().map(|(k, v)| (k.clone(), v.to_proto())).collect()
        };
        Ok(Response::new(pb::get_provider_schema::Response {
            provider: Some(self.schema.provider.to_proto()),
            resource_schemas: map(&self.schema.resources),
            data_source_schemas: map(&self.schema.data_sources),
            ephemeral_resource_schemas: map(&self.schema.ephemeral),
            server_capabilities: Some(capabilities()),
            ..Default::default()
        }))
    }

    async fn validate_provider_config(
        &self,
        req: Request<pb::validate_provider_config::Request>,
    ) -> RpcResult<pb::validate_provider_config::Response> {
        let diagnostics = Self::validate(&self.schema.provider, req.into_inner().config.as_ref());
        Ok(Response::new(pb::validate_provider_config::Response {
            diagnostics,
        }))
    }

    async fn validate_resource_config(
        &self,
        req: Request<pb::validate_resource_config::Request>,
    ) -> RpcResult<pb::validate_resource_config::Response> {
        let req = req.into_inner();
        let diagnostics = Self::validate(self.resource(&req.type_name)?, req.config.as_ref());
        Ok(Response::new(pb::validate_resource_config::Response {
            diagnostics,
        }))
    }

    async fn validate_data_resource_config(
        &self,
        req: Request<pb::validate_data_resource_config::Request>,
    ) -> RpcResult<pb::validate_data_resource_config::Response> {
        let req = req.into_inner();
        let diagnostics = Self::validate(self.data_source(&req.type_name)?, req.config.as_ref());
        Ok(Response::new(pb::validate_data_resource_config::Response {
            diagnostics,
        }))
    }

    async fn validate_ephemeral_resource_config(
        &self,
        req: Request<pb::validate_ephemeral_resource_config::Request>,
    ) -> RpcResult<pb::validate_ephemeral_resource_config::Response> {
        let req = req.into_inner();
        let diagnostics = Self::validate(self.ephemeral(&req.type_name)?, req.config.as_ref());
        Ok(Response::new(
            pb::validate_ephemeral_resource_config::Response { diagnostics },
        ))
    }

    async fn upgrade_resource_state(
        &self,
        req: Request<pb::upgrade_resource_state::Request>,
    ) -> RpcResult<pb::upgrade_resource_state::Response> {
        let req = req.into_inner();
        let ts = self.resource(&req.type_name)?;
        let raw = req.raw_state.unwrap_or_default();
        let (state, diagnostics) = match serde_json::from_slice::<serde_json::Value>(&raw.json) {
            Ok(j) => (dynamic(&values::from_json(&j, &ts.ty)), Vec::new()),
            Err(e) => (None, vec![error("Unreadable state", e.to_string())]),
        };
        Ok(Response::new(pb::upgrade_resource_state::Response {
            upgraded_state: state,
            diagnostics,
        }))
    }

    async fn get_resource_identity_schemas(
        &self,
        _: Request<pb::get_resource_identity_schemas::Request>,
    ) -> RpcResult<pb::get_resource_identity_schemas::Response> {
        Ok(Response::new(
            pb::get_resource_identity_schemas::Response::default(),
        ))
    }

    async fn configure_provider(
        &self,
        _: Request<pb::configure_provider::Request>,
    ) -> RpcResult<pb::configure_provider::Response> {
        Ok(Response::new(pb::configure_provider::Response::default()))
    }

    async fn read_resource(
        &self,
        req: Request<pb::read_resource::Request>,
    ) -> RpcResult<pb::read_resource::Response> {
        let req = req.into_inner();
        Ok(Response::new(pb::read_resource::Response {
            new_state: req.current_state,
            private: req.private,
            ..Default::default()
        }))
    }

    async fn plan_resource_change(
        &self,
        req: Request<pb::plan_resource_change::Request>,
    ) -> RpcResult<pb::plan_resource_change::Response> {
        let req = req.into_inner();
        let ts = self.resource(&req.type_name)?;
        let decoded = decode(req.proposed_new_state.as_ref(), ts)
            .and_then(|p| decode(req.config.as_ref(), ts).map(|c| (p, c)));
        let (mut planned, config) = match decoded {
            Ok(v) => v,
            Err(d) => {
                return Ok(Response::new(pb::plan_resource_change::Response {
                    diagnostics: vec![d],
                    ..Default::default()
                }))
            }
        };
        if !planned.is_nil() {
            values::plan_unknowns(&ts.block, &mut planned, &config);
            crate::known_at_plan::apply(&req.type_name, &mut planned, &config);
        }
        Ok(Response::new(pb::plan_resource_change::Response {
            planned_state: dynamic(&planned),
            planned_private: req.prior_private,
            ..Default::default()
        }))
    }

    async fn apply_resource_change(
        &self,
        req: Request<pb::apply_resource_change::Request>,
    ) -> RpcResult<pb::apply_resource_change::Response> {
        let req = req.into_inner();
        let ts = self.resource(&req.type_name)?;
        let mut state = match decode(req.planned_state.as_ref(), ts) {
            Ok(v) => v,
            Err(d) => {
                return Ok(Response::new(pb::apply_resource_change::Response {
                    new_state: req.prior_state,
                    diagnostics: vec![d],
                    ..Default::default()
                }))
            }
        };
        values::fill_unknowns(&mut state, &ts.ty, &req.type_name);
        values::clear_write_only(&ts.block, &mut state);
        Ok(Response::new(pb::apply_resource_change::Response {
            new_state: dynamic(&state),
            private: req.planned_private,
            ..Default::default()
        }))
    }

    async fn import_resource_state(
        &self,
        req: Request<pb::import_resource_state::Request>,
    ) -> RpcResult<pb::import_resource_state::Response> {
        let name = req.into_inner().type_name;
        Ok(Response::new(pb::import_resource_state::Response {
            diagnostics: vec![error(
                "Import not supported",
                format!("the plan check's {name} cannot import"),
            )],
            ..Default::default()
        }))
    }

    async fn read_data_source(
        &self,
        req: Request<pb::read_data_source::Request>,
    ) -> RpcResult<pb::read_data_source::Response> {
        let req = req.into_inner();
        let ts = self.data_source(&req.type_name)?;
        match decode(req.config.as_ref(), ts) {
            Ok(mut state) => {
                values::fill_computed(&ts.block, &mut state);
                values::fill_unknowns(&mut state, &ts.ty, &req.type_name);
                Ok(Response::new(pb::read_data_source::Response {
                    state: dynamic(&state),
                    ..Default::default()
                }))
            }
            Err(d) => Ok(Response::new(pb::read_data_source::Response {
                diagnostics: vec![d],
                ..Default::default()
            })),
        }
    }

    async fn open_ephemeral_resource(
        &self,
        req: Request<pb::open_ephemeral_resource::Request>,
    ) -> RpcResult<pb::open_ephemeral_resource::Response> {
        let req = req.into_inner();
        let ts = self.ephemeral(&req.type_name)?;
        match decode(req.config.as_ref(), ts) {
            Ok(mut result) => {
                values::fill_computed(&ts.block, &mut result);
                values::fill_unknowns(&mut result, &ts.ty, &req.type_name);
                Ok(Response::new(pb::open_ephemeral_resource::Response {
                    result: dynamic(&result),
                    ..Default::default()
                }))
            }
            Err(d) => Ok(Response::new(pb::open_ephemeral_resource::Response {
                diagnostics: vec![d],
                ..Default::default()
            })),
        }
    }

    async fn renew_ephemeral_resource(
        &self,
        req: Request<pb::renew_ephemeral_resource::Request>,
    ) -> RpcResult<pb::renew_ephemeral_resource::Response> {
        Ok(Response::new(pb::renew_ephemeral_resource::Response {
            private: req.into_inner().private,
            ..Default::default()
        }))
    }

    async fn close_ephemeral_resource(
        &self,
        _: Request<pb::close_ephemeral_resource::Request>,
    ) -> RpcResult<pb::close_ephemeral_resource::Response> {
        Ok(Response::new(
            pb::close_ephemeral_resource::Response::default(),
        ))
    }

    async fn get_functions(
        &self,
        _: Request<pb::get_functions::Request>,
    ) -> RpcResult<pb::get_functions::Response> {
        Ok(Response::new(pb::get_functions::Response::default()))
    }

    async fn stop_provider(
        &self,
        _: Request<pb::stop_provider::Request>,
    ) -> RpcResult<pb::stop_provider::Response> {
        Ok(Response::new(pb::stop_provider::Response::default()))
    }
}
