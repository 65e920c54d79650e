//! `/api/v1/fields`: custom ticket field definitions (agents read them; admins define them).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use switchboard_service::fields::{FieldDef, NewField};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiPath, Authed};

#[derive(Debug, Serialize, ToSchema)]
pub struct FieldOut {
    pub id: Uuid,
    /// The key of the value in a ticket's `fields`.
    pub key: String,
    pub label: String,
    /// text, number, dropdown, checkbox or date
    pub kind: String,
    pub options: Vec<String>,
    /// A ticket cannot be solved while this field is empty.
    pub required_on_solve: bool,
}

impl From<FieldDef> for FieldOut {
    fn from(d: FieldDef) -> Self {
        Self {
            id: d.id,
            key: d.key,
            label: d.label,
            kind: d.kind,
            options: d.options,
            required_on_solve: d.required_on_solve,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FieldList {
    pub fields: Vec<FieldOut>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldIn {
    pub key: String,
    pub label: String,
    pub kind: String,
    #[serde(default)]
    pub options: Vec<String>,
    #[serde(default)]
    pub required_on_solve: bool,
}

/// The custom ticket fields.
#[utoipa::path(get, path = "/api/v1/fields", tag = "administration", responses((status = 200, body = FieldList)))]
pub async fn list_fields(State(state): State<AppState>, Authed(actor): Authed) -> Result<Json<FieldList>, ApiError> {
    let fields = state.service.list_fields(&actor).await?;
    Ok(Json(FieldList { fields: fields.into_iter().map(Into::into).collect() }))
}

/// Defines a custom ticket field (admins).
#[utoipa::path(post, path = "/api/v1/fields", tag = "administration", request_body = FieldIn,
    responses((status = 201, body = FieldOut), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn create_field(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiJson(input): ApiJson<FieldIn>,
) -> Result<(StatusCode, Json<FieldOut>), ApiError> {
    let new = NewField {
        key: input.key,
        label: input.label,
        kind: input.kind,
        options: input.options,
        required_on_solve: input.required_on_solve,
    };
    Ok((StatusCode::CREATED, Json(state.service.create_field(&actor, new).await?.into())))
}

/// Removes a field definition; values on tickets stay (admins).
#[utoipa::path(delete, path = "/api/v1/fields/{id}", tag = "administration", params(("id" = Uuid, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_field(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    state.service.delete_field(&actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
