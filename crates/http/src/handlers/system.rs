//! `/healthz` and `/openapi.json`

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::json;
use utoipa::OpenApi;

use crate::AppState;

/// Liveness: the process answers and the database does too.
#[utoipa::path(get, path = "/healthz", tag = "system",
    responses((status = 200, description = "healthy"), (status = 503, description = "the database does not answer")))]
pub async fn healthz(State(state): State<AppState>) -> (StatusCode, Json<serde_json::Value>) {
    match state.service.db().ping().await {
        Ok(()) => (StatusCode::OK, Json(json!({"status": "ok"}))),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            (StatusCode::SERVICE_UNAVAILABLE, Json(json!({"status": "unavailable"})))
        }
    }
}

/// This API's OpenAPI document.
pub async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(crate::openapi::ApiDoc::openapi())
}
