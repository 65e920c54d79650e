//! `/healthz`, `/metrics` and `/openapi.json`

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

/// The node's counters in the Prometheus text format: webhooks by kind and outcome (refused
/// signatures included), inbound items stored, sends by kind and result, HTTP requests and their
/// durations by route group, open live streams, resident memory. No tenant data: node totals.
#[utoipa::path(get, path = "/metrics", tag = "system",
    responses((status = 200, content_type = "text/plain", description = "Prometheus text format 0.0.4")))]
pub async fn metrics(State(state): State<AppState>) -> impl axum::response::IntoResponse {
    ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], state.service.metrics().render())
}

/// This API's OpenAPI document.
pub async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(crate::openapi::ApiDoc::openapi())
}
