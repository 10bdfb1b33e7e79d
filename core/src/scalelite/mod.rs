//! Scalelite's server API (`/scalelite/api/`, Scalelite 1.6 and later).

mod client;
mod error;
mod types;

pub use client::{ScaleliteClient, ScaleliteConfig};
pub use error::ScaleliteError;
pub use types::{NewServer, Server, ServerState, ServerUpdate, StateChange};
