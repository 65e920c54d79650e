//! `/api/v1/tickets`

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use switchboard_domain::{
    AgentId, ChannelAccountId, ChannelKind, ContactId, MessageId, Priority, Tag, TeamId, TicketId, TicketKind,
    TicketStatus, Visibility,
};
use switchboard_service::compose::Draft;
use switchboard_service::tickets::{AssigneeFilter, NewReply, TicketFilter, TicketPatch};
use utoipa::IntoParams;
use uuid::Uuid;

use crate::AppState;
use crate::dto::{
    EventList, MessageIn, MessageList, MessageOut, NewTicketIn, NewTicketOut, TicketList, TicketOut, TicketPatchIn,
    decode_cursor, encode_cursor,
};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Authed};

/// Filters of `GET /api/v1/tickets`; comma-separated lists mean "any of".
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct TicketQuery {
    /// e.g. `new,open`
    pub status: Option<String>,
    /// an agent id, `me` or `none`
    pub assignee: Option<String>,
    pub team: Option<Uuid>,
    /// tickets carrying every one of these tags, e.g. `vip,whatsapp`
    pub tag: Option<String>,
    pub channel: Option<String>,
    pub kind: Option<String>,
    /// a query of the search language, e.g. `status<solved tags:vip refund` (DESIGN §7)
    pub q: Option<String>,
    /// a view: `mine`, `unassigned`, `all_open`, `public`, `spam` or a saved view's id
    pub view: Option<String>,
    pub cursor: Option<String>,
    /// 1 to 100, default 25
    pub limit: Option<i64>,
}

fn list(raw: &Option<String>) -> impl Iterator<Item = &str> {
    raw.as_deref().unwrap_or("").split(',').map(str::trim).filter(|s| !s.is_empty())
}

fn filter_from(q: &TicketQuery, me: AgentId) -> Result<TicketFilter, ApiError> {
    let assignee = match q.assignee.as_deref() {
        None => None,
        Some("me") => Some(AssigneeFilter::Agent(me)),
        Some("none") => Some(AssigneeFilter::Nobody),
        Some(id) => Some(AssigneeFilter::Agent(AgentId(
            id.parse().map_err(|_| ApiError::bad_request("invalid_query", "assignee: an agent id, `me` or `none`"))?,
        ))),
    };
    Ok(TicketFilter {
        statuses: list(&q.status).map(str::parse).collect::<Result<_, _>>()?,
        assignee,
        team: q.team.map(TeamId),
        tags: list(&q.tag).map(|t| Tag::parse(t).map(String::from)).collect::<Result<_, _>>()?,
        channel: q.channel.as_deref().map(str::parse::<ChannelKind>).transpose()?,
        kind: q.kind.as_deref().map(str::parse::<TicketKind>).transpose()?,
        contact: None,
        search: None,
    })
}

/// Tickets of the workspace, latest activity first; filtered by the parameters, a view and a
/// query of the search language, all of which must hold.
#[utoipa::path(get, path = "/api/v1/tickets", tag = "tickets", params(TicketQuery),
    responses((status = 200, body = TicketList), (status = 400, body = ErrorBody)))]
pub async fn list_tickets(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiQuery(q): ApiQuery<TicketQuery>,
) -> Result<Json<TicketList>, ApiError> {
    let filter = filter_from(&q, actor.agent.id)?;
    let cursor = decode_cursor(q.cursor.as_deref())?;
    let page = state
        .service
        .find_tickets(&actor, filter, q.view.as_deref(), q.q.as_deref(), cursor, q.limit.unwrap_or(25))
        .await?;
    Ok(Json(TicketList {
        tickets: page.tickets.into_iter().map(Into::into).collect(),
        next_cursor: encode_cursor(page.next_cursor),
    }))
}

/// Open a ticket on a contact as an agent, with its first message.
#[utoipa::path(post, path = "/api/v1/tickets", tag = "tickets", request_body = NewTicketIn,
    responses((status = 201, body = NewTicketOut), (status = 422, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create_ticket(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiJson(input): ApiJson<NewTicketIn>,
) -> Result<(StatusCode, Json<NewTicketOut>), ApiError> {
    let draft = Draft {
        body: input.message.body,
        attachments: input.message.attachments.into_iter().map(Into::into).collect(),
        files: input.message.files,
        template: input.message.template.map(Into::into),
    };
    let (ticket, message) = state
        .service
        .start_ticket(&actor, ContactId(input.contact_id), ChannelAccountId(input.channel_account_id), draft)
        .await?;
    Ok((StatusCode::CREATED, Json(NewTicketOut { ticket: ticket.into(), message: message.into() })))
}

/// One ticket.
#[utoipa::path(get, path = "/api/v1/tickets/{id}", tag = "tickets", params(("id" = Uuid, Path)),
    responses((status = 200, body = TicketOut), (status = 404, body = ErrorBody)))]
pub async fn get_ticket(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<TicketOut>, ApiError> {
    Ok(Json(state.service.get_ticket(&actor, TicketId(id)).await?.into()))
}

/// Change status, priority, subject, assignee, team, tags or fields; one event per change.
#[utoipa::path(patch, path = "/api/v1/tickets/{id}", tag = "tickets", params(("id" = Uuid, Path)),
    request_body = TicketPatchIn,
    responses((status = 200, body = TicketOut), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn patch_ticket(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(input): ApiJson<TicketPatchIn>,
) -> Result<Json<TicketOut>, ApiError> {
    let tags = |raw: &[String]| raw.iter().map(|t| Tag::parse(t)).collect::<Result<Vec<_>, _>>();
    let patch = TicketPatch {
        status: input.status.as_deref().map(str::parse::<TicketStatus>).transpose()?,
        priority: input.priority.as_deref().map(str::parse::<Priority>).transpose()?,
        subject: input.subject,
        assignee_id: input.assignee_id.map(|a| a.map(AgentId)),
        team_id: input.team_id.map(|t| t.map(TeamId)),
        add_tags: tags(&input.tags.add)?,
        remove_tags: tags(&input.tags.remove)?,
        fields: input.fields,
    };
    Ok(Json(state.service.patch_ticket(&actor, TicketId(id), patch).await?.into()))
}

/// The conversation of a ticket, in order.
#[utoipa::path(get, path = "/api/v1/tickets/{id}/messages", tag = "tickets", params(("id" = Uuid, Path)),
    responses((status = 200, body = MessageList), (status = 404, body = ErrorBody)))]
pub async fn list_messages(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<MessageList>, ApiError> {
    let messages = state.service.list_messages(&actor, TicketId(id)).await?;
    Ok(Json(MessageList { messages: messages.into_iter().map(Into::into).collect() }))
}

/// Reply to the customer (queued for delivery) or add an internal note. A reply the
/// channel's rules refuse is a 422 (`reply_window_closed`, `template_required`) and stores
/// nothing.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/messages", tag = "tickets", params(("id" = Uuid, Path)),
    request_body = MessageIn,
    responses((status = 201, body = MessageOut), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn create_message(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(input): ApiJson<MessageIn>,
) -> Result<(StatusCode, Json<MessageOut>), ApiError> {
    let reply = NewReply {
        draft: Draft {
            body: input.body,
            attachments: input.attachments.into_iter().map(Into::into).collect(),
            files: input.files,
            template: input.template.map(Into::into),
        },
        visibility: input
            .visibility
            .as_deref()
            .map(str::parse::<Visibility>)
            .transpose()?
            .unwrap_or(Visibility::Public),
        status: input.status.as_deref().map(str::parse::<TicketStatus>).transpose()?,
        reply_to: input.reply_to.map(MessageId),
        private_reply_to: input.private_reply_to.map(MessageId),
    };
    let message = state.service.add_message(&actor, TicketId(id), reply).await?;
    Ok((StatusCode::CREATED, Json(message.into())))
}

/// The ticket's event log, oldest first.
#[utoipa::path(get, path = "/api/v1/tickets/{id}/events", tag = "tickets", params(("id" = Uuid, Path)),
    responses((status = 200, body = EventList), (status = 404, body = ErrorBody)))]
pub async fn list_events(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<EventList>, ApiError> {
    let events = state.service.list_events(&actor, TicketId(id)).await?;
    Ok(Json(EventList { events: events.into_iter().map(Into::into).collect() }))
}
