//! Saved views: a name and a query in the search language, personal (an owner) or shared.

use switchboard_domain::{AgentId, WorkspaceId};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{Conn, Result, from_millis, to_millis, with_conn};

/// A stored view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedView {
    pub id: Uuid,
    /// `None`: shared with every agent of the workspace.
    pub owner_id: Option<AgentId>,
    pub name: String,
    pub query: String,
    pub position: i64,
    pub created_at: OffsetDateTime,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    owner_id: Option<Uuid>,
    name: String,
    query: String,
    position: i64,
    created_at: i64,
}

impl From<Row> for SavedView {
    fn from(r: Row) -> Self {
        SavedView {
            id: r.id,
            owner_id: r.owner_id.map(Into::into),
            name: r.name,
            query: r.query,
            position: r.position,
            created_at: from_millis(r.created_at),
        }
    }
}

/// The views `agent` sees: the shared ones and their own, in their order.
pub async fn visible_to(conn: &mut Conn<'_>, workspace: WorkspaceId, agent: AgentId) -> Result<Vec<SavedView>> {
    let rows: Vec<Row> = with_conn!(conn, c => {
        sqlx::query_as(
            "SELECT id, owner_id, name, query, position, created_at FROM views \
             WHERE workspace_id = $1 AND (owner_id IS NULL OR owner_id = $2) ORDER BY position, created_at, id",
        )
        .bind(workspace.0)
        .bind(agent.0)
        .fetch_all(&mut *c)
        .await?
    });
    Ok(rows.into_iter().map(Into::into).collect())
}

/// Saves a view at the end of the list.
pub async fn create(
    conn: &mut Conn<'_>,
    workspace: WorkspaceId,
    owner: Option<AgentId>,
    name: &str,
    query: &str,
    now: OffsetDateTime,
) -> Result<SavedView> {
    let id = Uuid::now_v7();
    let position: i64 = with_conn!(conn, c => {
        let position: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(position), 0) + 1 FROM views WHERE workspace_id = $1")
            .bind(workspace.0)
            .fetch_one(&mut *c)
            .await?;
        sqlx::query(
            "INSERT INTO views (id, workspace_id, owner_id, name, query, position, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
        )
        .bind(id)
        .bind(workspace.0)
        .bind(owner.map(|o| o.0))
        .bind(name)
        .bind(query)
        .bind(position)
        .bind(to_millis(now))
        .execute(&mut *c)
        .await?;
        position
    });
    Ok(SavedView { id, owner_id: owner, name: name.to_owned(), query: query.to_owned(), position, created_at: now })
}

/// One view of the workspace, whoever owns it.
pub async fn get(conn: &mut Conn<'_>, workspace: WorkspaceId, id: Uuid) -> Result<Option<SavedView>> {
    let row: Option<Row> = with_conn!(conn, c => {
        sqlx::query_as(
            "SELECT id, owner_id, name, query, position, created_at FROM views WHERE workspace_id = $1 AND id = $2",
        )
        .bind(workspace.0)
        .bind(id)
        .fetch_optional(&mut *c)
        .await?
    });
    Ok(row.map(Into::into))
}

/// Deletes a view; whether it existed.
pub async fn delete(conn: &mut Conn<'_>, workspace: WorkspaceId, id: Uuid) -> Result<bool> {
    let n = with_conn!(conn, c => {
        sqlx::query("DELETE FROM views WHERE workspace_id = $1 AND id = $2")
            .bind(workspace.0)
            .bind(id)
            .execute(&mut *c)
            .await?
            .rows_affected()
    });
    Ok(n == 1)
}
