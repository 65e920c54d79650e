//! SMS through JustCall (`POST /webhooks/justcall/{account_id}`).
//!
//! JustCall's "dynamic webhook signature" (version `v1`) is
//! `x-justcall-signature = hex(HMAC-SHA256(secret, secret + "|" + encodeURIComponent(webhook_url) + "|" + type +
//! "|" + x-justcall-request-timestamp))`, keyed with the API key's secret. **The body is not covered**: the
//! signature proves the caller knows the secret, and binds the URL, the event type and the time, but not the
//! message. JustCall's documentation names the key "API key secret"; the account may hold it as `webhook_secret`
//! or `api_secret`, and either verifies.
//!
//! The body: `{"request_id", "webhook_url", "type": "sms.sent_received", "data": {"id", "contact_number",
//! "contact_name", "contact_email", "justcall_number", "sms_date", "sms_time", "direction": "Incoming" |
//! "Outgoing", "sms_info": {"body"}}}`.
//!
//! What becomes what: an SMS event with direction `Incoming` → [`InboundEvent::Message`] keyed by `data.id`, sender =
//! the contact's number in E.164; `Outgoing` (sent from the JustCall app) → [`InboundEvent::Echo`]. Other event
//! types (calls, WhatsApp, contacts) and SMS status updates, whose fields are not documented, are skipped.
//!
//! Sending (`POST /v2.1/texts/new` with the `api_key` and `api_secret`) lives in [`outbound`]; [`send`] is its
//! entry point.

use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;
use subtle::ConstantTimeEq;
use switchboard_domain::{Attachment, ChannelKind, InboundEvent, InboundItem, InboundSender, ThreadRef};
use time::macros::format_description;
use time::{PrimitiveDateTime, UtcOffset};

use crate::ChannelError;
use crate::webhook::{Answer, LineEvents, Method, Parsed, Secrets, WebhookRequest, secret};

pub mod outbound;
pub use outbound::send;

/// The header that carries the signature.
pub const SIGNATURE_HEADER: &str = "x-justcall-signature";
/// The header that names the signature scheme (`v1`).
pub const VERSION_HEADER: &str = "x-justcall-signature-version";
/// The header with the signed time, `YYYY-MM-DD HH:MM:SS`.
pub const TIMESTAMP_HEADER: &str = "x-justcall-request-timestamp";

fn unauthenticated(reason: &str) -> ChannelError {
    ChannelError::Unauthenticated(reason.to_owned())
}

/// JavaScript's `encodeURIComponent`, which JustCall applies to the URL before signing.
fn encode_uri_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for byte in s.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The signature JustCall sends for an event of `event_type` posted to `webhook_url` at `timestamp`.
pub fn sign(secret: &str, webhook_url: &str, event_type: &str, timestamp: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    let payload = format!("{secret}|{}|{event_type}|{timestamp}", encode_uri_component(webhook_url));
    mac.update(payload.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The envelope fields the signature covers; read before anything is proven, so only these.
#[derive(Deserialize)]
struct Envelope {
    #[serde(rename = "type")]
    kind: Option<String>,
    webhook_url: Option<String>,
}

/// Verifies and parses one webhook call.
pub fn handle(req: &WebhookRequest<'_>, secrets: &Secrets) -> Result<Parsed, ChannelError> {
    let keys: Vec<&str> =
        ["webhook_secret", "api_secret"].into_iter().filter_map(|name| secret(secrets, name).ok()).collect();
    if keys.is_empty() {
        return Err(ChannelError::MissingSecret("webhook_secret"));
    }
    if req.method != Method::Post {
        return Err(unauthenticated("JustCall only sends signed POST requests"));
    }
    let given = req.header(SIGNATURE_HEADER).ok_or_else(|| unauthenticated("missing x-justcall-signature"))?;
    let timestamp =
        req.header(TIMESTAMP_HEADER).ok_or_else(|| unauthenticated("missing x-justcall-request-timestamp"))?;
    if let Some(version) = req.header(VERSION_HEADER).filter(|v| !v.trim().eq_ignore_ascii_case("v1")) {
        return Err(ChannelError::Unauthenticated(format!("unknown signature version {version:?}")));
    }
    // The signed event type lives in the body, so the body must be read first; one we cannot read cannot be
    // authenticated.
    let envelope: Envelope =
        serde_json::from_slice(req.body).map_err(|_| unauthenticated("the body is not a JustCall event"))?;
    let kind = envelope.kind.ok_or_else(|| unauthenticated("the body has no type to check the signature with"))?;
    // The URL JustCall signs is the one configured there: the address we were called at, or, behind a proxy that
    // rewrites it, the `webhook_url` it reports. Both are checked with the secret, so neither lets a stranger in.
    let urls: Vec<&str> = std::iter::once(req.url).chain(envelope.webhook_url.as_deref()).collect();
    let given = given.trim().to_ascii_lowercase();
    let mut ok = false;
    for key in &keys {
        for url in &urls {
            ok |= bool::from(sign(key, url, &kind, timestamp).as_bytes().ct_eq(given.as_bytes()));
        }
    }
    if !ok {
        return Err(unauthenticated("x-justcall-signature does not match"));
    }
    let (business_id, events) = parse(req.body)?;
    if events.is_empty() {
        return Ok(Parsed::answer_only(ack()));
    }
    Ok(Parsed { lines: vec![LineEvents { kind: ChannelKind::Justcall, business_id, events }], answer: ack() })
}

/// What to answer for an authenticated body we could not parse: a plain 200.
pub fn ack() -> Answer {
    Answer::Empty
}

#[derive(Deserialize)]
struct Event {
    #[serde(rename = "type")]
    kind: String,
    data: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct Sms {
    id: serde_json::Value,
    contact_number: Option<String>,
    contact_name: Option<String>,
    contact_email: Option<String>,
    justcall_number: Option<String>,
    sms_date: Option<String>,
    sms_time: Option<String>,
    direction: Option<String>,
    sms_info: Option<SmsInfo>,
}

#[derive(Deserialize)]
struct SmsInfo {
    body: Option<String>,
    /// Media of an MMS; JustCall does not document the shape, so each item is read defensively.
    mms: Option<Vec<serde_json::Value>>,
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

/// A phone number in E.164. JustCall writes international numbers without the `+` (`14155559876`).
pub fn e164(number: &str) -> Option<String> {
    let digits: String = number.chars().filter(|c| c.is_ascii_digit()).collect();
    (!digits.is_empty()).then(|| format!("+{digits}"))
}

/// Parses an authenticated body into the JustCall number it concerns and its events.
pub fn parse(body: &[u8]) -> Result<(Option<String>, Vec<InboundEvent>), ChannelError> {
    let event: Event =
        serde_json::from_slice(body).map_err(|e| ChannelError::Malformed(format!("not a JustCall event: {e}")))?;
    // `sms.sent_received` is documented; the other SMS type names are not, so any `sms…` type is read, except
    // status updates, whose fields are unknown.
    let kind = event.kind.to_ascii_lowercase();
    if !kind.starts_with("sms") || kind.contains("status") {
        return Ok((None, Vec::new()));
    }
    let data = event.data.ok_or_else(|| ChannelError::Malformed("an SMS event needs data".into()))?;
    let sms: Sms = serde_json::from_value(data).map_err(|e| ChannelError::Malformed(format!("data: {e}")))?;
    let id = match &sms.id {
        serde_json::Value::Number(n) => n.to_string(),
        serde_json::Value::String(s) if !s.trim().is_empty() => s.trim().to_owned(),
        _ => return Err(ChannelError::Malformed("data.id is not a message id".into())),
    };
    let outbound = match sms.direction.as_deref().map(|d| d.trim().to_ascii_lowercase()).as_deref() {
        Some("incoming" | "inbound") => false,
        Some("outgoing" | "outbound") => true,
        other => {
            return Err(ChannelError::Malformed(format!("data.direction {other:?} is neither Incoming nor Outgoing")));
        }
    };
    let phone = sms
        .contact_number
        .as_deref()
        .and_then(e164)
        .ok_or_else(|| ChannelError::Malformed("data.contact_number is missing".into()))?;
    let sender = InboundSender {
        external_id: phone.clone(),
        name: non_empty(sms.contact_name),
        phone: Some(phone),
        email: non_empty(sms.contact_email),
        ..InboundSender::default()
    };
    let sent_at = match (non_empty(sms.sms_date), non_empty(sms.sms_time)) {
        (Some(date), Some(time)) => {
            // JustCall gives `sms_date`/`sms_time` in UTC next to `sms_user_*` in the agent's zone.
            let format = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
            let at = PrimitiveDateTime::parse(&format!("{date} {time}"), format)
                .map_err(|_| ChannelError::Malformed("data.sms_date / sms_time are not a date and time".into()))?;
            Some(at.assume_offset(UtcOffset::UTC))
        }
        _ => None,
    };
    let (body, attachments) = match sms.sms_info {
        Some(info) => (non_empty(info.body), info.mms.unwrap_or_default().iter().filter_map(attachment).collect()),
        None => (None, Vec::new()),
    };
    let item = InboundItem {
        platform_message_id: id,
        sender,
        thread: ThreadRef::Direct { key: None },
        body,
        attachments,
        sent_at,
    };
    let event = if outbound { InboundEvent::Echo(item) } else { InboundEvent::Message(item) };
    Ok((sms.justcall_number.as_deref().and_then(e164), vec![event]))
}

fn attachment(media: &serde_json::Value) -> Option<Attachment> {
    let field = |names: &[&str]| names.iter().find_map(|n| media.get(*n).and_then(|v| v.as_str())).map(str::to_owned);
    let url = match media {
        serde_json::Value::String(url) => Some(url.clone()),
        _ => field(&["media_url", "url", "link"]),
    }?;
    let mime_type = field(&["content_type", "mime_type", "type"]).filter(|m| m.contains('/'));
    let kind = match mime_type.as_deref() {
        Some(m) if m.starts_with("image/") => "image",
        Some(m) if m.starts_with("video/") => "video",
        Some(m) if m.starts_with("audio/") => "audio",
        _ => "document",
    };
    Some(Attachment { kind: kind.to_owned(), url: Some(url), media_id: None, mime_type, filename: None })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::OffsetDateTime;

    const SECRET: &str = "helpdesk-test-justcall-secret";
    const URL: &str = "https://hd.example.test/webhooks/justcall";
    const FIXTURE: &str = include_str!("../../../fixtures/channels/sms/justcall_sms_received.json");

    fn secrets(name: &str) -> Secrets {
        let mut s = Secrets::new();
        s.insert(name.into(), SECRET.into());
        s.insert("api_key".into(), "key".into());
        s
    }

    /// The headers the fixture shows under `_headers`.
    fn fixture_headers() -> Vec<(String, String)> {
        let v: serde_json::Value = serde_json::from_str(FIXTURE).unwrap();
        v["_headers"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(k, _)| k.starts_with("x-"))
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
            .collect()
    }

    fn call(url: &str, body: &str, headers: &[(String, String)], secrets: &Secrets) -> Result<Parsed, ChannelError> {
        let req = WebhookRequest { method: Method::Post, url, query: &[], headers, body: body.as_bytes() };
        handle(&req, secrets)
    }

    fn without(name: &str) -> Vec<(String, String)> {
        fixture_headers().into_iter().filter(|(k, _)| k != name).collect()
    }

    fn signed(body: &str) -> Result<Parsed, ChannelError> {
        let kind = serde_json::from_str::<serde_json::Value>(body)
            .ok()
            .and_then(|v| v.get("type").and_then(|t| t.as_str()).map(str::to_owned))
            .unwrap_or_default();
        let ts = "2026-01-01 00:20:00";
        let headers = vec![
            (SIGNATURE_HEADER.to_owned(), sign(SECRET, URL, &kind, ts)),
            (TIMESTAMP_HEADER.to_owned(), ts.to_owned()),
        ];
        call(URL, body, &headers, &secrets("webhook_secret"))
    }

    fn dana() -> InboundSender {
        InboundSender {
            external_id: "+14155559876".into(),
            name: Some("Dana Ruiz".into()),
            phone: Some("+14155559876".into()),
            email: Some("dana@example.test".into()),
            ..InboundSender::default()
        }
    }

    #[test]
    fn the_fixture_signature_verifies_and_parses_into_an_incoming_message() {
        let parsed = call(URL, FIXTURE, &fixture_headers(), &secrets("webhook_secret")).unwrap();
        assert_eq!(parsed.answer, Answer::Empty);
        assert_eq!(parsed.lines.len(), 1);
        assert_eq!(parsed.lines[0].kind, ChannelKind::Justcall);
        assert_eq!(parsed.lines[0].business_id.as_deref(), Some("+14155550100"));
        assert_eq!(
            parsed.lines[0].events,
            vec![InboundEvent::Message(InboundItem {
                platform_message_id: "987650001".into(),
                sender: dana(),
                thread: ThreadRef::Direct { key: None },
                body: Some("Is my order 4410 shipped?".into()),
                attachments: vec![],
                sent_at: Some(OffsetDateTime::from_unix_timestamp(1_767_226_800).unwrap()),
            })]
        );
    }

    #[test]
    fn justcalls_published_sample_signature_verifies() {
        // developer.justcall.io, "Dynamic Webhook Signatures".
        assert_eq!(
            sign(
                "ea39089c40790e9dc7a080ec95e849b8fa0fa5fb",
                "https://webhook.site/3bcea770-370a-4b09-8b66-426f687e08a4",
                "call.completed",
                "2024-03-21 17:08:22",
            ),
            "56761bae5b27a784a3ddd2af828bc5def7176bc0a8650199b04c737bd39bbecf"
        );
    }

    #[test]
    fn the_secret_may_be_stored_as_the_api_secret() {
        assert!(call(URL, FIXTURE, &fixture_headers(), &secrets("api_secret")).is_ok());
    }

    #[test]
    fn the_webhook_url_in_the_body_is_accepted_when_the_public_url_differs() {
        let parsed =
            call("https://proxy.internal/webhooks/justcall/7", FIXTURE, &fixture_headers(), &secrets("webhook_secret"));
        assert!(parsed.is_ok());
    }

    #[test]
    fn a_signature_made_with_another_secret_is_refused() {
        let mut other = Secrets::new();
        other.insert("webhook_secret".into(), "another-secret".into());
        let err = call(URL, FIXTURE, &fixture_headers(), &other).unwrap_err();
        assert!(matches!(err, ChannelError::Unauthenticated(_)));
    }

    #[test]
    fn a_tampered_type_or_timestamp_is_refused() {
        let body = FIXTURE.replace("\"type\": \"sms.sent_received\"", "\"type\": \"sms.received\"");
        assert!(matches!(
            call(URL, &body, &fixture_headers(), &secrets("webhook_secret")),
            Err(ChannelError::Unauthenticated(_))
        ));
        let mut headers = fixture_headers();
        for (k, v) in &mut headers {
            if k == TIMESTAMP_HEADER {
                *v = "2026-01-01 00:20:01".into();
            }
        }
        assert!(matches!(
            call(URL, FIXTURE, &headers, &secrets("webhook_secret")),
            Err(ChannelError::Unauthenticated(_))
        ));
    }

    #[test]
    fn the_message_text_is_not_covered_by_the_signature() {
        // JustCall's scheme signs URL, type and time only: a changed text still verifies. Documented here so
        // that nobody mistakes the check for an integrity check.
        let body = FIXTURE.replace("Is my order 4410 shipped?", "Something else");
        let parsed = call(URL, &body, &fixture_headers(), &secrets("webhook_secret")).unwrap();
        let InboundEvent::Message(item) = &parsed.lines[0].events[0] else { panic!("{parsed:?}") };
        assert_eq!(item.body.as_deref(), Some("Something else"));
    }

    #[test]
    fn a_call_for_another_url_is_refused() {
        let body = FIXTURE.replace(URL, "https://elsewhere.test/hook");
        let err =
            call("https://elsewhere.test/hook", &body, &fixture_headers(), &secrets("webhook_secret")).unwrap_err();
        assert!(matches!(err, ChannelError::Unauthenticated(_)));
    }

    #[test]
    fn missing_signature_or_timestamp_headers_are_refused() {
        for name in [SIGNATURE_HEADER, TIMESTAMP_HEADER] {
            let err = call(URL, FIXTURE, &without(name), &secrets("webhook_secret")).unwrap_err();
            assert!(matches!(err, ChannelError::Unauthenticated(m) if m.contains(name)), "{name}");
        }
    }

    #[test]
    fn an_unknown_signature_version_is_refused() {
        let mut headers = without(VERSION_HEADER);
        headers.push((VERSION_HEADER.into(), "v2".into()));
        assert!(matches!(
            call(URL, FIXTURE, &headers, &secrets("webhook_secret")),
            Err(ChannelError::Unauthenticated(_))
        ));
    }

    #[test]
    fn an_account_without_a_secret_cannot_check_anything() {
        let err = call(URL, FIXTURE, &fixture_headers(), &Secrets::new()).unwrap_err();
        assert_eq!(err, ChannelError::MissingSecret("webhook_secret"));
    }

    #[test]
    fn an_outgoing_sms_is_an_echo_to_the_contact() {
        let body = FIXTURE.replace("\"Incoming\"", "\"Outgoing\"");
        let parsed = call(URL, &body, &fixture_headers(), &secrets("webhook_secret")).unwrap();
        let InboundEvent::Echo(item) = &parsed.lines[0].events[0] else { panic!("{parsed:?}") };
        assert_eq!(item.sender, dana());
        assert_eq!(item.platform_message_id, "987650001");
    }

    #[test]
    fn call_events_are_skipped() {
        let body = r#"{"request_id":"r","webhook_url":"https://hd.example.test/webhooks/justcall",
            "type":"call.completed","data":{}}"#;
        assert_eq!(signed(body).unwrap(), Parsed::answer_only(Answer::Empty));
    }

    #[test]
    fn an_authenticated_sms_event_without_the_needed_fields_is_malformed() {
        for data in [r#"{}"#, r#"{"id":1,"direction":"Incoming"}"#, r#"{"id":1,"direction":"x","contact_number":"1"}"#]
        {
            let body = format!(r#"{{"type":"sms.sent_received","data":{data}}}"#);
            assert!(matches!(signed(&body), Err(ChannelError::Malformed(_))), "{data}");
        }
    }

    #[test]
    fn numbers_become_e164() {
        assert_eq!(e164("14155559876").as_deref(), Some("+14155559876"));
        assert_eq!(e164("+1 (415) 555-9876").as_deref(), Some("+14155559876"));
        assert_eq!(e164("n/a"), None);
        assert_eq!(encode_uri_component("https://a.test/x?y=1 2"), "https%3A%2F%2Fa.test%2Fx%3Fy%3D1%202");
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = signed(&String::from_utf8_lossy(&body));
            let _ = parse(&body);
        }

        #[test]
        fn arbitrary_signed_sms_events_never_panic(
            id in prop_oneof![any::<i64>().prop_map(|i| i.to_string()), "\"\\PC{0,8}\"", Just("null".to_owned())],
            direction in "\\PC{0,10}",
            number in "\\PC{0,16}",
            date in "\\PC{0,12}",
            time in "\\PC{0,10}",
            body in "\\PC{0,30}",
        ) {
            let data = serde_json::json!({
                "direction": direction, "contact_number": number, "sms_date": date, "sms_time": time,
                "sms_info": {"body": body, "mms": [{"media_url": body}]},
            });
            let mut data = data;
            data["id"] = serde_json::from_str(&id).unwrap_or(serde_json::Value::Null);
            let event = serde_json::json!({"type": "sms.sent_received", "data": data});
            let _ = signed(&event.to_string());
        }
    }
}
