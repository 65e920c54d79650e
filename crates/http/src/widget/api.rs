//! `/widget/api/…`: the messenger's JSON API, for the panel and for apps that build their own.

use std::convert::Infallible;
use std::fmt::Write as _;
use std::time::Duration;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::HeaderName;
use axum::http::StatusCode;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use switchboard_domain::ConversationId;
use switchboard_service::widget::Identify;
use switchboard_service::widget::stream::WidgetStreamItem;
use uuid::Uuid;

use super::Visitor;
use super::dto::{
    IdentifyIn, IdentifyOut, OverviewOut, SendIn, ThreadOut, VisitorIn, VisitorOut, WidgetConversationList,
    WidgetTicketList,
};
use crate::AppState;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath};
use crate::ui::ClientAddr;

/// The largest body a visitor may post (a message of 5000 characters fits with room to spare).
pub const MAX_BODY: usize = 32 * 1024;

/// How long a visitor's stream stays silent before a heartbeat.
const HEARTBEAT: Duration = Duration::from_secs(15);

/// Issues an anonymous visitor token for a widget line.
#[utoipa::path(post, path = "/widget/api/visitors", tag = "widget", request_body = VisitorIn, security(()),
    responses((status = 201, body = VisitorOut), (status = 404, description = "no such widget", body = crate::error::ErrorBody),
        (status = 429, description = "too many new visitors from this client", body = crate::error::ErrorBody)))]
pub async fn create_visitor(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    ApiJson(input): ApiJson<VisitorIn>,
) -> Result<(StatusCode, Json<VisitorOut>), ApiError> {
    let new = state.service.widget_new_visitor(input.account_id.into(), &client).await?;
    Ok((StatusCode::CREATED, Json(VisitorOut { token: new.token, visitor_id: new.visitor.id })))
}

/// Says who the host site's signed-in user is; with a valid `user_hash` the visitor becomes
/// that user and what they wrote anonymously moves to them.
#[utoipa::path(post, path = "/widget/api/identify", tag = "widget", request_body = IdentifyIn, security(()),
    params(("X-Widget-Token" = String, Header, description = "the visitor's token")),
    responses((status = 200, body = IdentifyOut),
        (status = 403, description = "`invalid_user_hash`, or `verification_required` on a line that requires it",
            body = crate::error::ErrorBody)))]
pub async fn identify(
    State(state): State<AppState>,
    Visitor(visitor): Visitor,
    ApiJson(input): ApiJson<IdentifyIn>,
) -> Result<Json<IdentifyOut>, ApiError> {
    let who = Identify { user_id: input.user_id, name: input.name, email: input.email, user_hash: input.user_hash };
    let visitor = state.service.widget_identify(&visitor, who).await?;
    Ok(Json(IdentifyOut { verified: visitor.verified() }))
}

/// Everything the messenger shows: badges, Home's recent tickets, tickets, conversations.
#[utoipa::path(get, path = "/widget/api/overview", tag = "widget", security(()),
    params(("X-Widget-Token" = String, Header, description = "the visitor's token")),
    responses((status = 200, body = OverviewOut), (status = 401, body = crate::error::ErrorBody)))]
pub async fn overview(State(state): State<AppState>, Visitor(visitor): Visitor) -> Result<Json<OverviewOut>, ApiError> {
    Ok(Json(state.service.widget_overview(&visitor).await?.into()))
}

/// The visitor's conversations, newest activity first.
#[utoipa::path(get, path = "/widget/api/conversations", tag = "widget", security(()),
    params(("X-Widget-Token" = String, Header, description = "the visitor's token")),
    responses((status = 200, body = WidgetConversationList)))]
pub async fn list_conversations(
    State(state): State<AppState>,
    Visitor(visitor): Visitor,
) -> Result<Json<WidgetConversationList>, ApiError> {
    let overview = state.service.widget_overview(&visitor).await?;
    Ok(Json(WidgetConversationList { conversations: overview.conversations.into_iter().map(Into::into).collect() }))
}

/// The visitor's tickets (one per conversation), newest activity first; empty when the line
/// has the Tickets space off.
#[utoipa::path(get, path = "/widget/api/tickets", tag = "widget", security(()),
    params(("X-Widget-Token" = String, Header, description = "the visitor's token")),
    responses((status = 200, body = WidgetTicketList)))]
pub async fn list_tickets(
    State(state): State<AppState>,
    Visitor(visitor): Visitor,
) -> Result<Json<WidgetTicketList>, ApiError> {
    let overview = state.service.widget_overview(&visitor).await?;
    Ok(Json(WidgetTicketList {
        tickets_space: overview.tickets_space,
        tickets: overview.tickets.into_iter().map(Into::into).collect(),
    }))
}

/// Starts a new conversation with its first message.
#[utoipa::path(post, path = "/widget/api/conversations", tag = "widget", request_body = SendIn, security(()),
    params(("X-Widget-Token" = String, Header, description = "the visitor's token")),
    responses((status = 201, body = ThreadOut),
        (status = 422, description = "empty or longer than 5000 characters", body = crate::error::ErrorBody),
        (status = 429, description = "too many messages", body = crate::error::ErrorBody)))]
pub async fn start_conversation(
    State(state): State<AppState>,
    Visitor(visitor): Visitor,
    ClientAddr(client): ClientAddr,
    ApiJson(input): ApiJson<SendIn>,
) -> Result<(StatusCode, Json<ThreadOut>), ApiError> {
    let thread = state.service.widget_send(&visitor, None, &input.body, &client).await?;
    Ok((StatusCode::CREATED, Json(thread.into())))
}

/// One of the visitor's conversations with its messages (never internal notes); anyone
/// else's is a 404.
#[utoipa::path(get, path = "/widget/api/conversations/{id}", tag = "widget", security(()),
    params(("id" = Uuid, Path), ("X-Widget-Token" = String, Header, description = "the visitor's token")),
    responses((status = 200, body = ThreadOut), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_conversation(
    State(state): State<AppState>,
    Visitor(visitor): Visitor,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<ThreadOut>, ApiError> {
    Ok(Json(state.service.widget_thread(&visitor, ConversationId(id)).await?.into()))
}

/// Writes into one of the visitor's conversations (not a resolved one: 409
/// `conversation_resolved`; start a new one instead).
#[utoipa::path(post, path = "/widget/api/conversations/{id}/messages", tag = "widget", request_body = SendIn,
    security(()), params(("id" = Uuid, Path), ("X-Widget-Token" = String, Header, description = "the visitor's token")),
    responses((status = 201, body = ThreadOut), (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody),
        (status = 429, body = crate::error::ErrorBody)))]
pub async fn send_message(
    State(state): State<AppState>,
    Visitor(visitor): Visitor,
    ClientAddr(client): ClientAddr,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(input): ApiJson<SendIn>,
) -> Result<(StatusCode, Json<ThreadOut>), ApiError> {
    let thread = state.service.widget_send(&visitor, Some(ConversationId(id)), &input.body, &client).await?;
    Ok((StatusCode::CREATED, Json(thread.into())))
}

/// The visitor has read the conversation: team messages become read, badges clear.
#[utoipa::path(post, path = "/widget/api/conversations/{id}/read", tag = "widget", security(()),
    params(("id" = Uuid, Path), ("X-Widget-Token" = String, Header, description = "the visitor's token")),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
pub async fn read_conversation(
    State(state): State<AppState>,
    Visitor(visitor): Visitor,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    state.service.widget_read(&visitor, ConversationId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Server-sent events for the visitor: `ready` when open, `changed` {ticket_id} when one of
/// their tickets changed, `reset` when events may have been missed. Re-read on each.
#[utoipa::path(get, path = "/widget/api/stream", tag = "widget", security(()),
    params(("token" = Option<String>, Query, description = "the visitor's token (browsers' EventSource cannot send headers)")),
    responses((status = 200, content_type = "text/event-stream", description = "`ready`, `changed` {ticket_id}, `reset`"),
        (status = 401, body = crate::error::ErrorBody)))]
pub async fn stream(State(state): State<AppState>, Visitor(visitor): Visitor) -> Result<Response, ApiError> {
    let live = state.service.widget_stream(&visitor).await?;
    let gauge = state.service.metrics().widget_stream();
    let frames = futures_util::stream::unfold((live, gauge), |(mut live, gauge)| async move {
        let items = live.next_batch(HEARTBEAT).await?;
        Some((Ok::<_, Infallible>(frame(&items)), (live, gauge)))
    });
    let headers = [
        (CONTENT_TYPE, "text/event-stream"),
        (CACHE_CONTROL, "no-cache"),
        (HeaderName::from_static("x-accel-buffering"), "no"),
    ];
    Ok((headers, Body::from_stream(frames)).into_response())
}

fn frame(items: &[WidgetStreamItem]) -> Bytes {
    let mut out = String::new();
    if items.is_empty() {
        out.push_str(": keep-alive\n\n");
    }
    for item in items {
        let _ = match item {
            WidgetStreamItem::Ready => write!(out, "retry: 2000\nevent: ready\ndata: {{}}\n\n"),
            WidgetStreamItem::Changed { ticket_id } => {
                write!(out, "event: changed\ndata: {{\"ticket_id\":\"{}\"}}\n\n", ticket_id.0)
            }
            WidgetStreamItem::Reset => write!(out, "event: reset\ndata: {{}}\n\n"),
        };
    }
    Bytes::from(out)
}
