//! WhatsApp message templates of each line.

use switchboard_domain::{ChannelAccountId, WorkspaceId};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{Conn, Result, from_millis, to_millis, with_conn};

/// A template as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TemplateRow {
    pub id: Uuid,
    pub channel_account_id: Uuid,
    pub name: String,
    pub language: String,
    /// MARKETING, UTILITY or AUTHENTICATION.
    pub category: String,
    pub body: String,
    /// approved, pending, rejected (the platform's verdict), or local (made here, not synced).
    pub status: String,
    created_at: i64,
    updated_at: i64,
}

impl TemplateRow {
    pub fn created_at(&self) -> OffsetDateTime {
        from_millis(self.created_at)
    }
    pub fn updated_at(&self) -> OffsetDateTime {
        from_millis(self.updated_at)
    }
}

const COLUMNS: &str = "SELECT id, channel_account_id, name, language, category, body, status, created_at, updated_at \
                       FROM templates";

/// A template to store.
#[derive(Debug, Clone)]
pub struct NewTemplate<'a> {
    pub name: &'a str,
    pub language: &'a str,
    pub category: &'a str,
    pub body: &'a str,
    pub status: &'a str,
}

/// Creates the template, or updates the one of that name and language (a sync refreshes it).
pub async fn upsert(
    conn: &mut Conn<'_>,
    workspace: WorkspaceId,
    account: ChannelAccountId,
    t: &NewTemplate<'_>,
    now: OffsetDateTime,
) -> Result<TemplateRow> {
    with_conn!(conn, c => {
        sqlx::query(
            "INSERT INTO templates (id, workspace_id, channel_account_id, name, language, category, body, status, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) \
             ON CONFLICT (channel_account_id, name, language) DO UPDATE SET category = excluded.category, \
             body = excluded.body, status = excluded.status, updated_at = excluded.updated_at",
        )
        .bind(Uuid::now_v7())
        .bind(workspace.0)
        .bind(account.0)
        .bind(t.name)
        .bind(t.language)
        .bind(t.category)
        .bind(t.body)
        .bind(t.status)
        .bind(to_millis(now))
        .execute(&mut *c)
        .await?
        .rows_affected()
    });
    find(conn, workspace, account, t.name, t.language)
        .await?
        .ok_or_else(|| crate::StoreError::Corrupt("template vanished".into()))
}

pub async fn find(
    conn: &mut Conn<'_>,
    workspace: WorkspaceId,
    account: ChannelAccountId,
    name: &str,
    language: &str,
) -> Result<Option<TemplateRow>> {
    let row: Option<TemplateRow> = with_conn!(conn, c => {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{COLUMNS} WHERE workspace_id = $1 AND channel_account_id = $2 AND name = $3 AND language = $4"
        )))
        .bind(workspace.0)
        .bind(account.0)
        .bind(name)
        .bind(language)
        .fetch_optional(&mut *c)
        .await?
    });
    Ok(row)
}

pub async fn list(conn: &mut Conn<'_>, workspace: WorkspaceId, account: ChannelAccountId) -> Result<Vec<TemplateRow>> {
    let rows: Vec<TemplateRow> = with_conn!(conn, c => {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{COLUMNS} WHERE workspace_id = $1 AND channel_account_id = $2 ORDER BY name, language"
        )))
        .bind(workspace.0)
        .bind(account.0)
        .fetch_all(&mut *c)
        .await?
    });
    Ok(rows)
}
