//! Fake Dialpad API v2 SMS send: `POST /api/v2/sms`.
//!
//! Checks the API key (`Authorization: Bearer <key>` or `?apikey=`; the fake cannot know real keys, so any key is
//! taken except one that starts with `wrong`, which stands for a revoked key), then the body
//! (`protos.sms.SendSMSMessage`): `to_numbers` (1–10 E.164 numbers), a `from_number` in E.164 when given, and
//! `text` or `media`. Errors use Dialpad's shape `{"error": {"code", "message", "errors": [{"domain", "reason",
//! "message"}]}}`; success is `200` with the SMS (`protos.sms.SMSProto`) and a new id.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::json;

use crate::FakeState;
use crate::common::{Incoming, bearer, injected_fault};

pub fn routes() -> Router<FakeState> {
    Router::new().route("/api/v2/sms", post(send_sms))
}

/// An error in Dialpad's shape. `code` is an HTTP status (`"403"`), or a reason that is answered as a 400.
fn error(code: &str, message: &str) -> Response {
    let status = code
        .parse::<u16>()
        .ok()
        .and_then(|s| StatusCode::from_u16(s).ok())
        .filter(|s| s.is_client_error())
        .unwrap_or(StatusCode::BAD_REQUEST);
    let reason = match status {
        StatusCode::UNAUTHORIZED => "unauthorized",
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::NOT_FOUND => "notFound",
        _ if code.parse::<u16>().is_err() => code,
        _ => "badRequest",
    };
    let body = json!({
        "error": {
            "code": status.as_u16(),
            "message": message,
            "errors": [{"domain": "global", "reason": reason, "message": message}],
        }
    });
    (status, axum::Json(body)).into_response()
}

fn injected(code: &str) -> Response {
    let message = match code {
        "401" => "Invalid API key.",
        "403" => "The number is not assigned to this user or group.",
        "404" => "Not found.",
        _ => "The recipient has opted out of SMS from this number.",
    };
    error(code, message)
}

fn e164(value: &serde_json::Value) -> bool {
    value
        .as_str()
        .and_then(|s| s.strip_prefix('+'))
        .is_some_and(|digits| (8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()))
}

/// Why the body is not a sendable SMS, in Dialpad's words.
fn invalid(body: &serde_json::Value) -> Option<&'static str> {
    let Some(to) = body.get("to_numbers").and_then(|v| v.as_array()) else {
        return Some("to_numbers is required.");
    };
    if to.is_empty() || to.len() > 10 {
        return Some("to_numbers must hold 1 to 10 numbers.");
    }
    let relaxed = body.get("infer_country_code").and_then(|v| v.as_bool()).unwrap_or(false);
    if !relaxed && !to.iter().all(e164) {
        return Some("to_numbers must be E164-formatted.");
    }
    if body.get("from_number").is_some_and(|from| !from.is_null() && !e164(from)) {
        return Some("from_number must be E164-formatted.");
    }
    let text = body.get("text").and_then(|v| v.as_str()).is_some_and(|t| !t.is_empty());
    let media = body.get("media").and_then(|v| v.as_str()).is_some_and(|m| !m.is_empty());
    (!text && !media).then_some("Either text or media is required.")
}

async fn send_sms(State(state): State<FakeState>, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let incoming = Incoming {
        kind: "dialpad",
        method: "POST",
        path: uri.path_and_query().map(ToString::to_string).unwrap_or_default(),
        headers: &headers,
        body: &body,
    };
    let query_key = uri
        .query()
        .and_then(|q| form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "apikey").map(|(_, v)| v.into_owned()));
    let key = bearer(&headers).map(str::to_owned).or(query_key).filter(|k| !k.is_empty());
    if key.is_none_or(|k| k.starts_with("wrong")) {
        incoming.record(&state, false, None);
        return error("401", "Invalid API key.");
    }
    let parsed: Option<serde_json::Value> =
        serde_json::from_slice(&body).ok().filter(|v: &serde_json::Value| v.is_object());
    let Some(sms) = parsed else {
        incoming.record(&state, false, None);
        return error("400", "The request body is not a JSON object.");
    };
    if let Some(message) = invalid(&sms) {
        incoming.record(&state, false, None);
        return error("400", message);
    }
    if let Some(answer) = injected_fault(&state, &incoming, injected).await {
        return answer;
    }
    let id = state.next_id("555000");
    incoming.record(&state, true, Some(id.clone()));
    let answer = json!({
        "id": id,
        "created_date": "2026-01-01T00:00:00",
        "device_type": "public_api",
        "direction": "outbound",
        "from_number": sms.get("from_number"),
        "to_numbers": sms.get("to_numbers"),
        "text": sms.get("text"),
        "message_status": "pending",
        "target_type": "user",
    });
    (StatusCode::OK, axum::Json(answer)).into_response()
}
