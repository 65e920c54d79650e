//! The admin audit log: who changed what of the workspace's set-up, and when. Append-only.

use switchboard_domain::{AgentId, WorkspaceId};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{Conn, Result, from_millis, json, to_millis, with_conn};

/// One change an admin made.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub id: Uuid,
    pub agent_id: Option<AgentId>,
    /// The agent's name as it is now (`None` if the change came from no agent).
    pub agent_name: Option<String>,
    /// What was done, `resource.verb` (`agent.created`, `channel_account.updated`, …).
    pub action: String,
    /// What it was done to: `resource:id`.
    pub target: String,
    /// What changed; never a secret or a password.
    pub detail: serde_json::Value,
    pub created_at: OffsetDateTime,
}

pub async fn insert(
    conn: &mut Conn<'_>,
    workspace: WorkspaceId,
    agent: Option<AgentId>,
    action: &str,
    target: &str,
    detail: &serde_json::Value,
    now: OffsetDateTime,
) -> Result<()> {
    with_conn!(conn, c => {
        sqlx::query(
            "INSERT INTO audit_log (id, workspace_id, agent_id, action, target, detail, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(Uuid::now_v7())
        .bind(workspace.0)
        .bind(agent.map(|a| a.0))
        .bind(action)
        .bind(target)
        .bind(detail.to_string())
        .bind(to_millis(now))
        .execute(&mut *c)
        .await?
        .rows_affected()
    });
    Ok(())
}

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    agent_id: Option<Uuid>,
    agent_name: Option<String>,
    action: String,
    target: String,
    detail: String,
    created_at: i64,
}

/// The workspace's newest entries first; `before` (an entry's id) pages back.
pub async fn list(conn: &mut Conn<'_>, workspace: WorkspaceId, before: Option<Uuid>, limit: i64) -> Result<Vec<Entry>> {
    let rows: Vec<Row> = with_conn!(conn, c => {
        sqlx::query_as(
            "SELECT l.id, l.agent_id, a.name AS agent_name, l.action, l.target, l.detail, l.created_at \
             FROM audit_log l LEFT JOIN agents a ON a.id = l.agent_id \
             WHERE l.workspace_id = $1 AND ($2 IS NULL OR l.id < $2) ORDER BY l.id DESC LIMIT $3",
        )
        .bind(workspace.0)
        .bind(before)
        .bind(limit)
        .fetch_all(&mut *c)
        .await?
    });
    rows.into_iter()
        .map(|r| {
            Ok(Entry {
                id: r.id,
                agent_id: r.agent_id.map(Into::into),
                agent_name: r.agent_name,
                action: r.action,
                target: r.target,
                detail: json(&r.detail, "audit detail")?,
                created_at: from_millis(r.created_at),
            })
        })
        .collect()
}
