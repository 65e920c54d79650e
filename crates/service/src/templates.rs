//! The WhatsApp templates of a line: made here (as the platform has them approved) or synced.

use switchboard_domain::{ChannelAccountId, ChannelKind, template};
pub use switchboard_store::templates::TemplateRow;
use switchboard_store::templates::{self, NewTemplate};

use crate::{Actor, Service, ServiceError, ServiceResult};

/// A template an admin registers.
#[derive(Debug, Clone)]
pub struct TemplateInput {
    pub name: String,
    pub language: String,
    pub category: String,
    pub body: String,
}

const CATEGORIES: [&str; 3] = ["MARKETING", "UTILITY", "AUTHENTICATION"];

impl Service {
    pub async fn list_templates(&self, actor: &Actor, account: ChannelAccountId) -> ServiceResult<Vec<TemplateRow>> {
        self.get_account(actor, account).await?;
        let mut pooled = self.db().acquire().await?;
        Ok(templates::list(&mut pooled.conn(), actor.workspace(), account).await?)
    }

    /// Registers (or updates) a template of a WhatsApp line (admins only). Its body's
    /// placeholders must be numbered `{{1}}`, `{{2}}`… without gaps.
    pub async fn save_template(
        &self,
        actor: &Actor,
        account: ChannelAccountId,
        input: TemplateInput,
    ) -> ServiceResult<TemplateRow> {
        actor.require_admin()?;
        let line = self.get_account(actor, account).await?;
        if line.kind != ChannelKind::Whatsapp {
            return Err(ServiceError::invalid("kind", format!("{} has no message templates", line.kind)));
        }
        let name = input.name.trim();
        let valid_name = !name.is_empty()
            && name.len() <= 512
            && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !valid_name {
            return Err(ServiceError::invalid("name", "lowercase letters, digits and _ (as WhatsApp names templates)"));
        }
        let language = input.language.trim();
        if language.is_empty() || language.len() > 15 {
            return Err(ServiceError::invalid("language", "a language code such as en_US"));
        }
        let category = input.category.trim().to_uppercase();
        if !CATEGORIES.contains(&category.as_str()) {
            return Err(ServiceError::invalid("category", "MARKETING, UTILITY or AUTHENTICATION"));
        }
        if input.body.trim().is_empty() || input.body.chars().count() > 1024 {
            return Err(ServiceError::invalid("body", "a template body has 1 to 1024 characters"));
        }
        template::placeholder_count(&input.body)?;
        let new = NewTemplate { name, language, category: &category, body: &input.body, status: "local" };
        let mut tx = self.begin().await?;
        let row = templates::upsert(&mut tx.conn(), actor.workspace(), account, &new, self.now()).await?;
        let detail = serde_json::json!({"channel_account_id": account, "name": name, "language": language});
        crate::audit::write(
            &mut tx.conn(),
            actor,
            "template.saved",
            format!("template:{}", row.id),
            detail,
            self.now(),
        )
        .await?;
        tx.commit().await?;
        Ok(row)
    }
}

impl Service {
    /// Reads the line's templates from WhatsApp (its `settings.waba_id` names the Business
    /// Account) and stores them with the platform's status (admins only).
    pub async fn sync_templates(&self, actor: &Actor, account: ChannelAccountId) -> ServiceResult<Vec<TemplateRow>> {
        actor.require_admin()?;
        let line = self.get_account(actor, account).await?;
        if line.kind != ChannelKind::Whatsapp {
            return Err(ServiceError::invalid("kind", format!("{} has no message templates", line.kind)));
        }
        let waba_id =
            line.settings.get("waba_id").and_then(|v| v.as_str()).filter(|v| !v.is_empty()).ok_or_else(|| {
                ServiceError::invalid(
                    "settings.waba_id",
                    "set the WhatsApp Business Account id of this line to sync its templates",
                )
            })?;
        let (_, secrets) = self.webhook_account(line.kind, line.id).await?;
        let token = secrets.get("access_token").and_then(|v| v.as_str()).unwrap_or_default();
        let http = switchboard_channels::http_client();
        let remote = switchboard_channels::template_sync::fetch(&http, &self.api_base(&line), waba_id, token)
            .await
            .map_err(|outcome| match outcome {
                switchboard_channels::SendOutcome::Permanent { code, message } => ServiceError::conflict(
                    "platform_refused",
                    format!("WhatsApp refused the template list ({code}): {message}"),
                ),
                switchboard_channels::SendOutcome::Transient { reason, .. }
                | switchboard_channels::SendOutcome::Unconfirmed { reason } => ServiceError::conflict(
                    "platform_unavailable",
                    format!("WhatsApp did not answer; try again ({reason})"),
                ),
                switchboard_channels::SendOutcome::Accepted { .. } => {
                    ServiceError::conflict("platform_unavailable", "unexpected answer")
                }
            })?;
        let now = self.now();
        let mut tx = self.begin().await?;
        for t in &remote {
            // A template whose placeholders we cannot read is kept out rather than half-used.
            if template::placeholder_count(&t.body).is_err() {
                continue;
            }
            let new = NewTemplate {
                name: &t.name,
                language: &t.language,
                category: &t.category,
                body: &t.body,
                status: &t.status,
            };
            templates::upsert(&mut tx.conn(), actor.workspace(), account, &new, now).await?;
        }
        let all = templates::list(&mut tx.conn(), actor.workspace(), account).await?;
        let detail = serde_json::json!({"templates": remote.len()});
        crate::audit::write(
            &mut tx.conn(),
            actor,
            "templates.synced",
            format!("channel_account:{account}"),
            detail,
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(all)
    }
}
