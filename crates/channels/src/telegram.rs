//! Telegram Bot API webhooks (`POST /webhooks/telegram/{account_id}`).
//!
//! Telegram does not sign bodies: it sends back the `secret_token` given to `setWebhook` in the
//! `x-telegram-bot-api-secret-token` header, which we compare in constant time. One call carries one `Update`.
//!
//! What becomes what:
//! - `message` (text, photo, document, audio, voice, video, animation, sticker, location, venue, contact) →
//!   [`InboundEvent::Message`]. Message ids are only unique within a chat, so the key is `"{chat.id}:{message_id}"`.
//!   A private chat is a direct conversation with `chat.id` (which equals the user's id); a group or supergroup
//!   is a public thread keyed by the chat id, with the sender (`from.id`) as participant.
//! - `edited_message` → [`InboundEvent::Edited`] with the same key.
//! - `callback_query` (an inline button the customer tapped) → a message whose body is the button's data, keyed
//!   `"callback:{id}"`.
//! - `my_chat_member` in a private chat → [`InboundEvent::Subscription`]: `kicked` means the user blocked the bot.
//!
//! Skipped, because they carry nothing a customer said: channel posts (the business's own broadcast channel),
//! service messages (members joining, pinned messages, …), membership changes in groups, and update types we do
//! not subscribe to.

use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use switchboard_domain::{Attachment, ChannelKind, InboundEvent, InboundItem, InboundSender, ThreadRef};
use time::OffsetDateTime;

use crate::ChannelError;
use crate::send::{OutboundMessage, SendOutcome, Target, classify_status};
use crate::webhook::{Answer, Method, Parsed, Secrets, WebhookRequest, secret};

/// The header that carries the webhook's secret token.
pub const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";

/// Checks the secret-token header. Both sides are hashed first so that the comparison takes the same time
/// whatever the length or content of the guess.
pub fn verify(secret_token: &str, header: Option<&str>) -> Result<(), ChannelError> {
    let given =
        header.ok_or_else(|| ChannelError::Unauthenticated("missing x-telegram-bot-api-secret-token".into()))?;
    let same: bool = Sha256::digest(given.as_bytes()).ct_eq(&Sha256::digest(secret_token.as_bytes())).into();
    if same { Ok(()) } else { Err(ChannelError::Unauthenticated("wrong x-telegram-bot-api-secret-token".into())) }
}

/// Verifies and parses one webhook call.
pub fn handle(req: &WebhookRequest<'_>, secrets: &Secrets) -> Result<Parsed, ChannelError> {
    let secret_token = secret(secrets, "secret_token")?;
    if req.method != Method::Post {
        return Err(ChannelError::Unauthenticated("Telegram only sends POST requests".into()));
    }
    verify(secret_token, req.header(SECRET_HEADER))?;
    let events = parse(req.body)?;
    if events.is_empty() {
        return Ok(Parsed::answer_only(ack()));
    }
    // Updates do not name the bot: the account is the one in the URL.
    Ok(Parsed::for_url_line(ChannelKind::Telegram, events, ack()))
}

/// What to answer for an authenticated body we could not parse: any 2xx stops Telegram from retrying, and a
/// failing update would hold back every later one.
pub fn ack() -> Answer {
    Answer::Empty
}

#[derive(Deserialize)]
struct Update {
    // Required although unused: it is what tells a Telegram update from any other JSON.
    #[allow(dead_code)]
    update_id: i64,
    message: Option<Message>,
    edited_message: Option<Message>,
    callback_query: Option<CallbackQuery>,
    my_chat_member: Option<ChatMemberUpdated>,
}

#[derive(Deserialize)]
struct User {
    id: i64,
    first_name: Option<String>,
    last_name: Option<String>,
    username: Option<String>,
}

#[derive(Deserialize)]
struct Chat {
    id: i64,
    #[serde(rename = "type")]
    kind: String,
    title: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    username: Option<String>,
}

#[derive(Deserialize)]
struct Message {
    message_id: i64,
    from: Option<User>,
    /// Set instead of a person when an anonymous group admin or a channel writes.
    sender_chat: Option<Chat>,
    chat: Chat,
    date: i64,
    edit_date: Option<i64>,
    text: Option<String>,
    caption: Option<String>,
    photo: Option<Vec<PhotoSize>>,
    document: Option<File>,
    animation: Option<File>,
    audio: Option<File>,
    voice: Option<File>,
    video: Option<File>,
    video_note: Option<File>,
    sticker: Option<File>,
    location: Option<Location>,
    venue: Option<Venue>,
    contact: Option<Contact>,
}

#[derive(Deserialize)]
struct PhotoSize {
    file_id: String,
    #[serde(default)]
    width: u64,
    #[serde(default)]
    height: u64,
}

#[derive(Deserialize)]
struct File {
    file_id: String,
    file_name: Option<String>,
    mime_type: Option<String>,
}

#[derive(Deserialize)]
struct Location {
    latitude: f64,
    longitude: f64,
}

#[derive(Deserialize)]
struct Venue {
    location: Location,
    title: Option<String>,
    address: Option<String>,
}

#[derive(Deserialize)]
struct Contact {
    phone_number: String,
    first_name: Option<String>,
    last_name: Option<String>,
}

#[derive(Deserialize)]
struct CallbackQuery {
    id: String,
    from: User,
    /// The bot's message that carried the button; only its chat matters here (it may be inaccessible).
    message: Option<CallbackMessage>,
    data: Option<String>,
    game_short_name: Option<String>,
}

#[derive(Deserialize)]
struct CallbackMessage {
    chat: Option<Chat>,
}

#[derive(Deserialize)]
struct ChatMemberUpdated {
    chat: Chat,
    date: i64,
    new_chat_member: ChatMember,
}

#[derive(Deserialize)]
struct ChatMember {
    status: String,
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.filter(|s| !s.trim().is_empty())
}

fn full_name(first: Option<String>, last: Option<String>) -> Option<String> {
    let parts: Vec<String> = [first, last].into_iter().filter_map(non_empty).collect();
    if parts.is_empty() { None } else { Some(parts.join(" ")) }
}

fn at(seconds: i64, what: &str) -> Result<OffsetDateTime, ChannelError> {
    OffsetDateTime::from_unix_timestamp(seconds).map_err(|_| ChannelError::Malformed(format!("{what} is out of range")))
}

fn user_sender(user: User) -> InboundSender {
    InboundSender {
        external_id: user.id.to_string(),
        name: full_name(user.first_name, user.last_name),
        username: non_empty(user.username),
        ..InboundSender::default()
    }
}

fn chat_sender(chat: Chat) -> InboundSender {
    InboundSender {
        external_id: chat.id.to_string(),
        name: non_empty(chat.title).or_else(|| full_name(chat.first_name, chat.last_name)),
        username: non_empty(chat.username),
        ..InboundSender::default()
    }
}

/// Who wrote and in which conversation: a private chat is the customer's direct conversation; anything else
/// (group, supergroup, channel) is a public thread with the writer as participant.
fn origin(chat: Chat, from: Option<User>, sender_chat: Option<Chat>) -> (InboundSender, ThreadRef) {
    if chat.kind == "private" {
        // The chat id is the user's id; the chat carries the same names as `from`.
        return (chat_sender(chat), ThreadRef::Direct { key: None });
    }
    let thread = ThreadRef::Public { root_id: chat.id.to_string(), title: non_empty(chat.title.clone()) };
    let sender = match (from, sender_chat) {
        (Some(user), _) => user_sender(user),
        (None, Some(sender_chat)) => chat_sender(sender_chat),
        (None, None) => chat_sender(chat),
    };
    (sender, thread)
}

fn attachment(kind: &str, file: File) -> Attachment {
    Attachment {
        kind: kind.to_owned(),
        url: None,
        media_id: Some(file.file_id),
        mime_type: non_empty(file.mime_type),
        filename: non_empty(file.file_name),
    }
}

fn pin(location: &Location, place: &[String]) -> String {
    let (lat, long) = (location.latitude, location.longitude);
    if place.is_empty() {
        format!("📍 ({lat}, {long})")
    } else {
        format!("📍 {} ({lat}, {long})", place.join(", "))
    }
}

fn location_attachment(location: &Location) -> Attachment {
    Attachment {
        kind: "location".into(),
        url: Some(format!("geo:{},{}", location.latitude, location.longitude)),
        media_id: None,
        mime_type: None,
        filename: None,
    }
}

/// The text and attachments of a message; the caption is the text of a media message.
fn content(message: &mut Message) -> (Option<String>, Vec<Attachment>) {
    let mut body = non_empty(message.text.take()).or_else(|| non_empty(message.caption.take()));
    let mut attachments = Vec::new();
    // The sizes are of one photo: the largest is the one worth keeping.
    if let Some(largest) =
        message.photo.take().and_then(|sizes| sizes.into_iter().max_by_key(|p| p.width.saturating_mul(p.height)))
    {
        attachments.push(Attachment {
            kind: "image".into(),
            url: None,
            media_id: Some(largest.file_id),
            mime_type: None,
            filename: None,
        });
    }
    // An animation (GIF) also comes as a document, for old clients: keep it once.
    match (message.animation.take(), message.document.take()) {
        (Some(animation), _) => attachments.push(attachment("video", animation)),
        (None, Some(document)) => attachments.push(attachment("document", document)),
        (None, None) => {}
    }
    for (kind, file) in [
        ("audio", message.audio.take()),
        ("audio", message.voice.take()),
        ("video", message.video.take()),
        ("video", message.video_note.take()),
        ("sticker", message.sticker.take()),
    ] {
        if let Some(file) = file {
            attachments.push(attachment(kind, file));
        }
    }
    if let Some(venue) = message.venue.take() {
        let place: Vec<String> = [venue.title, venue.address].into_iter().filter_map(non_empty).collect();
        body = body.or_else(|| Some(pin(&venue.location, &place)));
        attachments.push(location_attachment(&venue.location));
        // A venue also carries its location as `location`.
        message.location = None;
    }
    if let Some(location) = message.location.take() {
        body = body.or_else(|| Some(pin(&location, &[])));
        attachments.push(location_attachment(&location));
    }
    if let Some(contact) = message.contact.take() {
        let name = full_name(contact.first_name, contact.last_name);
        let card = match name {
            Some(name) => format!("👤 {name}, {}", contact.phone_number),
            None => format!("👤 {}", contact.phone_number),
        };
        body = body.or(Some(card));
        attachments.push(Attachment {
            kind: "contacts".into(),
            url: None,
            media_id: None,
            mime_type: None,
            filename: None,
        });
    }
    (body, attachments)
}

fn message_key(message: &Message) -> String {
    format!("{}:{}", message.chat.id, message.message_id)
}

/// Parses one update into events (none for update types that carry nothing to store).
pub fn parse(body: &[u8]) -> Result<Vec<InboundEvent>, ChannelError> {
    let update: Update =
        serde_json::from_slice(body).map_err(|e| ChannelError::Malformed(format!("not a Telegram update: {e}")))?;
    let mut events = Vec::new();
    if let Some(mut message) = update.message {
        let platform_message_id = message_key(&message);
        let sent_at = at(message.date, "message.date")?;
        let (body, attachments) = content(&mut message);
        if body.is_some() || !attachments.is_empty() {
            let (sender, thread) = origin(message.chat, message.from, message.sender_chat);
            events.push(InboundEvent::Message(InboundItem {
                platform_message_id,
                sender,
                thread,
                body,
                attachments,
                sent_at: Some(sent_at),
            }));
        }
    }
    if let Some(mut message) = update.edited_message {
        let platform_message_id = message_key(&message);
        let edited_at = at(message.edit_date.unwrap_or(message.date), "edited_message.edit_date")?;
        let (body, _) = content(&mut message);
        events.push(InboundEvent::Edited { platform_message_id, body, at: edited_at });
    }
    if let Some(query) = update.callback_query {
        let body = non_empty(query.data).or_else(|| non_empty(query.game_short_name));
        if body.is_some() {
            let thread = match query.message.and_then(|m| m.chat) {
                Some(chat) if chat.kind != "private" => {
                    ThreadRef::Public { root_id: chat.id.to_string(), title: non_empty(chat.title) }
                }
                _ => ThreadRef::Direct { key: None },
            };
            events.push(InboundEvent::Message(InboundItem {
                platform_message_id: format!("callback:{}", query.id),
                sender: user_sender(query.from),
                thread,
                body,
                attachments: Vec::new(),
                // A callback query carries no time of its own (the message's date is when the bot sent it).
                sent_at: None,
            }));
        }
    }
    if let Some(change) = update.my_chat_member {
        // In a group this is the bot being added or removed, which says nothing about one customer.
        let subscribed = match change.new_chat_member.status.as_str() {
            "member" => Some(true),
            "kicked" | "left" => Some(false),
            _ => None,
        };
        if let Some(subscribed) = subscribed.filter(|_| change.chat.kind == "private") {
            let at = at(change.date, "my_chat_member.date")?;
            events.push(InboundEvent::Subscription { sender: chat_sender(change.chat), subscribed, at });
        }
    }
    Ok(events)
}

// ---------------------------------------------------------------------------------------------------------------
// Sending
// ---------------------------------------------------------------------------------------------------------------

/// Sends one outbound message to a private chat (the user's id) or a group chat, as the bot of `bot_token`.
///
/// Text goes with `sendMessage` (no `parse_mode`, so agent text is never read as markup). One attachment goes
/// with `sendPhoto` (images) or `sendDocument` (anything else), by URL or by a Telegram `file_id` kept as the
/// attachment's media id, with the text as its caption. The id reported is `"{chat_id}:{message_id}"`, the key
/// the inbound parser gives messages. Telegram has no public replies or comment threads.
pub async fn send(http: &reqwest::Client, msg: &OutboundMessage<'_>) -> SendOutcome {
    let Ok(token) = secret(msg.secrets, "bot_token") else {
        return SendOutcome::permanent("missing_secret", "the Telegram line has no bot_token secret");
    };
    let chat = match msg.target {
        Target::Direct { recipient } => recipient,
        Target::Group { chat } => chat,
        Target::PublicReply { .. } => {
            return SendOutcome::permanent("unsupported", "Telegram has no public replies: answer in the chat");
        }
        Target::PrivateReply { .. } => {
            return SendOutcome::permanent("unsupported", "Telegram has no private replies to comments");
        }
    };
    let chat = chat.trim();
    if chat.is_empty() {
        return SendOutcome::permanent("invalid_recipient", "the Telegram chat id is empty");
    }
    if msg.template.is_some() {
        return SendOutcome::permanent("unsupported", "Telegram has no message templates (they are WhatsApp's)");
    }
    // Chat ids are numbers (negative for groups); `@channelusername` is the only other form.
    let chat_id = chat.parse::<i64>().map_or_else(|_| serde_json::Value::from(chat), serde_json::Value::from);
    let text = msg.body.filter(|b| !b.trim().is_empty());
    let (method, payload) = match msg.attachments {
        [] => match text {
            Some(text) => ("sendMessage", serde_json::json!({ "chat_id": chat_id, "text": text })),
            None => return SendOutcome::permanent("empty_message", "nothing to send: no text and no attachment"),
        },
        [attachment] => {
            let Some(file) = [&attachment.url, &attachment.media_id]
                .into_iter()
                .find_map(|f| f.as_deref().map(str::trim).filter(|f| !f.is_empty()))
            else {
                return SendOutcome::permanent(
                    "unsupported",
                    "the attachment has neither a URL nor a Telegram file id",
                );
            };
            let (method, field) =
                if attachment.kind == "image" { ("sendPhoto", "photo") } else { ("sendDocument", "document") };
            let mut payload = serde_json::json!({ "chat_id": chat_id, field: file });
            if let Some(text) = text {
                payload["caption"] = text.into();
            }
            (method, payload)
        }
        _ => {
            return SendOutcome::permanent(
                "unsupported",
                "Telegram sends one attachment per message: send the others separately",
            );
        }
    };
    let url = format!("{}/bot{token}/{method}", msg.api_base_url.trim_end_matches('/'));
    // The token is part of the URL: errors are reported without it.
    let response = match http.post(url).json(&payload).send().await {
        Ok(response) => response,
        Err(e) => return SendOutcome::from_transport(&e.without_url()),
    };
    let status = response.status().as_u16();
    let retry_after = response.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let bytes = match response.bytes().await {
        Ok(bytes) => bytes,
        Err(e) => return SendOutcome::from_transport(&e.without_url()),
    };
    outcome(status, retry_after.as_deref(), &bytes, chat)
}

/// Classifies the Bot API's answer (`{"ok": true, "result": Message}` or `{"ok": false, "error_code",
/// "description", "parameters"}`).
fn outcome(status: u16, retry_after: Option<&str>, bytes: &[u8], chat: &str) -> SendOutcome {
    let body: serde_json::Value = serde_json::from_slice(bytes).unwrap_or_default();
    let ok = body.get("ok").and_then(serde_json::Value::as_bool);
    if (200..300).contains(&status) && ok != Some(false) {
        let result = body.get("result");
        let message_id = result.and_then(|r| r.get("message_id")).and_then(serde_json::Value::as_i64);
        let chat_id = result
            .and_then(|r| r.pointer("/chat/id"))
            .and_then(serde_json::Value::as_i64)
            .map_or_else(|| chat.to_owned(), |id| id.to_string());
        return SendOutcome::Accepted { platform_message_id: message_id.map(|m| format!("{chat_id}:{m}")) };
    }
    let error_code = body.get("error_code").and_then(serde_json::Value::as_i64);
    let description = body
        .get("description")
        .and_then(serde_json::Value::as_str)
        .map(str::to_owned)
        .unwrap_or_else(|| String::from_utf8_lossy(bytes).chars().take(300).collect());
    // Flood control: Telegram says in the body how long to wait.
    if status == 429 || error_code == Some(429) {
        let wait = body.pointer("/parameters/retry_after").and_then(serde_json::Value::as_u64);
        let advised = classify_status(429, retry_after);
        return match (wait, advised) {
            (Some(seconds), _) => SendOutcome::Transient {
                reason: format!("Telegram asked us to slow down: {description}"),
                retry_after: Some(std::time::Duration::from_secs(seconds)),
            },
            (None, Some(advised)) => advised,
            (None, None) => SendOutcome::transient(description),
        };
    }
    if let Some(transient) = classify_status(status, retry_after) {
        return transient;
    }
    let mut message = if description.trim().is_empty() { format!("Telegram answered {status}") } else { description };
    // A group that became a supergroup has a new id: say which, so the agent can act on it.
    if let Some(new_id) = body.pointer("/parameters/migrate_to_chat_id").and_then(serde_json::Value::as_i64) {
        message = format!("{message} (the group is now chat {new_id})");
    }
    let code = error_code.map_or_else(|| status.to_string(), |c| c.to_string());
    SendOutcome::permanent(code, message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const TOKEN: &str = "tg_9f3c1e7a_hd";
    const OLU: &str = "700100200";

    const TEXT_PRIVATE: &str = include_str!("../../../fixtures/channels/telegram/update_text_private.json");
    const PHOTO: &str = include_str!("../../../fixtures/channels/telegram/update_photo.json");
    const DOCUMENT: &str = include_str!("../../../fixtures/channels/telegram/update_document.json");
    const GROUP_TEXT: &str = include_str!("../../../fixtures/channels/telegram/update_group_text.json");
    const CALLBACK: &str = include_str!("../../../fixtures/channels/telegram/update_callback_query.json");
    const BLOCKED: &str = include_str!("../../../fixtures/channels/telegram/update_blocked_my_chat_member.json");
    const HEADERS: &str = include_str!("../../../fixtures/channels/telegram/webhook_headers.txt");
    const SET_WEBHOOK: &str = include_str!("../../../fixtures/channels/telegram/set_webhook_request.json");

    fn secrets() -> Secrets {
        let mut s = Secrets::new();
        s.insert("bot_token".into(), "123:abc".into());
        s.insert("secret_token".into(), TOKEN.into());
        s
    }

    fn call(body: &[u8], headers: &[(String, String)], secrets: &Secrets) -> Result<Parsed, ChannelError> {
        let req = WebhookRequest {
            method: Method::Post,
            url: "https://sb.test/webhooks/telegram/1",
            query: &[],
            headers,
            body,
        };
        handle(&req, secrets)
    }

    fn authentic(body: &str) -> Result<Parsed, ChannelError> {
        call(body.as_bytes(), &[(SECRET_HEADER.into(), TOKEN.into())], &secrets())
    }

    fn events(body: &str) -> Vec<InboundEvent> {
        let parsed = authentic(body).unwrap();
        assert_eq!(parsed.answer, Answer::Empty);
        assert!(parsed.lines.iter().all(|l| l.kind == ChannelKind::Telegram && l.business_id.is_none()));
        parsed.lines.into_iter().flat_map(|l| l.events).collect()
    }

    fn only_item(body: &str) -> InboundItem {
        match events(body).as_slice() {
            [InboundEvent::Message(item)] => item.clone(),
            other => panic!("{other:?}"),
        }
    }

    fn olu() -> InboundSender {
        InboundSender {
            external_id: OLU.into(),
            name: Some("Olu Adeyemi".into()),
            username: Some("olu_demo".into()),
            ..InboundSender::default()
        }
    }

    fn secs(s: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(s).unwrap()
    }

    #[test]
    fn the_header_of_the_example_call_authenticates_with_the_set_webhook_secret() {
        let header =
            HEADERS.lines().find_map(|l| l.strip_prefix("X-Telegram-Bot-Api-Secret-Token:")).map(str::trim).unwrap();
        assert!(SET_WEBHOOK.contains(&format!("\"secret_token\": \"{header}\"")));
        let parsed = call(TEXT_PRIVATE.as_bytes(), &[(SECRET_HEADER.into(), header.into())], &secrets()).unwrap();
        assert_eq!(parsed.lines[0].events.len(), 1);
    }

    #[test]
    fn a_wrong_secret_token_is_refused() {
        for wrong in ["tg_9f3c1e7a_hX", "", "tg_9f3c1e7a_hd ", "TG_9F3C1E7A_HD"] {
            let err = call(TEXT_PRIVATE.as_bytes(), &[(SECRET_HEADER.into(), wrong.into())], &secrets()).unwrap_err();
            assert!(matches!(err, ChannelError::Unauthenticated(_)), "{wrong:?}");
        }
    }

    #[test]
    fn a_call_without_the_secret_token_header_is_refused() {
        let err = call(TEXT_PRIVATE.as_bytes(), &[], &secrets()).unwrap_err();
        assert!(matches!(err, ChannelError::Unauthenticated(m) if m.contains("missing")));
    }

    #[test]
    fn a_tampered_body_with_a_guessed_token_is_refused() {
        // Telegram signs nothing: only the secret token proves the origin, so a changed body with the wrong token
        // is refused and one with the right token is accepted as it is.
        let tampered = TEXT_PRIVATE.replace("9912", "9913");
        let err = call(tampered.as_bytes(), &[(SECRET_HEADER.into(), "guess".into())], &secrets()).unwrap_err();
        assert!(matches!(err, ChannelError::Unauthenticated(_)));
    }

    #[test]
    fn a_get_request_is_refused() {
        let headers = [(SECRET_HEADER.to_owned(), TOKEN.to_owned())];
        let req =
            WebhookRequest { method: Method::Get, url: "https://sb.test/", query: &[], headers: &headers, body: b"" };
        assert!(matches!(handle(&req, &secrets()), Err(ChannelError::Unauthenticated(_))));
    }

    #[test]
    fn an_account_without_a_secret_token_cannot_check_anything() {
        let mut secrets = secrets();
        secrets.remove("secret_token");
        let err = call(TEXT_PRIVATE.as_bytes(), &[(SECRET_HEADER.into(), TOKEN.into())], &secrets).unwrap_err();
        assert_eq!(err, ChannelError::MissingSecret("secret_token"));
    }

    #[test]
    fn a_private_text_is_a_direct_message_keyed_by_chat_and_message_id() {
        assert_eq!(
            only_item(TEXT_PRIVATE),
            InboundItem {
                platform_message_id: "700100200:512".into(),
                sender: olu(),
                thread: ThreadRef::Direct { key: None },
                body: Some("Hi, I was double charged for order 9912".into()),
                attachments: vec![],
                sent_at: Some(secs(1_767_225_600)),
            }
        );
    }

    #[test]
    fn a_photo_keeps_the_largest_size_and_the_caption_as_body() {
        let item = only_item(PHOTO);
        assert_eq!(item.platform_message_id, "700100200:513");
        assert_eq!(item.body.as_deref(), Some("bank statement screenshot"));
        assert_eq!(
            item.attachments,
            vec![Attachment {
                kind: "image".into(),
                url: None,
                media_id: Some("AgACAgTESTlarge".into()),
                mime_type: None,
                filename: None
            }]
        );
        assert_eq!(item.sent_at, Some(secs(1_767_225_660)));
    }

    #[test]
    fn a_document_keeps_its_file_id_mime_type_and_name() {
        let item = only_item(DOCUMENT);
        assert_eq!(item.platform_message_id, "700100200:514");
        assert_eq!(item.sender, olu());
        assert_eq!(item.body, None);
        assert_eq!(
            item.attachments,
            vec![Attachment {
                kind: "document".into(),
                url: None,
                media_id: Some("BQACAgTESTdoc".into()),
                mime_type: Some("application/pdf".into()),
                filename: Some("receipt-9912.pdf".into())
            }]
        );
    }

    #[test]
    fn a_supergroup_text_is_public_in_the_group_with_the_sender_as_participant() {
        let item = only_item(GROUP_TEXT);
        assert_eq!(item.platform_message_id, "-1002000300400:88");
        assert_eq!(item.sender, olu());
        assert_eq!(
            item.thread,
            ThreadRef::Public { root_id: "-1002000300400".into(), title: Some("Acme VIP customers".into()) }
        );
        assert_eq!(item.body.as_deref(), Some("@acme_help_bot is the store open on Sunday?"));
    }

    #[test]
    fn a_callback_query_is_a_message_with_the_button_data() {
        let item = only_item(CALLBACK);
        assert_eq!(item.platform_message_id, "callback:4382000000000000001");
        assert_eq!(item.sender, olu());
        assert_eq!(item.thread, ThreadRef::Direct { key: None });
        assert_eq!(item.body.as_deref(), Some("csat:5:ticket:9912"));
        assert_eq!(item.sent_at, None);
    }

    #[test]
    fn a_user_blocking_the_bot_unsubscribes_them() {
        assert_eq!(
            events(BLOCKED),
            vec![InboundEvent::Subscription { sender: olu(), subscribed: false, at: secs(1_767_312_000) }]
        );
        let unblocked = BLOCKED.replace("\"kicked\"", "\"member\"");
        assert!(matches!(events(&unblocked).as_slice(), [InboundEvent::Subscription { subscribed: true, .. }]));
    }

    #[test]
    fn an_edited_message_is_an_edit_of_the_same_key() {
        let body = TEXT_PRIVATE
            .replace("\"message\":", "\"edited_message\":")
            .replace("\"date\": 1767225600,", "\"date\": 1767225600, \"edit_date\": 1767225630,");
        assert_eq!(
            events(&body),
            vec![InboundEvent::Edited {
                platform_message_id: "700100200:512".into(),
                body: Some("Hi, I was double charged for order 9912".into()),
                at: secs(1_767_225_630),
            }]
        );
    }

    fn message(extra: serde_json::Value) -> String {
        let mut message = serde_json::json!({
            "message_id": 9, "date": 1_767_225_600, "from": {"id": 1, "first_name": "Ana"},
            "chat": {"id": 1, "type": "private", "first_name": "Ana"}
        });
        if let (Some(m), serde_json::Value::Object(extra)) = (message.as_object_mut(), extra) {
            m.extend(extra);
        }
        serde_json::json!({"update_id": 1, "message": message}).to_string()
    }

    #[test]
    fn a_venue_reads_as_a_pin_and_a_contact_as_a_card() {
        let venue = only_item(&message(serde_json::json!({
            "location": {"latitude": 6.5244, "longitude": 3.3792},
            "venue": {"location": {"latitude": 6.5244, "longitude": 3.3792},
                      "title": "Acme Lagos", "address": "1 Marina"}
        })));
        assert_eq!(venue.body.as_deref(), Some("📍 Acme Lagos, 1 Marina (6.5244, 3.3792)"));
        assert_eq!(venue.attachments.len(), 1);
        assert_eq!(venue.attachments[0].url.as_deref(), Some("geo:6.5244,3.3792"));
        let contact = only_item(&message(serde_json::json!({
            "contact": {"phone_number": "+2348000000000", "first_name": "Bola", "last_name": "Ade"}
        })));
        assert_eq!(contact.body.as_deref(), Some("👤 Bola Ade, +2348000000000"));
        assert_eq!(contact.attachments[0].kind, "contacts");
    }

    #[test]
    fn voice_and_animations_are_kept_once_each() {
        let item = only_item(&message(serde_json::json!({
            "voice": {"file_id": "v1", "mime_type": "audio/ogg", "duration": 3},
            "animation": {"file_id": "g1", "mime_type": "video/mp4", "file_name": "a.mp4"},
            "document": {"file_id": "g1", "mime_type": "video/mp4", "file_name": "a.mp4"}
        })));
        let kinds: Vec<(&str, Option<&str>)> =
            item.attachments.iter().map(|a| (a.kind.as_str(), a.media_id.as_deref())).collect();
        assert_eq!(kinds, vec![("video", Some("g1")), ("audio", Some("v1"))]);
    }

    #[test]
    fn service_messages_channel_posts_and_group_membership_changes_are_skipped() {
        for body in [
            message(serde_json::json!({"new_chat_members": [{"id": 5, "first_name": "Bo"}]})),
            serde_json::json!({"update_id": 2, "channel_post": {
                "message_id": 1, "date": 1, "chat": {"id": -1, "type": "channel"}, "text": "news"
            }})
            .to_string(),
            serde_json::json!({"update_id": 3, "my_chat_member": {
                "chat": {"id": -5, "type": "group", "title": "G"}, "from": {"id": 1}, "date": 1,
                "old_chat_member": {"status": "member"}, "new_chat_member": {"status": "left"}
            }})
            .to_string(),
        ] {
            let parsed = authentic(&body).unwrap();
            assert_eq!(parsed, Parsed::answer_only(Answer::Empty), "{body}");
        }
    }

    #[test]
    fn bodies_that_are_not_telegram_updates_are_malformed() {
        for body in [
            "not json".to_owned(),
            r#"{"ok":true}"#.to_owned(),
            r#"{"update_id":"1"}"#.to_owned(),
            message(serde_json::json!({"date": i64::MAX, "text": "far future"})),
            message(serde_json::json!({"chat": {"id": "x", "type": "private"}, "text": "bad chat"})),
        ] {
            assert!(matches!(authentic(&body), Err(ChannelError::Malformed(_))), "{body}");
        }
    }

    fn json() -> impl Strategy<Value = serde_json::Value> {
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
            any::<u64>().prop_map(serde_json::Value::from),
            any::<f64>().prop_map(serde_json::Value::from),
            prop::sample::select(vec!["private", "group", "supergroup", "channel", "kicked", "member", "left", ""])
                .prop_map(serde_json::Value::from),
            ".*".prop_map(serde_json::Value::from),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
                prop::collection::btree_map(
                    prop::sample::select(vec![
                        "update_id",
                        "message",
                        "edited_message",
                        "callback_query",
                        "my_chat_member",
                        "message_id",
                        "from",
                        "chat",
                        "id",
                        "type",
                        "title",
                        "first_name",
                        "date",
                        "edit_date",
                        "text",
                        "caption",
                        "photo",
                        "file_id",
                        "width",
                        "height",
                        "document",
                        "location",
                        "latitude",
                        "longitude",
                        "venue",
                        "contact",
                        "phone_number",
                        "data",
                        "new_chat_member",
                        "status",
                        "sender_chat",
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
        fn arbitrary_bytes_with_the_right_token_never_panic(body in prop::collection::vec(any::<u8>(), 0..512)) {
            let _ = call(&body, &[(SECRET_HEADER.into(), TOKEN.into())], &secrets());
        }

        #[test]
        fn arbitrary_json_with_the_right_token_never_panics(value in json(), update_id in any::<i64>()) {
            let _ = authentic(&value.to_string());
            for key in ["message", "edited_message", "callback_query", "my_chat_member"] {
                let _ = authentic(&serde_json::json!({"update_id": update_id, key: value.clone()}).to_string());
            }
        }

        #[test]
        fn arbitrary_tokens_are_refused(token in ".*") {
            prop_assume!(token != TOKEN);
            let result = call(TEXT_PRIVATE.as_bytes(), &[(SECRET_HEADER.into(), token)], &secrets());
            prop_assert!(matches!(result, Err(ChannelError::Unauthenticated(_))));
        }
    }

    // -----------------------------------------------------------------------------------------------------------
    // Sending, against the fake platform
    // -----------------------------------------------------------------------------------------------------------

    use crate::send::{OutboundMessage, SendOutcome, Target, TemplateSend, http_client};
    use switchboard_fakes::{FakePlatforms, Fault};

    const SEND_REQUEST: &str = include_str!("../../../fixtures/channels/telegram/send_message_request.json");
    const SEND_RESPONSE: &str = include_str!("../../../fixtures/channels/telegram/send_message_response.json");
    const SEND_BLOCKED: &str = include_str!("../../../fixtures/channels/telegram/send_message_error_blocked.json");
    const BOT_TOKEN: &str = "6000000001:AAtestbottoken";

    fn bot_secrets(bot_token: &str) -> Secrets {
        let mut s = Secrets::new();
        s.insert("bot_token".into(), bot_token.into());
        s.insert("secret_token".into(), TOKEN.into());
        s
    }

    fn outbound<'a>(
        base: &'a str,
        secrets: &'a Secrets,
        target: Target<'a>,
        body: Option<&'a str>,
    ) -> OutboundMessage<'a> {
        OutboundMessage {
            kind: ChannelKind::Telegram,
            business_id: "6000000001",
            secrets,
            api_base_url: base,
            target,
            body,
            attachments: &[],
            template: None,
            tag: None,
            reply_token: None,
            idempotency_key: "outbox-1",
        }
    }

    async fn fake() -> (FakePlatforms, String) {
        let fake = FakePlatforms::spawn("127.0.0.1:0").await.unwrap();
        let base = format!("{}/telegram", fake.base_url);
        (fake, base)
    }

    fn json_of(body: &str) -> serde_json::Value {
        serde_json::from_str(body).unwrap()
    }

    fn file(kind: &str, url: Option<&str>, media_id: Option<&str>) -> Attachment {
        Attachment {
            kind: kind.into(),
            url: url.map(str::to_owned),
            media_id: media_id.map(str::to_owned),
            mime_type: None,
            filename: None,
        }
    }

    fn is_permanent(outcome: &SendOutcome, expected: &str) -> bool {
        matches!(outcome, SendOutcome::Permanent { code, .. } if code == expected)
    }

    #[tokio::test]
    async fn a_text_to_a_private_chat_is_send_message_and_its_id_is_chat_colon_message_id() {
        let (fake, base) = fake().await;
        let secrets = bot_secrets(BOT_TOKEN);
        let text = "Hi Olu, we've refunded the duplicate charge for order 9912.";
        let outcome =
            send(&http_client(), &outbound(&base, &secrets, Target::Direct { recipient: OLU }, Some(text))).await;
        let accepted = fake.state.accepted("telegram");
        assert_eq!(accepted.len(), 1);
        assert_eq!(accepted[0].path, format!("/bot{BOT_TOKEN}/sendMessage"));
        let SendOutcome::Accepted { platform_message_id: Some(id) } = &outcome else { panic!("{outcome:?}") };
        assert!(id.starts_with("700100200:"), "{id}");
        assert_eq!(Some(id), accepted[0].platform_message_id.as_ref());
        // The fixture, without the quoted message (an agent's reply does not quote one).
        let mut expected = json_of(SEND_REQUEST);
        expected.as_object_mut().unwrap().remove("reply_parameters");
        assert_eq!(json_of(&accepted[0].body), expected);
    }

    #[test]
    fn the_documented_answers_read_as_accepted_and_blocked() {
        assert_eq!(
            outcome(200, None, SEND_RESPONSE.as_bytes(), OLU),
            SendOutcome::Accepted { platform_message_id: Some("700100200:516".into()) }
        );
        assert_eq!(
            outcome(403, None, SEND_BLOCKED.as_bytes(), OLU),
            SendOutcome::permanent("403", "Forbidden: bot was blocked by the user")
        );
        // An answer without a result is still accepted, just without an id; nothing panics on odd bodies.
        assert_eq!(outcome(200, None, b"{\"ok\":true}", OLU), SendOutcome::Accepted { platform_message_id: None });
        assert!(matches!(outcome(400, None, b"<html>", OLU), SendOutcome::Permanent { code, .. } if code == "400"));
        let migrated = br#"{"ok":false,"error_code":400,"description":"Bad Request: group chat was upgraded to a supergroup chat","parameters":{"migrate_to_chat_id":-1001234567890}}"#;
        let SendOutcome::Permanent { message, .. } = outcome(400, None, migrated, "-4000") else { panic!() };
        assert!(message.contains("-1001234567890"), "{message}");
    }

    #[tokio::test]
    async fn each_bot_sends_with_its_own_token() {
        let (fake, base) = fake().await;
        let (a, b) = (bot_secrets("111:aaa"), bot_secrets("222:bbb"));
        let to = Target::Direct { recipient: OLU };
        let mut first = outbound(&base, &a, to, Some("from bot a"));
        first.business_id = "111";
        let mut second = outbound(&base, &b, to, Some("from bot b"));
        second.business_id = "222";
        assert!(matches!(send(&http_client(), &first).await, SendOutcome::Accepted { .. }));
        assert!(matches!(send(&http_client(), &second).await, SendOutcome::Accepted { .. }));
        let paths: Vec<String> = fake.state.accepted("telegram").into_iter().map(|r| r.path).collect();
        assert_eq!(paths, ["/bot111:aaa/sendMessage", "/bot222:bbb/sendMessage"]);
    }

    #[tokio::test]
    async fn a_group_target_sends_to_the_group_chat_id_as_a_number() {
        let (fake, base) = fake().await;
        let secrets = bot_secrets(BOT_TOKEN);
        let outcome =
            send(&http_client(), &outbound(&base, &secrets, Target::Group { chat: "-4001002003" }, Some("Hi all")))
                .await;
        assert!(
            matches!(&outcome, SendOutcome::Accepted { platform_message_id: Some(id) } if id.starts_with("-4001002003:"))
        );
        assert_eq!(json_of(&fake.state.accepted("telegram")[0].body)["chat_id"], -4_001_002_003_i64);
    }

    #[tokio::test]
    async fn an_image_goes_with_send_photo_and_anything_else_with_send_document_with_the_text_as_caption() {
        let (fake, base) = fake().await;
        let secrets = bot_secrets(BOT_TOKEN);
        let photo = [file("image", Some("https://cdn.test/label.png"), None)];
        let mut msg = outbound(&base, &secrets, Target::Direct { recipient: OLU }, Some("Your label"));
        msg.attachments = &photo;
        assert!(matches!(send(&http_client(), &msg).await, SendOutcome::Accepted { platform_message_id: Some(_) }));
        // A document the customer sent earlier, forwarded by its file id, without text.
        let document = [file("document", None, Some("BQACAgIAAxkBAAIBinvoice"))];
        msg.attachments = &document;
        msg.body = None;
        assert!(matches!(send(&http_client(), &msg).await, SendOutcome::Accepted { platform_message_id: Some(_) }));
        let accepted = fake.state.accepted("telegram");
        assert_eq!(accepted[0].path, format!("/bot{BOT_TOKEN}/sendPhoto"));
        assert_eq!(
            json_of(&accepted[0].body),
            serde_json::json!({"chat_id": 700100200, "photo": "https://cdn.test/label.png", "caption": "Your label"})
        );
        assert_eq!(accepted[1].path, format!("/bot{BOT_TOKEN}/sendDocument"));
        assert_eq!(
            json_of(&accepted[1].body),
            serde_json::json!({"chat_id": 700100200, "document": "BQACAgIAAxkBAAIBinvoice"})
        );
    }

    #[tokio::test]
    async fn what_telegram_cannot_send_is_refused_before_calling() {
        let (fake, base) = fake().await;
        let secrets = bot_secrets(BOT_TOKEN);
        let to = Target::Direct { recipient: OLU };
        for target in [Target::PublicReply { reply_to: "700100200:512" }, Target::PrivateReply { comment: "1" }] {
            assert!(is_permanent(
                &send(&http_client(), &outbound(&base, &secrets, target, Some("hi"))).await,
                "unsupported"
            ));
        }
        let two =
            [file("image", Some("https://cdn.test/a.png"), None), file("image", Some("https://cdn.test/b.png"), None)];
        let nowhere = [file("image", None, None)];
        for attachments in [&two[..], &nowhere[..]] {
            let mut msg = outbound(&base, &secrets, to, Some("see attached"));
            msg.attachments = attachments;
            assert!(is_permanent(&send(&http_client(), &msg).await, "unsupported"));
        }
        let parameters = ["x".to_owned()];
        let mut templated = outbound(&base, &secrets, to, None);
        templated.template = Some(TemplateSend { name: "t", language: "en", parameters: &parameters });
        assert!(is_permanent(&send(&http_client(), &templated).await, "unsupported"));
        assert!(is_permanent(&send(&http_client(), &outbound(&base, &secrets, to, None)).await, "empty_message"));
        let mut no_token = bot_secrets(BOT_TOKEN);
        no_token.remove("bot_token");
        assert!(is_permanent(
            &send(&http_client(), &outbound(&base, &no_token, to, Some("hi"))).await,
            "missing_secret"
        ));
        assert!(fake.state.requests().is_empty());
    }

    #[tokio::test]
    async fn a_blocked_bot_and_a_user_who_never_started_it_are_permanent_403s() {
        let (fake, base) = fake().await;
        let secrets = bot_secrets(BOT_TOKEN);
        let msg = outbound(&base, &secrets, Target::Direct { recipient: OLU }, Some("hi"));
        fake.state.fail_next("telegram", Fault::Permanent("403".into()), 1);
        assert_eq!(
            send(&http_client(), &msg).await,
            SendOutcome::permanent("403", "Forbidden: bot was blocked by the user")
        );
        let initiate = "403:Forbidden: bot can't initiate conversation with a user";
        fake.state.fail_next("telegram", Fault::Permanent(initiate.into()), 1);
        assert_eq!(
            send(&http_client(), &msg).await,
            SendOutcome::permanent("403", "Forbidden: bot can't initiate conversation with a user")
        );
        fake.state.fail_next("telegram", Fault::Permanent("400".into()), 1);
        assert_eq!(send(&http_client(), &msg).await, SendOutcome::permanent("400", "Bad Request: chat not found"));
    }

    #[tokio::test]
    async fn flood_control_is_transient_with_telegrams_retry_after_and_server_errors_are_transient() {
        let (fake, base) = fake().await;
        let secrets = bot_secrets(BOT_TOKEN);
        let msg = outbound(&base, &secrets, Target::Direct { recipient: OLU }, Some("hi"));
        fake.state.fail_next("telegram", Fault::Permanent("429".into()), 1);
        let outcome = send(&http_client(), &msg).await;
        assert!(
            matches!(&outcome, SendOutcome::Transient { retry_after: Some(d), .. } if d.as_secs() == 7),
            "{outcome:?}"
        );
        fake.state.fail_next("telegram", Fault::RateLimited, 1);
        let outcome = send(&http_client(), &msg).await;
        assert!(
            matches!(&outcome, SendOutcome::Transient { retry_after: Some(d), .. } if d.as_secs() == 1),
            "{outcome:?}"
        );
        fake.state.fail_next("telegram", Fault::ServerError, 1);
        assert!(matches!(send(&http_client(), &msg).await, SendOutcome::Transient { .. }));
        assert!(matches!(send(&http_client(), &msg).await, SendOutcome::Accepted { .. }));
    }

    #[tokio::test]
    async fn a_wrong_or_malformed_bot_token_is_permanent() {
        let (_fake, base) = fake().await;
        let to = Target::Direct { recipient: OLU };
        let revoked = bot_secrets("6000000001:invalid");
        assert_eq!(
            send(&http_client(), &outbound(&base, &revoked, to, Some("hi"))).await,
            SendOutcome::permanent("401", "Unauthorized")
        );
        let malformed = bot_secrets("no-colon");
        assert!(is_permanent(&send(&http_client(), &outbound(&base, &malformed, to, Some("hi"))).await, "404"));
    }

    #[tokio::test]
    async fn a_transport_error_is_transient_and_does_not_reveal_the_bot_token() {
        let secrets = bot_secrets(BOT_TOKEN);
        let msg = outbound("http://127.0.0.1:9/telegram", &secrets, Target::Direct { recipient: OLU }, Some("hi"));
        let outcome = send(&http_client(), &msg).await;
        let SendOutcome::Transient { reason, .. } = &outcome else { panic!("{outcome:?}") };
        assert!(!reason.contains("AAtestbottoken"), "{reason}");
    }

    proptest! {
        #[test]
        fn any_answer_to_a_send_is_classified_without_panicking(
            status in 100u16..600,
            bytes in prop::collection::vec(any::<u8>(), 0..256),
            retry_after in prop::option::of(".*"),
            retry in any::<i64>(),
        ) {
            let _ = outcome(status, retry_after.as_deref(), &bytes, OLU);
            let shaped = serde_json::json!({"ok": false, "error_code": status, "parameters": {"retry_after": retry}});
            let _ = outcome(status, retry_after.as_deref(), shaped.to_string().as_bytes(), OLU);
        }
    }
}
