//! The live stream's durable log: what agents' streams show, written in the transaction of the
//! change it reports, read back when a stream resumes (`Last-Event-ID`) or when another node
//! announces new rows (Postgres `NOTIFY`), and pruned by age.
//!
//! Ids count per workspace from 1 without gaps. Each batch takes its ids from the workspace's
//! head row, whose lock is held until commit: a second writer waits, so ids become visible in
//! the order they were given and a reader that has seen id `n` has seen everything below it.
//! Writers take the head row as late as they can (just before commit) to hold the lock briefly.

use std::collections::BTreeMap;

use switchboard_domain::WorkspaceId;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{Conn, Result, from_millis, to_millis, with_conn};

/// The Postgres channel a commit's new rows are announced on; the payload is
/// `{workspace id}:{first id}:{last id}`.
pub const NOTIFY_CHANNEL: &str = "switchboard_live";

/// One stored live event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveEventRow {
    pub workspace_id: WorkspaceId,
    pub id: i64,
    pub kind: String,
    pub ticket_id: Uuid,
    pub created_at: OffsetDateTime,
}

/// An event to append: its kind and the ticket it is about.
#[derive(Debug, Clone, Copy)]
pub struct NewLiveEvent<'a> {
    pub kind: &'a str,
    pub ticket_id: Uuid,
}

/// Appends `events` to the workspace's log and returns them with their ids, in order. On
/// Postgres the new range is announced with `pg_notify`, which is delivered on commit only.
pub async fn append(
    conn: &mut Conn<'_>,
    workspace: WorkspaceId,
    events: &[NewLiveEvent<'_>],
    now: OffsetDateTime,
) -> Result<Vec<LiveEventRow>> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let n = events.len() as i64;
    let last: i64 = with_conn!(conn, c => {
        sqlx::query_scalar(
            "INSERT INTO live_event_heads (workspace_id, last_id) VALUES ($1, $2) \
             ON CONFLICT (workspace_id) DO UPDATE SET last_id = live_event_heads.last_id + excluded.last_id \
             RETURNING last_id",
        )
        .bind(workspace.0)
        .bind(n)
        .fetch_one(&mut *c)
        .await?
    });
    let first = last - n + 1;
    let rows: Vec<LiveEventRow> = events
        .iter()
        .zip(first..)
        .map(|(e, id)| LiveEventRow {
            workspace_id: workspace,
            id,
            kind: e.kind.to_owned(),
            ticket_id: e.ticket_id,
            created_at: now,
        })
        .collect();
    // Fixed statements, prepared once per connection: a statement built for each batch size
    // would be parsed again for nearly every batch.
    match conn {
        Conn::Sqlite(c) => {
            for r in &rows {
                sqlx::query(
                    "INSERT INTO live_events (workspace_id, id, kind, ticket_id, created_at) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(workspace.0)
                .bind(r.id)
                .bind(&r.kind)
                .bind(r.ticket_id)
                .bind(to_millis(now))
                .execute(&mut **c)
                .await?;
            }
        }
        Conn::Postgres(c) => {
            // One round trip for the whole batch.
            let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
            let kinds: Vec<String> = rows.iter().map(|r| r.kind.clone()).collect();
            let tickets: Vec<Uuid> = rows.iter().map(|r| r.ticket_id).collect();
            sqlx::query(
                "INSERT INTO live_events (workspace_id, id, kind, ticket_id, created_at) \
                 SELECT $1, e.id, e.kind, e.ticket_id, $5 FROM UNNEST($2::BIGINT[], $3::TEXT[], $4::UUID[]) \
                 AS e (id, kind, ticket_id)",
            )
            .bind(workspace.0)
            .bind(ids)
            .bind(kinds)
            .bind(tickets)
            .bind(to_millis(now))
            .execute(&mut **c)
            .await?;
        }
    }
    if let Conn::Postgres(c) = conn {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(NOTIFY_CHANNEL)
            .bind(format!("{}:{first}:{last}", workspace.0))
            .execute(&mut **c)
            .await?;
    }
    Ok(rows)
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    kind: String,
    ticket_id: Uuid,
    created_at: i64,
}

/// Up to `limit` events of the workspace after `after`, oldest first.
pub async fn since(conn: &mut Conn<'_>, workspace: WorkspaceId, after: i64, limit: i64) -> Result<Vec<LiveEventRow>> {
    let rows: Vec<Row> = with_conn!(conn, c => {
        sqlx::query_as(
            "SELECT id, kind, ticket_id, created_at FROM live_events \
             WHERE workspace_id = $1 AND id > $2 ORDER BY id LIMIT $3",
        )
        .bind(workspace.0)
        .bind(after)
        .bind(limit)
        .fetch_all(&mut *c)
        .await?
    });
    Ok(rows
        .into_iter()
        .map(|r| LiveEventRow {
            workspace_id: workspace,
            id: r.id,
            kind: r.kind,
            ticket_id: r.ticket_id,
            created_at: from_millis(r.created_at),
        })
        .collect())
}

/// What the log of a workspace holds, seen at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    /// The smallest id still held; everything below it was pruned. `None` when nothing is held.
    pub oldest: Option<i64>,
    /// The last id given (0 before the first event).
    pub last: i64,
}

impl Bounds {
    /// Whether every event after `after` is still held, so that a stream can resume from it.
    pub fn can_resume_after(&self, after: i64) -> bool {
        after == self.last || (after < self.last && self.oldest.is_some_and(|oldest| oldest <= after + 1))
    }
}

/// The workspace's oldest held and last given ids, read in one statement (one snapshot).
pub async fn bounds(conn: &mut Conn<'_>, workspace: WorkspaceId) -> Result<Bounds> {
    let (oldest, last): (Option<i64>, Option<i64>) = with_conn!(conn, c => {
        sqlx::query_as(
            "SELECT (SELECT MIN(id) FROM live_events WHERE workspace_id = $1), \
                    (SELECT last_id FROM live_event_heads WHERE workspace_id = $1)",
        )
        .bind(workspace.0)
        .fetch_one(&mut *c)
        .await?
    });
    Ok(Bounds { oldest, last: last.unwrap_or(0) })
}

/// Deletes events written before `cutoff`. Per workspace it deletes a prefix — everything up to
/// the newest old event — so that "the smallest id held" keeps meaning "everything below was
/// pruned" even when clocks made a later id a little older. Returns how many rows went.
pub async fn prune(conn: &mut Conn<'_>, cutoff: OffsetDateTime) -> Result<u64> {
    let cuts: Vec<(Uuid, i64)> = with_conn!(conn, c => {
        sqlx::query_as(
            "SELECT workspace_id, MAX(id) FROM live_events WHERE created_at < $1 GROUP BY workspace_id",
        )
        .bind(to_millis(cutoff))
        .fetch_all(&mut *c)
        .await?
    });
    let cuts: BTreeMap<Uuid, i64> = cuts.into_iter().collect();
    let mut deleted = 0;
    for (workspace, upto) in cuts {
        deleted += with_conn!(conn, c => {
            sqlx::query("DELETE FROM live_events WHERE workspace_id = $1 AND id <= $2")
                .bind(workspace)
                .bind(upto)
                .execute(&mut *c)
                .await?
                .rows_affected()
        });
    }
    Ok(deleted)
}

/// New rows another transaction committed: `first..=last` of the workspace's log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Announcement {
    pub workspace_id: WorkspaceId,
    pub first: i64,
    pub last: i64,
}

impl Announcement {
    fn parse(payload: &str) -> Option<Self> {
        let mut parts = payload.split(':');
        let workspace_id = Uuid::parse_str(parts.next()?).ok()?.into();
        let first = parts.next()?.parse().ok()?;
        let last = parts.next()?.parse().ok()?;
        Some(Self { workspace_id, first, last })
    }
}

/// What a node hears of other nodes' commits (Postgres `LISTEN`).
pub struct Announcements(sqlx::postgres::PgListener);

/// What listening yields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Heard {
    New(Announcement),
    /// The connection was lost and made again: announcements may have been missed meanwhile.
    Reconnected,
    /// The pool was closed: the node is stopping.
    Ended,
}

impl Announcements {
    /// Starts listening; returns once the `LISTEN` is in force, so that every commit after
    /// this returns is heard. `None` on SQLite, which has one node and nothing to hear.
    pub async fn listen(db: &crate::Db) -> Result<Option<Self>> {
        let crate::Db::Postgres(pool) = db else { return Ok(None) };
        let mut listener = sqlx::postgres::PgListener::connect_with(pool).await?;
        listener.listen(NOTIFY_CHANNEL).await?;
        Ok(Some(Self(listener)))
    }

    /// The next announcement. After an error (the database is unreachable), calling again
    /// tries to connect again.
    pub async fn next(&mut self) -> Result<Heard> {
        loop {
            let heard = match self.0.try_recv().await {
                Err(sqlx::Error::PoolClosed) => return Ok(Heard::Ended),
                other => other?,
            };
            match heard {
                None => return Ok(Heard::Reconnected),
                Some(n) => match Announcement::parse(n.payload()) {
                    Some(a) => return Ok(Heard::New(a)),
                    None => tracing::warn!("ignoring a malformed live announcement"),
                },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Bounds;

    #[test]
    fn a_stream_resumes_only_when_nothing_after_it_was_pruned() {
        let held = Bounds { oldest: Some(5), last: 9 };
        assert!(held.can_resume_after(9), "up to date");
        assert!(held.can_resume_after(4), "the next one, 5, is held");
        assert!(held.can_resume_after(7));
        assert!(!held.can_resume_after(3), "4 was pruned");
        assert!(!held.can_resume_after(10), "an id never given (another database)");
        assert!(!held.can_resume_after(-1));
        let all_pruned = Bounds { oldest: None, last: 9 };
        assert!(all_pruned.can_resume_after(9));
        assert!(!all_pruned.can_resume_after(8));
        let fresh = Bounds { oldest: None, last: 0 };
        assert!(fresh.can_resume_after(0));
    }

    #[test]
    fn announcements_name_a_workspace_and_a_range() {
        let ws = uuid::Uuid::now_v7();
        let a = super::Announcement::parse(&format!("{ws}:3:7")).unwrap();
        assert_eq!((a.workspace_id.0, a.first, a.last), (ws, 3, 7));
        assert!(super::Announcement::parse("nonsense").is_none());
        assert!(super::Announcement::parse(&format!("{ws}:3")).is_none());
    }
}
