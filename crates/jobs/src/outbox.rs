//! The outbox worker: takes queued replies, sends each through its line's platform, records
//! what happened.
//!
//! A row is claimed (`sending`) in a transaction of its own before the platform is called, and
//! the outcome is written in another one right after. A node that stops between the two leaves
//! the row `sending`; when its lease has run out, the row is **not** sent blindly again — the
//! platform may have accepted it — unless the platform de-duplicates retries by our key (LINE's
//! `X-Line-Retry-Key`). Otherwise the message is marked failed, saying the delivery is uncertain,
//! so that an agent checks before sending it again. Transient failures are retried with
//! exponential back-off and jitter up to a limit; permanent ones fail at once with the
//! platform's code and text, shown on the ticket and written to its event log.

use std::sync::Arc;
use std::time::Duration;

use switchboard_channels::{OutboundMessage, SendOutcome, Target, TemplateSend};
use switchboard_domain::reply_rules::{self, SendContext, SendKind, SendVerdict};
use switchboard_domain::{
    Attachment, ChannelKind, ConversationKind, DeliveryStatus, EventKind, MessageError, MessageId,
};
use switchboard_service::Service;
use switchboard_service::live::{self, LiveEvent, LiveEventKind, Recorded};
use switchboard_service::metrics::SendResult;
use switchboard_store::events::Actor;
use switchboard_store::outbox::OutboxRow;
use switchboard_store::{StoreError, accounts, conversations, events, messages, outbox};
use time::OffsetDateTime;

/// How delivery behaves. The defaults suit production; tests shorten the waits.
#[derive(Debug, Clone)]
pub struct DeliveryConfig {
    /// Attempts before a transiently failing message is given up as failed.
    pub max_attempts: i64,
    /// The first retry waits about this long; each next one twice as long (with jitter).
    pub first_backoff: Duration,
    /// The longest wait between two attempts.
    pub max_backoff: Duration,
    /// How long one platform call may take.
    pub timeout: Duration,
    /// How often the queue is looked at when nothing wakes the worker.
    pub poll: Duration,
    /// A claim older than this belongs to a node that stopped mid-send.
    pub lease: Duration,
    /// This node's name in claims.
    pub worker: String,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        Self {
            max_attempts: 8,
            first_backoff: Duration::from_secs(2),
            max_backoff: Duration::from_secs(600),
            timeout: switchboard_channels::send::SEND_TIMEOUT,
            poll: Duration::from_secs(1),
            lease: Duration::from_secs(120),
            worker: format!("node-{}", uuid::Uuid::now_v7().simple()),
        }
    }
}

/// Kinds whose send API de-duplicates a retried request by our idempotency key.
fn retries_are_idempotent(kind: ChannelKind) -> bool {
    kind == ChannelKind::Line
}

/// The delivery worker of one node.
#[derive(Clone)]
pub struct OutboxWorker {
    service: Service,
    http: reqwest::Client,
    config: Arc<DeliveryConfig>,
    stopping: Arc<std::sync::atomic::AtomicBool>,
}

/// A running worker: stop it to let it finish the message it is sending.
pub struct RunningWorker {
    worker: OutboxWorker,
    task: tokio::task::JoinHandle<()>,
}

impl RunningWorker {
    /// Asks the worker to stop after the message in hand (so no send is cut between the
    /// platform's acceptance and its record), and waits for it, at most `grace`.
    pub async fn stop(self, grace: Duration) {
        self.worker.stopping.store(true, std::sync::atomic::Ordering::SeqCst);
        self.worker.service.outbox_signal().notify_one();
        if tokio::time::timeout(grace, self.task).await.is_err() {
            tracing::warn!("the outbox worker did not stop in time");
        }
    }
}

/// The longest wait a platform may ask for before a retry; longer asks are capped.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(86_400);

impl OutboxWorker {
    pub fn new(service: Service, config: DeliveryConfig) -> Self {
        let http = switchboard_channels::http_client_with_timeout(config.timeout);
        Self { service, http, config: Arc::new(config), stopping: Arc::default() }
    }

    fn stopping(&self) -> bool {
        self.stopping.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Runs until stopped: delivers what is due, then waits for a new message or the next poll.
    pub fn spawn(self) -> RunningWorker {
        let worker = self.clone();
        let task = tokio::spawn(async move {
            let signal = self.service.outbox_signal();
            while !self.stopping() {
                if let Err(e) = self.run_once().await {
                    tracing::error!(error = %e, "outbox delivery failed");
                }
                let _ = tokio::time::timeout(self.config.poll, signal.notified()).await;
            }
        });
        RunningWorker { worker, task }
    }

    /// Recovers stale claims, then sends every row that is due. Returns how many were handled.
    pub async fn run_once(&self) -> Result<usize, StoreError> {
        self.recover_stale().await?;
        let mut handled = 0;
        // One row per claim: a claim's lease then starts when its send does, and a row is never
        // held while others are being sent.
        while !self.stopping() {
            let row = {
                let mut tx = self.service.db().begin().await?;
                let rows = outbox::claim_due(&mut tx.conn(), self.service.now(), &self.config.worker, 1).await?;
                tx.commit().await?;
                rows.into_iter().next()
            };
            let Some(row) = row else { break };
            if let Err(e) = self.deliver(row.clone()).await {
                // Its own trouble, not the queue's: the next rows are still delivered.
                tracing::error!(error = %e, outbox.id = %row.id, "delivering a message failed");
            }
            handled += 1;
        }
        Ok(handled)
    }

    /// Claims whose node stopped mid-send: resent only where the platform de-duplicates.
    async fn recover_stale(&self) -> Result<(), StoreError> {
        let now = self.service.now();
        let cutoff = now - self.config.lease;
        let mut tx = self.service.db().begin().await?;
        let stale = outbox::take_stale(&mut tx.conn(), cutoff, now, &self.config.worker).await?;
        let mut results = Vec::with_capacity(stale.len());
        for row in &stale {
            let kind = accounts::get(&mut tx.conn(), row.workspace_id, row.channel_account_id).await?.map(|a| a.kind);
            if kind.is_some_and(retries_are_idempotent) && !row.reply_token_used {
                let reason = "resumed after the node stopped";
                outbox::retry_at(&mut tx.conn(), row.id, &self.config.worker, row.attempts, now, reason).await?;
                results.push((kind, SendResult::Retried));
            } else {
                results.push((kind, SendResult::Uncertain));
                let error = MessageError {
                    code: "delivery_uncertain".into(),
                    message: "Switchboard stopped while sending this message, so it may or may not have reached the \
                              customer: check the conversation on the platform before sending it again"
                        .into(),
                };
                fail(&mut tx, row, &self.config.worker, &error, row.attempts, now).await?;
            }
        }
        // One record call for all of them: it takes the workspaces' head rows in order.
        let recorded = record_updates(&mut tx, &stale, now).await?;
        tx.commit().await?;
        for (kind, result) in results {
            if let Some(kind) = kind {
                self.service.metrics().send(kind, result);
            }
        }
        self.service.live().publish(recorded);
        Ok(())
    }

    async fn deliver(&self, row: OutboxRow) -> Result<(), StoreError> {
        let now = self.service.now();
        let attempts = row.attempts + 1;
        let prepared = match self.prepare_and_send(&row, now).await {
            Ok(prepared) => prepared,
            Err(e) => {
                // Nothing reached the platform: the row goes back in the queue.
                let mut tx = self.service.db().begin().await?;
                let reason = format!("could not prepare the send: {e}");
                let due = now + self.backoff(attempts);
                outbox::retry_at(&mut tx.conn(), row.id, &self.config.worker, attempts, due, &reason).await?;
                tx.commit().await?;
                return Err(e);
            }
        };
        let (outcome, kind) = match prepared {
            Prepared::Outcome(outcome, kind) => (outcome, kind),
            Prepared::AlreadyDone => {
                let mut tx = self.service.db().begin().await?;
                outbox::finish(&mut tx.conn(), row.id, &self.config.worker, "sent", row.attempts, None).await?;
                return tx.commit().await;
            }
        };
        // Trying again must not send the message twice: after a spent reply token (LINE), or
        // when the platform may have taken it without saying so and does not de-duplicate.
        let unsafe_to_repeat = match &outcome {
            SendOutcome::Transient { .. } => self.used_reply_token(&row).await?,
            SendOutcome::Unconfirmed { .. } => {
                !self.idempotent_line(&row).await? || self.used_reply_token(&row).await?
            }
            _ => false,
        };
        let outcome = match outcome {
            SendOutcome::Unconfirmed { reason } if !unsafe_to_repeat => SendOutcome::transient(reason),
            other => other,
        };
        let mut tx = self.service.db().begin().await?;
        let result = match outcome {
            SendOutcome::Accepted { platform_message_id } => {
                if !outbox::finish(&mut tx.conn(), row.id, &self.config.worker, "sent", attempts, None).await? {
                    // Another node took the row over meanwhile and has said what became of it.
                    tracing::warn!(outbox.id = %row.id, "a send finished after its claim was taken over");
                    return Ok(());
                }
                if let Some(id) = platform_message_id.as_deref() {
                    messages::absorb_echo(&mut tx.conn(), row.channel_account_id, id, row.message_id).await?;
                }
                messages::set_sent(&mut tx.conn(), row.message_id, platform_message_id.as_deref()).await?;
                if let Some((ticket, data)) = self.sent_event(&mut tx, &row, platform_message_id).await? {
                    events::insert(
                        &mut tx.conn(),
                        row.workspace_id,
                        ticket,
                        EventKind::MessageSent,
                        Actor::SYSTEM,
                        data,
                        now,
                    )
                    .await?;
                }
                SendResult::Sent
            }
            SendOutcome::Permanent { code, message } => {
                fail(&mut tx, &row, &self.config.worker, &MessageError { code, message }, attempts, now).await?;
                SendResult::Failed
            }
            // Safe unconfirmed sends were turned into transient ones above.
            SendOutcome::Unconfirmed { .. } => {
                fail(&mut tx, &row, &self.config.worker, &uncertain(), attempts, now).await?;
                SendResult::Uncertain
            }
            SendOutcome::Transient { .. } if unsafe_to_repeat => {
                fail(&mut tx, &row, &self.config.worker, &uncertain(), attempts, now).await?;
                SendResult::Uncertain
            }
            SendOutcome::Transient { reason, retry_after } => {
                if attempts >= self.config.max_attempts {
                    let error = MessageError {
                        code: "gave_up".into(),
                        message: format!("the platform kept failing ({attempts} attempts); last: {reason}"),
                    };
                    fail(&mut tx, &row, &self.config.worker, &error, attempts, now).await?;
                    SendResult::Failed
                } else {
                    let wait = retry_after.unwrap_or_else(|| self.backoff(attempts)).min(MAX_RETRY_AFTER);
                    let due = now.checked_add(wait.try_into().unwrap_or(time::Duration::DAY)).unwrap_or(now);
                    outbox::retry_at(&mut tx.conn(), row.id, &self.config.worker, attempts, due, &reason).await?;
                    SendResult::Retried
                }
            }
        };
        let recorded = record_updates(&mut tx, std::slice::from_ref(&row), now).await?;
        tx.commit().await?;
        if let Some(kind) = kind {
            self.service.metrics().send(kind, result);
        }
        self.service.live().publish(recorded);
        Ok(())
    }

    /// Whether the row's line de-duplicates a repeated send by our key.
    async fn idempotent_line(&self, row: &OutboxRow) -> Result<bool, StoreError> {
        let mut pooled = self.service.db().acquire().await?;
        let account = accounts::get(&mut pooled.conn(), row.workspace_id, row.channel_account_id).await?;
        Ok(account.is_some_and(|a| retries_are_idempotent(a.kind)))
    }

    /// Whether this attempt used a reply token (recorded on the row just before the call).
    async fn used_reply_token(&self, row: &OutboxRow) -> Result<bool, StoreError> {
        let mut pooled = self.service.db().acquire().await?;
        outbox::reply_token_used(&mut pooled.conn(), row.id).await
    }

    /// Exponential back-off with ±25 % jitter, so that many failing sends do not retry in step.
    fn backoff(&self, attempts: i64) -> Duration {
        let exp = u32::try_from(attempts.clamp(1, 30) - 1).unwrap_or(0);
        let base = self.config.first_backoff.saturating_mul(2u32.saturating_pow(exp)).min(self.config.max_backoff);
        let mut byte = [0u8; 1];
        let _ = getrandom::fill(&mut byte);
        let factor = 0.75 + f64::from(byte[0]) / 255.0 * 0.5;
        base.mul_f64(factor)
    }

    /// "sent to <channel> via <account>", for the ticket's event log.
    async fn sent_event(
        &self,
        tx: &mut switchboard_store::Tx,
        row: &OutboxRow,
        platform_message_id: Option<String>,
    ) -> Result<Option<(switchboard_domain::TicketId, serde_json::Value)>, StoreError> {
        let Some(message) = messages::outgoing(&mut tx.conn(), row.message_id).await? else { return Ok(None) };
        let Some(ticket) = message.ticket_id else { return Ok(None) };
        let account = accounts::get(&mut tx.conn(), row.workspace_id, row.channel_account_id).await?;
        let (channel, name) = account.map(|a| (a.kind.as_str().to_owned(), a.name)).unwrap_or_default();
        Ok(Some((
            ticket.into(),
            serde_json::json!({
                "message_id": row.message_id,
                "channel": channel,
                "account": name,
                "platform_message_id": platform_message_id,
                "text": format!("sent to {channel} via {name}"),
            }),
        )))
    }
}

enum Prepared {
    /// What the platform answered, or why the send was not made, and the line's kind if known.
    Outcome(SendOutcome, Option<ChannelKind>),
    /// The message is no longer queued (a duplicate row): nothing to send.
    AlreadyDone,
}

impl OutboxWorker {
    /// Loads what the send needs, checks the reply rules again (time has passed since the
    /// message was queued), and calls the platform.
    async fn prepare_and_send(&self, row: &OutboxRow, now: OffsetDateTime) -> Result<Prepared, StoreError> {
        let mut pooled = self.service.db().acquire().await?;
        let mut conn = pooled.conn();
        let Some(message) = messages::outgoing(&mut conn, row.message_id).await? else {
            return Ok(Prepared::AlreadyDone);
        };
        if message.delivery_status.as_deref() != Some(DeliveryStatus::Queued.as_str()) {
            return Ok(Prepared::AlreadyDone);
        }
        let Some((account, secrets)) = accounts::get_with_secrets(&mut conn, row.channel_account_id).await? else {
            let gone = SendOutcome::permanent("line_gone", "the channel account no longer exists");
            return Ok(Prepared::Outcome(gone, None));
        };
        let Some(conversation) =
            conversations::get(&mut conn, row.workspace_id, message.conversation_id.into()).await?
        else {
            let gone = SendOutcome::permanent("conversation_gone", "the conversation no longer exists");
            return Ok(Prepared::Outcome(gone, Some(account.kind)));
        };
        let template: Option<serde_json::Value> =
            message.template.as_deref().and_then(|t| serde_json::from_str(t).ok());
        let attachments: Vec<Attachment> = serde_json::from_str(&message.attachments).unwrap_or_default();

        let private_comment = match message.private_reply_to {
            Some(comment) => messages::platform_id(&mut conn, MessageId(comment)).await?,
            None => None,
        };
        let kind = match (&template, message.private_reply_to) {
            (Some(_), _) => SendKind::Template,
            (None, Some(_)) => SendKind::PrivateReply { already_used: false, comment_at: now },
            (None, None) => SendKind::FreeForm,
        };
        // A private reply was checked when it was written; the commenter's direct conversation
        // is where it is stored, so the public thread's rules do not apply to it here.
        let tag = if message.private_reply_to.is_some() {
            None
        } else {
            let ctx = SendContext {
                channel: account.kind,
                conversation: conversation.kind,
                last_inbound_at: conversation.last_inbound_at,
                now,
                sent_since_last_inbound: messages::outbound_since(
                    &mut conn,
                    conversation.id,
                    conversation.last_inbound_at,
                )
                .await?
                .saturating_sub(1),
            };
            match reply_rules::can_send(&ctx, kind) {
                SendVerdict::Allowed => None,
                SendVerdict::AllowedWithTag(tag) => Some(tag),
                SendVerdict::Refused(refusal) => {
                    let refused = SendOutcome::permanent(refusal.code(), refusal.message());
                    return Ok(Prepared::Outcome(refused, Some(account.kind)));
                }
            }
        };
        let reply_to = match &message.reply_to {
            Some(r) => Some(r.clone()),
            None => match message.ticket_id {
                Some(t) => messages::latest_inbound_platform_id(&mut conn, t.into()).await?,
                None => None,
            },
        };
        let reply_token = if account.kind == ChannelKind::Line && conversation.kind == ConversationKind::Direct {
            conversations::reply_token(&mut conn, conversation.id, now).await?
        } else {
            None
        };
        drop(pooled);

        let target = match (&private_comment, conversation.kind) {
            (Some(comment), _) => Target::PrivateReply { comment },
            (None, ConversationKind::Direct) => Target::Direct { recipient: &conversation.thread_key },
            (None, ConversationKind::Public) if matches!(account.kind, ChannelKind::Line | ChannelKind::Telegram) => {
                Target::Group { chat: &conversation.thread_key }
            }
            (None, ConversationKind::Public) => match &reply_to {
                Some(id) => Target::PublicReply { reply_to: id },
                None => {
                    let nothing =
                        SendOutcome::permanent("nothing_to_reply_to", "this public thread has no comment to reply to");
                    return Ok(Prepared::Outcome(nothing, Some(account.kind)));
                }
            },
        };
        let parameters: Vec<String> = template
            .as_ref()
            .and_then(|t| t.get("parameters"))
            .and_then(|p| serde_json::from_value(p.clone()).ok())
            .unwrap_or_default();
        let template_send = template.as_ref().map(|t| TemplateSend {
            name: t.get("name").and_then(|v| v.as_str()).unwrap_or_default(),
            language: t.get("language").and_then(|v| v.as_str()).unwrap_or_default(),
            parameters: &parameters,
        });
        let api_base = self.service.api_base(&account);
        let key = row.id.to_string();
        let outbound = OutboundMessage {
            kind: account.kind,
            business_id: &account.external_id,
            secrets: &secrets,
            api_base_url: &api_base,
            target,
            body: message.body.as_deref(),
            attachments: &attachments,
            template: template_send,
            tag,
            reply_token: reply_token.as_deref(),
            idempotency_key: &key,
        };
        if reply_token.is_some() {
            // A reply token is good for one message, and a send that used it cannot be repeated
            // safely: both are recorded before the platform is called.
            let mut tx = self.service.db().begin().await?;
            conversations::clear_reply_token(&mut tx.conn(), conversation.id).await?;
            outbox::mark_reply_token_used(&mut tx.conn(), row.id).await?;
            tx.commit().await?;
        }
        let outcome = switchboard_channels::send(&self.http, &outbound).await;
        Ok(Prepared::Outcome(outcome, Some(account.kind)))
    }
}

/// The failure of a send that may or may not have reached the customer.
fn uncertain() -> MessageError {
    MessageError {
        code: "delivery_uncertain".into(),
        message: "the platform did not confirm this message, so it may or may not have reached the customer: \
                  check the conversation on the platform before sending it again"
            .into(),
    }
}

/// Marks the message failed with the platform's error, ends the outbox row, and writes the
/// failure to the ticket's event log.
/// Tells agents watching live that the messages' tickets changed (their delivery state did),
/// in the transaction that changed them.
async fn record_updates(
    tx: &mut switchboard_store::Tx,
    rows: &[OutboxRow],
    now: OffsetDateTime,
) -> Result<Recorded, StoreError> {
    let mut changed = Vec::with_capacity(rows.len());
    for row in rows {
        if let Some(ticket) = messages::outgoing(&mut tx.conn(), row.message_id).await?.and_then(|m| m.ticket_id) {
            let ticket_id = ticket.into();
            changed.push(LiveEvent { workspace_id: row.workspace_id, kind: LiveEventKind::TicketUpdated, ticket_id });
        }
    }
    live::record(&mut tx.conn(), now, &changed).await
}

async fn fail(
    tx: &mut switchboard_store::Tx,
    row: &OutboxRow,
    worker: &str,
    error: &MessageError,
    attempts: i64,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    if !outbox::finish(&mut tx.conn(), row.id, worker, "failed", attempts, Some(&error.message)).await? {
        // Another node took the row over meanwhile: what it says stands.
        return Ok(());
    }
    messages::set_delivery(&mut tx.conn(), row.message_id, DeliveryStatus::Failed, Some(error)).await?;
    if let Some(ticket) = messages::outgoing(&mut tx.conn(), row.message_id).await?.and_then(|m| m.ticket_id) {
        let data = serde_json::json!({"message_id": row.message_id, "code": error.code, "error": error.message});
        events::insert(
            &mut tx.conn(),
            row.workspace_id,
            ticket.into(),
            EventKind::DeliveryFailed,
            Actor::SYSTEM,
            data,
            now,
        )
        .await?;
    }
    Ok(())
}
