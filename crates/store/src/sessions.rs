//! Agents' browser sessions. The session token itself is never stored, only its SHA-256
//! (computed by the caller), as with API tokens.

use switchboard_domain::{Agent, Availability};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{Conn, Result, StoreError, to_millis, with_conn};

/// A live session as the UI needs it: who, their CSRF token and their availability.
#[derive(Debug, Clone)]
pub struct Session {
    pub id: Uuid,
    pub agent: Agent,
    pub csrf_token: String,
    pub availability: Availability,
    pub expires_at: OffsetDateTime,
}

/// Stores a new session for `agent`, valid until `expires_at`.
pub async fn create(
    conn: &mut Conn<'_>,
    agent: &Agent,
    token_hash: &str,
    csrf_token: &str,
    now: OffsetDateTime,
    expires_at: OffsetDateTime,
) -> Result<Uuid> {
    let id = Uuid::now_v7();
    with_conn!(conn, c => {
        sqlx::query(
            "INSERT INTO sessions (id, workspace_id, agent_id, token_hash, csrf_token, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id)
        .bind(agent.workspace_id.0)
        .bind(agent.id.0)
        .bind(token_hash)
        .bind(csrf_token)
        .bind(to_millis(now))
        .bind(to_millis(expires_at))
        .execute(&mut *c)
        .await?
        .rows_affected()
    });
    Ok(id)
}

#[derive(sqlx::FromRow)]
struct Row {
    session_id: Uuid,
    csrf_token: String,
    expires_at: i64,
    id: Uuid,
    workspace_id: Uuid,
    email: String,
    name: String,
    role: String,
    active: bool,
    availability: String,
}

/// The unexpired session with this token hash, of an active agent.
pub async fn find(conn: &mut Conn<'_>, token_hash: &str, now: OffsetDateTime) -> Result<Option<Session>> {
    let row: Option<Row> = with_conn!(conn, c => {
        sqlx::query_as(
            "SELECT s.id AS session_id, s.csrf_token, s.expires_at, a.id, a.workspace_id, a.email, a.name, a.role, \
             a.active, a.availability \
             FROM sessions s JOIN agents a ON a.id = s.agent_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND a.active = TRUE",
        )
        .bind(token_hash)
        .bind(to_millis(now))
        .fetch_optional(&mut *c)
        .await?
    });
    let Some(r) = row else { return Ok(None) };
    let agent = crate::agents::agent_from_parts(r.id, r.workspace_id, r.email, r.name, &r.role, r.active)?;
    Ok(Some(Session {
        id: r.session_id,
        agent,
        csrf_token: r.csrf_token,
        availability: r
            .availability
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("agent availability `{}`", r.availability)))?,
        expires_at: crate::from_millis(r.expires_at),
    }))
}

/// Ends the session with this token hash (signing out). Ending one that is gone is no error.
pub async fn delete(conn: &mut Conn<'_>, token_hash: &str) -> Result<()> {
    with_conn!(conn, c => {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash).execute(&mut *c).await?.rows_affected()
    });
    Ok(())
}

/// Forgets sessions that ran out, so the table does not grow forever.
pub async fn delete_expired(conn: &mut Conn<'_>, now: OffsetDateTime) -> Result<u64> {
    Ok(with_conn!(conn, c => {
        sqlx::query("DELETE FROM sessions WHERE expires_at <= $1").bind(to_millis(now)).execute(&mut *c).await?.rows_affected()
    }))
}
