//! Custom ticket field definitions. Values are kept on the ticket (`tickets.fields`) by key.

use switchboard_domain::WorkspaceId;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{Conn, Result, StoreError, json, to_millis, with_conn};

/// One field an admin defined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldDef {
    pub id: Uuid,
    pub key: String,
    pub label: String,
    /// text, number, dropdown, checkbox or date
    pub kind: String,
    /// The choices of a dropdown.
    pub options: Vec<String>,
    pub required_on_solve: bool,
}

pub async fn insert(conn: &mut Conn<'_>, workspace: WorkspaceId, def: &FieldDef, now: OffsetDateTime) -> Result<()> {
    let options = serde_json::to_string(&def.options).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    with_conn!(conn, c => {
        sqlx::query(
            "INSERT INTO ticket_fields (id, workspace_id, key, label, kind, options, required_on_solve, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(def.id)
        .bind(workspace.0)
        .bind(&def.key)
        .bind(&def.label)
        .bind(&def.kind)
        .bind(options)
        .bind(def.required_on_solve)
        .bind(to_millis(now))
        .execute(&mut *c)
        .await?
        .rows_affected()
    });
    Ok(())
}

/// The workspace's fields in the order they were made.
pub async fn list(conn: &mut Conn<'_>, workspace: WorkspaceId) -> Result<Vec<FieldDef>> {
    let rows: Vec<(Uuid, String, String, String, String, bool)> = with_conn!(conn, c => {
        sqlx::query_as(
            "SELECT id, key, label, kind, options, required_on_solve FROM ticket_fields \
             WHERE workspace_id = $1 ORDER BY created_at, id",
        )
        .bind(workspace.0)
        .fetch_all(&mut *c)
        .await?
    });
    rows.into_iter()
        .map(|(id, key, label, kind, options, required_on_solve)| {
            Ok(FieldDef { id, key, label, kind, options: json(&options, "field options")?, required_on_solve })
        })
        .collect()
}

/// Removes a definition; values already on tickets stay as plain fields.
pub async fn delete(conn: &mut Conn<'_>, workspace: WorkspaceId, id: Uuid) -> Result<bool> {
    let n = with_conn!(conn, c => {
        sqlx::query("DELETE FROM ticket_fields WHERE workspace_id = $1 AND id = $2")
            .bind(workspace.0)
            .bind(id)
            .execute(&mut *c)
            .await?
            .rows_affected()
    });
    Ok(n == 1)
}
