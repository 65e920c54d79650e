//! `/api/v1/search` and `/api/v1/views`: the search language (DESIGN §7) and saved views.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use switchboard_service::search::{NewView, ViewSummary};
use switchboard_service::views::{SavedView, ViewPatch};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::dto::{ContactOut, TicketOut};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Authed};

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    /// A query of the search language, e.g. `whatsapp:"3211"`, `status<solved tags:vip refund`,
    /// `type:user email:example.com`.
    pub q: String,
    /// Results of each kind, 1 to 100, default 25.
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SearchOut {
    /// Contacts matching the query (none when it names ticket fields or says `type:ticket`).
    pub users: Vec<ContactOut>,
    /// Tickets matching the query, latest activity first unless it says `order_by:`.
    pub tickets: Vec<TicketOut>,
}

/// Search users and tickets with one query.
#[utoipa::path(get, path = "/api/v1/search", tag = "search", params(SearchQuery),
    responses((status = 200, body = SearchOut), (status = 400, body = ErrorBody,
        description = "`invalid_query`: the message says at which character and why")))]
pub async fn search(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiQuery(q): ApiQuery<SearchQuery>,
) -> Result<Json<SearchOut>, ApiError> {
    let found = state.service.search(&actor, &q.q, q.limit.unwrap_or(25)).await?;
    Ok(Json(SearchOut {
        users: found.users.into_iter().map(Into::into).collect(),
        tickets: found.tickets.into_iter().map(Into::into).collect(),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ViewOut {
    /// A built-in's name (`mine`, `unassigned`, `all_open`, `public`, `spam`) or a saved view's id;
    /// list its tickets with `GET /api/v1/tickets?view={id}`.
    pub id: String,
    pub name: String,
    /// The view's query in the search language.
    pub query: String,
    pub builtin: bool,
    pub shared: bool,
    /// The ids of the columns the view's ticket table shows, in their order (see `ViewIn.columns`).
    pub columns: Vec<String>,
    /// Matching tickets, counted up to 1000.
    pub count: i64,
    /// The count stopped at its cap: there are at least `count`.
    pub count_capped: bool,
}

impl From<ViewSummary> for ViewOut {
    fn from(v: ViewSummary) -> Self {
        Self {
            id: v.id,
            name: v.name,
            query: v.query,
            builtin: v.builtin,
            shared: v.shared,
            columns: v.columns,
            count: v.count,
            count_capped: v.count_capped,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ViewList {
    pub views: Vec<ViewOut>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ViewIn {
    pub name: String,
    /// A query of the search language, e.g. `status<solved channel:whatsapp tags:vip`.
    pub query: String,
    /// Shared with every agent (admins only); personal by default.
    #[serde(default)]
    pub shared: bool,
    /// The columns of its ticket table, 1 to 12, in order: `number`, `subject`, `requester`, `status`,
    /// `priority`, `channel`, `account`, `assignee`, `team`, `tags`, `created`, `updated`, or
    /// `field.<key>` for a custom ticket field. Default: `number`, `subject`, `status`, `channel`, `updated`.
    #[serde(default)]
    pub columns: Option<Vec<String>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ViewPatchIn {
    pub name: Option<String>,
    /// A query of the search language.
    pub query: Option<String>,
    /// The columns in their order, as in `ViewIn.columns`.
    pub columns: Option<Vec<String>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ViewOrderIn {
    /// Every shared view's id, once each, in the order the inbox lists them.
    pub ids: Vec<String>,
}

/// A saved view as stored.
#[derive(Debug, Serialize, ToSchema)]
pub struct SavedViewOut {
    pub id: String,
    pub name: String,
    pub query: String,
    pub shared: bool,
    pub columns: Vec<String>,
    /// Its place in the list (shared views: 1, 2, …).
    pub position: i64,
}

impl From<SavedView> for SavedViewOut {
    fn from(v: SavedView) -> Self {
        Self {
            id: v.id.to_string(),
            shared: v.owner_id.is_none(),
            columns: switchboard_service::views::columns_of(v.columns.as_deref()),
            name: v.name,
            query: v.query,
            position: v.position,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SavedViewList {
    pub views: Vec<SavedViewOut>,
}

/// The caller's views with their counts: the built-ins, the shared views, their own.
#[utoipa::path(get, path = "/api/v1/views", tag = "views", responses((status = 200, body = ViewList)))]
pub async fn list_views(State(state): State<AppState>, Authed(actor): Authed) -> Result<Json<ViewList>, ApiError> {
    let views = state.service.list_views(&actor).await?;
    Ok(Json(ViewList { views: views.into_iter().map(Into::into).collect() }))
}

/// Save a view: a name and a query.
#[utoipa::path(post, path = "/api/v1/views", tag = "views", request_body = ViewIn,
    responses((status = 201, body = ViewOut), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "an unknown or repeated column")))]
pub async fn create_view(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiJson(input): ApiJson<ViewIn>,
) -> Result<(StatusCode, Json<ViewOut>), ApiError> {
    let new = NewView { name: input.name, query: input.query, shared: input.shared, columns: input.columns };
    Ok((StatusCode::CREATED, Json(state.service.create_view(&actor, new).await?.into())))
}

/// Delete a saved view (one's own; a shared one as an admin).
#[utoipa::path(delete, path = "/api/v1/views/{id}", tag = "views", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn delete_view(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    state.service.delete_view(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Change a saved view's name, query or columns (one's own; a shared one as an admin).
#[utoipa::path(patch, path = "/api/v1/views/{id}", tag = "views", params(("id" = String, Path)), request_body = ViewPatchIn,
    responses((status = 200, body = SavedViewOut), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "a built-in view"),
        (status = 422, body = ErrorBody)))]
pub async fn patch_view(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiPath(id): ApiPath<String>,
    ApiJson(input): ApiJson<ViewPatchIn>,
) -> Result<Json<SavedViewOut>, ApiError> {
    let patch = ViewPatch { name: input.name, query: input.query, columns: input.columns };
    Ok(Json(state.service.update_view(&actor, &id, patch).await?.into()))
}

/// Order the shared views (admins only): `ids` lists every shared view once.
#[utoipa::path(put, path = "/api/v1/views/order", tag = "views", request_body = ViewOrderIn,
    responses((status = 200, body = SavedViewList), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "`ids` is not every shared view exactly once")))]
pub async fn order_views(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiJson(input): ApiJson<ViewOrderIn>,
) -> Result<Json<SavedViewList>, ApiError> {
    let views = state.service.reorder_views(&actor, &input.ids).await?;
    Ok(Json(SavedViewList { views: views.into_iter().map(Into::into).collect() }))
}
