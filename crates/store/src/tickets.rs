//! Tickets, their tags and participants.

use std::collections::{BTreeMap, HashMap};

use switchboard_domain::search::{Direction, Query, SortField};
use switchboard_domain::{
    AgentId, ChannelAccountId, ChannelKind, ContactId, ConversationId, LatestTicket, Origin, TeamId, Ticket, TicketId,
    TicketKind, TicketStatus, WorkspaceId,
};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::params::Params;
use crate::search::Scope;
use crate::{Conn, Param, Result, StoreError, bind_all, from_millis, json, parse, to_millis, with_conn};

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    workspace_id: Uuid,
    number: i64,
    kind: String,
    status: String,
    priority: String,
    origin: String,
    subject: Option<String>,
    channel: String,
    channel_account_id: Uuid,
    conversation_id: Uuid,
    contact_id: Option<Uuid>,
    assignee_id: Option<Uuid>,
    team_id: Option<Uuid>,
    fields: String,
    follow_up_of: Option<Uuid>,
    public_ticket_id: Option<Uuid>,
    created_at: i64,
    updated_at: i64,
    solved_at: Option<i64>,
    last_inbound_at: Option<i64>,
}

impl Row {
    fn into_ticket(self) -> Result<Ticket> {
        Ok(Ticket {
            id: self.id.into(),
            workspace_id: self.workspace_id.into(),
            number: self.number,
            kind: parse(&self.kind, "ticket kind")?,
            status: parse(&self.status, "ticket status")?,
            priority: parse(&self.priority, "ticket priority")?,
            origin: match self.origin.as_str() {
                "customer" => Origin::Customer,
                "agent" => Origin::Agent,
                other => return Err(StoreError::Corrupt(format!("ticket origin `{other}`"))),
            },
            subject: self.subject,
            channel: parse(&self.channel, "channel kind")?,
            channel_account_id: self.channel_account_id.into(),
            conversation_id: self.conversation_id.into(),
            contact_id: self.contact_id.map(Into::into),
            assignee_id: self.assignee_id.map(Into::into),
            team_id: self.team_id.map(Into::into),
            tags: Vec::new(),
            fields: json::<BTreeMap<String, serde_json::Value>>(&self.fields, "ticket fields")?,
            follow_up_of: self.follow_up_of.map(Into::into),
            public_ticket_id: self.public_ticket_id.map(Into::into),
            participants: Vec::new(),
            created_at: from_millis(self.created_at),
            updated_at: from_millis(self.updated_at),
            solved_at: self.solved_at.map(from_millis),
            last_inbound_at: self.last_inbound_at.map(from_millis),
        })
    }
}

const COLUMNS: &str = "SELECT t.id, t.workspace_id, t.number, t.kind, t.status, t.priority, t.origin, t.subject, \
    t.channel, t.channel_account_id, t.conversation_id, t.contact_id, t.assignee_id, t.team_id, t.fields, \
    t.follow_up_of, t.public_ticket_id, t.created_at, t.updated_at, t.solved_at, t.last_inbound_at FROM tickets t";

fn origin_str(origin: Origin) -> &'static str {
    match origin {
        Origin::Customer => "customer",
        Origin::Agent => "agent",
    }
}

/// A ticket to create. Its number is taken from the workspace's counter.
#[derive(Debug, Clone)]
pub struct NewTicket {
    pub workspace_id: WorkspaceId,
    pub kind: TicketKind,
    pub origin: Origin,
    pub subject: Option<String>,
    pub channel: ChannelKind,
    pub channel_account_id: ChannelAccountId,
    pub conversation_id: ConversationId,
    pub contact_id: Option<ContactId>,
    pub assignee_id: Option<AgentId>,
    pub follow_up_of: Option<TicketId>,
    pub public_ticket_id: Option<TicketId>,
    pub last_inbound_at: Option<OffsetDateTime>,
}

/// Creates a ticket with status new. A racing writer that opened a live ticket on the same
/// conversation first makes this a [`StoreError::Conflict`].
pub async fn create(conn: &mut Conn<'_>, new: &NewTicket, now: OffsetDateTime) -> Result<(TicketId, i64)> {
    let number = crate::workspaces::next_ticket_number(conn, new.workspace_id).await?;
    let id = Uuid::now_v7();
    with_conn!(conn, c => {
        sqlx::query(
            "INSERT INTO tickets (id, workspace_id, number, kind, status, priority, origin, subject, channel, \
             channel_account_id, conversation_id, contact_id, assignee_id, fields, follow_up_of, public_ticket_id, \
             created_at, updated_at, last_inbound_at) \
             VALUES ($1, $2, $3, $4, 'new', 'normal', $5, $6, $7, $8, $9, $10, $11, '{}', $12, $13, $14, $14, $15)",
        )
        .bind(id)
        .bind(new.workspace_id.0)
        .bind(number)
        .bind(new.kind.as_str())
        .bind(origin_str(new.origin))
        .bind(&new.subject)
        .bind(new.channel.as_str())
        .bind(new.channel_account_id.0)
        .bind(new.conversation_id.0)
        .bind(new.contact_id.map(|c| c.0))
        .bind(new.assignee_id.map(|a| a.0))
        .bind(new.follow_up_of.map(|t| t.0))
        .bind(new.public_ticket_id.map(|t| t.0))
        .bind(to_millis(now))
        .bind(new.last_inbound_at.map(to_millis))
        .execute(&mut *c)
        .await?
            .rows_affected()
    });
    Ok((id.into(), number))
}

/// The conversation's live ticket if it has one (a ticket taken out of spam can be older than
/// a closed follow-up), else its most recent one: what routing threads into.
pub async fn latest_in_conversation(conn: &mut Conn<'_>, conversation: ConversationId) -> Result<Option<LatestTicket>> {
    let row: Option<(Uuid, String, Option<i64>)> = with_conn!(conn, c => {
        sqlx::query_as(
            "SELECT id, status, solved_at FROM tickets WHERE conversation_id = $1 \
             ORDER BY CASE WHEN status IN ('new', 'open', 'pending', 'on_hold', 'solved') THEN 0 ELSE 1 END, \
             created_at DESC, id DESC LIMIT 1",
        )
        .bind(conversation.0)
        .fetch_optional(&mut *c)
        .await?
    });
    row.map(|(id, status, solved_at)| {
        Ok(LatestTicket {
            id: id.into(),
            status: parse(&status, "ticket status")?,
            solved_at: solved_at.map(from_millis),
        })
    })
    .transpose()
}

/// A ticket of the workspace with its tags and participants.
pub async fn get(conn: &mut Conn<'_>, workspace: WorkspaceId, id: TicketId) -> Result<Option<Ticket>> {
    let row: Option<Row> = with_conn!(conn, c => {
        sqlx::query_as(sqlx::AssertSqlSafe(format!("{COLUMNS} WHERE t.workspace_id = $1 AND t.id = $2")))
            .bind(workspace.0)
            .bind(id.0)
            .fetch_optional(&mut *c)
            .await?
    });
    let Some(row) = row else { return Ok(None) };
    let mut tickets = vec![row.into_ticket()?];
    fill_details(conn, &mut tickets).await?;
    Ok(tickets.pop())
}

/// Loads tags and participants of `tickets` with two queries, whatever their number.
async fn fill_details(conn: &mut Conn<'_>, tickets: &mut [Ticket]) -> Result<()> {
    if tickets.is_empty() {
        return Ok(());
    }
    let mut p = Params::default();
    let list = tickets.iter().map(|t| p.push(Param::Uuid(t.id.0))).collect::<Vec<_>>().join(", ");
    let tag_sql = format!("SELECT ticket_id, tag FROM ticket_tags WHERE ticket_id IN ({list}) ORDER BY tag");
    let part_sql = format!(
        "SELECT ticket_id, contact_id FROM ticket_participants WHERE ticket_id IN ({list}) ORDER BY created_at, contact_id"
    );
    type Pairs<T> = Vec<(Uuid, T)>;
    let (tags, parts): (Pairs<String>, Pairs<Uuid>) = with_conn!(conn, c => {
        let tags = bind_all!(sqlx::query_as(sqlx::AssertSqlSafe(tag_sql)), &p.0).fetch_all(&mut *c).await?;
        let parts = bind_all!(sqlx::query_as(sqlx::AssertSqlSafe(part_sql)), &p.0).fetch_all(&mut *c).await?;
        (tags, parts)
    });
    let index: HashMap<Uuid, usize> = tickets.iter().enumerate().map(|(i, t)| (t.id.0, i)).collect();
    for (ticket, tag) in tags {
        if let Some(&i) = index.get(&ticket) {
            tickets[i].tags.push(tag);
        }
    }
    for (ticket, contact) in parts {
        if let Some(&i) = index.get(&ticket) {
            tickets[i].participants.push(contact.into());
        }
    }
    Ok(())
}

/// Who a filter means by "assignee".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssigneeFilter {
    Agent(AgentId),
    Nobody,
}

/// Filters of the ticket list; all present filters must hold.
#[derive(Debug, Clone, Default)]
pub struct TicketFilter {
    pub statuses: Vec<TicketStatus>,
    pub assignee: Option<AssigneeFilter>,
    pub team: Option<TeamId>,
    /// Tickets carrying every one of these tags.
    pub tags: Vec<String>,
    pub channel: Option<ChannelKind>,
    pub kind: Option<TicketKind>,
    pub contact: Option<ContactId>,
    /// A query in the search language, with who asks and when; its `order_by:` orders the list.
    pub search: Option<(Query, Scope)>,
}

/// A position in the list: the sort key (by default `updated_at`) and id of the last ticket
/// of the previous page.
pub type Cursor = (i64, Uuid);

/// What a list is ordered by: a column (or the status rank), and whether descending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Order {
    pub key: SortField,
    pub descending: bool,
}

impl Default for Order {
    fn default() -> Self {
        Self { key: SortField::Updated, descending: true }
    }
}

impl Order {
    /// The order `filter` lists tickets in.
    pub fn of(filter: &TicketFilter) -> Self {
        match filter.search.as_ref().and_then(|(q, _)| q.order_by) {
            Some((key, direction)) => Self { key, descending: direction == Direction::Desc },
            None => Self::default(),
        }
    }

    fn expression(self) -> String {
        match self.key {
            SortField::Updated => "t.updated_at".to_owned(),
            SortField::Created => "t.created_at".to_owned(),
            SortField::Status => {
                let arms: String = TicketStatus::ALL
                    .iter()
                    .map(|s| format!(" WHEN '{}' THEN {}", s.as_str(), crate::search::status_rank(*s)))
                    .collect();
                format!("(CASE t.status{arms} ELSE 0 END)")
            }
        }
    }

    /// The key a ticket has in this order: what its cursor holds.
    pub fn key_of(self, ticket: &Ticket) -> i64 {
        match self.key {
            SortField::Updated => to_millis(ticket.updated_at),
            SortField::Created => to_millis(ticket.created_at),
            SortField::Status => crate::search::status_rank(ticket.status),
        }
    }
}

/// The `WHERE` of a filtered list, its parameters pushed onto `p`.
async fn filter_sql(
    conn: &mut Conn<'_>,
    workspace: WorkspaceId,
    filter: &TicketFilter,
    p: &mut Params,
) -> Result<String> {
    let mut sql = format!(" WHERE t.workspace_id = {}", p.push(Param::Uuid(workspace.0)));
    if !filter.statuses.is_empty() {
        let list =
            filter.statuses.iter().map(|s| p.push(Param::Text(s.as_str().to_owned()))).collect::<Vec<_>>().join(", ");
        sql.push_str(&format!(" AND t.status IN ({list})"));
    }
    match filter.assignee {
        Some(AssigneeFilter::Agent(a)) => sql.push_str(&format!(" AND t.assignee_id = {}", p.push(Param::Uuid(a.0)))),
        Some(AssigneeFilter::Nobody) => sql.push_str(" AND t.assignee_id IS NULL"),
        None => {}
    }
    if let Some(team) = filter.team {
        sql.push_str(&format!(" AND t.team_id = {}", p.push(Param::Uuid(team.0))));
    }
    for tag in &filter.tags {
        sql.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM ticket_tags g WHERE g.ticket_id = t.id AND g.tag = {})",
            p.push(Param::Text(tag.clone()))
        ));
    }
    if let Some(channel) = filter.channel {
        sql.push_str(&format!(" AND t.channel = {}", p.push(Param::Text(channel.as_str().to_owned()))));
    }
    if let Some(kind) = filter.kind {
        sql.push_str(&format!(" AND t.kind = {}", p.push(Param::Text(kind.as_str().to_owned()))));
    }
    if let Some(contact) = filter.contact {
        sql.push_str(&format!(" AND t.contact_id = {}", p.push(Param::Uuid(contact.0))));
    }
    if let Some((query, scope)) = &filter.search {
        let common = crate::search::common_terms(conn, query).await?;
        let cond = crate::search::ticket_condition(conn.backend(), scope, query, &common, p);
        sql.push_str(&format!(" AND {cond}"));
    }
    Ok(sql)
}

/// How many tickets match `filter`, counting no further than `cap` (a view's badge says
/// "999+" rather than scan a million rows to say more).
pub async fn count_matching(
    conn: &mut Conn<'_>,
    workspace: WorkspaceId,
    filter: &TicketFilter,
    cap: i64,
) -> Result<i64> {
    let mut p = Params::default();
    let filter_sql = filter_sql(conn, workspace, filter, &mut p).await?;
    let sql =
        format!("SELECT COUNT(*) FROM (SELECT 1 FROM tickets t{filter_sql} LIMIT {}) capped", p.push(Param::Int(cap)));
    let n: i64 = with_conn!(conn, c => {
        bind_all!(sqlx::query_scalar(sqlx::AssertSqlSafe(sql)), &p.0).fetch_one(&mut *c).await?
    });
    Ok(n)
}

/// Tickets of the workspace matching `filter`, in its order (latest activity first unless
/// its query says otherwise), after `cursor`.
pub async fn list(
    conn: &mut Conn<'_>,
    workspace: WorkspaceId,
    filter: &TicketFilter,
    cursor: Option<Cursor>,
    limit: i64,
) -> Result<Vec<Ticket>> {
    let mut p = Params::default();
    let mut sql = format!("{COLUMNS}{}", filter_sql(conn, workspace, filter, &mut p).await?);
    let order = Order::of(filter);
    let key = order.expression();
    let (cmp, dir) = if order.descending { ("<", "DESC") } else { (">", "ASC") };
    if let Some((at, id)) = cursor {
        let a = p.push(Param::Int(at));
        let i = p.push(Param::Uuid(id));
        sql.push_str(&format!(" AND ({key} {cmp} {a} OR ({key} = {a} AND t.id {cmp} {i}))"));
    }
    sql.push_str(&format!(" ORDER BY {key} {dir}, t.id {dir} LIMIT {}", p.push(Param::Int(limit))));
    let rows: Vec<Row> = with_conn!(conn, c => {
        bind_all!(sqlx::query_as(sqlx::AssertSqlSafe(sql)), &p.0).fetch_all(&mut *c).await?
    });
    let mut tickets = rows.into_iter().map(Row::into_ticket).collect::<Result<Vec<_>>>()?;
    fill_details(conn, &mut tickets).await?;
    Ok(tickets)
}

/// Writes the mutable columns of `ticket` back (status, priority, assignee, team, fields,
/// subject, links, solved and activity times). Tags and participants have their own calls.
pub async fn save(conn: &mut Conn<'_>, ticket: &Ticket) -> Result<()> {
    let fields = serde_json::to_string(&ticket.fields).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    with_conn!(conn, c => {
        sqlx::query(
            "UPDATE tickets SET status = $1, priority = $2, assignee_id = $3, team_id = $4, fields = $5, subject = $6, \
             public_ticket_id = $7, solved_at = $8, updated_at = $9, last_inbound_at = $10 \
             WHERE workspace_id = $11 AND id = $12",
        )
        .bind(ticket.status.as_str())
        .bind(ticket.priority.as_str())
        .bind(ticket.assignee_id.map(|a| a.0))
        .bind(ticket.team_id.map(|t| t.0))
        .bind(fields)
        .bind(&ticket.subject)
        .bind(ticket.public_ticket_id.map(|t| t.0))
        .bind(ticket.solved_at.map(to_millis))
        .bind(to_millis(ticket.updated_at))
        .bind(ticket.last_inbound_at.map(to_millis))
        .bind(ticket.workspace_id.0)
        .bind(ticket.id.0)
        .execute(&mut *c)
        .await?
            .rows_affected()
    });
    Ok(())
}

/// Sets a ticket's status (and its solved time: set on solving, cleared on leaving solved).
pub async fn set_status(
    conn: &mut Conn<'_>,
    ticket: TicketId,
    status: TicketStatus,
    now: OffsetDateTime,
) -> Result<()> {
    with_conn!(conn, c => {
        sqlx::query(
            "UPDATE tickets SET status = $1, updated_at = $2, \
             solved_at = CASE WHEN $1 = 'solved' THEN COALESCE(solved_at, $2) WHEN $1 = 'closed' THEN solved_at ELSE NULL END \
             WHERE id = $3",
        )
        .bind(status.as_str())
        .bind(to_millis(now))
        .bind(ticket.0)
        .execute(&mut *c)
        .await?
        .rows_affected()
    });
    Ok(())
}

/// Adds a tag; returns whether the ticket did not have it yet.
pub async fn add_tag(conn: &mut Conn<'_>, workspace: WorkspaceId, ticket: TicketId, tag: &str) -> Result<bool> {
    let done = with_conn!(conn, c => {
        sqlx::query("INSERT INTO ticket_tags (workspace_id, ticket_id, tag) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
            .bind(workspace.0)
            .bind(ticket.0)
            .bind(tag)
            .execute(&mut *c)
            .await?
            .rows_affected()
    });
    Ok(done == 1)
}

/// Removes a tag; returns whether the ticket had it.
pub async fn remove_tag(conn: &mut Conn<'_>, workspace: WorkspaceId, ticket: TicketId, tag: &str) -> Result<bool> {
    let done = with_conn!(conn, c => {
        sqlx::query("DELETE FROM ticket_tags WHERE workspace_id = $1 AND ticket_id = $2 AND tag = $3")
            .bind(workspace.0)
            .bind(ticket.0)
            .bind(tag)
            .execute(&mut *c)
            .await?
            .rows_affected()
    });
    Ok(done == 1)
}

/// Records `contact` as a participant of a public ticket (once).
pub async fn add_participant(
    conn: &mut Conn<'_>,
    workspace: WorkspaceId,
    ticket: TicketId,
    contact: ContactId,
    now: OffsetDateTime,
) -> Result<()> {
    with_conn!(conn, c => {
        sqlx::query(
            "INSERT INTO ticket_participants (workspace_id, ticket_id, contact_id, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT DO NOTHING",
        )
        .bind(workspace.0)
        .bind(ticket.0)
        .bind(contact.0)
        .bind(to_millis(now))
        .execute(&mut *c)
        .await?
            .rows_affected()
    });
    Ok(())
}

/// Notes new activity on a ticket: bumps `updated_at` and, for a customer's message, moves
/// `last_inbound_at` forward (never back: platforms deliver out of order).
pub async fn touch(
    conn: &mut Conn<'_>,
    ticket: TicketId,
    now: OffsetDateTime,
    inbound_at: Option<OffsetDateTime>,
) -> Result<()> {
    with_conn!(conn, c => {
        sqlx::query(
            "UPDATE tickets SET updated_at = CASE WHEN updated_at < $1 THEN $1 ELSE updated_at END, \
             last_inbound_at = CASE WHEN $2 IS NULL THEN last_inbound_at \
                                    WHEN last_inbound_at IS NULL OR last_inbound_at < $2 THEN $2 \
                                    ELSE last_inbound_at END \
             WHERE id = $3",
        )
        .bind(to_millis(now))
        .bind(inbound_at.map(to_millis))
        .bind(ticket.0)
        .execute(&mut *c)
        .await?
            .rows_affected()
    });
    Ok(())
}

/// How many tickets the workspace has.
pub async fn count(conn: &mut Conn<'_>, workspace: WorkspaceId) -> Result<i64> {
    let n: i64 = with_conn!(conn, c => {
        sqlx::query_scalar("SELECT COUNT(*) FROM tickets WHERE workspace_id = $1")
            .bind(workspace.0)
            .fetch_one(&mut *c)
            .await?
    });
    Ok(n)
}

/// The tickets that carry `ticket` on (`follow_up_of` it), oldest first, as (id, number).
pub async fn follow_ups(conn: &mut Conn<'_>, workspace: WorkspaceId, ticket: TicketId) -> Result<Vec<(TicketId, i64)>> {
    let rows: Vec<(Uuid, i64)> = with_conn!(conn, c => {
        sqlx::query_as(
            "SELECT id, number FROM tickets WHERE workspace_id = $1 AND follow_up_of = $2 ORDER BY created_at, id",
        )
        .bind(workspace.0)
        .bind(ticket.0)
        .fetch_all(&mut *c)
        .await?
    });
    Ok(rows.into_iter().map(|(id, number)| (id.into(), number)).collect())
}

/// Unassigns every waiting ticket (new, open, pending, on hold) of an agent and returns them:
/// a deactivated agent's work goes back to the queue.
pub async fn unassign_waiting(
    conn: &mut Conn<'_>,
    workspace: WorkspaceId,
    agent: switchboard_domain::AgentId,
    now: OffsetDateTime,
) -> Result<Vec<TicketId>> {
    let rows: Vec<(Uuid,)> = with_conn!(conn, c => {
        sqlx::query_as(
            "UPDATE tickets SET assignee_id = NULL, \
             updated_at = CASE WHEN updated_at < $1 THEN $1 ELSE updated_at END \
             WHERE workspace_id = $2 AND assignee_id = $3 AND status IN ('new', 'open', 'pending', 'on_hold') \
             RETURNING id",
        )
        .bind(to_millis(now))
        .bind(workspace.0)
        .bind(agent.0)
        .fetch_all(&mut *c)
        .await?
    });
    Ok(rows.into_iter().map(|(id,)| id.into()).collect())
}
