//! Data source `bbb_scalelite_servers`: Scalelite's pool, filtered by tag and state.

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde::Serialize;

use crate::provider::ProviderData;
use tfplugin_framework::validators::one_of;
use tfplugin_framework::{Attribute, Block, DataSource, Diagnostics, Schema, Type, Value};

pub struct ScaleliteServers;

/// One server as listed; never its secret.
#[derive(Serialize)]
struct Listed {
    id: String,
    url: String,
    tag: Option<String>,
    state: String,
    online: bool,
    load: Option<f64>,
    load_multiplier: f64,
    bbb_version: Option<String>,
}

fn server_type() -> Type {
    Type::Object(BTreeMap::from([
        ("id".to_string(), Type::String),
        ("url".to_string(), Type::String),
        ("tag".to_string(), Type::String),
        ("state".to_string(), Type::String),
        ("online".to_string(), Type::Bool),
        ("load".to_string(), Type::Number),
        ("load_multiplier".to_string(), Type::Number),
        ("bbb_version".to_string(), Type::String),
    ]))
}

#[async_trait]
impl DataSource<ProviderData> for ScaleliteServers {
    fn type_name(&self) -> &'static str {
        "bbb_scalelite_servers"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            Block::new()
                .description("The BBB servers in Scalelite's pool (without their secrets).")
                .attribute(
                    Attribute::string("tag")
                        .optional()
                        .description("Only servers with this tag."),
                )
                .attribute(
                    Attribute::string("state")
                        .optional()
                        .validate(one_of(&["enabled", "cordoned", "disabled"]))
                        .description("Only servers in this state."),
                )
                .attribute(
                    Attribute::new("servers", Type::list(server_type()))
                        .computed()
                        .description("The matching servers (id, url, tag, state, online, load, load_multiplier, bbb_version), sorted by ID. Secrets are never listed."),
                )
                .attribute(
                    Attribute::new("ids", Type::list(Type::String))
                        .computed()
                        .description("The IDs of the matching servers, sorted."),
                ),
        )
    }

    async fn read(&self, data: &ProviderData, mut config: Value) -> Result<Value, Diagnostics> {
        let pool = data.scalelite().await?;
        let tag = config.get("tag").as_str().map(str::to_string);
        let state = config.get("state").as_str().map(str::to_string);
        let mut listed: Vec<Listed> = pool
            .servers()
            .await?
            .iter()
            .filter(|s| tag.is_none() || s.tag == tag)
            .filter(|s| state.as_deref().is_none_or(|w| s.state.as_str() == w))
            .map(|s| Listed {
                id: s.id.clone(),
                url: s.url.clone(),
                tag: s.tag.clone(),
                state: s.state.as_str().to_string(),
                online: s.online,
                load: s.load,
                load_multiplier: s.load_multiplier,
                bbb_version: s.bbb_version.clone(),
            })
            .collect();
        listed.sort_by(|a, b| a.id.cmp(&b.id));
        let ids: Vec<Value> = listed.iter().map(|s| Value::from(s.id.as_str())).collect();
        config.set(
            "servers",
            Value::encode(&listed, &Type::list(server_type()))?,
        );
        config.set("ids", Value::List(ids));
        Ok(config)
    }
}
