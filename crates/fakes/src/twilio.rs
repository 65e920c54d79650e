//! Fake Twilio Messages resource: `POST /2010-04-01/Accounts/{AccountSid}/Messages.json`.
//!
//! Checks HTTP Basic auth (the user must be the account in the path; the fake cannot know the real auth token,
//! so any token is taken except one that starts with `wrong`, which stands for a revoked token), then the form:
//! `To` (E.164 or `whatsapp:+…`), `From` or `MessagingServiceSid`, and `Body` or `MediaUrl` (at most ten).
//! Errors use Twilio's shape `{"code", "message", "more_info", "status"}`; success is `201` with the Message
//! resource and a new `SM…` sid.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::json;

use crate::FakeState;
use crate::common::{Incoming, header, injected_fault};

pub fn routes() -> Router<FakeState> {
    Router::new().route("/2010-04-01/Accounts/{account_sid}/Messages.json", post(create_message))
}

/// Twilio's title for an error code, as its error dictionary words it.
fn title(code: &str) -> &'static str {
    match code {
        "20003" => "Authenticate",
        "20429" => "Too Many Requests",
        "14107" => "Message rate limit exceeded",
        "21211" => "The 'To' number is not a valid phone number.",
        "21408" => "Permission to send an SMS has not been enabled for the region indicated by the 'To' number.",
        "21602" => "Message body is required.",
        "21603" => "A 'From' phone number is required.",
        "21604" => "A 'To' phone number is required.",
        "21610" => "Attempt to send to unsubscribed recipient",
        "21614" => "'To' number is not a valid mobile number",
        "21623" => "Number of media files exceeds allowed limit",
        _ => "Twilio could not send the message",
    }
}

/// An error in Twilio's shape: the HTTP status follows the code (401 for 20003, 429 for rate limits).
fn error(code: &str) -> Response {
    let status = match code {
        "20003" => StatusCode::UNAUTHORIZED,
        "20429" | "14107" => StatusCode::TOO_MANY_REQUESTS,
        _ => StatusCode::BAD_REQUEST,
    };
    let number: serde_json::Value = code.parse::<i64>().map(Into::into).unwrap_or_else(|_| code.into());
    let body = json!({
        "code": number,
        "message": title(code),
        "more_info": format!("https://www.twilio.com/docs/errors/{code}"),
        "status": status.as_u16(),
    });
    (status, axum::Json(body)).into_response()
}

/// Whether `Authorization: Basic` names this account with a token the fake accepts.
fn authenticated(headers: &HeaderMap, account_sid: &str) -> bool {
    let Some(encoded) = header(headers, "authorization").and_then(|v| v.strip_prefix("Basic ")) else {
        return false;
    };
    let Some(decoded) = BASE64.decode(encoded.trim()).ok().and_then(|d| String::from_utf8(d).ok()) else {
        return false;
    };
    match decoded.split_once(':') {
        Some((user, token)) => user == account_sid && !token.is_empty() && !token.starts_with("wrong"),
        None => false,
    }
}

fn phone_number(value: &str) -> bool {
    let number = value.strip_prefix("whatsapp:").unwrap_or(value);
    number
        .strip_prefix('+')
        .is_some_and(|digits| (8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()))
}

/// The Twilio error code for a form that is not a sendable message.
fn invalid(form: &[(String, String)]) -> Option<&'static str> {
    let get = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty());
    let media = form.iter().filter(|(k, v)| k == "MediaUrl" && !v.is_empty()).count();
    match get("To") {
        None => return Some("21604"),
        Some(to) if !phone_number(to) => return Some("21211"),
        Some(_) => {}
    }
    if get("From").is_none() && get("MessagingServiceSid").is_none() {
        return Some("21603");
    }
    if get("Body").is_none() && media == 0 {
        return Some("21602");
    }
    (media > 10).then_some("21623")
}

async fn create_message(
    State(state): State<FakeState>,
    Path(account_sid): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let incoming = Incoming {
        kind: "twilio",
        method: "POST",
        path: uri.path_and_query().map(ToString::to_string).unwrap_or_default(),
        headers: &headers,
        body: &body,
    };
    if !authenticated(&headers, &account_sid) {
        incoming.record(&state, false, None);
        return error("20003");
    }
    let form: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    if let Some(code) = invalid(&form) {
        incoming.record(&state, false, None);
        return error(code);
    }
    if let Some(answer) = injected_fault(&state, &incoming, error).await {
        return answer;
    }
    let sid = state.next_id("SMFAKE");
    incoming.record(&state, true, Some(sid.clone()));
    let get = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let media = form.iter().filter(|(k, _)| k == "MediaUrl").count();
    let resource = json!({
        "account_sid": account_sid,
        "api_version": "2010-04-01",
        "body": get("Body").unwrap_or_default(),
        "direction": "outbound-api",
        "error_code": null,
        "error_message": null,
        "from": get("From"),
        "messaging_service_sid": get("MessagingServiceSid"),
        "num_media": media.to_string(),
        "num_segments": "1",
        "sid": sid,
        "status": if get("MessagingServiceSid").is_some() { "accepted" } else { "queued" },
        "to": get("To"),
        "uri": format!("/2010-04-01/Accounts/{account_sid}/Messages/{sid}.json"),
    });
    (StatusCode::CREATED, axum::Json(resource)).into_response()
}
