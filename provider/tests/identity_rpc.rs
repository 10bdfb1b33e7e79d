//! Identity RPCs called as Terraform calls them, for what the CLI does only on a schema change:
//! the identity schemas announced, and UpgradeResourceIdentity of a stored identity.

use terraform_provider_bbb::provider::BbbProvider;
use tfplugin_framework::{msgpack, ProviderServer, Type, Value};
use tfplugin_proto::tfplugin6 as pb;
use tfplugin_proto::tfplugin6::provider_server::Provider as _;
use tonic::Request;

async fn upgrade(
    server: &ProviderServer<BbbProvider>,
    version: i64,
    json: &str,
) -> pb::upgrade_resource_identity::Response {
    server
        .upgrade_resource_identity(Request::new(pb::upgrade_resource_identity::Request {
            type_name: "bbb_scalelite_server".into(),
            version,
            raw_identity: Some(pb::RawState {
                json: json.as_bytes().to_vec(),
                flatmap: Default::default(),
            }),
        }))
        .await
        .expect("rpc")
        .into_inner()
}

#[tokio::test]
async fn identity_schemas_and_upgrade_of_a_stored_identity() {
    let server = ProviderServer::new(BbbProvider::default());
    let schemas = server
        .get_resource_identity_schemas(Request::new(Default::default()))
        .await
        .expect("rpc")
        .into_inner()
        .identity_schemas;
    let names = |t: &str| -> Vec<(String, bool)> {
        schemas[t]
            .identity_attributes
            .iter()
            .map(|a| (a.name.clone(), a.required_for_import))
            .collect()
    };
    assert_eq!(names("bbb_scalelite_server"), [("url".to_string(), true)]);
    assert_eq!(
        names("bbb_fleet"),
        [
            ("autoscaling_group_name".to_string(), true),
            ("name".to_string(), true)
        ]
    );
    assert!(
        !schemas.contains_key("bbb_schedule"),
        "no identity for schedules yet"
    );

    let url = "https://bbb1.example.com/bigbluebutton/api";
    let answer = upgrade(&server, 0, &format!(r#"{{"url":"{url}"}}"#)).await;
    assert!(answer.diagnostics.is_empty(), "{:?}", answer.diagnostics);
    let ty = Type::Object([("url".to_string(), Type::String)].into());
    let data = answer
        .upgraded_identity
        .and_then(|i| i.identity_data)
        .expect("identity");
    let value = msgpack::decode(&data.msgpack, &ty).expect("msgpack");
    assert_eq!(value.get("url"), &Value::string(url));

    let answer = upgrade(&server, 3, r#"{"url":"x"}"#).await;
    assert!(answer.upgraded_identity.is_none());
    assert!(format!("{:?}", answer.diagnostics).contains("from version 3 to 0"));
}
