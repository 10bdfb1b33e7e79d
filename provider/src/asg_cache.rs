//! One DescribeAutoScalingGroups and one DescribeScheduledActions answer per group for every
//! `bbb_schedule` in a provider process (review G14), like `scalelite_pool` does for
//! Scalelite's `getServers`: refreshing and planning N schedules of one group costs two Auto
//! Scaling calls, not 3 × N. Every write this process makes to a group's scheduled actions
//! forgets that group's answers, so later reads see the change.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use bbb_core::aws::{AutoScalingGroup, AwsClients, AwsError, ScheduledAction};
use tokio::sync::Mutex;

/// One key's answer, shared by its callers; the lock is held while the call runs.
type Slot<T> = Arc<Mutex<Option<Arc<T>>>>;

/// One answer per key. Concurrent callers of one key share one call: the key's lock is held
/// while it runs. Failures are not kept, so the next caller tries again.
struct Answers<T> {
    slots: std::sync::Mutex<HashMap<String, Slot<T>>>,
}

impl<T> Default for Answers<T> {
    fn default() -> Self {
        Self {
            slots: std::sync::Mutex::new(HashMap::new()),
        }
    }
}

impl<T> Answers<T> {
    fn slot(&self, key: &str) -> Slot<T> {
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        slots.entry(key.to_owned()).or_default().clone()
    }

    async fn get<F, Fut>(&self, key: &str, fetch: F) -> Result<Arc<T>, AwsError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, AwsError>>,
    {
        let slot = self.slot(key);
        let mut answer = slot.lock().await;
        if let Some(known) = answer.as_ref() {
            return Ok(known.clone());
        }
        let fetched = Arc::new(fetch().await?);
        *answer = Some(fetched.clone());
        Ok(fetched)
    }

    fn forget(&self, key: &str) {
        self.slots
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
    }
}

/// The shared answers of one provider process.
#[derive(Default)]
pub struct AsgCache {
    groups: Answers<AutoScalingGroup>,
    actions: Answers<Vec<ScheduledAction>>,
}

impl AsgCache {
    /// The group `name`, described once per process until [`AsgCache::forget`].
    pub async fn group(
        &self,
        aws: &AwsClients,
        name: &str,
    ) -> Result<Arc<AutoScalingGroup>, AwsError> {
        self.groups
            .get(name, || aws.describe_auto_scaling_group(name))
            .await
    }

    /// The scheduled actions of group `name`, described once per process until
    /// [`AsgCache::forget`].
    pub async fn scheduled_actions(
        &self,
        aws: &AwsClients,
        name: &str,
    ) -> Result<Arc<Vec<ScheduledAction>>, AwsError> {
        self.actions
            .get(name, || aws.describe_scheduled_actions(name))
            .await
    }

    /// Forgets group `name`'s answers after a write to it.
    pub fn forget(&self, name: &str) {
        self.groups.forget(name);
        self.actions.forget(name);
    }
}
