//! Contacts (customers) and their identities on each channel account.

use switchboard_domain::{ChannelAccountId, Contact, ContactId, Identity, IdentityId, InboundSender, WorkspaceId};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::params::Params;
use crate::{Conn, Param, Result, StoreError, bind_all, from_millis, to_millis, with_conn};

#[derive(sqlx::FromRow)]
struct ContactRow {
    id: Uuid,
    workspace_id: Uuid,
    name: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    blocked: bool,
    created_at: i64,
    updated_at: i64,
}

impl From<ContactRow> for Contact {
    fn from(r: ContactRow) -> Self {
        Contact {
            id: r.id.into(),
            workspace_id: r.workspace_id.into(),
            name: r.name,
            email: r.email,
            phone: r.phone,
            blocked: r.blocked,
            created_at: from_millis(r.created_at),
            updated_at: from_millis(r.updated_at),
        }
    }
}

const CONTACT_COLUMNS: &str =
    "SELECT id, workspace_id, name, email, phone, blocked, created_at, updated_at FROM contacts";

#[derive(sqlx::FromRow)]
struct IdentityRow {
    id: Uuid,
    contact_id: Uuid,
    channel_account_id: Uuid,
    external_id: String,
    name: Option<String>,
    phone: Option<String>,
    email: Option<String>,
    username: Option<String>,
    avatar_url: Option<String>,
    last_inbound_at: Option<i64>,
}

impl From<IdentityRow> for Identity {
    fn from(r: IdentityRow) -> Self {
        Identity {
            id: r.id.into(),
            contact_id: r.contact_id.into(),
            channel_account_id: r.channel_account_id.into(),
            external_id: r.external_id,
            name: r.name,
            phone: r.phone,
            email: r.email,
            username: r.username,
            avatar_url: r.avatar_url,
            last_inbound_at: r.last_inbound_at.map(from_millis),
        }
    }
}

const IDENTITY_COLUMNS: &str = "SELECT id, contact_id, channel_account_id, external_id, name, phone, email, \
                                username, avatar_url, last_inbound_at FROM identities";

/// A contact to create.
#[derive(Debug, Clone, Default)]
pub struct NewContact {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

pub async fn create(
    conn: &mut Conn<'_>,
    workspace: WorkspaceId,
    new: &NewContact,
    now: OffsetDateTime,
) -> Result<ContactId> {
    let id = Uuid::now_v7();
    with_conn!(conn, c => {
        sqlx::query(
            "INSERT INTO contacts (id, workspace_id, name, email, phone, blocked, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, FALSE, $6, $6)",
        )
        .bind(id)
        .bind(workspace.0)
        .bind(&new.name)
        .bind(&new.email)
        .bind(&new.phone)
        .bind(to_millis(now))
        .execute(&mut *c)
        .await?
            .rows_affected()
    });
    if new.name.is_some() || new.email.is_some() || new.phone.is_some() {
        crate::search::reindex_contact(conn, id.into()).await?;
    }
    Ok(id.into())
}

/// A live (not merged away) contact of the workspace.
pub async fn get(conn: &mut Conn<'_>, workspace: WorkspaceId, id: ContactId) -> Result<Option<Contact>> {
    let row: Option<ContactRow> = with_conn!(conn, c => {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{CONTACT_COLUMNS} WHERE workspace_id = $1 AND id = $2 AND merged_into IS NULL"
        )))
        .bind(workspace.0)
        .bind(id.0)
        .fetch_optional(&mut *c)
        .await?
    });
    Ok(row.map(Into::into))
}

/// The names of the contacts `ids` (a page's requesters), in one query; unnamed ones are left out.
pub async fn names_of(
    conn: &mut Conn<'_>,
    workspace: WorkspaceId,
    ids: &[ContactId],
) -> Result<Vec<(ContactId, String)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut p = Params::default();
    let ws = p.push(Param::Uuid(workspace.0));
    let list: Vec<String> = ids.iter().map(|id| p.push(Param::Uuid(id.0))).collect();
    let sql = format!(
        "SELECT id, name FROM contacts WHERE workspace_id = {ws} AND name IS NOT NULL AND id IN ({})",
        list.join(", ")
    );
    let rows: Vec<(Uuid, String)> = with_conn!(conn, c => {
        bind_all!(sqlx::query_as(sqlx::AssertSqlSafe(sql)), &p.0).fetch_all(&mut *c).await?
    });
    Ok(rows.into_iter().map(|(id, name)| (id.into(), name)).collect())
}

/// Contacts whose name, e-mail or phone contains `q` (all when `q` is empty), most recently
/// updated first, after the `(updated_at, id)` cursor.
pub async fn list(
    conn: &mut Conn<'_>,
    workspace: WorkspaceId,
    q: Option<&str>,
    after: Option<(i64, Uuid)>,
    limit: i64,
) -> Result<Vec<Contact>> {
    let mut p = Params::default();
    let mut sql =
        format!("{CONTACT_COLUMNS} WHERE workspace_id = {} AND merged_into IS NULL", p.push(Param::Uuid(workspace.0)));
    if let Some(q) = q.filter(|q| !q.trim().is_empty()) {
        let like =
            format!("%{}%", q.trim().to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
        let n = p.push(Param::Text(like));
        sql.push_str(&format!(
            " AND (LOWER(COALESCE(name, '')) LIKE {n} ESCAPE '\\' OR LOWER(COALESCE(email, '')) LIKE {n} ESCAPE '\\' \
             OR COALESCE(phone, '') LIKE {n} ESCAPE '\\')"
        ));
    }
    if let Some((at, id)) = after {
        let a = p.push(Param::Int(at));
        let i = p.push(Param::Uuid(id));
        sql.push_str(&format!(" AND (updated_at < {a} OR (updated_at = {a} AND id < {i}))"));
    }
    sql.push_str(&format!(" ORDER BY updated_at DESC, id DESC LIMIT {}", p.push(Param::Int(limit))));
    let rows: Vec<ContactRow> = with_conn!(conn, c => {
        bind_all!(sqlx::query_as(sqlx::AssertSqlSafe(sql)), &p.0).fetch_all(&mut *c).await?
    });
    Ok(rows.into_iter().map(Into::into).collect())
}

/// Changes to a contact's profile. `None` leaves a field as it is; `Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct ContactPatch {
    pub name: Option<Option<String>>,
    pub email: Option<Option<String>>,
    pub phone: Option<Option<String>>,
    pub blocked: Option<bool>,
}

pub async fn update(conn: &mut Conn<'_>, contact: &Contact, now: OffsetDateTime) -> Result<()> {
    with_conn!(conn, c => {
        sqlx::query(
            "UPDATE contacts SET name = $1, email = $2, phone = $3, blocked = $4, updated_at = $5 \
             WHERE workspace_id = $6 AND id = $7",
        )
        .bind(&contact.name)
        .bind(&contact.email)
        .bind(&contact.phone)
        .bind(contact.blocked)
        .bind(to_millis(now))
        .bind(contact.workspace_id.0)
        .bind(contact.id.0)
        .execute(&mut *c)
        .await?
            .rows_affected()
    });
    crate::search::reindex_contact(conn, contact.id).await
}

/// The identity of `external_id` on the account, with whether its contact is blocked.
pub async fn find_identity(
    conn: &mut Conn<'_>,
    account: ChannelAccountId,
    external_id: &str,
) -> Result<Option<(Identity, bool)>> {
    let row: Option<IdentityRow> = with_conn!(conn, c => {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{IDENTITY_COLUMNS} WHERE channel_account_id = $1 AND external_id = $2"
        )))
        .bind(account.0)
        .bind(external_id)
        .fetch_optional(&mut *c)
        .await?
    });
    let Some(row) = row else { return Ok(None) };
    let blocked: bool = with_conn!(conn, c => {
        sqlx::query_scalar("SELECT blocked FROM contacts WHERE id = $1")
            .bind(row.contact_id)
            .fetch_one(&mut *c)
            .await?
    });
    Ok(Some((row.into(), blocked)))
}

/// Records a new identity of `contact`. A racing writer that made the same identity first
/// makes this a [`StoreError::Conflict`].
pub async fn create_identity(
    conn: &mut Conn<'_>,
    workspace: WorkspaceId,
    contact: ContactId,
    account: ChannelAccountId,
    sender: &InboundSender,
    now: OffsetDateTime,
) -> Result<IdentityId> {
    let id = Uuid::now_v7();
    with_conn!(conn, c => {
        sqlx::query(
            "INSERT INTO identities (id, workspace_id, contact_id, channel_account_id, external_id, name, phone, \
             email, username, avatar_url, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(id)
        .bind(workspace.0)
        .bind(contact.0)
        .bind(account.0)
        .bind(&sender.external_id)
        .bind(&sender.name)
        .bind(&sender.phone)
        .bind(&sender.email)
        .bind(&sender.username)
        .bind(&sender.avatar_url)
        .bind(to_millis(now))
        .execute(&mut *c)
        .await?
            .rows_affected()
    });
    crate::search::reindex_contact(conn, contact).await?;
    Ok(id.into())
}

/// Keeps the platform's latest user info on the identity (a field the platform did not send
/// this time is left as it was) and moves its last inbound time forward, never back.
pub async fn refresh_identity(
    conn: &mut Conn<'_>,
    id: IdentityId,
    sender: &InboundSender,
    inbound_at: OffsetDateTime,
) -> Result<()> {
    // Most messages repeat what the platform said last time: the search index is rebuilt only
    // when a name, number, address or handle actually changed.
    let changed: Option<Uuid> = with_conn!(conn, c => {
        sqlx::query(
            "UPDATE identities SET avatar_url = COALESCE($1, avatar_url), \
             last_inbound_at = CASE WHEN last_inbound_at IS NULL OR last_inbound_at < $2 THEN $2 ELSE last_inbound_at END \
             WHERE id = $3",
        )
        .bind(&sender.avatar_url)
        .bind(to_millis(inbound_at))
        .bind(id.0)
        .execute(&mut *c)
        .await?;
        sqlx::query_scalar(
            "UPDATE identities SET name = COALESCE($1, name), phone = COALESCE($2, phone), \
             email = COALESCE($3, email), username = COALESCE($4, username) \
             WHERE id = $5 AND (COALESCE($1, name) IS DISTINCT FROM name OR COALESCE($2, phone) IS DISTINCT FROM phone \
             OR COALESCE($3, email) IS DISTINCT FROM email OR COALESCE($4, username) IS DISTINCT FROM username) \
             RETURNING contact_id",
        )
        .bind(&sender.name)
        .bind(&sender.phone)
        .bind(&sender.email)
        .bind(&sender.username)
        .bind(id.0)
        .fetch_optional(&mut *c)
        .await?
    });
    if let Some(contact) = changed {
        crate::search::reindex_contact(conn, contact.into()).await?;
    }
    Ok(())
}

pub async fn identities_of(conn: &mut Conn<'_>, workspace: WorkspaceId, contact: ContactId) -> Result<Vec<Identity>> {
    let rows: Vec<IdentityRow> = with_conn!(conn, c => {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{IDENTITY_COLUMNS} WHERE workspace_id = $1 AND contact_id = $2 ORDER BY created_at, id"
        )))
        .bind(workspace.0)
        .bind(contact.0)
        .fetch_all(&mut *c)
        .await?
    });
    Ok(rows.into_iter().map(Into::into).collect())
}

/// The identity of `contact` on `account`, if it has one (the most recent if several).
pub async fn identity_on(
    conn: &mut Conn<'_>,
    workspace: WorkspaceId,
    contact: ContactId,
    account: ChannelAccountId,
) -> Result<Option<Identity>> {
    let row: Option<IdentityRow> = with_conn!(conn, c => {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{IDENTITY_COLUMNS} WHERE workspace_id = $1 AND contact_id = $2 AND channel_account_id = $3 \
             ORDER BY created_at DESC, id DESC LIMIT 1"
        )))
        .bind(workspace.0)
        .bind(contact.0)
        .bind(account.0)
        .fetch_optional(&mut *c)
        .await?
    });
    Ok(row.map(Into::into))
}

/// Moves everything of contact `from` to `into` and marks `from` as merged. Returns the ids
/// of the tickets that moved, for their events.
pub async fn merge(
    conn: &mut Conn<'_>,
    workspace: WorkspaceId,
    from: ContactId,
    into: ContactId,
    now: OffsetDateTime,
) -> Result<Vec<Uuid>> {
    let moved: Vec<Uuid> = with_conn!(conn, c => {
        let moved: Vec<Uuid> = sqlx::query_scalar(
            "SELECT id FROM tickets WHERE workspace_id = $1 AND contact_id = $2 ORDER BY created_at",
        )
        .bind(workspace.0)
        .bind(from.0)
        .fetch_all(&mut *c)
        .await?;
        for sql in [
            "UPDATE identities SET contact_id = $1 WHERE workspace_id = $2 AND contact_id = $3",
            "UPDATE conversations SET contact_id = $1 WHERE workspace_id = $2 AND contact_id = $3",
            "UPDATE tickets SET contact_id = $1 WHERE workspace_id = $2 AND contact_id = $3",
        ] {
            sqlx::query(sql).bind(into.0).bind(workspace.0).bind(from.0).execute(&mut *c).await?;
        }
        // A participant of a thread both contacts wrote in stays one participant.
        sqlx::query(
            "UPDATE ticket_participants SET contact_id = $1 WHERE workspace_id = $2 AND contact_id = $3 \
             AND ticket_id NOT IN (SELECT ticket_id FROM ticket_participants WHERE contact_id = $1)",
        )
        .bind(into.0)
        .bind(workspace.0)
        .bind(from.0)
        .execute(&mut *c)
        .await?;
        sqlx::query("DELETE FROM ticket_participants WHERE workspace_id = $1 AND contact_id = $2")
            .bind(workspace.0)
            .bind(from.0)
            .execute(&mut *c)
            .await?;
        sqlx::query("UPDATE messages SET author_id = $1 WHERE workspace_id = $2 AND author_kind = 'contact' AND author_id = $3")
            .bind(into.0)
            .bind(workspace.0)
            .bind(from.0)
            .execute(&mut *c)
            .await?;
        let n = sqlx::query("UPDATE contacts SET merged_into = $1, updated_at = $2 WHERE workspace_id = $3 AND id = $4")
            .bind(into.0)
            .bind(to_millis(now))
            .bind(workspace.0)
            .bind(from.0)
            .execute(&mut *c)
            .await?;
        if n.rows_affected() != 1 {
            return Err(StoreError::Corrupt("merged contact vanished".into()));
        }
        moved
    });
    crate::search::reindex_contact(conn, from).await?;
    crate::search::reindex_contact(conn, into).await?;
    Ok(moved)
}

/// Records whether the person accepts messages on this line (LINE follow, SMS STOP, …).
pub async fn set_subscribed(conn: &mut Conn<'_>, id: IdentityId, subscribed: bool) -> Result<()> {
    with_conn!(conn, c => {
        sqlx::query("UPDATE identities SET subscribed = $1 WHERE id = $2")
            .bind(subscribed)
            .bind(id.0)
            .execute(&mut *c)
            .await?
            .rows_affected()
    });
    Ok(())
}

/// Contacts matching a query of the search language, most recently updated first (or in its
/// `order_by:` by creation or update); `None` when the query names fields users do not have.
pub async fn search(
    conn: &mut Conn<'_>,
    scope: &crate::search::Scope,
    query: &switchboard_domain::search::Query,
    limit: i64,
) -> Result<Option<Vec<Contact>>> {
    use switchboard_domain::search::{Direction, SortField};
    let mut p = Params::default();
    let Some(cond) = crate::search::contact_condition(conn.backend(), scope, query, &mut p) else { return Ok(None) };
    let (key, dir) = match query.order_by {
        Some((SortField::Created, d)) => ("c.created_at", d),
        Some((_, d)) => ("c.updated_at", d),
        None => ("c.updated_at", Direction::Desc),
    };
    let dir = if dir == Direction::Asc { "ASC" } else { "DESC" };
    let sql = format!(
        "{CONTACT_COLUMNS} c WHERE c.workspace_id = {} AND c.merged_into IS NULL AND {cond} \
         ORDER BY {key} {dir}, c.id {dir} LIMIT {}",
        p.push(Param::Uuid(scope.workspace.0)),
        p.push(Param::Int(limit))
    );
    let rows: Vec<ContactRow> = with_conn!(conn, c => {
        bind_all!(sqlx::query_as(sqlx::AssertSqlSafe(sql)), &p.0).fetch_all(&mut *c).await?
    });
    Ok(Some(rows.into_iter().map(Into::into).collect()))
}
