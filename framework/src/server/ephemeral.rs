//! ValidateEphemeralResourceConfig, OpenEphemeralResource, RenewEphemeralResource and
//! CloseEphemeralResource: the provider's ephemeral resources by type.

use tfplugin_proto::tfplugin6 as pb;
use tonic::Status;

use super::wire::{decode, encode, validate};
use super::{Entry, ProviderServer};
use crate::diagnostics::Diagnostics;
use crate::ephemeral::EphemeralResource;
use crate::path::AttrPath;
use crate::plan;
use crate::private::Private;
use crate::resource::Provider;

impl<P: Provider> ProviderServer<P> {
    fn ephemeral(&self, type_name: &str) -> Result<&Entry<dyn EphemeralResource<P::Data>>, Status> {
        self.ephemerals.get(type_name).ok_or_else(|| {
            Status::not_found(format!(
                "this provider has no ephemeral resource type {type_name:?}"
            ))
        })
    }

    pub(super) fn validate_ephemeral(
        &self,
        req: pb::validate_ephemeral_resource_config::Request,
    ) -> Result<pb::validate_ephemeral_resource_config::Response, Status> {
        let entry = self.ephemeral(&req.type_name)?;
        let diags = validate(&entry.schema, &entry.ty, req.config.as_ref(), |c, d| {
            entry.imp.validate(c, d)
        });
        Ok(pb::validate_ephemeral_resource_config::Response {
            diagnostics: diags.to_proto(),
        })
    }

    pub(super) async fn open_ephemeral(
        &self,
        req: pb::open_ephemeral_resource::Request,
    ) -> Result<pb::open_ephemeral_resource::Response, Status> {
        let entry = self.ephemeral(&req.type_name)?;
        let failed = |d: Diagnostics| pb::open_ephemeral_resource::Response {
            diagnostics: d.to_proto(),
            result: None,
            private: None,
        };
        let config = match decode(req.config.as_ref(), &entry.ty) {
            Ok(c) => c,
            Err(d) => return Ok(failed(d)),
        };
        let data = match self.configured() {
            Ok(d) => d,
            Err(d) => return Ok(failed(d)),
        };
        let mut opened = match entry.imp.open(&data, config).await {
            Ok(o) => o,
            Err(d) => return Ok(failed(d)),
        };
        let mut diags = std::mem::take(&mut opened.warnings);
        plan::reject_unknowns(&mut opened.result, &AttrPath::root(), &mut diags);
        let private = opened.private.to_bytes();
        Ok(pb::open_ephemeral_resource::Response {
            diagnostics: diags.to_proto(),
            result: encode(&opened.result, &entry.ty),
            private: (!private.is_empty()).then_some(private),
        })
    }

    /// Terraform renews only when Open answered a `renew_at` time, which this framework never
    /// does: a call here is a client bug, answered with an error rather than a crash.
    pub(super) fn renew_ephemeral(
        &self,
        req: pb::renew_ephemeral_resource::Request,
    ) -> Result<pb::renew_ephemeral_resource::Response, Status> {
        self.ephemeral(&req.type_name)?;
        let diags = Diagnostics::from_error(
            "Renew not supported",
            format!(
                "{} has no renewal: its value does not expire within a run.",
                req.type_name
            ),
        );
        Ok(pb::renew_ephemeral_resource::Response {
            diagnostics: diags.to_proto(),
            private: req.private,
        })
    }

    pub(super) async fn close_ephemeral(
        &self,
        req: pb::close_ephemeral_resource::Request,
    ) -> Result<pb::close_ephemeral_resource::Response, Status> {
        let entry = self.ephemeral(&req.type_name)?;
        let result = async {
            let private = Private::from_bytes(req.private.as_deref().unwrap_or_default())?;
            let data = self.configured()?;
            entry.imp.close(&data, private).await
        }
        .await;
        Ok(pb::close_ephemeral_resource::Response {
            diagnostics: result.err().unwrap_or_default().to_proto(),
        })
    }
}
