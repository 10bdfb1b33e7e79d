//! go-plugin's handshake: the environment Terraform sets, and the line the plugin answers.

use base64::Engine;

/// Terraform's magic cookie for provider plugins.
pub const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
pub const MAGIC_COOKIE_VALUE: &str =
    "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";
/// go-plugin's core protocol version.
pub const CORE_PROTOCOL_VERSION: u32 = 1;
/// The application (Terraform plugin) protocol version this provider speaks.
pub const APP_PROTOCOL_VERSION: u32 = 6;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum HandshakeError {
    #[error(
        "This binary is a plugin for Terraform and OpenTofu. It is not meant to be run by hand.\n\
         Terraform starts it when a configuration uses the provider:\n\n\
         \x20 terraform {{\n\
         \x20   required_providers {{\n\
         \x20     bbb = {{ source = \"bbb-platform/bbb\" }}\n\
         \x20   }}\n\
         \x20 }}\n\n\
         To use a local build, point a CLI configuration file (TF_CLI_CONFIG_FILE) at its folder\n\
         with provider_installation {{ dev_overrides {{ ... }} }}."
    )]
    NotStartedByTerraform,
    #[error("Terraform offered plugin protocol versions {offered:?}; this provider speaks only version 6 (Terraform 1.0 or newer, OpenTofu 1.6 or newer).")]
    UnsupportedProtocol { offered: String },
}

/// Checks the environment Terraform sets before starting a plugin.
pub fn check_environment(get: impl Fn(&str) -> Option<String>) -> Result<(), HandshakeError> {
    if get(MAGIC_COOKIE_KEY).as_deref() != Some(MAGIC_COOKIE_VALUE) {
        return Err(HandshakeError::NotStartedByTerraform);
    }
    if let Some(offered) = get("PLUGIN_PROTOCOL_VERSIONS") {
        let speaks_6 = offered
            .split(',')
            .any(|v| v.trim() == APP_PROTOCOL_VERSION.to_string());
        if !speaks_6 {
            return Err(HandshakeError::UnsupportedProtocol { offered });
        }
    }
    Ok(())
}

/// The single stdout line that tells Terraform where and how to connect.
/// The certificate is DER, base64 with the standard alphabet and no padding.
pub fn handshake_line(addr: std::net::SocketAddr, server_cert_der: Option<&[u8]>) -> String {
    let cert = server_cert_der
        .map(|der| base64::engine::general_purpose::STANDARD_NO_PAD.encode(der))
        .unwrap_or_default();
    format!("{CORE_PROTOCOL_VERSION}|{APP_PROTOCOL_VERSION}|tcp|{addr}|grpc|{cert}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            pairs
                .iter()
                .find(|(key, _)| *key == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn rejects_a_hand_start() {
        assert_eq!(
            check_environment(env(&[])),
            Err(HandshakeError::NotStartedByTerraform)
        );
        let msg = HandshakeError::NotStartedByTerraform.to_string();
        assert!(msg.contains("not meant to be run by hand"), "{msg}");
    }

    #[test]
    fn requires_protocol_six() {
        let ok = env(&[
            (MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE),
            ("PLUGIN_PROTOCOL_VERSIONS", "5,6"),
        ]);
        assert_eq!(check_environment(ok), Ok(()));
        let old = env(&[
            (MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE),
            ("PLUGIN_PROTOCOL_VERSIONS", "4,5"),
        ]);
        assert!(matches!(
            check_environment(old),
            Err(HandshakeError::UnsupportedProtocol { .. })
        ));
    }

    #[test]
    fn line_format() {
        let addr = "127.0.0.1:4242".parse().expect("addr");
        assert_eq!(handshake_line(addr, None), "1|6|tcp|127.0.0.1:4242|grpc|");
        // 0xfb 0xff -> "+/8" with padding in standard base64; no padding here.
        assert_eq!(
            handshake_line(addr, Some(&[0xfb, 0xff])),
            "1|6|tcp|127.0.0.1:4242|grpc|+/8"
        );
    }
}
