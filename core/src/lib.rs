//! The shared core of terraform-provider-bbb and bbb-hook.

pub mod aws;
pub mod bbb;
pub mod checksum;
mod http;
pub mod scalelite;
pub mod scaling;
pub mod secret;
pub mod server_url;
#[cfg(feature = "testing")]
pub mod testing;
pub mod time;

pub use secret::Secret;
pub use server_url::{
    canonical_registered_url, names_registered_url, normalize_bbb_api_url, same_bbb_api_url,
    ServerUrlError,
};
