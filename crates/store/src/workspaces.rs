//! Workspaces: the tenants, with the settings routing depends on.

use switchboard_domain::{Settings, Workspace, WorkspaceId};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{Conn, Result, to_millis, with_conn};

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    name: String,
    reopen_window_secs: i64,
    close_solved_after_secs: i64,
}

impl From<Row> for Workspace {
    fn from(r: Row) -> Self {
        Workspace {
            id: r.id.into(),
            name: r.name,
            settings: Settings {
                reopen_window_secs: r.reopen_window_secs,
                close_solved_after_secs: r.close_solved_after_secs,
            },
        }
    }
}

const COLUMNS: &str = "SELECT id, name, reopen_window_secs, close_solved_after_secs FROM workspaces";

pub async fn get(conn: &mut Conn<'_>, id: WorkspaceId) -> Result<Option<Workspace>> {
    let row: Option<Row> = with_conn!(conn, c => {
        sqlx::query_as(sqlx::AssertSqlSafe(format!("{COLUMNS} WHERE id = $1")))
            .bind(id.0)
            .fetch_optional(&mut *c)
            .await?
    });
    Ok(row.map(Into::into))
}

pub async fn find_by_name(conn: &mut Conn<'_>, name: &str) -> Result<Option<Workspace>> {
    let row: Option<Row> = with_conn!(conn, c => {
        sqlx::query_as(sqlx::AssertSqlSafe(format!("{COLUMNS} WHERE name = $1")))
            .bind(name)
            .fetch_optional(&mut *c)
            .await?
    });
    Ok(row.map(Into::into))
}

/// The oldest workspace: the one a fresh install's single-tenant commands act on.
pub async fn first(conn: &mut Conn<'_>) -> Result<Option<Workspace>> {
    let row: Option<Row> = with_conn!(conn, c => {
        sqlx::query_as(sqlx::AssertSqlSafe(format!("{COLUMNS} ORDER BY created_at, id LIMIT 1")))
            .fetch_optional(&mut *c)
            .await?
    });
    Ok(row.map(Into::into))
}

/// Creates a workspace with default settings, or returns the one of that name.
pub async fn get_or_create(conn: &mut Conn<'_>, name: &str, now: OffsetDateTime) -> Result<Workspace> {
    with_conn!(conn, c => {
        sqlx::query(
            "INSERT INTO workspaces (id, name, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING",
        )
        .bind(Uuid::now_v7())
        .bind(name)
        .bind(to_millis(now))
        .execute(&mut *c)
        .await?
            .rows_affected()
    });
    find_by_name(conn, name)
        .await?
        .ok_or_else(|| crate::StoreError::Corrupt(format!("workspace `{name}` vanished after insert")))
}

/// Takes the next ticket number of the workspace. The row lock it takes on Postgres orders
/// concurrent ticket creations in one workspace; group commit keeps that cheap.
pub async fn next_ticket_number(conn: &mut Conn<'_>, id: WorkspaceId) -> Result<i64> {
    let n: i64 = with_conn!(conn, c => {
        sqlx::query_scalar(
            "UPDATE workspaces SET next_ticket_number = next_ticket_number + 1 WHERE id = $1 \
             RETURNING next_ticket_number - 1",
        )
        .bind(id.0)
        .fetch_one(&mut *c)
        .await?
    });
    Ok(n)
}

/// What admins set on the settings page beyond the routing settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub business_name: Option<String>,
    pub time_zone: String,
}

pub async fn profile(conn: &mut Conn<'_>, id: WorkspaceId) -> Result<Profile> {
    let row: Option<(Option<String>, String)> = with_conn!(conn, c => {
        sqlx::query_as("SELECT business_name, time_zone FROM workspaces WHERE id = $1")
            .bind(id.0)
            .fetch_optional(&mut *c)
            .await?
    });
    let (business_name, time_zone) = row.ok_or_else(|| crate::StoreError::Corrupt("workspace vanished".into()))?;
    Ok(Profile { business_name, time_zone })
}

/// Writes the workspace's settings and profile.
pub async fn update_settings(
    conn: &mut Conn<'_>,
    id: WorkspaceId,
    settings: &Settings,
    profile: &Profile,
) -> Result<()> {
    with_conn!(conn, c => {
        sqlx::query(
            "UPDATE workspaces SET reopen_window_secs = $1, close_solved_after_secs = $2, business_name = $3, \
             time_zone = $4 WHERE id = $5",
        )
        .bind(settings.reopen_window_secs)
        .bind(settings.close_solved_after_secs)
        .bind(&profile.business_name)
        .bind(&profile.time_zone)
        .bind(id.0)
        .execute(&mut *c)
        .await?
        .rows_affected()
    });
    Ok(())
}

/// Names the business customers see (the widget, the admin pages); `None` clears it.
pub async fn set_business_name(conn: &mut Conn<'_>, id: WorkspaceId, name: Option<&str>) -> Result<()> {
    with_conn!(conn, c => {
        sqlx::query("UPDATE workspaces SET business_name = $1 WHERE id = $2")
            .bind(name)
            .bind(id.0)
            .execute(&mut *c)
            .await?
            .rows_affected()
    });
    Ok(())
}
