//! Files: the rows that describe bytes kept on disk (uploads and cached inbound media), and
//! the installation's secrets.

use switchboard_domain::{MessageId, WorkspaceId};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{Conn, Result, from_millis, to_millis, with_conn};

/// A stored file.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct FileRow {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub filename: String,
    pub mime_type: String,
    pub size: i64,
    pub sha256: String,
    /// `upload` (an agent's) or `inbound` (fetched from a platform).
    pub source: String,
    created_at: i64,
}

impl FileRow {
    pub fn created_at(&self) -> OffsetDateTime {
        from_millis(self.created_at)
    }
}

const COLUMNS: &str = "SELECT id, workspace_id, filename, mime_type, size, sha256, source, created_at FROM files";

/// A file to record (its bytes are already on disk under its id).
#[derive(Debug, Clone)]
pub struct NewFile<'a> {
    pub id: Uuid,
    pub workspace_id: WorkspaceId,
    pub filename: &'a str,
    pub mime_type: &'a str,
    pub size: i64,
    pub sha256: &'a str,
    pub source: &'a str,
    /// For cached inbound media: the message and the attachment's position in it.
    pub inbound: Option<(MessageId, i64)>,
}

pub async fn insert(conn: &mut Conn<'_>, new: &NewFile<'_>, now: OffsetDateTime) -> Result<()> {
    with_conn!(conn, c => {
        sqlx::query(
            "INSERT INTO files (id, workspace_id, filename, mime_type, size, sha256, source, message_id, \
             attachment_index, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(new.id)
        .bind(new.workspace_id.0)
        .bind(new.filename)
        .bind(new.mime_type)
        .bind(new.size)
        .bind(new.sha256)
        .bind(new.source)
        .bind(new.inbound.map(|(m, _)| m.0))
        .bind(new.inbound.map(|(_, i)| i))
        .bind(to_millis(now))
        .execute(&mut *c)
        .await?
        .rows_affected()
    });
    Ok(())
}

/// A file of the workspace.
pub async fn get(conn: &mut Conn<'_>, workspace: WorkspaceId, id: Uuid) -> Result<Option<FileRow>> {
    let row: Option<FileRow> = with_conn!(conn, c => {
        sqlx::query_as(sqlx::AssertSqlSafe(format!("{COLUMNS} WHERE workspace_id = $1 AND id = $2")))
            .bind(workspace.0)
            .bind(id)
            .fetch_optional(&mut *c)
            .await?
    });
    Ok(row)
}

/// A file by id alone: for signed public links, whose signature is the authorisation.
pub async fn get_any(conn: &mut Conn<'_>, id: Uuid) -> Result<Option<FileRow>> {
    let row: Option<FileRow> = with_conn!(conn, c => {
        sqlx::query_as(sqlx::AssertSqlSafe(format!("{COLUMNS} WHERE id = $1"))).bind(id).fetch_optional(&mut *c).await?
    });
    Ok(row)
}

/// The cached copy of an inbound attachment, if it was fetched before.
pub async fn cached(conn: &mut Conn<'_>, message: MessageId, index: i64) -> Result<Option<FileRow>> {
    let row: Option<FileRow> = with_conn!(conn, c => {
        sqlx::query_as(sqlx::AssertSqlSafe(format!("{COLUMNS} WHERE message_id = $1 AND attachment_index = $2")))
            .bind(message.0)
            .bind(index)
            .fetch_optional(&mut *c)
            .await?
    });
    Ok(row)
}

/// The installation's secret `name`, made with `make` (and kept) the first time it is asked for.
pub async fn server_secret(conn: &mut Conn<'_>, name: &str, make: impl FnOnce() -> String) -> Result<String> {
    // Read first: this runs on every public media request, which must not take the write lock.
    let existing: Option<String> = with_conn!(conn, c => {
        sqlx::query_scalar("SELECT value FROM server_secrets WHERE name = $1").bind(name).fetch_optional(&mut *c).await?
    });
    if let Some(value) = existing {
        return Ok(value);
    }
    let value = make();
    with_conn!(conn, c => {
        sqlx::query("INSERT INTO server_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
            .bind(name)
            .bind(&value)
            .execute(&mut *c)
            .await?
            .rows_affected()
    });
    let stored: String = with_conn!(conn, c => {
        sqlx::query_scalar("SELECT value FROM server_secrets WHERE name = $1").bind(name).fetch_one(&mut *c).await?
    });
    Ok(stored)
}
