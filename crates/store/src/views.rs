//! Saved views: a name, a query in the search language and the columns of their ticket table,
//! personal (an owner) or shared. Shared views are listed by `position`, then personal ones.

use switchboard_domain::{AgentId, WorkspaceId};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{Conn, Result, StoreError, from_millis, json, to_millis, with_conn};

/// A stored view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedView {
    pub id: Uuid,
    /// `None`: shared with every agent of the workspace.
    pub owner_id: Option<AgentId>,
    pub name: String,
    pub query: String,
    /// Column ids in their order; `None`: the default columns.
    pub columns: Option<Vec<String>>,
    pub position: i64,
    pub created_at: OffsetDateTime,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    owner_id: Option<Uuid>,
    name: String,
    query: String,
    columns: Option<String>,
    position: i64,
    created_at: i64,
}

impl TryFrom<Row> for SavedView {
    type Error = StoreError;

    fn try_from(r: Row) -> Result<Self> {
        Ok(SavedView {
            id: r.id,
            owner_id: r.owner_id.map(Into::into),
            name: r.name,
            query: r.query,
            columns: r.columns.as_deref().map(|c| json(c, "view columns")).transpose()?,
            position: r.position,
            created_at: from_millis(r.created_at),
        })
    }
}

const SELECT: &str = "SELECT id, owner_id, name, query, columns, position, created_at FROM views";

fn columns_json(columns: Option<&[String]>) -> Result<Option<String>> {
    columns.map(|c| serde_json::to_string(c).map_err(|e| StoreError::Corrupt(e.to_string()))).transpose()
}

fn views(rows: Vec<Row>) -> Result<Vec<SavedView>> {
    rows.into_iter().map(TryInto::try_into).collect()
}

/// The views `agent` sees: the shared ones in their order, then their own.
pub async fn visible_to(conn: &mut Conn<'_>, workspace: WorkspaceId, agent: AgentId) -> Result<Vec<SavedView>> {
    let rows: Vec<Row> = with_conn!(conn, c => {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{SELECT} WHERE workspace_id = $1 AND (owner_id IS NULL OR owner_id = $2) \
             ORDER BY CASE WHEN owner_id IS NULL THEN 0 ELSE 1 END, position, created_at, id"
        )))
        .bind(workspace.0)
        .bind(agent.0)
        .fetch_all(&mut *c)
        .await?
    });
    views(rows)
}

/// The workspace's shared views in their order.
pub async fn shared(conn: &mut Conn<'_>, workspace: WorkspaceId) -> Result<Vec<SavedView>> {
    let rows: Vec<Row> = with_conn!(conn, c => {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{SELECT} WHERE workspace_id = $1 AND owner_id IS NULL ORDER BY position, created_at, id"
        )))
        .bind(workspace.0)
        .fetch_all(&mut *c)
        .await?
    });
    views(rows)
}

/// Saves a view at the end of its list (the shared views, or the owner's).
pub async fn create(
    conn: &mut Conn<'_>,
    workspace: WorkspaceId,
    owner: Option<AgentId>,
    name: &str,
    query: &str,
    columns: Option<&[String]>,
    now: OffsetDateTime,
) -> Result<SavedView> {
    let id = Uuid::now_v7();
    let columns_text = columns_json(columns)?;
    let position: i64 = with_conn!(conn, c => {
        let position: i64 = sqlx::query_scalar(
            "SELECT COALESCE(MAX(position), 0) + 1 FROM views WHERE workspace_id = $1 \
             AND ((owner_id IS NULL AND $2 IS NULL) OR owner_id = $2)",
        )
        .bind(workspace.0)
        .bind(owner.map(|o| o.0))
        .fetch_one(&mut *c)
        .await?;
        sqlx::query(
            "INSERT INTO views (id, workspace_id, owner_id, name, query, columns, position, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
        )
        .bind(id)
        .bind(workspace.0)
        .bind(owner.map(|o| o.0))
        .bind(name)
        .bind(query)
        .bind(columns_text.clone())
        .bind(position)
        .bind(to_millis(now))
        .execute(&mut *c)
        .await?;
        position
    });
    Ok(SavedView {
        id,
        owner_id: owner,
        name: name.to_owned(),
        query: query.to_owned(),
        columns: columns.map(<[String]>::to_vec),
        position,
        created_at: now,
    })
}

/// One view of the workspace, whoever owns it.
pub async fn get(conn: &mut Conn<'_>, workspace: WorkspaceId, id: Uuid) -> Result<Option<SavedView>> {
    let row: Option<Row> = with_conn!(conn, c => {
        sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT} WHERE workspace_id = $1 AND id = $2")))
            .bind(workspace.0)
            .bind(id)
            .fetch_optional(&mut *c)
            .await?
    });
    row.map(TryInto::try_into).transpose()
}

/// Writes a view's name, query and columns; whether it existed.
pub async fn update(
    conn: &mut Conn<'_>,
    workspace: WorkspaceId,
    view: &SavedView,
    now: OffsetDateTime,
) -> Result<bool> {
    let columns = columns_json(view.columns.as_deref())?;
    let n = with_conn!(conn, c => {
        sqlx::query(
            "UPDATE views SET name = $3, query = $4, columns = $5, updated_at = $6 WHERE workspace_id = $1 AND id = $2",
        )
        .bind(workspace.0)
        .bind(view.id)
        .bind(&view.name)
        .bind(&view.query)
        .bind(columns.clone())
        .bind(to_millis(now))
        .execute(&mut *c)
        .await?
        .rows_affected()
    });
    Ok(n == 1)
}

/// Numbers the shared views 1..n in the order of `ids` (which the caller checked are exactly
/// the shared views).
pub async fn set_shared_order(
    conn: &mut Conn<'_>,
    workspace: WorkspaceId,
    ids: &[Uuid],
    now: OffsetDateTime,
) -> Result<()> {
    for (i, id) in ids.iter().enumerate() {
        let position = i64::try_from(i).unwrap_or(i64::MAX - 1) + 1;
        with_conn!(conn, c => {
            sqlx::query(
                "UPDATE views SET position = $3, updated_at = $4 \
                 WHERE workspace_id = $1 AND id = $2 AND owner_id IS NULL",
            )
            .bind(workspace.0)
            .bind(*id)
            .bind(position)
            .bind(to_millis(now))
            .execute(&mut *c)
            .await?
            .rows_affected()
        });
    }
    Ok(())
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
