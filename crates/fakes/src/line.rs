//! Fake LINE Messaging API send endpoints: `POST /v2/bot/message/reply` and `POST /v2/bot/message/push`.
//!
//! - Authentication: `Authorization: Bearer <channel access token>`; a missing token, or one containing
//!   `invalid`, is answered 401 as LINE does.
//! - Shape: 1–5 message objects; `text` needs `text`, `image` needs HTTPS `originalContentUrl` and
//!   `previewImageUrl`; a reply needs `replyToken`, a push needs `to`. Otherwise 400 with LINE's `details`.
//! - A reply token is single use: the second use, or a token containing `expired` or `invalid`, is answered
//!   400 `Invalid reply token`.
//! - A push with `X-Line-Retry-Key` (which must be a UUID) that was accepted before is answered 409 with the
//!   first request's id in `x-line-accepted-request-id`, and is not accepted again.
//! - Injected permanent faults take an HTTP status as code (`400`, `401`, `403`, `429` = the monthly limit), or
//!   `invalid_reply_token`.
//! - Success: 200 `{"sentMessages": [{"id", "quoteToken"}…]}` (one per message) with `x-line-request-id`.
//!
//! Inbound media: `GET /v2/bot/message/{message_id}/content` (LINE serves it from `api-data.line.me`; the fake
//! from its one address) needs the same token and answers the bytes ([`crate::media_bytes`] of the message id,
//! typed by [`crate::media_mime_type`]); a message id containing `missing` is answered 404 `Not found`.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use crate::FakeState;
use crate::common::{Incoming, bearer, header, injected_fault};

const KIND: &str = "line";

pub fn routes() -> Router<FakeState> {
    Router::new()
        .route("/v2/bot/message/reply", post(reply))
        .route("/v2/bot/message/push", post(push))
        .route("/v2/bot/message/{message_id}/content", get(content))
}

/// `GET /v2/bot/message/{message_id}/content`: the media a user sent.
async fn content(State(state): State<FakeState>, Path(message_id): Path<String>, headers: HeaderMap) -> Response {
    let path = format!("/v2/bot/message/{message_id}/content");
    let incoming = Incoming { kind: KIND, method: "GET", path, headers: &headers, body: b"" };
    let refused = match bearer(&headers) {
        Some(token) if !token.trim().is_empty() && !token.contains("invalid") => {
            message_id.contains("missing").then(|| error(StatusCode::NOT_FOUND, "Not found"))
        }
        _ => Some(unauthorized()),
    };
    if let Some(response) = refused {
        incoming.record(&state, false, None);
        return response;
    }
    if let Some(response) = injected_fault(&state, &incoming, permanent).await {
        return response;
    }
    incoming.record(&state, true, None);
    crate::media_response(&message_id, &message_id, None)
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(json!({ "message": message }))).into_response()
}

fn invalid(property: &str, message: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        axum::Json(json!({
            "message": "The request body has 1 error(s)",
            "details": [{ "message": message, "property": property }]
        })),
    )
        .into_response()
}

/// LINE's error for an injected permanent fault.
fn permanent(code: &str) -> Response {
    match code {
        "invalid_reply_token" => error(StatusCode::BAD_REQUEST, "Invalid reply token"),
        "401" => unauthorized(),
        "403" => error(StatusCode::FORBIDDEN, "Access to this API is not available for your account"),
        "404" => error(StatusCode::NOT_FOUND, "Not found"),
        "429" => error(StatusCode::TOO_MANY_REQUESTS, "You have reached your monthly limit."),
        "400" => invalid("to", "The property, 'to', in the request body is invalid"),
        other => {
            let status =
                other.parse().ok().and_then(|s| StatusCode::from_u16(s).ok()).unwrap_or(StatusCode::BAD_REQUEST);
            error(status, &format!("fake LINE error {other}"))
        }
    }
}

fn unauthorized() -> Response {
    error(
        StatusCode::UNAUTHORIZED,
        "Authentication failed. Confirm that the access token in the authorization header is valid.",
    )
}

fn is_uuid(key: &str) -> bool {
    key.len() == 36
        && key.char_indices().all(|(i, c)| if matches!(i, 8 | 13 | 18 | 23) { c == '-' } else { c.is_ascii_hexdigit() })
}

/// Checks the token and the messages; the parsed body on success.
fn check(headers: &HeaderMap, body: &[u8]) -> Result<Value, Box<Response>> {
    match bearer(headers) {
        Some(token) if !token.trim().is_empty() && !token.contains("invalid") => {}
        _ => return Err(Box::new(unauthorized())),
    }
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        return Err(Box::new(error(StatusCode::BAD_REQUEST, "The request body could not be parsed as JSON")));
    };
    let Some(messages) = value.get("messages").and_then(Value::as_array) else {
        return Err(Box::new(invalid("messages", "must be specified")));
    };
    if messages.is_empty() || messages.len() > 5 {
        return Err(Box::new(invalid("messages", "Size must be between 1 and 5")));
    }
    for (i, message) in messages.iter().enumerate() {
        let field = |name: &str| message.get(name).and_then(Value::as_str).filter(|s| !s.is_empty());
        match field("type") {
            Some("text") => {
                if field("text").is_none() {
                    return Err(Box::new(invalid(&format!("messages[{i}].text"), "must be specified")));
                }
            }
            Some("image") => {
                for name in ["originalContentUrl", "previewImageUrl"] {
                    if !field(name).is_some_and(|u| u.starts_with("https://")) {
                        return Err(Box::new(invalid(&format!("messages[{i}].{name}"), "must be an HTTPS URL")));
                    }
                }
            }
            Some("video" | "audio" | "location" | "sticker" | "imagemap" | "template" | "flex") => {}
            _ => return Err(Box::new(invalid(&format!("messages[{i}].type"), "invalid message type"))),
        }
    }
    Ok(value)
}

fn success(state: &FakeState, incoming: &Incoming<'_>, value: &Value, request_id: &str) -> Response {
    let count = value.get("messages").and_then(Value::as_array).map_or(1, Vec::len);
    let ids: Vec<String> = (0..count).map(|_| state.next_id("5800000000")).collect();
    incoming.record(state, true, ids.first().cloned());
    let sent: Vec<Value> = ids.iter().map(|id| json!({ "id": id, "quoteToken": format!("q{id}") })).collect();
    (StatusCode::OK, [("x-line-request-id", request_id.to_owned())], axum::Json(json!({ "sentMessages": sent })))
        .into_response()
}

async fn reply(State(state): State<FakeState>, headers: HeaderMap, body: Bytes) -> Response {
    let incoming =
        Incoming { kind: KIND, method: "POST", path: "/v2/bot/message/reply".into(), headers: &headers, body: &body };
    let value = match check(&headers, &body) {
        Ok(value) => value,
        Err(response) => {
            incoming.record(&state, false, None);
            return *response;
        }
    };
    let Some(token) = value.get("replyToken").and_then(Value::as_str).filter(|t| !t.is_empty()) else {
        incoming.record(&state, false, None);
        return invalid("replyToken", "must be specified");
    };
    if let Some(response) = injected_fault(&state, &incoming, permanent).await {
        return response;
    }
    let request_id = state.next_id("fake-line-request-");
    if token.contains("expired")
        || token.contains("invalid")
        || state.idempotent(&format!("reply-token:{token}"), &request_id).is_some()
    {
        incoming.record(&state, false, None);
        return error(StatusCode::BAD_REQUEST, "Invalid reply token");
    }
    success(&state, &incoming, &value, &request_id)
}

async fn push(State(state): State<FakeState>, headers: HeaderMap, body: Bytes) -> Response {
    let incoming =
        Incoming { kind: KIND, method: "POST", path: "/v2/bot/message/push".into(), headers: &headers, body: &body };
    let retry_key = header(&headers, "x-line-retry-key").map(str::to_owned);
    let checked = check(&headers, &body).and_then(|value| {
        if value.get("to").and_then(Value::as_str).is_none_or(str::is_empty) {
            return Err(Box::new(invalid("to", "must be specified")));
        }
        if retry_key.as_deref().is_some_and(|k| !is_uuid(k)) {
            return Err(Box::new(error(
                StatusCode::BAD_REQUEST,
                "The value for the 'X-Line-Retry-Key' header is invalid",
            )));
        }
        Ok(value)
    });
    let value = match checked {
        Ok(value) => value,
        Err(response) => {
            incoming.record(&state, false, None);
            return *response;
        }
    };
    if let Some(response) = injected_fault(&state, &incoming, permanent).await {
        return response;
    }
    let request_id = state.next_id("fake-line-request-");
    if let Some(key) = retry_key
        && let Some(first) = state.idempotent(&format!("retry-key:{}", key.to_ascii_lowercase()), &request_id)
    {
        incoming.record(&state, false, None);
        return (
            StatusCode::CONFLICT,
            [("x-line-request-id", request_id), ("x-line-accepted-request-id", first)],
            axum::Json(json!({ "message": "The retry key is already accepted" })),
        )
            .into_response();
    }
    success(&state, &incoming, &value, &request_id)
}
