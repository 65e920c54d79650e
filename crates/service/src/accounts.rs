//! Channel accounts: connecting a line, and finding the one a webhook names.

use switchboard_domain::{ChannelAccount, ChannelAccountId, ChannelKind};
use switchboard_store::accounts::{self, JsonMap, NewChannelAccount};

use crate::{Actor, Service, ServiceError, ServiceResult};

/// What an admin gives to connect a line (DESIGN §9).
#[derive(Debug, Clone)]
pub struct ConnectAccount {
    pub kind: ChannelKind,
    pub name: String,
    pub external_id: String,
    pub secrets: JsonMap,
    pub settings: JsonMap,
    pub api_base_url: Option<String>,
}

impl Service {
    /// Connects a line. Admins only; every secret its kind needs must be given as a non-empty
    /// string.
    pub async fn connect_account(&self, actor: &Actor, input: ConnectAccount) -> ServiceResult<ChannelAccount> {
        actor.require_admin()?;
        let name = input.name.trim();
        if name.is_empty() {
            return Err(ServiceError::invalid("name", "a channel account needs a name"));
        }
        let external_id = input.external_id.trim();
        if external_id.is_empty() {
            return Err(ServiceError::invalid(
                "external_id",
                "the platform's id of the business side is needed (phone_number_id, page id, …)",
            ));
        }
        let missing: Vec<&str> = input
            .kind
            .required_secrets()
            .iter()
            .copied()
            .filter(|s| input.secrets.get(*s).and_then(|v| v.as_str()).is_none_or(str::is_empty))
            .collect();
        if !missing.is_empty() {
            return Err(ServiceError::invalid(
                "secrets",
                format!("a {} account needs the secrets: {}", input.kind, missing.join(", ")),
            ));
        }
        if let Some(url) = &input.api_base_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(ServiceError::invalid("api_base_url", "an address starting with http:// or https://"));
        }
        let new = NewChannelAccount {
            workspace_id: actor.workspace(),
            kind: input.kind,
            name: name.to_owned(),
            external_id: external_id.to_owned(),
            secrets: input.secrets,
            settings: input.settings,
            api_base_url: input.api_base_url,
        };
        let mut tx = self.begin().await?;
        let account = accounts::create(&mut tx.conn(), &new, self.now()).await.map_err(|e| match e {
            switchboard_store::StoreError::Conflict(_) => ServiceError::conflict(
                "account_exists",
                format!("a {} account with external id `{external_id}` is already connected", input.kind),
            ),
            other => other.into(),
        })?;
        // Secret names only: the log never holds a secret.
        let detail = serde_json::json!({
            "kind": account.kind, "name": account.name, "external_id": account.external_id,
            "settings": account.settings, "secrets": new.secrets.keys().collect::<Vec<_>>(),
        });
        crate::audit::write(
            &mut tx.conn(),
            actor,
            "channel_account.created",
            format!("channel_account:{}", account.id),
            detail,
            self.now(),
        )
        .await?;
        tx.commit().await?;
        Ok(account)
    }

    pub async fn list_accounts(&self, actor: &Actor) -> ServiceResult<Vec<ChannelAccount>> {
        let mut pooled = self.db().acquire().await?;
        Ok(accounts::list(&mut pooled.conn(), actor.workspace()).await?)
    }

    pub async fn get_account(&self, actor: &Actor, id: ChannelAccountId) -> ServiceResult<ChannelAccount> {
        let mut pooled = self.db().acquire().await?;
        // A deleted line is gone for its admins; its tickets still name it.
        accounts::get_live(&mut pooled.conn(), actor.workspace(), id)
            .await?
            .map(|(account, _)| account)
            .ok_or(ServiceError::NotFound("channel account"))
    }

    /// The enabled account a webhook names, of the kind its route says, with its secrets.
    /// Any mismatch is "not found": a webhook URL reveals nothing about other accounts.
    pub async fn webhook_account(
        &self,
        kind: ChannelKind,
        id: ChannelAccountId,
    ) -> ServiceResult<(ChannelAccount, JsonMap)> {
        let mut pooled = self.db().acquire().await?;
        accounts::get_with_secrets(&mut pooled.conn(), id)
            .await?
            .filter(|(account, _)| account.kind == kind && account.enabled)
            .ok_or(ServiceError::NotFound("channel account"))
    }
}
