//! WhatsApp Cloud API webhooks (`object: whatsapp_business_account`).
//!
//! Authentication, the handshake and the dispatch between Meta products are [`crate::meta`]'s:
//! one Meta app calls one URL for every number, page and Instagram account it serves. This
//! module reads a WhatsApp entry: every `changes[]` item of field `messages` carries the
//! business number it belongs to (`metadata.phone_number_id`, the line's `business_id`), the
//! customers' profiles (`contacts[]`), their `messages[]` and the `statuses[]` of what the
//! business sent. Field `smb_message_echoes` (numbers shared with the WhatsApp Business app)
//! carries what the business typed in that app. Other fields (template reviews, quality, account
//! alerts, history sync) carry nothing for an inbox and are skipped.
//!
//! Sending (text, media by link and templates, `POST {base}/{phone-number-id}/messages`) lives in
//! [`outbound`]; [`send`] is its entry point.

use serde::Deserialize;
use serde_json::Value;
use switchboard_domain::{
    Attachment, ChannelKind, DeliveryStatus, InboundEvent, InboundItem, InboundSender, MessageError, StatusUpdate,
    ThreadRef,
};

use crate::ChannelError;
use crate::meta::{self, Entry, Lines, null_default, opt_id, read, text, time};
use crate::webhook::{Answer, Parsed, Secrets, WebhookRequest};

pub mod outbound;
pub use outbound::send;

/// Verifies and parses one webhook call (see [`meta::handle`]).
pub fn handle(req: &WebhookRequest<'_>, secrets: &Secrets) -> Result<Parsed, ChannelError> {
    meta::handle(req, secrets)
}

/// What to answer for an authenticated body we could not parse: Meta's usual 200.
pub fn ack() -> Answer {
    meta::ack()
}

#[derive(Deserialize)]
struct ChangeValue {
    metadata: Option<Metadata>,
    #[serde(default, deserialize_with = "null_default")]
    contacts: Vec<Contact>,
    #[serde(default, deserialize_with = "null_default")]
    messages: Vec<WaMessage>,
    #[serde(default, deserialize_with = "null_default")]
    statuses: Vec<Status>,
    #[serde(default, deserialize_with = "null_default")]
    message_echoes: Vec<WaMessage>,
}

#[derive(Deserialize)]
struct Metadata {
    #[serde(default, deserialize_with = "opt_id")]
    phone_number_id: Option<String>,
}

#[derive(Deserialize)]
struct Contact {
    #[serde(default, deserialize_with = "opt_id")]
    wa_id: Option<String>,
    profile: Option<Profile>,
}

#[derive(Deserialize)]
struct Profile {
    name: Option<String>,
}

#[derive(Deserialize)]
struct WaMessage {
    #[serde(default, deserialize_with = "opt_id")]
    id: Option<String>,
    /// The customer's phone number (digits); for an echo, the business's.
    #[serde(default, deserialize_with = "opt_id")]
    from: Option<String>,
    /// Echoes only: the customer the business wrote to.
    #[serde(default, deserialize_with = "opt_id")]
    to: Option<String>,
    timestamp: Option<Value>,
    #[serde(rename = "type")]
    kind: Option<String>,
    /// Groups API only: the group the message was said in.
    #[serde(default, deserialize_with = "opt_id")]
    group_id: Option<String>,
    text: Option<TextBody>,
    image: Option<Media>,
    video: Option<Media>,
    audio: Option<Media>,
    document: Option<Media>,
    sticker: Option<Media>,
    location: Option<Location>,
    #[serde(default, deserialize_with = "null_default")]
    contacts: Vec<SharedContact>,
    interactive: Option<Interactive>,
    button: Option<Button>,
    reaction: Option<Reaction>,
    order: Option<Order>,
    #[serde(default, deserialize_with = "null_default")]
    errors: Vec<WaError>,
}

#[derive(Deserialize)]
struct TextBody {
    body: Option<String>,
}

#[derive(Deserialize)]
struct Media {
    #[serde(default, deserialize_with = "opt_id")]
    id: Option<String>,
    mime_type: Option<String>,
    caption: Option<String>,
    filename: Option<String>,
}

#[derive(Deserialize)]
struct Location {
    latitude: Option<Value>,
    longitude: Option<Value>,
    name: Option<String>,
    address: Option<String>,
}

#[derive(Deserialize)]
struct SharedContact {
    name: Option<ContactName>,
    #[serde(default, deserialize_with = "null_default")]
    phones: Vec<ContactPhone>,
}

#[derive(Deserialize)]
struct ContactName {
    formatted_name: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
}

#[derive(Deserialize)]
struct ContactPhone {
    phone: Option<String>,
    #[serde(default, deserialize_with = "opt_id")]
    wa_id: Option<String>,
}

#[derive(Deserialize)]
struct Interactive {
    button_reply: Option<Choice>,
    list_reply: Option<Choice>,
    /// A WhatsApp Flow's answer.
    nfm_reply: Option<FlowReply>,
}

#[derive(Deserialize)]
struct Choice {
    title: Option<String>,
    #[serde(default, deserialize_with = "opt_id")]
    id: Option<String>,
}

#[derive(Deserialize)]
struct FlowReply {
    body: Option<String>,
    name: Option<String>,
}

#[derive(Deserialize)]
struct Button {
    text: Option<String>,
    payload: Option<String>,
}

#[derive(Deserialize)]
struct Reaction {
    #[serde(default, deserialize_with = "opt_id")]
    message_id: Option<String>,
    emoji: Option<String>,
}

#[derive(Deserialize)]
struct Order {
    text: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    product_items: Vec<Value>,
}

#[derive(Deserialize)]
struct Status {
    #[serde(default, deserialize_with = "opt_id")]
    id: Option<String>,
    status: Option<String>,
    timestamp: Option<Value>,
    #[serde(default, deserialize_with = "null_default")]
    errors: Vec<WaError>,
}

#[derive(Deserialize)]
struct WaError {
    code: Option<Value>,
    title: Option<String>,
    message: Option<String>,
    error_data: Option<ErrorData>,
}

#[derive(Deserialize)]
struct ErrorData {
    details: Option<String>,
}

/// Reads one `entry[]` item of a `whatsapp_business_account` delivery into `lines`, one line per
/// business number (`metadata.phone_number_id`; `None`, the URL's line, if a change lacks it).
pub(crate) fn parse_entry(entry: Value, lines: &mut Lines) -> Result<(), ChannelError> {
    for (c, change) in Entry::read(entry)?.changes.into_iter().enumerate() {
        let echoes = match change.field.as_deref() {
            Some("messages") => false,
            Some("smb_message_echoes") => true,
            _ => continue,
        };
        let value: ChangeValue = read(change.value, &format!("changes[{c}].value"))?;
        let business_id = value.metadata.and_then(|m| m.phone_number_id);
        let mut events = Vec::new();
        let messages = if echoes { value.message_echoes } else { value.messages };
        for (i, message) in messages.into_iter().enumerate() {
            let event = message_event(message, &value.contacts, echoes)
                .map_err(|e| in_place(e, &format!("changes[{c}].messages[{i}]")))?;
            events.extend(event);
        }
        for (i, status) in value.statuses.into_iter().enumerate() {
            events.extend(status_event(status).map_err(|e| in_place(e, &format!("changes[{c}].statuses[{i}]")))?);
        }
        lines.add(ChannelKind::Whatsapp, business_id, events);
    }
    Ok(())
}

fn in_place(e: ChannelError, place: &str) -> ChannelError {
    match e {
        ChannelError::Malformed(reason) => ChannelError::Malformed(format!("{place}: {reason}")),
        other => other,
    }
}

fn malformed(reason: &str) -> ChannelError {
    ChannelError::Malformed(reason.to_owned())
}

/// A WhatsApp id (digits) as a phone number in E.164.
fn e164(digits: &str) -> String {
    if digits.starts_with('+') { digits.to_owned() } else { format!("+{digits}") }
}

/// Who a message is from. Meta names the customer twice: `messages[].from` (their phone number)
/// and `contacts[].wa_id` (their WhatsApp id, which "may not always match"); the wa_id is the
/// identity, the number their phone, and the profile name comes with the contact.
fn customer(message: &WaMessage, contacts: &[Contact], echo: bool) -> Result<InboundSender, ChannelError> {
    if echo {
        let to = message.to.as_deref().ok_or_else(|| malformed("`to` is missing"))?;
        return Ok(InboundSender { external_id: to.to_owned(), phone: Some(e164(to)), ..InboundSender::default() });
    }
    let from = message.from.as_deref().ok_or_else(|| malformed("`from` is missing"))?;
    let contact = contacts
        .iter()
        .find(|c| c.wa_id.as_deref() == Some(from))
        .or_else(|| if contacts.len() == 1 { contacts.first() } else { None });
    let name = contact.and_then(|c| c.profile.as_ref()).and_then(|p| text(p.name.clone()));
    let wa_id = contact.and_then(|c| c.wa_id.clone()).unwrap_or_else(|| from.to_owned());
    Ok(InboundSender { external_id: wa_id, name, phone: Some(e164(from)), ..InboundSender::default() })
}

fn media(kind: &str, media: Option<&Media>) -> (Option<String>, Vec<Attachment>) {
    let Some(media) = media else { return (None, Vec::new()) };
    let attachment = Attachment {
        kind: kind.to_owned(),
        url: None,
        media_id: media.id.clone(),
        mime_type: media.mime_type.clone(),
        filename: text(media.filename.clone()),
    };
    (text(media.caption.clone()), vec![attachment])
}

fn bare(kind: &str) -> Attachment {
    Attachment { kind: kind.to_owned(), url: None, media_id: None, mime_type: None, filename: None }
}

/// Shared contact cards as text: `👤 Name: +44…, +1…` per card, one per line.
fn contacts_text(cards: &[SharedContact]) -> Option<String> {
    let lines: Vec<String> = cards
        .iter()
        .map(|card| {
            let name = card.name.as_ref().and_then(|n| {
                text(n.formatted_name.clone()).or_else(|| {
                    let parts: Vec<&str> =
                        [&n.first_name, &n.last_name].into_iter().flatten().map(|s| s.trim()).collect();
                    text(Some(parts.join(" ")))
                })
            });
            let phones: Vec<String> = card
                .phones
                .iter()
                .filter_map(|p| text(p.phone.clone()).or_else(|| p.wa_id.as_deref().map(e164)))
                .collect();
            match (name, phones.is_empty()) {
                (Some(name), true) => format!("👤 {name}"),
                (Some(name), false) => format!("👤 {name}: {}", phones.join(", ")),
                (None, _) => format!("👤 {}", phones.join(", ")),
            }
        })
        .filter(|l| l != "👤 ")
        .collect();
    (!lines.is_empty()).then(|| lines.join("\n"))
}

/// One `messages[]` (or `message_echoes[]`) item. A reaction is a [`InboundEvent::Reaction`];
/// system notices (number changed) and `request_welcome` carry no words of the customer and are
/// skipped; a type we do not know is kept with a placeholder body, so the agent sees that the
/// customer wrote.
fn message_event(message: WaMessage, contacts: &[Contact], echo: bool) -> Result<Option<InboundEvent>, ChannelError> {
    let id = message.id.clone().ok_or_else(|| malformed("`id` is missing"))?;
    let sender = customer(&message, contacts, echo)?;
    let sent_at = time(message.timestamp.as_ref(), "timestamp")?;
    let kind = message.kind.clone().unwrap_or_default();
    let (body, attachments) = match kind.as_str() {
        "text" => (text(message.text.and_then(|t| t.body)), Vec::new()),
        "image" => media("image", message.image.as_ref()),
        "video" => media("video", message.video.as_ref()),
        "audio" => media("audio", message.audio.as_ref()),
        "document" => media("document", message.document.as_ref()),
        "sticker" => media("sticker", message.sticker.as_ref()),
        "location" => {
            let pin = message.location.as_ref().and_then(|l| {
                meta::pin_text(l.name.as_deref(), l.address.as_deref(), l.latitude.as_ref(), l.longitude.as_ref())
            });
            (pin, vec![bare("location")])
        }
        "contacts" => (contacts_text(&message.contacts), vec![bare("contacts")]),
        "interactive" => {
            let reply = message.interactive.as_ref();
            let choice = reply.and_then(|i| i.button_reply.as_ref().or(i.list_reply.as_ref()));
            let body = choice
                .and_then(|c| text(c.title.clone()).or_else(|| text(c.id.clone())))
                .or_else(|| {
                    reply
                        .and_then(|i| i.nfm_reply.as_ref())
                        .and_then(|f| text(f.body.clone()).or_else(|| text(f.name.clone())))
                })
                .unwrap_or_else(|| meta::UNSUPPORTED.to_owned());
            (Some(body), Vec::new())
        }
        "button" => (message.button.and_then(|b| text(b.text).or_else(|| text(b.payload))), Vec::new()),
        "reaction" => {
            if echo {
                // The business reacting from its own app changes nothing a customer said.
                return Ok(None);
            }
            let reaction = message.reaction.ok_or_else(|| malformed("`reaction` is missing"))?;
            let target = reaction.message_id.ok_or_else(|| malformed("`reaction.message_id` is missing"))?;
            let at = sent_at.ok_or_else(|| malformed("`timestamp` is missing"))?;
            // Meta leaves `emoji` out (or empty) when the customer takes the reaction back.
            let emoji = text(reaction.emoji);
            return Ok(Some(InboundEvent::Reaction { sender, target_platform_message_id: target, emoji, at }));
        }
        "order" => {
            let order = message.order.as_ref();
            let count = order.map_or(0, |o| o.product_items.len());
            let mut body = format!("🛒 Order of {count} item(s)");
            if let Some(note) = order.and_then(|o| text(o.text.clone())) {
                body.push_str(&format!(": {note}"));
            }
            (Some(body), Vec::new())
        }
        "system" | "request_welcome" => return Ok(None),
        _ => {
            // `unsupported` (older: `unknown`) says why in `errors[]`; newer types are kept too.
            let why = message.errors.first().and_then(|e| text(e.title.clone()).or_else(|| text(e.message.clone())));
            (
                Some(why.map_or_else(|| meta::UNSUPPORTED.to_owned(), |w| format!("{} {w}", meta::UNSUPPORTED))),
                Vec::new(),
            )
        }
    };
    let thread = match message.group_id {
        Some(group) => ThreadRef::Public { root_id: group, title: None },
        None => ThreadRef::Direct { key: None },
    };
    let item = InboundItem { platform_message_id: id, sender, thread, body, attachments, sent_at };
    Ok(Some(if echo { InboundEvent::Echo(item) } else { InboundEvent::Message(item) }))
}

/// One `statuses[]` item. `sent`, `delivered`, `read` and `failed` (with the platform's first
/// error) are receipts; the rare others (`deleted`, `warning`, `played`) change nothing we track.
fn status_event(status: Status) -> Result<Option<InboundEvent>, ChannelError> {
    let id = status.id.ok_or_else(|| malformed("`id` is missing"))?;
    let delivery = match status.status.as_deref() {
        Some("sent") => DeliveryStatus::Sent,
        Some("delivered") => DeliveryStatus::Delivered,
        Some("read") => DeliveryStatus::Read,
        Some("failed") => DeliveryStatus::Failed,
        Some(_) => return Ok(None),
        None => return Err(malformed("`status` is missing")),
    };
    let at = time(status.timestamp.as_ref(), "timestamp")?;
    let error = (delivery == DeliveryStatus::Failed).then(|| {
        let first = status.errors.into_iter().next();
        let code = match first.as_ref().and_then(|e| e.code.as_ref()) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => "unknown".to_owned(),
        };
        let message = first
            .and_then(|e| {
                text(e.title).or_else(|| text(e.message)).or_else(|| e.error_data.and_then(|d| text(d.details)))
            })
            .unwrap_or_else(|| "WhatsApp reported the message as failed".to_owned());
        MessageError { code, message }
    });
    Ok(Some(InboundEvent::Status(StatusUpdate { platform_message_id: id, status: delivery, error, at })))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;
    use switchboard_domain::Attachment;

    use super::*;
    use crate::meta::testing::*;
    use crate::webhook::Method;

    const PHONE_NUMBER_ID: &str = "420000000000777";

    fn only(body: &str) -> InboundEvent {
        only_event(handle, body, ChannelKind::Whatsapp, PHONE_NUMBER_ID)
    }

    fn attachment(kind: &str, media_id: Option<&str>, mime: Option<&str>, filename: Option<&str>) -> Attachment {
        Attachment {
            kind: kind.into(),
            url: None,
            media_id: media_id.map(Into::into),
            mime_type: mime.map(Into::into),
            filename: filename.map(Into::into),
        }
    }

    /// A one-message `messages` change around `message`.
    fn delivery(message: Value) -> String {
        json!({"object": "whatsapp_business_account", "entry": [{"id": "310000000000001", "changes": [{
            "field": "messages",
            "value": {"messaging_product": "whatsapp",
                      "metadata": {"display_phone_number": "15550001111", "phone_number_id": PHONE_NUMBER_ID},
                      "contacts": [{"profile": {"name": "Mira Lindqvist"}, "wa_id": "447700900123"}],
                      "messages": [message]}}]}]})
        .to_string()
    }

    /// Every inbound example payload of the platform.
    const INBOUND: &[&str] = &[
        include_str!("../../../fixtures/channels/whatsapp/message_document.json"),
        include_str!("../../../fixtures/channels/whatsapp/message_image.json"),
        include_str!("../../../fixtures/channels/whatsapp/message_interactive_button_reply.json"),
        include_str!("../../../fixtures/channels/whatsapp/message_interactive_list_reply.json"),
        include_str!("../../../fixtures/channels/whatsapp/message_location.json"),
        include_str!("../../../fixtures/channels/whatsapp/message_reaction.json"),
        include_str!("../../../fixtures/channels/whatsapp/message_template_button.json"),
        include_str!("../../../fixtures/channels/whatsapp/message_text.json"),
        include_str!("../../../fixtures/channels/whatsapp/status_delivered.json"),
        include_str!("../../../fixtures/channels/whatsapp/status_failed_131047.json"),
    ];

    #[test]
    fn every_inbound_example_parses_into_one_event_of_this_line() {
        for body in INBOUND {
            assert_eq!(events_of(handle, body, ChannelKind::Whatsapp, PHONE_NUMBER_ID).len(), 1, "{body}");
        }
    }

    #[test]
    fn every_signature_test_vector_verifies() {
        check_vectors(handle, include_str!("../../../fixtures/channels/whatsapp/signature_test_vector.txt"));
    }

    #[test]
    fn the_verification_request_fixture_is_answered_with_its_challenge() {
        let fixture = include_str!("../../../fixtures/channels/whatsapp/verification_request.txt");
        let target = fixture.lines().next().and_then(|l| l.split(' ').nth(1)).unwrap();
        let query: Vec<(String, String)> =
            form_urlencoded::parse(target.split_once('?').unwrap().1.as_bytes()).into_owned().collect();
        let req = WebhookRequest { method: Method::Get, url: target, query: &query, headers: &[], body: b"" };
        assert_eq!(handle(&req, &secrets()).unwrap(), Parsed::answer_only(Answer::Text("1987654321".into())));
        let mut other = secrets();
        other.insert("verify_token".into(), "someone-else".into());
        assert!(matches!(handle(&req, &other), Err(ChannelError::Unauthenticated(_))));
    }

    #[test]
    fn a_text_names_the_customer_by_wa_id_with_profile_name_and_phone() {
        let m = message(only(include_str!("../../../fixtures/channels/whatsapp/message_text.json")));
        assert_eq!(m.platform_message_id, "wamid.TESTabc123MIRA0001");
        assert_eq!(m.sender.external_id, "447700900123");
        assert_eq!(m.sender.name.as_deref(), Some("Mira Lindqvist"));
        assert_eq!(m.sender.phone.as_deref(), Some("+447700900123"));
        assert_eq!(m.thread, ThreadRef::Direct { key: None });
        assert_eq!(m.body.as_deref(), Some("Hello, my parcel 88-1932 has not arrived yet."));
        assert!(m.attachments.is_empty());
        assert_eq!(m.sent_at.unwrap().unix_timestamp(), 1_767_225_600);
    }

    #[test]
    fn an_image_keeps_its_media_id_mime_type_and_caption() {
        let m = message(only(include_str!("../../../fixtures/channels/whatsapp/message_image.json")));
        assert_eq!(m.platform_message_id, "wamid.TESTabc123MIRA0002");
        assert_eq!(m.body.as_deref(), Some("Damaged box"));
        assert_eq!(m.attachments, vec![attachment("image", Some("1111222233334444"), Some("image/jpeg"), None)]);
    }

    #[test]
    fn a_document_keeps_its_filename_and_caption() {
        let m = message(only(include_str!("../../../fixtures/channels/whatsapp/message_document.json")));
        assert_eq!(m.platform_message_id, "wamid.TESTabc123MIRA0007");
        assert_eq!(m.body.as_deref(), Some("Invoice"));
        assert_eq!(
            m.attachments,
            vec![attachment("document", Some("5555666677778888"), Some("application/pdf"), Some("invoice-5520.pdf"))]
        );
    }

    #[test]
    fn audio_video_and_stickers_are_attachments_without_a_body() {
        for kind in ["audio", "video", "sticker"] {
            let m =
                message(only(&delivery(json!({"from": "447700900123", "id": "wamid.M", "timestamp": "1767225600",
                "type": kind, kind: {"id": "77", "mime_type": "x/y", "voice": true}}))));
            assert_eq!(m.body, None);
            assert_eq!(m.attachments, vec![attachment(kind, Some("77"), Some("x/y"), None)]);
        }
    }

    #[test]
    fn a_location_reads_as_a_pin_with_name_address_and_coordinates() {
        let m = message(only(include_str!("../../../fixtures/channels/whatsapp/message_location.json")));
        assert_eq!(m.platform_message_id, "wamid.TESTabc123MIRA0006");
        assert_eq!(m.body.as_deref(), Some("📍 Pickup point 12, 1 Example Road, London (51.50135, -0.14189)"));
        assert_eq!(m.attachments, vec![attachment("location", None, None, None)]);
    }

    #[test]
    fn a_button_reply_and_a_list_reply_read_as_their_titles() {
        let button =
            message(only(include_str!("../../../fixtures/channels/whatsapp/message_interactive_button_reply.json")));
        assert_eq!(button.platform_message_id, "wamid.TESTabc123MIRA0003");
        assert_eq!(button.body.as_deref(), Some("Very happy"));
        let list =
            message(only(include_str!("../../../fixtures/channels/whatsapp/message_interactive_list_reply.json")));
        assert_eq!(list.platform_message_id, "wamid.TESTabc123MIRA0004");
        assert_eq!(list.body.as_deref(), Some("Refund"));
        assert_eq!(list.sender.external_id, "447700900123");
    }

    #[test]
    fn a_template_quick_reply_reads_as_the_button_text() {
        let m = message(only(include_str!("../../../fixtures/channels/whatsapp/message_template_button.json")));
        assert_eq!(m.platform_message_id, "wamid.TESTabc123MIRA0005");
        assert_eq!(m.body.as_deref(), Some("Reopen ticket"));
        assert_eq!(m.sent_at.unwrap().unix_timestamp(), 1_767_312_000);
    }

    #[test]
    fn a_reaction_targets_the_message_it_reacts_to() {
        match only(include_str!("../../../fixtures/channels/whatsapp/message_reaction.json")) {
            InboundEvent::Reaction { sender, target_platform_message_id, emoji, at } => {
                assert_eq!(sender.external_id, "447700900123");
                assert_eq!(sender.name.as_deref(), Some("Mira Lindqvist"));
                assert_eq!(target_platform_message_id, "wamid.TESTbusinessOUT0009");
                assert_eq!(emoji.as_deref(), Some("👍"));
                assert_eq!(at.unix_timestamp(), 1_767_225_960);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_reaction_without_an_emoji_takes_it_back() {
        for reaction in [json!({"message_id": "wamid.OUT"}), json!({"message_id": "wamid.OUT", "emoji": ""})] {
            let event = only(&delivery(json!({"from": "447700900123", "id": "wamid.R", "timestamp": "1767225960",
                "type": "reaction", "reaction": reaction})));
            assert!(matches!(event, InboundEvent::Reaction { emoji: None, .. }), "{event:?}");
        }
    }

    #[test]
    fn shared_contacts_read_as_names_and_phones() {
        let m = message(only(&delivery(json!({"from": "447700900123", "id": "wamid.C", "timestamp": "1767225600",
        "type": "contacts", "contacts": [
            {"name": {"formatted_name": "Ola Nordmann", "first_name": "Ola"},
             "phones": [{"phone": "+47 912 34 567", "wa_id": "4791234567", "type": "CELL"}, {"wa_id": "4722"}]},
            {"name": {"first_name": "Kari", "last_name": "Hansen"}, "phones": []}
        ]}))));
        assert_eq!(m.body.as_deref(), Some("👤 Ola Nordmann: +47 912 34 567, +4722\n👤 Kari Hansen"));
        assert_eq!(m.attachments, vec![attachment("contacts", None, None, None)]);
    }

    #[test]
    fn a_status_delivered_is_a_receipt_for_the_outbound_wamid() {
        match only(include_str!("../../../fixtures/channels/whatsapp/status_delivered.json")) {
            InboundEvent::Status(s) => {
                assert_eq!(s.platform_message_id, "wamid.TESTbusinessOUT0009");
                assert_eq!(s.status, DeliveryStatus::Delivered);
                assert_eq!(s.error, None);
                assert_eq!(s.at.unwrap().unix_timestamp(), 1_767_225_700);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_status_failed_131047_carries_the_code_and_title() {
        match only(include_str!("../../../fixtures/channels/whatsapp/status_failed_131047.json")) {
            InboundEvent::Status(s) => {
                assert_eq!(s.platform_message_id, "wamid.TESTbusinessOUT0042");
                assert_eq!(s.status, DeliveryStatus::Failed);
                assert_eq!(
                    s.error,
                    Some(MessageError { code: "131047".into(), message: "Re-engagement message".into() })
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_failure_without_a_title_takes_the_details() {
        let body = json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages",
            "value": {"metadata": {"phone_number_id": PHONE_NUMBER_ID}, "statuses": [
                {"id": "wamid.O", "status": "failed", "timestamp": "1767400000", "recipient_id": "4477",
                 "errors": [{"code": "131026", "error_data": {"details": "Receiver is incapable"}}]},
                {"id": "wamid.P", "status": "warning", "timestamp": "1767400000"}]}}]}]});
        match only(&body.to_string()) {
            InboundEvent::Status(s) => {
                assert_eq!(
                    s.error,
                    Some(MessageError { code: "131026".into(), message: "Receiver is incapable".into() })
                )
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn every_entry_change_message_and_status_of_a_batch_is_returned_per_number() {
        let value = |number: &str, messages: Value, statuses: Value| {
            json!({"field": "messages", "value": {"metadata": {"phone_number_id": number},
                "contacts": [{"profile": {"name": "A"}, "wa_id": "111"}, {"profile": {"name": "B"}, "wa_id": "222"}],
                "messages": messages, "statuses": statuses}})
        };
        let text = |id: &str, from: &str| json!({"from": from, "id": id, "timestamp": "1767225600", "type": "text", "text": {"body": id}});
        let status = |id: &str, s: &str| json!({"id": id, "status": s, "timestamp": "1767225600"});
        let body = json!({"object": "whatsapp_business_account", "entry": [
            {"id": "W1", "changes": [
                value("N1", json!([text("a1", "111"), text("a2", "222")]), json!([status("o1", "sent"), status("o1", "read")])),
                {"field": "message_template_status_update", "value": {"event": "APPROVED"}},
                value("N2", json!([text("b1", "111")]), json!([]))]},
            {"id": "W2", "changes": [value("N1", json!([text("a3", "222")]), json!(null))]}
        ]});
        let lines = lines(handle, &body.to_string());
        let summary: Vec<(String, Vec<String>)> = lines
            .into_iter()
            .map(|l| {
                let ids = l
                    .events
                    .into_iter()
                    .map(|e| match e {
                        InboundEvent::Message(m) => {
                            format!("{}<{}:{}", m.platform_message_id, m.sender.external_id, m.sender.name.unwrap())
                        }
                        InboundEvent::Status(s) => format!("{}={}", s.platform_message_id, s.status.as_str()),
                        other => panic!("{other:?}"),
                    })
                    .collect();
                (l.business_id.unwrap(), ids)
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                (
                    "N1".to_owned(),
                    vec!["a1<111:A".into(), "a2<222:B".into(), "o1=sent".into(), "o1=read".into(), "a3<222:B".into()]
                ),
                ("N2".to_owned(), vec!["b1<111:A".into()]),
            ]
        );
    }

    #[test]
    fn a_wa_id_that_differs_from_the_number_is_the_identity_and_the_number_the_phone() {
        let body = json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages",
            "value": {"metadata": {"phone_number_id": PHONE_NUMBER_ID},
                "contacts": [{"profile": {"name": "Rui"}, "wa_id": "5511987654321"}],
                "messages": [{"from": "551187654321", "id": "wamid.X", "timestamp": "1767225600", "type": "text",
                              "text": {"body": "oi"}}]}}]}]});
        let m = message(only(&body.to_string()));
        assert_eq!(m.sender.external_id, "5511987654321");
        assert_eq!(m.sender.phone.as_deref(), Some("+551187654321"));
        assert_eq!(m.sender.name.as_deref(), Some("Rui"));
    }

    #[test]
    fn unsupported_and_unknown_types_are_kept_and_system_notices_skipped() {
        let m = message(only(&delivery(json!({"from": "447700900123", "id": "wamid.U", "timestamp": "1767225600",
            "type": "unsupported", "errors": [{"code": 131051, "title": "Message type unknown"}]}))));
        assert_eq!(m.body.as_deref(), Some("[unsupported message] Message type unknown"));
        let m = message(only(&delivery(json!({"from": "447700900123", "id": "wamid.V", "timestamp": "1767225600",
            "type": "order", "order": {"catalog_id": "c", "text": "Gift wrap", "product_items": [{}, {}]}}))));
        assert_eq!(m.body.as_deref(), Some("🛒 Order of 2 item(s): Gift wrap"));
        let m = message(only(&delivery(json!({"from": "447700900123", "id": "wamid.F", "timestamp": "1767225600",
            "type": "interactive",
            "interactive": {"type": "nfm_reply", "nfm_reply": {"name": "flow", "body": "Sent", "response_json": "{}"}}}))));
        assert_eq!(m.body.as_deref(), Some("Sent"));
        let system = delivery(json!({"from": "447700900123", "id": "wamid.S", "timestamp": "1767225600",
            "type": "system", "system": {"body": "changed number", "type": "customer_changed_number"}}));
        assert_eq!(post(handle, system.as_bytes()).unwrap().lines, Vec::new());
    }

    #[test]
    fn a_group_message_belongs_to_the_group_thread() {
        let m = message(only(&delivery(json!({"from": "447700900123", "id": "wamid.G", "timestamp": "1767225600",
            "group_id": "G-77", "type": "text", "text": {"body": "hi all"}}))));
        assert_eq!(m.thread, ThreadRef::Public { root_id: "G-77".into(), title: None });
        assert_eq!(m.sender.external_id, "447700900123");
    }

    #[test]
    fn a_message_sent_from_the_business_app_is_an_echo_to_the_customer() {
        let body = json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{
            "field": "smb_message_echoes",
            "value": {"metadata": {"phone_number_id": PHONE_NUMBER_ID}, "message_echoes": [
                {"from": "15550001111", "to": "447700900123", "id": "wamid.E", "timestamp": "1767225600",
                 "type": "text", "text": {"body": "On its way"}}]}}]}]});
        let e = echo(only(&body.to_string()));
        assert_eq!(e.platform_message_id, "wamid.E");
        assert_eq!(e.sender.external_id, "447700900123");
        assert_eq!(e.body.as_deref(), Some("On its way"));
    }

    #[test]
    fn broken_messages_and_statuses_are_malformed_with_their_place() {
        for (message, needle) in [
            (json!({"from": "4477", "timestamp": "1", "type": "text"}), "messages[0]: `id`"),
            (json!({"id": "w", "timestamp": "1", "type": "text"}), "`from`"),
            (json!({"from": "4477", "id": "w", "timestamp": "99999999999999999", "type": "text"}), "timestamp"),
            (json!({"from": "4477", "id": "w", "type": "reaction", "reaction": {"message_id": "x"}}), "timestamp"),
            (json!({"from": "4477", "id": "w", "timestamp": "1", "type": "text", "text": {"body": 5}}), "changes[0]"),
        ] {
            let err = post(handle, delivery(message).as_bytes()).unwrap_err();
            assert!(matches!(&err, ChannelError::Malformed(m) if m.contains(needle)), "{err:?} lacks {needle}");
        }
    }

    const TYPES: &[&str] =
        &["text", "image", "location", "contacts", "interactive", "button", "reaction", "order", "x"];

    proptest! {
        #[test]
        fn almost_right_deliveries_never_panic(body in arb_mutated(INBOUND)) {
            let _ = post(handle, body.to_string().as_bytes());
        }

        #[test]
        fn arbitrary_signed_deliveries_never_panic(body in arb_delivery("whatsapp_business_account")) {
            let _ = post(handle, body.to_string().as_bytes());
        }

        #[test]
        fn arbitrary_messages_never_panic(message in arb_json(), kind in prop::sample::select(TYPES)) {
            let mut message = message;
            if let Value::Object(map) = &mut message {
                map.insert("type".into(), kind.into());
                map.insert("id".into(), "wamid.P".into());
                map.insert("from".into(), "4477".into());
            }
            let _ = post(handle, delivery(message).as_bytes());
        }
    }
}
