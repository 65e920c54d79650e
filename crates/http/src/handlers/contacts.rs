//! `/api/v1/contacts`

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use switchboard_domain::ContactId;
use switchboard_service::contacts::ContactPatch;
use utoipa::IntoParams;
use uuid::Uuid;

use crate::AppState;
use crate::dto::{ContactList, ContactOut, ContactPatchIn, MergeIn, decode_cursor, encode_cursor};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Authed};

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ContactQuery {
    /// The search language, for users: free text (any part of a name, e-mail, phone number as typed or
    /// by its digits, or platform handle) and `name:`, `email:`, `phone:`, `whatsapp:`, `line:`, `instagram:`,
    /// `x:`, `telegram:`, `created`/`updated` dates.
    pub q: Option<String>,
    pub cursor: Option<String>,
    /// 1 to 100, default 25
    pub limit: Option<i64>,
}

/// Contacts, most recently updated first.
#[utoipa::path(get, path = "/api/v1/contacts", tag = "contacts", params(ContactQuery),
    responses((status = 200, body = ContactList),
        (status = 400, description = "`q` does not parse: where and why", body = ErrorBody),
        (status = 422, description = "`q` names ticket fields", body = ErrorBody)))]
pub async fn list_contacts(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiQuery(q): ApiQuery<ContactQuery>,
) -> Result<Json<ContactList>, ApiError> {
    let cursor = decode_cursor(q.cursor.as_deref())?;
    let page = state.service.list_contacts(&actor, q.q.as_deref(), cursor, q.limit.unwrap_or(25)).await?;
    Ok(Json(ContactList {
        contacts: page.contacts.into_iter().map(Into::into).collect(),
        next_cursor: encode_cursor(page.next_cursor),
    }))
}

/// One contact with every identity and its platform user info.
#[utoipa::path(get, path = "/api/v1/contacts/{id}", tag = "contacts", params(("id" = Uuid, Path)),
    responses((status = 200, body = ContactOut), (status = 404, body = ErrorBody)))]
pub async fn get_contact(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<ContactOut>, ApiError> {
    Ok(Json(state.service.get_contact(&actor, ContactId(id)).await?.into()))
}

/// Edit profile fields; `blocked: true` marks the contact a spammer.
#[utoipa::path(patch, path = "/api/v1/contacts/{id}", tag = "contacts", params(("id" = Uuid, Path)),
    request_body = ContactPatchIn, responses((status = 200, body = ContactOut), (status = 404, body = ErrorBody)))]
pub async fn patch_contact(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(input): ApiJson<ContactPatchIn>,
) -> Result<Json<ContactOut>, ApiError> {
    let patch = ContactPatch { name: input.name, email: input.email, phone: input.phone, blocked: input.blocked };
    Ok(Json(state.service.patch_contact(&actor, ContactId(id), patch).await?.into()))
}

/// Merge another contact into this one: identities, conversations and tickets move here.
#[utoipa::path(post, path = "/api/v1/contacts/{id}/merge", tag = "contacts", params(("id" = Uuid, Path)),
    request_body = MergeIn, responses((status = 200, body = ContactOut), (status = 404, body = ErrorBody)))]
pub async fn merge_contacts(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(input): ApiJson<MergeIn>,
) -> Result<Json<ContactOut>, ApiError> {
    let merged = state.service.merge_contacts(&actor, ContactId(id), ContactId(input.from_contact_id)).await?;
    Ok(Json(merged.into()))
}
