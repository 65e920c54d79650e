//! Extractors that turn every malformed request into the API's JSON error: the body, the
//! path, the query, and the caller's identity.

use axum::extract::rejection::{BytesRejection, JsonRejection};
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use switchboard_service::Actor;

use crate::AppState;
use crate::error::ApiError;

/// A JSON body; a malformed one is a 400 that says where, an oversized one a 413.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    let mut status = rejection.status();
    let code = match &rejection {
        JsonRejection::MissingJsonContentType(_) => "unsupported_media_type",
        JsonRejection::JsonSyntaxError(_) => "invalid_json",
        // axum answers 422 for a body of the wrong shape (unknown field, wrong type); to the
        // caller it is as malformed as bad syntax. 422 is kept for well-formed input whose
        // values are refused (`invalid_input`).
        JsonRejection::JsonDataError(_) => {
            status = StatusCode::BAD_REQUEST;
            "invalid_body"
        }
        _ if status == StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        _ => "invalid_body",
    };
    ApiError::new(status, code, rejection.body_text())
}

/// The raw body (webhooks sign the exact bytes); too large is a 413.
pub struct RawBody(pub axum::body::Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        axum::body::Bytes::from_request(req, state).await.map(Self).map_err(|r: BytesRejection| {
            let code = if r.status() == StatusCode::PAYLOAD_TOO_LARGE { "payload_too_large" } else { "invalid_body" };
            ApiError::new(r.status(), code, r.body_text())
        })
    }
}

/// Path parameters; a malformed id is a 400.
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(v)| Self(v))
            .map_err(|r| ApiError::bad_request("invalid_path", r.body_text()))
    }
}

/// Query parameters; an unknown or malformed one is a 400.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| Self(v))
            .map_err(|r| ApiError::bad_request("invalid_query", r.body_text()))
    }
}

/// The name of the agent UI's session cookie.
pub const SESSION_COOKIE: &str = "sb_session";

/// The header the UI's scripts send the session's CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The agent behind `Authorization: Bearer <token>`, or behind the UI's session cookie.
/// A cookie-authenticated request that changes anything (any method but GET, HEAD and
/// OPTIONS) must also carry the session's CSRF token in `X-CSRF-Token`: a cross-site page
/// can make the browser send the cookie, but cannot read the token.
pub struct Authed(pub Actor);

impl FromRequestParts<AppState> for Authed {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let bearer = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        if let Some(token) = bearer {
            return Ok(Self(state.service.authenticate_token(token).await?));
        }
        let token = cookie(&parts.headers, SESSION_COOKIE)
            .ok_or_else(|| ApiError::from(switchboard_service::ServiceError::Unauthenticated))?;
        let session = state.service.authenticate_session(token).await?;
        if !is_safe(&parts.method) {
            let sent = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
            if !same_secret(sent, &session.csrf_token) {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "csrf_failed",
                    "a signed-in browser must send the session's CSRF token in `X-CSRF-Token`",
                ));
            }
        }
        Ok(Self(session.actor))
    }
}

/// Methods that change nothing, and so need no CSRF token.
pub fn is_safe(method: &axum::http::Method) -> bool {
    matches!(*method, axum::http::Method::GET | axum::http::Method::HEAD | axum::http::Method::OPTIONS)
}

/// The value of cookie `name`, if the request carries it.
pub fn cookie<'a>(headers: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

/// Compares two secrets in time that does not depend on where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && !b.is_empty() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
