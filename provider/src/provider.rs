//! The `bbb` provider: configuration and the list of resources and data sources.

use std::sync::Arc;

use async_trait::async_trait;

use crate::config::{self, Settings};
use crate::scalelite_pool::ScalelitePool;
use tfplugin_framework::{DataSource, Diagnostics, Provider, Resource, Schema, Value};

/// The `bbb` provider. [`BbbProvider::default`] is the shipped provider; [`BbbProvider::with_resources`]
/// adds resources a caller brings (the acceptance crate's test-only `bbb_test_*`), so code that
/// users never run stays out of this crate entirely rather than behind a Cargo feature.
#[derive(Default)]
pub struct BbbProvider {
    extra_resources: Vec<Arc<dyn Resource<ProviderData>>>,
}

impl BbbProvider {
    /// The shipped resources plus `extra`. A type name that is already served is refused
    /// (`Err` names it), so an extra resource can never shadow a shipped one.
    pub fn with_resources(extra: Vec<Arc<dyn Resource<ProviderData>>>) -> Result<Self, String> {
        let mut seen: std::collections::BTreeSet<&'static str> = crate::resources::all()
            .iter()
            .map(|r| r.type_name())
            .collect();
        for r in &extra {
            if !seen.insert(r.type_name()) {
                return Err(format!("resource type {} is served twice", r.type_name()));
            }
        }
        Ok(Self {
            extra_resources: extra,
        })
    }
}

/// What every resource of this provider receives: the configured settings.
pub struct ProviderData {
    pub settings: Settings,
    pub terraform_version: String,
    /// Built on first use: plan-time configuration may leave Scalelite's URL unknown.
    scalelite: tokio::sync::OnceCell<ScalelitePool>,
    aws: tokio::sync::OnceCell<bbb_core::aws::AwsClients>,
    /// Auto Scaling answers shared by the `bbb_schedule`s of a run.
    asg_cache: crate::asg_cache::AsgCache,
}

impl ProviderData {
    pub fn new(settings: Settings, terraform_version: &str) -> Self {
        Self {
            settings,
            terraform_version: terraform_version.to_string(),
            scalelite: tokio::sync::OnceCell::new(),
            aws: tokio::sync::OnceCell::new(),
            asg_cache: crate::asg_cache::AsgCache::default(),
        }
    }

    /// Groups and scheduled actions described once per process (cleared on writes).
    pub fn asg_cache(&self) -> &crate::asg_cache::AsgCache {
        &self.asg_cache
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
        let mut all = crate::resources::all();
        all.extend(self.extra_resources.iter().cloned());
        all
    }

    fn data_sources(&self) -> Vec<Arc<dyn DataSource<ProviderData>>> {
        crate::resources::all_data_sources()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn type_names(p: &BbbProvider) -> Vec<&'static str> {
        p.resources().iter().map(|r| r.type_name()).collect()
    }

    #[test]
    fn a_shipped_type_cannot_be_served_twice() {
        let shipped = type_names(&BbbProvider::default());
        assert!(shipped.contains(&"bbb_fleet"), "{shipped:?}");
        let extra = vec![Arc::new(crate::resources::schedule::Schedule) as Arc<_>];
        // A shipped type offered again is refused, naming it.
        let err = BbbProvider::with_resources(extra)
            .err()
            .expect("a duplicate type is refused");
        assert!(err.contains("bbb_schedule"), "{err}");
        let none = BbbProvider::with_resources(Vec::new()).expect("no extra");
        assert_eq!(type_names(&none), shipped);
    }
}
