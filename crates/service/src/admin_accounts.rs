//! Administering connected lines: changing a line's name, settings and secrets, disabling and
//! deleting it (its tickets stay), and how it is doing (webhooks, signature failures, send
//! errors, dead letters). Every change is audited.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use switchboard_domain::{ChannelAccount, ChannelAccountId, ChannelKind};
pub use switchboard_store::accounts::Health;
pub use switchboard_store::accounts::Mark;
use switchboard_store::accounts::{self, JsonMap};
use switchboard_store::dead_letters;
pub use switchboard_store::dead_letters::DeadLetter;

use crate::{Actor, Service, ServiceError, ServiceResult, audit};

/// What an admin changes of a line. Settings are merged key by key (`null` removes a key);
/// secrets are replaced one by one and never read back (an empty value leaves one as it is).
#[derive(Debug, Clone, Default)]
pub struct AccountPatch {
    pub name: Option<String>,
    pub settings: JsonMap,
    pub secrets: JsonMap,
    pub enabled: Option<bool>,
}

/// How often one node writes a line's health marks at most: a busy line receives thousands
/// of webhooks a second, and the page needs only "about when".
const MARK_EVERY: Duration = Duration::from_secs(5);

/// The health marks this node wrote last, to write each at most every [`MARK_EVERY`].
#[derive(Clone, Default)]
pub(crate) struct HealthMarks(Arc<Mutex<HashMap<(ChannelAccountId, Mark), Instant>>>);

impl HealthMarks {
    fn due(&self, id: ChannelAccountId, mark: Mark) -> bool {
        let Ok(mut seen) = self.0.lock() else { return false };
        let now = Instant::now();
        match seen.get(&(id, mark)) {
            Some(at) if now.duration_since(*at) < MARK_EVERY => false,
            _ => {
                seen.insert((id, mark), now);
                true
            }
        }
    }
}

/// Settings the website widget reads, with the type each must have.
fn check_widget_setting(key: &str, value: &serde_json::Value) -> ServiceResult<()> {
    let ok = match key {
        "tickets_space" | "require_verification" => value.is_boolean(),
        "allowed_origins" => value.as_array().is_some_and(|a| a.iter().all(serde_json::Value::is_string)),
        _ => true,
    };
    if ok { Ok(()) } else { Err(ServiceError::invalid("settings", format!("`{key}` has the wrong type"))) }
}

impl Service {
    /// Changes a line (admins only).
    pub async fn update_account(
        &self,
        actor: &Actor,
        id: ChannelAccountId,
        patch: AccountPatch,
    ) -> ServiceResult<ChannelAccount> {
        actor.require_admin()?;
        let mut tx = self.begin().await?;
        let mut conn = tx.conn();
        let (mut account, mut secrets) = accounts::get_live(&mut conn, actor.workspace(), id)
            .await?
            .ok_or(ServiceError::NotFound("channel account"))?;
        let mut detail = serde_json::Map::new();
        if let Some(name) = patch.name {
            let name = name.trim();
            if name.is_empty() {
                return Err(ServiceError::invalid("name", "a channel account needs a name"));
            }
            if name != account.name {
                detail.insert("name".into(), name.into());
                account.name = name.to_owned();
            }
        }
        for (key, value) in patch.settings {
            if account.kind == ChannelKind::Widget && !value.is_null() {
                check_widget_setting(&key, &value)?;
            }
            if account.settings.get(&key) != Some(&value) {
                detail.insert(format!("settings.{key}"), value.clone());
                if value.is_null() {
                    account.settings.remove(&key);
                } else {
                    account.settings.insert(key, value);
                }
            }
        }
        let mut replaced = Vec::new();
        for (key, value) in patch.secrets {
            let Some(text) = value.as_str() else {
                return Err(ServiceError::invalid("secrets", format!("`{key}` must be a string")));
            };
            if text.is_empty() {
                continue;
            }
            secrets.insert(key.clone(), value);
            replaced.push(key);
        }
        if !replaced.is_empty() {
            // Names only: the log never holds a secret.
            detail.insert("secrets_replaced".into(), replaced.into());
        }
        if let Some(enabled) = patch.enabled
            && enabled != account.enabled
        {
            detail.insert("enabled".into(), enabled.into());
            account.enabled = enabled;
        }
        if !detail.is_empty() {
            accounts::update(&mut conn, &account, &secrets).await?;
            let target = format!("channel_account:{}", account.id);
            audit::write(&mut conn, actor, "channel_account.updated", target, detail.into(), self.now()).await?;
        }
        tx.commit().await?;
        Ok(account)
    }

    /// Deletes a line: it takes no more webhooks and sends nothing, its tickets and their
    /// conversations stay (admins only).
    pub async fn delete_account(&self, actor: &Actor, id: ChannelAccountId) -> ServiceResult<()> {
        actor.require_admin()?;
        let mut tx = self.begin().await?;
        let mut conn = tx.conn();
        let (account, _) = accounts::get_live(&mut conn, actor.workspace(), id)
            .await?
            .ok_or(ServiceError::NotFound("channel account"))?;
        accounts::soft_delete(&mut conn, actor.workspace(), id, self.now()).await?;
        let detail =
            serde_json::json!({"kind": account.kind, "name": account.name, "external_id": account.external_id});
        audit::write(&mut conn, actor, "channel_account.deleted", format!("channel_account:{id}"), detail, self.now())
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// How a line is doing, with its latest dead letters (admins only).
    pub async fn account_health(
        &self,
        actor: &Actor,
        id: ChannelAccountId,
    ) -> ServiceResult<(ChannelAccount, Health, Vec<DeadLetter>)> {
        actor.require_admin()?;
        let mut pooled = self.db().acquire().await?;
        let mut conn = pooled.conn();
        let (account, _) = accounts::get_live(&mut conn, actor.workspace(), id)
            .await?
            .ok_or(ServiceError::NotFound("channel account"))?;
        let health = accounts::health(&mut conn, actor.workspace(), id).await?;
        let letters = dead_letters::list_for_account(&mut conn, actor.workspace(), id, 20).await?;
        Ok((account, health, letters))
    }

    /// Notes on the line that a webhook came, or that its signature was refused. Written at
    /// most every few seconds per line and node, outside the ingest transaction; a failure
    /// to write is logged, never the webhook's failure.
    pub async fn mark_account(&self, id: ChannelAccountId, mark: Mark) {
        if !self.health_marks.due(id, mark) {
            return;
        }
        let result = async {
            let mut tx = self.begin().await?;
            accounts::mark(&mut tx.conn(), id, mark, self.now()).await?;
            tx.commit().await?;
            Ok::<_, ServiceError>(())
        }
        .await;
        if let Err(err) = result {
            tracing::warn!(channel.account = %id, error = %err, "could not note the line's health");
        }
    }
}
