//! Fake JustCall API v2.1 text send: `POST /v2.1/texts/new`.
//!
//! Checks `Authorization: <api_key>:<api_secret>` (the fake cannot know real keys, so any pair is taken except a
//! secret that starts with `wrong`, which stands for a revoked key), then the body: `justcall_number` and
//! `contact_number` (phone numbers, `+` optional), and `body` or `media_url` (at most ten comma-separated links).
//! Errors are `{"status": "error", "message"}` with the HTTP status as the code; success is `200`
//! `{"status": "success", "id", …}` with a new numeric id.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::json;

use crate::FakeState;
use crate::common::{Incoming, header, injected_fault};

pub fn routes() -> Router<FakeState> {
    Router::new().route("/v2.1/texts/new", post(send_text))
}

/// An error in JustCall's shape. `code` is an HTTP status (`"422"`); anything else is answered as a 400.
fn error(code: &str, message: &str) -> Response {
    let status = code
        .parse::<u16>()
        .ok()
        .and_then(|s| StatusCode::from_u16(s).ok())
        .filter(|s| s.is_client_error())
        .unwrap_or(StatusCode::BAD_REQUEST);
    (status, axum::Json(json!({"status": "error", "message": message}))).into_response()
}

fn injected(code: &str) -> Response {
    let message = match code {
        "401" => "Invalid API key or secret.",
        "403" => "Your plan does not allow sending SMS from this number.",
        "422" => "The contact number is not a valid phone number.",
        _ => "The contact has opted out of SMS.",
    };
    error(code, message)
}

fn phone_number(value: Option<&serde_json::Value>) -> bool {
    let Some(number) = value.and_then(|v| v.as_str()) else {
        return false;
    };
    let digits = number.strip_prefix('+').unwrap_or(number);
    (8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
}

/// Why the body is not a sendable text, in JustCall's words.
fn invalid(body: &serde_json::Value) -> Option<&'static str> {
    if !phone_number(body.get("justcall_number")) {
        return Some("The justcall number field is required and must be a JustCall number.");
    }
    if !phone_number(body.get("contact_number")) {
        return Some("The contact number field is required and must be a phone number.");
    }
    let text = body.get("body").and_then(|v| v.as_str()).is_some_and(|t| !t.trim().is_empty());
    let media = body.get("media_url").and_then(|v| v.as_str()).map(|m| m.split(',').filter(|u| !u.is_empty()).count());
    match media {
        Some(n) if n > 10 => Some("At most 10 media links can be sent."),
        Some(n) if n > 0 => None,
        _ if text => None,
        _ => Some("The body field is required."),
    }
}

async fn send_text(State(state): State<FakeState>, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let incoming = Incoming {
        kind: "justcall",
        method: "POST",
        path: uri.path_and_query().map(ToString::to_string).unwrap_or_default(),
        headers: &headers,
        body: &body,
    };
    let pair = header(&headers, "authorization").and_then(|v| v.split_once(':'));
    if !pair.is_some_and(|(key, secret)| !key.is_empty() && !secret.is_empty() && !secret.starts_with("wrong")) {
        incoming.record(&state, false, None);
        return error("401", "Invalid API key or secret.");
    }
    let parsed: Option<serde_json::Value> =
        serde_json::from_slice(&body).ok().filter(|v: &serde_json::Value| v.is_object());
    let Some(text) = parsed else {
        incoming.record(&state, false, None);
        return error("400", "The request body is not a JSON object.");
    };
    if let Some(message) = invalid(&text) {
        incoming.record(&state, false, None);
        return error("400", message);
    }
    if let Some(answer) = injected_fault(&state, &incoming, injected).await {
        return answer;
    }
    // A numeric id, as JustCall gives: the fake's sequence after a fixed prefix.
    let id = state.next_id("9876");
    incoming.record(&state, true, Some(id.clone()));
    let number: serde_json::Value = id.parse::<u64>().map(Into::into).unwrap_or_else(|_| id.clone().into());
    let answer = json!({
        "status": "success",
        "id": number,
        "message": "Text sent successfully",
        "data": {
            "id": number,
            "justcall_number": text.get("justcall_number"),
            "contact_number": text.get("contact_number"),
            "sms_info": {"body": text.get("body")},
            "direction": "Outgoing",
            "delivery_status": "sent",
        },
    });
    (StatusCode::OK, axum::Json(answer)).into_response()
}
