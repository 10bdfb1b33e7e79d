//! `bbb_scalelite_server`: one BBB server registered in Scalelite's pool, in the state the
//! configuration asks for.

use std::time::{Duration, Instant};

use async_trait::async_trait;
use bbb_core::bbb::{BbbClient, BbbConfig};
use bbb_core::scalelite::{NewServer, Server, ServerState, ServerUpdate, StateChange};
use bbb_core::Secret;
use bbb_core::{
    canonical_registered_url, names_registered_url, normalize_bbb_api_url, same_bbb_api_url,
};
use serde::{Deserialize, Serialize};

use crate::provider::ProviderData;
use crate::scalelite_pool::scalelite_error;
use tfplugin_framework::stop;
use tfplugin_framework::timeouts::{self, Op, Timeouts};
use tfplugin_framework::validators::{
    duration, greater_than, http_url, not_blank, one_of, Validator,
};
use tfplugin_framework::{
    Applied, ApplyRequest, AttrPath, Attribute, Block, CreateFailure, Diagnostics, Private,
    Resource, Schema, Type, Value,
};

const STATES: &[&str] = &["enabled", "cordoned", "disabled"];
/// How often a draining server's meetings are checked.
const DRAIN_POLL: Duration = Duration::from_secs(5);

pub struct ScaleliteServer;

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
struct Model {
    id: Option<String>,
    url: String,
    api_url: Option<String>,
    secret: Option<String>,
    secret_wo_version: Option<f64>,
    state: Option<String>,
    load_multiplier: Option<f64>,
    tag: Option<String>,
    drain_on_destroy: Option<bool>,
    drain_timeout: Option<String>,
    online: Option<bool>,
    load: Option<f64>,
    bbb_version: Option<String>,
    timeouts: Option<Timeouts>,
}

impl Model {
    /// Fills what Scalelite reports. `url` keeps the configuration's spelling while it
    /// names the URL Scalelite holds (`names_registered_url`); otherwise it takes Scalelite's.
    /// `api_url` is the URL Scalelite holds, spelled canonically (never given an API path
    /// Scalelite would not call), so it equals the `api_url` planned from a `url` naming it.
    fn refresh_from(&mut self, server: &Server, keep_secret: bool) {
        if !names_registered_url(&self.url, &server.url) {
            self.url = server.url.clone();
        }
        self.id = Some(server.id.clone());
        self.api_url =
            Some(canonical_registered_url(&server.url).unwrap_or_else(|| server.url.clone()));
        if keep_secret || self.secret.is_some() {
            self.secret = Some(server.secret.expose().to_string());
        }
        // Scalelite's poller disables a cordoned server once its load reads zero: that
        // still satisfies "cordoned" (no new meetings), so it is not drift.
        let wanted_cordoned = self.state.as_deref() == Some("cordoned");
        if !(wanted_cordoned && server.state == ServerState::Disabled) {
            self.state = Some(server.state.as_str().to_string());
        }
        self.load_multiplier = Some(server.load_multiplier);
        self.tag = server.tag.clone();
        self.online = Some(server.online);
        self.load = server.load;
        self.bbb_version = server.bbb_version.clone();
    }

    fn with_defaults(mut self) -> Self {
        self.drain_on_destroy.get_or_insert(false);
        self.drain_timeout.get_or_insert_with(|| "1h".to_string());
        self
    }
}

fn state_change(state: &str) -> Option<StateChange> {
    match state {
        "enabled" => Some(StateChange::Enable),
        "cordoned" => Some(StateChange::Cordon),
        "disabled" => Some(StateChange::Disable),
        _ => None,
    }
}

fn bbb_url() -> impl Validator {
    |path: &AttrPath, value: &Value, diags: &mut Diagnostics| {
        if let Some(s) = value.as_str() {
            if let Err(e) = normalize_bbb_api_url(s) {
                diags.error_at(
                    path.clone(),
                    format!("Invalid BBB server URL in {path}"),
                    format!("{path}: {e}"),
                );
            }
        }
    }
}

/// Whether two `url` values name the same server (see `same_bbb_api_url`).
fn same_url_value(a: &Value, b: &Value) -> bool {
    match (a.as_str(), b.as_str()) {
        (Some(a), Some(b)) => same_bbb_api_url(a, b),
        _ => false,
    }
}

/// The secret to send: the write-only one when given, else the stored one.
fn secret_of(config: &Value, model: &Model) -> Option<Secret> {
    config
        .get("secret_wo")
        .as_str()
        .or(model.secret.as_deref())
        .map(Secret::new)
}

impl ScaleliteServer {
    fn encode(&self, model: &Model) -> Result<Value, Diagnostics> {
        // The schema's type, built once: building the schema again for every value would
        // rebuild every validator too.
        static TYPE: std::sync::LazyLock<Type> =
            std::sync::LazyLock::new(|| ScaleliteServer.schema().ty());
        Value::encode(model, &TYPE)
    }

    async fn drain(
        &self,
        data: &ProviderData,
        server: &Server,
        timeout: Duration,
    ) -> Result<(), Diagnostics> {
        let pool = data.scalelite().await?;
        if server.state == ServerState::Enabled {
            let update = ServerUpdate {
                state: Some(StateChange::Cordon),
                ..Default::default()
            };
            pool.client()
                .update_server(&server.id, update)
                .await
                .map_err(|e| scalelite_error("cordon the server", &e))?;
            pool.invalidate().await;
        }
        // Meetings are judged from BBB itself: Scalelite's load reads zero while breakout
        // rooms still run.
        let mut config = BbbConfig::new(server.url.clone(), server.secret.clone());
        config.timeout = data.settings.timeout;
        let bbb = BbbClient::new(config).map_err(|e| {
            Diagnostics::from_error("Could not reach the BBB server", e.to_string())
        })?;
        let deadline = Instant::now() + timeout;
        let what = format!("the meetings on {} to end", server.url);
        loop {
            let outcome = stop::interruptible(bbb.get_meetings(), &what).await?;
            match &outcome {
                Ok(meetings) if meetings.is_empty() => return Ok(()),
                Ok(meetings) => {
                    tracing::info!(server = %server.id, meetings = meetings.len(), "draining: meetings still running")
                }
                Err(e) => {
                    tracing::warn!(server = %server.id, error = %e, "draining: BBB did not answer getMeetings")
                }
            }
            if Instant::now() >= deadline {
                let why = match outcome {
                    Ok(m) => format!("{} meeting(s) still run on it", m.len()),
                    Err(e) => format!("its BBB API did not answer: {e}"),
                };
                return Err(Diagnostics::from_error(
                    "Server did not drain in time",
                    format!(
                        "Scalelite server {} ({}) is cordoned, but {why} after {} (drain_timeout, or timeouts.delete when shorter). It was not removed; \
                         apply again to keep waiting, or set drain_on_destroy = false and apply that before destroying to remove it anyway.",
                        server.id, server.url, timeouts::show(timeout)
                    ),
                ));
            }
            stop::sleep(
                DRAIN_POLL.min(deadline.saturating_duration_since(Instant::now())),
                &what,
            )
            .await?;
        }
    }
}

#[async_trait]
impl Resource<ProviderData> for ScaleliteServer {
    fn type_name(&self) -> &'static str {
        "bbb_scalelite_server"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            Block::new()
                .description("A BigBlueButton server registered in Scalelite's pool.")
                .attribute(Attribute::string("id").computed().use_state_for_unknown().description("Scalelite's server ID."))
                .attribute(
                    Attribute::string("url")
                        .required()
                        .requires_replace_if(|prior, planned| !same_url_value(prior, planned))
                        .validate(http_url())
                        .validate(bbb_url())
                        .description("The BBB server's URL, e.g. `https://bbb1.example.com` (`/bigbluebutton/api` is appended when missing). Scalelite cannot change it: a URL naming another server replaces the server, while another spelling of the same one (case of scheme and host, a trailing slash, the `/bigbluebutton/api` suffix) is an in-place update of the spelling only."),
                )
                .attribute(Attribute::string("api_url").computed().use_state_for_unknown().description("The URL Scalelite holds, spelled canonically (scheme and host in lower case, no default port or trailing slash); planned as `url` normalised. A difference replaces the server."))
                .attribute(Attribute::string("secret").optional().sensitive().validate(not_blank()).description("The BBB server's shared secret (`securitySalt`), stored in state. Set exactly one of `secret` and `secret_wo` (preferred)."))
                .attribute(
                    Attribute::string("secret_wo")
                        .optional()
                        .sensitive()
                        .write_only()
                        .validate(not_blank())
                        .description("The BBB server's shared secret, write-only: never stored in plan or state. Needs Terraform 1.11+; sent on create and whenever `secret_wo_version` changes."),
                )
                .attribute(Attribute::number("secret_wo_version").optional().description("Required with `secret_wo`: change it to send `secret_wo` to Scalelite again."))
                .attribute(Attribute::string("state").default("enabled").validate(one_of(STATES)).description("`enabled`, `cordoned` (no new meetings; Scalelite disables it once idle, which still counts as `cordoned`) or `disabled`."))
                .attribute(Attribute::number("load_multiplier").default(1.0).validate(greater_than(0.0)).description("Weight of this server's load; higher takes fewer meetings."))
                .attribute(Attribute::string("tag").optional().validate(not_blank()).description("Scalelite tag, to route tagged meetings to this server."))
                .attribute(Attribute::bool("drain_on_destroy").default(false).description("On destroy, cordon the server and wait until BBB reports no meetings before removing it."))
                .attribute(Attribute::string("drain_timeout").default("1h").validate(duration()).description("Longest wait for meetings to end when draining, as a duration such as `30m` or `2h`."))
                .attribute(Attribute::bool("online").computed().description("Whether Scalelite's poller reaches the server."))
                .attribute(Attribute::number("load").computed().description("Scalelite's load figure; null while unavailable."))
                .attribute(Attribute::string("bbb_version").computed().description("BBB version reported to Scalelite."))
                .block(timeouts::block(&[(Op::Delete, "none beyond `drain_timeout`; when set, it also bounds the drain (the shorter of the two applies)")])),
        )
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        let (secret, secret_wo) = (config.get("secret"), config.get("secret_wo"));
        if !secret.is_null() && !secret_wo.is_null() {
            diags.error_at(
                AttrPath::attr("secret_wo"),
                "Conflicting secrets",
                "Set either secret or secret_wo, not both.",
            );
        }
        if secret.is_null() && secret_wo.is_null() {
            diags.error_at(AttrPath::attr("secret"), "Missing secret", "Set secret_wo (write-only, recommended) or secret: Scalelite needs the BBB server's secret.");
        }
        if !secret_wo.is_null() && config.get("secret_wo_version").is_null() {
            diags.error_at(AttrPath::attr("secret_wo_version"), "Missing secret_wo_version", "secret_wo is write-only: set secret_wo_version too, and change it whenever secret_wo changes.");
        }
    }

    async fn modify_plan(
        &self,
        _: &ProviderData,
        plan: &mut tfplugin_framework::Plan,
        _: &mut Diagnostics,
    ) {
        // The normalised URL is known at plan time.
        let Some(api) = plan
            .planned
            .get("url")
            .as_str()
            .and_then(|url| normalize_bbb_api_url(url).ok())
        else {
            return;
        };
        // Scalelite cannot change a server's URL: when the one it holds is not the API the
        // planned `url` names (e.g. registered without `/bigbluebutton/api`, which Scalelite
        // does not add), only a new registration gets there, even if `url` reads the same.
        // The path is `api_url`, the value that changes: Terraform ignores a replacement path
        // whose prior and planned values are equal.
        let holds = plan
            .prior
            .get("api_url")
            .as_str()
            .map(|held| canonical_registered_url(held).unwrap_or_else(|| held.to_string()));
        let url_replaces = plan.requires_replace.contains(&AttrPath::attr("url"));
        if !url_replaces && holds.is_some_and(|held| held != api) {
            tracing::info!(
                reason = "Scalelite holds another URL than the API `url` names",
                "bbb_scalelite_server: planning a replacement"
            );
            plan.requires_replace.push(AttrPath::attr("api_url"));
        }
        plan.planned.set("api_url", Value::String(api));
    }

    async fn create(&self, data: &ProviderData, req: ApplyRequest) -> Result<Applied, Diagnostics> {
        self.create_or_keep(data, req)
            .await
            .map_err(|failure| failure.diagnostics)
    }

    /// A registration whose wanted state cannot be set is removed again; when that removal
    /// fails too, the registration is kept in state (tainted), so the next apply replaces it
    /// instead of registering the URL a second time.
    async fn create_or_keep(
        &self,
        data: &ProviderData,
        req: ApplyRequest,
    ) -> Result<Applied, CreateFailure> {
        let pool = data.scalelite().await?;
        let mut model: Model = req.planned.decode()?;
        let api_url = normalize_bbb_api_url(&model.url).map_err(|e| {
            Diagnostics::from_error_at(AttrPath::attr("url"), "Invalid url", e.to_string())
        })?;
        // Scalelite accepts duplicates of one URL; a second registration would split load
        // accounting, so an existing one is reported for import instead.
        if let Some(existing) = pool.find_by_url(&api_url).await? {
            return Err(Diagnostics::from_error_at(
                AttrPath::attr("url"),
                "Server already registered in Scalelite",
                format!("{api_url} is already registered as server {}. Import it: terraform import <address> {}", existing.id, existing.id),
            )
            .into());
        }
        let secret = secret_of(&req.config, &model).ok_or_else(|| {
            Diagnostics::from_error_at(
                AttrPath::attr("secret"),
                "Missing secret",
                "No secret was given.",
            )
        })?;
        let new = NewServer {
            url: api_url,
            secret,
            load_multiplier: model.load_multiplier,
            tag: model.tag.clone(),
        };
        let added = pool
            .client()
            .add_server(new)
            .await
            .map_err(|e| scalelite_error("add the server", &e))?;
        pool.invalidate().await;
        // New servers start disabled; set the wanted state, or undo the registration.
        let wanted = model.state.clone().unwrap_or_else(|| "enabled".into());
        let server = match state_change(&wanted).filter(|c| c.resulting_state() != added.state) {
            None => added,
            Some(change) => {
                let update = ServerUpdate {
                    state: Some(change),
                    ..Default::default()
                };
                match pool.client().update_server(&added.id, update).await {
                    Ok(s) => s,
                    Err(e) => {
                        let mut diags =
                            scalelite_error(&format!("set the new server's state to {wanted}"), &e);
                        let Err(undo) = pool.client().delete_server(&added.id).await else {
                            pool.invalidate().await;
                            return Err(diags.into());
                        };
                        diags.error(
                            "Could not undo the registration",
                            format!(
                                "Server {} stays registered in Scalelite (disabled): {undo}. It is kept in \
                                 Terraform's state as tainted, so the next apply replaces it.",
                                added.id
                            ),
                        );
                        model.refresh_from(&added, false);
                        let kept = Applied::new(self.encode(&model.with_defaults())?);
                        return Err(CreateFailure::keeping(kept, diags));
                    }
                }
            }
        };
        model.refresh_from(&server, false);
        Ok(Applied::new(self.encode(&model.with_defaults())?))
    }

    async fn read(
        &self,
        data: &ProviderData,
        current: Applied,
    ) -> Result<Option<Applied>, Diagnostics> {
        let pool = data.scalelite().await?;
        let mut model: Model = current.state.decode()?;
        let Some(id) = model.id.clone() else {
            return Ok(None);
        };
        match pool.find_by_id(&id).await? {
            None => Ok(None),
            Some(server) => {
                model.refresh_from(&server, false);
                Ok(Some(Applied::with_private(
                    self.encode(&model.with_defaults())?,
                    current.private,
                )))
            }
        }
    }

    async fn update(&self, data: &ProviderData, req: ApplyRequest) -> Result<Applied, Diagnostics> {
        let pool = data.scalelite().await?;
        let prior: Model = req.prior.decode()?;
        let mut model: Model = req.planned.decode()?;
        let id = prior.id.clone().unwrap_or_default();
        let mut update = ServerUpdate::default();
        if model.state != prior.state {
            update.state = model.state.as_deref().and_then(state_change);
        }
        if model.load_multiplier != prior.load_multiplier {
            update.load_multiplier = model.load_multiplier;
        }
        if model.tag != prior.tag {
            // An empty tag removes it.
            update.tag = Some(model.tag.clone().unwrap_or_default());
        }
        let wo_sent = !req.config.get("secret_wo").is_null()
            && model.secret_wo_version != prior.secret_wo_version;
        if model.secret != prior.secret || wo_sent {
            update.secret = secret_of(&req.config, &model);
        }
        let server = if update.is_empty() {
            pool.find_by_id(&id).await?
        } else {
            let s = pool
                .client()
                .update_server(&id, update)
                .await
                .map_err(|e| scalelite_error("update the server", &e))?;
            pool.invalidate().await;
            Some(s)
        };
        let server = server.ok_or_else(|| {
            Diagnostics::from_error(
                "Server disappeared",
                format!("Scalelite server {id} was removed outside Terraform during apply."),
            )
        })?;
        model.refresh_from(&server, false);
        Ok(Applied::new(self.encode(&model.with_defaults())?))
    }

    async fn delete(&self, data: &ProviderData, req: ApplyRequest) -> Result<(), Diagnostics> {
        let pool = data.scalelite().await?;
        let model: Model = req.prior.decode()?;
        let Some(id) = model.id.clone() else {
            return Ok(());
        };
        let Some(server) = pool
            .client()
            .get_server(&id)
            .await
            .map_err(|e| scalelite_error("read the server", &e))?
        else {
            return Ok(());
        };
        if model.drain_on_destroy == Some(true) {
            let drain_timeout = model
                .drain_timeout
                .as_deref()
                .and_then(|t| humantime::parse_duration(t).ok())
                .unwrap_or(Duration::from_secs(3600));
            let timeout = Timeouts::get(model.timeouts.as_ref(), Op::Delete)
                .map_or(drain_timeout, |t| t.min(drain_timeout));
            self.drain(data, &server, timeout).await?;
        }
        match pool.client().delete_server(&id).await {
            Ok(()) => {}
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(scalelite_error("remove the server", &e)),
        }
        pool.invalidate().await;
        Ok(())
    }

    /// Warns, when a destroy is planned without a drain, that the server hosts meetings
    /// (Scalelite's load counts the participants of running meetings; breakout rooms alone
    /// read zero).
    async fn plan_destroy(
        &self,
        data: &ProviderData,
        prior: &Value,
        _private: &Private,
        diags: &mut Diagnostics,
    ) {
        let Ok(model) = prior.decode::<Model>() else {
            return;
        };
        if model.drain_on_destroy == Some(true) {
            return;
        }
        let (Some(id), Ok(pool)) = (model.id.as_deref(), data.scalelite().await) else {
            return;
        };
        let Ok(Some(server)) = pool.find_by_id(id).await else {
            return;
        };
        if let Some(load) = server.load.filter(|l| *l > 0.0) {
            diags.warning(
                format!("Meetings are live on {}; drain_on_destroy = false", server.url),
                format!(
                    "Scalelite reports load {load} for server {id}: meetings are running on it. Destroy removes it from Scalelite at once,                      so Scalelite forgets those meetings and a later join or create with the same meeting ID lands on another server (a split room).                      To keep them, set drain_on_destroy = true and apply that before destroying, or end the meetings first."
                ),
            );
        }
    }

    /// Imports by Scalelite ID, or by the server's URL.
    async fn import(&self, data: &ProviderData, id: &str) -> Result<Applied, Diagnostics> {
        let pool = data.scalelite().await?;
        let server = if id.starts_with("http://") || id.starts_with("https://") {
            let api_url = normalize_bbb_api_url(id)
                .map_err(|e| Diagnostics::from_error("Invalid import URL", e.to_string()))?;
            match pool.find_by_url(&api_url).await? {
                Some(server) => Some(server),
                None => pool.find_by_held_url(id).await?,
            }
        } else {
            pool.find_by_id(id).await?
        };
        let server = server.ok_or_else(|| {
            Diagnostics::from_error(
                "Cannot import non-existent server",
                format!("Scalelite has no server with ID or URL {id:?}."),
            )
        })?;
        let mut model = Model {
            url: server.url.clone(),
            ..Default::default()
        };
        model.refresh_from(&server, true);
        Ok(Applied::with_private(
            self.encode(&model.with_defaults())?,
            Private::default(),
        ))
    }
}
