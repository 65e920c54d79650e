//! The website widget's own rows: visitors (a token kept as its SHA-256, and the identity the
//! visitor writes as) and how far the customer has read each conversation. Plus the reads the
//! messenger needs: a customer's conversations on one line with their linked ticket, and the
//! customer-visible part of a conversation.
//!
//! Every query is scoped by the workspace and the line: a visitor only ever reaches rows of
//! their own line and contact, which the service checks before calling here.

use switchboard_domain::{ChannelAccountId, ContactId, ConversationId, DeliveryStatus, TicketId, WorkspaceId};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{Conn, Result, from_millis, parse, to_millis, with_conn};

/// A widget visitor: who holds a token, on which line, writing as which identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Visitor {
    pub id: Uuid,
    pub workspace_id: WorkspaceId,
    pub channel_account_id: ChannelAccountId,
    /// `visitor:<id>` while anonymous, `user:<host site's id>` once verified.
    pub external_id: String,
}

/// Stores a new visitor whose token hashes to `token_hash`.
pub async fn create_visitor(
    conn: &mut Conn<'_>,
    workspace: WorkspaceId,
    account: ChannelAccountId,
    id: Uuid,
    token_hash: &str,
    external_id: &str,
    now: OffsetDateTime,
) -> Result<()> {
    with_conn!(conn, c => {
        sqlx::query(
            "INSERT INTO widget_visitors (id, workspace_id, channel_account_id, token_hash, external_id, created_at, \
             last_seen_at) VALUES ($1, $2, $3, $4, $5, $6, $6)",
        )
        .bind(id)
        .bind(workspace.0)
        .bind(account.0)
        .bind(token_hash)
        .bind(external_id)
        .bind(to_millis(now))
        .execute(&mut *c)
        .await?
        .rows_affected()
    });
    Ok(())
}

/// The visitor holding the token with this hash.
pub async fn find_visitor(conn: &mut Conn<'_>, token_hash: &str) -> Result<Option<Visitor>> {
    let row: Option<(Uuid, Uuid, Uuid, String)> = with_conn!(conn, c => {
        sqlx::query_as(
            "SELECT id, workspace_id, channel_account_id, external_id FROM widget_visitors WHERE token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(&mut *c)
        .await?
    });
    Ok(row.map(|(id, ws, account, external_id)| Visitor {
        id,
        workspace_id: ws.into(),
        channel_account_id: account.into(),
        external_id,
    }))
}

/// From now on the visitor writes as `external_id` (after the host site verified them).
pub async fn set_external_id(conn: &mut Conn<'_>, visitor: Uuid, external_id: &str, now: OffsetDateTime) -> Result<()> {
    with_conn!(conn, c => {
        sqlx::query("UPDATE widget_visitors SET external_id = $1, last_seen_at = $2 WHERE id = $3")
            .bind(external_id)
            .bind(to_millis(now))
            .bind(visitor)
            .execute(&mut *c)
            .await?
            .rows_affected()
    });
    Ok(())
}

/// One of the customer's conversations on the line, with the ticket shared with them: the live
/// one if there is one, else the newest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationRow {
    pub id: ConversationId,
    pub created_at: OffsetDateTime,
    pub ticket: Option<TicketRow>,
    /// The last thing said (by either side), for the list.
    pub last_body: Option<String>,
    pub last_message_at: Option<OffsetDateTime>,
    /// Until when the customer has read it.
    pub read_at: Option<OffsetDateTime>,
    /// Agent messages after `read_at`.
    pub unread: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketRow {
    pub id: TicketId,
    pub number: i64,
    pub subject: Option<String>,
    pub status: switchboard_domain::TicketStatus,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

#[derive(sqlx::FromRow)]
struct ConvRow {
    id: Uuid,
    created_at: i64,
    ticket_id: Option<Uuid>,
    number: Option<i64>,
    subject: Option<String>,
    status: Option<String>,
    ticket_created_at: Option<i64>,
    ticket_updated_at: Option<i64>,
    last_body: Option<String>,
    last_message_at: Option<i64>,
    read_at: Option<i64>,
    unread: i64,
}

/// The customer's direct conversations on `account`, in no particular order (the service sorts).
pub async fn conversations(
    conn: &mut Conn<'_>,
    workspace: WorkspaceId,
    account: ChannelAccountId,
    contact: ContactId,
) -> Result<Vec<ConversationRow>> {
    let rows: Vec<ConvRow> = with_conn!(conn, c => {
        sqlx::query_as(
            "SELECT c.id, c.created_at, t.id AS ticket_id, t.number, t.subject, t.status, \
             t.created_at AS ticket_created_at, t.updated_at AS ticket_updated_at, \
             (SELECT m.body FROM messages m WHERE m.conversation_id = c.id AND m.direction IN ('inbound', 'outbound') \
              ORDER BY m.created_at DESC, m.id DESC LIMIT 1) AS last_body, \
             (SELECT MAX(m.created_at) FROM messages m WHERE m.conversation_id = c.id \
              AND m.direction IN ('inbound', 'outbound')) AS last_message_at, \
             r.read_at, \
             (SELECT COUNT(*) FROM messages m WHERE m.conversation_id = c.id AND m.direction = 'outbound' \
              AND m.created_at > COALESCE(r.read_at, 0)) AS unread \
             FROM conversations c \
             LEFT JOIN widget_reads r ON r.conversation_id = c.id \
             LEFT JOIN tickets t ON t.id = (SELECT t2.id FROM tickets t2 WHERE t2.conversation_id = c.id \
                ORDER BY CASE WHEN t2.status IN ('new', 'open', 'pending', 'on_hold', 'solved') THEN 0 ELSE 1 END, \
                t2.created_at DESC, t2.id DESC LIMIT 1) \
             WHERE c.workspace_id = $1 AND c.channel_account_id = $2 AND c.contact_id = $3 AND c.kind = 'direct'",
        )
        .bind(workspace.0)
        .bind(account.0)
        .bind(contact.0)
        .fetch_all(&mut *c)
        .await?
    });
    rows.into_iter()
        .map(|r| {
            let ticket = match (r.ticket_id, r.status) {
                (Some(id), Some(status)) => Some(TicketRow {
                    id: id.into(),
                    number: r.number.unwrap_or_default(),
                    subject: r.subject,
                    status: parse(&status, "ticket status")?,
                    created_at: from_millis(r.ticket_created_at.unwrap_or(r.created_at)),
                    updated_at: from_millis(r.ticket_updated_at.unwrap_or(r.created_at)),
                }),
                _ => None,
            };
            Ok(ConversationRow {
                id: r.id.into(),
                created_at: from_millis(r.created_at),
                ticket,
                last_body: r.last_body,
                last_message_at: r.last_message_at.map(from_millis),
                read_at: r.read_at.map(from_millis),
                unread: r.unread,
            })
        })
        .collect()
}

/// The creation and status changes of every ticket of the customer's conversations on the
/// line, oldest first: `(ticket, kind, data, at)`. The service decides which of them the
/// customer can see (active ↔ resolved).
pub async fn status_history(
    conn: &mut Conn<'_>,
    workspace: WorkspaceId,
    account: ChannelAccountId,
    contact: ContactId,
) -> Result<Vec<(TicketId, String, String, OffsetDateTime)>> {
    let rows: Vec<(Uuid, String, String, i64)> = with_conn!(conn, c => {
        sqlx::query_as(
            "SELECT e.ticket_id, e.kind, e.data, e.created_at FROM events e \
             JOIN tickets t ON t.id = e.ticket_id JOIN conversations c ON c.id = t.conversation_id \
             WHERE e.workspace_id = $1 AND c.channel_account_id = $2 AND c.contact_id = $3 \
             AND e.kind IN ('created', 'status_changed') ORDER BY e.created_at, e.id",
        )
        .bind(workspace.0)
        .bind(account.0)
        .bind(contact.0)
        .fetch_all(&mut *c)
        .await?
    });
    Ok(rows.into_iter().map(|(ticket, kind, data, at)| (ticket.into(), kind, data, from_millis(at))).collect())
}

/// A message as the customer sees it: never an internal note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageRow {
    pub id: Uuid,
    /// `inbound` (the customer) or `outbound` (the team).
    pub direction: String,
    pub body: Option<String>,
    /// The agent's name, for the team's messages.
    pub agent_name: Option<String>,
    pub delivery_status: Option<DeliveryStatus>,
    pub created_at: OffsetDateTime,
}

/// `(id, direction, body, agent name, delivery status, created_at)`.
type MsgRow = (Uuid, String, Option<String>, Option<String>, Option<String>, i64);

/// The customer-visible messages of a conversation, oldest first.
pub async fn messages(
    conn: &mut Conn<'_>,
    workspace: WorkspaceId,
    conversation: ConversationId,
) -> Result<Vec<MessageRow>> {
    let rows: Vec<MsgRow> = with_conn!(conn, c => {
        sqlx::query_as(
            "SELECT m.id, m.direction, m.body, a.name, m.delivery_status, m.created_at FROM messages m \
             LEFT JOIN agents a ON a.id = m.author_id AND m.author_kind = 'agent' \
             WHERE m.workspace_id = $1 AND m.conversation_id = $2 AND m.direction IN ('inbound', 'outbound') \
             AND m.visibility = 'public' ORDER BY m.created_at, m.id",
        )
        .bind(workspace.0)
        .bind(conversation.0)
        .fetch_all(&mut *c)
        .await?
    });
    rows.into_iter()
        .map(|(id, direction, body, agent_name, status, at)| {
            Ok(MessageRow {
                id,
                direction,
                body,
                agent_name,
                delivery_status: status.as_deref().map(|s| parse(s, "delivery status")).transpose()?,
                created_at: from_millis(at),
            })
        })
        .collect()
}

/// Records that the customer has read the conversation up to `at`.
pub async fn mark_read(
    conn: &mut Conn<'_>,
    workspace: WorkspaceId,
    conversation: ConversationId,
    at: OffsetDateTime,
) -> Result<()> {
    with_conn!(conn, c => {
        sqlx::query(
            "INSERT INTO widget_reads (conversation_id, workspace_id, read_at) VALUES ($1, $2, $3) \
             ON CONFLICT (conversation_id) DO UPDATE SET read_at = excluded.read_at",
        )
        .bind(conversation.0)
        .bind(workspace.0)
        .bind(to_millis(at))
        .execute(&mut *c)
        .await?
        .rows_affected()
    });
    Ok(())
}

/// The ids of every ticket of the customer's conversations on the line: what their live
/// stream lets through.
pub async fn ticket_ids(
    conn: &mut Conn<'_>,
    workspace: WorkspaceId,
    account: ChannelAccountId,
    contact: ContactId,
) -> Result<Vec<TicketId>> {
    let ids: Vec<Uuid> = with_conn!(conn, c => {
        sqlx::query_scalar(
            "SELECT t.id FROM tickets t JOIN conversations c ON c.id = t.conversation_id \
             WHERE c.workspace_id = $1 AND c.channel_account_id = $2 AND c.contact_id = $3",
        )
        .bind(workspace.0)
        .bind(account.0)
        .bind(contact.0)
        .fetch_all(&mut *c)
        .await?
    });
    Ok(ids.into_iter().map(Into::into).collect())
}

/// The line and customer of a ticket: `(channel account, contact)`; `None` if there is no such
/// ticket. Visitors' streams ask this of tickets they have not seen before.
pub async fn ticket_owner(
    conn: &mut Conn<'_>,
    ticket: TicketId,
) -> Result<Option<(ChannelAccountId, Option<ContactId>)>> {
    let row: Option<(Uuid, Option<Uuid>)> = with_conn!(conn, c => {
        sqlx::query_as("SELECT channel_account_id, contact_id FROM tickets WHERE id = $1")
            .bind(ticket.0)
            .fetch_optional(&mut *c)
            .await?
    });
    Ok(row.map(|(account, contact)| (account.into(), contact.map(Into::into))))
}
