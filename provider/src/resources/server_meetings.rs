//! Data source `bbb_server_meetings`: the live meetings of one BBB server, from its own
//! `getMeetings` (breakout rooms included).

use std::collections::BTreeMap;

use async_trait::async_trait;
use bbb_core::bbb::{BbbClient, BbbConfig};
use bbb_core::Secret;
use serde::Serialize;

use crate::provider::ProviderData;
use crate::scalelite_pool::scalelite_error;
use tfplugin_framework::validators::{http_url, not_blank};
use tfplugin_framework::{
    AttrPath, Attribute, Block, DataSource, Diagnostics, Schema, Type, Value,
};

pub struct ServerMeetings;

#[derive(Serialize)]
struct Listed {
    meeting_id: String,
    name: String,
    running: bool,
    is_breakout: bool,
    participant_count: f64,
    moderator_count: f64,
    create_time: f64,
}

fn meeting_type() -> Type {
    Type::Object(BTreeMap::from([
        ("meeting_id".to_string(), Type::String),
        ("name".to_string(), Type::String),
        ("running".to_string(), Type::Bool),
        ("is_breakout".to_string(), Type::Bool),
        ("participant_count".to_string(), Type::Number),
        ("moderator_count".to_string(), Type::Number),
        ("create_time".to_string(), Type::Number),
    ]))
}

#[async_trait]
impl DataSource<ProviderData> for ServerMeetings {
    fn type_name(&self) -> &'static str {
        "bbb_server_meetings"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            Block::new()
                .description("Live meetings of one BBB server. Name the server by `server_id` (its secret comes from Scalelite) or by `url` and `secret`.")
                .attribute(Attribute::string("server_id").optional().validate(not_blank()).description("Scalelite ID of the server."))
                .attribute(Attribute::string("url").optional().validate(http_url()).description("The BBB server's URL; needs `secret`, excludes `server_id`."))
                .attribute(Attribute::string("secret").optional().sensitive().validate(not_blank()).description("The BBB server's secret, with `url`."))
                .attribute(Attribute::new("meetings", Type::list(meeting_type())).computed().description("Meetings BBB lists, created-but-unjoined and breakout rooms included: meeting_id, name, running, is_breakout, participant_count, moderator_count, create_time (milliseconds since the epoch)."))
                .attribute(Attribute::number("meeting_count").computed().description("Number of meetings."))
                .attribute(Attribute::number("participant_count").computed().description("Participants over all meetings.")),
        )
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        let by_id = !config.get("server_id").is_null();
        let by_url = !config.get("url").is_null();
        if by_id == by_url {
            diags.error_at(
                AttrPath::attr("server_id"),
                "Name one server",
                "Set either server_id, or url and secret.",
            );
        }
        if by_url && config.get("secret").is_null() {
            diags.error_at(
                AttrPath::attr("secret"),
                "Missing secret",
                "url needs the BBB server's secret.",
            );
        }
    }

    async fn read(&self, data: &ProviderData, mut config: Value) -> Result<Value, Diagnostics> {
        let (url, secret) = match config.get("server_id").as_str() {
            Some(id) => {
                let pool = data.scalelite().await?;
                let server = pool
                    .client()
                    .get_server(id)
                    .await
                    .map_err(|e| scalelite_error("read the server", &e))?
                    .ok_or_else(|| {
                        Diagnostics::from_error_at(
                            AttrPath::attr("server_id"),
                            "Unknown server",
                            format!("Scalelite has no server {id:?}."),
                        )
                    })?;
                (server.url, server.secret)
            }
            None => (
                config.get("url").as_str().unwrap_or_default().to_string(),
                Secret::new(config.get("secret").as_str().unwrap_or_default()),
            ),
        };
        let mut bbb_config = BbbConfig::new(url, secret);
        bbb_config.timeout = data.settings.timeout;
        let client = BbbClient::new(bbb_config)
            .map_err(|e| Diagnostics::from_error("Invalid BBB server", e.to_string()))?;
        let meetings = client.get_meetings().await.map_err(|e| {
            Diagnostics::from_error("Could not list the server's meetings", e.to_string())
        })?;
        let participants: u32 = meetings.iter().map(|m| m.participant_count).sum();
        let listed: Vec<Listed> = meetings
            .iter()
            .map(|m| Listed {
                meeting_id: m.meeting_id.clone(),
                name: m.name.clone(),
                running: m.running,
                is_breakout: m.is_breakout,
                participant_count: f64::from(m.participant_count),
                moderator_count: f64::from(m.moderator_count),
                create_time: m.create_time as f64,
            })
            .collect();
        config.set("meeting_count", Value::Number(listed.len() as f64));
        config.set("participant_count", Value::Number(f64::from(participants)));
        config.set(
            "meetings",
            Value::encode(&listed, &Type::list(meeting_type()))?,
        );
        Ok(config)
    }
}
