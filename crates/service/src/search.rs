//! Search and views (DESIGN §5, §7): one query language for the search box, `q=` of the API
//! and saved views. The built-in inbox views are queries in that language too.

use switchboard_domain::search::{self, Query, ResultType};
use switchboard_store::search::Scope;
use switchboard_store::tickets::{Cursor, TicketFilter};
use switchboard_store::{contacts, tickets, views};
use uuid::Uuid;

use crate::contacts::ContactView;
use crate::tickets::{TicketPage, TicketView};
use crate::views::{check_columns, columns_of, shared_view_detail};
use crate::{Actor, Service, ServiceError, ServiceResult, audit};

/// A view every agent has, in the order the inbox lists them.
#[derive(Debug, Clone, Copy)]
pub struct BuiltinView {
    pub id: &'static str,
    pub name: &'static str,
    pub query: &'static str,
}

/// The built-in views. The social ones select on the `messaging_support` tag (DESIGN §2), so
/// removing the tag takes a ticket out of them.
pub const BUILTIN_VIEWS: [BuiltinView; 5] = [
    BuiltinView {
        id: "mine",
        name: "Your social messaging tickets",
        query: "tags:messaging_support assignee:me status<solved",
    },
    BuiltinView {
        id: "unassigned",
        name: "Unassigned social messaging tickets",
        query: "tags:messaging_support assignee:none status<solved",
    },
    BuiltinView { id: "all_open", name: "All open", query: "status<solved" },
    BuiltinView { id: "public", name: "Public messages", query: "kind:public kind:review status<solved" },
    BuiltinView { id: "spam", name: "Spam", query: "status:spam" },
];

/// Counts stop here: a badge says "1000+" rather than count a million rows.
pub const COUNT_CAP: i64 = 1000;

/// A view as the inbox lists it.
#[derive(Debug, Clone)]
pub struct ViewSummary {
    /// A built-in's name (`mine`, `unassigned`, …) or a saved view's id.
    pub id: String,
    pub name: String,
    pub query: String,
    pub builtin: bool,
    /// Seen by every agent (built-ins and shared views) rather than its owner alone.
    pub shared: bool,
    /// The ids of the columns its ticket table shows, in their order.
    pub columns: Vec<String>,
    /// Matching tickets, counted up to [`COUNT_CAP`].
    pub count: i64,
    /// The count reached the cap: there are at least that many.
    pub count_capped: bool,
}

/// A view to save.
#[derive(Debug, Clone)]
pub struct NewView {
    pub name: String,
    pub query: String,
    /// Shared with every agent (admins only) or personal.
    pub shared: bool,
    /// Column ids in their order; `None`: the default columns.
    pub columns: Option<Vec<String>>,
}

/// What one search box query found.
#[derive(Debug, Clone, Default)]
pub struct SearchResults {
    pub users: Vec<ContactView>,
    pub tickets: Vec<TicketView>,
}

/// The 422 of a user search that names ticket fields.
pub(crate) fn users_have_no_ticket_fields() -> ServiceError {
    ServiceError::invalid(
        "q",
        "users are searched by name, email, phone, handles and dates; ticket fields such as status, tags or \
         field.<key> find tickets (type:ticket, or GET /api/v1/tickets?q=)",
    )
}

/// Parses query text, answering a 400 that says where and why when it does not parse.
pub fn parse_query(text: &str) -> ServiceResult<Query> {
    search::parse(text).map_err(ServiceError::InvalidQuery)
}

impl Service {
    pub(crate) fn scope(&self, actor: &Actor) -> Scope {
        Scope { workspace: actor.workspace(), me: actor.agent.id, now: self.now() }
    }

    /// `filter` narrowed by a query of the search language.
    pub fn with_query(&self, actor: &Actor, mut filter: TicketFilter, query: Query) -> TicketFilter {
        filter.search = Some((query, self.scope(actor)));
        filter
    }

    /// The built-in views, then the shared views and the caller's own, with their counts.
    pub async fn list_views(&self, actor: &Actor) -> ServiceResult<Vec<ViewSummary>> {
        let mut pooled = self.db().acquire().await?;
        let mut conn = pooled.conn();
        let saved = views::visible_to(&mut conn, actor.workspace(), actor.agent.id).await?;
        let mut out = Vec::with_capacity(BUILTIN_VIEWS.len() + saved.len());
        let all = BUILTIN_VIEWS
            .iter()
            .map(|b| (b.id.to_owned(), b.name.to_owned(), b.query.to_owned(), true, true, columns_of(None)))
            .chain(saved.into_iter().map(|v| {
                let columns = columns_of(v.columns.as_deref());
                (v.id.to_string(), v.name, v.query, false, v.owner_id.is_none(), columns)
            }));
        for (id, name, query, builtin, shared, columns) in all {
            // A saved query that no longer parses (the language changed) still lists, empty.
            let count = match search::parse(&query) {
                Ok(parsed) => {
                    let filter = self.with_query(actor, TicketFilter::default(), parsed);
                    tickets::count_matching(&mut conn, actor.workspace(), &filter, COUNT_CAP).await?
                }
                Err(_) => 0,
            };
            out.push(ViewSummary {
                id,
                name,
                query,
                builtin,
                shared,
                columns,
                count,
                count_capped: count >= COUNT_CAP,
            });
        }
        Ok(out)
    }

    /// Saves a view after checking its query parses and its columns exist. Shared views are for
    /// admins, and their creation is audited.
    pub async fn create_view(&self, actor: &Actor, new: NewView) -> ServiceResult<ViewSummary> {
        let name = crate::required_text("name", &new.name, 100)?;
        let parsed = parse_query(&new.query)?;
        if parsed.kind == Some(ResultType::User) {
            return Err(ServiceError::invalid("query", "a view lists tickets; drop `type:user`"));
        }
        if new.shared {
            actor.require_admin()?;
        }
        let owner = (!new.shared).then_some(actor.agent.id);
        let query = parsed.to_string();
        let mut tx = self.begin().await?;
        let mut conn = tx.conn();
        let columns = match &new.columns {
            Some(ids) => Some(check_columns(&mut conn, actor, ids).await?),
            None => None,
        };
        let saved =
            views::create(&mut conn, actor.workspace(), owner, &name, &query, columns.as_deref(), self.now()).await?;
        if new.shared {
            let detail = shared_view_detail(&saved);
            audit::write(&mut conn, actor, "view.created", format!("view:{}", saved.id), detail, self.now()).await?;
        }
        let filter = self.with_query(actor, TicketFilter::default(), parsed);
        let count = tickets::count_matching(&mut conn, actor.workspace(), &filter, COUNT_CAP).await?;
        tx.commit().await?;
        Ok(ViewSummary {
            id: saved.id.to_string(),
            columns: columns_of(saved.columns.as_deref()),
            name: saved.name,
            query: saved.query,
            builtin: false,
            shared: new.shared,
            count,
            count_capped: count >= COUNT_CAP,
        })
    }

    /// Deletes a saved view: one's own, or a shared one as an admin. Built-ins stay.
    pub async fn delete_view(&self, actor: &Actor, id: &str) -> ServiceResult<()> {
        if BUILTIN_VIEWS.iter().any(|b| b.id == id) {
            return Err(ServiceError::conflict("builtin_view", "built-in views cannot be deleted"));
        }
        let id: Uuid = id.parse().map_err(|_| ServiceError::NotFound("view"))?;
        let mut tx = self.begin().await?;
        let mut conn = tx.conn();
        let view = views::get(&mut conn, actor.workspace(), id).await?.ok_or(ServiceError::NotFound("view"))?;
        match view.owner_id {
            Some(owner) if owner != actor.agent.id => return Err(ServiceError::NotFound("view")),
            None => actor.require_admin()?,
            Some(_) => {}
        }
        views::delete(&mut conn, actor.workspace(), id).await?;
        if view.owner_id.is_none() {
            let detail = serde_json::json!({"name": view.name});
            audit::write(&mut conn, actor, "view.deleted", format!("view:{id}"), detail, self.now()).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The query of a view the caller can see: a built-in's name or a saved view's id.
    pub async fn view_query(&self, actor: &Actor, id: &str) -> ServiceResult<Query> {
        Ok(self.view_definition(actor, id).await?.0)
    }

    /// The query and column ids of a view the caller can see.
    pub(crate) async fn view_definition(&self, actor: &Actor, id: &str) -> ServiceResult<(Query, Vec<String>)> {
        if let Some(builtin) = BUILTIN_VIEWS.iter().find(|b| b.id == id) {
            return Ok((parse_query(builtin.query)?, columns_of(None)));
        }
        let id: Uuid = id.parse().map_err(|_| ServiceError::NotFound("view"))?;
        let mut pooled = self.db().acquire().await?;
        let view =
            views::get(&mut pooled.conn(), actor.workspace(), id).await?.ok_or(ServiceError::NotFound("view"))?;
        if view.owner_id.is_some_and(|owner| owner != actor.agent.id) {
            return Err(ServiceError::NotFound("view"));
        }
        Ok((parse_query(&view.query)?, columns_of(view.columns.as_deref())))
    }

    /// A page of tickets matching `filter`, a view (by id) and a query, all of which must
    /// hold; the query's `order_by:` wins over the view's.
    pub async fn find_tickets(
        &self,
        actor: &Actor,
        filter: TicketFilter,
        view: Option<&str>,
        q: Option<&str>,
        cursor: Option<Cursor>,
        limit: i64,
    ) -> ServiceResult<TicketPage> {
        let view = match view {
            Some(id) => Some(self.view_query(actor, id).await?),
            None => None,
        };
        let typed = q.map(parse_query).transpose()?;
        let query = match (view, typed) {
            (Some(mut view), Some(typed)) => {
                view.terms.extend(typed.terms);
                view.order_by = typed.order_by.or(view.order_by);
                Some(view)
            }
            (view, typed) => view.or(typed),
        };
        let filter = match query {
            Some(query) => self.with_query(actor, filter, query),
            None => filter,
        };
        self.list_tickets(actor, &filter, cursor, limit).await
    }

    /// A page of a view's tickets.
    pub async fn view_tickets(
        &self,
        actor: &Actor,
        id: &str,
        cursor: Option<Cursor>,
        limit: i64,
    ) -> ServiceResult<TicketPage> {
        let query = self.view_query(actor, id).await?;
        let filter = self.with_query(actor, TicketFilter::default(), query);
        self.list_tickets(actor, &filter, cursor, limit).await
    }

    /// The search box: users and tickets matching `q` (`type:` picks one of them). A query
    /// that names ticket fields (`status:`, `tags:` …) finds no users, unless it asked for
    /// users only, which is an error.
    pub async fn search(&self, actor: &Actor, q: &str, limit: i64) -> ServiceResult<SearchResults> {
        let query = parse_query(q)?;
        let limit = crate::page_limit(limit);
        let mut results = SearchResults::default();
        if query.kind != Some(ResultType::Ticket) {
            let scope = self.scope(actor);
            let mut pooled = self.db().acquire().await?;
            let mut conn = pooled.conn();
            match contacts::search(&mut conn, &scope, &query, limit).await? {
                Some(found) => {
                    results.users = crate::contacts::contact_views(&mut conn, actor.workspace(), found).await?;
                }
                None if query.kind == Some(ResultType::User) => return Err(users_have_no_ticket_fields()),
                None => {}
            }
        }
        if query.kind != Some(ResultType::User) {
            let filter = self.with_query(actor, TicketFilter::default(), query);
            results.tickets = self.list_tickets(actor, &filter, None, limit).await?.tickets;
        }
        Ok(results)
    }
}
