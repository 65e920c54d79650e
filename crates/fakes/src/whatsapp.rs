//! Fake WhatsApp Cloud API: `POST /{phone-number-id}/messages` (below `/whatsapp`, in place of
//! `https://graph.facebook.com/v21.0`).
//!
//! Inbound media, as the digest's download flow: `GET /{media-id}` answers
//! `{"messaging_product", "url", "mime_type", "sha256", "file_size", "id"}` with `url` =
//! `http://{host}/whatsapp/media-bytes/{media-id}` (standing for the short-lived lookaside URL), and
//! `GET /media-bytes/{media-id}` answers the bytes ([`crate::media_bytes`], typed by
//! [`crate::media_mime_type`] of the id). Both need the access token; a media id containing `missing` is
//! answered as Graph answers an unknown object (400, code 100, subcode 33).
//!
//! Also the Graph API's common ground, which the Messenger and Instagram fakes use: the access
//! token check and the `{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}`
//! error shape.
//!
//! Any non-empty access token is accepted (as `Authorization: Bearer …`, or an `access_token`
//! query or form parameter) except one that begins with [`INVALID_TOKEN_PREFIX`]: that is answered
//! as Meta answers an expired or revoked token (401, code 190). No token at all is code 104.
//!
//! An injected permanent fault names the Graph error code, optionally with its subcode after a
//! slash: `131047`, `10/2018278`.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{Value, json};
use sha2::Digest as _;

use crate::FakeState;
use crate::common::{self, Incoming};

/// Tokens that begin with this are refused as invalid (Graph error 190).
pub const INVALID_TOKEN_PREFIX: &str = "invalid";

const KIND: &str = "whatsapp";
const TEXT_LIMIT: usize = 4096;
const CAPTION_LIMIT: usize = 1024;
const MEDIA_TYPES: &[&str] = &["image", "video", "audio", "document", "sticker"];
const OTHER_TYPES: &[&str] = &["location", "contacts", "interactive", "reaction"];

pub fn routes() -> Router<FakeState> {
    Router::new()
        .route("/{phone_number_id}/messages", post(send_message))
        .route("/{waba_id}/message_templates", axum::routing::get(list_templates))
        .route("/{media_id}", axum::routing::get(media_info))
        .route("/media-bytes/{media_id}", axum::routing::get(media_download))
}

/// Checks the token and the media id of a media request, giving the refusal if any, then an injected fault.
async fn check_media(state: &FakeState, incoming: &Incoming<'_>, uri: &Uri, media_id: &str) -> Option<Response> {
    if let Some(refused) = check_token(incoming.headers, uri, None, Flavour::WhatsApp) {
        incoming.record(state, false, None);
        return Some(refused);
    }
    if media_id.contains("missing") {
        incoming.record(state, false, None);
        let message = format!(
            "Unsupported get request. Object with ID '{media_id}' does not exist, cannot be loaded due to missing \
             permissions, or does not support this operation."
        );
        return Some(error(StatusCode::BAD_REQUEST, 100, Some(33), &message, None, Flavour::WhatsApp));
    }
    common::injected_fault(state, incoming, |code| injected(code, Flavour::WhatsApp)).await
}

/// `GET /{media-id}`: where to download the media, with its type, size and checksum.
async fn media_info(
    State(state): State<FakeState>,
    Path(media_id): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let incoming = Incoming { method: "GET", ..incoming(KIND, &uri, &headers, b"") };
    if let Some(refused) = check_media(&state, &incoming, &uri, &media_id).await {
        return refused;
    }
    incoming.record(&state, true, None);
    let bytes = crate::media_bytes(&media_id);
    let segment: String = form_urlencoded::byte_serialize(media_id.as_bytes()).collect();
    Json(json!({
        "messaging_product": "whatsapp",
        "url": format!("{}/whatsapp/media-bytes/{segment}", crate::own_base(&headers, &uri)),
        "mime_type": crate::media_mime_type(&media_id),
        "sha256": hex::encode(sha2::Sha256::digest(&bytes)),
        "file_size": bytes.len().to_string(),
        "id": media_id,
    }))
    .into_response()
}

/// `GET /media-bytes/{media-id}`: the media itself (the same token is required).
async fn media_download(
    State(state): State<FakeState>,
    Path(media_id): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let incoming = Incoming { method: "GET", ..incoming(KIND, &uri, &headers, b"") };
    if let Some(refused) = check_media(&state, &incoming, &uri, &media_id).await {
        return refused;
    }
    incoming.record(&state, true, None);
    crate::media_response(&media_id, &media_id, None)
}

/// The templates every fake WhatsApp Business Account has: one approved, one pending, one
/// rejected, in the Graph API's list shape.
async fn list_templates(uri: Uri, headers: HeaderMap) -> Response {
    if let Some(refused) = check_token(&headers, &uri, None, Flavour::WhatsApp) {
        return refused;
    }
    let template = |name: &str, status: &str, category: &str, body: &str| {
        serde_json::json!({
            "name": name, "language": "en_US", "status": status, "category": category, "id": format!("tpl-{name}"),
            "components": [{"type": "BODY", "text": body}, {"type": "FOOTER", "text": "Acme Support"}]
        })
    };
    axum::Json(serde_json::json!({
        "data": [
            template("ticket_followup", "APPROVED", "UTILITY", "Hi {{1}}, your ticket {{2}} is solved. Reply to reopen it."),
            template("order_update", "PENDING", "UTILITY", "Your order {{1}} is on its way."),
            template("spring_sale", "REJECTED", "MARKETING", "Spring sale: {{1}} off!"),
        ],
        "paging": {"cursors": {"before": "a", "after": "b"}}
    }))
    .into_response()
}

async fn send_message(State(state): State<FakeState>, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let incoming = incoming(KIND, &uri, &headers, &body);
    if let Some(refused) = check_token(&headers, &uri, None, Flavour::WhatsApp) {
        incoming.record(&state, false, None);
        return refused;
    }
    let to = match check_message(&body) {
        Ok(to) => to,
        Err(reason) => {
            incoming.record(&state, false, None);
            return invalid_parameter(&reason, Flavour::WhatsApp);
        }
    };
    if let Some(fault) = common::injected_fault(&state, &incoming, |code| injected(code, Flavour::WhatsApp)).await {
        return fault;
    }
    let id = state.next_id("wamid.FAKE");
    incoming.record(&state, true, Some(id.clone()));
    let wa_id = to.trim_start_matches('+').to_owned();
    Json(json!({
        "messaging_product": "whatsapp",
        "contacts": [{"input": to, "wa_id": wa_id}],
        "messages": [{"id": id, "message_status": "accepted"}],
    }))
    .into_response()
}

/// Checks the documented shape of a send; the recipient on success, else what is wrong.
fn check_message(body: &[u8]) -> Result<String, String> {
    let message: Value = serde_json::from_slice(body).map_err(|_| "the body is not JSON".to_owned())?;
    if message.get("messaging_product").and_then(Value::as_str) != Some("whatsapp") {
        return Err("The parameter messaging_product is required and must be `whatsapp`.".into());
    }
    let to = non_empty(&message, "to").ok_or("The parameter to is required.")?;
    if let Some(kind) = message.get("recipient_type")
        && !matches!(kind.as_str(), Some("individual" | "group"))
    {
        return Err("Param recipient_type must be `individual` or `group`.".into());
    }
    // The Cloud API treats a message without a type as text.
    let kind = match message.get("type") {
        None => "text",
        Some(kind) => kind.as_str().ok_or("Param type must be a string.")?,
    };
    let part = message.get(kind).filter(|p| p.is_object()).ok_or_else(|| format!("The parameter {kind} is required."));
    match kind {
        "text" => {
            let text = non_empty(part?, "body").ok_or("The parameter text['body'] is required.")?;
            if text.chars().count() > TEXT_LIMIT {
                return Err(format!("Param text['body'] must be at most {TEXT_LIMIT} characters long."));
            }
        }
        "template" => check_template(part?)?,
        media if MEDIA_TYPES.contains(&media) => {
            let part = part?;
            let link = non_empty(part, "link");
            if link.is_none() && non_empty(part, "id").is_none() {
                return Err(format!("Param {media} must have a `link` or an `id`."));
            }
            if link.is_some_and(|l| !(l.starts_with("https://") || l.starts_with("http://"))) {
                return Err(format!("Param {media}['link'] must be an http(s) URL."));
            }
            let caption = part.get("caption").and_then(Value::as_str);
            if caption.is_some() && matches!(media, "audio" | "sticker") {
                return Err(format!("Param {media}['caption'] is not allowed."));
            }
            if caption.is_some_and(|c| c.chars().count() > CAPTION_LIMIT) {
                return Err(format!("Param {media}['caption'] must be at most {CAPTION_LIMIT} characters long."));
            }
            if part.get("filename").is_some() && media != "document" {
                return Err(format!("Param {media}['filename'] is not allowed."));
            }
        }
        other if OTHER_TYPES.contains(&other) => {
            part?;
        }
        other => return Err(format!("Param type `{other}` is not a valid message type.")),
    }
    Ok(to.to_owned())
}

fn check_template(template: &Value) -> Result<(), String> {
    non_empty(template, "name").ok_or("The parameter template['name'] is required.")?;
    template
        .get("language")
        .and_then(|l| non_empty(l, "code"))
        .ok_or("The parameter template['language']['code'] is required.")?;
    let Some(components) = template.get("components") else { return Ok(()) };
    let components = components.as_array().ok_or("Param template['components'] must be an array.")?;
    for component in components {
        let kind = non_empty(component, "type").ok_or("Param template['components'][]['type'] is required.")?;
        if !matches!(kind, "header" | "body" | "button" | "footer") {
            return Err(format!("Param template['components'][]['type'] `{kind}` is not valid."));
        }
        let parameters = component.get("parameters").and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[]);
        for parameter in parameters {
            let kind = non_empty(parameter, "type").ok_or("Each template parameter needs a `type`.")?;
            if parameter.get(kind).is_none_or(Value::is_null) {
                return Err(format!("A template parameter of type `{kind}` needs its `{kind}` value."));
            }
        }
    }
    Ok(())
}

/// A string field that is present and not blank.
pub(crate) fn non_empty<'a>(value: &'a Value, field: &str) -> Option<&'a str> {
    value.get(field).and_then(Value::as_str).filter(|s| !s.trim().is_empty())
}

// ---- The Graph API's common ground (Messenger and Instagram use it too) ----

/// The products' small differences in error bodies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavour {
    /// WhatsApp adds `error_data: {messaging_product, details}`.
    WhatsApp,
    /// Messenger and Instagram: the plain Graph error.
    Graph,
}

/// The request as the fake records it: the path below the platform's prefix, with the query.
pub(crate) fn incoming<'a>(kind: &'a str, uri: &Uri, headers: &'a HeaderMap, body: &'a [u8]) -> Incoming<'a> {
    let path = uri.path_and_query().map_or_else(|| uri.path().to_owned(), |p| p.as_str().to_owned());
    Incoming { kind, method: "POST", path, headers, body }
}

/// The first value of a query parameter.
pub(crate) fn query_param(uri: &Uri, name: &str) -> Option<String> {
    form_param(uri.query()?.as_bytes(), name)
}

/// The first value of a form-encoded parameter.
pub(crate) fn form_param(form: &[u8], name: &str) -> Option<String> {
    form_urlencoded::parse(form).find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

/// Checks the access token as the Graph API does, giving its refusal if any: `Authorization: Bearer`, or `access_token`
/// in the query or (for form posts) in the form.
pub(crate) fn check_token(headers: &HeaderMap, uri: &Uri, form: Option<&[u8]>, flavour: Flavour) -> Option<Response> {
    let token = common::bearer(headers)
        .map(str::to_owned)
        .or_else(|| query_param(uri, "access_token"))
        .or_else(|| form.and_then(|f| form_param(f, "access_token")));
    match token.as_deref().map(str::trim) {
        None | Some("") => Some(error(
            StatusCode::UNAUTHORIZED,
            104,
            None,
            "An access token is required to request this resource.",
            None,
            flavour,
        )),
        Some(t) if t.starts_with(INVALID_TOKEN_PREFIX) => Some(error(
            StatusCode::UNAUTHORIZED,
            190,
            None,
            "Invalid OAuth access token - Cannot parse access token",
            None,
            flavour,
        )),
        Some(_) => None,
    }
}

/// A 400 `(#100)` invalid-parameter error.
pub(crate) fn invalid_parameter(reason: &str, flavour: Flavour) -> Response {
    let message = format!("(#100) {reason}");
    error(StatusCode::BAD_REQUEST, 100, None, &message, Some(reason), flavour)
}

/// The Graph error of an injected permanent fault: `code` or `code/subcode`, with Meta's usual
/// text for the codes it knows.
pub(crate) fn injected(code: &str, flavour: Flavour) -> Response {
    let (code, subcode) = match code.split_once('/') {
        Some((code, subcode)) => (code, subcode.trim().parse().ok()),
        None => (code, None),
    };
    let number: i64 = code.trim().parse().unwrap_or(100);
    let (message, details) = describe(number);
    let message = format!("(#{number}) {message}");
    let status = if matches!(number, 190 | 104) { StatusCode::UNAUTHORIZED } else { StatusCode::BAD_REQUEST };
    error(status, number, subcode, &message, details, flavour)
}

/// Meta's title (and WhatsApp details) for an error code.
fn describe(code: i64) -> (&'static str, Option<&'static str>) {
    match code {
        4 => ("Application request limit reached", None),
        10 => ("This message is sent outside of allowed window.", None),
        32 => ("Page request limit reached", None),
        100 => ("Invalid parameter", None),
        190 => ("Invalid OAuth access token - Cannot parse access token", None),
        551 => ("This person isn't available right now.", None),
        613 => ("Calls to this api have exceeded the rate limit.", None),
        10900 => ("Activity already replied to", None),
        80007 => ("Rate limit issues", Some("The WhatsApp Business Account has reached its rate limit.")),
        130429 => ("Rate limit hit", Some("Cloud API message throughput has been reached.")),
        131026 => ("Message Undeliverable", Some("Unable to deliver message: the recipient may not be on WhatsApp.")),
        131047 => (
            "Re-engagement message",
            Some(
                "Message failed to send because more than 24 hours have passed since the customer last replied to \
                 this number.",
            ),
        ),
        131051 => ("Unsupported message type", Some("Message type is not currently supported.")),
        131056 => (
            "(Business Account, Consumer Account) pair rate limit hit",
            Some("Too many messages sent from this phone number to the same phone number in a short period of time."),
        ),
        132000 => (
            "Number of parameters does not match the expected number of params",
            Some("body: number of localizable_params does not match the expected number of params"),
        ),
        132001 => ("Template name does not exist in the translation", Some("template name not found in this language")),
        _ => ("Fake platform error", None),
    }
}

/// A Graph API error answer.
pub(crate) fn error(
    status: StatusCode,
    code: i64,
    subcode: Option<i64>,
    message: &str,
    details: Option<&str>,
    flavour: Flavour,
) -> Response {
    let mut error = json!({
        "message": message,
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": "AFakeTraceId0001",
    });
    if let Some(subcode) = subcode {
        error["error_subcode"] = json!(subcode);
    }
    if flavour == Flavour::WhatsApp {
        error["error_data"] = json!({"messaging_product": "whatsapp", "details": details.unwrap_or(message)});
    }
    (status, Json(json!({ "error": error }))).into_response()
}
