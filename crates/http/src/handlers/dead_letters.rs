//! `/api/v1/dead-letters`: authenticated deliveries that could not be stored, for admins.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use switchboard_service::webhooks::DeadLetter;
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiPath, ApiQuery, Authed};

#[derive(Debug, Serialize, ToSchema)]
pub struct DeadLetterOut {
    pub id: Uuid,
    pub channel_account_id: Uuid,
    pub kind: String,
    /// Why it could not be stored.
    pub reason: String,
    pub method: String,
    pub url: String,
    /// The raw body as text (invalid UTF-8 replaced).
    pub body: String,
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub replayed_at: Option<OffsetDateTime>,
    /// Why the last replay failed, if it did.
    pub replay_error: Option<String>,
}

impl From<DeadLetter> for DeadLetterOut {
    fn from(d: DeadLetter) -> Self {
        Self {
            id: d.id,
            channel_account_id: d.channel_account_id.0,
            kind: d.kind.as_str().to_owned(),
            reason: d.reason,
            method: d.delivery.method,
            url: d.delivery.url,
            body: String::from_utf8_lossy(&d.delivery.body).into_owned(),
            received_at: d.received_at,
            replayed_at: d.replayed_at,
            replay_error: d.replay_error,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeadLetterList {
    pub dead_letters: Vec<DeadLetterOut>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DeadLetterQuery {
    /// 1 to 100, default 50
    pub limit: Option<i64>,
}

/// Deliveries kept raw because they could not be parsed or named no connected line (admins).
#[utoipa::path(get, path = "/api/v1/dead-letters", tag = "dead letters", params(DeadLetterQuery),
    responses((status = 200, body = DeadLetterList), (status = 403, body = ErrorBody)))]
pub async fn list_dead_letters(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiQuery(q): ApiQuery<DeadLetterQuery>,
) -> Result<Json<DeadLetterList>, ApiError> {
    let letters = state.service.list_dead_letters(&actor, q.limit.unwrap_or(50)).await?;
    Ok(Json(DeadLetterList { dead_letters: letters.into_iter().map(Into::into).collect() }))
}

/// Runs a dead letter through its adapter again; what was already stored is not stored twice.
#[utoipa::path(post, path = "/api/v1/dead-letters/{id}/replay", tag = "dead letters", params(("id" = Uuid, Path)),
    responses((status = 200, body = DeadLetterOut), (status = 409, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn replay_dead_letter(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<DeadLetterOut>, ApiError> {
    Ok(Json(state.service.replay_dead_letter(&actor, id).await?.into()))
}
