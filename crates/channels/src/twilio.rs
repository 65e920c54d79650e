//! SMS and MMS through Twilio Programmable Messaging (`POST /webhooks/twilio/{account_id}`).
//!
//! Twilio posts form-encoded parameters and signs the *URL and parameters*, not the raw body:
//! `X-Twilio-Signature = base64(HMAC-SHA1(auth_token, url + concat(sorted by name: name + value)))`, where `url`
//! is the full public URL Twilio called (the HTTP layer builds it from `SWITCHBOARD_PUBLIC_URL`).
//!
//! What becomes what:
//! - an inbound message (`MessageSid`, `From`, `To`, `Body`, `NumMedia`, `MediaUrl{i}`, `MediaContentType{i}`) →
//!   [`InboundEvent::Message`] keyed by `MessageSid`, sender = `From` in E.164, direct thread;
//! - an opt-out or opt-in keyword (Twilio's own lists, or its `OptOutType` parameter) → also an
//!   [`InboundEvent::Subscription`]: Twilio blocks sends to a number that wrote STOP (error 21610);
//! - a status callback (`MessageStatus`) → [`InboundEvent::Status`]; `undelivered` and `failed` carry the
//!   `ErrorCode`.
//!
//! The answer is always the empty TwiML document: nothing is sent back automatically.
//!
//! Sending (Messages resource, form body, Basic auth) lives in [`outbound`]; [`send`] is its entry point.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use sha1::Sha1;
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

/// The header that carries Twilio's signature.
pub const SIGNATURE_HEADER: &str = "x-twilio-signature";

/// TwiML that tells Twilio to do nothing more.
pub const EMPTY_TWIML: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response></Response>";

/// Bodies that opt a number out, as Twilio's default Advanced Opt-Out recognises them (the whole message,
/// any case). Twilio itself then refuses to send to the number, so the helpdesk must know.
pub const OPT_OUT_KEYWORDS: [&str; 8] = ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"];

/// Bodies that opt a number back in.
pub const OPT_IN_KEYWORDS: [&str; 3] = ["START", "YES", "UNSTOP"];

/// How many media a message may carry (Twilio: 10); bounds the scan for `MediaUrl{i}`.
const MAX_MEDIA: usize = 10;

/// The signature Twilio sends for a call to `url` with these POST parameters, in the order given for each name.
pub fn sign(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    // A stable sort by name keeps repeated names in the order they came.
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    sign_sorted(auth_token, url, sorted.into_iter())
}

fn sign_sorted<'a>(auth_token: &str, url: &str, params: impl Iterator<Item = &'a (String, String)>) -> String {
    let mut mac = Hmac::<Sha1>::new_from_slice(auth_token.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(url.as_bytes());
    for (name, value) in params {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    BASE64.encode(mac.finalize().into_bytes())
}

/// Checks `X-Twilio-Signature` for a call to `url` with these parameters, in constant time.
pub fn verify(
    auth_token: &str,
    url: &str,
    params: &[(String, String)],
    header: Option<&str>,
) -> Result<(), ChannelError> {
    let given = header.ok_or_else(|| ChannelError::Unauthenticated("missing X-Twilio-Signature".into()))?.trim();
    let matches = |expected: String| bool::from(expected.as_bytes().ct_eq(given.as_bytes()));
    let mut ok = matches(sign(auth_token, url, params));
    // Twilio's own validators sort (and de-duplicate) the values of a repeated name; Messaging never repeats
    // a name today, so the second form is only tried when one is.
    let mut names: Vec<&str> = params.iter().map(|(k, _)| k.as_str()).collect();
    names.sort_unstable();
    if names.windows(2).any(|w| w[0] == w[1]) {
        let mut sorted: Vec<&(String, String)> = params.iter().collect();
        sorted.sort();
        sorted.dedup();
        ok |= matches(sign_sorted(auth_token, url, sorted.into_iter()));
    }
    if ok { Ok(()) } else { Err(ChannelError::Unauthenticated("X-Twilio-Signature does not match".into())) }
}

/// Verifies and parses one webhook call.
pub fn handle(req: &WebhookRequest<'_>, secrets: &Secrets) -> Result<Parsed, ChannelError> {
    let auth_token = secret(secrets, "auth_token")?;
    // A GET webhook signs the URL (with its query) alone; its parameters are the query.
    let params: Vec<(String, String)> = match req.method {
        Method::Post => form_urlencoded::parse(req.body).into_owned().collect(),
        Method::Get => Vec::new(),
    };
    verify(auth_token, req.url, &params, req.header(SIGNATURE_HEADER))?;
    let params = match req.method {
        Method::Post => params,
        Method::Get => req.query.to_vec(),
    };
    let (business_id, events) = parse(&params)?;
    if events.is_empty() {
        return Ok(Parsed::answer_only(ack()));
    }
    Ok(Parsed { lines: vec![LineEvents { kind: ChannelKind::Twilio, business_id, events }], answer: ack() })
}

/// What to answer for an authenticated body we could not parse: the empty TwiML, which Twilio takes as done.
pub fn ack() -> Answer {
    Answer::Xml(EMPTY_TWIML.to_owned())
}

struct Params<'a>(&'a [(String, String)]);

impl Params<'_> {
    /// The first non-empty value of that name.
    fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim()).filter(|v| !v.is_empty())
    }
}

/// Parses the parameters of one call into the Twilio number it concerns and its events.
pub fn parse(params: &[(String, String)]) -> Result<(Option<String>, Vec<InboundEvent>), ChannelError> {
    let p = Params(params);
    let sid = p.get("MessageSid").or_else(|| p.get("SmsMessageSid")).or_else(|| p.get("SmsSid"));
    let status = p.get("MessageStatus").or_else(|| p.get("SmsStatus"));
    let inbound = matches!(status, None | Some("received" | "receiving"));
    let sid = sid.ok_or_else(|| ChannelError::Malformed("no MessageSid: not a Twilio messaging webhook".into()))?;
    if inbound {
        let from = p.get("From").ok_or_else(|| ChannelError::Malformed("an inbound message needs From".into()))?;
        Ok((p.get("To").map(str::to_owned), inbound_events(&p, sid, from)))
    } else {
        // On a status callback `From` is our number and `To` the customer.
        let status = status.unwrap_or_default();
        Ok((p.get("From").map(str::to_owned), status_event(&p, sid, status).into_iter().collect()))
    }
}

fn inbound_events(p: &Params<'_>, sid: &str, from: &str) -> Vec<InboundEvent> {
    // WhatsApp through Twilio prefixes the number (`whatsapp:+…`); the phone itself is what follows.
    let phone = from.strip_prefix("whatsapp:").unwrap_or(from);
    let sender = InboundSender {
        external_id: from.to_owned(),
        name: p.get("ProfileName").map(str::to_owned),
        phone: phone.starts_with('+').then(|| phone.to_owned()),
        ..InboundSender::default()
    };
    let body = p.get("Body").map(str::to_owned);
    let attachments = (0..MAX_MEDIA)
        .map_while(|i| {
            let url = p.get(&format!("MediaUrl{i}"))?;
            let mime = p.get(&format!("MediaContentType{i}")).map(str::to_owned);
            Some(Attachment {
                kind: kind_of(mime.as_deref()).to_owned(),
                url: Some(url.to_owned()),
                media_id: url.rsplit('/').next().filter(|id| id.starts_with("ME")).map(str::to_owned),
                mime_type: mime,
                filename: None,
            })
        })
        .collect();
    let subscribed = subscription_change(p.get("OptOutType"), body.as_deref());
    let mut events = vec![InboundEvent::Message(InboundItem {
        platform_message_id: sid.to_owned(),
        sender: sender.clone(),
        thread: ThreadRef::Direct { key: None },
        body,
        attachments,
        // Twilio does not say when the customer sent it.
        sent_at: None,
    })];
    if let Some(subscribed) = subscribed {
        // Twilio's inbound webhook carries no timestamp: the change is dated when it reaches us.
        events.push(InboundEvent::Subscription { sender, subscribed, at: OffsetDateTime::now_utc() });
    }
    events
}

/// Whether the message opts the number out (`false`) or in (`true`); `None` for an ordinary message.
fn subscription_change(opt_out_type: Option<&str>, body: Option<&str>) -> Option<bool> {
    match opt_out_type.map(str::to_ascii_uppercase).as_deref() {
        Some("STOP") => return Some(false),
        Some("START") => return Some(true),
        // `HELP` and anything newer: no change.
        Some(_) => return None,
        None => {}
    }
    let word = body?.trim().to_ascii_uppercase();
    if OPT_OUT_KEYWORDS.contains(&word.as_str()) {
        Some(false)
    } else if OPT_IN_KEYWORDS.contains(&word.as_str()) {
        Some(true)
    } else {
        None
    }
}

fn kind_of(mime: Option<&str>) -> &'static str {
    match mime.map(str::to_ascii_lowercase).as_deref() {
        Some(m) if m.starts_with("image/") => "image",
        Some(m) if m.starts_with("video/") => "video",
        Some(m) if m.starts_with("audio/") => "audio",
        Some("text/vcard" | "text/x-vcard") => "contacts",
        _ => "document",
    }
}

/// Twilio's titles for the errors a status callback commonly carries.
fn error_title(code: &str) -> Option<&'static str> {
    Some(match code {
        "30001" => "Queue overflow",
        "30002" => "Account suspended",
        "30003" => "Unreachable destination handset",
        "30004" => "Message blocked",
        "30005" => "Unknown destination handset",
        "30006" => "Landline or unreachable carrier",
        "30007" => "Message filtered by the carrier",
        "30008" => "Unknown error",
        "21211" => "Invalid 'To' phone number",
        "21408" => "Permission to send to this region is not enabled",
        "21610" => "The recipient replied STOP",
        _ => return None,
    })
}

fn status_event(p: &Params<'_>, sid: &str, raw: &str) -> Option<InboundEvent> {
    let status = match raw {
        "accepted" | "scheduled" | "queued" | "sending" => DeliveryStatus::Queued,
        "sent" => DeliveryStatus::Sent,
        "delivered" | "partially_delivered" => DeliveryStatus::Delivered,
        "read" => DeliveryStatus::Read,
        "undelivered" | "failed" | "canceled" => DeliveryStatus::Failed,
        // A status Twilio adds later: nothing we could show.
        _ => return None,
    };
    let error = (status == DeliveryStatus::Failed).then(|| {
        // A failure without a code (a canceled message) is named by its status.
        let code = p.get("ErrorCode").unwrap_or(raw);
        let message = p
            .get("ErrorMessage")
            .map(str::to_owned)
            .or_else(|| error_title(code).map(str::to_owned))
            .unwrap_or_else(|| format!("Twilio error {code}"));
        MessageError { code: code.to_owned(), message }
    });
    Some(InboundEvent::Status(StatusUpdate { platform_message_id: sid.to_owned(), status, error, at: None }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const TOKEN: &str = "helpdesk-test-auth-token-0000000";
    const SMS_URL: &str = "https://hd.example.test/webhooks/twilio/sms";
    const STATUS_URL: &str = "https://hd.example.test/webhooks/twilio/status";
    const LENA: &str = "+4915112345678";
    const OUR_NUMBER: &str = "+4930123456789";

    const VECTOR: &str = include_str!("../../../fixtures/channels/sms/signature_test_vector.txt");
    const SMS: &str = include_str!("../../../fixtures/channels/sms/twilio_inbound_sms.txt");
    const MMS: &str = include_str!("../../../fixtures/channels/sms/twilio_inbound_mms.txt");
    const DELIVERED: &str = include_str!("../../../fixtures/channels/sms/twilio_status_delivered.txt");
    const UNDELIVERED: &str = include_str!("../../../fixtures/channels/sms/twilio_status_undelivered.txt");

    fn secrets() -> Secrets {
        let mut s = Secrets::new();
        s.insert("account_sid".into(), "ACTEST00000000000000000000000001".into());
        s.insert("auth_token".into(), TOKEN.into());
        s
    }

    /// The form body of a fixture: what follows the blank line after the headers.
    fn body(fixture: &str) -> &str {
        fixture.split_once("\n\n").unwrap().1.trim()
    }

    /// The `X-Twilio-Signature` header a fixture shows, when it gives a value.
    fn header_in(fixture: &str) -> Option<&str> {
        fixture
            .lines()
            .find_map(|l| l.strip_prefix("X-Twilio-Signature:"))
            .map(str::trim)
            .filter(|v| !v.starts_with('<'))
    }

    fn call(url: &str, body: &str, signature: Option<&str>) -> Result<Parsed, ChannelError> {
        let headers: Vec<(String, String)> =
            signature.map(|s| vec![(SIGNATURE_HEADER.to_owned(), s.to_owned())]).unwrap_or_default();
        let req = WebhookRequest { method: Method::Post, url, query: &[], headers: &headers, body: body.as_bytes() };
        handle(&req, &secrets())
    }

    fn signed(url: &str, body: &str) -> Result<Parsed, ChannelError> {
        let params: Vec<(String, String)> = form_urlencoded::parse(body.as_bytes()).into_owned().collect();
        call(url, body, Some(&sign(TOKEN, url, &params)))
    }

    fn events(url: &str, fixture: &str, number: &str) -> Vec<InboundEvent> {
        let parsed = signed(url, body(fixture)).unwrap();
        assert_eq!(parsed.answer, Answer::Xml(EMPTY_TWIML.into()));
        assert_eq!(parsed.lines.len(), 1);
        assert_eq!(parsed.lines[0].kind, ChannelKind::Twilio);
        assert_eq!(parsed.lines[0].business_id.as_deref(), Some(number));
        parsed.lines.into_iter().flat_map(|l| l.events).collect()
    }

    fn lena() -> InboundSender {
        InboundSender { external_id: LENA.into(), phone: Some(LENA.into()), ..InboundSender::default() }
    }

    #[test]
    fn the_signature_test_vector_verifies() {
        assert!(VECTOR.contains(TOKEN) && VECTOR.contains(SMS_URL));
        let expected = "YNe/9eJlxizpHnB6x3jqE3jdfU4=";
        assert!(VECTOR.contains(expected));
        assert_eq!(header_in(SMS), Some(expected));
        let parsed = call(SMS_URL, body(SMS), Some(expected)).unwrap();
        assert_eq!(parsed.lines[0].events.len(), 1);
    }

    #[test]
    fn twilios_documented_example_verifies() {
        let params: Vec<(String, String)> = [
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+12349013030"),
            ("Digits", "1234"),
            ("From", "+12349013030"),
            ("To", "+18005551212"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        assert!(VECTOR.contains("0/KCTR6DLpKmkAf8muzZqo1nDgQ="));
        assert_eq!(sign("12345", url, &params), "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
        assert!(verify("12345", url, &params, Some("0/KCTR6DLpKmkAf8muzZqo1nDgQ=")).is_ok());
    }

    #[test]
    fn a_tampered_body_is_refused() {
        let tampered = body(SMS).replace("Paket+702", "Paket+703");
        let err = call(SMS_URL, &tampered, header_in(SMS)).unwrap_err();
        assert!(matches!(err, ChannelError::Unauthenticated(_)));
    }

    #[test]
    fn a_signature_for_another_url_is_refused() {
        let err = call("https://hd.example.test/webhooks/twilio/other", body(SMS), header_in(SMS)).unwrap_err();
        assert!(matches!(err, ChannelError::Unauthenticated(_)));
    }

    #[test]
    fn a_signature_made_with_another_token_is_refused() {
        let params: Vec<(String, String)> = form_urlencoded::parse(body(SMS).as_bytes()).into_owned().collect();
        let err = call(SMS_URL, body(SMS), Some(&sign("another-token", SMS_URL, &params))).unwrap_err();
        assert!(matches!(err, ChannelError::Unauthenticated(_)));
    }

    #[test]
    fn a_call_without_the_signature_header_is_refused() {
        let err = call(SMS_URL, body(SMS), None).unwrap_err();
        assert!(matches!(err, ChannelError::Unauthenticated(m) if m.contains("X-Twilio-Signature")));
    }

    #[test]
    fn an_account_without_an_auth_token_cannot_check_anything() {
        let req = WebhookRequest { method: Method::Post, url: SMS_URL, query: &[], headers: &[], body: b"" };
        assert_eq!(handle(&req, &Secrets::new()).unwrap_err(), ChannelError::MissingSecret("auth_token"));
    }

    #[test]
    fn an_inbound_sms_is_a_direct_message_from_the_e164_number() {
        assert_eq!(
            events(SMS_URL, SMS, OUR_NUMBER),
            vec![InboundEvent::Message(InboundItem {
                platform_message_id: "SMTEST00000000000000000000000001".into(),
                sender: lena(),
                thread: ThreadRef::Direct { key: None },
                body: Some("Hallo, mein Paket 702 ist beschädigt.".into()),
                attachments: vec![],
                sent_at: None,
            })]
        );
    }

    #[test]
    fn an_inbound_mms_carries_its_media_url_and_type() {
        assert_eq!(
            events(SMS_URL, MMS, OUR_NUMBER),
            vec![InboundEvent::Message(InboundItem {
                platform_message_id: "MMTEST00000000000000000000000002".into(),
                sender: lena(),
                thread: ThreadRef::Direct { key: None },
                body: Some("Foto vom Schaden".into()),
                attachments: vec![Attachment {
                    kind: "image".into(),
                    url: Some(
                        "https://api.twilio.com/2010-04-01/Accounts/ACTEST00000000000000000000000001/Messages/\
                         MMTEST00000000000000000000000002/Media/METEST00000000000000000000000003"
                            .into()
                    ),
                    media_id: Some("METEST00000000000000000000000003".into()),
                    mime_type: Some("image/jpeg".into()),
                    filename: None,
                }],
                sent_at: None,
            })]
        );
    }

    #[test]
    fn a_delivered_callback_is_a_delivered_status() {
        assert_eq!(
            events(STATUS_URL, DELIVERED, OUR_NUMBER),
            vec![InboundEvent::Status(StatusUpdate {
                platform_message_id: "SMTEST00000000000000000000000009".into(),
                status: DeliveryStatus::Delivered,
                error: None,
                at: None,
            })]
        );
    }

    #[test]
    fn an_undelivered_30003_callback_fails_with_the_code_and_title() {
        assert_eq!(
            events(STATUS_URL, UNDELIVERED, OUR_NUMBER),
            vec![InboundEvent::Status(StatusUpdate {
                platform_message_id: "SMTEST00000000000000000000000010".into(),
                status: DeliveryStatus::Failed,
                error: Some(MessageError { code: "30003".into(), message: "Unreachable destination handset".into() }),
                at: None,
            })]
        );
    }

    #[test]
    fn a_failed_callback_prefers_twilios_own_error_message() {
        let body = "MessageSid=SM1&MessageStatus=failed&ErrorCode=30008&ErrorMessage=Carrier+said+no&From=%2B1";
        let events = events(STATUS_URL, &format!("\n\n{body}"), "+1");
        let InboundEvent::Status(update) = &events[0] else { panic!("{events:?}") };
        assert_eq!(update.error, Some(MessageError { code: "30008".into(), message: "Carrier said no".into() }));
    }

    #[test]
    fn stop_unsubscribes_the_number_and_start_subscribes_it_again() {
        for (word, subscribed) in [("STOP", false), (" stop ", false), ("Unsubscribe", false), ("START", true)] {
            let body = body(SMS).replace("Hallo%2C+mein+Paket+702+ist+besch%C3%A4digt.", &word.replace(' ', "+"));
            let events = events(SMS_URL, &format!("\n\n{body}"), OUR_NUMBER);
            assert_eq!(events.len(), 2, "{word}");
            assert!(matches!(&events[0], InboundEvent::Message(item) if item.body.as_deref() == Some(word.trim())));
            assert!(
                matches!(&events[1], InboundEvent::Subscription { sender, subscribed: s, .. }
                    if sender.external_id == LENA && *s == subscribed),
                "{word}: {events:?}"
            );
        }
        // A sentence that merely contains the word is an ordinary message.
        let body = body(SMS).replace("Hallo%2C+mein+Paket+702+ist+besch%C3%A4digt.", "Please+stop+the+order");
        assert_eq!(events(SMS_URL, &format!("\n\n{body}"), OUR_NUMBER).len(), 1);
    }

    #[test]
    fn twilios_opt_out_type_parameter_decides_when_present() {
        let body =
            format!("{}&OptOutType=STOP", body(SMS).replace("Hallo%2C+mein+Paket+702+ist+besch%C3%A4digt.", "Halt"));
        let events = events(SMS_URL, &format!("\n\n{body}"), OUR_NUMBER);
        assert!(matches!(&events[1], InboundEvent::Subscription { subscribed: false, .. }));
    }

    #[test]
    fn a_whatsapp_sender_keeps_its_prefix_as_id_and_its_number_as_phone() {
        let body =
            "MessageSid=SM9&From=whatsapp%3A%2B4915112345678&To=whatsapp%3A%2B4930123456789&Body=Hi&ProfileName=Lena";
        let events = events(SMS_URL, &format!("\n\n{body}"), "whatsapp:+4930123456789");
        let InboundEvent::Message(item) = &events[0] else { panic!("{events:?}") };
        assert_eq!(item.sender.external_id, "whatsapp:+4915112345678");
        assert_eq!(item.sender.phone.as_deref(), Some(LENA));
        assert_eq!(item.sender.name.as_deref(), Some("Lena"));
    }

    #[test]
    fn an_authenticated_body_without_a_message_sid_is_malformed() {
        assert!(matches!(signed(SMS_URL, "hello=world"), Err(ChannelError::Malformed(_))));
        assert!(matches!(signed(SMS_URL, ""), Err(ChannelError::Malformed(_))));
    }

    proptest! {
        #[test]
        fn arbitrary_signed_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..512)) {
            let params: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
            let headers = vec![(SIGNATURE_HEADER.to_owned(), sign(TOKEN, SMS_URL, &params))];
            let req = WebhookRequest { method: Method::Post, url: SMS_URL, query: &[], headers: &headers, body: &body };
            let _ = handle(&req, &secrets());
        }

        #[test]
        fn arbitrary_signed_forms_never_panic(
            pairs in proptest::collection::vec(
                (prop::sample::select(vec![
                    "MessageSid", "From", "To", "Body", "NumMedia", "MediaUrl0", "MediaContentType0", "MediaUrl1",
                    "MessageStatus", "SmsStatus", "ErrorCode", "ErrorMessage", "OptOutType", "ProfileName",
                ]), "\\PC{0,24}"),
                0..12,
            ),
        ) {
            let body: String = form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
            let _ = signed(SMS_URL, &body);
        }
    }
}
