//! Switchboard's use cases, shared by every entry point (API, webhooks, CLI, later the UI and
//! workers). Each use case is one transaction: load what the rule needs, ask the domain,
//! write the result, queue outbound work, commit, then publish to live listeners.
//!
//! Knows the domain and the store; knows nothing of HTTP.

pub mod accounts;
pub mod admin_accounts;
pub mod admin_agents;
pub mod admin_settings;
pub mod audit;
pub mod auth;
pub mod compose;
pub mod contacts;
mod error;
pub mod fields;
pub mod files;
pub mod first_run;
pub mod ingest;
mod ingest_events;
pub mod limiter;
pub mod live;
pub mod macros;
pub mod metrics;
pub mod notifier;
pub mod overview;
pub mod search;
pub mod sessions;
pub mod setup;
pub mod templates;
pub mod tickets;
pub mod views;
pub mod webhooks;
pub mod widget;

use std::sync::Arc;

use switchboard_domain::{Agent, Clock, Workspace};
use switchboard_store::{Db, Tx};
use time::OffsetDateTime;

pub use error::{ServiceError, ServiceResult};
pub use switchboard_store::StoreError;

/// Everything a use case needs: the database, the clock, the group-commit ingest writer and
/// the live bus. Cheap to clone; one per node.
#[derive(Clone)]
pub struct Service {
    db: Db,
    clock: Arc<dyn Clock>,
    ingestor: ingest::Ingestor,
    live: live::LiveBus,
    /// Woken when a message is queued, so the delivery worker sends it at once.
    outbox_signal: Arc<tokio::sync::Notify>,
    /// What the node was configured with (public URL, files folder, platform address override).
    config: Arc<std::sync::RwLock<Config>>,
    /// Failed sign-ins per e-mail and client (the agent UI).
    sign_in_limiter: sessions::SignInLimiter,
    /// Widget visitors' and clients' requests per minute.
    widget_limiter: widget::Limiter,
    /// Failed webhook calls per client address and line (see `webhooks::FAILURES_PER_MINUTE`).
    webhook_failures: limiter::Limiter,
    /// Whose new tickets are, for visitors' streams.
    widget_owners: widget::stream::Owners,
    /// When this node last noted each line's health (written at most every few seconds).
    health_marks: admin_accounts::HealthMarks,
    /// The one-time key of the first-run setup page, while no agent exists.
    first_run: first_run::FirstRunKey,
    /// The node's counters (`GET /metrics`).
    metrics: Arc<metrics::Metrics>,
}

/// A node's configuration that use cases need.
#[derive(Debug, Clone)]
struct Config {
    /// The address platforms and browsers reach this node at (`SWITCHBOARD_PUBLIC_URL`).
    public_url: String,
    /// Where uploaded and fetched files are kept (`SWITCHBOARD_DATA_DIR`/files).
    files_dir: std::path::PathBuf,
    /// Where platform calls go instead of the platforms (`SWITCHBOARD_API_BASE_URL`).
    api_base_override: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            public_url: "http://127.0.0.1:8080".into(),
            files_dir: std::path::PathBuf::from("switchboard-data/files"),
            api_base_override: None,
        }
    }
}

impl Service {
    /// Builds the service and starts its ingest writer on the current Tokio runtime.
    pub fn new(db: Db, clock: Arc<dyn Clock>) -> Self {
        let live = live::LiveBus::start(db.clone());
        let ingestor = ingest::Ingestor::start(db.clone(), clock.clone(), live.clone());
        Self {
            db,
            clock,
            ingestor,
            live,
            outbox_signal: Arc::new(tokio::sync::Notify::new()),
            config: Arc::default(),
            sign_in_limiter: sessions::SignInLimiter::default(),
            widget_limiter: widget::Limiter::default(),
            webhook_failures: limiter::Limiter::default(),
            widget_owners: widget::stream::Owners::default(),
            health_marks: admin_accounts::HealthMarks::default(),
            first_run: first_run::FirstRunKey::default(),
            metrics: Arc::default(),
        }
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    pub fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    pub fn live(&self) -> &live::LiveBus {
        &self.live
    }

    /// The node's counters, for `GET /metrics` and for the workers and routes that count.
    pub fn metrics(&self) -> &Arc<metrics::Metrics> {
        &self.metrics
    }

    /// Sends every line's platform calls to `{base}/{kind}` (the fake platforms, a proxy)
    /// unless the line has its own `api_base_url`.
    pub fn set_api_base_override(&self, base: Option<String>) {
        if let Ok(mut config) = self.config.write() {
            config.api_base_override = base.map(|b| b.trim_end_matches('/').to_owned());
        }
    }

    /// The address platforms and browsers reach this node at; public media links start with it.
    pub fn set_public_url(&self, url: &str) {
        if let Ok(mut config) = self.config.write() {
            config.public_url = url.trim_end_matches('/').to_owned();
        }
    }

    /// Where files are kept on disk.
    pub fn set_files_dir(&self, dir: std::path::PathBuf) {
        if let Ok(mut config) = self.config.write() {
            config.files_dir = dir;
        }
    }

    fn config(&self) -> Config {
        self.config.read().map(|c| c.clone()).unwrap_or_default()
    }

    /// The API address platform calls of `account` go to: its own `api_base_url`, else the
    /// override, else the platform's.
    pub fn api_base(&self, account: &switchboard_domain::ChannelAccount) -> String {
        if let Some(own) = account.api_base_url.as_deref().filter(|u| !u.is_empty()) {
            return own.trim_end_matches('/').to_owned();
        }
        match self.config().api_base_override {
            Some(base) => format!("{base}/{}", account.kind),
            None => switchboard_channels::default_api_base(account.kind).to_owned(),
        }
    }

    /// What the delivery worker waits on between polls.
    pub fn outbox_signal(&self) -> Arc<tokio::sync::Notify> {
        self.outbox_signal.clone()
    }

    async fn begin(&self) -> ServiceResult<Tx> {
        Ok(self.db.begin().await?)
    }
}

/// Who is acting: an authenticated agent of one workspace. Every use case an agent calls
/// takes one, and sees only that workspace.
#[derive(Debug, Clone)]
pub struct Actor {
    pub agent: Agent,
}

impl Actor {
    pub fn workspace(&self) -> switchboard_domain::WorkspaceId {
        self.agent.workspace_id
    }

    pub fn store_actor(&self) -> switchboard_store::events::Actor {
        switchboard_store::events::Actor { kind: switchboard_domain::AuthorKind::Agent, id: Some(self.agent.id.0) }
    }
}

/// `value` trimmed, when it has 1 to `max` characters; otherwise a 422 on `field` saying so.
pub(crate) fn required_text(field: &'static str, value: &str, max: usize) -> ServiceResult<String> {
    let value = value.trim();
    if value.is_empty() || value.chars().count() > max {
        return Err(ServiceError::invalid(field, format!("1 to {max} characters")));
    }
    Ok(value.to_owned())
}

/// `value` trimmed, `None` when blank; a 422 on `field` past `max` characters.
pub(crate) fn optional_text(field: &'static str, value: Option<String>, max: usize) -> ServiceResult<Option<String>> {
    let value = value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    if value.as_ref().is_some_and(|v| v.chars().count() > max) {
        return Err(ServiceError::invalid(field, format!("at most {max} characters")));
    }
    Ok(value)
}

/// A page size within 1 to 100.
pub(crate) fn page_limit(asked: i64) -> i64 {
    asked.clamp(1, 100)
}

/// Cuts what a list query returned — asked for `limit + 1` rows, in the list's order — to the
/// page, and gives the cursor of the next page if that extra row shows there is one. `key` is
/// the row's cursor: its sort key (milliseconds or a rank) and id.
pub(crate) fn page<T>(
    mut rows: Vec<T>,
    limit: i64,
    key: impl Fn(&T) -> (i64, uuid::Uuid),
) -> (Vec<T>, Option<(i64, uuid::Uuid)>) {
    let more = rows.len() as i64 > limit;
    rows.truncate(limit.max(0) as usize);
    let cursor = more.then(|| rows.last().map(&key)).flatten();
    (rows, cursor)
}

/// The workspace a fresh install works in: created on first use.
pub const DEFAULT_WORKSPACE: &str = "Default";

impl Service {
    /// Returns the workspace of that name, creating it with default settings if needed.
    pub async fn ensure_workspace(&self, name: &str) -> ServiceResult<Workspace> {
        let name = name.trim();
        if name.is_empty() {
            return Err(ServiceError::invalid("workspace", "a workspace needs a name"));
        }
        let mut tx = self.begin().await?;
        let ws = switchboard_store::workspaces::get_or_create(&mut tx.conn(), name, self.now()).await?;
        tx.commit().await?;
        Ok(ws)
    }
}
