//! `bbb_test_item`: a resource that exists only for the acceptance tests and benchmarks of
//! the provider runtime, served only by the acceptance crate's `terraform-provider-bbb-acc` (never
//! by the provider crate's own binary, the one users install).
//!
//! Each item is a JSON file in the folder named by `BBB_TEST_ITEM_DIR`, so tests can change
//! or remove it "outside Terraform". It exercises every framework feature: required,
//! optional, computed and default attributes, sensitive and write-only values, a map, a
//! single and a list nested block, requires-replace, use-state-for-unknown, validators,
//! private state, schema version 1 with an upgrade from version 0, and import.

use std::collections::BTreeMap;
use std::path::PathBuf;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use sha2::Digest;

use terraform_provider_bbb::provider::ProviderData;
use tfplugin_framework::validators::{at_least, matches, one_of, whole_number};
use tfplugin_framework::{
    Applied, ApplyRequest, Attribute, Block, Diagnostics, NestedBlock, Nesting, Private, Resource,
    Schema, Type, Value,
};

pub const STORE_ENV: &str = "BBB_TEST_ITEM_DIR";

pub struct TestItem;

#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
struct Rule {
    port: f64,
    protocol: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
struct Settings {
    mode: Option<String>,
    retries: Option<f64>,
}

/// The state Terraform stores (never the write-only secret).
#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
struct ItemState {
    id: Option<String>,
    name: String,
    value: Option<String>,
    size: Option<f64>,
    labels: Option<BTreeMap<String, String>>,
    secret: Option<String>,
    secret_wo_version: Option<f64>,
    revision: Option<f64>,
    settings: Option<Settings>,
    #[serde(default)]
    rule: Vec<Rule>,
}

/// What the store holds: the state plus the write-only secret the provider received.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
struct Stored {
    #[serde(flatten)]
    state: ItemState,
    secret_wo: Option<String>,
}

fn store_dir() -> Result<PathBuf, Diagnostics> {
    std::env::var_os(STORE_ENV)
        .map(PathBuf::from)
        .ok_or_else(|| {
            Diagnostics::from_error(
                "BBB_TEST_ITEM_DIR is not set",
                "bbb_test_item keeps its objects in the folder named by BBB_TEST_ITEM_DIR.",
            )
        })
}

fn path_of(id: &str) -> Result<PathBuf, Diagnostics> {
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(Diagnostics::from_error(
            "Invalid item ID",
            format!("{id:?} is not a bbb_test_item ID (letters, digits and dashes)."),
        ));
    }
    Ok(store_dir()?.join(format!("{id}.json")))
}

fn etag(bytes: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(bytes))
}

async fn load(id: &str) -> Result<Option<(Stored, String)>, Diagnostics> {
    let path = path_of(id)?;
    match tokio::fs::read(&path).await {
        Ok(bytes) => {
            let stored = serde_json::from_slice(&bytes).map_err(|e| {
                Diagnostics::from_error("Unreadable item", format!("{}: {e}", path.display()))
            })?;
            Ok(Some((stored, etag(&bytes))))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Diagnostics::from_error(
            "Could not read item",
            format!("{}: {e}", path.display()),
        )),
    }
}

async fn save(stored: &Stored) -> Result<String, Diagnostics> {
    let id = stored.state.id.as_deref().unwrap_or_default();
    let path = path_of(id)?;
    let bytes = serde_json::to_vec_pretty(stored)
        .map_err(|e| Diagnostics::from_error("Could not encode item", e.to_string()))?;
    // Write then rename, so a reader never sees half a file.
    let tmp = path.with_extension("json.tmp");
    tokio::fs::write(&tmp, &bytes)
        .await
        .and(tokio::fs::rename(&tmp, &path).await)
        .map_err(|e| {
            Diagnostics::from_error("Could not write item", format!("{}: {e}", path.display()))
        })?;
    Ok(etag(&bytes))
}

fn applied(stored: &Stored, tag: String, ty: &Type) -> Result<Applied, Diagnostics> {
    let mut private = Private::default();
    private.set("etag", tag);
    Ok(Applied::with_private(
        Value::encode(&stored.state, ty)?,
        private,
    ))
}

impl TestItem {
    fn ty(&self) -> Type {
        self.schema().ty()
    }
}

#[async_trait]
impl Resource<ProviderData> for TestItem {
    fn type_name(&self) -> &'static str {
        "bbb_test_item"
    }

    fn schema(&self) -> Schema {
        let rule = Block::new()
            .attribute(
                Attribute::number("port")
                    .required()
                    .validate(at_least(1.0))
                    .validate(whole_number()),
            )
            .attribute(
                Attribute::string("protocol")
                    .optional()
                    .validate(one_of(&["tcp", "udp"])),
            );
        let settings = Block::new()
            .attribute(
                Attribute::string("mode")
                    .optional()
                    .validate(one_of(&["fast", "safe"])),
            )
            .attribute(
                Attribute::number("retries")
                    .optional()
                    .validate(at_least(0.0)),
            );
        Schema::new(
            Block::new()
                .description("Test-only resource backed by JSON files (provider runtime tests).")
                .attribute(
                    Attribute::string("id")
                        .computed()
                        .use_state_for_unknown()
                        .description("Item ID."),
                )
                .attribute(
                    Attribute::string("name")
                        .required()
                        .requires_replace()
                        .validate(matches(
                            "^[a-z0-9-]+$",
                            "lower-case letters, digits and dashes",
                        ))
                        .description("Name; changing it replaces the item."),
                )
                .attribute(
                    Attribute::string("value")
                        .optional()
                        .description("Free text."),
                )
                .attribute(
                    Attribute::number("size")
                        .default(1.0)
                        .validate(at_least(0.0))
                        .description("Size, default 1."),
                )
                .attribute(
                    Attribute::new("labels", Type::map(Type::String))
                        .optional()
                        .description("Labels."),
                )
                .attribute(
                    Attribute::string("secret")
                        .optional()
                        .sensitive()
                        .description("A sensitive value kept in state."),
                )
                .attribute(
                    Attribute::string("secret_wo")
                        .optional()
                        .sensitive()
                        .write_only()
                        .description("A write-only secret: never in plan or state."),
                )
                .attribute(
                    Attribute::number("secret_wo_version")
                        .optional()
                        .description("Change to send `secret_wo` again."),
                )
                .attribute(
                    Attribute::number("revision")
                        .computed()
                        .description("Bumped by every update."),
                )
                .block(NestedBlock::new("settings", Nesting::Single, settings))
                .block(NestedBlock::new("rule", Nesting::List, rule).max_items(10)),
        )
        .version(1)
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        if !config.get("secret_wo").is_null() && config.get("secret_wo_version").is_null() {
            diags.error_at(
                tfplugin_framework::AttrPath::attr("secret_wo_version"),
                "Missing secret_wo_version",
                "secret_wo is write-only: set secret_wo_version too, and change it whenever secret_wo changes.",
            );
        }
    }

    async fn create(&self, _: &ProviderData, req: ApplyRequest) -> Result<Applied, Diagnostics> {
        let mut state: ItemState = req.planned.decode()?;
        state.id = Some(hex::encode(rand::random::<[u8; 8]>()));
        state.revision = Some(1.0);
        let stored = Stored {
            state,
            secret_wo: req.config.get("secret_wo").as_str().map(str::to_string),
        };
        let tag = save(&stored).await?;
        applied(&stored, tag, &self.ty())
    }

    async fn read(
        &self,
        _: &ProviderData,
        current: Applied,
    ) -> Result<Option<Applied>, Diagnostics> {
        let Some(id) = current.state.get("id").as_str() else {
            return Ok(None);
        };
        match load(id).await? {
            Some((stored, tag)) => applied(&stored, tag, &self.ty()).map(Some),
            None => Ok(None),
        }
    }

    async fn update(&self, _: &ProviderData, req: ApplyRequest) -> Result<Applied, Diagnostics> {
        let id = req.prior.get("id").as_str().unwrap_or_default().to_string();
        let Some((mut stored, tag)) = load(&id).await? else {
            return Err(Diagnostics::from_error(
                "Item disappeared",
                format!("bbb_test_item {id} was deleted outside Terraform during apply."),
            ));
        };
        if req.private.get("etag").and_then(|t| t.as_str()) != Some(tag.as_str()) {
            return Err(Diagnostics::from_error(
                "Item changed since it was read",
                format!("bbb_test_item {id} changed outside Terraform after this plan was made; plan again."),
            ));
        }
        let mut state: ItemState = req.planned.decode()?;
        state.id = Some(id);
        state.revision = Some(stored.state.revision.unwrap_or(0.0) + 1.0);
        stored.state = state;
        if let Some(secret) = req.config.get("secret_wo").as_str() {
            stored.secret_wo = Some(secret.to_string());
        }
        let tag = save(&stored).await?;
        applied(&stored, tag, &self.ty())
    }

    async fn delete(&self, _: &ProviderData, req: ApplyRequest) -> Result<(), Diagnostics> {
        let Some(id) = req.prior.get("id").as_str() else {
            return Ok(());
        };
        match tokio::fs::remove_file(path_of(id)?).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Diagnostics::from_error(
                "Could not delete item",
                format!("{id}: {e}"),
            )),
        }
    }

    async fn import(&self, _: &ProviderData, id: &str) -> Result<Applied, Diagnostics> {
        match load(id).await? {
            Some((stored, tag)) => applied(&stored, tag, &self.ty()),
            None => Err(Diagnostics::from_error(
                "Cannot import non-existent item",
                format!("There is no bbb_test_item with ID {id:?}."),
            )),
        }
    }

    fn upgrade_state(
        &self,
        from_version: i64,
        mut state: serde_json::Value,
    ) -> Result<serde_json::Value, Diagnostics> {
        match from_version {
            // Version 0 called `value` `val`.
            0 => {
                if let Some(obj) = state.as_object_mut() {
                    let val = obj.remove("val").unwrap_or(serde_json::Value::Null);
                    obj.insert("value".to_string(), val);
                }
                Ok(state)
            }
            1 => Ok(state),
            v => Err(Diagnostics::from_error(
                "Unsupported state version",
                format!("bbb_test_item state version {v} is newer than this provider."),
            )),
        }
    }
}
