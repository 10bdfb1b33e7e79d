//! The BigBlueButton API of one BBB server (`/bigbluebutton/api`).

mod client;
mod error;
mod types;

pub use client::{BbbClient, BbbConfig, CreatedMeeting};
pub use error::BbbError;
pub use types::{ApiVersion, Meeting};
