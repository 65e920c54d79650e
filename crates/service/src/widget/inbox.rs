//! What the visitor reads and writes in the messenger: their conversations, the tickets shared
//! with them (one per conversation: its live ticket, else its newest), badges, sending and
//! reading.
//!
//! Badges follow DESIGN §6: an agent message the customer has not read badges Messages; a
//! ticket created, or whose state *as the customer sees it* changed (active ↔ resolved), since
//! they last read its conversation badges Tickets. An agent's reply that only moves new → open
//! is a message, not a ticket change. Reading the conversation clears both.

use std::collections::HashMap;

use switchboard_domain::{
    ConversationId, ConversationKind, CustomerStatus, InboundItem, InboundSender, ThreadRef, TicketId, TicketStatus,
};
use switchboard_store::{conversations, messages, widget};
use time::OffsetDateTime;
use uuid::Uuid;

use super::WidgetVisitor;
use crate::live::{LiveEvent, LiveEventKind, record};
use crate::{Service, ServiceError, ServiceResult};

/// The longest message a visitor may send, in characters.
pub const MAX_MESSAGE_CHARS: usize = 5000;
/// How many tickets the Home space's card shows at most.
pub const RECENT_TICKETS: usize = 3;

/// A ticket as the customer sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WidgetTicket {
    pub id: TicketId,
    pub number: i64,
    pub conversation_id: ConversationId,
    /// The subject, else the conversation's first line.
    pub title: String,
    pub state: CustomerStatus,
    /// When it last changed.
    pub updated_at: OffsetDateTime,
    /// Created, or its state changed, since the customer last read its conversation.
    pub unread: bool,
}

/// One of the customer's conversations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WidgetConversation {
    pub id: ConversationId,
    pub ticket: Option<WidgetTicket>,
    /// The last thing said, for the list.
    pub preview: Option<String>,
    pub last_activity_at: OffsetDateTime,
    /// Agent messages the customer has not read.
    pub unread: i64,
    /// The shared ticket is resolved: the conversation can be viewed, not written to (a new
    /// message starts a new conversation).
    pub read_only: bool,
}

/// Everything the messenger shows, computed at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WidgetOverview {
    pub verified: bool,
    /// The admin left the Tickets space on.
    pub tickets_space: bool,
    /// Newest activity first.
    pub conversations: Vec<WidgetConversation>,
    /// Newest activity first; empty when the space is off.
    pub tickets: Vec<WidgetTicket>,
    /// Up to three unresolved tickets, newest first; empty when the space is off.
    pub recent_tickets: Vec<WidgetTicket>,
    /// Conversations with unread agent messages.
    pub messages_badge: i64,
    /// Tickets created or changed since read; 0 when the space is off.
    pub tickets_badge: i64,
}

impl WidgetOverview {
    /// The Tickets space appears only to a customer with at least one ticket.
    pub fn show_tickets(&self) -> bool {
        self.tickets_space && !self.tickets.is_empty()
    }
}

/// A message as the customer sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WidgetMessage {
    pub id: Uuid,
    /// Written by the customer (else by the team).
    pub from_customer: bool,
    pub agent_name: Option<String>,
    pub body: Option<String>,
    /// For the customer's own messages: always delivered; for the team's: delivered or read.
    pub status: Option<switchboard_domain::DeliveryStatus>,
    pub created_at: OffsetDateTime,
}

/// One conversation opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WidgetThread {
    pub conversation: WidgetConversation,
    pub messages: Vec<WidgetMessage>,
}

impl Service {
    /// The visitor's conversations, tickets and badges.
    pub async fn widget_overview(&self, visitor: &WidgetVisitor) -> ServiceResult<WidgetOverview> {
        let mut pooled = self.db().acquire().await?;
        let mut conn = pooled.conn();
        let conversations = load_conversations(&mut conn, visitor).await?;
        let on = visitor.settings.tickets_space;
        let mut tickets: Vec<WidgetTicket> =
            if on { conversations.iter().filter_map(|c| c.ticket.clone()).collect() } else { Vec::new() };
        tickets.sort_by(|a, b| b.updated_at.cmp(&a.updated_at).then(b.id.0.cmp(&a.id.0)));
        let recent_tickets =
            tickets.iter().filter(|t| t.state == CustomerStatus::Active).take(RECENT_TICKETS).cloned().collect();
        Ok(WidgetOverview {
            verified: visitor.verified(),
            tickets_space: on,
            messages_badge: conversations.iter().filter(|c| c.unread > 0).count() as i64,
            tickets_badge: tickets.iter().filter(|t| t.unread).count() as i64,
            conversations,
            tickets,
            recent_tickets,
        })
    }

    /// One of the visitor's conversations with its messages; anyone else's is not found.
    pub async fn widget_thread(&self, visitor: &WidgetVisitor, id: ConversationId) -> ServiceResult<WidgetThread> {
        let mut pooled = self.db().acquire().await?;
        let mut conn = pooled.conn();
        let conversation = own_conversation(&mut conn, visitor, id).await?;
        let messages = widget::messages(&mut conn, visitor.account.workspace_id, id)
            .await?
            .into_iter()
            .map(|m| WidgetMessage {
                id: m.id,
                from_customer: m.direction == "inbound",
                agent_name: m.agent_name,
                body: m.body,
                status: if m.direction == "inbound" {
                    Some(switchboard_domain::DeliveryStatus::Delivered)
                } else {
                    m.delivery_status
                },
                created_at: m.created_at,
            })
            .collect();
        Ok(WidgetThread { conversation, messages })
    }

    /// The visitor writes: into one of their conversations, or (`None`) a new one. It is
    /// ingested like any channel's message — routing, tickets, tags and live events are the
    /// same — and answers with the conversation it landed in. `client` is the caller's
    /// address, for the rate limit.
    pub async fn widget_send(
        &self,
        visitor: &WidgetVisitor,
        conversation: Option<ConversationId>,
        body: &str,
        client: &str,
    ) -> ServiceResult<WidgetThread> {
        let body = body.trim();
        if body.is_empty() {
            return Err(ServiceError::invalid("body", "write a message"));
        }
        if body.chars().count() > MAX_MESSAGE_CHARS {
            return Err(ServiceError::invalid(
                "body",
                format!("a message holds at most {MAX_MESSAGE_CHARS} characters"),
            ));
        }
        if visitor.settings.require_verification && !visitor.verified() {
            return Err(ServiceError::Denied {
                code: "verification_required",
                message: "this site lets only signed-in users write".into(),
            });
        }
        let now = self.now();
        self.widget_limiter.check(&format!("send|{}", visitor.id), now, super::MESSAGES_PER_MINUTE)?;
        self.widget_limiter.check(&format!("send-client|{client}"), now, super::MESSAGES_PER_MINUTE_PER_CLIENT)?;
        let key = match conversation {
            Some(id) => {
                let mut pooled = self.db().acquire().await?;
                let mut conn = pooled.conn();
                let own = own_conversation(&mut conn, visitor, id).await?;
                if own.read_only {
                    return Err(ServiceError::conflict(
                        "conversation_resolved",
                        "this conversation is resolved; send a new message to start another",
                    ));
                }
                conversations::get(&mut conn, visitor.account.workspace_id, id)
                    .await?
                    .ok_or(ServiceError::NotFound("conversation"))?
                    .thread_key
            }
            // A new conversation of the same visitor: its own thread on the line.
            None => format!("c_{}", Uuid::now_v7()),
        };
        let item = InboundItem {
            platform_message_id: format!("w_{}", Uuid::now_v7()),
            sender: InboundSender {
                external_id: visitor.external_id.clone(),
                // Agents tell anonymous visitors apart by a short name until they give theirs.
                name: (!visitor.verified()).then(|| visitor.display_name()),
                ..Default::default()
            },
            thread: ThreadRef::Direct { key: Some(key.clone()) },
            body: Some(body.to_owned()),
            attachments: Vec::new(),
            sent_at: Some(now),
        };
        self.ingest(visitor.account.clone(), vec![item]).await?;
        let id = {
            let mut pooled = self.db().acquire().await?;
            conversations::find(&mut pooled.conn(), visitor.account.id, ConversationKind::Direct, &key)
                .await?
                .ok_or(ServiceError::NotFound("conversation"))?
                .id
        };
        self.widget_thread(visitor, id).await
    }

    /// The visitor has read the conversation: its agent messages become read (real read
    /// receipts, which agents see live) and its ticket is no longer badged.
    pub async fn widget_read(&self, visitor: &WidgetVisitor, id: ConversationId) -> ServiceResult<()> {
        let now = self.now();
        let ws = visitor.account.workspace_id;
        let mut tx = self.begin().await?;
        let mut conn = tx.conn();
        let own = own_conversation(&mut conn, visitor, id).await?;
        widget::mark_read(&mut conn, ws, id, now).await?;
        let receipts = messages::mark_read_up_to(&mut conn, id, now).await?;
        // Only news is announced: the visitor's own stream hears it too, and a read that
        // changed nothing must not make their panel read again.
        let events: Vec<LiveEvent> = own
            .ticket
            .filter(|_| receipts > 0)
            .map(|t| LiveEvent { workspace_id: ws, kind: LiveEventKind::TicketUpdated, ticket_id: t.id })
            .into_iter()
            .collect();
        let recorded = record(&mut conn, now, &events).await?;
        tx.commit().await?;
        self.live().publish(recorded);
        Ok(())
    }
}

/// The visitor's conversation `id`, or not found — whoever else's it is.
async fn own_conversation(
    conn: &mut switchboard_store::Conn<'_>,
    visitor: &WidgetVisitor,
    id: ConversationId,
) -> ServiceResult<WidgetConversation> {
    load_conversations(conn, visitor)
        .await?
        .into_iter()
        .find(|c| c.id == id)
        .ok_or(ServiceError::NotFound("conversation"))
}

async fn load_conversations(
    conn: &mut switchboard_store::Conn<'_>,
    visitor: &WidgetVisitor,
) -> ServiceResult<Vec<WidgetConversation>> {
    let Some(contact) = visitor.contact(conn).await? else { return Ok(Vec::new()) };
    let ws = visitor.account.workspace_id;
    let rows = widget::conversations(conn, ws, visitor.account.id, contact).await?;
    let mut changed: HashMap<TicketId, OffsetDateTime> = HashMap::new();
    for (ticket, kind, data, at) in widget::status_history(conn, ws, visitor.account.id, contact).await? {
        if kind == "created" || customer_visible(&data) {
            changed.insert(ticket, at);
        }
    }
    let mut out: Vec<WidgetConversation> = rows
        .into_iter()
        .map(|r| {
            let ticket = r.ticket.map(|t| {
                let seen = r.read_at.is_some_and(|read| changed.get(&t.id).is_none_or(|at| *at <= read));
                WidgetTicket {
                    id: t.id,
                    number: t.number,
                    conversation_id: r.id,
                    title: t
                        .subject
                        .clone()
                        .or_else(|| crate::ingest::subject_from(None, r.last_body.as_deref()))
                        .unwrap_or_else(|| format!("Ticket #{}", t.number)),
                    state: t.status.customer_status(),
                    updated_at: t.updated_at,
                    unread: !seen,
                }
            });
            let read_only = ticket.as_ref().is_some_and(|t| t.state == CustomerStatus::Resolved);
            let last_activity_at = [Some(r.created_at), r.last_message_at, ticket.as_ref().map(|t| t.updated_at)]
                .into_iter()
                .flatten()
                .max()
                .unwrap_or(r.created_at);
            WidgetConversation { id: r.id, ticket, preview: r.last_body, last_activity_at, unread: r.unread, read_only }
        })
        .collect();
    out.sort_by(|a, b| b.last_activity_at.cmp(&a.last_activity_at).then(b.id.0.cmp(&a.id.0)));
    Ok(out)
}

/// Whether a `status_changed` event's `{from, to}` crossed between active and resolved.
fn customer_visible(data: &str) -> bool {
    let Ok(value) = serde_json::from_str::<serde_json::Value>(data) else { return false };
    let status = |key: &str| value.get(key).and_then(|v| v.as_str()).and_then(|s| s.parse::<TicketStatus>().ok());
    match (status("from"), status("to")) {
        (Some(from), Some(to)) => from.customer_status() != to.customer_status(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::customer_visible;

    #[test]
    fn only_a_change_between_active_and_resolved_is_news_to_the_customer() {
        assert!(!customer_visible(r#"{"from":"new","to":"open"}"#));
        assert!(!customer_visible(r#"{"from":"open","to":"pending"}"#));
        assert!(customer_visible(r#"{"from":"open","to":"solved"}"#));
        assert!(customer_visible(r#"{"from":"solved","to":"open"}"#));
        assert!(!customer_visible(r#"{"from":"solved","to":"closed"}"#));
        assert!(!customer_visible("not json"));
    }
}
