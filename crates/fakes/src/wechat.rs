//! Fake WeChat Official Account API: `GET /cgi-bin/token` (access token) and
//! `POST /cgi-bin/message/custom/send?access_token=…` (customer-service messages).
//!
//! - The token endpoint needs `grant_type=client_credential`, `appid` and `secret`; an app id or secret
//!   containing `invalid` is answered `40013` / `40125`. Tokens it issues start with `FAKE_ACCESS_TOKEN_` and
//!   last 7200 s. Token requests are recorded (accepted, without an id) so tests can count them; injected
//!   faults are not spent on them.
//! - `custom/send` needs one of those tokens (missing → `41001`, other → `40001`), a `touser` (`40003`), a known
//!   `msgtype`, `text.content` for text (`44004`), and a `media_id` for image/voice/video (`40007`; one containing
//!   `invalid` too).
//! - Injected permanent faults take WeChat's `errcode` (`45015`, `45047`, `40003`, `40001`, `42001`, `-1`, `45009`,
//!   …). WeChat answers every error with HTTP 200 and `{"errcode", "errmsg"}`, and success with
//!   `{"errcode": 0, "errmsg": "ok"}` (no message id).
//! - `GET /cgi-bin/media/get?access_token=…&media_id=…` (temporary media) needs one of those tokens (as above) and
//!   a media id (`40007` when missing or containing `invalid` or `missing`). It answers the bytes
//!   ([`crate::media_bytes`] of the media id, typed by [`crate::media_mime_type`]) with
//!   `Content-disposition: attachment; filename="{media_id}.{ext}"`, as WeChat does; a video (a media id
//!   containing `video`) is answered, as WeChat does, with JSON `{"video_url": …}`, here
//!   `http://{host}/files/{media_id}.mp4` on the fake's generic file endpoint.

use std::collections::HashMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use crate::FakeState;
use crate::common::{Incoming, injected_fault};

const KIND: &str = "wechat";

/// What every token this fake issues starts with.
pub const TOKEN_PREFIX: &str = "FAKE_ACCESS_TOKEN_";

pub fn routes() -> Router<FakeState> {
    Router::new()
        .route("/cgi-bin/token", get(token))
        .route("/cgi-bin/message/custom/send", post(custom_send))
        .route("/cgi-bin/media/get", get(media_get))
}

/// The refusal of a request without one of the tokens this fake issued.
fn check_access_token(query: &HashMap<String, String>) -> Result<(), Box<Response>> {
    match query.get("access_token").map(String::as_str).filter(|t| !t.is_empty()) {
        None => Err(Box::new(wechat_error(41001, "access_token missing"))),
        Some(token) if !token.starts_with(TOKEN_PREFIX) => {
            Err(Box::new(wechat_error(40001, "invalid credential, access_token is invalid or not latest")))
        }
        Some(_) => Ok(()),
    }
}

/// `GET /cgi-bin/media/get`: a temporary media file.
async fn media_get(
    State(state): State<FakeState>,
    uri: Uri,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let incoming = Incoming { kind: KIND, method: "GET", path: path_of(&uri), headers: &headers, body: b"" };
    let media_id = query.get("media_id").map(|id| id.trim()).unwrap_or_default();
    let checked = check_access_token(&query).and_then(|()| {
        if media_id.is_empty() || media_id.contains("invalid") || media_id.contains("missing") {
            return Err(Box::new(wechat_error(40007, "invalid media_id")));
        }
        Ok(())
    });
    if let Err(response) = checked {
        incoming.record(&state, false, None);
        return *response;
    }
    if let Some(response) = injected_fault(&state, &incoming, permanent).await {
        return response;
    }
    incoming.record(&state, true, None);
    let mime_type = crate::media_mime_type(media_id);
    let extension = crate::media_extension(mime_type);
    if mime_type.starts_with("video/") {
        let segment: String = form_urlencoded::byte_serialize(media_id.as_bytes()).collect();
        let url = format!("{}/files/{segment}.{extension}", crate::own_base(&headers, &uri));
        return axum::Json(json!({ "video_url": url })).into_response();
    }
    crate::media_response(media_id, media_id, Some(&format!("{media_id}.{extension}")))
}

fn wechat_error(code: i64, message: &str) -> Response {
    axum::Json(json!({ "errcode": code, "errmsg": format!("{message} rid: 6770FAKE-{code}") })).into_response()
}

/// WeChat's error for an injected permanent fault.
fn permanent(code: &str) -> Response {
    let number = code.trim().parse::<i64>().unwrap_or(40000);
    let message = match number {
        45015 => "response out of time limit or subscription is canceled",
        45047 => "out of response count limit",
        40003 => "invalid openid",
        40001 => "invalid credential, access_token is invalid or not latest",
        42001 => "access_token expired",
        45009 => "reach max api daily quota limit",
        -1 => "system error",
        _ => "fake WeChat error",
    };
    wechat_error(number, message)
}

fn path_of(uri: &Uri) -> String {
    uri.path_and_query().map_or_else(|| uri.path().to_owned(), |p| p.as_str().to_owned())
}

async fn token(
    State(state): State<FakeState>,
    uri: Uri,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let incoming = Incoming { kind: KIND, method: "GET", path: path_of(&uri), headers: &headers, body: b"" };
    let param = |name: &str| query.get(name).map(String::as_str).filter(|v| !v.trim().is_empty());
    let refused = match (param("grant_type"), param("appid"), param("secret")) {
        (Some("client_credential"), Some(app_id), Some(secret)) => {
            if app_id.contains("invalid") {
                Some(wechat_error(40013, "invalid appid"))
            } else if secret.contains("invalid") {
                Some(wechat_error(40125, "invalid appsecret"))
            } else {
                None
            }
        }
        (Some("client_credential"), None, _) => Some(wechat_error(41002, "appid missing")),
        (Some("client_credential"), _, None) => Some(wechat_error(41004, "appsecret missing")),
        _ => Some(wechat_error(40002, "invalid grant_type")),
    };
    if let Some(response) = refused {
        incoming.record(&state, false, None);
        return response;
    }
    incoming.record(&state, true, None);
    let app_id = param("appid").unwrap_or_default();
    let token = state.next_id(&format!("{TOKEN_PREFIX}{app_id}_"));
    axum::Json(json!({ "access_token": token, "expires_in": 7200 })).into_response()
}

fn check(query: &HashMap<String, String>, body: &[u8]) -> Result<(), Box<Response>> {
    check_access_token(query)?;
    let value: Value = serde_json::from_slice(body).map_err(|_| wechat_error(47001, "data format error"))?;
    let text = |pointer: &str| value.pointer(pointer).and_then(Value::as_str).filter(|s| !s.trim().is_empty());
    if text("/touser").is_none() {
        return Err(Box::new(wechat_error(40003, "invalid openid")));
    }
    match text("/msgtype") {
        Some("text") => {
            if text("/text/content").is_none() {
                return Err(Box::new(wechat_error(44004, "empty content")));
            }
        }
        Some(kind @ ("image" | "voice" | "video")) => {
            if text(&format!("/{kind}/media_id")).is_none_or(|id| id.contains("invalid")) {
                return Err(Box::new(wechat_error(40007, "invalid media_id")));
            }
        }
        Some("music" | "news" | "mpnews" | "mpnewsarticle" | "msgmenu" | "wxcard" | "miniprogrampage") => {}
        _ => return Err(Box::new(wechat_error(40008, "invalid message type"))),
    }
    Ok(())
}

async fn custom_send(
    State(state): State<FakeState>,
    uri: Uri,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    let incoming = Incoming { kind: KIND, method: "POST", path: path_of(&uri), headers: &headers, body: &body };
    if let Err(response) = check(&query, &body) {
        incoming.record(&state, false, None);
        return *response;
    }
    if let Some(response) = injected_fault(&state, &incoming, permanent).await {
        return response;
    }
    incoming.record(&state, true, None);
    axum::Json(json!({ "errcode": 0, "errmsg": "ok" })).into_response()
}
