//! The provider's gRPC service called directly, as Terraform calls it, for what a current
//! Terraform CLI cannot be made to send: a client without write-only support (Terraform before
//! 1.11), and diagnostics whose attribute paths Terraform would resolve silently.

use terraform_provider_bbb::config;
use terraform_provider_bbb::provider::BbbProvider;
use terraform_provider_bbb::resources::scalelite_server::ScaleliteServer;
use tfplugin_framework::{msgpack, AttrPath, ProviderServer, Resource, Type, Value};
use tfplugin_proto::tfplugin6 as pb;
use tfplugin_proto::tfplugin6::provider_server::Provider as _;
use tonic::Request;

fn object(pairs: &[(&str, Value)]) -> Value {
    let mut v = Value::Null;
    for (k, val) in pairs {
        v.set(k, val.clone());
    }
    v
}

fn dynamic(value: &Value, ty: &Type) -> Option<pb::DynamicValue> {
    Some(pb::DynamicValue {
        msgpack: msgpack::encode(value, ty),
        json: Vec::new(),
    })
}

fn server_config() -> Value {
    object(&[
        ("url", "https://bbb1.example.com".into()),
        ("secret_wo", "bbb-secret".into()),
        ("secret_wo_version", Value::Number(1.0)),
    ])
}

async fn validate_server(
    server: &ProviderServer<BbbProvider>,
    config: &Value,
    capabilities: Option<pb::ClientCapabilities>,
) -> Vec<pb::Diagnostic> {
    let ty = ScaleliteServer.schema().ty();
    server
        .validate_resource_config(Request::new(pb::validate_resource_config::Request {
            type_name: "bbb_scalelite_server".into(),
            config: dynamic(config, &ty),
            client_capabilities: capabilities,
        }))
        .await
        .expect("rpc")
        .into_inner()
        .diagnostics
}

fn capability(write_only: bool) -> Option<pb::ClientCapabilities> {
    Some(pb::ClientCapabilities {
        deferral_allowed: false,
        write_only_attributes_allowed: write_only,
    })
}

#[tokio::test]
async fn a_client_without_write_only_support_is_told_which_attribute_and_what_to_upgrade() {
    let server = ProviderServer::new(BbbProvider::default());
    for caps in [capability(false), None] {
        let diags = validate_server(&server, &server_config(), caps).await;
        let errors: Vec<_> = diags
            .iter()
            .filter(|d| d.severity == pb::diagnostic::Severity::Error as i32)
            .collect();
        assert_eq!(errors.len(), 1, "{caps:?}: {diags:?}");
        let d = errors[0];
        assert_eq!(
            d.attribute,
            Some(AttrPath::attr("secret_wo").to_proto()),
            "points at the attribute"
        );
        assert!(d.detail.contains("secret_wo"), "{}", d.detail);
        assert!(
            d.detail.contains("Terraform 1.11 or later")
                && d.detail.contains("OpenTofu 1.11 or later"),
            "{}",
            d.detail
        );
        assert!(!d.detail.contains("bbb-secret"), "secret in a diagnostic");
    }
    // An unknown value is a value too (Terraform would still plan it as a normal attribute).
    let mut unknown = server_config();
    unknown.set("secret_wo", Value::Unknown);
    assert!(!validate_server(&server, &unknown, capability(false))
        .await
        .is_empty());
    // A client with write-only support, or a configuration without write-only values: fine.
    assert!(validate_server(&server, &server_config(), capability(true))
        .await
        .is_empty());
    let plain = object(&[
        ("url", "https://bbb1.example.com".into()),
        ("secret", "bbb-secret".into()),
    ]);
    assert!(validate_server(&server, &plain, capability(false))
        .await
        .is_empty());
}

async fn configure(server: &ProviderServer<BbbProvider>, config: &Value) -> Vec<pb::Diagnostic> {
    let ty = config::schema().ty();
    server
        .configure_provider(Request::new(pb::configure_provider::Request {
            terraform_version: "1.15.0".into(),
            config: dynamic(config, &ty),
            client_capabilities: capability(true),
        }))
        .await
        .expect("rpc")
        .into_inner()
        .diagnostics
}

/// A diagnostic raised inside a resource's call about a provider setting carries no attribute
/// path: Terraform resolves a path against the resource's own body. In ConfigureProvider, it
/// points at the provider block's attribute.
#[tokio::test]
async fn provider_settings_are_pointed_at_only_in_the_provider_configuration() {
    let server = ProviderServer::new(BbbProvider::default());
    let diags = configure(&server, &object(&[("request_timeout", "soon".into())])).await;
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert_eq!(
        diags[0].attribute,
        Some(AttrPath::attr("request_timeout").to_proto())
    );

    // Configured without Scalelite (the process's environment may hold none either: the
    // setting is then reported missing; set, it is reported unknown).
    let unknown = object(&[("scalelite_url", Value::Unknown)]);
    assert!(configure(&server, &unknown).await.is_empty());
    let ty = ScaleliteServer.schema().ty();
    let state = object(&[
        ("id", "s1".into()),
        ("url", "https://bbb1.example.com".into()),
    ]);
    let read = server
        .read_resource(Request::new(pb::read_resource::Request {
            type_name: "bbb_scalelite_server".into(),
            current_state: dynamic(&state, &ty),
            ..Default::default()
        }))
        .await
        .expect("rpc")
        .into_inner();
    assert!(!read.diagnostics.is_empty());
    for d in &read.diagnostics {
        assert!(d.summary.contains("scalelite_url"), "{}", d.summary);
        assert_eq!(d.attribute, None, "{d:?}");
    }
    assert_eq!(
        read.new_state,
        dynamic(&state, &ty),
        "a failed refresh keeps the state"
    );
}
