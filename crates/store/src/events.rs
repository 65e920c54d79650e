//! The append-only event log of each ticket.

use switchboard_domain::{AuthorKind, Event, EventKind, TicketId, WorkspaceId};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{Conn, Result, StoreError, from_millis, json, to_millis, with_conn};

/// Who caused an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    pub kind: AuthorKind,
    pub id: Option<Uuid>,
}

impl Actor {
    pub const SYSTEM: Actor = Actor { kind: AuthorKind::System, id: None };
}

fn actor_str(kind: AuthorKind) -> &'static str {
    match kind {
        AuthorKind::Contact => "contact",
        AuthorKind::Agent => "agent",
        AuthorKind::Automation => "automation",
        AuthorKind::System => "system",
    }
}

pub async fn insert(
    conn: &mut Conn<'_>,
    workspace: WorkspaceId,
    ticket: TicketId,
    kind: EventKind,
    actor: Actor,
    data: serde_json::Value,
    now: OffsetDateTime,
) -> Result<()> {
    with_conn!(conn, c => {
        sqlx::query(
            "INSERT INTO events (id, workspace_id, ticket_id, kind, actor_kind, actor_id, data, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(Uuid::now_v7())
        .bind(workspace.0)
        .bind(ticket.0)
        .bind(kind.as_str())
        .bind(actor_str(actor.kind))
        .bind(actor.id)
        .bind(data.to_string())
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
    ticket_id: Uuid,
    kind: String,
    actor_kind: String,
    actor_id: Option<Uuid>,
    data: String,
    created_at: i64,
}

/// The ticket's events, oldest first.
pub async fn list_for_ticket(conn: &mut Conn<'_>, workspace: WorkspaceId, ticket: TicketId) -> Result<Vec<Event>> {
    let rows: Vec<Row> = with_conn!(conn, c => {
        sqlx::query_as(
            "SELECT id, ticket_id, kind, actor_kind, actor_id, data, created_at FROM events \
             WHERE workspace_id = $1 AND ticket_id = $2 ORDER BY created_at, id",
        )
        .bind(workspace.0)
        .bind(ticket.0)
        .fetch_all(&mut *c)
        .await?
    });
    rows.into_iter()
        .map(|r| {
            Ok(Event {
                id: r.id.into(),
                ticket_id: r.ticket_id.into(),
                kind: r.kind,
                actor_kind: serde_json::from_value(serde_json::Value::String(r.actor_kind.clone()))
                    .map_err(|_| StoreError::Corrupt(format!("event actor `{}`", r.actor_kind)))?,
                actor_id: r.actor_id,
                data: json(&r.data, "event data")?,
                created_at: from_millis(r.created_at),
            })
        })
        .collect()
}
