//! Messages: inbound, outbound and internal notes.

use switchboard_domain::{
    Attachment, AuthorKind, ChannelAccountId, ConversationId, DeliveryStatus, Direction, Message, MessageError,
    MessageId, TicketId, Visibility, WorkspaceId,
};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{Conn, Result, StoreError, from_millis, json, parse, to_millis, with_conn};

/// A message to store.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub workspace_id: WorkspaceId,
    pub conversation_id: ConversationId,
    pub ticket_id: Option<TicketId>,
    pub channel_account_id: ChannelAccountId,
    pub direction: Direction,
    pub visibility: Visibility,
    pub author_kind: AuthorKind,
    pub author_id: Option<Uuid>,
    pub body: Option<String>,
    pub attachments: Vec<Attachment>,
    pub template: Option<serde_json::Value>,
    pub platform_message_id: Option<String>,
    pub delivery_status: Option<DeliveryStatus>,
    pub private_reply_to: Option<MessageId>,
    /// For an outbound public reply: the platform id of the comment or tweet it answers.
    pub reply_to: Option<String>,
    /// When the platform says it was sent (inbound).
    pub sent_at: Option<OffsetDateTime>,
}

fn as_str<T: serde::Serialize>(value: &T) -> String {
    // Enums of the domain serialise as plain JSON strings: take the name without quotes.
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

/// Stores a message. A message with a platform id the account already holds is a
/// [`StoreError::Conflict`] (the platform redelivered it).
pub async fn insert(conn: &mut Conn<'_>, new: &NewMessage, now: OffsetDateTime) -> Result<MessageId> {
    let id = Uuid::now_v7();
    let attachments = serde_json::to_string(&new.attachments).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let template = new.template.as_ref().map(serde_json::Value::to_string);
    with_conn!(conn, c => {
        sqlx::query(
            "INSERT INTO messages (id, workspace_id, conversation_id, ticket_id, channel_account_id, direction, \
             visibility, author_kind, author_id, body, attachments, template, platform_message_id, delivery_status, \
             private_reply_to, sent_at, created_at, reply_to) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)",
        )
        .bind(id)
        .bind(new.workspace_id.0)
        .bind(new.conversation_id.0)
        .bind(new.ticket_id.map(|t| t.0))
        .bind(new.channel_account_id.0)
        .bind(as_str(&new.direction))
        .bind(as_str(&new.visibility))
        .bind(as_str(&new.author_kind))
        .bind(new.author_id)
        .bind(&new.body)
        .bind(attachments)
        .bind(template)
        .bind(&new.platform_message_id)
        .bind(new.delivery_status.map(|d| d.as_str()))
        .bind(new.private_reply_to.map(|m| m.0))
        .bind(new.sent_at.map(to_millis))
        .bind(to_millis(now))
        .bind(&new.reply_to)
        .execute(&mut *c)
        .await?
            .rows_affected()
    });
    Ok(id.into())
}

/// Whether the account already holds a message with this platform id.
pub async fn exists(conn: &mut Conn<'_>, account: ChannelAccountId, platform_message_id: &str) -> Result<bool> {
    // `SELECT 1` is an INT4 on Postgres: decoding it as i64 fails there (not on SQLite).
    let found: Option<i32> = with_conn!(conn, c => {
        sqlx::query_scalar("SELECT 1 FROM messages WHERE channel_account_id = $1 AND platform_message_id = $2")
            .bind(account.0)
            .bind(platform_message_id)
            .fetch_optional(&mut *c)
            .await?
    });
    Ok(found.is_some())
}

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    workspace_id: Uuid,
    ticket_id: Option<Uuid>,
    conversation_id: Uuid,
    direction: String,
    visibility: String,
    author_kind: String,
    author_id: Option<Uuid>,
    body: Option<String>,
    attachments: String,
    template: Option<String>,
    platform_message_id: Option<String>,
    delivery_status: Option<String>,
    error_code: Option<String>,
    error_message: Option<String>,
    private_reply_to: Option<Uuid>,
    created_at: i64,
}

fn enum_from<T: serde::de::DeserializeOwned>(value: &str, what: &str) -> Result<T> {
    serde_json::from_value(serde_json::Value::String(value.to_owned()))
        .map_err(|_| StoreError::Corrupt(format!("{what}: `{value}`")))
}

impl Row {
    fn into_message(self) -> Result<Message> {
        Ok(Message {
            id: self.id.into(),
            workspace_id: self.workspace_id.into(),
            ticket_id: self.ticket_id.map(Into::into),
            conversation_id: self.conversation_id.into(),
            direction: enum_from(&self.direction, "message direction")?,
            visibility: enum_from(&self.visibility, "message visibility")?,
            author_kind: enum_from(&self.author_kind, "message author")?,
            author_id: self.author_id,
            body: self.body,
            attachments: json(&self.attachments, "message attachments")?,
            template: self.template.as_deref().map(|t| json(t, "message template")).transpose()?,
            platform_message_id: self.platform_message_id,
            delivery_status: self.delivery_status.as_deref().map(|d| parse(d, "delivery status")).transpose()?,
            error: match (self.error_code, self.error_message) {
                (Some(code), message) => Some(MessageError { code, message: message.unwrap_or_default() }),
                _ => None,
            },
            private_reply_to: self.private_reply_to.map(Into::into),
            created_at: from_millis(self.created_at),
        })
    }
}

const COLUMNS: &str = "SELECT id, workspace_id, ticket_id, conversation_id, direction, visibility, author_kind, \
    author_id, body, attachments, template, platform_message_id, delivery_status, error_code, error_message, \
    private_reply_to, created_at FROM messages";

/// The ticket's messages in the order they were written.
pub async fn list_for_ticket(conn: &mut Conn<'_>, workspace: WorkspaceId, ticket: TicketId) -> Result<Vec<Message>> {
    let rows: Vec<Row> = with_conn!(conn, c => {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{COLUMNS} WHERE workspace_id = $1 AND ticket_id = $2 ORDER BY created_at, id"
        )))
        .bind(workspace.0)
        .bind(ticket.0)
        .fetch_all(&mut *c)
        .await?
    });
    rows.into_iter().map(Row::into_message).collect()
}

pub async fn get(conn: &mut Conn<'_>, workspace: WorkspaceId, id: MessageId) -> Result<Option<Message>> {
    let row: Option<Row> = with_conn!(conn, c => {
        sqlx::query_as(sqlx::AssertSqlSafe(format!("{COLUMNS} WHERE workspace_id = $1 AND id = $2")))
            .bind(workspace.0)
            .bind(id.0)
            .fetch_optional(&mut *c)
            .await?
    });
    row.map(Row::into_message).transpose()
}

/// The inbound message's sender contact and when the platform says it was written.
pub async fn sent_at(conn: &mut Conn<'_>, workspace: WorkspaceId, id: MessageId) -> Result<Option<OffsetDateTime>> {
    let at: Option<Option<i64>> = with_conn!(conn, c => {
        sqlx::query_scalar("SELECT COALESCE(sent_at, created_at) FROM messages WHERE workspace_id = $1 AND id = $2")
            .bind(workspace.0)
            .bind(id.0)
            .fetch_optional(&mut *c)
            .await?
    });
    Ok(at.flatten().map(from_millis))
}

/// Whether a private reply to this comment exists already.
pub async fn has_private_reply(conn: &mut Conn<'_>, comment: MessageId) -> Result<bool> {
    let found: Option<i32> = with_conn!(conn, c => {
        sqlx::query_scalar("SELECT 1 FROM messages WHERE private_reply_to = $1")
            .bind(comment.0)
            .fetch_optional(&mut *c)
            .await?
    });
    Ok(found.is_some())
}

/// How many outbound messages the conversation got since `since` (WeChat caps them).
pub async fn outbound_since(
    conn: &mut Conn<'_>,
    conversation: ConversationId,
    since: Option<OffsetDateTime>,
) -> Result<u32> {
    let counts = outbound_since_each(conn, &[(conversation, since)]).await?;
    Ok(counts.get(&conversation).copied().unwrap_or(0))
}

/// [`outbound_since`] of several conversations, each with its own `since`, in one query per
/// thousand conversations (a page of tickets computes its reply windows with it). A
/// conversation without outbound messages since its instant is left out of the map (count 0).
/// A conversation named twice is counted from the last instant given for it.
pub async fn outbound_since_each(
    conn: &mut Conn<'_>,
    since: &[(ConversationId, Option<OffsetDateTime>)],
) -> Result<std::collections::HashMap<ConversationId, u32>> {
    let since: Vec<(ConversationId, Option<OffsetDateTime>)> =
        since.iter().copied().collect::<std::collections::BTreeMap<_, _>>().into_iter().collect();
    let mut counts = std::collections::HashMap::with_capacity(since.len());
    for since in since.chunks(crate::params::IN_LIST_MAX) {
        // One indexable term per conversation (`messages_conversation`: conversation, created):
        // both planners read each conversation's range of the index, as for a single count.
        let mut p = crate::params::Params::default();
        let terms = since
            .iter()
            .map(|(id, at)| {
                let id = p.push(crate::Param::Uuid(id.0));
                let at = p.push(crate::Param::Int(at.map(to_millis).unwrap_or(0)));
                format!("(conversation_id = {id} AND created_at >= {at})")
            })
            .collect::<Vec<_>>()
            .join(" OR ");
        let sql = format!(
            "SELECT conversation_id, COUNT(*) FROM messages WHERE direction = 'outbound' AND ({terms}) \
             GROUP BY conversation_id"
        );
        let rows: Vec<(Uuid, i64)> = with_conn!(conn, c => {
            crate::bind_all!(sqlx::query_as(sqlx::AssertSqlSafe(sql)), &p.0).fetch_all(&mut *c).await?
        });
        counts.extend(rows.into_iter().map(|(id, n)| (ConversationId::from(id), u32::try_from(n).unwrap_or(u32::MAX))));
    }
    Ok(counts)
}

/// How many inbound messages each of `tickets` holds.
pub async fn inbound_counts(
    conn: &mut Conn<'_>,
    workspace: WorkspaceId,
    tickets: &[TicketId],
) -> Result<std::collections::HashMap<TicketId, i64>> {
    if tickets.is_empty() {
        return Ok(Default::default());
    }
    let mut p = crate::params::Params::default();
    let ws = p.push(crate::Param::Uuid(workspace.0));
    let list = tickets.iter().map(|t| p.push(crate::Param::Uuid(t.0))).collect::<Vec<_>>().join(", ");
    let sql = format!(
        "SELECT ticket_id, COUNT(*) FROM messages WHERE workspace_id = {ws} AND direction = 'inbound' \
         AND ticket_id IN ({list}) GROUP BY ticket_id"
    );
    let rows: Vec<(Uuid, i64)> = with_conn!(conn, c => {
        crate::bind_all!(sqlx::query_as(sqlx::AssertSqlSafe(sql)), &p.0).fetch_all(&mut *c).await?
    });
    Ok(rows.into_iter().map(|(t, n)| (t.into(), n)).collect())
}

/// The message `platform_message_id` names on the account: its id, ticket and delivery status.
pub async fn find_by_platform_id(
    conn: &mut Conn<'_>,
    account: ChannelAccountId,
    platform_message_id: &str,
) -> Result<Option<(MessageId, Option<TicketId>, Option<DeliveryStatus>)>> {
    let row: Option<(Uuid, Option<Uuid>, Option<String>)> = with_conn!(conn, c => {
        sqlx::query_as(
            "SELECT id, ticket_id, delivery_status FROM messages WHERE channel_account_id = $1 AND platform_message_id = $2",
        )
        .bind(account.0)
        .bind(platform_message_id)
        .fetch_optional(&mut *c)
        .await?
    });
    row.map(|(id, ticket, status)| {
        Ok((id.into(), ticket.map(Into::into), status.as_deref().map(|s| parse(s, "delivery status")).transpose()?))
    })
    .transpose()
}

/// Sets an outbound message's delivery status, and the platform's error when it failed.
pub async fn set_delivery(
    conn: &mut Conn<'_>,
    id: MessageId,
    status: DeliveryStatus,
    error: Option<&MessageError>,
) -> Result<()> {
    with_conn!(conn, c => {
        sqlx::query(
            "UPDATE messages SET delivery_status = $1, error_code = COALESCE($2, error_code), \
             error_message = COALESCE($3, error_message) WHERE id = $4",
        )
        .bind(status.as_str())
        .bind(error.map(|e| e.code.as_str()))
        .bind(error.map(|e| e.message.as_str()))
        .bind(id.0)
        .execute(&mut *c)
        .await?
        .rows_affected()
    });
    Ok(())
}

/// Marks every outbound message of the conversation written up to `up_to` as read
/// (a read receipt with a watermark). Statuses only move forward: failed ones stay failed.
pub async fn mark_read_up_to(conn: &mut Conn<'_>, conversation: ConversationId, up_to: OffsetDateTime) -> Result<u64> {
    let n = with_conn!(conn, c => {
        sqlx::query(
            "UPDATE messages SET delivery_status = 'read' WHERE conversation_id = $1 AND direction = 'outbound' \
             AND delivery_status IN ('sent', 'delivered') AND created_at <= $2",
        )
        .bind(conversation.0)
        .bind(to_millis(up_to))
        .execute(&mut *c)
        .await?
        .rows_affected()
    });
    Ok(n)
}

/// One reaction on a message.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Reaction {
    pub emoji: String,
    /// The contact who reacted.
    pub by: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

/// Sets (or, with `emoji: None`, takes back) a contact's reaction on a message: one per person.
pub async fn set_reaction(
    conn: &mut Conn<'_>,
    id: MessageId,
    by: Uuid,
    emoji: Option<&str>,
    at: OffsetDateTime,
) -> Result<()> {
    let current: String = with_conn!(conn, c => {
        sqlx::query_scalar("SELECT reactions FROM messages WHERE id = $1").bind(id.0).fetch_one(&mut *c).await?
    });
    let mut reactions: Vec<Reaction> = json(&current, "message reactions")?;
    reactions.retain(|r| r.by != by);
    if let Some(emoji) = emoji {
        reactions.push(Reaction { emoji: emoji.to_owned(), by, at });
    }
    let updated = serde_json::to_string(&reactions).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    with_conn!(conn, c => {
        sqlx::query("UPDATE messages SET reactions = $1 WHERE id = $2")
            .bind(updated)
            .bind(id.0)
            .execute(&mut *c)
            .await?
            .rows_affected()
    });
    Ok(())
}

/// Records that the platform edited (new `body`) or removed a message.
pub async fn set_edited(conn: &mut Conn<'_>, id: MessageId, body: Option<&str>, at: OffsetDateTime) -> Result<()> {
    with_conn!(conn, c => {
        sqlx::query("UPDATE messages SET body = COALESCE($1, body), edited_at = $2 WHERE id = $3")
            .bind(body)
            .bind(to_millis(at))
            .bind(id.0)
            .execute(&mut *c)
            .await?
            .rows_affected()
    });
    Ok(())
}

pub async fn set_removed(conn: &mut Conn<'_>, id: MessageId, at: OffsetDateTime) -> Result<()> {
    with_conn!(conn, c => {
        sqlx::query("UPDATE messages SET removed_at = $1 WHERE id = $2")
            .bind(to_millis(at))
            .bind(id.0)
            .execute(&mut *c)
            .await?
            .rows_affected()
    });
    Ok(())
}

/// Records that the platform accepted an outbound message, with the id its receipts will name.
pub async fn set_sent(conn: &mut Conn<'_>, id: MessageId, platform_message_id: Option<&str>) -> Result<()> {
    with_conn!(conn, c => {
        sqlx::query(
            "UPDATE messages SET delivery_status = CASE WHEN delivery_status = 'queued' THEN 'sent' ELSE delivery_status END, \
             platform_message_id = COALESCE($1, platform_message_id) WHERE id = $2",
        )
        .bind(platform_message_id)
        .bind(id.0)
        .execute(&mut *c)
        .await?
        .rows_affected()
    });
    Ok(())
}

/// What the outbox worker needs of a message to send it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Outgoing {
    pub ticket_id: Option<Uuid>,
    pub conversation_id: Uuid,
    pub body: Option<String>,
    pub attachments: String,
    pub template: Option<String>,
    pub reply_to: Option<String>,
    pub private_reply_to: Option<Uuid>,
    pub delivery_status: Option<String>,
}

pub async fn outgoing(conn: &mut Conn<'_>, id: MessageId) -> Result<Option<Outgoing>> {
    let row: Option<Outgoing> = with_conn!(conn, c => {
        sqlx::query_as(
            "SELECT ticket_id, conversation_id, body, attachments, template, reply_to, private_reply_to, delivery_status \
             FROM messages WHERE id = $1",
        )
        .bind(id.0)
        .fetch_optional(&mut *c)
        .await?
    });
    Ok(row)
}

/// The platform id of a message (the comment a private reply answers, say).
pub async fn platform_id(conn: &mut Conn<'_>, id: MessageId) -> Result<Option<String>> {
    let found: Option<Option<String>> = with_conn!(conn, c => {
        sqlx::query_scalar("SELECT platform_message_id FROM messages WHERE id = $1")
            .bind(id.0)
            .fetch_optional(&mut *c)
            .await?
    });
    Ok(found.flatten())
}

/// The platform id of the latest inbound message of a ticket: what a public reply answers when
/// the agent did not pick a comment.
pub async fn latest_inbound_platform_id(conn: &mut Conn<'_>, ticket: TicketId) -> Result<Option<String>> {
    let found: Option<Option<String>> = with_conn!(conn, c => {
        sqlx::query_scalar(
            "SELECT platform_message_id FROM messages WHERE ticket_id = $1 AND direction = 'inbound' \
             ORDER BY created_at DESC, id DESC LIMIT 1",
        )
        .bind(ticket.0)
        .fetch_optional(&mut *c)
        .await?
    });
    Ok(found.flatten())
}

/// The platform echoed a message Switchboard sent before the send's outcome was written: the
/// echo was stored as a message of its own. It is the same message, so the copy goes.
pub async fn absorb_echo(
    conn: &mut Conn<'_>,
    account: ChannelAccountId,
    platform_message_id: &str,
    keep: MessageId,
) -> Result<u64> {
    let n = with_conn!(conn, c => {
        sqlx::query(
            "DELETE FROM messages WHERE channel_account_id = $1 AND platform_message_id = $2 AND id <> $3 \
             AND direction = 'outbound' AND author_id IS NULL",
        )
        .bind(account.0)
        .bind(platform_message_id)
        .bind(keep.0)
        .execute(&mut *c)
        .await?
        .rows_affected()
    });
    Ok(n)
}
