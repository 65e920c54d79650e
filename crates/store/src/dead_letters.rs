//! Dead letters: authenticated webhook deliveries kept raw because they could not be parsed or
//! named no known line. Nothing a platform sent is lost; an admin replays them once fixed.

use switchboard_domain::{ChannelAccountId, ChannelKind, WorkspaceId};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{Conn, Result, StoreError, from_millis, json, parse, to_millis, with_conn};

/// A delivery as it was received: enough to run it through its adapter again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawDelivery {
    pub method: String,
    pub url: String,
    pub query: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// A stored dead letter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    pub id: Uuid,
    pub workspace_id: WorkspaceId,
    pub channel_account_id: ChannelAccountId,
    pub kind: ChannelKind,
    pub reason: String,
    pub delivery: RawDelivery,
    pub received_at: OffsetDateTime,
    pub replayed_at: Option<OffsetDateTime>,
    pub replay_error: Option<String>,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    workspace_id: Uuid,
    channel_account_id: Uuid,
    kind: String,
    reason: String,
    method: String,
    url: String,
    query: String,
    headers: String,
    body: Vec<u8>,
    received_at: i64,
    replayed_at: Option<i64>,
    replay_error: Option<String>,
}

impl Row {
    fn into_letter(self) -> Result<DeadLetter> {
        Ok(DeadLetter {
            id: self.id,
            workspace_id: self.workspace_id.into(),
            channel_account_id: self.channel_account_id.into(),
            kind: parse(&self.kind, "channel kind")?,
            reason: self.reason,
            delivery: RawDelivery {
                method: self.method,
                url: self.url,
                query: json(&self.query, "dead letter query")?,
                headers: json(&self.headers, "dead letter headers")?,
                body: self.body,
            },
            received_at: from_millis(self.received_at),
            replayed_at: self.replayed_at.map(from_millis),
            replay_error: self.replay_error,
        })
    }
}

const COLUMNS: &str = "SELECT id, workspace_id, channel_account_id, kind, reason, method, url, query, headers, body, \
    received_at, replayed_at, replay_error FROM dead_letters";

pub async fn insert(
    conn: &mut Conn<'_>,
    workspace: WorkspaceId,
    account: ChannelAccountId,
    kind: ChannelKind,
    reason: &str,
    delivery: &RawDelivery,
    now: OffsetDateTime,
) -> Result<Uuid> {
    let id = Uuid::now_v7();
    let query = serde_json::to_string(&delivery.query).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let headers = serde_json::to_string(&delivery.headers).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    with_conn!(conn, c => {
        sqlx::query(
            "INSERT INTO dead_letters (id, workspace_id, channel_account_id, kind, reason, method, url, query, headers, \
             body, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(id)
        .bind(workspace.0)
        .bind(account.0)
        .bind(kind.as_str())
        .bind(reason)
        .bind(&delivery.method)
        .bind(&delivery.url)
        .bind(query)
        .bind(headers)
        .bind(&delivery.body)
        .bind(to_millis(now))
        .execute(&mut *c)
        .await?
        .rows_affected()
    });
    Ok(id)
}

/// The workspace's dead letters, newest first.
pub async fn list(conn: &mut Conn<'_>, workspace: WorkspaceId, limit: i64) -> Result<Vec<DeadLetter>> {
    let rows: Vec<Row> = with_conn!(conn, c => {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{COLUMNS} WHERE workspace_id = $1 ORDER BY received_at DESC, id DESC LIMIT $2"
        )))
        .bind(workspace.0)
        .bind(limit)
        .fetch_all(&mut *c)
        .await?
    });
    rows.into_iter().map(Row::into_letter).collect()
}

pub async fn get(conn: &mut Conn<'_>, workspace: WorkspaceId, id: Uuid) -> Result<Option<DeadLetter>> {
    let row: Option<Row> = with_conn!(conn, c => {
        sqlx::query_as(sqlx::AssertSqlSafe(format!("{COLUMNS} WHERE workspace_id = $1 AND id = $2")))
            .bind(workspace.0)
            .bind(id)
            .fetch_optional(&mut *c)
            .await?
    });
    row.map(Row::into_letter).transpose()
}

/// Records a replay: done (`error: None`) or failed again with `error`.
pub async fn mark_replayed(conn: &mut Conn<'_>, id: Uuid, error: Option<&str>, now: OffsetDateTime) -> Result<()> {
    with_conn!(conn, c => {
        sqlx::query(
            "UPDATE dead_letters SET replayed_at = CASE WHEN $1 IS NULL THEN $2 ELSE replayed_at END, replay_error = $1 \
             WHERE id = $3",
        )
        .bind(error)
        .bind(to_millis(now))
        .bind(id)
        .execute(&mut *c)
        .await?
        .rows_affected()
    });
    Ok(())
}

/// A line's dead letters, newest first.
pub async fn list_for_account(
    conn: &mut Conn<'_>,
    workspace: WorkspaceId,
    account: ChannelAccountId,
    limit: i64,
) -> Result<Vec<DeadLetter>> {
    let rows: Vec<Row> = with_conn!(conn, c => {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{COLUMNS} WHERE workspace_id = $1 AND channel_account_id = $2 ORDER BY received_at DESC, id DESC LIMIT $3"
        )))
        .bind(workspace.0)
        .bind(account.0)
        .bind(limit)
        .fetch_all(&mut *c)
        .await?
    });
    rows.into_iter().map(Row::into_letter).collect()
}
