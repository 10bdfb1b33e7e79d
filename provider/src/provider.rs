//! The `bbb` provider: configuration and the list of resources and data sources.

use std::sync::Arc;

use async_trait::async_trait;

use crate::config::{self, Settings};
use crate::framework::{DataSource, Diagnostics, Provider, Resource, Schema, Value};

pub struct BbbProvider;

/// What every resource of this provider receives: the configured settings.
#[derive(Debug)]
pub struct ProviderData {
    pub settings: Settings,
    pub terraform_version: String,
}

#[async_trait]
impl Provider for BbbProvider {
    type Data = ProviderData;

    fn schema(&self) -> Schema {
        config::schema()
    }

    async fn configure(&self, config: &Value, terraform_version: &str) -> Result<ProviderData, Diagnostics> {
        let settings = Settings::from_config(config, |k| std::env::var(k).ok())?;
        Ok(ProviderData { settings, terraform_version: terraform_version.to_string() })
    }

    fn resources(&self) -> Vec<Arc<dyn Resource<ProviderData>>> {
        crate::resources::all()
    }

    fn data_sources(&self) -> Vec<Arc<dyn DataSource<ProviderData>>> {
        crate::resources::all_data_sources()
    }
}
