//! `/webhooks/{kind}/{account_id}`: platforms call these. Authenticate first — nothing from
//! an unauthenticated request is stored — then parse every item, then one ingest call that
//! answers only after the commit.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde::Serialize;
use switchboard_channels::{ChannelError, api};
use switchboard_domain::{ChannelAccountId, ChannelKind};
use switchboard_service::ingest::ItemReport;
use uuid::Uuid;

use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiPath, RawBody};

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IngestReport {
    /// One entry per message, in order: outcome is created, appended, reopened, duplicate or blocked.
    #[schema(value_type = Vec<Object>)]
    pub messages: Vec<ItemReport>,
}

fn channel_error(err: ChannelError) -> ApiError {
    match err {
        ChannelError::Unauthenticated(m) => ApiError::new(StatusCode::UNAUTHORIZED, "invalid_signature", m),
        ChannelError::Malformed(m) => ApiError::bad_request("invalid_body", m),
        ChannelError::MissingSecret(_) => {
            ApiError::new(StatusCode::UNAUTHORIZED, "invalid_signature", "the channel account cannot verify requests")
        }
    }
}

/// The generic signed webhook for integrators, on a channel account of kind `api`. Unlike
/// the platforms' webhooks, a malformed body is answered 400 with what is wrong: the caller
/// is a developer who can fix and resend it.
#[utoipa::path(post, path = "/webhooks/api/{account_id}", tag = "webhooks", params(("account_id" = Uuid, Path)),
    request_body(content = Object, description = "{messages: [{id, from: {id, name?, phone?, email?}, text, timestamp?, thread?: {id, public, title?}}]}; \
    header X-Switchboard-Signature: sha256=<hex HMAC-SHA256 of the raw body with the account's secret>"),
    responses((status = 200, body = IngestReport), (status = 401, body = ErrorBody), (status = 400, body = ErrorBody)))]
pub async fn receive_api(
    State(state): State<AppState>,
    ApiPath(account_id): ApiPath<Uuid>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<Json<IngestReport>, ApiError> {
    let (account, secrets) = state
        .service
        .webhook_account(ChannelKind::Api, ChannelAccountId(account_id))
        .await
        .map_err(|_| ApiError::not_found("channel account"))?;
    let secret = secrets.get("secret").and_then(|s| s.as_str()).ok_or(ChannelError::MissingSecret("secret"));
    let signature = headers.get(api::SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
    secret.and_then(|secret| api::verify(secret, &body, signature)).map_err(|e| {
        tracing::warn!(channel.account = %account.id, channel.kind = "api", "webhook refused: {e}");
        channel_error(e)
    })?;
    let items = api::parse(&body).map_err(channel_error)?;
    let messages = state.service.ingest(account, items).await?;
    Ok(Json(IngestReport { messages }))
}
