//! Generated types for the Terraform plugin protocol (version 6.10) and the go-plugin
//! side services Terraform expects next to it.

#![allow(clippy::all, clippy::pedantic, missing_docs)]

/// `tfplugin6`: the provider service and its messages.
pub mod tfplugin6 {
    tonic::include_proto!("tfplugin6");
}

/// `plugin`: go-plugin's controller (graceful Shutdown) and stdio services.
pub mod plugin {
    tonic::include_proto!("plugin");
}

/// The protocol minor version these definitions follow.
pub const PROTOCOL_VERSION: &str = "6.10";
