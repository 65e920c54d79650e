//! Switchboard's HTTP layer: the JSON API, the platforms' webhooks, health and the OpenAPI
//! document. Every route is listed in [`router`]; handlers are thin (extract, one service
//! call, respond) and errors take one JSON shape ([`error::ApiError`]).
//!
//! Knows the service and channel crates; no SQL here.

pub mod dto;
pub mod error;
pub mod extract;
pub mod handlers;
pub mod openapi;
pub mod ui;
pub mod widget;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use switchboard_service::Service;

use crate::error::ErrorBody;
use crate::handlers::{
    accounts, admin, admin_accounts, admin_fields, admin_macros, contacts, dead_letters, files, notifier, search,
    stream, system, tickets, webhooks,
};
use crate::ui::{admin as admin_ui, assets, compose, inbox, session};

/// The largest request body accepted anywhere.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub service: Service,
    /// The address platforms call (`SWITCHBOARD_PUBLIC_URL`), used in webhook URLs.
    pub public_url: String,
}

/// Every route of the server.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(system::healthz))
        .route("/metrics", get(system::metrics))
        .route("/openapi.json", get(system::openapi))
        .route("/api/v1/channel-accounts", get(accounts::list_accounts).post(accounts::create_account))
        .route(
            "/api/v1/channel-accounts/{id}",
            get(accounts::get_account).patch(admin_accounts::patch_account).delete(admin_accounts::delete_account),
        )
        .route("/api/v1/channel-accounts/{id}/health", get(admin_accounts::account_health))
        .route("/api/v1/channel-accounts/{id}/templates", get(accounts::list_templates).post(accounts::create_template))
        .route("/api/v1/channel-accounts/{id}/templates/sync", post(accounts::sync_templates))
        .route("/api/v1/tickets", get(tickets::list_tickets).post(tickets::create_ticket))
        .route("/api/v1/tickets/{id}", get(tickets::get_ticket).patch(tickets::patch_ticket))
        .route("/api/v1/tickets/{id}/messages", get(tickets::list_messages).post(tickets::create_message))
        .route("/api/v1/tickets/{id}/events", get(tickets::list_events))
        .route("/api/v1/contacts", get(contacts::list_contacts))
        .route("/api/v1/contacts/{id}", get(contacts::get_contact).patch(contacts::patch_contact))
        .route("/api/v1/contacts/{id}/merge", post(contacts::merge_contacts))
        .route("/api/v1/notifier", get(notifier::get_notifier))
        .route("/api/v1/search", get(search::search))
        .route("/api/v1/views", get(search::list_views).post(search::create_view))
        .route("/api/v1/views/order", axum::routing::put(search::order_views))
        .route("/api/v1/views/{id}", axum::routing::delete(search::delete_view).patch(search::patch_view))
        .route("/api/v1/stream", get(stream::stream_events))
        .route("/api/v1/files", post(files::upload_file).layer(DefaultBodyLimit::max(files::MAX_UPLOAD_REQUEST)))
        .route("/api/v1/files/{id}", get(files::download_file))
        .route("/api/v1/messages/{id}/attachments/{index}", get(files::message_attachment))
        .route("/media/{id}/{signature}", get(files::public_media))
        .route("/api/v1/dead-letters", get(dead_letters::list_dead_letters))
        .route("/api/v1/dead-letters/{id}/replay", post(dead_letters::replay_dead_letter))
        // Administration (admins; agents may read agents and teams).
        .route("/api/v1/agents", get(admin::list_agents).post(admin::create_agent))
        .route("/api/v1/agents/{id}", axum::routing::patch(admin::patch_agent))
        .route("/api/v1/teams", get(admin::list_teams).post(admin::create_team))
        .route("/api/v1/teams/{id}", axum::routing::patch(admin::patch_team))
        .route("/api/v1/tokens", get(admin::list_tokens).post(admin::create_token))
        .route("/api/v1/tokens/{id}", axum::routing::delete(admin::revoke_token))
        .route("/api/v1/settings", get(admin::get_settings).patch(admin::patch_settings))
        .route("/api/v1/audit-log", get(admin::get_audit_log))
        .route("/api/v1/fields", get(admin_fields::list_fields).post(admin_fields::create_field))
        .route("/api/v1/fields/{id}", axum::routing::delete(admin_fields::delete_field))
        .route("/api/v1/macros", get(admin_macros::list_macros).post(admin_macros::create_macro))
        .route("/api/v1/macros/{id}", axum::routing::delete(admin_macros::delete_macro))
        .route("/api/v1/tickets/{id}/macros/{macro_id}", post(admin_macros::apply_macro))
        .route("/webhooks/api/{account_id}", post(webhooks::receive_api))
        .route("/webhooks/{kind}/{account_id}", get(webhooks::receive).post(webhooks::receive))
        // The agent UI (pages; forms carry the session's CSRF token).
        .route("/", get(inbox::inbox))
        .route("/inbox", get(inbox::inbox))
        .route("/notifier", get(inbox::notifier))
        .route("/sign-in", get(session::sign_in_form).post(session::sign_in))
        .route("/setup", get(ui::setup::setup_form).post(ui::setup::setup))
        .route("/sign-out", post(session::sign_out))
        .route("/me/availability", post(session::set_availability))
        .route(
            "/tickets/new",
            get(compose::new_ticket_form)
                .post(compose::create_ticket)
                .layer(DefaultBodyLimit::max(files::MAX_UPLOAD_REQUEST)),
        )
        .route("/tickets/{id}", get(ui::tickets::show_ticket))
        .route(
            "/tickets/{id}/messages",
            post(ui::tickets::reply).layer(DefaultBodyLimit::max(files::MAX_UPLOAD_REQUEST)),
        )
        .route("/tickets/{id}/properties", post(ui::tickets::update_properties))
        .route("/contacts/{id}", get(ui::contacts::show_contact).post(ui::contacts::update_contact))
        .route("/contacts/{id}/merge", post(ui::contacts::merge_contact))
        .route("/search", get(ui::views::search))
        .route("/views", post(ui::views::create_view))
        .route("/views/new", get(ui::views::new_view_form))
        .route("/views/{id}/delete", post(ui::views::delete_view))
        .route("/admin/views", get(admin_ui::views::list_views))
        .route("/admin/views/order", post(admin_ui::views::order_views))
        .route("/admin/views/{id}", get(admin_ui::views::edit_view).post(admin_ui::views::update_view))
        .route("/admin/views/{id}/delete", post(admin_ui::views::delete_view))
        // Administration pages (admins only).
        .route("/admin", get(admin_ui::index))
        .route("/admin/channels", get(admin_ui::channels::list_channels).post(admin_ui::channels::connect_channel))
        .route("/admin/channels/new", get(admin_ui::channels::new_channel))
        .route("/admin/channels/{id}", get(admin_ui::channels::show_channel).post(admin_ui::channels::update_channel))
        .route("/admin/channels/{id}/delete", post(admin_ui::channels::delete_channel))
        .route("/admin/dead-letters/{id}/replay", post(admin_ui::channels::replay_dead_letter))
        .route("/admin/agents", get(admin_ui::people::list_agents).post(admin_ui::people::create_agent))
        .route("/admin/agents/{id}", post(admin_ui::people::update_agent))
        .route("/admin/teams", get(admin_ui::people::list_teams).post(admin_ui::people::create_team))
        .route("/admin/teams/{id}", post(admin_ui::people::update_team))
        .route("/admin/tokens", get(admin_ui::people::list_tokens).post(admin_ui::people::create_token))
        .route("/admin/tokens/{id}/revoke", post(admin_ui::people::revoke_token))
        .route("/admin/settings", get(admin_ui::settings::show_settings).post(admin_ui::settings::update_settings))
        .route("/admin/audit", get(admin_ui::settings::show_audit))
        .route("/admin/fields", get(admin_ui::fields::list_fields).post(admin_ui::fields::create_field))
        .route("/admin/fields/{id}/delete", post(admin_ui::fields::delete_field))
        .route("/tickets/{id}/fields", post(admin_ui::fields::set_ticket_fields))
        .route("/admin/macros", get(admin_ui::macros::list_macros).post(admin_ui::macros::create_macro))
        .route("/admin/macros/{id}/delete", post(admin_ui::macros::delete_macro))
        .route("/tickets/{id}/macro", post(admin_ui::macros::apply_macro))
        .route("/admin/templates", get(admin_ui::templates::list_templates))
        .route("/admin/templates/{line}", post(admin_ui::templates::create_template))
        .route("/admin/templates/{line}/sync", post(admin_ui::templates::sync_templates))
        .route("/assets/{version}/{name}", get(assets::asset))
        // The customer messenger (website widget): its own token, never the agents' session.
        .route("/widget/{account_id}/embed.js", get(widget::pages::embed_script))
        .route("/widget/{account_id}/panel", get(widget::pages::panel))
        .route("/widget/assets/{version}/{name}", get(widget::pages::asset))
        .route("/widget/api/visitors", post(widget::api::create_visitor))
        .route("/widget/api/identify", post(widget::api::identify))
        .route("/widget/api/overview", get(widget::api::overview))
        .route("/widget/api/tickets", get(widget::api::list_tickets))
        .route(
            "/widget/api/conversations",
            get(widget::api::list_conversations)
                .post(widget::api::start_conversation)
                .layer(DefaultBodyLimit::max(widget::api::MAX_BODY)),
        )
        .route("/widget/api/conversations/{id}", get(widget::api::get_conversation))
        .route(
            "/widget/api/conversations/{id}/messages",
            post(widget::api::send_message).layer(DefaultBodyLimit::max(widget::api::MAX_BODY)),
        )
        .route("/widget/api/conversations/{id}/read", post(widget::api::read_conversation))
        .route("/widget/api/stream", get(widget::api::stream))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn(request_id))
        .layer(middleware::from_fn_with_state(state.clone(), count_request))
        .with_state(state)
}

/// Counts every request by route group and status class, with how long it took to answer
/// (for a stream, to its first byte): `GET /metrics`.
async fn count_request(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let group = switchboard_service::metrics::route_group(request.uri().path());
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    state.service.metrics().request(group, response.status().as_u16(), started.elapsed().as_secs_f64());
    response
}

async fn not_found() -> error::ApiError {
    error::ApiError::not_found("route")
}

static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Gives every request an id (or keeps a sane one the caller sent), logs the request under
/// it, returns it in `x-request-id` and writes it into JSON error bodies.
async fn request_id(request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 64 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let mut response = next.run(request).await;
    let status = response.status();
    tracing::debug!(request.id = %id, http.method = %method, http.path = %path, http.status = status.as_u16(), "request");
    if let Some(mut body) = response.extensions_mut().remove::<ErrorBody>() {
        body.error.request_id = Some(id.clone());
        let extensions = std::mem::take(response.extensions_mut());
        response = (status, axum::Json(body)).into_response();
        *response.extensions_mut() = extensions;
    }
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID.clone(), value);
    }
    response
}

/// Serves `router` on `listener` until `shutdown` resolves, then finishes in-flight requests.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let live = state.service.live().clone();
    let shutdown = async move {
        shutdown.await;
        // Open event streams never end by themselves: end them, or the graceful shutdown
        // would wait on them for ever.
        live.shutdown();
    };
    // Live events are small writes that must leave at once, not wait for the previous one's
    // acknowledgement (Nagle's algorithm).
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        let _ = tcp.set_nodelay(true);
    });
    // The client's address is kept for the sign-in limiter.
    let app = router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await
}
