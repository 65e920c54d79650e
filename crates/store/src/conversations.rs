//! Conversations: direct threads (one contact × one account) and public threads (one post).

use switchboard_domain::{ChannelAccountId, ContactId, Conversation, ConversationId, ConversationKind, WorkspaceId};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::params::{IN_LIST_MAX, Params, distinct};
use crate::{Conn, Param, Result, bind_all, from_millis, parse, to_millis, with_conn};

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    workspace_id: Uuid,
    channel_account_id: Uuid,
    kind: String,
    thread_key: String,
    contact_id: Option<Uuid>,
    title: Option<String>,
    last_inbound_at: Option<i64>,
}

impl Row {
    fn into_conversation(self) -> Result<Conversation> {
        Ok(Conversation {
            id: self.id.into(),
            workspace_id: self.workspace_id.into(),
            channel_account_id: self.channel_account_id.into(),
            kind: parse(&self.kind, "conversation kind")?,
            thread_key: self.thread_key,
            contact_id: self.contact_id.map(Into::into),
            title: self.title,
            last_inbound_at: self.last_inbound_at.map(from_millis),
        })
    }
}

const COLUMNS: &str = "SELECT id, workspace_id, channel_account_id, kind, thread_key, contact_id, title, last_inbound_at FROM conversations";

pub async fn find(
    conn: &mut Conn<'_>,
    account: ChannelAccountId,
    kind: ConversationKind,
    thread_key: &str,
) -> Result<Option<Conversation>> {
    let row: Option<Row> = with_conn!(conn, c => {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{COLUMNS} WHERE channel_account_id = $1 AND kind = $2 AND thread_key = $3"
        )))
        .bind(account.0)
        .bind(kind.as_str())
        .bind(thread_key)
        .fetch_optional(&mut *c)
        .await?
    });
    row.map(Row::into_conversation).transpose()
}

pub async fn get(conn: &mut Conn<'_>, workspace: WorkspaceId, id: ConversationId) -> Result<Option<Conversation>> {
    Ok(get_many(conn, workspace, &[id]).await?.pop())
}

/// The conversations of the workspace among `ids`, in one query per thousand ids (a
/// page of tickets loads its conversations with it). Ids of another workspace, or of none,
/// are left out; the order is unspecified.
pub async fn get_many(
    conn: &mut Conn<'_>,
    workspace: WorkspaceId,
    ids: &[ConversationId],
) -> Result<Vec<Conversation>> {
    let ids = distinct(ids);
    let mut found = Vec::with_capacity(ids.len());
    for ids in ids.chunks(IN_LIST_MAX) {
        let mut p = Params::default();
        let ws = p.push(Param::Uuid(workspace.0));
        let list = ids.iter().map(|id| p.push(Param::Uuid(id.0))).collect::<Vec<_>>().join(", ");
        let sql = format!("{COLUMNS} WHERE workspace_id = {ws} AND id IN ({list})");
        let rows: Vec<Row> = with_conn!(conn, c => {
            bind_all!(sqlx::query_as(sqlx::AssertSqlSafe(sql)), &p.0).fetch_all(&mut *c).await?
        });
        for row in rows {
            found.push(row.into_conversation()?);
        }
    }
    Ok(found)
}

/// A conversation to create.
#[derive(Debug, Clone)]
pub struct NewConversation<'a> {
    pub workspace_id: WorkspaceId,
    pub channel_account_id: ChannelAccountId,
    pub kind: ConversationKind,
    pub thread_key: &'a str,
    pub contact_id: Option<ContactId>,
    pub title: Option<&'a str>,
}

/// Creates the conversation; a racing writer that created it first makes this a conflict.
pub async fn create(conn: &mut Conn<'_>, new: &NewConversation<'_>, now: OffsetDateTime) -> Result<Conversation> {
    let id = Uuid::now_v7();
    with_conn!(conn, c => {
        sqlx::query(
            "INSERT INTO conversations (id, workspace_id, channel_account_id, kind, thread_key, contact_id, title, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(id)
        .bind(new.workspace_id.0)
        .bind(new.channel_account_id.0)
        .bind(new.kind.as_str())
        .bind(new.thread_key)
        .bind(new.contact_id.map(|c| c.0))
        .bind(new.title)
        .bind(to_millis(now))
        .execute(&mut *c)
        .await?
            .rows_affected()
    });
    Ok(Conversation {
        id: id.into(),
        workspace_id: new.workspace_id,
        channel_account_id: new.channel_account_id,
        kind: new.kind,
        thread_key: new.thread_key.to_owned(),
        contact_id: new.contact_id,
        title: new.title.map(str::to_owned),
        last_inbound_at: None,
    })
}

/// Moves the conversation's last inbound time forward (never back: platforms deliver out
/// of order).
pub async fn note_inbound(conn: &mut Conn<'_>, id: ConversationId, at: OffsetDateTime) -> Result<()> {
    with_conn!(conn, c => {
        sqlx::query(
            "UPDATE conversations SET last_inbound_at = $1 WHERE id = $2 \
             AND (last_inbound_at IS NULL OR last_inbound_at < $1)",
        )
        .bind(to_millis(at))
        .bind(id.0)
        .execute(&mut *c)
        .await?
        .rows_affected()
    });
    Ok(())
}

/// Keeps the platform's reply token for the conversation's latest message (LINE).
pub async fn set_reply_token(
    conn: &mut Conn<'_>,
    id: ConversationId,
    token: &str,
    expires_at: OffsetDateTime,
) -> Result<()> {
    with_conn!(conn, c => {
        sqlx::query("UPDATE conversations SET reply_token = $1, reply_token_expires_at = $2 WHERE id = $3")
            .bind(token)
            .bind(to_millis(expires_at))
            .bind(id.0)
            .execute(&mut *c)
            .await?
            .rows_affected()
    });
    Ok(())
}

/// The conversation's reply token, if it has one that is still valid at `now`.
pub async fn reply_token(conn: &mut Conn<'_>, id: ConversationId, now: OffsetDateTime) -> Result<Option<String>> {
    let token: Option<Option<String>> = with_conn!(conn, c => {
        sqlx::query_scalar("SELECT reply_token FROM conversations WHERE id = $1 AND reply_token_expires_at > $2")
            .bind(id.0)
            .bind(to_millis(now))
            .fetch_optional(&mut *c)
            .await?
    });
    Ok(token.flatten())
}

/// Forgets the conversation's reply token once used: it is good for one message.
pub async fn clear_reply_token(conn: &mut Conn<'_>, id: ConversationId) -> Result<()> {
    with_conn!(conn, c => {
        sqlx::query("UPDATE conversations SET reply_token = NULL, reply_token_expires_at = NULL WHERE id = $1")
            .bind(id.0)
            .execute(&mut *c)
            .await?
            .rows_affected()
    });
    Ok(())
}
