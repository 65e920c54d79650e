//! Fake Lazada Open Platform IM send: `POST /im/message/send`.
//!
//! Reads the parameters from the form body and the query, as LazOP does, and checks the signed call as far as a
//! fake can: `app_key`, `timestamp` in milliseconds within two hours of now, `sign_method=sha256`, a `sign` of 64
//! uppercase hex digits, and an `access_token`. The fake cannot know the app secret, so it cannot recompute the
//! sign, and it takes any token except one that starts with `wrong` (a revoked or expired token). Then the
//! message: a `session_id`, and the fields its `template_id` needs (`txt` for 1 and 4, `img_url` for 3, …).
//! Errors are `{"type", "code", "message", "request_id"}` answered with HTTP 200, as LazOP does; success is
//! `{"code": "0", "data": {"message_id", "template_id", "current_time"}, "request_id"}`.

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
    Router::new().route("/im/message/send", post(send_message))
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or_default()
}

/// An error in LazOP's shape, with HTTP 200. Call limits and platform failures are typed `ISP`.
fn error(code: &str, message: &str) -> Response {
    let kind = if code.contains("CallLimit") || code.starts_with("Service") || code == "InternalError" {
        "ISP"
    } else {
        "ISV"
    };
    let body = json!({"type": kind, "code": code, "message": message, "request_id": "0b11fake00000000"});
    (StatusCode::OK, axum::Json(body)).into_response()
}

fn injected(code: &str) -> Response {
    let message = match code {
        "IllegalAccessToken" => "The specified access token is invalid or expired",
        "IncompleteSignature" => "The request signature does not conform to platform standards",
        "InvalidParameter" => "Invalid request parameter",
        "AppWhiteListLimit" => "The app has not been granted the IM API",
        "ApiCallLimit" => "The request has exceeded the api call limit",
        _ => "Lazada could not process the request",
    };
    error(code, message)
}

/// The LazOP error for parameters that are not a valid signed call.
fn unsigned(params: &[(String, String)]) -> Option<(&'static str, &'static str)> {
    let get = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty());
    if get("app_key").is_none() {
        return Some(("MissingAppKey", "Missing required parameter: app_key"));
    }
    match get("timestamp").and_then(|t| t.parse::<i64>().ok()) {
        Some(t) if (now_ms() - t).abs() <= 7_200_000 => {}
        _ => return Some(("IllegalTimestamp", "The timestamp must be milliseconds within 7200 s of now")),
    }
    if get("sign_method") != Some("sha256") {
        return Some(("InvalidSignMethod", "sign_method must be sha256"));
    }
    let sign = get("sign").unwrap_or_default();
    if sign.len() != 64 || !sign.bytes().all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b)) {
        return Some(("IncompleteSignature", "The request signature does not conform to platform standards"));
    }
    match get("access_token") {
        Some(token) if !token.starts_with("wrong") => None,
        _ => Some(("IllegalAccessToken", "The specified access token is invalid or expired")),
    }
}

/// Why the parameters are not a sendable chat message.
fn invalid(params: &[(String, String)]) -> Option<&'static str> {
    let get = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty());
    if get("session_id").is_none() {
        return Some("Missing required parameter: session_id");
    }
    let complete = match get("template_id") {
        Some("1" | "4") => get("txt").is_some(),
        Some("3") => get("img_url").is_some(),
        Some("6") => get("video_id").is_some(),
        Some("10006") => get("item_id").is_some(),
        Some("10007") => get("order_id").is_some(),
        Some("10008") => get("promotion_id").is_some(),
        Some("10010") => true,
        _ => return Some("template_id is missing or unknown"),
    };
    (!complete).then_some("The parameters do not match template_id")
}

async fn send_message(State(state): State<FakeState>, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let incoming = Incoming {
        kind: "lazada",
        method: "POST",
        path: uri.path_and_query().map(ToString::to_string).unwrap_or_default(),
        headers: &headers,
        body: &body,
    };
    let mut params: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    params.extend(form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes()).into_owned());
    if let Some((code, message)) = unsigned(&params) {
        incoming.record(&state, false, None);
        return error(code, message);
    }
    if let Some(message) = invalid(&params) {
        incoming.record(&state, false, None);
        return error(if message.starts_with("Missing") { "MissingParameter" } else { "InvalidParameter" }, message);
    }
    if let Some(answer) = injected_fault(&state, &incoming, injected).await {
        return answer;
    }
    let id = state.next_id("21d0fLE0Fake");
    incoming.record(&state, true, Some(id.clone()));
    let template_id = params.iter().find(|(k, _)| k == "template_id").and_then(|(_, v)| v.parse::<i64>().ok());
    let answer = json!({
        "code": "0",
        "data": {"message_id": id, "template_id": template_id, "current_time": now_ms()},
        "request_id": "0b11fake00000000",
    });
    (StatusCode::OK, axum::Json(answer)).into_response()
}
