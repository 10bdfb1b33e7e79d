//! One module per command.

pub mod configure;
pub mod drain;
pub mod launch;
pub mod protect;
pub mod status;

mod dns;
mod lifecycle;
mod registration;
