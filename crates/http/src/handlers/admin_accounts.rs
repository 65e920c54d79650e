//! `PATCH/DELETE /api/v1/channel-accounts/{id}` and a line's health (admins).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use switchboard_domain::ChannelAccountId;
use switchboard_service::admin_accounts::AccountPatch;
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use super::dead_letters::DeadLetterOut;
use crate::AppState;
use crate::dto::AccountOut;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiPath, Authed};

type JsonMap = serde_json::Map<String, serde_json::Value>;

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountPatchIn {
    pub name: Option<String>,
    /// Merged key by key; `null` removes a key. Widget lines read `tickets_space` (bool),
    /// `allowed_origins` (strings) and `require_verification` (bool).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub settings: JsonMap,
    /// Replaced one by one (write-only; an empty string leaves one as it is).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub secrets: JsonMap,
    /// A disabled line takes no webhooks and sends nothing.
    pub enabled: Option<bool>,
}

/// Changes a line's name, settings, secrets or whether it is enabled (admins).
#[utoipa::path(patch, path = "/api/v1/channel-accounts/{id}", tag = "channel accounts", params(("id" = Uuid, Path)),
    request_body = AccountPatchIn, responses((status = 200, body = AccountOut), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn patch_account(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(input): ApiJson<AccountPatchIn>,
) -> Result<Json<AccountOut>, ApiError> {
    let patch =
        AccountPatch { name: input.name, settings: input.settings, secrets: input.secrets, enabled: input.enabled };
    let account = state.service.update_account(&actor, ChannelAccountId(id), patch).await?;
    Ok(Json(AccountOut::new(account, &state.public_url)))
}

/// Deletes a line; its tickets stay (admins).
#[utoipa::path(delete, path = "/api/v1/channel-accounts/{id}", tag = "channel accounts", params(("id" = Uuid, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_account(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    state.service.delete_account(&actor, ChannelAccountId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SendErrorOut {
    pub message: String,
    /// When the refused reply was queued.
    #[serde(with = "time::serde::rfc3339")]
    pub queued_at: OffsetDateTime,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HealthOut {
    /// About when (within seconds) the last authenticated webhook came.
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_webhook_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_signature_failure_at: Option<OffsetDateTime>,
    pub last_send_error: Option<SendErrorOut>,
    pub dead_letters_waiting: i64,
    /// The latest dead letters of the line.
    pub dead_letters: Vec<DeadLetterOut>,
}

/// How a line is doing (admins).
#[utoipa::path(get, path = "/api/v1/channel-accounts/{id}/health", tag = "channel accounts",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = HealthOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn account_health(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<HealthOut>, ApiError> {
    let (_, health, letters) = state.service.account_health(&actor, ChannelAccountId(id)).await?;
    Ok(Json(HealthOut {
        last_webhook_at: health.last_webhook_at,
        last_signature_failure_at: health.last_signature_failure_at,
        last_send_error: health.last_send_error.map(|(message, queued_at)| SendErrorOut { message, queued_at }),
        dead_letters_waiting: health.dead_letters_waiting,
        dead_letters: letters.into_iter().map(Into::into).collect(),
    }))
}
