//! SMS through Dialpad (`POST /webhooks/dialpad/{account_id}`).
//!
//! A Dialpad webhook created with a `secret` posts its event as a JWT signed with HS256 and that secret:
//! `base64url(header).base64url(claims).base64url(HMAC-SHA256(secret, header.claims))`. The claims are the SMS
//! event: `id`, `created_date` (ms), `direction`, `target` (the Dialpad user, office or department),
//! `contact` (the customer), `from_number`, `to_number[]`, `text` / `text_content`, `mms`, `mms_url`, and on
//! status subscriptions `message_status` / `message_delivery_result`.
//!
//! A webhook without a secret posts plain JSON that anybody could have sent: it is refused, so the account's
//! webhook must be created with the `webhook_secret`.
//!
//! What becomes what: `inbound` → [`InboundEvent::Message`] keyed by `id`, sender = the contact's E.164 number;
//! `outbound` (sent from the Dialpad app, or our own send coming back) → [`InboundEvent::Echo`], plus an
//! [`InboundEvent::Status`] when the event names a delivery result we recognise. The text is only present
//! when the key has the `message_content_export` scope; without it the message is stored with no body.
//!
//! Sending (`POST /api/v2/sms` with the `api_key`) lives in [`outbound`]; [`send`] is its entry point.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as BASE64URL;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;
use subtle::ConstantTimeEq;
use switchboard_domain::{
    Attachment, ChannelKind, DeliveryStatus, InboundEvent, InboundItem, InboundSender, MessageError, StatusUpdate,
    ThreadRef,
};
use time::OffsetDateTime;

use crate::ChannelError;
use crate::webhook::{Answer, LineEvents, Method, Parsed, Secrets, WebhookRequest, secret};

pub mod outbound;
pub use outbound::send;

fn unauthenticated(reason: &str) -> ChannelError {
    ChannelError::Unauthenticated(reason.to_owned())
}

/// A JWT carrying `claims`, signed with HS256 (what Dialpad posts; used to build test calls).
pub fn sign(webhook_secret: &str, claims: &[u8]) -> String {
    let signing_input = format!("{}.{}", BASE64URL.encode(br#"{"alg":"HS256","typ":"JWT"}"#), BASE64URL.encode(claims));
    let signature = mac(webhook_secret, signing_input.as_bytes());
    format!("{signing_input}.{}", BASE64URL.encode(signature))
}

fn mac(webhook_secret: &str, signing_input: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(webhook_secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(signing_input);
    mac.finalize().into_bytes().to_vec()
}

fn decode_segment(segment: &str) -> Option<Vec<u8>> {
    // Some encoders keep the `=` padding that JWTs drop.
    BASE64URL.decode(segment.trim_end_matches('=')).ok()
}

#[derive(Deserialize)]
struct Header {
    alg: String,
}

/// Checks the JWT's HS256 signature in constant time and returns its claims (still unparsed).
pub fn verify(webhook_secret: &str, body: &[u8]) -> Result<Vec<u8>, ChannelError> {
    let text = std::str::from_utf8(body).map_err(|_| unauthenticated("the body is not a JWT"))?.trim();
    if text.starts_with('{') {
        return Err(unauthenticated("unsigned JSON: create the Dialpad webhook with the account's webhook_secret"));
    }
    let mut parts = text.split('.');
    let (Some(header), Some(claims), Some(signature), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(unauthenticated("the body is not a JWT"));
    };
    let given = decode_segment(signature).ok_or_else(|| unauthenticated("the JWT signature is not base64url"))?;
    let signing_input = &text[..header.len() + 1 + claims.len()];
    let expected = mac(webhook_secret, signing_input.as_bytes());
    if !bool::from(expected.ct_eq(&given)) {
        return Err(unauthenticated("the JWT signature does not match"));
    }
    // Only HS256 is accepted, so that a token cannot choose a weaker algorithm (or none) for itself.
    let header: Header = decode_segment(header)
        .and_then(|h| serde_json::from_slice(&h).ok())
        .ok_or_else(|| unauthenticated("the JWT header is unreadable"))?;
    if header.alg != "HS256" {
        return Err(unauthenticated("the JWT is not signed with HS256"));
    }
    decode_segment(claims).ok_or_else(|| ChannelError::Malformed("the JWT claims are not base64url".into()))
}

/// Verifies and parses one webhook call.
pub fn handle(req: &WebhookRequest<'_>, secrets: &Secrets) -> Result<Parsed, ChannelError> {
    let webhook_secret = secret(secrets, "webhook_secret")?;
    if req.method != Method::Post {
        return Err(unauthenticated("Dialpad only sends signed POST requests"));
    }
    let claims = verify(webhook_secret, req.body)?;
    let (business_id, events) = parse(&claims)?;
    if events.is_empty() {
        return Ok(Parsed::answer_only(ack()));
    }
    Ok(Parsed { lines: vec![LineEvents { kind: ChannelKind::Dialpad, business_id, events }], answer: ack() })
}

/// What to answer for an authenticated body we could not parse: any 2xx; Dialpad retries 5xx for an hour.
pub fn ack() -> Answer {
    Answer::Empty
}

#[derive(Deserialize)]
struct SmsEvent {
    id: serde_json::Value,
    /// Milliseconds since the epoch.
    created_date: Option<i64>,
    direction: Option<String>,
    target: Option<Party>,
    contact: Option<Party>,
    from_number: Option<String>,
    /// A list of E.164 numbers; a single string is accepted too.
    to_number: Option<serde_json::Value>,
    text: Option<String>,
    text_content: Option<String>,
    mms_url: Option<String>,
    message_status: Option<String>,
    message_delivery_result: Option<String>,
}

#[derive(Deserialize)]
struct Party {
    name: Option<String>,
    phone_number: Option<String>,
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

/// The id as a string: Dialpad sends a number (beyond JavaScript's safe range), some tools re-encode it as text.
fn id_string(id: &serde_json::Value) -> Option<String> {
    match id {
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::String(s) => non_empty(Some(s.clone())),
        _ => None,
    }
}

/// Parses the JWT claims into the Dialpad number they concern and the events.
pub fn parse(claims: &[u8]) -> Result<(Option<String>, Vec<InboundEvent>), ChannelError> {
    let event: SmsEvent =
        serde_json::from_slice(claims).map_err(|e| ChannelError::Malformed(format!("not a Dialpad SMS event: {e}")))?;
    let id = id_string(&event.id).ok_or_else(|| ChannelError::Malformed("id is not a message id".into()))?;
    let sent_at = event
        .created_date
        .map(|t| {
            // Dialpad documents "a Unix timestamp" and sends milliseconds; a value too small to be milliseconds
            // of this century is read as seconds.
            let nanos =
                if t.abs() < 100_000_000_000 { i128::from(t) * 1_000_000_000 } else { i128::from(t) * 1_000_000 };
            OffsetDateTime::from_unix_timestamp_nanos(nanos)
        })
        .transpose()
        .map_err(|_| ChannelError::Malformed("created_date is out of range".into()))?;
    let to_number = match &event.to_number {
        Some(serde_json::Value::Array(numbers)) => numbers.first().and_then(|n| n.as_str()).map(str::to_owned),
        Some(serde_json::Value::String(number)) => Some(number.clone()),
        _ => None,
    };
    let outbound = match event.direction.as_deref().map(str::to_ascii_lowercase).as_deref() {
        Some("inbound") => false,
        Some("outbound") => true,
        other => return Err(ChannelError::Malformed(format!("unknown direction {other:?}"))),
    };
    let contact = event.contact.as_ref();
    // The contact is the customer whichever way the message went; the numbers say it too.
    let customer_number = non_empty(contact.and_then(|c| c.phone_number.clone()))
        .or_else(|| if outbound { non_empty(to_number.clone()) } else { non_empty(event.from_number.clone()) });
    let customer_number =
        customer_number.ok_or_else(|| ChannelError::Malformed("no contact phone number for the customer".into()))?;
    let our_number = non_empty(event.target.as_ref().and_then(|t| t.phone_number.clone()))
        .or_else(|| if outbound { non_empty(event.from_number.clone()) } else { non_empty(to_number.clone()) });
    let sender = InboundSender {
        external_id: customer_number.clone(),
        name: non_empty(contact.and_then(|c| c.name.clone())),
        phone: Some(customer_number),
        ..InboundSender::default()
    };
    let attachments = non_empty(event.mms_url.clone())
        .map(|url| Attachment {
            kind: kind_of_url(&url).to_owned(),
            url: Some(url),
            media_id: None,
            mime_type: None,
            filename: None,
        })
        .into_iter()
        .collect();
    let item = InboundItem {
        platform_message_id: id.clone(),
        sender,
        thread: ThreadRef::Direct { key: None },
        body: non_empty(event.text.clone()).or_else(|| non_empty(event.text_content.clone())),
        attachments,
        sent_at,
    };
    let mut events = Vec::new();
    if outbound {
        events.push(InboundEvent::Echo(item));
        if let Some(status) = delivery(&event) {
            events.push(InboundEvent::Status(StatusUpdate { platform_message_id: id, at: None, ..status }));
        }
    } else {
        events.push(InboundEvent::Message(item));
    }
    Ok((our_number, events))
}

/// The delivery state an outbound event reports, when it names one we know. Dialpad's value lists are not
/// published; these are the words its API uses, and anything else is left for a later event.
fn delivery(event: &SmsEvent) -> Option<StatusUpdate> {
    let result = event.message_delivery_result.as_deref().or(event.message_status.as_deref())?;
    let lower = result.trim().to_ascii_lowercase();
    let status = match lower.as_str() {
        "pending" | "queued" | "accepted" => DeliveryStatus::Queued,
        "sent" | "success" => DeliveryStatus::Sent,
        "delivered" => DeliveryStatus::Delivered,
        "read" => DeliveryStatus::Read,
        s if s.contains("fail") || s.contains("error") || s.contains("reject") || s.contains("undeliver") => {
            DeliveryStatus::Failed
        }
        _ => return None,
    };
    let error = (status == DeliveryStatus::Failed)
        .then(|| MessageError { code: lower.clone(), message: format!("Dialpad: {}", result.trim()) });
    Some(StatusUpdate { platform_message_id: String::new(), status, error, at: None })
}

fn kind_of_url(url: &str) -> &'static str {
    let path = url.split(['?', '#']).next().unwrap_or_default().to_ascii_lowercase();
    let ext = path.rsplit_once('.').map(|(_, e)| e).unwrap_or_default();
    match ext {
        "jpg" | "jpeg" | "png" | "gif" | "webp" | "bmp" | "heic" => "image",
        "mp4" | "3gp" | "mov" | "webm" => "video",
        "mp3" | "amr" | "ogg" | "wav" | "m4a" => "audio",
        "vcf" => "contacts",
        // MMS are mostly pictures, but without a type we do not claim so.
        _ => "document",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SECRET: &str = "helpdesk-test-dialpad-secret";
    const DECODED: &str = include_str!("../../../fixtures/channels/sms/dialpad_sms_inbound_decoded.json");
    const DANA: &str = "+14155559876";
    const OUR_NUMBER: &str = "+14155550100";

    fn secrets() -> Secrets {
        let mut s = Secrets::new();
        s.insert("webhook_secret".into(), SECRET.into());
        s.insert("api_key".into(), "key".into());
        s
    }

    fn call(body: &str, secrets: &Secrets) -> Result<Parsed, ChannelError> {
        let req = WebhookRequest {
            method: Method::Post,
            url: "https://sb.test/webhooks/dialpad/1",
            query: &[],
            headers: &[],
            body: body.as_bytes(),
        };
        handle(&req, secrets)
    }

    fn events(claims: &str) -> Vec<InboundEvent> {
        let parsed = call(&sign(SECRET, claims.as_bytes()), &secrets()).unwrap();
        assert_eq!(parsed.answer, Answer::Empty);
        assert_eq!(parsed.lines.len(), 1);
        assert_eq!(parsed.lines[0].kind, ChannelKind::Dialpad);
        assert_eq!(parsed.lines[0].business_id.as_deref(), Some(OUR_NUMBER));
        parsed.lines.into_iter().flat_map(|l| l.events).collect()
    }

    fn dana() -> InboundSender {
        InboundSender {
            external_id: DANA.into(),
            name: Some("Dana Ruiz".into()),
            phone: Some(DANA.into()),
            ..InboundSender::default()
        }
    }

    fn outbound(extra: &str) -> String {
        format!(
            r#"{{"id": 5550000000000002, "created_date": 1767225700000, "direction": "outbound",
                "target": {{"id": 1, "type": "office", "name": "Acme Support", "phone_number": "{OUR_NUMBER}"}},
                "contact": {{"id": "c", "name": "Dana Ruiz", "phone_number": "{DANA}"}},
                "from_number": "{OUR_NUMBER}", "to_number": ["{DANA}"], "text": "It ships today." {extra}}}"#
        )
    }

    #[test]
    fn the_decoded_example_signed_as_a_jwt_is_an_inbound_message() {
        assert_eq!(
            events(DECODED),
            vec![InboundEvent::Message(InboundItem {
                platform_message_id: "5550000000000001".into(),
                sender: dana(),
                thread: ThreadRef::Direct { key: None },
                body: Some("Is my order 4410 shipped?".into()),
                attachments: vec![],
                sent_at: Some(OffsetDateTime::from_unix_timestamp(1_767_225_600).unwrap()),
            })]
        );
    }

    #[test]
    fn a_jwt_made_by_another_implementation_verifies() {
        // HS256 over `{"alg":"HS256","typ":"JWT"}` and `{"id":1,"direction":"inbound","from_number":"+1555"}`
        // with key `k`, computed with Python's hmac and base64 modules.
        let jwt = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.\
                   eyJpZCI6MSwiZGlyZWN0aW9uIjoiaW5ib3VuZCIsImZyb21fbnVtYmVyIjoiKzE1NTUifQ.\
                   ErAPKP5qQ7kqj_m0-lLQnO893eprkqf9R5vLRmJ7vrk";
        let claims = verify("k", jwt.as_bytes()).unwrap();
        assert_eq!(claims, br#"{"id":1,"direction":"inbound","from_number":"+1555"}"#);
        assert_eq!(sign("k", &claims), jwt);
    }

    #[test]
    fn plain_json_without_a_signature_is_refused() {
        let err = call(DECODED, &secrets()).unwrap_err();
        assert!(matches!(err, ChannelError::Unauthenticated(m) if m.contains("unsigned")));
    }

    #[test]
    fn a_tampered_body_is_refused() {
        let jwt = sign(SECRET, DECODED.as_bytes());
        let (input, signature) = jwt.rsplit_once('.').unwrap();
        let tampered = DECODED.replace("4410", "4411");
        let (header, _) = input.split_once('.').unwrap();
        let forged = format!("{header}.{}.{signature}", BASE64URL.encode(tampered));
        assert!(matches!(call(&forged, &secrets()), Err(ChannelError::Unauthenticated(_))));
    }

    #[test]
    fn a_jwt_signed_with_another_secret_is_refused() {
        let err = call(&sign("another-secret", DECODED.as_bytes()), &secrets()).unwrap_err();
        assert!(matches!(err, ChannelError::Unauthenticated(m) if m.contains("does not match")));
    }

    #[test]
    fn a_jwt_without_its_signature_is_refused() {
        let jwt = sign(SECRET, DECODED.as_bytes());
        let unsigned = format!("{}.", jwt.rsplit_once('.').unwrap().0);
        assert!(matches!(call(&unsigned, &secrets()), Err(ChannelError::Unauthenticated(_))));
        let two_parts = jwt.rsplit_once('.').unwrap().0;
        assert!(matches!(call(two_parts, &secrets()), Err(ChannelError::Unauthenticated(_))));
    }

    #[test]
    fn a_token_that_claims_another_algorithm_is_refused() {
        let header = BASE64URL.encode(br#"{"alg":"HS512","typ":"JWT"}"#);
        let input = format!("{header}.{}", BASE64URL.encode(DECODED));
        let jwt = format!("{input}.{}", BASE64URL.encode(mac(SECRET, input.as_bytes())));
        let err = call(&jwt, &secrets()).unwrap_err();
        assert!(matches!(err, ChannelError::Unauthenticated(m) if m.contains("HS256")));
    }

    #[test]
    fn an_account_without_a_webhook_secret_cannot_check_anything() {
        let err = call(&sign(SECRET, DECODED.as_bytes()), &Secrets::new()).unwrap_err();
        assert_eq!(err, ChannelError::MissingSecret("webhook_secret"));
    }

    #[test]
    fn a_message_without_the_content_scope_is_stored_without_text() {
        let claims = DECODED.replace(r#""text": "Is my order 4410 shipped?","#, "");
        let InboundEvent::Message(item) = &events(&claims)[0] else { panic!() };
        assert_eq!(item.body, None);
        assert_eq!(item.platform_message_id, "5550000000000001");
    }

    #[test]
    fn an_mms_carries_its_url() {
        let claims = DECODED.replace(r#""mms": false"#, r#""mms": true, "mms_url": "https://dialpad.test/m/abc.jpg""#);
        let InboundEvent::Message(item) = &events(&claims)[0] else { panic!() };
        assert_eq!(item.attachments.len(), 1);
        assert_eq!(item.attachments[0].kind, "image");
        assert_eq!(item.attachments[0].url.as_deref(), Some("https://dialpad.test/m/abc.jpg"));
    }

    #[test]
    fn an_outbound_message_is_an_echo_to_the_contact() {
        let events = events(&outbound(""));
        assert_eq!(events.len(), 1);
        let InboundEvent::Echo(item) = &events[0] else { panic!("{events:?}") };
        assert_eq!(item.platform_message_id, "5550000000000002");
        assert_eq!(item.sender, dana());
        assert_eq!(item.body.as_deref(), Some("It ships today."));
    }

    #[test]
    fn an_outbound_status_event_reports_delivery_and_failure() {
        let events1 = events(&outbound(r#", "message_status": "success", "message_delivery_result": "delivered""#));
        assert!(matches!(&events1[1], InboundEvent::Status(s)
            if s.platform_message_id == "5550000000000002"
                && s.status == DeliveryStatus::Delivered
                && s.error.is_none()));
        let events2 = events(&outbound(r#", "message_status": "failed""#));
        assert!(matches!(&events2[1], InboundEvent::Status(s)
            if s.status == DeliveryStatus::Failed && s.error.as_ref().is_some_and(|e| e.code == "failed")));
    }

    #[test]
    fn authenticated_claims_that_are_not_an_sms_event_are_malformed() {
        for claims in [r#"{"hello":1}"#, r#"{"id":1,"direction":"sideways","from_number":"+1"}"#, "[]", "{\"id\":1"] {
            assert!(
                matches!(call(&sign(SECRET, claims.as_bytes()), &secrets()), Err(ChannelError::Malformed(_))),
                "{claims}"
            );
        }
    }

    fn json() -> impl Strategy<Value = serde_json::Value> {
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
            "\\PC{0,12}".prop_map(serde_json::Value::from),
        ];
        leaf.prop_recursive(3, 24, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
                proptest::collection::btree_map(
                    prop::sample::select(vec![
                        "id",
                        "created_date",
                        "direction",
                        "target",
                        "contact",
                        "from_number",
                        "to_number",
                        "text",
                        "text_content",
                        "mms",
                        "mms_url",
                        "message_status",
                        "message_delivery_result",
                        "phone_number",
                        "name",
                    ])
                    .prop_map(str::to_owned),
                    inner,
                    0..8,
                )
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = call(&String::from_utf8_lossy(&body), &secrets());
            let _ = call(&sign(SECRET, &body), &secrets());
        }

        #[test]
        fn arbitrary_signed_json_never_panics(
            claims in json(),
            direction in prop::sample::select(vec!["inbound", "outbound"]),
        ) {
            let mut claims = claims;
            if let Some(map) = claims.as_object_mut() {
                map.insert("direction".into(), direction.into());
            }
            let _ = call(&sign(SECRET, claims.to_string().as_bytes()), &secrets());
        }
    }
}
