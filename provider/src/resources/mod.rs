//! The provider's resources and data sources, one file each.

use std::sync::Arc;

use crate::provider::ProviderData;
use tfplugin_framework::{DataSource, Resource};

mod drain_limits;
pub mod fleet;
pub mod scalelite_server;
pub mod scalelite_servers;
pub mod schedule;
pub mod server_meetings;

pub fn all() -> Vec<Arc<dyn Resource<ProviderData>>> {
    vec![
        Arc::new(scalelite_server::ScaleliteServer),
        Arc::new(fleet::Fleet),
        Arc::new(schedule::Schedule),
    ]
}

pub fn all_data_sources() -> Vec<Arc<dyn DataSource<ProviderData>>> {
    vec![
        Arc::new(scalelite_servers::ScaleliteServers),
        Arc::new(server_meetings::ServerMeetings),
    ]
}
