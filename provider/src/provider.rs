//! The `bbb` provider: configuration and the list of resources and data sources.

use std::sync::Arc;

use async_trait::async_trait;

use crate::config::{self, Settings};
use crate::framework::{DataSource, Diagnostics, Provider, Resource, Schema, Value};
use crate::scalelite_pool::ScalelitePool;

pub struct BbbProvider;

/// What every resource of this provider receives: the configured settings.
pub struct ProviderData {
    pub settings: Settings,
    pub terraform_version: String,
    /// Built on first use: plan-time configuration may leave Scalelite's URL unknown.
    scalelite: tokio::sync::OnceCell<ScalelitePool>,
    aws: tokio::sync::OnceCell<bbb_core::aws::AwsClients>,
}

impl ProviderData {
    pub fn new(settings: Settings, terraform_version: &str) -> Self {
        Self {
            settings,
            terraform_version: terraform_version.to_string(),
            scalelite: tokio::sync::OnceCell::new(),
            aws: tokio::sync::OnceCell::new(),
        }
    }

    /// The Scalelite client and shared server list, or a diagnostic naming the missing setting.
    pub async fn scalelite(&self) -> Result<&ScalelitePool, Diagnostics> {
        self.scalelite
            .get_or_try_init(|| async { ScalelitePool::from_settings(&self.settings) })
            .await
    }

    /// The AWS clients (ASG, Route53, EC2, SSM), built on first use.
    pub async fn aws(&self) -> Result<&bbb_core::aws::AwsClients, Diagnostics> {
        self.aws
            .get_or_try_init(|| crate::aws_access::clients(&self.settings))
            .await
    }
}

#[async_trait]
impl Provider for BbbProvider {
    type Data = ProviderData;

    fn schema(&self) -> Schema {
        config::schema()
    }

    async fn configure(
        &self,
        config: &Value,
        terraform_version: &str,
    ) -> Result<ProviderData, Diagnostics> {
        let settings = Settings::from_config(config, |k| std::env::var(k).ok())?;
        Ok(ProviderData::new(settings, terraform_version))
    }

    fn resources(&self) -> Vec<Arc<dyn Resource<ProviderData>>> {
        crate::resources::all()
    }

    fn data_sources(&self) -> Vec<Arc<dyn DataSource<ProviderData>>> {
        crate::resources::all_data_sources()
    }
}
