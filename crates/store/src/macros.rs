//! Macros: canned actions agents apply to a ticket.

use switchboard_domain::WorkspaceId;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{Conn, Result, StoreError, json, to_millis, with_conn};

/// A macro as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Macro {
    pub id: Uuid,
    pub name: String,
    /// The reply it sends, with placeholders (`{{first_name}}`, …); none: it sends nothing.
    pub body: Option<String>,
    /// The status it leaves the ticket in.
    pub status: Option<String>,
    pub add_tags: Vec<String>,
    /// `me`, `none` or an agent's id; none: the assignee stays.
    pub assignee: Option<String>,
}

pub async fn insert(conn: &mut Conn<'_>, workspace: WorkspaceId, m: &Macro, now: OffsetDateTime) -> Result<()> {
    let tags = serde_json::to_string(&m.add_tags).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    with_conn!(conn, c => {
        sqlx::query(
            "INSERT INTO macros (id, workspace_id, name, body, status, add_tags, assignee, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(m.id)
        .bind(workspace.0)
        .bind(&m.name)
        .bind(&m.body)
        .bind(&m.status)
        .bind(tags)
        .bind(&m.assignee)
        .bind(to_millis(now))
        .execute(&mut *c)
        .await?
        .rows_affected()
    });
    Ok(())
}

type Row = (Uuid, String, Option<String>, Option<String>, String, Option<String>);

fn from_row((id, name, body, status, tags, assignee): Row) -> Result<Macro> {
    Ok(Macro { id, name, body, status, add_tags: json(&tags, "macro tags")?, assignee })
}

/// The workspace's macros by name.
pub async fn list(conn: &mut Conn<'_>, workspace: WorkspaceId) -> Result<Vec<Macro>> {
    let rows: Vec<Row> = with_conn!(conn, c => {
        sqlx::query_as(
            "SELECT id, name, body, status, add_tags, assignee FROM macros WHERE workspace_id = $1 ORDER BY name, id",
        )
        .bind(workspace.0)
        .fetch_all(&mut *c)
        .await?
    });
    rows.into_iter().map(from_row).collect()
}

pub async fn get(conn: &mut Conn<'_>, workspace: WorkspaceId, id: Uuid) -> Result<Option<Macro>> {
    let row: Option<Row> = with_conn!(conn, c => {
        sqlx::query_as(
            "SELECT id, name, body, status, add_tags, assignee FROM macros WHERE workspace_id = $1 AND id = $2",
        )
        .bind(workspace.0)
        .bind(id)
        .fetch_optional(&mut *c)
        .await?
    });
    row.map(from_row).transpose()
}

pub async fn delete(conn: &mut Conn<'_>, workspace: WorkspaceId, id: Uuid) -> Result<bool> {
    let n = with_conn!(conn, c => {
        sqlx::query("DELETE FROM macros WHERE workspace_id = $1 AND id = $2")
            .bind(workspace.0)
            .bind(id)
            .execute(&mut *c)
            .await?
            .rows_affected()
    });
    Ok(n == 1)
}
