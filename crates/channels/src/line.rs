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

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;
use subtle::ConstantTimeEq;
use switchboard_domain::{Attachment, ChannelKind, InboundEvent, InboundItem, InboundSender, ThreadRef};
use time::{Duration, OffsetDateTime};

use crate::ChannelError;
use crate::webhook::{Answer, LineEvents, Method, Parsed, Secrets, WebhookRequest, secret};

/// The header that carries LINE's signature.
pub const SIGNATURE_HEADER: &str = "x-line-signature";

/// How long a reply token may be used after the event (LINE: "within one minute"; often less in practice).
pub const REPLY_TOKEN_LIFETIME: Duration = Duration::minutes(1);

/// The signature LINE sends for `body`: base64 of its HMAC-SHA256 keyed with the channel secret.
pub fn sign(channel_secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(channel_secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(body);
    BASE64.encode(mac.finalize().into_bytes())
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
}
