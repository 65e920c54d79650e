//! Fake Shopee Open Platform v2 shop calls: `POST /api/v2/sellerchat/send_message` and
//! `POST /api/v2/product/reply_comment`.
//!
//! Checks the signed query as Shopee does, as far as a fake can: `partner_id` and `shop_id` numeric, `timestamp`
//! within five minutes of now, an `access_token`, and a `sign` that is 64 lowercase hex digits. The fake cannot
//! know the partner key, so it cannot recompute the sign, and it takes any token except one that starts with
//! `wrong` (a revoked or expired token). Then the body: a chat message needs a numeric `to_id` and a
//! `message_type` with its content (`text` for text); a reply needs a `comment_list` of numeric `comment_id`s
//! with a `comment`. Errors are `{"request_id", "error", "message"}`; success is
//! `{"request_id", "error": "", "message": "", "response": {…}}`.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::json;

use crate::FakeState;
use crate::common::{Incoming, injected_fault};

pub fn routes() -> Router<FakeState> {
    Router::new()
        .route("/api/v2/sellerchat/send_message", post(send_message))
        .route("/api/v2/product/reply_comment", post(reply_comment))
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or_default()
}

fn message_for(code: &str) -> &'static str {
    match code {
        "error_auth" => "Invalid access_token.",
        "error_sign" => "Wrong sign.",
        "error_param" => "Invalid parameter.",
        "error_permission" => "The shop has no permission for seller chat.",
        "error_server" | "error_inner" => "Internal error, please try again later.",
        _ => "Shopee could not process the request.",
    }
}

/// An error in Shopee's shape; auth problems are answered 403, server problems 500, the rest 400.
fn error(code: &str, message: &str) -> Response {
    let status = match code {
        "error_auth" | "error_sign" | "error_permission" => StatusCode::FORBIDDEN,
        "error_server" | "error_inner" => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_REQUEST,
    };
    (status, axum::Json(json!({"request_id": "fake-request", "error": code, "message": message}))).into_response()
}

fn injected(code: &str) -> Response {
    error(code, message_for(code))
}

/// The Shopee error for a query that is not a valid signed shop-level call.
fn unsigned(query: &[(String, String)]) -> Option<(&'static str, &'static str)> {
    let get = |name: &str| query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty());
    let numeric = |v: Option<&str>| v.is_some_and(|v| v.bytes().all(|b| b.is_ascii_digit()));
    if !numeric(get("partner_id")) {
        return Some(("error_param", "partner_id is required and must be a number."));
    }
    if !numeric(get("shop_id")) {
        return Some(("error_param", "shop_id is required and must be a number."));
    }
    match get("timestamp").and_then(|t| t.parse::<i64>().ok()) {
        Some(t) if (now() - t).abs() <= 300 => {}
        _ => return Some(("error_param", "Invalid timestamp: it must be within five minutes of now.")),
    }
    let sign = get("sign").unwrap_or_default();
    if sign.len() != 64 || !sign.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        return Some(("error_sign", "Wrong sign."));
    }
    match get("access_token") {
        Some(token) if !token.starts_with("wrong") => None,
        _ => Some(("error_auth", "Invalid access_token.")),
    }
}

fn positive_id(value: Option<&serde_json::Value>) -> bool {
    value.and_then(|v| v.as_u64()).is_some_and(|id| id > 0)
}

fn chat_invalid(body: &serde_json::Value) -> Option<&'static str> {
    if !positive_id(body.get("to_id")) {
        return Some("to_id is required and must be a buyer's user id.");
    }
    let content = body.get("content");
    let field = |name: &str| content.and_then(|c| c.get(name)).is_some_and(|v| !v.is_null() && v != "");
    let complete = match body.get("message_type").and_then(|t| t.as_str()) {
        Some("text") => field("text"),
        Some("image") => field("image_url"),
        Some("sticker") => field("sticker_id") && field("sticker_package_id"),
        Some("item") => field("item_id"),
        Some("order") => field("order_sn"),
        _ => return Some("message_type must be text, image, sticker, item or order."),
    };
    (!complete).then_some("content does not match message_type.")
}

fn reply_invalid(body: &serde_json::Value) -> Option<&'static str> {
    let Some(list) = body.get("comment_list").and_then(|l| l.as_array()).filter(|l| !l.is_empty()) else {
        return Some("comment_list is required.");
    };
    let valid = list.iter().all(|c| {
        positive_id(c.get("comment_id"))
            && c.get("comment").and_then(|t| t.as_str()).is_some_and(|t| !t.trim().is_empty())
    });
    (!valid).then_some("Each comment needs a comment_id and a comment.")
}

/// Everything both calls check before their own body: the signed query and a JSON object. The error is
/// Shopee's code and message.
fn checked(
    uri: &Uri,
    body: &[u8],
    invalid: fn(&serde_json::Value) -> Option<&'static str>,
) -> Result<serde_json::Value, (&'static str, &'static str)> {
    let query: Vec<(String, String)> =
        form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes()).into_owned().collect();
    if let Some(refusal) = unsigned(&query) {
        return Err(refusal);
    }
    let parsed: Option<serde_json::Value> =
        serde_json::from_slice(body).ok().filter(|v: &serde_json::Value| v.is_object());
    let value = parsed.ok_or(("error_param", "The request body is not a JSON object."))?;
    match invalid(&value) {
        Some(message) => Err(("error_param", message)),
        None => Ok(value),
    }
}

fn incoming<'a>(uri: &Uri, headers: &'a HeaderMap, body: &'a [u8]) -> Incoming<'a> {
    Incoming {
        kind: "shopee",
        method: "POST",
        path: uri.path_and_query().map(ToString::to_string).unwrap_or_default(),
        headers,
        body,
    }
}

async fn send_message(State(state): State<FakeState>, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let incoming = incoming(&uri, &headers, &body);
    let message = match checked(&uri, &body, chat_invalid) {
        Ok(message) => message,
        Err((code, message)) => {
            incoming.record(&state, false, None);
            return error(code, message);
        }
    };
    if let Some(answer) = injected_fault(&state, &incoming, injected).await {
        return answer;
    }
    let id = state.next_id("2385373076");
    incoming.record(&state, true, Some(id.clone()));
    let response = json!({
        "to_id": message.get("to_id"),
        "message_id": id,
        "message_type": message.get("message_type"),
        "content": message.get("content"),
        "conversation_id": "28554413104092054",
        "created_timestamp": now(),
        "message_option": 0,
    });
    let answer = json!({"request_id": "fake-request", "error": "", "message": "", "response": response});
    (StatusCode::OK, axum::Json(answer)).into_response()
}

async fn reply_comment(State(state): State<FakeState>, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let incoming = incoming(&uri, &headers, &body);
    let reply = match checked(&uri, &body, reply_invalid) {
        Ok(reply) => reply,
        Err((code, message)) => {
            incoming.record(&state, false, None);
            return error(code, message);
        }
    };
    if let Some(answer) = injected_fault(&state, &incoming, injected).await {
        return answer;
    }
    // A reply has no id of its own: the batch answer names the comments.
    incoming.record(&state, true, None);
    let results: Vec<serde_json::Value> = reply
        .get("comment_list")
        .and_then(|l| l.as_array())
        .map(|l| {
            l.iter().map(|c| json!({"comment_id": c.get("comment_id"), "fail_error": "", "fail_message": ""})).collect()
        })
        .unwrap_or_default();
    let answer = json!({
        "request_id": "fake-request",
        "error": "",
        "message": "",
        "response": {"result_list": results, "warning": []},
    });
    (StatusCode::OK, axum::Json(answer)).into_response()
}
