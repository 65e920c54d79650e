//! The one JSON error of the API: `{"error": {"code", "message", "request_id"}}`, built
//! `From` every error a handler can meet and mapped to a status code here and only here.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use switchboard_service::{ServiceError, StoreError};

/// An error answered to an API caller.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

/// The body of an error response, kept in the response's extensions too so that the
/// request-id middleware can add the id to it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable, snake_case: what callers branch on.
    pub code: String,
    /// For people.
    pub message: String,
    /// The id of the request, also in the `x-request-id` header and the server's log.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into() }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", format!("{what} not found"))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body =
            ErrorBody { error: ErrorDetail { code: self.code.to_owned(), message: self.message, request_id: None } };
        let mut response = (self.status, Json(body.clone())).into_response();
        response.extensions_mut().insert(body);
        response
    }
}

impl From<ServiceError> for ApiError {
    fn from(err: ServiceError) -> Self {
        match err {
            ServiceError::NotFound(what) => Self::not_found(what),
            ServiceError::Invalid { field, message } => {
                Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_input", format!("{field}: {message}"))
            }
            ServiceError::Refused(refusal) => {
                Self::new(StatusCode::UNPROCESSABLE_ENTITY, refusal.code(), refusal.message())
            }
            ServiceError::Conflict { code, message } => Self::new(StatusCode::CONFLICT, code, message),
            ServiceError::InvalidQuery(err) => Self::bad_request("invalid_query", err.to_string()),
            ServiceError::Unauthenticated => Self::new(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "send a valid API token as `Authorization: Bearer <token>`, or sign in",
            ),
            ServiceError::Forbidden => Self::new(StatusCode::FORBIDDEN, "forbidden", "this needs the admin role"),
            ServiceError::Denied { code, message } => Self::new(StatusCode::FORBIDDEN, code, message),
            ServiceError::RateLimited { retry_after_secs } => Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!("too many requests; try again in {retry_after_secs} s"),
            ),
            ServiceError::TooManyAttempts { retry_after_secs } => Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_attempts",
                format!("too many failed attempts; try again in {} minutes", (retry_after_secs + 59) / 60),
            ),
            ServiceError::WebhookRefused(reason) => Self::new(StatusCode::UNAUTHORIZED, "invalid_signature", reason),
            ServiceError::InvalidBody(reason) => Self::bad_request("invalid_body", reason),
            ServiceError::Store(StoreError::Conflict(_)) => {
                Self::new(StatusCode::CONFLICT, "conflict", "the change conflicts with another one; try again")
            }
            ServiceError::Store(StoreError::Transient(cause)) => {
                tracing::warn!(error = %cause, "transient store error");
                Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "the server is busy; try again")
            }
            ServiceError::Store(cause) => {
                // The caller learns nothing of the cause; the log has it.
                tracing::error!(error = %cause, "internal error");
                Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "something went wrong on our side")
            }
        }
    }
}

impl From<switchboard_domain::DomainError> for ApiError {
    fn from(err: switchboard_domain::DomainError) -> Self {
        ServiceError::from(err).into()
    }
}
