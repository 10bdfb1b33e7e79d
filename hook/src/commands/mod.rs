//! One module per command.

pub mod configure;
mod consolidate;
pub mod drain;
pub mod health;
pub mod health_cordon;
pub mod launch;
pub mod protect;
pub mod standby;
pub mod status;
pub mod timeouts;
pub mod tls;

mod cordon_leak;
mod dns;
mod join;
mod joinable;
mod lifecycle;
pub mod metrics;
mod registration;
