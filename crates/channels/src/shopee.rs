//! Shopee seller chat through Shopee Open Platform push (`POST /webhooks/shopee/{account_id}`).
//!
//! Every push carries `Authorization: hex(HMAC-SHA256(partner_key, callback_url + "|" + raw body))`, where
//! `callback_url` is the URL exactly as configured in the Shopee console (the address Shopee calls). The body is
//! `{"shop_id", "code", "timestamp", "data"}`; code 10 is the Webchat push, whose `data` is
//! `{"type": "message", "content": {"message_id", "conversation_id", "from_id", "from_user_name", "to_id",
//! "message_type", "content": {"text" | "url" | …}, "created_timestamp"}}` (field list from integrations, not
//! from Shopee's login-only docs).
//!
//! What becomes what: a webchat message → [`InboundEvent::Message`] keyed by `message_id`, sender = the buyer's
//! user id (`from_id`), direct thread; a message the shop itself sent (`from_shop_id` = our shop) →
//! [`InboundEvent::Echo`] to `to_id`. Every other push code (orders, products, the console's test push) carries
//! no customer message and is skipped. Shopee has no review push: reviews are polled through
//! `/api/v2/product/get_comment`.
//!
//! Shopee wants a 2xx with an **empty** body, and shuts pushes off for apps that fail too often.
//!
//! Sending (signed seller chat messages and review replies) lives in [`outbound`]; [`send`] is its entry point.

use serde::Deserialize;
use switchboard_domain::{Attachment, ChannelKind, InboundEvent, InboundItem, InboundSender, ThreadRef};
use time::OffsetDateTime;

use crate::ChannelError;
use crate::signature::{hmac_sha256_hex, verify_hmac_sha256_hex};
use crate::webhook::{Answer, LineEvents, Method, Parsed, Secrets, WebhookRequest, secret};

pub mod outbound;
pub use outbound::send;

/// The header that carries the push signature.
pub const SIGNATURE_HEADER: &str = "authorization";

/// The push code of a buyer's chat message.
pub const WEBCHAT_PUSH: i64 = 10;

fn signed_base(callback_url: &str, body: &[u8]) -> Vec<u8> {
    let mut base = Vec::with_capacity(callback_url.len() + 1 + body.len());
    base.extend_from_slice(callback_url.as_bytes());
    base.push(b'|');
    base.extend_from_slice(body);
    base
}

/// The `Authorization` value Shopee sends for `body` pushed to `callback_url`.
pub fn sign(partner_key: &str, callback_url: &str, body: &[u8]) -> String {
    hmac_sha256_hex(partner_key.as_bytes(), &signed_base(callback_url, body))
}

/// The `sign` query parameter of a shop-level API call: `hex(HMAC-SHA256(partner_key, partner_id + api_path +
/// timestamp + access_token + shop_id))`.
pub fn sign_api_call(
    partner_key: &str,
    partner_id: &str,
    api_path: &str,
    timestamp: i64,
    access_token: &str,
    shop_id: &str,
) -> String {
    let base = format!("{partner_id}{api_path}{timestamp}{access_token}{shop_id}");
    hmac_sha256_hex(partner_key.as_bytes(), base.as_bytes())
}

/// Verifies and parses one webhook call.
pub fn handle(req: &WebhookRequest<'_>, secrets: &Secrets) -> Result<Parsed, ChannelError> {
    let partner_key = secret(secrets, "partner_key")?;
    if req.method != Method::Post {
        return Err(ChannelError::Unauthenticated("Shopee only sends signed POST requests".into()));
    }
    let given =
        req.header(SIGNATURE_HEADER).ok_or_else(|| ChannelError::Unauthenticated("missing Authorization".into()))?;
    if !verify_hmac_sha256_hex(partner_key.as_bytes(), &signed_base(req.url, req.body), given) {
        return Err(ChannelError::Unauthenticated("Authorization does not match the URL and body".into()));
    }
    let (business_id, events) = parse(req.body)?;
    if events.is_empty() {
        return Ok(Parsed::answer_only(ack()));
    }
    Ok(Parsed { lines: vec![LineEvents { kind: ChannelKind::Shopee, business_id, events }], answer: ack() })
}

/// What to answer for an authenticated body we could not parse: 200 with an empty body, which Shopee counts as
/// delivered.
pub fn ack() -> Answer {
    Answer::Empty
}

#[derive(Deserialize)]
struct Push {
    shop_id: Option<serde_json::Value>,
    code: serde_json::Value,
    data: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct Chat {
    #[serde(rename = "type")]
    kind: Option<String>,
    content: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct ChatMessage {
    message_id: serde_json::Value,
    from_id: Option<serde_json::Value>,
    from_user_name: Option<String>,
    from_shop_id: Option<serde_json::Value>,
    to_id: Option<serde_json::Value>,
    to_user_name: Option<String>,
    message_type: Option<String>,
    content: Option<serde_json::Value>,
    created_timestamp: Option<i64>,
}

/// An id as text: Shopee's ids are 64-bit and arrive as numbers or strings.
fn id(value: Option<&serde_json::Value>) -> Option<String> {
    match value? {
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::String(s) => Some(s.trim().to_owned()).filter(|s| !s.is_empty()),
        _ => None,
    }
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

/// Parses an authenticated push into the shop it concerns and its events.
pub fn parse(body: &[u8]) -> Result<(Option<String>, Vec<InboundEvent>), ChannelError> {
    let push: Push =
        serde_json::from_slice(body).map_err(|e| ChannelError::Malformed(format!("not a Shopee push: {e}")))?;
    let code = match &push.code {
        serde_json::Value::Number(n) => n.as_i64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    };
    let code = code.ok_or_else(|| ChannelError::Malformed("code is not a push code".into()))?;
    let shop_id = id(push.shop_id.as_ref());
    if code != WEBCHAT_PUSH {
        return Ok((shop_id, Vec::new()));
    }
    let chat: Chat = serde_json::from_value(push.data.unwrap_or_default())
        .map_err(|e| ChannelError::Malformed(format!("data: {e}")))?;
    // Other webchat notifications (read receipts, conversation updates) carry no message.
    if chat.kind.as_deref() != Some("message") {
        return Ok((shop_id, Vec::new()));
    }
    let message: ChatMessage = serde_json::from_value(chat.content.unwrap_or_default())
        .map_err(|e| ChannelError::Malformed(format!("data.content: {e}")))?;
    let message_id = id(Some(&message.message_id))
        .ok_or_else(|| ChannelError::Malformed("data.content.message_id is missing".into()))?;
    let from_us = shop_id.is_some() && id(message.from_shop_id.as_ref()) == shop_id;
    let (customer, customer_name) = if from_us {
        (id(message.to_id.as_ref()), message.to_user_name)
    } else {
        (id(message.from_id.as_ref()), message.from_user_name)
    };
    let customer = customer.ok_or_else(|| ChannelError::Malformed("the buyer's user id is missing".into()))?;
    let sent_at = message
        .created_timestamp
        .map(OffsetDateTime::from_unix_timestamp)
        .transpose()
        .map_err(|_| ChannelError::Malformed("created_timestamp is out of range".into()))?;
    let username = non_empty(customer_name);
    let (body, attachments) = content(message.message_type.as_deref().unwrap_or("text"), message.content.as_ref());
    let item = InboundItem {
        platform_message_id: message_id,
        sender: InboundSender { external_id: customer, username, ..InboundSender::default() },
        thread: ThreadRef::Direct { key: None },
        body,
        attachments,
        sent_at,
    };
    let event = if from_us { InboundEvent::Echo(item) } else { InboundEvent::Message(item) };
    Ok((shop_id, vec![event]))
}

fn attachment(kind: &str, url: Option<String>, media_id: Option<String>) -> Attachment {
    Attachment { kind: kind.to_owned(), url, media_id, mime_type: None, filename: None }
}

/// The readable text and attachments of a chat message, by `message_type`.
fn content(message_type: &str, content: Option<&serde_json::Value>) -> (Option<String>, Vec<Attachment>) {
    let field = |name: &str| {
        content.and_then(|c| c.get(name)).and_then(|v| match v {
            serde_json::Value::String(s) => non_empty(Some(s.clone())),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
    };
    let text = field("text");
    match message_type {
        "text" => (text, Vec::new()),
        "image" | "image_with_text" => {
            let url = field("url").or_else(|| field("image_url"));
            (text, vec![attachment("image", url, None)])
        }
        "video" => (text, vec![attachment("video", field("video_url").or_else(|| field("url")), None)]),
        "sticker" => {
            let id = match (field("sticker_package_id"), field("sticker_id")) {
                (Some(package), Some(sticker)) => Some(format!("{package}/{sticker}")),
                (package, sticker) => sticker.or(package),
            };
            (text, vec![attachment("sticker", None, id)])
        }
        "item" => (Some(format!("🛍 Item {}", field("item_id").unwrap_or_default()).trim().to_owned()), Vec::new()),
        "order" => (Some(format!("📦 Order {}", field("order_sn").unwrap_or_default()).trim().to_owned()), Vec::new()),
        // A type Shopee added later: keep it, so the agent sees something arrived.
        other => (text.or_else(|| Some(format!("({other} message)"))), Vec::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const PARTNER_KEY: &str = "helpdesk-test-partner-key";
    const URL: &str = "https://hd.example.test/webhooks/shopee";
    const VECTOR: &str = include_str!("../../../fixtures/channels/marketplaces/shopee_push_signature.txt");
    const WEBCHAT: &str = include_str!("../../../fixtures/channels/marketplaces/shopee_push_webchat.json");

    fn secrets() -> Secrets {
        let mut s = Secrets::new();
        for (k, v) in [("partner_id", "2000001"), ("partner_key", PARTNER_KEY), ("access_token", "t")] {
            s.insert(k.into(), v.into());
        }
        s
    }

    fn call(url: &str, body: &str, authorization: Option<&str>, secrets: &Secrets) -> Result<Parsed, ChannelError> {
        let headers: Vec<(String, String)> =
            authorization.map(|a| vec![(SIGNATURE_HEADER.to_owned(), a.to_owned())]).unwrap_or_default();
        let req = WebhookRequest { method: Method::Post, url, query: &[], headers: &headers, body: body.as_bytes() };
        handle(&req, secrets)
    }

    fn signed(body: &str) -> Result<Parsed, ChannelError> {
        call(URL, body, Some(&sign(PARTNER_KEY, URL, body.as_bytes())), &secrets())
    }

    fn vector_value(prefix: &str) -> &'static str {
        VECTOR.lines().find_map(|l| l.trim().strip_prefix(prefix)).unwrap().trim()
    }

    #[test]
    fn the_push_signature_vector_verifies() {
        let header = vector_value("Push header:  Authorization:");
        assert_eq!(header, "27bc630f656a3bc373d5d4fe36b7e1d8b4c53bd612805d14c13f3f8b0fb61c0d");
        assert_eq!(sign(PARTNER_KEY, URL, WEBCHAT.as_bytes()), header);
        assert!(call(URL, WEBCHAT, Some(header), &secrets()).is_ok());
    }

    #[test]
    fn the_api_signing_vector_verifies() {
        let expected = vector_value("sign = hex(HMAC-SHA256(partner_key, base string)) =");
        let sign = sign_api_call(
            PARTNER_KEY,
            "2000001",
            "/api/v2/sellerchat/send_message",
            1_767_225_600,
            "TESTaccesstoken0001",
            "880012345",
        );
        assert_eq!(sign, expected);
    }

    #[test]
    fn a_webchat_push_is_a_direct_message_from_the_buyer() {
        let parsed = call(URL, WEBCHAT, Some(vector_value("Push header:  Authorization:")), &secrets()).unwrap();
        assert_eq!(parsed.answer, Answer::Empty);
        assert_eq!(parsed.lines.len(), 1);
        assert_eq!(parsed.lines[0].kind, ChannelKind::Shopee);
        assert_eq!(parsed.lines[0].business_id.as_deref(), Some("880012345"));
        assert_eq!(
            parsed.lines[0].events,
            vec![InboundEvent::Message(InboundItem {
                platform_message_id: "2385373076638777713".into(),
                sender: InboundSender { external_id: "6648342".into(), ..InboundSender::default() },
                thread: ThreadRef::Direct { key: None },
                body: Some("Is the blue mug still in stock?".into()),
                attachments: vec![],
                sent_at: Some(OffsetDateTime::from_unix_timestamp(1_767_225_600).unwrap()),
            })]
        );
    }

    #[test]
    fn a_tampered_body_is_refused() {
        let header = vector_value("Push header:  Authorization:");
        let tampered = WEBCHAT.replace("blue mug", "red mug");
        assert!(matches!(call(URL, &tampered, Some(header), &secrets()), Err(ChannelError::Unauthenticated(_))));
    }

    #[test]
    fn a_push_signed_for_another_url_is_refused() {
        let header = vector_value("Push header:  Authorization:");
        let err = call("https://hd.example.test/webhooks/shopee/2", WEBCHAT, Some(header), &secrets()).unwrap_err();
        assert!(matches!(err, ChannelError::Unauthenticated(_)));
    }

    #[test]
    fn a_push_signed_with_another_key_is_refused() {
        let header = sign("another-key", URL, WEBCHAT.as_bytes());
        assert!(matches!(call(URL, WEBCHAT, Some(&header), &secrets()), Err(ChannelError::Unauthenticated(_))));
    }

    #[test]
    fn a_push_without_authorization_is_refused() {
        let err = call(URL, WEBCHAT, None, &secrets()).unwrap_err();
        assert!(matches!(err, ChannelError::Unauthenticated(m) if m.contains("Authorization")));
    }

    #[test]
    fn an_account_without_a_partner_key_cannot_check_anything() {
        let err = call(URL, WEBCHAT, Some("x"), &Secrets::new()).unwrap_err();
        assert_eq!(err, ChannelError::MissingSecret("partner_key"));
    }

    #[test]
    fn an_image_message_carries_its_url_and_the_buyers_user_name() {
        let body = r#"{"msg_id":"","data":{"type":"message","region":"ID","content":{"message_id":"2302748948493123953",
            "shop_id":165103149,"from_id":165105353,"from_user_name":"rina_buys","to_id":947151379,
            "to_user_name":"ourshop",
            "message_type":"image","content":{"url":"https://cf.shopee.test/file/abc","thumb_url":"t"},
            "conversation_id":"709122092476686867","created_timestamp":1726044721}},"shop_id":947042923,"code":10,
            "timestamp":1726044722}"#;
        let parsed = signed(body).unwrap();
        let InboundEvent::Message(item) = &parsed.lines[0].events[0] else { panic!("{parsed:?}") };
        assert_eq!(item.sender.external_id, "165105353");
        assert_eq!(item.sender.username.as_deref(), Some("rina_buys"));
        assert_eq!(item.body, None);
        assert_eq!(item.attachments[0].kind, "image");
        assert_eq!(item.attachments[0].url.as_deref(), Some("https://cf.shopee.test/file/abc"));
        assert_eq!(parsed.lines[0].business_id.as_deref(), Some("947042923"));
    }

    #[test]
    fn a_message_the_shop_sent_itself_is_an_echo_to_the_buyer() {
        let body = r#"{"shop_id":880012345,"code":10,"timestamp":1,"data":{"type":"message","content":{
            "message_id":"9","from_id":1,"from_shop_id":880012345,"to_id":6648342,"message_type":"order",
            "content":{"order_sn":"2601010ABC"},"created_timestamp":1767225700}}}"#;
        let parsed = signed(body).unwrap();
        let InboundEvent::Echo(item) = &parsed.lines[0].events[0] else { panic!("{parsed:?}") };
        assert_eq!(item.sender.external_id, "6648342");
        assert_eq!(item.body.as_deref(), Some("📦 Order 2601010ABC"));
    }

    #[test]
    fn other_push_codes_are_answered_with_nothing_to_store() {
        let body =
            r#"{"shop_id":880012345,"code":3,"timestamp":1767225600,"data":{"ordersn":"X","status":"READY_TO_SHIP"}}"#;
        assert_eq!(signed(body).unwrap(), Parsed::answer_only(Answer::Empty));
        let body = r#"{"shop_id":880012345,"code":10,"data":{"type":"read","content":{}}}"#;
        assert_eq!(signed(body).unwrap(), Parsed::answer_only(Answer::Empty));
    }

    #[test]
    fn an_authenticated_body_that_is_not_a_push_is_malformed() {
        for body in ["", "[]", r#"{"shop_id":1}"#, r#"{"code":10,"data":{"type":"message","content":{"from_id":1}}}"#] {
            assert!(matches!(signed(body), Err(ChannelError::Malformed(_))), "{body}");
        }
    }

    fn json() -> impl Strategy<Value = serde_json::Value> {
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
            "\\PC{0,12}".prop_map(serde_json::Value::from),
        ];
        leaf.prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
                proptest::collection::btree_map(
                    prop::sample::select(vec![
                        "shop_id",
                        "code",
                        "data",
                        "type",
                        "content",
                        "message_id",
                        "from_id",
                        "from_shop_id",
                        "to_id",
                        "message_type",
                        "text",
                        "url",
                        "created_timestamp",
                        "sticker_id",
                        "order_sn",
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
            let headers = vec![(SIGNATURE_HEADER.to_owned(), sign(PARTNER_KEY, URL, &body))];
            let req = WebhookRequest { method: Method::Post, url: URL, query: &[], headers: &headers, body: &body };
            let _ = handle(&req, &secrets());
        }

        #[test]
        fn arbitrary_signed_json_never_panics(value in json(), message_type in "[a-z_]{0,8}") {
            let mut value = value;
            if let Some(map) = value.as_object_mut() {
                map.insert("code".into(), 10.into());
            }
            let _ = signed(&value.to_string());
            let wrapped = serde_json::json!({"code": 10, "shop_id": 1, "data": {"type": "message",
                "content": {"message_id": 1, "from_id": 2, "message_type": message_type, "content": value}}});
            let _ = signed(&wrapped.to_string());
        }
    }
}
