//! The outbox: replies waiting to be delivered, written in the same transaction as the
//! message so that a crash never loses or doubles one. Delivery workers drain it.

use switchboard_domain::{ChannelAccountId, MessageId, WorkspaceId};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{Conn, Result, to_millis, with_conn};

/// Queues `message` for delivery through `account`, due now.
pub async fn enqueue(
    conn: &mut Conn<'_>,
    workspace: WorkspaceId,
    message: MessageId,
    account: ChannelAccountId,
    now: OffsetDateTime,
) -> Result<()> {
    with_conn!(conn, c => {
        sqlx::query(
            "INSERT INTO outbox (id, workspace_id, message_id, channel_account_id, status, attempts, next_attempt_at, created_at) \
             VALUES ($1, $2, $3, $4, 'pending', 0, $5, $5)",
        )
        .bind(Uuid::now_v7())
        .bind(workspace.0)
        .bind(message.0)
        .bind(account.0)
        .bind(to_millis(now))
        .execute(&mut *c)
        .await?
            .rows_affected()
    });
    Ok(())
}

/// How many messages wait for delivery in the workspace.
pub async fn pending_count(conn: &mut Conn<'_>, workspace: WorkspaceId) -> Result<i64> {
    let n: i64 = with_conn!(conn, c => {
        sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE workspace_id = $1 AND status = 'pending'")
            .bind(workspace.0)
            .fetch_one(&mut *c)
            .await?
    });
    Ok(n)
}

/// A row of the outbox, as the delivery worker sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRow {
    pub id: Uuid,
    pub workspace_id: WorkspaceId,
    pub message_id: MessageId,
    pub channel_account_id: ChannelAccountId,
    pub attempts: i64,
    /// This attempt used the conversation's single-use reply token (LINE): not safe to repeat.
    pub reply_token_used: bool,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    workspace_id: Uuid,
    message_id: Uuid,
    channel_account_id: Uuid,
    attempts: i64,
    reply_token_used: bool,
}

impl From<Row> for OutboxRow {
    fn from(r: Row) -> Self {
        OutboxRow {
            id: r.id,
            workspace_id: r.workspace_id.into(),
            message_id: r.message_id.into(),
            channel_account_id: r.channel_account_id.into(),
            attempts: r.attempts,
            reply_token_used: r.reply_token_used,
        }
    }
}

/// Claims up to `limit` rows that are due: they become `sending` under `worker`'s name. On
/// Postgres, rows another node is claiming are skipped (`SKIP LOCKED`), so nodes never share one.
pub async fn claim_due(conn: &mut Conn<'_>, now: OffsetDateTime, worker: &str, limit: i64) -> Result<Vec<OutboxRow>> {
    let lock = match conn.backend() {
        crate::Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        crate::Backend::Sqlite => "",
    };
    let sql = format!(
        "UPDATE outbox SET status = 'sending', claimed_at = $1, claimed_by = $2 WHERE id IN \
         (SELECT id FROM outbox WHERE status = 'pending' AND next_attempt_at <= $1 \
          ORDER BY next_attempt_at, id LIMIT $3{lock}) \
         RETURNING id, workspace_id, message_id, channel_account_id, attempts, reply_token_used"
    );
    let rows: Vec<Row> = with_conn!(conn, c => {
        sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(to_millis(now)).bind(worker).bind(limit).fetch_all(&mut *c).await?
    });
    Ok(rows.into_iter().map(Into::into).collect())
}

/// Takes over rows claimed before `cutoff` and never finished — their node stopped mid-send —
/// under `worker`'s name. One statement, so two nodes never take over the same row.
pub async fn take_stale(
    conn: &mut Conn<'_>,
    cutoff: OffsetDateTime,
    now: OffsetDateTime,
    worker: &str,
) -> Result<Vec<OutboxRow>> {
    let rows: Vec<Row> = with_conn!(conn, c => {
        sqlx::query_as(
            "UPDATE outbox SET claimed_at = $1, claimed_by = $2 WHERE status = 'sending' AND claimed_at < $3 \
             RETURNING id, workspace_id, message_id, channel_account_id, attempts, reply_token_used",
        )
        .bind(to_millis(now))
        .bind(worker)
        .bind(to_millis(cutoff))
        .fetch_all(&mut *c)
        .await?
    });
    Ok(rows.into_iter().map(Into::into).collect())
}

/// The row's send is over: `status` is `sent` or `failed`. Only the claim's holder may say
/// so: `false` means another node took the row over (its lease ran out) and nothing changed.
pub async fn finish(
    conn: &mut Conn<'_>,
    id: Uuid,
    worker: &str,
    status: &str,
    attempts: i64,
    error: Option<&str>,
) -> Result<bool> {
    let n = with_conn!(conn, c => {
        sqlx::query(
            "UPDATE outbox SET status = $1, attempts = $2, last_error = $3 \
             WHERE id = $4 AND status = 'sending' AND claimed_by = $5",
        )
        .bind(status)
        .bind(attempts)
        .bind(error)
        .bind(id)
        .bind(worker)
        .execute(&mut *c)
        .await?
        .rows_affected()
    });
    Ok(n == 1)
}

/// Puts the row back in the queue, due at `next_attempt_at` — if `worker` still holds it.
pub async fn retry_at(
    conn: &mut Conn<'_>,
    id: Uuid,
    worker: &str,
    attempts: i64,
    next_attempt_at: OffsetDateTime,
    error: &str,
) -> Result<bool> {
    let n = with_conn!(conn, c => {
        sqlx::query(
            "UPDATE outbox SET status = 'pending', attempts = $1, next_attempt_at = $2, last_error = $3, \
             claimed_at = NULL, claimed_by = NULL WHERE id = $4 AND status = 'sending' AND claimed_by = $5",
        )
        .bind(attempts)
        .bind(to_millis(next_attempt_at))
        .bind(error)
        .bind(id)
        .bind(worker)
        .execute(&mut *c)
        .await?
        .rows_affected()
    });
    Ok(n == 1)
}

/// Records, before the platform is called, that this attempt uses the reply token.
pub async fn mark_reply_token_used(conn: &mut Conn<'_>, id: Uuid) -> Result<()> {
    with_conn!(conn, c => {
        sqlx::query("UPDATE outbox SET reply_token_used = TRUE WHERE id = $1").bind(id).execute(&mut *c).await?.rows_affected()
    });
    Ok(())
}

/// Whether the row's current attempt used a reply token.
pub async fn reply_token_used(conn: &mut Conn<'_>, id: Uuid) -> Result<bool> {
    let used: Option<bool> = with_conn!(conn, c => {
        sqlx::query_scalar("SELECT reply_token_used FROM outbox WHERE id = $1").bind(id).fetch_optional(&mut *c).await?
    });
    Ok(used.unwrap_or(false))
}
