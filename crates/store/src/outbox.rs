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
