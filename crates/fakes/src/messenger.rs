//! Fake Messenger Platform (below `/messenger`, in place of `https://graph.facebook.com/v21.0`):
//!
//! - `POST /{page-id}/messages` — the Send API: DMs to a PSID (`recipient.id`) and the one private
//!   reply to a comment (`recipient.comment_id`; a second one to the same comment is refused
//!   with code 10900, as Meta does);
//! - `POST /{comment-id}/comments` — a public reply under a comment or post, with `message` in the
//!   query, a form or a JSON body.
//!
//! The Send API's checks are shared with the Instagram fake ([`crate::instagram`]) through
//! [`Product`]; tokens and error shapes are the Graph API's ([`crate::whatsapp`]).

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

use crate::FakeState;
use crate::common;
use crate::whatsapp::{
    Flavour, check_token, error, form_param, incoming, injected, invalid_parameter, non_empty, query_param,
};

/// What differs between the Messenger and the Instagram Send API.
pub(crate) struct Product {
    pub kind: &'static str,
    /// The prefix of the message ids given.
    pub message_ids: &'static str,
    /// The prefix of the comment ids given to public replies.
    pub comment_ids: &'static str,
    /// The longest text: Messenger counts characters, Instagram UTF-8 bytes.
    pub text_limit: usize,
    pub text_limit_in_bytes: bool,
    /// The message tags the product takes with `messaging_type: MESSAGE_TAG`.
    pub tags: &'static [&'static str],
    /// Whether a message to a user id must say its `messaging_type`.
    pub requires_messaging_type: bool,
    /// Whether a public reply may carry `attachment_url` instead of text.
    pub reply_attachments: bool,
}

static MESSENGER: Product = Product {
    kind: "messenger",
    message_ids: "m_FAKE",
    comment_ids: "FAKE_",
    text_limit: 2000,
    text_limit_in_bytes: false,
    tags: &["HUMAN_AGENT", "ACCOUNT_UPDATE", "POST_PURCHASE_UPDATE", "CONFIRMED_EVENT_UPDATE"],
    requires_messaging_type: true,
    reply_attachments: true,
};

pub fn routes() -> Router<FakeState> {
    Router::new()
        .route(
            "/{page_id}/messages",
            post(|state: State<FakeState>, uri: Uri, headers: HeaderMap, body: Bytes| {
                send_api(&MESSENGER, state, uri, headers, body)
            }),
        )
        .route(
            "/{comment_id}/comments",
            post(|state: State<FakeState>, uri: Uri, headers: HeaderMap, body: Bytes| {
                public_reply(&MESSENGER, state, uri, headers, body)
            }),
        )
}

/// The Send API of a Messenger Platform product.
pub(crate) async fn send_api(
    product: &Product,
    State(state): State<FakeState>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let incoming = incoming(product.kind, &uri, &headers, &body);
    if let Some(refused) = check_token(&headers, &uri, None, Flavour::Graph) {
        incoming.record(&state, false, None);
        return refused;
    }
    let recipient = match check_send(product, &body) {
        Ok(recipient) => recipient,
        Err(reason) => {
            incoming.record(&state, false, None);
            return invalid_parameter(&reason, Flavour::Graph);
        }
    };
    if let Some(fault) = common::injected_fault(&state, &incoming, |code| injected(code, Flavour::Graph)).await {
        return fault;
    }
    let id = state.next_id(product.message_ids);
    let answer = match &recipient {
        Recipient::Comment(comment) => {
            // One private reply per comment: a second one is refused as Meta refuses it.
            let key = format!("{}:private-reply:{comment}", product.kind);
            if state.idempotent(&key, &id).is_some() {
                incoming.record(&state, false, None);
                return error(
                    StatusCode::BAD_REQUEST,
                    10900,
                    None,
                    "(#10900) Activity already replied to",
                    None,
                    Flavour::Graph,
                );
            }
            json!({"message_id": id})
        }
        Recipient::User(user) => json!({"recipient_id": user, "message_id": id}),
        Recipient::Action(user) => {
            incoming.record(&state, true, None);
            return Json(json!({"recipient_id": user})).into_response();
        }
    };
    incoming.record(&state, true, Some(id));
    Json(answer).into_response()
}

/// Whom a valid Send API call addresses.
enum Recipient {
    /// A message to a user id (PSID, IGSID), a post or a `user_ref`.
    User(String),
    /// A private reply to a comment.
    Comment(String),
    /// A sender action (typing, seen, reaction) to a user: no message id.
    Action(String),
}

/// Checks the documented shape of a Send API call.
fn check_send(product: &Product, body: &[u8]) -> Result<Recipient, String> {
    let call: Value = serde_json::from_slice(body).map_err(|_| "the body is not JSON".to_owned())?;
    let recipient = call.get("recipient").ok_or("The parameter recipient is required")?;
    let comment = non_empty(recipient, "comment_id");
    let user = ["id", "post_id", "user_ref"].into_iter().find_map(|k| non_empty(recipient, k));
    let recipient = match (comment, user) {
        (Some(comment), None) => Recipient::Comment(comment.to_owned()),
        (None, Some(user)) => Recipient::User(user.to_owned()),
        (Some(_), Some(_)) => return Err("Param recipient must name exactly one of id or comment_id".into()),
        (None, None) => return Err("The parameter recipient is required".into()),
    };
    let messaging_type = call.get("messaging_type").map(|t| t.as_str().unwrap_or_default());
    match (messaging_type, call.get("tag")) {
        (None | Some("RESPONSE" | "UPDATE"), None) => {}
        (Some("MESSAGE_TAG"), Some(tag)) => {
            if !tag.as_str().is_some_and(|t| product.tags.contains(&t)) {
                return Err(format!("Param tag must be one of {}", product.tags.join(", ")));
            }
        }
        (Some("MESSAGE_TAG"), None) => return Err("Param tag is required with messaging_type MESSAGE_TAG".into()),
        (_, Some(_)) => return Err("Param tag is only allowed with messaging_type MESSAGE_TAG".into()),
        (Some(other), None) => return Err(format!("Param messaging_type `{other}` is not valid")),
    }
    if let Some(action) = call.get("sender_action") {
        if call.get("message").is_some() {
            return Err("Only one of message or sender_action may be sent".into());
        }
        if !matches!(action.as_str(), Some("typing_on" | "typing_off" | "mark_seen" | "react" | "unreact")) {
            return Err("Param sender_action is not valid".into());
        }
        return match recipient {
            Recipient::User(user) => Ok(Recipient::Action(user)),
            Recipient::Comment(_) | Recipient::Action(_) => Err("A sender action needs recipient.id".into()),
        };
    }
    if product.requires_messaging_type && messaging_type.is_none() && matches!(recipient, Recipient::User(_)) {
        return Err("The parameter messaging_type is required".into());
    }
    let message = call.get("message").filter(|m| m.is_object()).ok_or("The parameter message is required")?;
    match (message.get("text"), message.get("attachment")) {
        (Some(text), None) => {
            let text = text.as_str().filter(|t| !t.trim().is_empty()).ok_or("Param message[text] must be non-empty")?;
            let length = if product.text_limit_in_bytes { text.len() } else { text.chars().count() };
            if length > product.text_limit {
                return Err(format!(
                    "Length of param message[text] must be less than or equal to {}",
                    product.text_limit
                ));
            }
        }
        (None, Some(attachment)) => check_attachment(attachment)?,
        (Some(_), Some(_)) => return Err("Only one of message[text] or message[attachment] may be sent".into()),
        (None, None) => return Err("Param message must have text or an attachment".into()),
    }
    Ok(recipient)
}

fn check_attachment(attachment: &Value) -> Result<(), String> {
    let kind = non_empty(attachment, "type").ok_or("Param message[attachment][type] is required")?;
    let payload = attachment.get("payload").filter(|p| p.is_object());
    match kind {
        "image" | "audio" | "video" | "file" => {
            let payload = payload.ok_or("Param message[attachment][payload] is required")?;
            match (non_empty(payload, "url"), non_empty(payload, "attachment_id")) {
                (Some(url), None) if url.starts_with("https://") || url.starts_with("http://") => Ok(()),
                (Some(_), None) => Err("Param message[attachment][payload][url] must be an http(s) URL".into()),
                (None, Some(_)) => Ok(()),
                _ => Err("Param message[attachment][payload] needs exactly one of url or attachment_id".into()),
            }
        }
        "template" | "MEDIA_SHARE" => {
            payload.map(|_| ()).ok_or_else(|| "Param message[attachment][payload] is required".into())
        }
        other => Err(format!("Param message[attachment][type] `{other}` is not valid")),
    }
}

/// A public reply under a comment (or post): `message` from the query, a form or a JSON body.
pub(crate) async fn public_reply(
    product: &Product,
    State(state): State<FakeState>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let incoming = incoming(product.kind, &uri, &headers, &body);
    let is_form =
        common::header(&headers, "content-type").is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
    let form = is_form.then_some(&body[..]);
    if let Some(refused) = check_token(&headers, &uri, form, Flavour::Graph) {
        incoming.record(&state, false, None);
        return refused;
    }
    let json: Option<Value> = if is_form { None } else { serde_json::from_slice(&body).ok() };
    let param = |name: &str| {
        query_param(&uri, name)
            .or_else(|| form.and_then(|f| form_param(f, name)))
            .or_else(|| json.as_ref().and_then(|j| non_empty(j, name)).map(str::to_owned))
            .filter(|v| !v.trim().is_empty())
    };
    let has_message = param("message").is_some();
    let has_attachment = product.reply_attachments && param("attachment_url").is_some();
    if !(has_message || has_attachment) {
        incoming.record(&state, false, None);
        let reason = if product.reply_attachments {
            "Missing message or attachment"
        } else {
            "The parameter message is required"
        };
        return invalid_parameter(reason, Flavour::Graph);
    }
    if let Some(fault) = common::injected_fault(&state, &incoming, |code| injected(code, Flavour::Graph)).await {
        return fault;
    }
    let id = state.next_id(product.comment_ids);
    incoming.record(&state, true, Some(id.clone()));
    Json(json!({ "id": id })).into_response()
}
