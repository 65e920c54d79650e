//! LINE Messaging API webhooks (`POST /webhooks/line/{account_id}`).
//!
//! LINE signs every call with `x-line-signature: base64(HMAC-SHA256(channel_secret, raw body))` (no prefix).
//! The body is `{"destination": "<bot user id>", "events": [...]}`; the console's "Verify" button sends an empty
//! `events` array, which must simply be answered 200.
//!
//! What becomes what:
//! - `message` (text, image, video, audio, file, location, sticker) → [`InboundEvent::Message`] keyed by
//!   `message.id`; media is described by an attachment whose `media_id` is the message id, because LINE serves
//!   the content at `/v2/bot/message/{messageId}/content`.
//! - `postback` (a button the customer tapped) → a message whose body is the postback data, keyed by the
//!   `webhookEventId` (a postback has no message id).
//! - `follow` / `unfollow` → [`InboundEvent::Subscription`]; `unsend` → [`InboundEvent::Removed`].
//! - every event that carries a `replyToken` also yields [`InboundEvent::ReplyToken`], valid one minute.
//!
//! Redeliveries (`deliveryContext.isRedelivery: true`) carry the same ids as the first attempt, so they
//! produce the same `platform_message_id`s and de-duplicate downstream; nothing here treats them differently.
//! Other event types (`join`, `leave`, `memberJoined`, `beacon`, …) carry nothing to store and are skipped.

use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use switchboard_domain::{Attachment, ChannelKind, InboundEvent, InboundItem, InboundSender, ThreadRef};
use time::{Duration, OffsetDateTime};

use crate::ChannelError;
use crate::send::{OutboundMessage, SendOutcome, Target, classify_status};
use crate::webhook::{Answer, LineEvents, Method, Parsed, Secrets, WebhookRequest, secret};

/// The header that carries LINE's signature.
pub const SIGNATURE_HEADER: &str = "x-line-signature";

/// How long a reply token may be used after the event (LINE: "within one minute"; often less in practice).
pub const REPLY_TOKEN_LIFETIME: Duration = Duration::minutes(1);

/// The signature LINE sends for `body`: base64 of its HMAC-SHA256 keyed with the channel secret.
pub fn sign(channel_secret: &str, body: &[u8]) -> String {
    crate::signature::hmac_sha256_base64(channel_secret.as_bytes(), body)
}

/// Checks the `x-line-signature` header against the raw body, in constant time.
pub fn verify(channel_secret: &str, body: &[u8], header: Option<&str>) -> Result<(), ChannelError> {
    let given = header.ok_or_else(|| ChannelError::Unauthenticated("missing x-line-signature".into()))?;
    let expected = sign(channel_secret, body);
    if bool::from(expected.as_bytes().ct_eq(given.trim().as_bytes())) {
        Ok(())
    } else {
        Err(ChannelError::Unauthenticated("x-line-signature does not match the body".into()))
    }
}

/// Verifies and parses one webhook call.
pub fn handle(req: &WebhookRequest<'_>, secrets: &Secrets) -> Result<Parsed, ChannelError> {
    let channel_secret = secret(secrets, "channel_secret")?;
    if req.method != Method::Post {
        // LINE has no GET handshake: its console verifies the URL with a signed POST.
        return Err(ChannelError::Unauthenticated("LINE only sends signed POST requests".into()));
    }
    verify(channel_secret, req.body, req.header(SIGNATURE_HEADER))?;
    // Each LINE channel has a webhook URL and a secret of its own, so the events belong to the
    // line in the URL; `destination` (the bot's user id) is not used to route them, so that a
    // line connected with another id than the bot's user id still receives its messages.
    let (_destination, events) = parse(req.body)?;
    if events.is_empty() {
        return Ok(Parsed::answer_only(Answer::Empty));
    }
    Ok(Parsed { lines: vec![LineEvents { kind: ChannelKind::Line, business_id: None, events }], answer: ack() })
}

/// What to answer for an authenticated body we could not parse: LINE only wants a 2xx, and repeated
/// failures can get the webhook suspended.
pub fn ack() -> Answer {
    Answer::Empty
}

#[derive(Deserialize)]
struct Callback {
    /// The bot's user id: names the line when one URL serves several channels.
    destination: Option<String>,
    /// Kept raw so that an event type we do not handle is skipped without its shape being checked.
    events: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Event {
    #[serde(rename = "type")]
    kind: String,
    /// Milliseconds since the epoch.
    timestamp: i64,
    source: Option<Source>,
    webhook_event_id: Option<String>,
    reply_token: Option<String>,
    /// `standby` when another module channel owns the chat: we store what was said but must not reply.
    mode: Option<String>,
    message: Option<Message>,
    postback: Option<Postback>,
    unsend: Option<Unsend>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Source {
    #[serde(rename = "type")]
    kind: String,
    user_id: Option<String>,
    group_id: Option<String>,
    room_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Message {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    text: Option<String>,
    content_provider: Option<ContentProvider>,
    file_name: Option<String>,
    title: Option<String>,
    address: Option<String>,
    latitude: Option<f64>,
    longitude: Option<f64>,
    package_id: Option<String>,
    sticker_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ContentProvider {
    /// `line` (download through the API) or `external` (the sender's app gave URLs).
    #[serde(rename = "type")]
    kind: Option<String>,
    original_content_url: Option<String>,
}

#[derive(Deserialize)]
struct Postback {
    #[serde(default)]
    data: String,
    params: Option<serde_json::Map<String, serde_json::Value>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Unsend {
    message_id: String,
}

/// Where an event happened: who said it, in which conversation, and whom a reply token answers.
struct Origin {
    sender: InboundSender,
    thread: ThreadRef,
    /// The id a reply reaches: the user in a one-to-one chat, the group or room otherwise.
    chat: String,
}

fn origin(source: Option<&Source>, index: usize) -> Result<Origin, ChannelError> {
    let bad = |what: &str| ChannelError::Malformed(format!("events[{index}].source: {what}"));
    let source = source.ok_or_else(|| bad("missing"))?;
    let id = |id: &Option<String>| id.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    let user = id(&source.user_id);
    let group = match source.kind.as_str() {
        "user" => None,
        "group" => Some(id(&source.group_id).ok_or_else(|| bad("a group source needs groupId"))?),
        "room" => Some(id(&source.room_id).ok_or_else(|| bad("a room source needs roomId"))?),
        other => return Err(bad(&format!("unknown type {other:?}"))),
    };
    let sender = |external_id: String| InboundSender { external_id, ..InboundSender::default() };
    match (group, user) {
        (None, Some(user)) => {
            Ok(Origin { sender: sender(user.clone()), thread: ThreadRef::Direct { key: None }, chat: user })
        }
        (None, None) => Err(bad("a user source needs userId")),
        // LINE omits the userId in groups for senders on some clients: the group itself then stands in
        // for the participant rather than losing the message.
        (Some(group), user) => Ok(Origin {
            sender: sender(user.unwrap_or_else(|| group.clone())),
            thread: ThreadRef::Public { root_id: group.clone(), title: None },
            chat: group,
        }),
    }
}

fn at(ms: i64, index: usize) -> Result<OffsetDateTime, ChannelError> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .map_err(|_| ChannelError::Malformed(format!("events[{index}].timestamp is out of range")))
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.filter(|s| !s.trim().is_empty())
}

fn attachment(kind: &str) -> Attachment {
    Attachment { kind: kind.to_owned(), url: None, media_id: None, mime_type: None, filename: None }
}

/// The body and attachments of a message event.
fn content(message: Message) -> (Option<String>, Vec<Attachment>) {
    match message.kind.as_str() {
        "text" => (non_empty(message.text), Vec::new()),
        kind @ ("image" | "video" | "audio" | "file") => {
            // External content (sent by some apps) only exists at the URL it came with.
            let url = message
                .content_provider
                .filter(|p| p.kind.as_deref() == Some("external"))
                .and_then(|p| p.original_content_url);
            let kind = if kind == "file" { "document" } else { kind };
            let attachment = Attachment {
                url,
                media_id: Some(message.id),
                filename: non_empty(message.file_name),
                ..attachment(kind)
            };
            (None, vec![attachment])
        }
        "location" => {
            let place: Vec<String> = [message.title, message.address].into_iter().filter_map(non_empty).collect();
            let (body, url) = match (message.latitude, message.longitude) {
                (Some(lat), Some(long)) if place.is_empty() => {
                    (format!("📍 ({lat}, {long})"), Some(format!("geo:{lat},{long}")))
                }
                (Some(lat), Some(long)) => {
                    (format!("📍 {} ({lat}, {long})", place.join(", ")), Some(format!("geo:{lat},{long}")))
                }
                _ => (format!("📍 {}", place.join(", ")), None),
            };
            (Some(body), vec![Attachment { url, ..attachment("location") }])
        }
        "sticker" => {
            // A sticker is named by package and sticker id; it cannot be downloaded like other content.
            let media_id = match (message.package_id, message.sticker_id) {
                (Some(package), Some(sticker)) => Some(format!("{package}/{sticker}")),
                (None, sticker) => sticker,
                (package, None) => package,
            };
            (None, vec![Attachment { media_id, ..attachment("sticker") }])
        }
        // A type LINE added later: keep the message, so the agent sees that something arrived.
        other => (Some(format!("({other} message)")), Vec::new()),
    }
}

/// The postback data, with the date or time the customer picked in a date-time picker.
fn postback_body(postback: Postback) -> Option<String> {
    let picked = postback.params.as_ref().and_then(|params| {
        ["datetime", "date", "time"].iter().find_map(|k| params.get(*k).and_then(|v| v.as_str()).map(str::to_owned))
    });
    let data = non_empty(Some(postback.data));
    match (data, picked) {
        (Some(data), Some(picked)) => Some(format!("{data} ({picked})")),
        (data, picked) => data.or(picked),
    }
}

fn event_id(event: &Event, index: usize) -> Result<String, ChannelError> {
    non_empty(event.webhook_event_id.clone())
        .ok_or_else(|| ChannelError::Malformed(format!("events[{index}].webhookEventId is missing")))
}

/// Parses a callback body into the bot's user id (`destination`) and the events, in order.
pub fn parse(body: &[u8]) -> Result<(Option<String>, Vec<InboundEvent>), ChannelError> {
    let callback: Callback =
        serde_json::from_slice(body).map_err(|e| ChannelError::Malformed(format!("not a LINE callback: {e}")))?;
    let mut out = Vec::new();
    for (index, raw) in callback.events.into_iter().enumerate() {
        let kind = raw.get("type").and_then(|t| t.as_str()).unwrap_or_default();
        if !matches!(kind, "message" | "postback" | "follow" | "unfollow" | "unsend") {
            continue;
        }
        let event: Event =
            serde_json::from_value(raw).map_err(|e| ChannelError::Malformed(format!("events[{index}]: {e}")))?;
        let sent_at = at(event.timestamp, index)?;
        let origin = origin(event.source.as_ref(), index)?;
        match event.kind.as_str() {
            "message" => {
                let message = event
                    .message
                    .ok_or_else(|| ChannelError::Malformed(format!("events[{index}].message is missing")))?;
                let platform_message_id = message.id.clone();
                let (body, attachments) = content(message);
                out.push(InboundEvent::Message(InboundItem {
                    platform_message_id,
                    sender: origin.sender,
                    thread: origin.thread,
                    body,
                    attachments,
                    sent_at: Some(sent_at),
                }));
            }
            "postback" => {
                let platform_message_id = event_id(&event, index)?;
                let postback = event
                    .postback
                    .ok_or_else(|| ChannelError::Malformed(format!("events[{index}].postback is missing")))?;
                out.push(InboundEvent::Message(InboundItem {
                    platform_message_id,
                    sender: origin.sender,
                    thread: origin.thread,
                    body: postback_body(postback),
                    attachments: Vec::new(),
                    sent_at: Some(sent_at),
                }));
            }
            "follow" | "unfollow" => out.push(InboundEvent::Subscription {
                sender: origin.sender,
                subscribed: event.kind == "follow",
                at: sent_at,
            }),
            _ => {
                // `unsend`: the customer took a message back; the helpdesk hides it.
                let unsend = event
                    .unsend
                    .ok_or_else(|| ChannelError::Malformed(format!("events[{index}].unsend is missing")))?;
                out.push(InboundEvent::Removed { platform_message_id: unsend.message_id, at: sent_at });
            }
        }
        let may_reply = event.mode.as_deref() != Some("standby");
        if let Some(token) = non_empty(event.reply_token).filter(|_| may_reply) {
            let expires_at = sent_at
                .checked_add(REPLY_TOKEN_LIFETIME)
                .ok_or_else(|| ChannelError::Malformed(format!("events[{index}].timestamp is out of range")))?;
            out.push(InboundEvent::ReplyToken { customer: origin.chat, token, expires_at });
        }
    }
    Ok((non_empty(callback.destination), out))
}

// ---------------------------------------------------------------------------------------------------------------
// Sending
// ---------------------------------------------------------------------------------------------------------------

/// The most message objects one reply or push may carry.
pub const MAX_MESSAGES: usize = 5;

/// Sends one outbound message: through the reply API while the conversation's reply token is still good (free,
/// single use, about a minute), else as a push (counts towards the monthly quota) to the user, group or room.
///
/// A reply token LINE refuses ("Invalid reply token": used or expired) is not worth retrying, so the same call
/// falls back to a push. Pushes carry `X-Line-Retry-Key` (the idempotency key as a UUID), which makes a retry of
/// an accepted push answer 409 instead of sending twice; that 409 counts as accepted.
///
/// The body is a text message; image attachments go as image messages by URL (LINE shows the same URL as
/// preview). LINE takes other media only with a preview or duration we do not have, and media ids only by URL.
pub async fn send(http: &reqwest::Client, msg: &OutboundMessage<'_>) -> SendOutcome {
    let Ok(token) = secret(msg.secrets, "channel_access_token") else {
        return SendOutcome::permanent("missing_secret", "the LINE line has no channel_access_token secret");
    };
    let to = match msg.target {
        Target::Direct { recipient } => recipient,
        Target::Group { chat } => chat,
        Target::PublicReply { .. } => {
            return SendOutcome::permanent("unsupported", "LINE has no public replies: answer in the chat");
        }
        Target::PrivateReply { .. } => {
            return SendOutcome::permanent("unsupported", "LINE has no private replies to comments");
        }
    };
    if to.trim().is_empty() {
        return SendOutcome::permanent("invalid_recipient", "the LINE user, group or room id is empty");
    }
    if msg.template.is_some() {
        return SendOutcome::permanent("unsupported", "LINE has no message templates (they are WhatsApp's)");
    }
    let messages = match outbound_messages(msg) {
        Ok(messages) => messages,
        Err(outcome) => return outcome,
    };
    let base = msg.api_base_url.trim_end_matches('/');
    if let Some(reply_token) = msg.reply_token.map(str::trim).filter(|t| !t.is_empty()) {
        let body = serde_json::json!({ "replyToken": reply_token, "messages": messages });
        let request = http.post(format!("{base}/v2/bot/message/reply")).bearer_auth(token).json(&body);
        match call(request).await {
            Ok(answer) if answer.refuses_reply_token() => {} // too late or used: push instead
            Ok(answer) => return answer.outcome(false),
            Err(outcome) => return outcome,
        }
    }
    let body = serde_json::json!({ "to": to, "messages": messages, "notificationDisabled": false });
    let request = http
        .post(format!("{base}/v2/bot/message/push"))
        .bearer_auth(token)
        .header("X-Line-Retry-Key", retry_key(msg.idempotency_key))
        .json(&body);
    match call(request).await {
        Ok(answer) => answer.outcome(true),
        Err(outcome) => outcome,
    }
}

/// The message objects for the body and attachments, in that order.
fn outbound_messages(msg: &OutboundMessage<'_>) -> Result<Vec<serde_json::Value>, SendOutcome> {
    let mut messages = Vec::new();
    if let Some(text) = msg.body.filter(|b| !b.trim().is_empty()) {
        messages.push(serde_json::json!({ "type": "text", "text": text }));
    }
    for attachment in msg.attachments {
        let url = attachment.url.as_deref().filter(|u| !u.trim().is_empty());
        match (attachment.kind.as_str(), url) {
            ("image", Some(url)) => messages.push(serde_json::json!({
                "type": "image", "originalContentUrl": url, "previewImageUrl": url
            })),
            ("image", None) => {
                return Err(SendOutcome::permanent(
                    "unsupported",
                    "LINE sends images by HTTPS URL only: this attachment has no URL",
                ));
            }
            (kind, _) => {
                return Err(SendOutcome::permanent(
                    "unsupported",
                    format!("LINE can only send images from here, not a {kind}: share it as a link in the text"),
                ));
            }
        }
    }
    if messages.is_empty() {
        return Err(SendOutcome::permanent("empty_message", "nothing to send: no text and no attachment"));
    }
    if messages.len() > MAX_MESSAGES {
        return Err(SendOutcome::permanent(
            "unsupported",
            format!("LINE sends at most {MAX_MESSAGES} messages at once (text and images together)"),
        ));
    }
    Ok(messages)
}

/// `X-Line-Retry-Key` must be a UUID: the idempotency key itself when it is one (lowercased), else a UUID made
/// from its SHA-256 (version 8), so that every retry of the same send carries the same key.
pub fn retry_key(idempotency_key: &str) -> String {
    let key = idempotency_key.trim();
    let is_uuid = key.len() == 36
        && key
            .char_indices()
            .all(|(i, c)| if matches!(i, 8 | 13 | 18 | 23) { c == '-' } else { c.is_ascii_hexdigit() });
    if is_uuid {
        return key.to_ascii_lowercase();
    }
    let digest = Sha256::digest(key.as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    bytes[6] = (bytes[6] & 0x0f) | 0x80;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex = hex::encode(bytes);
    format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
}

/// What LINE answered.
struct LineAnswer {
    status: u16,
    retry_after: Option<String>,
    accepted_request_id: Option<String>,
    body: serde_json::Value,
    text: String,
}

async fn call(request: reqwest::RequestBuilder) -> Result<LineAnswer, SendOutcome> {
    let response = request.send().await.map_err(|e| SendOutcome::from_transport(&e.without_url()))?;
    let status = response.status().as_u16();
    let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let retry_after = header("retry-after");
    let accepted_request_id = header("x-line-accepted-request-id").filter(|s| !s.trim().is_empty());
    let bytes = response.bytes().await.map_err(|e| SendOutcome::from_transport(&e.without_url()))?;
    let body = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
    Ok(LineAnswer {
        status,
        retry_after,
        accepted_request_id,
        body,
        text: String::from_utf8_lossy(&bytes).into_owned(),
    })
}

impl LineAnswer {
    /// LINE's error text: `message`, then each `details[]` entry as `property: message`.
    fn message(&self) -> String {
        let mut text = self.body.get("message").and_then(|m| m.as_str()).unwrap_or_default().trim().to_owned();
        if text.is_empty() {
            text = self.text.chars().take(300).collect::<String>().trim().to_owned();
        }
        let details: Vec<String> = self
            .body
            .get("details")
            .and_then(|d| d.as_array())
            .into_iter()
            .flatten()
            .filter_map(|d| {
                let message = d.get("message").and_then(|m| m.as_str())?;
                Some(match d.get("property").and_then(|p| p.as_str()) {
                    Some(property) => format!("{property}: {message}"),
                    None => message.to_owned(),
                })
            })
            .collect();
        if !details.is_empty() {
            text = format!("{text} ({})", details.join("; "));
        }
        if text.is_empty() { format!("LINE answered {}", self.status) } else { text }
    }

    /// "Invalid reply token": the token was used already or is too old.
    fn refuses_reply_token(&self) -> bool {
        self.status == 400 && self.message().to_ascii_lowercase().contains("reply token")
    }

    fn outcome(&self, pushed: bool) -> SendOutcome {
        match self.status {
            200..=299 => {
                let id = self
                    .body
                    .pointer("/sentMessages/0/id")
                    .and_then(|id| id.as_str().map(str::to_owned).or_else(|| id.as_u64().map(|n| n.to_string())));
                SendOutcome::Accepted { platform_message_id: id }
            }
            // The retry key was accepted before: the push went out, its answer got lost.
            409 if pushed => SendOutcome::Accepted { platform_message_id: self.accepted_request_id.clone() },
            // The plan's monthly message allowance is used up: retrying within minutes cannot help.
            429 if self.message().to_ascii_lowercase().contains("monthly limit") => {
                SendOutcome::permanent("429", self.message())
            }
            status => classify_status(status, self.retry_after.as_deref())
                .unwrap_or_else(|| SendOutcome::permanent(status.to_string(), self.message())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SECRET: &str = "helpdesk-test-channel-secret";
    const AIKO: &str = "U89abcdef0123456789abcdef01234567";
    const BOT: &str = "U0123456789abcdef0123456789abcdef";

    const TEXT_USER: &str = include_str!("../../../fixtures/channels/line/message_text_user.json");
    const IMAGE_GROUP: &str = include_str!("../../../fixtures/channels/line/message_image_group.json");
    const REDELIVERED: &str = include_str!("../../../fixtures/channels/line/redelivered_message.json");
    const FOLLOW: &str = include_str!("../../../fixtures/channels/line/follow.json");
    const UNFOLLOW: &str = include_str!("../../../fixtures/channels/line/unfollow.json");
    const POSTBACK: &str = include_str!("../../../fixtures/channels/line/postback.json");
    const VERIFY: &str = include_str!("../../../fixtures/channels/line/verify_empty_events.json");
    const VECTOR: &str = include_str!("../../../fixtures/channels/line/signature_test_vector.txt");

    fn secrets() -> Secrets {
        let mut s = Secrets::new();
        s.insert("channel_secret".into(), SECRET.into());
        s.insert("channel_access_token".into(), "token".into());
        s
    }

    fn call(body: &[u8], headers: &[(String, String)], secrets: &Secrets) -> Result<Parsed, ChannelError> {
        let req =
            WebhookRequest { method: Method::Post, url: "https://sb.test/webhooks/line/1", query: &[], headers, body };
        handle(&req, secrets)
    }

    fn signed(body: &str) -> Result<Parsed, ChannelError> {
        call(body.as_bytes(), &[(SIGNATURE_HEADER.into(), sign(SECRET, body.as_bytes()))], &secrets())
    }

    fn events(body: &str) -> Vec<InboundEvent> {
        let parsed = signed(body).unwrap();
        assert_eq!(parsed.answer, Answer::Empty);
        assert_eq!(parsed.lines.len(), 1);
        assert_eq!(parsed.lines[0].kind, ChannelKind::Line);
        assert_eq!(parsed.lines[0].business_id, None, "LINE events belong to the line in the URL");
        parsed.lines.into_iter().flat_map(|l| l.events).collect()
    }

    fn ms(ms: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).unwrap()
    }

    fn vector_signature() -> &'static str {
        VECTOR
            .lines()
            .find_map(|l| l.trim().strip_prefix("Expected header:"))
            .unwrap()
            .trim()
            .strip_prefix("x-line-signature:")
            .unwrap()
            .trim()
    }

    #[test]
    fn the_signature_test_vector_verifies() {
        assert!(VECTOR.contains(SECRET));
        let header = vector_signature();
        assert_eq!(sign(SECRET, TEXT_USER.as_bytes()), header);
        assert!(verify(SECRET, TEXT_USER.as_bytes(), Some(header)).is_ok());
        let parsed = call(TEXT_USER.as_bytes(), &[(SIGNATURE_HEADER.into(), header.into())], &secrets()).unwrap();
        assert_eq!(parsed.lines[0].events.len(), 2);
    }

    #[test]
    fn a_tampered_body_is_refused() {
        let header = vector_signature();
        let tampered = TEXT_USER.replace("2210", "2211");
        let err = call(tampered.as_bytes(), &[(SIGNATURE_HEADER.into(), header.into())], &secrets()).unwrap_err();
        assert!(matches!(err, ChannelError::Unauthenticated(_)));
    }

    #[test]
    fn a_signature_made_with_another_secret_is_refused() {
        let header = sign("another-secret", TEXT_USER.as_bytes());
        let err = call(TEXT_USER.as_bytes(), &[(SIGNATURE_HEADER.into(), header)], &secrets()).unwrap_err();
        assert!(matches!(err, ChannelError::Unauthenticated(_)));
    }

    #[test]
    fn a_call_without_the_signature_header_is_refused() {
        let err = call(TEXT_USER.as_bytes(), &[], &secrets()).unwrap_err();
        assert!(matches!(err, ChannelError::Unauthenticated(m) if m.contains("x-line-signature")));
    }

    #[test]
    fn a_get_request_is_refused() {
        let req = WebhookRequest { method: Method::Get, url: "https://sb.test/", query: &[], headers: &[], body: b"" };
        assert!(matches!(handle(&req, &secrets()), Err(ChannelError::Unauthenticated(_))));
    }

    #[test]
    fn an_account_without_a_channel_secret_cannot_check_anything() {
        let header = vector_signature();
        let err = call(TEXT_USER.as_bytes(), &[(SIGNATURE_HEADER.into(), header.into())], &Secrets::new()).unwrap_err();
        assert_eq!(err, ChannelError::MissingSecret("channel_secret"));
    }

    #[test]
    fn the_consoles_verify_call_with_no_events_is_answered_with_nothing_to_store() {
        let parsed = signed(VERIFY).unwrap();
        assert_eq!(parsed, Parsed::answer_only(Answer::Empty));
    }

    #[test]
    fn a_text_from_a_user_is_a_direct_message_with_a_reply_token_valid_one_minute() {
        let events = events(TEXT_USER);
        assert_eq!(
            events,
            vec![
                InboundEvent::Message(InboundItem {
                    platform_message_id: "500000000000000001".into(),
                    sender: InboundSender { external_id: AIKO.into(), ..InboundSender::default() },
                    thread: ThreadRef::Direct { key: None },
                    body: Some("Hello, I need help with order 2210".into()),
                    attachments: vec![],
                    sent_at: Some(ms(1_767_225_600_123)),
                }),
                InboundEvent::ReplyToken {
                    customer: AIKO.into(),
                    token: "TESTreplytoken0000000000000001".into(),
                    expires_at: ms(1_767_225_660_123),
                },
            ]
        );
    }

    #[test]
    fn an_image_in_a_group_is_a_public_message_with_the_message_id_as_media_id() {
        let events = events(IMAGE_GROUP);
        assert_eq!(events.len(), 2);
        let InboundEvent::Message(item) = &events[0] else { panic!("{events:?}") };
        assert_eq!(item.platform_message_id, "500000000000000002");
        assert_eq!(item.sender.external_id, AIKO);
        assert_eq!(item.thread, ThreadRef::Public { root_id: "C0123456789abcdef0123456789abcdef".into(), title: None });
        assert_eq!(item.body, None);
        assert_eq!(item.attachments.len(), 1);
        assert_eq!(item.attachments[0].kind, "image");
        assert_eq!(item.attachments[0].media_id.as_deref(), Some("500000000000000002"));
        assert_eq!(item.attachments[0].url, None);
        assert_eq!(item.sent_at, Some(ms(1_767_225_660_123)));
        // A reply token in a group answers the group.
        assert!(matches!(&events[1], InboundEvent::ReplyToken { customer, token, .. }
            if customer == "C0123456789abcdef0123456789abcdef" && token == "TESTreplytoken0000000000000002"));
    }

    #[test]
    fn a_redelivered_message_yields_the_same_ids_as_the_first_delivery() {
        let first = events(TEXT_USER);
        let again = events(REDELIVERED);
        assert_eq!(first, again);
    }

    #[test]
    fn a_follow_subscribes_the_user_and_brings_a_reply_token() {
        let events = events(FOLLOW);
        assert_eq!(
            events,
            vec![
                InboundEvent::Subscription {
                    sender: InboundSender { external_id: AIKO.into(), ..InboundSender::default() },
                    subscribed: true,
                    at: ms(1_767_225_500_123),
                },
                InboundEvent::ReplyToken {
                    customer: AIKO.into(),
                    token: "TESTreplytoken0000000000000003".into(),
                    expires_at: ms(1_767_225_560_123),
                },
            ]
        );
    }

    #[test]
    fn an_unfollow_unsubscribes_the_user_and_has_no_reply_token() {
        let events = events(UNFOLLOW);
        assert_eq!(
            events,
            vec![InboundEvent::Subscription {
                sender: InboundSender { external_id: AIKO.into(), ..InboundSender::default() },
                subscribed: false,
                at: ms(1_767_312_000_123),
            }]
        );
    }

    #[test]
    fn a_postback_is_a_message_keyed_by_the_webhook_event_id_with_the_data_as_body() {
        let events = events(POSTBACK);
        assert_eq!(events.len(), 2);
        let InboundEvent::Message(item) = &events[0] else { panic!("{events:?}") };
        assert_eq!(item.platform_message_id, "01JGTESTAIKO00000000000005");
        assert_eq!(item.body.as_deref(), Some("action=csat&score=5&ticket=2210"));
        assert_eq!(item.sender.external_id, AIKO);
        assert_eq!(item.thread, ThreadRef::Direct { key: None });
        assert!(
            matches!(&events[1], InboundEvent::ReplyToken { token, .. } if token == "TESTreplytoken0000000000000005")
        );
    }

    fn one_event(event: serde_json::Value) -> String {
        serde_json::json!({"destination": BOT, "events": [event]}).to_string()
    }

    fn message_event(message: serde_json::Value) -> String {
        one_event(serde_json::json!({
            "type": "message", "mode": "active", "timestamp": 1_767_225_600_123_i64, "webhookEventId": "01J",
            "source": {"type": "user", "userId": AIKO}, "message": message
        }))
    }

    fn only_item(body: &str) -> InboundItem {
        match events(body).into_iter().next() {
            Some(InboundEvent::Message(item)) => item,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_location_reads_as_a_pin_with_name_address_and_coordinates() {
        let item = only_item(&message_event(serde_json::json!({
            "id": "7", "type": "location", "title": "Acme Store", "address": "1-1 Marunouchi, Tokyo",
            "latitude": 35.6812, "longitude": 139.7671
        })));
        assert_eq!(item.body.as_deref(), Some("📍 Acme Store, 1-1 Marunouchi, Tokyo (35.6812, 139.7671)"));
        assert_eq!(item.attachments[0].kind, "location");
        assert_eq!(item.attachments[0].url.as_deref(), Some("geo:35.6812,139.7671"));
    }

    #[test]
    fn a_file_is_a_document_with_its_name_and_a_sticker_names_its_package() {
        let file = only_item(&message_event(
            serde_json::json!({"id": "8", "type": "file", "fileName": "invoice.pdf", "fileSize": 2048}),
        ));
        assert_eq!(file.attachments[0].kind, "document");
        assert_eq!(file.attachments[0].media_id.as_deref(), Some("8"));
        assert_eq!(file.attachments[0].filename.as_deref(), Some("invoice.pdf"));
        let sticker = only_item(&message_event(serde_json::json!({
            "id": "9", "type": "sticker", "packageId": "446", "stickerId": "1988", "stickerResourceType": "STATIC"
        })));
        assert_eq!(sticker.platform_message_id, "9");
        assert_eq!(sticker.attachments[0].kind, "sticker");
        assert_eq!(sticker.attachments[0].media_id.as_deref(), Some("446/1988"));
    }

    #[test]
    fn external_video_content_keeps_its_url() {
        let item = only_item(&message_event(serde_json::json!({
            "id": "10", "type": "video", "duration": 6000,
            "contentProvider": {"type": "external", "originalContentUrl": "https://cdn.test/v.mp4"}
        })));
        assert_eq!(item.attachments[0].kind, "video");
        assert_eq!(item.attachments[0].url.as_deref(), Some("https://cdn.test/v.mp4"));
        assert_eq!(item.attachments[0].media_id.as_deref(), Some("10"));
    }

    #[test]
    fn a_batch_keeps_every_event_and_skips_unknown_types() {
        let body = serde_json::json!({"destination": BOT, "events": [
            {"type": "message", "timestamp": 1_767_225_600_000_i64, "source": {"type": "user", "userId": "U1"},
             "message": {"id": "1", "type": "text", "text": "one"}},
            {"type": "beacon", "timestamp": 1_767_225_600_000_i64, "beacon": {"hwid": "d41d8cd98f"}},
            {"type": "message", "timestamp": 1_767_225_601_000_i64, "source": {"type": "room", "roomId": "R1"},
             "message": {"id": "2", "type": "text", "text": "two"}},
            {"type": "unsend", "timestamp": 1_767_225_602_000_i64, "source": {"type": "user", "userId": "U1"},
             "unsend": {"messageId": "1"}}
        ]})
        .to_string();
        let events = events(&body);
        assert_eq!(events.len(), 3);
        assert!(matches!(&events[0], InboundEvent::Message(i) if i.body.as_deref() == Some("one")));
        // In a room without a userId the room stands in for the participant.
        assert!(
            matches!(&events[1], InboundEvent::Message(i) if i.sender.external_id == "R1" && i.thread_key() == "R1")
        );
        assert!(matches!(&events[2], InboundEvent::Removed { platform_message_id, .. } if platform_message_id == "1"));
    }

    #[test]
    fn a_standby_event_gives_no_reply_token() {
        let body = one_event(serde_json::json!({
            "type": "message", "mode": "standby", "timestamp": 1_767_225_600_000_i64, "replyToken": "tok",
            "source": {"type": "user", "userId": "U1"}, "message": {"id": "1", "type": "text", "text": "hi"}
        }));
        assert_eq!(events(&body).len(), 1);
    }

    #[test]
    fn bodies_that_are_not_line_callbacks_are_malformed() {
        for body in [
            "not json",
            r#"{"destination":"U1"}"#,
            &message_event(serde_json::json!({"type": "text", "text": "no id"})),
            &one_event(serde_json::json!({"type": "message", "timestamp": 1, "message": {"id": "1", "type": "text"}})),
            &one_event(
                serde_json::json!({"type": "follow", "timestamp": i64::MAX, "source": {"type": "user", "userId": "U"}}),
            ),
            &one_event(serde_json::json!({"type": "follow", "timestamp": 253_402_300_799_000_i64, "replyToken": "t",
                "source": {"type": "user", "userId": "U"}})),
        ] {
            assert!(matches!(signed(body), Err(ChannelError::Malformed(_))), "{body}");
        }
    }

    fn json() -> impl Strategy<Value = serde_json::Value> {
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
            any::<f64>().prop_map(serde_json::Value::from),
            prop::sample::select(vec![
                "message", "postback", "follow", "unfollow", "unsend", "user", "group", "room", "text", "image",
                "file", "location", "sticker", "standby", "", "U1",
            ])
            .prop_map(serde_json::Value::from),
            ".*".prop_map(serde_json::Value::from),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
                prop::collection::btree_map(
                    prop::sample::select(vec![
                        "destination",
                        "events",
                        "type",
                        "timestamp",
                        "source",
                        "userId",
                        "groupId",
                        "roomId",
                        "webhookEventId",
                        "replyToken",
                        "mode",
                        "message",
                        "id",
                        "text",
                        "postback",
                        "data",
                        "params",
                        "unsend",
                        "messageId",
                        "latitude",
                        "longitude",
                        "title",
                        "address",
                        "packageId",
                        "stickerId",
                        "contentProvider",
                        "originalContentUrl",
                        "fileName",
                    ])
                    .prop_map(str::to_owned),
                    inner,
                    0..6,
                )
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn arbitrary_signed_bytes_never_panic(body in prop::collection::vec(any::<u8>(), 0..512)) {
            let _ = call(&body, &[(SIGNATURE_HEADER.into(), sign(SECRET, &body))], &secrets());
        }

        #[test]
        fn arbitrary_signed_json_never_panics(value in json()) {
            let _ = signed(&value.to_string());
            let _ = signed(&serde_json::json!({"destination": BOT, "events": [value]}).to_string());
        }

        #[test]
        fn arbitrary_signature_headers_are_refused(header in ".*") {
            let result = call(TEXT_USER.as_bytes(), &[(SIGNATURE_HEADER.into(), header)], &secrets());
            prop_assert!(matches!(result, Err(ChannelError::Unauthenticated(_))));
        }
    }

    // -----------------------------------------------------------------------------------------------------------
    // Sending, against the fake platform
    // -----------------------------------------------------------------------------------------------------------

    use crate::send::{OutboundMessage, SendOutcome, Target, http_client};
    use switchboard_fakes::{FakePlatforms, Fault};

    const PUSH_REQUEST: &str = include_str!("../../../fixtures/channels/line/push_request.json");
    const REPLY_REQUEST: &str = include_str!("../../../fixtures/channels/line/reply_request.json");
    const GROUP: &str = "C0123456789abcdef0123456789abcdef";
    const KEY: &str = "0190f5c4-7e2a-7b3c-9d4e-0123456789ab";

    fn line_secrets(token: &str) -> Secrets {
        let mut s = Secrets::new();
        s.insert("channel_secret".into(), SECRET.into());
        s.insert("channel_access_token".into(), token.into());
        s
    }

    fn outbound<'a>(
        base: &'a str,
        secrets: &'a Secrets,
        target: Target<'a>,
        body: Option<&'a str>,
    ) -> OutboundMessage<'a> {
        OutboundMessage {
            kind: ChannelKind::Line,
            business_id: BOT,
            secrets,
            api_base_url: base,
            target,
            body,
            attachments: &[],
            template: None,
            tag: None,
            reply_token: None,
            idempotency_key: KEY,
        }
    }

    fn image(url: Option<&str>) -> Attachment {
        Attachment { url: url.map(str::to_owned), ..attachment("image") }
    }

    async fn fake() -> (FakePlatforms, String) {
        let fake = FakePlatforms::spawn("127.0.0.1:0").await.unwrap();
        let base = format!("{}/line", fake.base_url);
        (fake, base)
    }

    fn json_of(body: &str) -> serde_json::Value {
        serde_json::from_str(body).unwrap()
    }

    fn header_of<'a>(recorded: &'a switchboard_fakes::Recorded, name: &str) -> Option<&'a str> {
        recorded.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    fn accepted_id(outcome: &SendOutcome) -> &str {
        match outcome {
            SendOutcome::Accepted { platform_message_id: Some(id) } => id,
            other => panic!("not accepted with an id: {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_push_to_a_user_is_the_documented_request_with_a_retry_key_and_gives_the_message_id() {
        let (fake, base) = fake().await;
        let secrets = line_secrets("line-token-a");
        let text = "Hi Aiko, your replacement for order 2210 ships today.";
        let outcome =
            send(&http_client(), &outbound(&base, &secrets, Target::Direct { recipient: AIKO }, Some(text))).await;
        let accepted = fake.state.accepted("line");
        assert_eq!(accepted.len(), 1);
        assert_eq!(accepted_id(&outcome), accepted[0].platform_message_id.as_deref().unwrap());
        assert!(accepted_id(&outcome).starts_with("5800000000"));
        assert_eq!(accepted[0].path, "/v2/bot/message/push");
        assert_eq!(json_of(&accepted[0].body), json_of(PUSH_REQUEST), "the push fixture is what we build");
        assert_eq!(header_of(&accepted[0], "authorization"), Some("Bearer line-token-a"));
        assert_eq!(header_of(&accepted[0], "x-line-retry-key"), Some(KEY));
    }

    #[tokio::test]
    async fn each_line_pushes_with_its_own_channel_access_token() {
        let (fake, base) = fake().await;
        let (a, b) = (line_secrets("token-of-line-a"), line_secrets("token-of-line-b"));
        let to = Target::Direct { recipient: AIKO };
        let mut first = outbound(&base, &a, to, Some("from a"));
        first.business_id = "Ubot-a";
        let mut second = outbound(&base, &b, to, Some("from b"));
        second.business_id = "Ubot-b";
        second.idempotency_key = "another-send";
        assert!(matches!(send(&http_client(), &first).await, SendOutcome::Accepted { .. }));
        assert!(matches!(send(&http_client(), &second).await, SendOutcome::Accepted { .. }));
        let accepted = fake.state.accepted("line");
        assert_eq!(header_of(&accepted[0], "authorization"), Some("Bearer token-of-line-a"));
        assert_eq!(header_of(&accepted[1], "authorization"), Some("Bearer token-of-line-b"));
    }

    #[tokio::test]
    async fn a_fresh_reply_token_goes_through_the_reply_api_as_the_fixture_shows() {
        let (fake, base) = fake().await;
        let secrets = line_secrets("line-token");
        let text = "Hello Aiko, we received your request #2210. An agent will answer shortly.";
        let mut msg = outbound(&base, &secrets, Target::Direct { recipient: AIKO }, Some(text));
        msg.reply_token = Some("TESTreplytoken0000000000000001");
        let outcome = send(&http_client(), &msg).await;
        accepted_id(&outcome);
        let accepted = fake.state.accepted("line");
        assert_eq!(accepted.len(), 1);
        assert_eq!(accepted[0].path, "/v2/bot/message/reply");
        assert_eq!(json_of(&accepted[0].body), json_of(REPLY_REQUEST));
        assert_eq!(header_of(&accepted[0], "x-line-retry-key"), None, "replies have no retry key");
    }

    #[tokio::test]
    async fn an_expired_reply_token_falls_back_to_a_push_in_the_same_send() {
        let (fake, base) = fake().await;
        let secrets = line_secrets("line-token");
        let mut msg = outbound(&base, &secrets, Target::Direct { recipient: AIKO }, Some("Thanks for waiting"));
        msg.reply_token = Some("TESTexpiredtoken");
        let outcome = send(&http_client(), &msg).await;
        accepted_id(&outcome);
        let requests = fake.state.requests();
        assert_eq!(requests.len(), 2);
        assert_eq!((requests[0].path.as_str(), requests[0].accepted), ("/v2/bot/message/reply", false));
        assert_eq!((requests[1].path.as_str(), requests[1].accepted), ("/v2/bot/message/push", true));
        assert_eq!(json_of(&requests[1].body)["to"], AIKO);
    }

    #[tokio::test]
    async fn a_reply_token_used_once_already_falls_back_to_a_push() {
        let (fake, base) = fake().await;
        let secrets = line_secrets("line-token");
        let mut msg = outbound(&base, &secrets, Target::Direct { recipient: AIKO }, Some("one"));
        msg.reply_token = Some("TESTreplytoken-once");
        accepted_id(&send(&http_client(), &msg).await);
        msg.body = Some("two");
        msg.idempotency_key = "second-send";
        accepted_id(&send(&http_client(), &msg).await);
        let paths: Vec<String> = fake.state.accepted("line").into_iter().map(|r| r.path).collect();
        assert_eq!(paths, ["/v2/bot/message/reply", "/v2/bot/message/push"]);
    }

    #[tokio::test]
    async fn a_reply_refused_for_another_reason_is_not_pushed() {
        let (fake, base) = fake().await;
        let secrets = line_secrets("line-token");
        let mut msg = outbound(&base, &secrets, Target::Direct { recipient: AIKO }, Some("hi"));
        msg.reply_token = Some("TESTreplytoken-fresh");
        fake.state.fail_next("line", Fault::Permanent("403".into()), 1);
        assert!(matches!(send(&http_client(), &msg).await, SendOutcome::Permanent { code, .. } if code == "403"));
        assert_eq!(fake.state.requests().len(), 1);
    }

    #[tokio::test]
    async fn a_retried_push_the_platform_already_accepted_counts_as_accepted_without_a_second_message() {
        let (fake, base) = fake().await;
        let secrets = line_secrets("line-token");
        let msg = outbound(&base, &secrets, Target::Direct { recipient: AIKO }, Some("only once"));
        accepted_id(&send(&http_client(), &msg).await);
        let again = send(&http_client(), &msg).await;
        assert!(accepted_id(&again).starts_with("fake-line-request-"), "the first request's id: {again:?}");
        assert_eq!(fake.state.accepted("line").len(), 1);
        assert_eq!(fake.state.requests().len(), 2);
    }

    #[tokio::test]
    async fn a_group_target_pushes_to_the_group_id() {
        let (fake, base) = fake().await;
        let secrets = line_secrets("line-token");
        let outcome =
            send(&http_client(), &outbound(&base, &secrets, Target::Group { chat: GROUP }, Some("Hi all"))).await;
        accepted_id(&outcome);
        let body = json_of(&fake.state.accepted("line")[0].body);
        assert_eq!(body["to"], GROUP);
    }

    #[tokio::test]
    async fn an_image_is_sent_after_the_text_with_its_url_as_original_and_preview() {
        let (fake, base) = fake().await;
        let secrets = line_secrets("line-token");
        let attachments = [image(Some("https://cdn.test/label.png"))];
        let mut msg = outbound(&base, &secrets, Target::Direct { recipient: AIKO }, Some("Here is your label"));
        msg.attachments = &attachments;
        accepted_id(&send(&http_client(), &msg).await);
        let body = json_of(&fake.state.accepted("line")[0].body);
        assert_eq!(
            body["messages"],
            serde_json::json!([
                {"type": "text", "text": "Here is your label"},
                {"type": "image", "originalContentUrl": "https://cdn.test/label.png",
                 "previewImageUrl": "https://cdn.test/label.png"}
            ])
        );
        // An image alone is a message too.
        msg.body = None;
        msg.idempotency_key = "image-only";
        accepted_id(&send(&http_client(), &msg).await);
    }

    #[tokio::test]
    async fn what_line_cannot_send_is_refused_before_calling() {
        let (fake, base) = fake().await;
        let secrets = line_secrets("line-token");
        let to = Target::Direct { recipient: AIKO };
        let video = [Attachment { url: Some("https://cdn.test/v.mp4".into()), ..attachment("video") }];
        let by_id = [Attachment { media_id: Some("500000000000000002".into()), ..image(None) }];
        let six = vec![image(Some("https://cdn.test/i.png")); 6];
        for attachments in [&video[..], &by_id[..], &six[..]] {
            let mut msg = outbound(&base, &secrets, to, Some("see attached"));
            msg.attachments = attachments;
            let outcome = send(&http_client(), &msg).await;
            assert!(matches!(&outcome, SendOutcome::Permanent { code, .. } if code == "unsupported"), "{outcome:?}");
        }
        for target in [Target::PublicReply { reply_to: "1" }, Target::PrivateReply { comment: "1" }] {
            let outcome = send(&http_client(), &outbound(&base, &secrets, target, Some("hi"))).await;
            assert!(matches!(&outcome, SendOutcome::Permanent { code, .. } if code == "unsupported"), "{outcome:?}");
        }
        let parameters = ["x".to_owned()];
        let mut templated = outbound(&base, &secrets, to, None);
        templated.template = Some(crate::send::TemplateSend { name: "t", language: "en", parameters: &parameters });
        assert!(
            matches!(send(&http_client(), &templated).await, SendOutcome::Permanent { code, .. } if code == "unsupported")
        );
        let empty = send(&http_client(), &outbound(&base, &secrets, to, Some("  "))).await;
        assert!(matches!(empty, SendOutcome::Permanent { code, .. } if code == "empty_message"));
        assert!(fake.state.requests().is_empty());
    }

    #[tokio::test]
    async fn a_line_without_a_channel_access_token_reports_the_missing_secret() {
        let (fake, base) = fake().await;
        let mut secrets = line_secrets("x");
        secrets.remove("channel_access_token");
        let outcome =
            send(&http_client(), &outbound(&base, &secrets, Target::Direct { recipient: AIKO }, Some("hi"))).await;
        assert!(matches!(outcome, SendOutcome::Permanent { code, .. } if code == "missing_secret"));
        assert!(fake.state.requests().is_empty());
    }

    #[tokio::test]
    async fn a_wrong_channel_access_token_is_a_permanent_401() {
        let (_fake, base) = fake().await;
        let secrets = line_secrets("invalid-token");
        let outcome =
            send(&http_client(), &outbound(&base, &secrets, Target::Direct { recipient: AIKO }, Some("hi"))).await;
        assert!(
            matches!(&outcome, SendOutcome::Permanent { code, message } if code == "401" && message.contains("access token")),
            "{outcome:?}"
        );
    }

    #[tokio::test]
    async fn platform_errors_are_permanent_with_the_http_status_and_lines_message() {
        let (fake, base) = fake().await;
        let secrets = line_secrets("line-token");
        let msg = outbound(&base, &secrets, Target::Direct { recipient: AIKO }, Some("hi"));
        for code in ["400", "403"] {
            fake.state.fail_next("line", Fault::Permanent(code.into()), 1);
            let outcome = send(&http_client(), &msg).await;
            assert!(
                matches!(&outcome, SendOutcome::Permanent { code: c, message } if c == code && !message.is_empty()),
                "{outcome:?}"
            );
        }
        fake.state.fail_next("line", Fault::Permanent("400".into()), 1);
        let SendOutcome::Permanent { message, .. } = send(&http_client(), &msg).await else { panic!() };
        assert!(message.contains("to:"), "details name the property: {message}");
    }

    #[tokio::test]
    async fn the_monthly_push_limit_is_permanent_but_other_rate_limits_and_server_errors_are_transient() {
        let (fake, base) = fake().await;
        let secrets = line_secrets("line-token");
        let msg = outbound(&base, &secrets, Target::Direct { recipient: AIKO }, Some("hi"));
        fake.state.fail_next("line", Fault::Permanent("429".into()), 1);
        let outcome = send(&http_client(), &msg).await;
        assert!(
            matches!(&outcome, SendOutcome::Permanent { code, message } if code == "429" && message.contains("monthly"))
        );
        fake.state.fail_next("line", Fault::RateLimited, 1);
        let outcome = send(&http_client(), &msg).await;
        assert_eq!(
            outcome,
            SendOutcome::Transient {
                reason: "the platform asked us to slow down (429)".into(),
                retry_after: Some(std::time::Duration::from_secs(1)),
            }
        );
        fake.state.fail_next("line", Fault::ServerError, 1);
        assert!(matches!(send(&http_client(), &msg).await, SendOutcome::Transient { .. }));
        // Nothing was accepted, so the retry key is still free.
        accepted_id(&send(&http_client(), &msg).await);
    }

    #[tokio::test]
    async fn a_platform_that_does_not_answer_is_transient() {
        let secrets = line_secrets("line-token");
        // Nothing listens on port 9 of localhost.
        let msg = outbound("http://127.0.0.1:9/line", &secrets, Target::Direct { recipient: AIKO }, Some("hi"));
        assert!(matches!(send(&http_client(), &msg).await, SendOutcome::Transient { .. }));
    }

    #[test]
    fn a_uuid_idempotency_key_is_the_retry_key_and_any_other_key_becomes_a_stable_uuid() {
        assert_eq!(retry_key(KEY), KEY);
        assert_eq!(retry_key("0190F5C4-7E2A-7B3C-9D4E-0123456789AB"), KEY);
        let made = retry_key("outbox-42");
        assert_eq!(made, retry_key("outbox-42"));
        assert_ne!(made, retry_key("outbox-43"));
        assert_eq!(made.len(), 36);
        assert_eq!(&made[14..15], "8");
        assert!(made.chars().all(|c| c == '-' || c.is_ascii_hexdigit()));
    }

    proptest! {
        #[test]
        fn any_answer_to_a_send_is_classified_without_panicking(
            status in 100u16..600,
            bytes in prop::collection::vec(any::<u8>(), 0..256),
            value in json(),
        ) {
            for bytes in [bytes, value.to_string().into_bytes()] {
                let answer = LineAnswer {
                    status,
                    retry_after: None,
                    accepted_request_id: None,
                    body: serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
                    text: String::from_utf8_lossy(&bytes).into_owned(),
                };
                let _ = answer.refuses_reply_token();
                let _ = answer.outcome(true);
            }
        }
    }
}
