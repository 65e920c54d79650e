//! Realistic, correctly signed webhook calls of every platform, as the platform would send
//! them when a customer writes: what `switchboard simulate` feeds a running server with (the
//! demo's traffic, the load generator) and what tests use to drive the real routes.
//!
//! Each builder follows the platform's documented payload (see `fixtures/channels/`), and a
//! round-trip test checks that the platform's own adapter reads back what was built.

use serde_json::json;
use sha1::{Digest, Sha1};
use switchboard_domain::ChannelKind;
use time::OffsetDateTime;

use crate::ChannelError;
use crate::signature::hmac_sha256_hex;
use crate::webhook::{Secrets, secret};

/// The line a simulated customer writes to.
#[derive(Debug, Clone, Copy)]
pub struct SimLine<'a> {
    pub kind: ChannelKind,
    /// The platform's id of the business side (phone_number_id, page id, …).
    pub external_id: &'a str,
    pub secrets: &'a Secrets,
    /// The full webhook URL the call goes to (Twilio signs it).
    pub url: &'a str,
}

/// A simulated customer.
#[derive(Debug, Clone)]
pub struct SimCustomer {
    /// The platform's id of the person; for phone channels, digits of their number.
    pub id: String,
    pub name: String,
}

/// A webhook call to send: `POST url?query` with these headers and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimRequest {
    pub query: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// The kinds the simulator can speak.
pub const KINDS: [ChannelKind; 8] = [
    ChannelKind::Whatsapp,
    ChannelKind::Messenger,
    ChannelKind::Instagram,
    ChannelKind::X,
    ChannelKind::Line,
    ChannelKind::Wechat,
    ChannelKind::Telegram,
    ChannelKind::Twilio,
];

/// Secrets for a simulated line of `kind` (every one its kind requires), derived from `seed`.
pub fn secrets_for(kind: ChannelKind, seed: &str) -> Secrets {
    kind.required_secrets()
        .iter()
        .map(|name| {
            // Telegram bot tokens are `<bot id>:<secret>`; the platform refuses any other shape.
            let value =
                if *name == "bot_token" { format!("100200300:sim-{seed}") } else { format!("sim-{name}-{seed}") };
            (name.to_string(), serde_json::Value::String(value))
        })
        .collect()
}

fn json_body(value: serde_json::Value) -> Vec<u8> {
    serde_json::to_vec(&value).unwrap_or_default()
}

fn header(name: &str, value: String) -> (String, String) {
    (name.to_owned(), value)
}

/// The call a platform makes when `customer` sends `text` (with platform id `message_id`) at `at`.
pub fn customer_message(
    line: &SimLine<'_>,
    customer: &SimCustomer,
    message_id: &str,
    text: &str,
    at: OffsetDateTime,
) -> Result<SimRequest, ChannelError> {
    let secs = at.unix_timestamp();
    let millis = (at.unix_timestamp_nanos() / 1_000_000) as i64;
    let post = |headers: Vec<(String, String)>, body: Vec<u8>| SimRequest { query: Vec::new(), headers, body };
    let meta = |body: Vec<u8>| -> Result<SimRequest, ChannelError> {
        let signature = format!("sha256={}", hmac_sha256_hex(secret(line.secrets, "app_secret")?.as_bytes(), &body));
        Ok(post(
            vec![header("x-hub-signature-256", signature), header("content-type", "application/json".into())],
            body,
        ))
    };
    match line.kind {
        ChannelKind::Whatsapp => meta(json_body(json!({
            "object": "whatsapp_business_account",
            "entry": [{"id": "sim-waba", "changes": [{"field": "messages", "value": {
                "messaging_product": "whatsapp",
                "metadata": {"display_phone_number": line.external_id, "phone_number_id": line.external_id},
                "contacts": [{"profile": {"name": customer.name}, "wa_id": customer.id}],
                "messages": [{"from": customer.id, "id": message_id, "timestamp": secs.to_string(),
                              "type": "text", "text": {"body": text}}]
            }}]}]
        }))),
        ChannelKind::Messenger | ChannelKind::Instagram => {
            let object = if line.kind == ChannelKind::Messenger { "page" } else { "instagram" };
            meta(json_body(json!({
                "object": object,
                "entry": [{"id": line.external_id, "time": millis, "messaging": [{
                    "sender": {"id": customer.id}, "recipient": {"id": line.external_id}, "timestamp": millis,
                    "message": {"mid": message_id, "text": text}
                }]}]
            })))
        }
        ChannelKind::X => {
            let body = json_body(json!({
                "for_user_id": line.external_id,
                "direct_message_events": [{"type": "message_create", "id": message_id,
                    "created_timestamp": millis.to_string(),
                    "message_create": {"target": {"recipient_id": line.external_id}, "sender_id": customer.id,
                                       "message_data": {"text": text}}}],
                "users": {customer.id.clone(): {"id": customer.id, "name": customer.name,
                                                "screen_name": customer.name.to_lowercase().replace(' ', "_")}}
            }));
            let signature = crate::x::sign(secret(line.secrets, "consumer_secret")?, &body);
            Ok(post(vec![header("x-twitter-webhooks-signature", signature)], body))
        }
        ChannelKind::Line => {
            let body = json_body(json!({
                "destination": line.external_id,
                "events": [{"type": "message", "mode": "active", "timestamp": millis,
                    "webhookEventId": format!("sim-{message_id}"), "deliveryContext": {"isRedelivery": false},
                    "source": {"type": "user", "userId": customer.id},
                    "replyToken": format!("sim-reply-{message_id}"),
                    "message": {"type": "text", "id": message_id, "text": text}}]
            }));
            let signature = crate::line::sign(secret(line.secrets, "channel_secret")?, &body);
            Ok(post(vec![header("x-line-signature", signature)], body))
        }
        ChannelKind::Telegram => {
            let chat: i64 =
                customer.id.parse().map_err(|_| ChannelError::Malformed("a Telegram id is a number".into()))?;
            let message: i64 =
                message_id.parse().map_err(|_| ChannelError::Malformed("a Telegram message id is a number".into()))?;
            let (first, last) = customer.name.split_once(' ').unwrap_or((&customer.name, ""));
            let person = json!({"id": chat, "is_bot": false, "first_name": first, "last_name": last});
            let body = json_body(json!({
                "update_id": message,
                "message": {"message_id": message, "from": person,
                            "chat": {"id": chat, "type": "private", "first_name": first, "last_name": last},
                            "date": secs, "text": text}
            }));
            let token = secret(line.secrets, "secret_token")?.to_owned();
            Ok(post(vec![header("x-telegram-bot-api-secret-token", token)], body))
        }
        ChannelKind::Wechat => {
            let token = secret(line.secrets, "token")?;
            let (timestamp, nonce) = (secs.to_string(), format!("{}", millis % 1_000_000_007));
            let mut parts = [token, timestamp.as_str(), nonce.as_str()];
            parts.sort_unstable();
            let signature = hex::encode(Sha1::digest(parts.concat().as_bytes()));
            let body = format!(
                "<xml><ToUserName><![CDATA[{}]]></ToUserName><FromUserName><![CDATA[{}]]></FromUserName>\
                 <CreateTime>{secs}</CreateTime><MsgType><![CDATA[text]]></MsgType>\
                 <Content><![CDATA[{}]]></Content><MsgId>{message_id}</MsgId></xml>",
                line.external_id,
                customer.id,
                text.replace("]]>", "]]]]><![CDATA[>")
            );
            Ok(SimRequest {
                query: vec![("signature".into(), signature), ("timestamp".into(), timestamp), ("nonce".into(), nonce)],
                headers: vec![header("content-type", "text/xml".into())],
                body: body.into_bytes(),
            })
        }
        ChannelKind::Twilio => {
            let from = format!("+{}", customer.id.trim_start_matches('+'));
            let params = vec![
                ("AccountSid".to_owned(), secret(line.secrets, "account_sid")?.to_owned()),
                ("Body".to_owned(), text.to_owned()),
                ("From".to_owned(), from),
                ("MessageSid".to_owned(), message_id.to_owned()),
                ("NumMedia".to_owned(), "0".to_owned()),
                ("SmsStatus".to_owned(), "received".to_owned()),
                ("To".to_owned(), line.external_id.to_owned()),
            ];
            let signature = twilio_signature(secret(line.secrets, "auth_token")?, line.url, &params);
            let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(&params).finish();
            Ok(post(
                vec![
                    header("x-twilio-signature", signature),
                    header("content-type", "application/x-www-form-urlencoded".into()),
                ],
                body.into_bytes(),
            ))
        }
        other => Err(ChannelError::Malformed(format!("the simulator does not speak {other}"))),
    }
}

/// Twilio's signature: base64(HMAC-SHA1(auth_token, url + every parameter's name and value,
/// sorted by name)) — the adapter's own.
pub use crate::twilio::sign as twilio_signature;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webhook::{Method, WebhookRequest};
    use switchboard_domain::{InboundEvent, ThreadRef};

    /// Every simulated call is accepted by its platform's adapter and reads back as the one
    /// customer message it was built from.
    #[test]
    fn every_simulated_message_reads_back_through_its_adapter() {
        let at = time::macros::datetime!(2026-11-21 12:00 UTC);
        for kind in KINDS {
            let secrets = secrets_for(kind, "t");
            let url = "https://hd.example.test/webhooks/x/1";
            let line = SimLine { kind, external_id: "15550001111", secrets: &secrets, url };
            let customer = SimCustomer { id: "447700900123".into(), name: "Mira Lindqvist".into() };
            let request = customer_message(&line, &customer, "4242", "Where is my parcel?", at).unwrap();
            let full_url = if request.query.is_empty() {
                url.to_owned()
            } else {
                let q = form_urlencoded::Serializer::new(String::new()).extend_pairs(&request.query).finish();
                format!("{url}?{q}")
            };
            let req = WebhookRequest {
                method: Method::Post,
                url: &full_url,
                query: &request.query,
                headers: &request.headers,
                body: &request.body,
            };
            let parsed = crate::handle(kind, &req, &secrets).unwrap_or_else(|e| panic!("{kind}: {e}"));
            let events: Vec<InboundEvent> = parsed.lines.into_iter().flat_map(|l| l.events).collect();
            let messages: Vec<_> = events
                .iter()
                .filter_map(|e| match e {
                    InboundEvent::Message(m) => Some(m),
                    _ => None,
                })
                .collect();
            assert_eq!(messages.len(), 1, "{kind}: {events:?}");
            let m = messages[0];
            assert!(m.platform_message_id.contains("4242"), "{kind}: {}", m.platform_message_id);
            assert!(m.sender.external_id.contains("447700900123"), "{kind}: {}", m.sender.external_id);
            assert_eq!(m.body.as_deref(), Some("Where is my parcel?"), "{kind}");
            assert!(matches!(m.thread, ThreadRef::Direct { .. }), "{kind}");
        }
    }
}
