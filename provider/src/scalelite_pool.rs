//! The provider's access to Scalelite: one client per provider process, and one shared
//! `getServers` answer for every refresh in a run, so refreshing N servers costs one call.

use std::sync::Arc;

use bbb_core::scalelite::{ScaleliteClient, ScaleliteConfig, ScaleliteError, Server};
use bbb_core::{canonical_registered_url, names_registered_url};
use tokio::sync::Mutex;

use crate::config::Settings;
use tfplugin_framework::Diagnostics;

pub struct ScalelitePool {
    client: ScaleliteClient,
    /// The last `getServers` answer; cleared by every write this process makes.
    servers: Mutex<Option<Arc<Vec<Server>>>>,
}

impl ScalelitePool {
    pub fn from_settings(settings: &Settings) -> Result<Self, Diagnostics> {
        let (url, secret) = settings.scalelite()?;
        let mut config = ScaleliteConfig::new(scalelite_base_url(url), secret.expose());
        config.timeout = settings.timeout;
        config.max_retries = settings.scalelite_max_retries();
        let client = ScaleliteClient::new(config)
            .map_err(|e| scalelite_error("configure the Scalelite client", &e))?;
        Ok(Self {
            client,
            servers: Mutex::new(None),
        })
    }

    pub fn client(&self) -> &ScaleliteClient {
        &self.client
    }

    /// Every server in the pool. Concurrent callers share one `getServers` call: the lock
    /// is held while it runs.
    pub async fn servers(&self) -> Result<Arc<Vec<Server>>, Diagnostics> {
        let mut cached = self.servers.lock().await;
        if let Some(servers) = cached.as_ref() {
            return Ok(servers.clone());
        }
        let servers = Arc::new(
            self.client
                .get_servers()
                .await
                .map_err(|e| scalelite_error("list servers", &e))?,
        );
        *cached = Some(servers.clone());
        Ok(servers)
    }

    /// Forgets the shared answer after a write, so later reads see the change.
    pub async fn invalidate(&self) {
        *self.servers.lock().await = None;
    }

    pub async fn find_by_id(&self, id: &str) -> Result<Option<Server>, Diagnostics> {
        Ok(self.servers().await?.iter().find(|s| s.id == id).cloned())
    }

    /// The server registered as `api_url` in any spelling of the same endpoint (case of
    /// scheme and host, a default port, a trailing slash: see `names_registered_url`). A
    /// registration without the API path is another endpoint for Scalelite, so it is not it.
    pub async fn find_by_url(&self, api_url: &str) -> Result<Option<Server>, Diagnostics> {
        Ok(self
            .servers()
            .await?
            .iter()
            .find(|s| names_registered_url(api_url, &s.url))
            .cloned())
    }

    /// The server Scalelite holds as `url` itself, spelled canonically (no API path added):
    /// for importing a registration made without `/bigbluebutton/api`.
    pub async fn find_by_held_url(&self, url: &str) -> Result<Option<Server>, Diagnostics> {
        let Some(wanted) = canonical_registered_url(url) else {
            return Ok(None);
        };
        Ok(self
            .servers()
            .await?
            .iter()
            .find(|s| canonical_registered_url(&s.url).as_deref() == Some(wanted.as_str()))
            .cloned())
    }
}

/// Scalelite's base URL: users often give the URL BBB clients use (`.../bigbluebutton/api`)
/// or the server API's (`.../scalelite/api`); the client appends the API path itself.
pub fn scalelite_base_url(url: &str) -> &str {
    let url = url.trim().trim_end_matches('/');
    ["/bigbluebutton/api", "/scalelite/api"]
        .iter()
        .find_map(|suffix| url.strip_suffix(suffix))
        .unwrap_or(url)
}

/// A Scalelite failure as a diagnostic. The core's errors never carry secrets.
pub fn scalelite_error(action: &str, e: &ScaleliteError) -> Diagnostics {
    Diagnostics::from_error(format!("Could not {action} in Scalelite"), e.to_string())
}

#[cfg(test)]
mod tests {
    use super::scalelite_base_url;

    #[test]
    fn base_url_drops_api_paths() {
        assert_eq!(
            scalelite_base_url("https://sl.example.com/"),
            "https://sl.example.com"
        );
        assert_eq!(
            scalelite_base_url("https://sl.example.com/bigbluebutton/api/"),
            "https://sl.example.com"
        );
        assert_eq!(
            scalelite_base_url("https://sl.example.com/lb/scalelite/api"),
            "https://sl.example.com/lb"
        );
    }
}
