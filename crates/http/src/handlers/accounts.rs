//! `/api/v1/channel-accounts`

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use switchboard_domain::{ChannelAccountId, ChannelKind};
use switchboard_service::accounts::ConnectAccount;
use switchboard_service::templates::TemplateInput;
use uuid::Uuid;

use crate::AppState;
use crate::dto::{AccountIn, AccountList, AccountOut, TemplateIn, TemplateList, TemplateOut};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiPath, Authed};

/// Connect a line (admins only).
#[utoipa::path(post, path = "/api/v1/channel-accounts", tag = "channel accounts", request_body = AccountIn,
    responses((status = 201, body = AccountOut), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn create_account(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiJson(input): ApiJson<AccountIn>,
) -> Result<(StatusCode, Json<AccountOut>), ApiError> {
    let kind: ChannelKind = input.kind.parse()?;
    let account = state
        .service
        .connect_account(
            &actor,
            ConnectAccount {
                kind,
                name: input.name,
                external_id: input.external_id,
                secrets: input.secrets,
                settings: input.settings,
                api_base_url: input.api_base_url,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(AccountOut::new(account, &state.public_url))))
}

/// The workspace's lines.
#[utoipa::path(get, path = "/api/v1/channel-accounts", tag = "channel accounts",
    responses((status = 200, body = AccountList)))]
pub async fn list_accounts(
    State(state): State<AppState>,
    Authed(actor): Authed,
) -> Result<Json<AccountList>, ApiError> {
    let accounts = state.service.list_accounts(&actor).await?;
    Ok(Json(AccountList {
        channel_accounts: accounts.into_iter().map(|a| AccountOut::new(a, &state.public_url)).collect(),
    }))
}

/// One line.
#[utoipa::path(get, path = "/api/v1/channel-accounts/{id}", tag = "channel accounts",
    params(("id" = Uuid, Path)), responses((status = 200, body = AccountOut), (status = 404, body = ErrorBody)))]
pub async fn get_account(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<AccountOut>, ApiError> {
    let account = state.service.get_account(&actor, ChannelAccountId(id)).await?;
    Ok(Json(AccountOut::new(account, &state.public_url)))
}

/// The WhatsApp templates of a line.
#[utoipa::path(get, path = "/api/v1/channel-accounts/{id}/templates", tag = "channel accounts",
    params(("id" = Uuid, Path)), responses((status = 200, body = TemplateList), (status = 404, body = ErrorBody)))]
pub async fn list_templates(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<TemplateList>, ApiError> {
    let templates = state.service.list_templates(&actor, ChannelAccountId(id)).await?;
    Ok(Json(TemplateList { templates: templates.into_iter().map(Into::into).collect() }))
}

/// Registers (or updates) a WhatsApp template of a line, as approved on the platform (admins).
#[utoipa::path(post, path = "/api/v1/channel-accounts/{id}/templates", tag = "channel accounts",
    params(("id" = Uuid, Path)), request_body = TemplateIn,
    responses((status = 201, body = TemplateOut), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn create_template(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(input): ApiJson<TemplateIn>,
) -> Result<(StatusCode, Json<TemplateOut>), ApiError> {
    let input =
        TemplateInput { name: input.name, language: input.language, category: input.category, body: input.body };
    let saved = state.service.save_template(&actor, ChannelAccountId(id), input).await?;
    Ok((StatusCode::CREATED, Json(saved.into())))
}

/// Reads the line's templates from WhatsApp (needs `settings.waba_id`) and stores them with
/// the platform's status (admins).
#[utoipa::path(post, path = "/api/v1/channel-accounts/{id}/templates/sync", tag = "channel accounts",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = TemplateList), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn sync_templates(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<TemplateList>, ApiError> {
    let templates = state.service.sync_templates(&actor, ChannelAccountId(id)).await?;
    Ok(Json(TemplateList { templates: templates.into_iter().map(Into::into).collect() }))
}
