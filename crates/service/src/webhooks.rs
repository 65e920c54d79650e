//! Receiving a platform's webhook, and replaying one kept as a dead letter: authenticate with
//! the account in the URL, parse with the platform's adapter, send each line's events to the
//! line they name, store them in one transaction, answer what the platform expects.

use switchboard_channels::{Answer, ChannelError, LineEvents, Method, WebhookRequest, api};
use switchboard_domain::{ChannelAccount, ChannelAccountId, ChannelKind};
use switchboard_store::accounts::{self, JsonMap};
use switchboard_store::dead_letters;
pub use switchboard_store::dead_letters::{DeadLetter, RawDelivery};

use crate::ingest::{ItemReport, Lines};
use crate::metrics::WebhookOutcome;
use crate::{Actor, Service, ServiceError, ServiceResult};

/// Failed calls (a bad signature, a line that does not exist) one client address may make to
/// one line's webhook per minute; past this it is answered 429 before any work. Only failures
/// count, so a platform's good traffic is never held back — unless its line's secret is wrong,
/// and then it fails anyway. Behind a reverse proxy every caller has the proxy's address.
pub const FAILURES_PER_MINUTE: u32 = 120;

/// What became of a delivery that was authenticated.
enum Handled {
    Stored(Answer),
    /// Kept as a dead letter for this reason; the platform is still answered with success.
    Dead(String),
}

impl Service {
    /// Handles one call of `/webhooks/{kind}/{account_id}`. Nothing from a request that fails
    /// authentication is stored; an authenticated body that cannot be parsed, or an entry for
    /// no known line, is kept as a dead letter and answered with success.
    pub async fn receive_webhook(
        &self,
        kind: ChannelKind,
        account_id: ChannelAccountId,
        delivery: RawDelivery,
        client: &str,
    ) -> ServiceResult<Answer> {
        self.webhook_gate(client, account_id)?;
        let (account, secrets) = self.webhook_account(kind, account_id).await.inspect_err(|_| {
            self.webhook_failed(client, account_id);
        })?;
        let handled = self.handle(&account, &secrets, &delivery).await;
        if matches!(handled, Err(ServiceError::WebhookRefused(_))) {
            self.webhook_failed(client, account_id);
        }
        let mark = match &handled {
            Err(ServiceError::WebhookRefused(_)) => Some(accounts::Mark::SignatureFailed),
            Err(_) => None,
            Ok(_) => Some(accounts::Mark::WebhookReceived),
        };
        if let Some(mark) = mark {
            self.mark_account(account.id, mark).await;
        }
        let outcome = match &handled {
            Err(ServiceError::WebhookRefused(_)) => Some(WebhookOutcome::Refused),
            Err(_) => None,
            Ok(Handled::Stored(_)) => Some(WebhookOutcome::Accepted),
            Ok(Handled::Dead(_)) => Some(WebhookOutcome::DeadLetter),
        };
        if let Some(outcome) = outcome {
            self.metrics().webhook(kind, outcome);
        }
        match handled? {
            Handled::Stored(answer) => Ok(answer),
            Handled::Dead(reason) => {
                tracing::warn!(channel.kind = %kind, channel.account = %account.id, "dead letter: {reason}");
                let mut tx = self.begin().await?;
                dead_letters::insert(
                    &mut tx.conn(),
                    account.workspace_id,
                    account.id,
                    kind,
                    &reason,
                    &delivery,
                    self.now(),
                )
                .await?;
                tx.commit().await?;
                Ok(switchboard_channels::ack(kind))
            }
        }
    }

    /// Handles one call of the generic signed webhook (`/webhooks/api/{account_id}`), for
    /// integrators. Unlike a platform's, a body that does not read is answered 400 with what is
    /// wrong (the caller is a developer who can fix and resend it), not kept as a dead letter.
    pub async fn receive_api_webhook(
        &self,
        account_id: ChannelAccountId,
        signature: Option<&str>,
        body: &[u8],
        client: &str,
    ) -> ServiceResult<Vec<ItemReport>> {
        self.webhook_gate(client, account_id)?;
        let (account, secrets) = self.webhook_account(ChannelKind::Api, account_id).await.inspect_err(|_| {
            self.webhook_failed(client, account_id);
        })?;
        let secret = secrets.get("secret").and_then(|s| s.as_str()).ok_or(ChannelError::MissingSecret("secret"));
        if let Err(e) = secret.and_then(|secret| api::verify(secret, body, signature)) {
            tracing::warn!(channel.account = %account.id, channel.kind = "api", "webhook refused: {e}");
            self.mark_account(account.id, accounts::Mark::SignatureFailed).await;
            self.metrics().webhook(ChannelKind::Api, WebhookOutcome::Refused);
            self.webhook_failed(client, account_id);
            return Err(ServiceError::WebhookRefused(match e {
                ChannelError::MissingSecret(_) => "the channel account cannot verify requests".into(),
                other => other.to_string(),
            }));
        }
        self.mark_account(account.id, accounts::Mark::WebhookReceived).await;
        let items = api::parse(body).map_err(|e| {
            self.metrics().webhook(ChannelKind::Api, WebhookOutcome::Invalid);
            ServiceError::InvalidBody(e.to_string())
        })?;
        let reports = self.ingest(account, items).await?;
        self.metrics().webhook(ChannelKind::Api, WebhookOutcome::Accepted);
        Ok(reports)
    }

    /// Refuses (429) a client that failed too often on this line's webhook this minute.
    pub fn webhook_gate(&self, client: &str, account: ChannelAccountId) -> ServiceResult<()> {
        self.webhook_failures.over(&format!("{client}|{account}"), self.now(), FAILURES_PER_MINUTE)
    }

    /// Counts a failed webhook call (bad signature, unknown line) of `client` on `account`.
    pub fn webhook_failed(&self, client: &str, account: ChannelAccountId) {
        self.webhook_failures.count(&format!("{client}|{account}"), self.now());
    }

    async fn handle(
        &self,
        account: &ChannelAccount,
        secrets: &JsonMap,
        delivery: &RawDelivery,
    ) -> ServiceResult<Handled> {
        let request = WebhookRequest {
            method: if delivery.method.eq_ignore_ascii_case("GET") { Method::Get } else { Method::Post },
            url: &delivery.url,
            query: &delivery.query,
            headers: &delivery.headers,
            body: &delivery.body,
        };
        let parsed = match switchboard_channels::handle(account.kind, &request, secrets) {
            Ok(parsed) => parsed,
            Err(ChannelError::Malformed(reason)) => return Ok(Handled::Dead(reason)),
            Err(refused @ (ChannelError::Unauthenticated(_) | ChannelError::MissingSecret(_))) => {
                tracing::warn!(channel.kind = %account.kind, channel.account = %account.id, "webhook refused: {refused}");
                return Err(ServiceError::WebhookRefused(refused.to_string()));
            }
        };
        let mut lines: Lines = Vec::new();
        let mut unknown = Vec::new();
        for LineEvents { kind, business_id, events } in parsed.lines {
            match self.line_for(account, secrets, kind, business_id.as_deref()).await? {
                Some(line) => lines.push((line, events)),
                None => unknown.push(format!("{kind} {}", business_id.unwrap_or_default())),
            }
        }
        self.ingest_events(lines).await?;
        if unknown.is_empty() {
            Ok(Handled::Stored(parsed.answer))
        } else {
            Ok(Handled::Dead(format!("no connected line for {}", unknown.join(", "))))
        }
    }

    /// The line a group of events belongs to: the one in the URL unless the payload names
    /// another by its platform id. Another line is only trusted if it shares the URL line's
    /// signing secret — that is, the same platform app signed this request for both (one
    /// Meta app for several numbers and pages, one X app for several accounts).
    async fn line_for(
        &self,
        url_line: &ChannelAccount,
        secrets: &JsonMap,
        kind: ChannelKind,
        business_id: Option<&str>,
    ) -> ServiceResult<Option<ChannelAccount>> {
        let Some(business_id) = business_id else { return Ok(Some(url_line.clone())) };
        if kind == url_line.kind && business_id == url_line.external_id {
            return Ok(Some(url_line.clone()));
        }
        let (Some(name), Some(url_secret)) = (
            url_line.kind.signing_secret().filter(|n| Some(*n) == kind.signing_secret()),
            url_line.kind.signing_secret().and_then(|n| secrets.get(n)),
        ) else {
            return Ok(None);
        };
        let mut pooled = self.db().acquire().await?;
        let candidates = accounts::find_by_external_id(&mut pooled.conn(), kind, business_id).await?;
        Ok(candidates.into_iter().find(|(_, theirs)| theirs.get(name) == Some(url_secret)).map(|(line, _)| line))
    }

    /// The workspace's dead letters, newest first (admins only).
    pub async fn list_dead_letters(&self, actor: &Actor, limit: i64) -> ServiceResult<Vec<DeadLetter>> {
        actor.require_admin()?;
        let mut pooled = self.db().acquire().await?;
        Ok(dead_letters::list(&mut pooled.conn(), actor.workspace(), crate::page_limit(limit)).await?)
    }

    /// Runs a dead letter through its adapter again (after a parser fix, or once its line is
    /// connected). Stored events that were already held are ignored, so a replay is safe to
    /// repeat. A letter that still cannot be stored stays, with the reason.
    pub async fn replay_dead_letter(&self, actor: &Actor, id: uuid::Uuid) -> ServiceResult<DeadLetter> {
        actor.require_admin()?;
        let letter = {
            let mut pooled = self.db().acquire().await?;
            dead_letters::get(&mut pooled.conn(), actor.workspace(), id)
                .await?
                .ok_or(ServiceError::NotFound("dead letter"))?
        };
        let (account, secrets) = {
            let mut pooled = self.db().acquire().await?;
            accounts::get_with_secrets(&mut pooled.conn(), letter.channel_account_id)
                .await?
                .ok_or(ServiceError::NotFound("channel account"))?
        };
        let error = match self.handle(&account, &secrets, &letter.delivery).await {
            Ok(Handled::Stored(_)) => None,
            Ok(Handled::Dead(reason)) => Some(reason),
            Err(ServiceError::WebhookRefused(reason)) => Some(format!("refused: {reason}")),
            Err(other) => return Err(other),
        };
        let mut tx = self.begin().await?;
        dead_letters::mark_replayed(&mut tx.conn(), letter.id, error.as_deref(), self.now()).await?;
        let detail = serde_json::json!({"stored": error.is_none(), "error": error});
        crate::audit::write(
            &mut tx.conn(),
            actor,
            "dead_letter.replayed",
            format!("dead_letter:{id}"),
            detail,
            self.now(),
        )
        .await?;
        let letter = dead_letters::get(&mut tx.conn(), actor.workspace(), id)
            .await?
            .ok_or(ServiceError::NotFound("dead letter"))?;
        tx.commit().await?;
        match error {
            None => Ok(letter),
            Some(reason) => Err(ServiceError::conflict(
                "still_unprocessable",
                format!("the delivery still cannot be stored: {reason}"),
            )),
        }
    }
}
