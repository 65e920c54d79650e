//! Fake Telegram Bot API send endpoints: `POST /bot{token}/sendMessage`, `/sendPhoto` and `/sendDocument`
//! (JSON bodies).
//!
//! - Authentication is the token in the path: one without `:` is answered 404 `Not Found`, one containing
//!   `invalid` 401 `Unauthorized`, as the Bot API does for malformed and revoked tokens.
//! - Shape: `chat_id` is required; `sendMessage` needs `text` (≤ 4096 characters), `sendPhoto` a `photo`,
//!   `sendDocument` a `document` (URL or file id); a `caption` is at most 1024 characters. Otherwise 400
//!   `{"ok": false, "error_code": 400, "description": "Bad Request: …"}`.
//! - Injected permanent faults take the error code (`403` = bot blocked by the user, `400` = chat not found,
//!   `401`, `429` = flood control with `parameters.retry_after` 7), or `code:description` for any other text.
//! - Success: `{"ok": true, "result": Message}` with a new numeric `message_id`; the recorded id is
//!   `"{chat_id}:{message_id}"`.
//!
//! File downloads: `GET /bot{token}/getFile?file_id=…` answers `{"ok": true, "result": {"file_id",
//! "file_unique_id", "file_size", "file_path"}}` with `file_path` = `{folder}/{file_id}.{ext}` (the type by
//! [`crate::media_mime_type`] of the file id), and `GET /file/bot{token}/{file_path}` the bytes
//! ([`crate::media_bytes`] of the file id). The token is checked on both; a file id containing `missing` is
//! answered 400 `invalid file_id`, one containing `big` 400 `file is too big` (the Bot API's 20 MB limit).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use crate::FakeState;
use crate::common::{Incoming, injected_fault};

const KIND: &str = "telegram";

pub fn routes() -> Router<FakeState> {
    Router::new().route("/{bot}/{method}", post(call).get(get_file)).route("/file/{bot}/{*file_path}", get(download))
}

/// Checks the bot token of a path segment `bot{token}` as the Bot API does.
fn check_token(bot: &str) -> Result<(), Box<Response>> {
    let token = bot.strip_prefix("bot").filter(|t| t.contains(':')).ok_or_else(|| error(404, "Not Found"))?;
    if token.contains("invalid") {
        return Err(Box::new(error(401, "Unauthorized")));
    }
    Ok(())
}

/// `GET /bot{token}/getFile?file_id=…`: where to download a file (the only method the fake answers by GET).
async fn get_file(
    State(state): State<FakeState>,
    Path((bot, method)): Path<(String, String)>,
    Query(query): Query<std::collections::HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let file_id = query.get("file_id").map(|id| id.trim().to_owned()).unwrap_or_default();
    let path = format!("/{bot}/{method}?file_id={file_id}");
    let incoming = Incoming { kind: KIND, method: "GET", path, headers: &headers, body: b"" };
    let checked = check_token(&bot).and_then(|()| match method.as_str() {
        "getFile" if file_id.is_empty() => Err(Box::new(error(400, "Bad Request: file_id is empty"))),
        "getFile" if file_id.contains("missing") => Err(Box::new(error(400, "Bad Request: invalid file_id"))),
        "getFile" if file_id.contains("big") => Err(Box::new(error(400, "Bad Request: file is too big"))),
        "getFile" => Ok(()),
        _ => Err(Box::new(error(404, "Not Found"))),
    });
    if let Err(response) = checked {
        incoming.record(&state, false, None);
        return *response;
    }
    if let Some(response) = injected_fault(&state, &incoming, permanent).await {
        return response;
    }
    incoming.record(&state, true, None);
    let mime_type = crate::media_mime_type(&file_id);
    let folder = match mime_type.split('/').next() {
        Some("image") => "photos",
        Some("video") => "videos",
        Some("audio") => "voice",
        _ => "documents",
    };
    let file_path = format!("{folder}/{file_id}.{}", crate::media_extension(mime_type));
    let result = json!({
        "file_id": file_id,
        "file_unique_id": format!("u-{file_id}"),
        "file_size": crate::media_bytes(&file_id).len(),
        "file_path": file_path,
    });
    axum::Json(json!({ "ok": true, "result": result })).into_response()
}

/// `GET /file/bot{token}/{file_path}`: the file's bytes.
async fn download(
    State(state): State<FakeState>,
    Path((bot, file_path)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let path = format!("/file/{bot}/{file_path}");
    let incoming = Incoming { kind: KIND, method: "GET", path, headers: &headers, body: b"" };
    if let Err(response) = check_token(&bot) {
        incoming.record(&state, false, None);
        return *response;
    }
    if let Some(response) = injected_fault(&state, &incoming, permanent).await {
        return response;
    }
    incoming.record(&state, true, None);
    let name = file_path.rsplit('/').next().unwrap_or(&file_path);
    let file_id = name.rsplit_once('.').map_or(name, |(stem, _)| stem);
    crate::media_response(file_id, &file_path, None)
}

fn error(code: u16, description: &str) -> Response {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST);
    (status, axum::Json(json!({ "ok": false, "error_code": code, "description": description }))).into_response()
}

/// The Bot API's error for an injected permanent fault.
fn permanent(code: &str) -> Response {
    match code {
        "403" => error(403, "Forbidden: bot was blocked by the user"),
        "400" => error(400, "Bad Request: chat not found"),
        "401" => error(401, "Unauthorized"),
        "429" => (
            StatusCode::TOO_MANY_REQUESTS,
            axum::Json(json!({
                "ok": false, "error_code": 429, "description": "Too Many Requests: retry after 7",
                "parameters": { "retry_after": 7 }
            })),
        )
            .into_response(),
        other => {
            let (number, description) = other.split_once(':').unwrap_or((other, "fake Telegram error"));
            error(number.trim().parse().unwrap_or(400), description.trim())
        }
    }
}

fn check(bot: &str, method: &str, body: &[u8]) -> Result<Value, Box<Response>> {
    check_token(bot)?;
    let file_field = match method {
        "sendMessage" => None,
        "sendPhoto" => Some("photo"),
        "sendDocument" => Some("document"),
        _ => return Err(Box::new(error(404, "Not Found"))),
    };
    let value: Value = serde_json::from_slice(body).map_err(|_| error(400, "Bad Request: can't parse JSON"))?;
    let text = |name: &str| value.get(name).and_then(Value::as_str).filter(|s| !s.trim().is_empty());
    let chat_given = match value.get("chat_id") {
        Some(Value::Number(_)) => true,
        Some(Value::String(s)) => !s.trim().is_empty(),
        _ => false,
    };
    if !chat_given {
        return Err(Box::new(error(400, "Bad Request: chat_id is empty")));
    }
    match file_field {
        None => match text("text") {
            None => return Err(Box::new(error(400, "Bad Request: message text is empty"))),
            Some(t) if t.chars().count() > 4096 => {
                return Err(Box::new(error(400, "Bad Request: message is too long")));
            }
            Some(_) => {}
        },
        Some(field) => {
            if text(field).is_none() {
                return Err(Box::new(error(400, &format!("Bad Request: there is no {field} in the request"))));
            }
            if text("caption").is_some_and(|c| c.chars().count() > 1024) {
                return Err(Box::new(error(400, "Bad Request: message caption is too long")));
            }
        }
    }
    Ok(value)
}

async fn call(
    State(state): State<FakeState>,
    Path((bot, method)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let incoming =
        Incoming { kind: KIND, method: "POST", path: format!("/{bot}/{method}"), headers: &headers, body: &body };
    let value = match check(&bot, &method, &body) {
        Ok(value) => value,
        Err(response) => {
            incoming.record(&state, false, None);
            return *response;
        }
    };
    if let Some(response) = injected_fault(&state, &incoming, permanent).await {
        return response;
    }
    let message_id: u64 = state.next_id("").parse().unwrap_or(1);
    let chat_id = value.get("chat_id").cloned().unwrap_or(Value::Null);
    let chat_key = match &chat_id {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    incoming.record(&state, true, Some(format!("{chat_key}:{message_id}")));
    let bot_id: u64 = bot.trim_start_matches("bot").split(':').next().and_then(|id| id.parse().ok()).unwrap_or(1);
    let private = chat_id.as_i64().is_some_and(|id| id > 0);
    let mut result = json!({
        "message_id": message_id,
        "from": { "id": bot_id, "is_bot": true, "first_name": "Fake Bot", "username": "fake_bot" },
        "chat": { "id": chat_id, "type": if private { "private" } else { "group" } },
        "date": std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs()),
    });
    for field in ["text", "caption"] {
        if let Some(text) = value.get(field) {
            result[field] = text.clone();
        }
    }
    match method.as_str() {
        "sendPhoto" => {
            result["photo"] = json!([{ "file_id": format!("fake-photo-{message_id}"), "width": 320, "height": 320 }]);
        }
        "sendDocument" => result["document"] = json!({ "file_id": format!("fake-document-{message_id}") }),
        _ => {}
    }
    axum::Json(json!({ "ok": true, "result": result })).into_response()
}
