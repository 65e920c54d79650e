//! Fake X API v2 send endpoints: `POST /2/dm_conversations/with/{participant_id}/messages` (a DM) and
//! `POST /2/tweets` (a tweet, e.g. a reply with `reply.in_reply_to_tweet_id`).
//!
//! - Authentication: `Authorization: Bearer <user access token>`; a missing token, or one containing `invalid`,
//!   is answered 401 with X's problem document.
//! - Shape: a DM needs a numeric participant id and `text` or one `attachments[].media_id`; a tweet needs `text`
//!   or `media.media_ids` (≤ 4), and a reply's tweet id must be numeric. Otherwise 400 "Invalid Request".
//! - Injected permanent faults take an HTTP status (`403` = the recipient does not accept DMs from you / the reply is
//!   not allowed, `401`, `400`, `429` = rate limited with `x-rate-limit-reset` a minute ahead) or an X error code
//!   (e.g. `349`), answered 403 as `{"errors": [{"code", "message"}]}`.
//! - Success: 201 `{"data": {"dm_conversation_id", "dm_event_id"}}` or `{"data": {"id", "text"}}`.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

use crate::FakeState;
use crate::common::{Incoming, bearer, injected_fault};

const KIND: &str = "x";

pub fn routes() -> Router<FakeState> {
    Router::new().route("/2/dm_conversations/with/{participant_id}/messages", post(dm)).route("/2/tweets", post(tweet))
}

fn problem(status: StatusCode, title: &str, detail: &str) -> Response {
    let body = json!({ "title": title, "type": "about:blank", "status": status.as_u16(), "detail": detail });
    (status, axum::Json(body)).into_response()
}

fn unauthorized() -> Response {
    problem(StatusCode::UNAUTHORIZED, "Unauthorized", "Unauthorized")
}

fn invalid_request(message: &str) -> Response {
    let body = json!({
        "errors": [{ "parameters": {}, "message": message }],
        "title": "Invalid Request",
        "detail": "One or more parameters to your request was invalid.",
        "type": "https://api.twitter.com/2/problems/invalid-request"
    });
    (StatusCode::BAD_REQUEST, axum::Json(body)).into_response()
}

/// X's answer for an injected permanent fault; `forbidden` is the 403 text of the endpoint.
fn permanent(code: &str, forbidden: &str) -> Response {
    match code {
        "401" => unauthorized(),
        "400" => invalid_request("The `text` field is invalid"),
        "403" => problem(StatusCode::FORBIDDEN, "Forbidden", forbidden),
        "429" => {
            let reset =
                std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs()) + 60;
            let mut response = problem(StatusCode::TOO_MANY_REQUESTS, "Too Many Requests", "Too Many Requests");
            if let Ok(value) = reset.to_string().parse() {
                response.headers_mut().insert("x-rate-limit-reset", value);
            }
            response
        }
        other => {
            match other.parse::<u16>().ok().and_then(|s| StatusCode::from_u16(s).ok()).filter(|s| s.as_u16() >= 400) {
                Some(status) if status.as_u16() < 600 => problem(status, "Error", &format!("fake X error {other}")),
                _ => {
                    let code: Value = other.parse::<i64>().map_or_else(|_| Value::from(other), Value::from);
                    let body = json!({ "errors": [{ "code": code, "message": format!("fake X error {other}") }] });
                    (StatusCode::FORBIDDEN, axum::Json(body)).into_response()
                }
            }
        }
    }
}

fn authorized(headers: &HeaderMap) -> bool {
    bearer(headers).is_some_and(|t| !t.trim().is_empty() && !t.contains("invalid"))
}

fn numeric(id: &str) -> bool {
    !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit())
}

fn non_empty_text(value: &Value) -> bool {
    value.get("text").and_then(Value::as_str).is_some_and(|t| !t.trim().is_empty())
}

fn check_dm(headers: &HeaderMap, participant_id: &str, body: &[u8]) -> Result<Value, Box<Response>> {
    if !authorized(headers) {
        return Err(Box::new(unauthorized()));
    }
    if !numeric(participant_id) {
        return Err(Box::new(invalid_request("The `participant_id` path parameter is not a user id")));
    }
    let value: Value = serde_json::from_slice(body).map_err(|_| invalid_request("The body is not JSON"))?;
    let attachments = match value.get("attachments") {
        None => 0,
        Some(Value::Array(items)) => {
            if items.iter().any(|a| a.get("media_id").and_then(Value::as_str).is_none_or(|id| !numeric(id.trim()))) {
                return Err(Box::new(invalid_request("Each attachment needs a `media_id`")));
            }
            items.len()
        }
        Some(_) => return Err(Box::new(invalid_request("`attachments` must be an array"))),
    };
    if attachments > 1 {
        return Err(Box::new(invalid_request("A message may carry one attachment")));
    }
    if !non_empty_text(&value) && attachments == 0 {
        return Err(Box::new(invalid_request("One of `text` or `attachments` is required")));
    }
    Ok(value)
}

fn check_tweet(headers: &HeaderMap, body: &[u8]) -> Result<Value, Box<Response>> {
    if !authorized(headers) {
        return Err(Box::new(unauthorized()));
    }
    let value: Value = serde_json::from_slice(body).map_err(|_| invalid_request("The body is not JSON"))?;
    let media = match value.pointer("/media/media_ids") {
        None => 0,
        Some(Value::Array(ids)) if ids.iter().all(|id| id.as_str().is_some_and(numeric)) => ids.len(),
        Some(_) => return Err(Box::new(invalid_request("`media.media_ids` must be media ids"))),
    };
    if media > 4 {
        return Err(Box::new(invalid_request("A tweet may carry at most 4 media")));
    }
    if !non_empty_text(&value) && media == 0 {
        return Err(Box::new(invalid_request("One of `text` or `media` is required")));
    }
    if let Some(reply) = value.get("reply")
        && !reply.get("in_reply_to_tweet_id").and_then(Value::as_str).is_some_and(numeric)
    {
        return Err(Box::new(invalid_request("`reply.in_reply_to_tweet_id` must be a tweet id")));
    }
    Ok(value)
}

async fn dm(
    State(state): State<FakeState>,
    Path(participant_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = format!("/2/dm_conversations/with/{participant_id}/messages");
    let incoming = Incoming { kind: KIND, method: "POST", path, headers: &headers, body: &body };
    if let Err(response) = check_dm(&headers, &participant_id, &body) {
        incoming.record(&state, false, None);
        return *response;
    }
    let forbidden = "You are not permitted to send Direct Messages to this user.";
    if let Some(response) = injected_fault(&state, &incoming, |code| permanent(code, forbidden)).await {
        return response;
    }
    let id = state.next_id("188000000000");
    incoming.record(&state, true, Some(id.clone()));
    let data = json!({ "dm_conversation_id": format!("4400000000000000001-{participant_id}"), "dm_event_id": id });
    (StatusCode::CREATED, axum::Json(json!({ "data": data }))).into_response()
}

async fn tweet(State(state): State<FakeState>, headers: HeaderMap, body: Bytes) -> Response {
    let incoming = Incoming { kind: KIND, method: "POST", path: "/2/tweets".into(), headers: &headers, body: &body };
    let value = match check_tweet(&headers, &body) {
        Ok(value) => value,
        Err(response) => {
            incoming.record(&state, false, None);
            return *response;
        }
    };
    let forbidden = "Reply to this conversation is not allowed because you have not been mentioned or otherwise engaged by the author of the post you are replying to.";
    if let Some(response) = injected_fault(&state, &incoming, |code| permanent(code, forbidden)).await {
        return response;
    }
    let id = state.next_id("188000000000");
    incoming.record(&state, true, Some(id.clone()));
    let text = value.get("text").cloned().unwrap_or_else(|| Value::from(""));
    let data = json!({ "id": id, "text": text, "edit_history_tweet_ids": [id] });
    (StatusCode::CREATED, axum::Json(json!({ "data": data }))).into_response()
}
