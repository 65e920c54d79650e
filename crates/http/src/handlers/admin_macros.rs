//! `/api/v1/macros` (agents read them; admins save them) and applying one to a ticket.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use switchboard_domain::{Tag, TicketId, TicketStatus};
use switchboard_service::macros::{Macro, NewMacro};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::AppState;
use crate::dto::TicketOut;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiPath, Authed};

#[derive(Debug, Serialize, ToSchema)]
pub struct MacroOut {
    pub id: Uuid,
    pub name: String,
    /// The reply it sends; placeholders `{{first_name}}`, `{{name}}`, `{{agent_name}}`, `{{ticket_number}}`.
    pub body: Option<String>,
    pub status: Option<String>,
    pub add_tags: Vec<String>,
    /// `me`, `none` or an agent's id
    pub assignee: Option<String>,
}

impl From<Macro> for MacroOut {
    fn from(m: Macro) -> Self {
        Self { id: m.id, name: m.name, body: m.body, status: m.status, add_tags: m.add_tags, assignee: m.assignee }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MacroList {
    pub macros: Vec<MacroOut>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MacroIn {
    pub name: String,
    pub body: Option<String>,
    pub status: Option<String>,
    #[serde(default)]
    pub add_tags: Vec<String>,
    pub assignee: Option<String>,
}

/// The macros.
#[utoipa::path(get, path = "/api/v1/macros", tag = "administration", responses((status = 200, body = MacroList)))]
pub async fn list_macros(State(state): State<AppState>, Authed(actor): Authed) -> Result<Json<MacroList>, ApiError> {
    let macros = state.service.list_macros(&actor).await?;
    Ok(Json(MacroList { macros: macros.into_iter().map(Into::into).collect() }))
}

/// Saves a macro (admins).
#[utoipa::path(post, path = "/api/v1/macros", tag = "administration", request_body = MacroIn,
    responses((status = 201, body = MacroOut), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn create_macro(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiJson(input): ApiJson<MacroIn>,
) -> Result<(StatusCode, Json<MacroOut>), ApiError> {
    let new = NewMacro {
        name: input.name,
        body: input.body,
        status: input.status.as_deref().map(str::parse::<TicketStatus>).transpose()?,
        add_tags: input.add_tags.iter().map(|t| Tag::parse(t)).collect::<Result<_, _>>()?,
        assignee: input.assignee,
    };
    Ok((StatusCode::CREATED, Json(state.service.create_macro(&actor, new).await?.into())))
}

/// Removes a macro (admins).
#[utoipa::path(delete, path = "/api/v1/macros/{id}", tag = "administration", params(("id" = Uuid, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_macro(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    state.service.delete_macro(&actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Applies a macro to a ticket: its reply obeys the channel's rules like a typed one (a refused
/// reply is a 422 and nothing changes), then its status, tags and assignee.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/macros/{macro_id}", tag = "tickets",
    params(("id" = Uuid, Path), ("macro_id" = Uuid, Path)),
    responses((status = 200, body = TicketOut), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn apply_macro(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiPath((id, macro_id)): ApiPath<(Uuid, Uuid)>,
) -> Result<Json<TicketOut>, ApiError> {
    Ok(Json(state.service.apply_macro(&actor, TicketId(id), macro_id).await?.into()))
}
