//! Resource identity in the RPCs: the identity schemas, the identity answered with every read,
//! plan, apply and import, and import by identity.

use std::collections::HashMap;

use tfplugin_proto::tfplugin6 as pb;

use super::wire::{decode, encode};
use super::ProviderServer;
use crate::diagnostics::Diagnostics;
use crate::identity::IdentitySchema;
use crate::resource::{Applied, Provider, Resource};
use crate::types::Type;
use crate::value::Value;

/// A resource type's identity schema and its type, computed once.
pub(super) struct IdentityEntry {
    pub(super) schema: IdentitySchema,
    pub(super) ty: Type,
}

impl IdentityEntry {
    pub(super) fn of<D: Send + Sync + 'static>(r: &dyn Resource<D>) -> Option<Self> {
        r.identity_schema().map(|schema| Self {
            ty: schema.ty(),
            schema,
        })
    }
}

impl<P: Provider> ProviderServer<P> {
    pub(super) fn identity_schemas(&self) -> pb::get_resource_identity_schemas::Response {
        pb::get_resource_identity_schemas::Response {
            identity_schemas: self
                .identities
                .iter()
                .map(|(k, e)| (k.to_string(), e.schema.to_proto()))
                .collect::<HashMap<_, _>>(),
            diagnostics: Vec::new(),
        }
    }

    /// The identity of the object `state` describes, for a response; `None` for a type
    /// without identity, a null state or an identity not yet known.
    pub(super) fn identity_data(
        &self,
        type_name: &str,
        state: &Value,
    ) -> Option<pb::ResourceIdentityData> {
        let entry = self.identities.get(type_name)?;
        if state.is_null() {
            return None;
        }
        let identity = self.resource(type_name).ok()?.imp.identity(state)?;
        identity
            .is_wholly_known()
            .then(|| pb::ResourceIdentityData {
                identity_data: encode(&identity, &entry.ty),
            })
    }

    /// A planned identity: the prior one while the object stays (Terraform refuses a change),
    /// else the planned object's when known.
    pub(super) fn planned_identity(
        &self,
        type_name: &str,
        prior: Option<&pb::ResourceIdentityData>,
        planned: &Value,
    ) -> Option<pb::ResourceIdentityData> {
        match prior.filter(|p| p.identity_data.is_some()) {
            Some(p) if !planned.is_null() => Some(p.clone()),
            _ => self.identity_data(type_name, planned),
        }
    }

    /// UpgradeResourceIdentity: the stored JSON identity read under the current identity
    /// schema. No identity schema has changed yet, so another version is refused.
    pub(super) fn upgrade_identity(
        &self,
        req: pb::upgrade_resource_identity::Request,
    ) -> pb::upgrade_resource_identity::Response {
        let respond =
            |upgraded_identity, diags: Diagnostics| pb::upgrade_resource_identity::Response {
                upgraded_identity,
                diagnostics: diags.to_proto(),
            };
        let type_name = &req.type_name;
        let Some(entry) = self.identities.get(type_name.as_str()) else {
            let diags = Diagnostics::from_error(
                "Resource identity not supported",
                format!("{type_name} has no resource identity to upgrade."),
            );
            return respond(None, diags);
        };
        if req.version != entry.schema.version {
            let diags = Diagnostics::from_error(
                "Unsupported identity version",
                format!(
                    "{type_name} cannot upgrade its identity from version {} to {}.",
                    req.version, entry.schema.version
                ),
            );
            return respond(None, diags);
        }
        let json = req.raw_identity.map(|r| r.json).unwrap_or_default();
        let parsed = serde_json::from_slice::<serde_json::Value>(&json)
            .map_err(|e| e.to_string())
            .and_then(|j| Value::from_json(&j, &entry.ty));
        match parsed {
            Ok(identity) => respond(
                Some(pb::ResourceIdentityData {
                    identity_data: encode(&identity, &entry.ty),
                }),
                Diagnostics::new(),
            ),
            Err(e) => respond(
                None,
                Diagnostics::from_error(
                    "Unreadable identity",
                    format!("The stored identity of {type_name} does not fit its schema: {e}."),
                ),
            ),
        }
    }

    /// ImportResourceState with an `identity` instead of an ID.
    pub(super) async fn import_by_identity(
        &self,
        type_name: &str,
        identity: &pb::ResourceIdentityData,
    ) -> Result<Applied, Diagnostics> {
        let entry = self.resource(type_name).map_err(|s| {
            Diagnostics::from_error("Unknown resource type", s.message().to_string())
        })?;
        let Some(id_entry) = self.identities.get(type_name) else {
            return Err(Diagnostics::from_error(
                "Import by identity not supported",
                format!("{type_name} has no resource identity; import it by ID."),
            ));
        };
        let value = decode(identity.identity_data.as_ref(), &id_entry.ty)?;
        id_entry.schema.check_import(type_name, &value)?;
        let data = self.configured()?;
        entry.imp.import_identity(&data, &value).await
    }
}
