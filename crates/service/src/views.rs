//! Administering views (issue 8): editing a view's name, query and columns, ordering the shared
//! views, and the inbox's table of a view — its tickets with the names its columns show.
//! Shared views are the admins'; every change to one is audited in its transaction.

use std::collections::HashMap;

use switchboard_domain::search::ResultType;
use switchboard_domain::{AgentId, ChannelAccountId, ContactId, TeamId, ViewColumn};
use switchboard_store::tickets::{Cursor, TicketFilter};
use switchboard_store::{Conn, accounts, agents, contacts, fields, views};
use uuid::Uuid;

pub use switchboard_store::views::SavedView;

use crate::search::{BUILTIN_VIEWS, parse_query};
use crate::tickets::TicketPage;
use crate::{Actor, Service, ServiceError, ServiceResult, audit};

/// Changes to a view; `None` leaves a value as it is.
#[derive(Debug, Clone, Default)]
pub struct ViewPatch {
    pub name: Option<String>,
    pub query: Option<String>,
    /// Column ids in the order the table shows them.
    pub columns: Option<Vec<String>>,
}

/// The column ids a view shows: its own, or the default ones.
pub fn columns_of(columns: Option<&[String]>) -> Vec<String> {
    match columns {
        Some(columns) => columns.to_vec(),
        None => ViewColumn::DEFAULT.iter().map(ViewColumn::id).collect(),
    }
}

/// What the audit log keeps of a shared view.
pub(crate) fn shared_view_detail(view: &SavedView) -> serde_json::Value {
    serde_json::json!({"name": view.name, "query": view.query, "columns": columns_of(view.columns.as_deref())})
}

/// Checks chosen column ids against the fixed columns and the workspace's custom fields.
pub(crate) async fn check_columns(conn: &mut Conn<'_>, actor: &Actor, ids: &[String]) -> ServiceResult<Vec<String>> {
    let defs = fields::list(conn, actor.workspace()).await?;
    let keys: Vec<&str> = defs.iter().map(|d| d.key.as_str()).collect();
    let columns = ViewColumn::parse_list(ids, &keys).map_err(|m| ServiceError::invalid("columns", m))?;
    Ok(columns.iter().map(ViewColumn::id).collect())
}

/// A page of a view's tickets, with what its columns need to be shown.
#[derive(Debug, Clone)]
pub struct ViewTable {
    /// The columns in their order (custom fields that were removed since are left out).
    pub columns: Vec<ViewColumn>,
    pub page: TicketPage,
    /// Custom fields' labels by key.
    pub field_labels: HashMap<String, String>,
    /// Names, loaded only for the columns that show them.
    pub agents: HashMap<AgentId, String>,
    pub teams: HashMap<TeamId, String>,
    pub accounts: HashMap<ChannelAccountId, String>,
    pub requesters: HashMap<ContactId, String>,
}

impl Service {
    /// The shared views in their order (admins only).
    pub async fn shared_views(&self, actor: &Actor) -> ServiceResult<Vec<SavedView>> {
        actor.require_admin()?;
        let mut pooled = self.db().acquire().await?;
        Ok(views::shared(&mut pooled.conn(), actor.workspace()).await?)
    }

    /// One saved view the caller may change: their own, or a shared one as an admin.
    pub async fn saved_view(&self, actor: &Actor, id: &str) -> ServiceResult<SavedView> {
        let mut pooled = self.db().acquire().await?;
        editable(&mut pooled.conn(), actor, id).await
    }

    /// Changes a view's name, query or columns: one's own, or a shared one as an admin (audited).
    pub async fn update_view(&self, actor: &Actor, id: &str, patch: ViewPatch) -> ServiceResult<SavedView> {
        let mut tx = self.begin().await?;
        let mut conn = tx.conn();
        let mut view = editable(&mut conn, actor, id).await?;
        if let Some(name) = &patch.name {
            view.name = crate::required_text("name", name, 100)?;
        }
        if let Some(query) = &patch.query {
            let parsed = parse_query(query)?;
            if parsed.kind == Some(ResultType::User) {
                return Err(ServiceError::invalid("query", "a view lists tickets; drop `type:user`"));
            }
            view.query = parsed.to_string();
        }
        if let Some(columns) = &patch.columns {
            view.columns = Some(check_columns(&mut conn, actor, columns).await?);
        }
        views::update(&mut conn, actor.workspace(), &view, self.now()).await?;
        if view.owner_id.is_none() {
            let detail = shared_view_detail(&view);
            audit::write(&mut conn, actor, "view.updated", format!("view:{}", view.id), detail, self.now()).await?;
        }
        tx.commit().await?;
        Ok(view)
    }

    /// Orders the shared views as `ids` lists them, which must name every shared view once
    /// (admins only). Answers the views in their new order.
    pub async fn reorder_views(&self, actor: &Actor, ids: &[String]) -> ServiceResult<Vec<SavedView>> {
        actor.require_admin()?;
        let order = || ServiceError::invalid("ids", "list every shared view exactly once");
        let ids: Vec<Uuid> = ids.iter().map(|id| id.parse().map_err(|_| order())).collect::<ServiceResult<_>>()?;
        let mut tx = self.begin().await?;
        let mut conn = tx.conn();
        let shared = views::shared(&mut conn, actor.workspace()).await?;
        let mut given = ids.clone();
        given.sort_unstable();
        given.dedup();
        let mut existing: Vec<Uuid> = shared.iter().map(|v| v.id).collect();
        existing.sort_unstable();
        if given.len() != ids.len() || given != existing {
            return Err(order());
        }
        views::set_shared_order(&mut conn, actor.workspace(), &ids, self.now()).await?;
        let names: Vec<&str> =
            ids.iter().filter_map(|id| shared.iter().find(|v| v.id == *id)).map(|v| v.name.as_str()).collect();
        let detail = serde_json::json!({"ids": ids, "names": names});
        audit::write(&mut conn, actor, "view.reordered", "views:shared".to_owned(), detail, self.now()).await?;
        let ordered = views::shared(&mut conn, actor.workspace()).await?;
        tx.commit().await?;
        Ok(ordered)
    }

    /// A page of a view's tickets with the view's columns and the names they show, each kind
    /// of name loaded once for the page (never once per row).
    pub async fn view_table(
        &self,
        actor: &Actor,
        id: &str,
        cursor: Option<Cursor>,
        limit: i64,
    ) -> ServiceResult<ViewTable> {
        let (query, column_ids) = self.view_definition(actor, id).await?;
        let filter = self.with_query(actor, TicketFilter::default(), query);
        let page = self.list_tickets(actor, &filter, cursor, limit).await?;
        let mut pooled = self.db().acquire().await?;
        let mut conn = pooled.conn();
        let ws = actor.workspace();
        // Read leniently: a column stored before its field was removed is dropped, not an error.
        let mut columns: Vec<ViewColumn> = column_ids.iter().filter_map(|c| ViewColumn::parse(c)).collect();
        let mut table = ViewTable {
            columns: Vec::new(),
            page,
            field_labels: HashMap::new(),
            agents: HashMap::new(),
            teams: HashMap::new(),
            accounts: HashMap::new(),
            requesters: HashMap::new(),
        };
        if columns.iter().any(|c| matches!(c, ViewColumn::Field(_))) {
            table.field_labels = fields::list(&mut conn, ws).await?.into_iter().map(|d| (d.key, d.label)).collect();
            columns.retain(|c| match c {
                ViewColumn::Field(key) => table.field_labels.contains_key(key),
                _ => true,
            });
        }
        if columns.is_empty() {
            columns = ViewColumn::DEFAULT.to_vec();
        }
        if columns.contains(&ViewColumn::Assignee) {
            table.agents = agents::list(&mut conn, ws).await?.into_iter().map(|a| (a.id, a.name)).collect();
        }
        if columns.contains(&ViewColumn::Team) {
            table.teams = agents::list_teams(&mut conn, ws).await?.into_iter().map(|t| (t.id, t.name)).collect();
        }
        if columns.contains(&ViewColumn::Account) {
            table.accounts = accounts::names(&mut conn, ws).await?.into_iter().collect();
        }
        if columns.contains(&ViewColumn::Requester) {
            let mut ids: Vec<ContactId> = table.page.tickets.iter().filter_map(|t| t.ticket.contact_id).collect();
            ids.sort_unstable();
            ids.dedup();
            table.requesters = contacts::names_of(&mut conn, ws, &ids).await?.into_iter().collect();
        }
        table.columns = columns;
        Ok(table)
    }
}

/// A saved view the actor may change, or 404 (another agent's) / 403 (shared, not an admin).
async fn editable(conn: &mut Conn<'_>, actor: &Actor, id: &str) -> ServiceResult<SavedView> {
    if BUILTIN_VIEWS.iter().any(|b| b.id == id) {
        return Err(ServiceError::conflict("builtin_view", "built-in views cannot be changed"));
    }
    let id: Uuid = id.parse().map_err(|_| ServiceError::NotFound("view"))?;
    let view = views::get(conn, actor.workspace(), id).await?.ok_or(ServiceError::NotFound("view"))?;
    match view.owner_id {
        Some(owner) if owner != actor.agent.id => Err(ServiceError::NotFound("view")),
        None => actor.require_admin().map(|()| view),
        Some(_) => Ok(view),
    }
}
