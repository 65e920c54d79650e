//! `/api/v1/notifier`

use axum::Json;
use axum::extract::State;
use switchboard_service::notifier::Notifier;

use crate::AppState;
use crate::error::ApiError;
use crate::extract::Authed;

/// The caller's notifier: social tickets assigned to them (new or open), the unassigned
/// ones, and whether unassigned tickets wait (the red dot).
#[utoipa::path(get, path = "/api/v1/notifier", tag = "notifier",
    responses((status = 200, description = "{assigned: [row], unassigned: [row], unassigned_waiting: bool}; \
    a row is {ticket_id, number, status, channel, customer, subject, activity: started_new_chat|replied, updated_at}")))]
pub async fn get_notifier(State(state): State<AppState>, Authed(actor): Authed) -> Result<Json<Notifier>, ApiError> {
    Ok(Json(state.service.notifier(&actor).await?))
}
