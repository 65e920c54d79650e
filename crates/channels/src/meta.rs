//! Meta's webhooks, shared by WhatsApp, Messenger (with the Page feed) and Instagram.
//!
//! One Meta app has exactly one callback URL for all its WhatsApp numbers, Facebook Pages and
//! Instagram accounts, so one POST may carry entries of several lines and of several kinds. Every
//! webhook kind therefore runs the same [`handle`], and the result names each line by its
//! platform id ([`LineEvents::business_id`]): the `phone_number_id` of a WhatsApp change, the page
//! id or the Instagram account id of an entry.
//!
//! - `GET ?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…` is the handshake Meta makes when
//!   the callback URL is saved: answered with the raw challenge when the token is the account's
//!   `verify_token`.
//! - `POST` carries `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app_secret, raw body)>`; the
//!   body's `object` says which product the entries come from: `whatsapp_business_account`
//!   ([`crate::whatsapp`]), `page` ([`crate::messenger`]) or `instagram` ([`crate::instagram`]).
//!
//! Messenger and Instagram DMs share the Messenger Platform's event shape (`entry[].messaging[]`),
//! so their parser lives here; each product's own parts (WhatsApp changes, the Page feed,
//! Instagram comments and mentions) live in its module.
//!
//! Sending goes through the Graph API for all three: [`graph`] calls it and classifies its
//! answers, and holds the Send API that Messenger and Instagram share.

use serde::{Deserialize, Deserializer};
use serde_json::Value;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use switchboard_domain::{
    Attachment, ChannelKind, DeliveryStatus, InboundEvent, InboundItem, InboundSender, StatusUpdate, ThreadRef,
};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;

use crate::signature::verify_hmac_sha256_hex;
use crate::webhook::{Answer, LineEvents, Method, Parsed, Secrets, WebhookRequest, secret};
use crate::{ChannelError, instagram, messenger, whatsapp};

pub mod graph;

/// The header that carries the signature (lowercase, as [`WebhookRequest::header`] expects).
pub const SIGNATURE_HEADER: &str = "x-hub-signature-256";

/// Verifies and parses one webhook call: the GET handshake or a signed POST delivery.
pub fn handle(req: &WebhookRequest<'_>, secrets: &Secrets) -> Result<Parsed, ChannelError> {
    match req.method {
        Method::Get => handshake(req, secrets),
        Method::Post => {
            verify(secret(secrets, "app_secret")?, req.body, req.header(SIGNATURE_HEADER))?;
            Ok(Parsed { lines: parse(req.body)?, answer: ack() })
        }
    }
}

/// What to answer for an authenticated body we could not parse: Meta only wants a 200, and
/// anything else makes it redeliver (and in the end unsubscribe the app).
pub fn ack() -> Answer {
    Answer::Empty
}

/// The subscription handshake: `hub.mode=subscribe` with the account's `verify_token` is
/// answered with `hub.challenge`, as plain text and unchanged.
pub fn handshake(req: &WebhookRequest<'_>, secrets: &Secrets) -> Result<Parsed, ChannelError> {
    let expected = secret(secrets, "verify_token")?;
    if req.query_param("hub.mode") != Some("subscribe") {
        return Err(ChannelError::Unauthenticated("hub.mode must be `subscribe`".into()));
    }
    let given = req
        .query_param("hub.verify_token")
        .ok_or_else(|| ChannelError::Unauthenticated("missing hub.verify_token".into()))?;
    if !same_secret(given, expected) {
        return Err(ChannelError::Unauthenticated("hub.verify_token does not match".into()));
    }
    let challenge = req
        .query_param("hub.challenge")
        .filter(|c| !c.is_empty())
        .ok_or_else(|| ChannelError::Malformed("missing hub.challenge".into()))?;
    Ok(Parsed::answer_only(Answer::Text(challenge.to_owned())))
}

/// Whether two secrets are equal, in time that depends on neither their contents nor their
/// lengths: the digests are compared, not the strings.
fn same_secret(given: &str, expected: &str) -> bool {
    Sha256::digest(given.as_bytes()).ct_eq(&Sha256::digest(expected.as_bytes())).into()
}

/// Checks `X-Hub-Signature-256: sha256=<hex>` against the raw body.
pub fn verify(app_secret: &str, body: &[u8], header: Option<&str>) -> Result<(), ChannelError> {
    let header = header.ok_or_else(|| ChannelError::Unauthenticated("missing X-Hub-Signature-256".into()))?;
    let digest = header
        .trim()
        .strip_prefix("sha256=")
        .ok_or_else(|| ChannelError::Unauthenticated("X-Hub-Signature-256 must be sha256=<hex>".into()))?;
    if verify_hmac_sha256_hex(app_secret.as_bytes(), body, digest) {
        Ok(())
    } else {
        Err(ChannelError::Unauthenticated("signature does not match the body".into()))
    }
}

#[derive(Deserialize)]
struct Envelope {
    object: String,
    #[serde(deserialize_with = "null_default")]
    entry: Vec<Value>,
}

/// Parses an (already authenticated) delivery into the events of each line it names.
/// Objects other than the three products (`user`, `permissions`, …) carry nothing for an inbox
/// and give no lines; a body that is not a Meta webhook at all is [`ChannelError::Malformed`].
pub fn parse(body: &[u8]) -> Result<Vec<LineEvents>, ChannelError> {
    let envelope: Envelope =
        serde_json::from_slice(body).map_err(|e| ChannelError::Malformed(format!("not a Meta webhook: {e}")))?;
    let mut lines = Lines::default();
    for (i, entry) in envelope.entry.into_iter().enumerate() {
        let parsed = match envelope.object.as_str() {
            "whatsapp_business_account" => whatsapp::parse_entry(entry, &mut lines),
            "page" => messenger::parse_entry(entry, &mut lines),
            "instagram" => instagram::parse_entry(entry, &mut lines),
            _ => Ok(()),
        };
        parsed.map_err(|e| match e {
            ChannelError::Malformed(reason) => ChannelError::Malformed(format!("entry[{i}]: {reason}")),
            other => other,
        })?;
    }
    Ok(lines.0)
}

/// The events of a delivery, grouped by line in the order the lines first appear. Entries and
/// changes of one line are merged, so that the caller stores each line's events together.
#[derive(Default)]
pub(crate) struct Lines(Vec<LineEvents>);

impl Lines {
    pub(crate) fn add(&mut self, kind: ChannelKind, business_id: Option<String>, events: Vec<InboundEvent>) {
        if events.is_empty() {
            return;
        }
        match self.0.iter_mut().find(|l| l.kind == kind && l.business_id == business_id) {
            Some(line) => line.events.extend(events),
            None => self.0.push(LineEvents { kind, business_id, events }),
        }
    }
}

/// One `entry[]` item of any product. The lists stay raw JSON so that each product reads only
/// what it understands: a shape we do not use can never make a delivery malformed.
#[derive(Deserialize)]
pub(crate) struct Entry {
    /// WABA id, page id or Instagram account id.
    #[serde(default, deserialize_with = "opt_id")]
    pub id: Option<String>,
    #[serde(default)]
    pub time: Option<Value>,
    #[serde(default, deserialize_with = "null_default")]
    pub messaging: Vec<Value>,
    /// Messaging events while another app owns the thread (handover protocol): still the
    /// customer's words, so they are read like `messaging`.
    #[serde(default, deserialize_with = "null_default")]
    pub standby: Vec<Value>,
    #[serde(default, deserialize_with = "null_default")]
    pub changes: Vec<Change>,
}

/// One `changes[]` item: which subscribed field changed, and its value (shape per field).
#[derive(Deserialize)]
pub(crate) struct Change {
    #[serde(default)]
    pub field: Option<String>,
    #[serde(default)]
    pub value: Value,
}

impl Entry {
    pub(crate) fn read(entry: Value) -> Result<Self, ChannelError> {
        Self::deserialize(entry).map_err(|e| ChannelError::Malformed(format!("not an entry: {e}")))
    }
}

/// Reads a JSON value into `T`, saying where it failed.
pub(crate) fn read<T: serde::de::DeserializeOwned>(value: Value, what: &str) -> Result<T, ChannelError> {
    serde_json::from_value(value).map_err(|e| ChannelError::Malformed(format!("{what}: {e}")))
}

/// An id, sent as a string (usually) or a number (some older payloads); anything else, an
/// empty string or `null` is no id.
pub(crate) fn opt_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    })
}

/// A list (or object) that may also be sent as `null`.
pub(crate) fn null_default<'de, D: Deserializer<'de>, T: Deserialize<'de> + Default>(d: D) -> Result<T, D::Error> {
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// Seconds since the epoch from 10^11 on would be past the year 5000, and milliseconds below it
/// before 1973: so one number tells its own unit.
const MILLIS_FROM: u64 = 100_000_000_000;

/// A Meta timestamp. Units differ between products and even between the fields of one payload
/// (WhatsApp: seconds as a string; Messenger: milliseconds; the Page feed and Instagram
/// comments: seconds), so numbers tell their unit by magnitude; strings may also be RFC 3339 or
/// the Graph API's `2026-01-01T00:06:40+0000`. Absent, `null` or empty is `None`; anything else,
/// or a time out of range, is malformed.
pub(crate) fn time(value: Option<&Value>, what: &str) -> Result<Option<OffsetDateTime>, ChannelError> {
    let bad = || ChannelError::Malformed(format!("{what}: not a time"));
    let n = match value {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Number(n)) => n.as_i64().ok_or_else(bad)?,
        Some(Value::String(s)) if s.trim().is_empty() => return Ok(None),
        Some(Value::String(s)) => match s.trim().parse::<i64>() {
            Ok(n) => n,
            Err(_) => return text_time(s.trim()).map(Some).ok_or_else(bad),
        },
        Some(_) => return Err(bad()),
    };
    let at = if n.unsigned_abs() >= MILLIS_FROM {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(n) * 1_000_000)
    } else {
        OffsetDateTime::from_unix_timestamp(n)
    };
    at.map(Some).map_err(|_| bad())
}

fn text_time(s: &str) -> Option<OffsetDateTime> {
    let graph =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second][offset_hour sign:mandatory][offset_minute]");
    OffsetDateTime::parse(s, &Rfc3339).or_else(|_| OffsetDateTime::parse(s, graph)).ok()
}

/// A text the customer typed, or `None` when it is empty.
pub(crate) fn text(s: Option<String>) -> Option<String> {
    s.filter(|t| !t.trim().is_empty())
}

/// The body of a message the platform could not pass on to apps: the customer did write, so
/// the agent should see that something arrived.
pub(crate) const UNSUPPORTED: &str = "[unsupported message]";

// ---- Messenger Platform events (Messenger DMs and Instagram DMs) ----

#[derive(Deserialize)]
struct Party {
    #[serde(default, deserialize_with = "opt_id")]
    id: Option<String>,
}

#[derive(Deserialize)]
struct MessagingEvent {
    sender: Option<Party>,
    recipient: Option<Party>,
    timestamp: Option<Value>,
    message: Option<DmMessage>,
    postback: Option<Postback>,
    delivery: Option<Delivery>,
    read: Option<Read>,
    reaction: Option<DmReaction>,
    message_edit: Option<MessageEdit>,
}

#[derive(Deserialize)]
struct DmMessage {
    #[serde(default, deserialize_with = "opt_id")]
    mid: Option<String>,
    text: Option<String>,
    is_echo: Option<bool>,
    /// Instagram: the customer unsent the message.
    is_deleted: Option<bool>,
    /// Instagram: a media type the API does not deliver.
    is_unsupported: Option<bool>,
    #[serde(default, deserialize_with = "null_default")]
    attachments: Vec<DmAttachment>,
    reply_to: Option<ReplyTo>,
}

#[derive(Deserialize)]
struct DmAttachment {
    #[serde(rename = "type")]
    kind: Option<String>,
    payload: Option<AttachmentPayload>,
    /// Legacy `fallback` attachments carry their link beside the payload.
    url: Option<String>,
    title: Option<String>,
}

#[derive(Deserialize)]
struct AttachmentPayload {
    url: Option<String>,
    title: Option<String>,
    sticker_id: Option<Value>,
    coordinates: Option<Coordinates>,
}

#[derive(Deserialize)]
struct Coordinates {
    lat: Option<Value>,
    long: Option<Value>,
}

#[derive(Deserialize)]
struct ReplyTo {
    /// Instagram: the customer answered the business's story.
    story: Option<StoryRef>,
}

#[derive(Deserialize)]
struct StoryRef {
    url: Option<String>,
}

#[derive(Deserialize)]
struct Postback {
    #[serde(default, deserialize_with = "opt_id")]
    mid: Option<String>,
    title: Option<String>,
    payload: Option<String>,
}

#[derive(Deserialize)]
struct Delivery {
    #[serde(default, deserialize_with = "null_default")]
    mids: Vec<Option<String>>,
    watermark: Option<Value>,
}

#[derive(Deserialize)]
struct Read {
    watermark: Option<Value>,
}

#[derive(Deserialize)]
struct DmReaction {
    #[serde(default, deserialize_with = "opt_id")]
    mid: Option<String>,
    action: Option<String>,
    emoji: Option<String>,
    /// The reaction's name (`love`, `like`…), when no emoji is given.
    reaction: Option<String>,
}

#[derive(Deserialize)]
struct MessageEdit {
    #[serde(default, deserialize_with = "opt_id")]
    mid: Option<String>,
    text: Option<String>,
}

/// A direct-chat item from the customer `external_id`.
fn direct_item(
    id: String,
    external_id: String,
    body: Option<String>,
    attachments: Vec<Attachment>,
    sent_at: Option<OffsetDateTime>,
) -> InboundItem {
    InboundItem {
        platform_message_id: id,
        sender: InboundSender { external_id, ..InboundSender::default() },
        thread: ThreadRef::Direct { key: None },
        body,
        attachments,
        sent_at,
    }
}

/// Parses `messaging[]` (and `standby[]`) events of a page or an Instagram account: messages,
/// echoes, postbacks, delivery and read receipts, reactions, edits and unsends. Events that
/// carry nothing to store (referrals, opt-ins, handover notices, typing) are skipped.
pub(crate) fn messaging_events(
    raw: Vec<Value>,
    entry_time: Option<OffsetDateTime>,
) -> Result<Vec<InboundEvent>, ChannelError> {
    let mut out = Vec::new();
    for (i, raw) in raw.into_iter().enumerate() {
        let what = |field: &str| format!("messaging[{i}].{field}");
        let ev: MessagingEvent = read(raw, &format!("messaging[{i}]"))?;
        let at = time(ev.timestamp.as_ref(), &what("timestamp"))?;
        // Reactions, edits and removals must say when; the entry's time is the next best.
        let at_required = || at.or(entry_time).ok_or_else(|| ChannelError::Malformed(what("timestamp is missing")));
        let sender = ev.sender.and_then(|p| p.id);
        let customer = || sender.clone().ok_or_else(|| ChannelError::Malformed(what("sender.id is missing")));
        if let Some(message) = ev.message {
            let mid = message.mid.clone().ok_or_else(|| ChannelError::Malformed(what("message.mid is missing")))?;
            if message.is_deleted == Some(true) {
                out.push(InboundEvent::Removed { platform_message_id: mid, at: at_required()? });
                continue;
            }
            let echo = message.is_echo == Some(true);
            // An echo goes from the business to the customer: the customer is the recipient.
            let customer = if echo {
                ev.recipient
                    .and_then(|p| p.id)
                    .ok_or_else(|| ChannelError::Malformed(what("recipient.id is missing")))?
            } else {
                customer()?
            };
            let (body, attachments) = dm_content(message);
            let item = direct_item(mid, customer, body, attachments, at);
            out.push(if echo { InboundEvent::Echo(item) } else { InboundEvent::Message(item) });
        } else if let Some(postback) = ev.postback {
            let customer = customer()?;
            // Postbacks before v11.0 have no mid; the customer and the moment name the tap.
            let id = match postback.mid {
                Some(mid) => mid,
                None => {
                    let ts = at.map(|t| (t.unix_timestamp_nanos() / 1_000_000).to_string());
                    format!(
                        "postback:{customer}:{}",
                        ts.ok_or_else(|| ChannelError::Malformed(what("timestamp is missing")))?
                    )
                }
            };
            let body = text(postback.title).or_else(|| text(postback.payload));
            out.push(InboundEvent::Message(direct_item(id, customer, body, Vec::new(), at)));
        } else if let Some(delivery) = ev.delivery {
            // Without mids only the watermark says what was delivered; receipts are matched by
            // platform id, so such a receipt carries nothing we can apply.
            let when = time(delivery.watermark.as_ref(), &what("delivery.watermark"))?.or(at);
            out.extend(delivery.mids.into_iter().flatten().filter(|m| !m.trim().is_empty()).map(|mid| {
                InboundEvent::Status(StatusUpdate {
                    platform_message_id: mid,
                    status: DeliveryStatus::Delivered,
                    error: None,
                    at: when,
                })
            }));
        } else if let Some(read_receipt) = ev.read {
            // Messenger sends a watermark; Instagram names the message read, at the event's time.
            let up_to = time(read_receipt.watermark.as_ref(), &what("read.watermark"))?.or(at).or(entry_time);
            if let Some(up_to) = up_to {
                out.push(InboundEvent::ReadUpTo { customer: customer()?, thread_key: None, up_to });
            }
        } else if let Some(reaction) = ev.reaction {
            let target = reaction.mid.ok_or_else(|| ChannelError::Malformed(what("reaction.mid is missing")))?;
            let emoji = match reaction.action.as_deref() {
                Some("unreact") => None,
                _ => text(reaction.emoji).or_else(|| text(reaction.reaction)),
            };
            out.push(InboundEvent::Reaction {
                sender: InboundSender { external_id: customer()?, ..InboundSender::default() },
                target_platform_message_id: target,
                emoji,
                at: at_required()?,
            });
        } else if let Some(edit) = ev.message_edit {
            let id = edit.mid.ok_or_else(|| ChannelError::Malformed(what("message_edit.mid is missing")))?;
            out.push(InboundEvent::Edited { platform_message_id: id, body: text(edit.text), at: at_required()? });
        }
    }
    Ok(out)
}

/// The text and attachments of a DM. Attachment kinds keep the platform's names except `file`,
/// which is a `document` as on every other channel, and stickers, which Messenger sends as
/// images with a `sticker_id`.
fn dm_content(message: DmMessage) -> (Option<String>, Vec<Attachment>) {
    let mut body = text(message.text);
    let mut attachments = Vec::new();
    for a in message.attachments {
        let kind = a.kind.unwrap_or_else(|| "file".to_owned());
        let payload = a.payload;
        let url = payload.as_ref().and_then(|p| p.url.clone()).or(a.url);
        let kind = match kind.as_str() {
            "file" => "document".to_owned(),
            "image" if payload.as_ref().is_some_and(|p| p.sticker_id.is_some()) => "sticker".to_owned(),
            _ => kind,
        };
        if kind == "location" {
            let title = payload.as_ref().and_then(|p| text(p.title.clone())).or_else(|| text(a.title.clone()));
            let coordinates = payload.as_ref().and_then(|p| p.coordinates.as_ref());
            let pin = pin_text(
                title.as_deref(),
                None,
                coordinates.and_then(|c| c.lat.as_ref()),
                coordinates.and_then(|c| c.long.as_ref()),
            );
            body = body.or(pin);
            attachments.push(Attachment { kind, url: None, media_id: None, mime_type: None, filename: None });
            continue;
        }
        attachments.push(Attachment { kind, url, media_id: None, mime_type: None, filename: None });
    }
    if let Some(story) = message.reply_to.and_then(|r| r.story) {
        attachments.push(Attachment {
            kind: "story_reply".into(),
            url: story.url,
            media_id: None,
            mime_type: None,
            filename: None,
        });
    }
    if body.is_none() && attachments.is_empty() && message.is_unsupported == Some(true) {
        body = Some(UNSUPPORTED.to_owned());
    }
    (body, attachments)
}

/// A shared location as readable text: `📍 name, address (lat, long)`, leaving out what is
/// missing; `None` when nothing is known.
pub(crate) fn pin_text(
    name: Option<&str>,
    address: Option<&str>,
    latitude: Option<&Value>,
    longitude: Option<&Value>,
) -> Option<String> {
    let coordinate = |v: Option<&Value>| match v {
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        _ => None,
    };
    let place: Vec<&str> = [name, address].into_iter().flatten().map(str::trim).filter(|s| !s.is_empty()).collect();
    let mut out = String::from("📍");
    if !place.is_empty() {
        out.push(' ');
        out.push_str(&place.join(", "));
    }
    if let (Some(lat), Some(long)) = (coordinate(latitude), coordinate(longitude)) {
        out.push_str(&format!(" ({lat}, {long})"));
    }
    (out != "📍").then_some(out)
}

#[cfg(test)]
pub(crate) mod testing {
    //! Helpers for the tests of the three Meta modules.

    use proptest::prelude::*;
    use serde_json::{Value, json};
    use switchboard_domain::{ChannelKind, InboundEvent, InboundItem};

    use crate::signature::hmac_sha256_hex;
    use crate::webhook::{Method, Parsed, Secrets, WebhookRequest};
    use crate::{ChannelError, LineEvents};

    /// The app secret of the signature test vectors.
    pub(crate) const APP_SECRET: &str = "helpdesk-test-app-secret";
    pub(crate) const VERIFY_TOKEN: &str = "helpdesk-verify-7f3a";

    pub(crate) type Handle = fn(&WebhookRequest<'_>, &Secrets) -> Result<Parsed, ChannelError>;

    pub(crate) fn secrets() -> Secrets {
        let mut s = Secrets::new();
        s.insert("app_secret".into(), APP_SECRET.into());
        s.insert("verify_token".into(), VERIFY_TOKEN.into());
        s.insert("access_token".into(), "EAAtest".into());
        s
    }

    /// POSTs `body` with `headers` to `handle`.
    pub(crate) fn post_with(handle: Handle, body: &[u8], headers: &[(String, String)]) -> Result<Parsed, ChannelError> {
        let req =
            WebhookRequest { method: Method::Post, url: "https://sb.test/webhooks/x/1", query: &[], headers, body };
        handle(&req, &secrets())
    }

    /// POSTs `body`, signed as Meta signs it, to `handle`.
    pub(crate) fn post(handle: Handle, body: &[u8]) -> Result<Parsed, ChannelError> {
        let sig = format!("sha256={}", hmac_sha256_hex(APP_SECRET.as_bytes(), body));
        post_with(handle, body, &[("x-hub-signature-256".into(), sig)])
    }

    /// The lines of a signed, valid delivery.
    pub(crate) fn lines(handle: Handle, body: &str) -> Vec<LineEvents> {
        match post(handle, body.as_bytes()) {
            Ok(parsed) => parsed.lines,
            Err(e) => panic!("the delivery should parse: {e:?}"),
        }
    }

    /// The events of a delivery that names exactly one line, checking its kind and id.
    pub(crate) fn events_of(handle: Handle, body: &str, kind: ChannelKind, business_id: &str) -> Vec<InboundEvent> {
        let mut lines = lines(handle, body);
        assert_eq!(lines.len(), 1, "one line expected: {lines:?}");
        let line = lines.remove(0);
        assert_eq!(line.kind, kind);
        assert_eq!(line.business_id.as_deref(), Some(business_id));
        line.events
    }

    /// The only event of a delivery.
    pub(crate) fn only_event(handle: Handle, body: &str, kind: ChannelKind, business_id: &str) -> InboundEvent {
        let mut events = events_of(handle, body, kind, business_id);
        assert_eq!(events.len(), 1, "one event expected: {events:?}");
        events.remove(0)
    }

    pub(crate) fn message(event: InboundEvent) -> InboundItem {
        match event {
            InboundEvent::Message(item) => item,
            other => panic!("a message expected, got {other:?}"),
        }
    }

    pub(crate) fn echo(event: InboundEvent) -> InboundItem {
        match event {
            InboundEvent::Echo(item) => item,
            other => panic!("an echo expected, got {other:?}"),
        }
    }

    /// The expected `sha256=…` values of a signature test vector file, by example file name
    /// (`whatsapp/message_text.json`).
    pub(crate) fn vector_lines(vector: &str) -> Vec<(String, String)> {
        vector
            .lines()
            .filter_map(|l| l.trim().strip_prefix("examples/"))
            .filter_map(|l| l.split_once(": "))
            .map(|(file, sig)| (file.to_owned(), sig.trim().to_owned()))
            .collect()
    }

    /// Checks every value of a signature test vector file against the example files.
    pub(crate) fn check_vectors(handle: Handle, vector: &str) {
        let examples = [
            ("whatsapp/message_text.json", include_str!("../../../fixtures/channels/whatsapp/message_text.json")),
            ("messenger/message_text.json", include_str!("../../../fixtures/channels/messenger/message_text.json")),
            ("instagram/dm_text.json", include_str!("../../../fixtures/channels/instagram/dm_text.json")),
        ];
        let expected = vector_lines(vector);
        assert_eq!(expected.len(), examples.len(), "every vector is checked");
        assert!(vector.contains(APP_SECRET));
        for (file, sig) in expected {
            let Some((_, body)) = examples.iter().find(|(name, _)| *name == file) else {
                panic!("no example file {file}");
            };
            assert_eq!(sig, format!("sha256={}", hmac_sha256_hex(APP_SECRET.as_bytes(), body.as_bytes())));
            assert!(crate::meta::verify(APP_SECRET, body.as_bytes(), Some(&sig)).is_ok(), "{file}");
            let headers = [("x-hub-signature-256".to_owned(), sig.clone())];
            assert!(post_with(handle, body.as_bytes(), &headers).is_ok(), "{file} verifies and parses");
        }
    }

    /// Field names Meta uses, so that generated JSON reaches deep into the parsers.
    const KEYS: &[&str] = &[
        "object",
        "entry",
        "id",
        "time",
        "changes",
        "field",
        "value",
        "messaging",
        "standby",
        "sender",
        "recipient",
        "timestamp",
        "message",
        "mid",
        "text",
        "body",
        "attachments",
        "type",
        "payload",
        "url",
        "is_echo",
        "is_deleted",
        "postback",
        "title",
        "delivery",
        "mids",
        "watermark",
        "read",
        "reaction",
        "emoji",
        "action",
        "message_edit",
        "metadata",
        "phone_number_id",
        "contacts",
        "profile",
        "name",
        "wa_id",
        "messages",
        "from",
        "statuses",
        "status",
        "errors",
        "code",
        "image",
        "document",
        "location",
        "latitude",
        "longitude",
        "interactive",
        "button_reply",
        "list_reply",
        "button",
        "message_id",
        "item",
        "verb",
        "comment_id",
        "post_id",
        "created_time",
        "media",
        "media_id",
        "username",
        "phones",
        "sticker_id",
        "coordinates",
        "reply_to",
        "story",
        "message_echoes",
        "to",
        "group_id",
        "sender_id",
    ];
    const WORDS: &[&str] = &[
        "whatsapp_business_account",
        "page",
        "instagram",
        "messages",
        "feed",
        "comments",
        "mentions",
        "comment",
        "post",
        "add",
        "edited",
        "remove",
        "text",
        "image",
        "reaction",
        "location",
        "contacts",
        "interactive",
        "button",
        "button_reply",
        "list_reply",
        "failed",
        "delivered",
        "read",
        "sent",
        "unreact",
        "file",
        "story_mention",
        "smb_message_echoes",
        "1767225600",
        "1767225600123",
        "99999999999999999999",
        "-1",
        "",
    ];

    /// Arbitrary JSON built mostly from Meta's own names and values.
    pub(crate) fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            prop::sample::select(WORDS).prop_map(Value::from),
            ".*".prop_map(Value::String),
        ];
        leaf.prop_recursive(5, 64, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::vec((prop::sample::select(KEYS), inner), 0..8)
                    .prop_map(|kv| Value::Object(kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())),
            ]
        })
    }

    /// Every JSON pointer inside `value`, the root included.
    fn pointers(value: &Value, at: String, out: &mut Vec<String>) {
        match value {
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    pointers(v, format!("{at}/{i}"), out);
                }
            }
            Value::Object(map) => {
                for (k, v) in map {
                    pointers(v, format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")), out);
                }
            }
            _ => {}
        }
        out.push(at);
    }

    /// One of `fixtures` with one to three of its nodes replaced by arbitrary JSON: deliveries
    /// that are almost right reach every branch of the parsers.
    pub(crate) fn arb_mutated(fixtures: &'static [&'static str]) -> impl Strategy<Value = Value> {
        let edits = prop::collection::vec((any::<prop::sample::Index>(), arb_json()), 1..4);
        (prop::sample::select(fixtures), edits).prop_map(|(fixture, edits)| {
            let mut value: Value = serde_json::from_str(fixture).unwrap_or(Value::Null);
            for (index, replacement) in edits {
                let mut all = Vec::new();
                pointers(&value, String::new(), &mut all);
                let pointer = all[index.index(all.len())].clone();
                if let Some(node) = value.pointer_mut(&pointer) {
                    *node = replacement;
                }
            }
            value
        })
    }

    /// A Meta envelope of `object` whose entries hold arbitrary changes and messaging events.
    pub(crate) fn arb_delivery(object: &'static str) -> impl Strategy<Value = Value> {
        let change = (prop::sample::select(WORDS), arb_json()).prop_map(|(f, v)| json!({"field": f, "value": v}));
        let entry = (
            arb_json(),
            prop::collection::vec(change, 0..3),
            prop::collection::vec(arb_json(), 0..3),
            prop_oneof![Just(None), Just(Some(1_767_225_600_123_i64)), Just(Some(1_767_225_600)), any::<Option<i64>>()],
        )
            .prop_map(|(id, changes, messaging, time)| {
                json!({"id": id, "time": time, "changes": changes, "messaging": messaging})
            });
        prop::collection::vec(entry, 0..3).prop_map(move |entries| json!({"object": object, "entry": entries}))
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::testing::*;
    use super::*;
    use crate::signature::hmac_sha256_hex;

    fn get(query: &[(&str, &str)], secrets: &Secrets) -> Result<Parsed, ChannelError> {
        let query: Vec<(String, String)> = query.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        let req = WebhookRequest {
            method: Method::Get,
            url: "https://sb.test/webhooks/x/1",
            query: &query,
            headers: &[],
            body: b"",
        };
        handle(&req, secrets)
    }

    #[test]
    fn the_handshake_answers_the_challenge_when_the_verify_token_matches() {
        let parsed = get(
            &[("hub.mode", "subscribe"), ("hub.challenge", "1987654321"), ("hub.verify_token", VERIFY_TOKEN)],
            &secrets(),
        )
        .unwrap();
        assert_eq!(parsed, Parsed::answer_only(Answer::Text("1987654321".into())));
    }

    #[test]
    fn a_handshake_with_a_wrong_token_or_mode_is_refused() {
        for query in [
            &[("hub.mode", "subscribe"), ("hub.challenge", "1"), ("hub.verify_token", "helpdesk-verify-7f3b")][..],
            &[("hub.mode", "subscribe"), ("hub.challenge", "1"), ("hub.verify_token", "")],
            &[("hub.mode", "subscribe"), ("hub.challenge", "1")],
            &[("hub.mode", "unsubscribe"), ("hub.challenge", "1"), ("hub.verify_token", VERIFY_TOKEN)],
            &[("hub.challenge", "1"), ("hub.verify_token", VERIFY_TOKEN)],
        ] {
            let err = get(query, &secrets()).unwrap_err();
            assert!(matches!(err, ChannelError::Unauthenticated(_)), "{query:?}: {err:?}");
        }
    }

    #[test]
    fn a_handshake_without_a_challenge_is_malformed() {
        let err = get(&[("hub.mode", "subscribe"), ("hub.verify_token", VERIFY_TOKEN)], &secrets()).unwrap_err();
        assert!(matches!(err, ChannelError::Malformed(_)));
    }

    #[test]
    fn missing_secrets_are_named() {
        let mut no_token = secrets();
        no_token.remove("verify_token");
        let err = get(&[("hub.mode", "subscribe"), ("hub.verify_token", VERIFY_TOKEN)], &no_token).unwrap_err();
        assert_eq!(err, ChannelError::MissingSecret("verify_token"));

        let mut no_app_secret = secrets();
        no_app_secret.insert("app_secret".into(), "".into());
        let body = br#"{"object":"page","entry":[]}"#;
        let sig = format!("sha256={}", hmac_sha256_hex(APP_SECRET.as_bytes(), body));
        let headers = [("x-hub-signature-256".to_owned(), sig)];
        let req = WebhookRequest { method: Method::Post, url: "", query: &[], headers: &headers, body };
        assert_eq!(handle(&req, &no_app_secret).unwrap_err(), ChannelError::MissingSecret("app_secret"));
    }

    #[test]
    fn a_tampered_body_a_wrong_secret_and_a_missing_header_are_refused() {
        let body = include_str!("../../../fixtures/channels/messenger/message_text.json").as_bytes();
        let good = format!("sha256={}", hmac_sha256_hex(APP_SECRET.as_bytes(), body));
        let wrong_secret = format!("sha256={}", hmac_sha256_hex(b"another-app-secret", body));
        let mut tampered = body.to_vec();
        tampered[40] ^= 1;
        let header = |v: &str| vec![("x-hub-signature-256".to_owned(), v.to_owned())];
        for (body, headers) in [
            (&tampered[..], header(&good)),
            (body, header(&wrong_secret)),
            (body, Vec::new()),
            (body, header(good.trim_start_matches("sha256="))),
            (body, header("sha1=0123")),
            (body, vec![("x-hub-signature".to_owned(), good.clone())]),
        ] {
            let err = post_with(handle, body, &headers).unwrap_err();
            assert!(matches!(err, ChannelError::Unauthenticated(_)), "{headers:?}: {err:?}");
        }
        assert!(post_with(handle, body, &header(&good.to_uppercase().replace("SHA256=", "sha256="))).is_ok());
    }

    #[test]
    fn every_signature_test_vector_verifies() {
        check_vectors(handle, include_str!("../../../fixtures/channels/whatsapp/signature_test_vector.txt"));
    }

    #[test]
    fn entries_of_several_pages_give_one_line_per_page_in_order() {
        let body = json!({"object": "page", "entry": [
            {"id": "P1", "time": 1767225600123_i64, "messaging": [
                {"sender": {"id": "U1"}, "recipient": {"id": "P1"}, "timestamp": 1767225600050_i64,
                 "message": {"mid": "m1", "text": "one"}}]},
            {"id": "P2", "time": 1767225600123_i64, "messaging": [
                {"sender": {"id": "U2"}, "recipient": {"id": "P2"}, "timestamp": 1767225600050_i64,
                 "message": {"mid": "m2", "text": "two"}}]},
            {"id": "P1", "time": 1767225600123_i64, "messaging": [
                {"sender": {"id": "U3"}, "recipient": {"id": "P1"}, "timestamp": 1767225600050_i64,
                 "message": {"mid": "m3", "text": "three"}}]}
        ]});
        let lines = lines(handle, &body.to_string());
        let summary: Vec<(Option<&str>, Vec<&str>)> = lines
            .iter()
            .map(|l| {
                assert_eq!(l.kind, ChannelKind::Messenger);
                let ids = l
                    .events
                    .iter()
                    .map(|e| match e {
                        InboundEvent::Message(m) => m.platform_message_id.as_str(),
                        other => panic!("{other:?}"),
                    })
                    .collect();
                (l.business_id.as_deref(), ids)
            })
            .collect();
        assert_eq!(summary, vec![(Some("P1"), vec!["m1", "m3"]), (Some("P2"), vec!["m2"])]);
    }

    #[test]
    fn each_object_goes_to_its_product() {
        for (object, kind) in [
            ("whatsapp_business_account", ChannelKind::Whatsapp),
            ("page", ChannelKind::Messenger),
            ("instagram", ChannelKind::Instagram),
        ] {
            let body = json!({"object": object, "entry": [{"id": "B1", "time": 1767225600123_i64,
                "changes": [{"field": "messages", "value": {
                    "metadata": {"phone_number_id": "B1"},
                    "messages": [{"from": "4477", "id": "w1", "timestamp": "1767225600", "type": "text",
                                  "text": {"body": "hi"}}]}}],
                "messaging": [{"sender": {"id": "U1"}, "recipient": {"id": "B1"}, "timestamp": 1767225600050_i64,
                               "message": {"mid": "m1", "text": "hi"}}]}]});
            let lines = lines(handle, &body.to_string());
            assert_eq!(lines.len(), 1, "{object}");
            assert_eq!(lines[0].kind, kind);
            assert_eq!(lines[0].business_id.as_deref(), Some("B1"));
            assert_eq!(lines[0].events.len(), 1, "{object}: only the product's own shape is read");
        }
    }

    #[test]
    fn other_objects_and_empty_entries_are_acknowledged_with_nothing_to_store() {
        for body in [
            r#"{"object":"user","entry":[{"id":"1","changes":[{"field":"name","value":"x"}]}]}"#,
            r#"{"object":"page","entry":[]}"#,
            r#"{"object":"page","entry":[{"id":"1","time":1,"messaging":[{"sender":{"id":"u"},"optin":{}}]}]}"#,
            r#"{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"account_update","value":{}}]}]}"#,
        ] {
            let parsed = post(handle, body.as_bytes()).unwrap();
            assert_eq!(parsed, Parsed::answer_only(Answer::Empty), "{body}");
        }
    }

    #[test]
    fn a_body_that_is_not_a_meta_webhook_is_malformed() {
        for body in [&b"not json"[..], b"[]", b"{}", br#"{"object":"page"}"#, br#"{"object":"page","entry":[7]}"#] {
            let err = post(handle, body).unwrap_err();
            assert!(matches!(err, ChannelError::Malformed(_)), "{err:?}");
        }
    }

    #[test]
    fn the_ack_is_an_empty_200() {
        assert_eq!(ack(), Answer::Empty);
    }

    #[test]
    fn timestamps_tell_their_unit_and_out_of_range_is_malformed() {
        let t = |v: Value| time(Some(&v), "t");
        assert_eq!(t(json!("1767225600")).unwrap().unwrap().unix_timestamp(), 1_767_225_600);
        assert_eq!(t(json!(1767225600)).unwrap().unwrap().unix_timestamp(), 1_767_225_600);
        let ms = t(json!(1767225600050_i64)).unwrap().unwrap();
        assert_eq!(ms.unix_timestamp_nanos(), 1_767_225_600_050_000_000);
        assert_eq!(t(json!("2026-01-01T00:06:40+0000")).unwrap().unwrap().unix_timestamp(), 1_767_226_000);
        assert_eq!(t(json!("2026-01-01T00:06:40Z")).unwrap().unwrap().unix_timestamp(), 1_767_226_000);
        assert_eq!(t(Value::Null).unwrap(), None);
        assert_eq!(t(json!("")).unwrap(), None);
        for bad in [json!(i64::MAX), json!(i64::MIN), json!(u64::MAX), json!(1.5), json!("soon"), json!([])] {
            assert!(matches!(t(bad.clone()), Err(ChannelError::Malformed(_))), "{bad}");
        }
    }

    #[test]
    fn a_location_reads_as_a_pin() {
        let pin = |n, a, lat: Value, long: Value| pin_text(n, a, Some(&lat), Some(&long));
        assert_eq!(
            pin(Some("Shop"), Some("1 Road"), json!(1.5), json!(-2)).as_deref(),
            Some("📍 Shop, 1 Road (1.5, -2)")
        );
        assert_eq!(pin(None, None, json!("1.5"), json!("2")).as_deref(), Some("📍 (1.5, 2)"));
        assert_eq!(pin(None, Some(" "), Value::Null, json!(2)), None);
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(body in prop::collection::vec(any::<u8>(), 0..512)) {
            let _ = post(handle, &body);
            let _ = post_with(handle, &body, &[]);
        }

        #[test]
        fn arbitrary_signed_json_never_panics(body in arb_json()) {
            let _ = post(handle, body.to_string().as_bytes());
        }

        #[test]
        fn arbitrary_meta_shaped_deliveries_never_panic(
            body in prop_oneof![arb_delivery("whatsapp_business_account"), arb_delivery("page"), arb_delivery("instagram")]
        ) {
            let _ = post(handle, body.to_string().as_bytes());
        }

        #[test]
        fn arbitrary_handshakes_never_panic(mode in ".*", token in ".*", challenge in ".*") {
            let _ = get(&[("hub.mode", &mode), ("hub.verify_token", &token), ("hub.challenge", &challenge)], &secrets());
        }
    }
}
