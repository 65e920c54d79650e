//! Sending through Meta's Graph API, shared by WhatsApp, Messenger and Instagram: calling it
//! with the account's access token, reading its answers and errors, and the Messenger Platform's
//! Send API and comment replies, which Messenger and Instagram share.
//!
//! A message with text and several attachments is several Graph calls (each Graph message holds
//! one attachment); they are made in order and the first one's id is the message's id. When a
//! later one fails the earlier ones are out already, so the outcome is `partial_send`: permanent,
//! because a retry would send those again.

use reqwest::header::{CONTENT_TYPE, RETRY_AFTER};
use serde_json::{Value, json};
use switchboard_domain::{Attachment, MessageTag};

use crate::send::{OutboundMessage, SendOutcome, Target, classify_status};
use crate::webhook::secret;

/// Graph error codes that are rate limits or temporary failures: worth trying again later.
/// 1 and 2: unknown or temporary API failure; 4, 17, 32, 613: app, user, page and call-rate
/// limits; 80007: WhatsApp account rate limit; 130429: WhatsApp throughput limit; 131016:
/// WhatsApp service unavailable; 131056: too many messages to the same customer (pair rate limit).
pub const TRANSIENT_CODES: &[i64] = &[1, 2, 4, 17, 32, 613, 80007, 130429, 131016, 131056];

/// One Graph API call of a send.
pub(crate) struct GraphCall {
    pub url: String,
    pub body: GraphBody,
    /// Where the success answer names the new message or comment.
    pub id: fn(&Value) -> Option<String>,
}

pub(crate) enum GraphBody {
    Json(Value),
    /// Form parameters (comment replies).
    Form(Vec<(&'static str, String)>),
}

/// The account's access token, or the outcome to report without one.
pub(crate) fn access_token<'a>(msg: &OutboundMessage<'a>, product: &str) -> Result<&'a str, SendOutcome> {
    secret(msg.secrets, "access_token")
        .map_err(|_| SendOutcome::permanent("missing_secret", format!("the {product} line has no access_token secret")))
}

/// `value` as one path segment: ids are digits and underscores, but a stray `/` or `?` must not
/// reach another endpoint.
pub(crate) fn segment(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.trim().bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The address of a Graph edge: `{base}/{node}/{edge}`.
pub(crate) fn edge_url(msg: &OutboundMessage<'_>, node: &str, edge: &str) -> String {
    format!("{}/{}/{edge}", msg.api_base_url.trim_end_matches('/'), segment(node))
}

/// A string or number id at `pointer` in a success answer.
fn id_at(answer: &Value, pointer: &str) -> Option<String> {
    match answer.pointer(pointer)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// WhatsApp: `messages[0].id`, the wamid that status webhooks name.
pub(crate) fn wamid(answer: &Value) -> Option<String> {
    id_at(answer, "/messages/0/id")
}

/// The Send API: `message_id`.
pub(crate) fn message_id(answer: &Value) -> Option<String> {
    id_at(answer, "/message_id")
}

/// A new comment: `id`.
pub(crate) fn object_id(answer: &Value) -> Option<String> {
    id_at(answer, "/id")
}

/// Makes the calls in order; the first accepted one's id names the message.
pub(crate) async fn send_calls(http: &reqwest::Client, token: &str, calls: Vec<GraphCall>) -> SendOutcome {
    let total = calls.len();
    let mut sent = 0;
    let mut first_id: Option<String> = None;
    for call in &calls {
        match call_once(http, token, call).await {
            SendOutcome::Accepted { platform_message_id } => {
                sent += 1;
                first_id = first_id.or(platform_message_id);
            }
            failure if sent == 0 => return failure,
            failure => return partial(sent, total, first_id.as_deref(), &failure),
        }
    }
    if sent == 0 {
        return SendOutcome::permanent("empty_message", "nothing to send: no text and no attachment");
    }
    SendOutcome::Accepted { platform_message_id: first_id }
}

/// A failure after part of the message went out.
fn partial(sent: usize, total: usize, first_id: Option<&str>, failure: &SendOutcome) -> SendOutcome {
    let why = match failure {
        SendOutcome::Permanent { code, message } => format!("{code}: {message}"),
        SendOutcome::Transient { reason, .. } | SendOutcome::Unconfirmed { reason } => reason.clone(),
        SendOutcome::Accepted { .. } => String::new(),
    };
    let first = first_id.map(|id| format!(" (the first is {id})")).unwrap_or_default();
    SendOutcome::permanent(
        "partial_send",
        format!("only {sent} of the {total} parts of this message were sent{first}; the next one failed: {why}"),
    )
}

async fn call_once(http: &reqwest::Client, token: &str, call: &GraphCall) -> SendOutcome {
    let request = http.post(&call.url).bearer_auth(token);
    let request = match &call.body {
        GraphBody::Json(body) => request.json(body),
        GraphBody::Form(params) => {
            let form = form_urlencoded::Serializer::new(String::new()).extend_pairs(params).finish();
            request.header(CONTENT_TYPE, "application/x-www-form-urlencoded").body(form)
        }
    };
    let response = match request.send().await {
        Ok(response) => response,
        Err(e) => return SendOutcome::from_transport(&e.without_url()),
    };
    let status = response.status().as_u16();
    let retry_after = response.headers().get(RETRY_AFTER).and_then(|v| v.to_str().ok()).map(str::to_owned);
    // A 2xx whose body got lost still went out: it is accepted, only without an id.
    let body = response.bytes().await.unwrap_or_default();
    outcome(status, retry_after.as_deref(), &body, call.id)
}

/// Classifies a Graph API answer: 2xx is accepted (with the id `id` finds), 429 and 5xx are
/// transient, and a Graph error is transient when its code is a rate limit or temporary failure
/// ([`TRANSIENT_CODES`], or `is_transient: true`), else permanent with Meta's code.
pub fn outcome(status: u16, retry_after: Option<&str>, body: &[u8], id: fn(&Value) -> Option<String>) -> SendOutcome {
    if (200..300).contains(&status) {
        let answer: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        return SendOutcome::Accepted { platform_message_id: id(&answer) };
    }
    if let Some(outcome) = classify_status(status, retry_after) {
        return outcome;
    }
    match GraphError::read(body) {
        Some(error) => error.outcome(status),
        None if status == 408 => SendOutcome::transient("the platform timed out the request (408)"),
        None => {
            let text: String = String::from_utf8_lossy(body).chars().take(300).collect();
            let text = text.trim();
            let message = if text.is_empty() { format!("the platform answered {status}") } else { text.to_owned() };
            SendOutcome::permanent(format!("http_{status}"), message)
        }
    }
}

/// `{"error": {"message", "type", "code", "error_subcode", "error_user_title", "error_data": {"details"}, "is_transient"}}`.
struct GraphError {
    code: Option<i64>,
    subcode: Option<i64>,
    message: String,
    details: Option<String>,
    is_transient: bool,
}

impl GraphError {
    fn read(body: &[u8]) -> Option<GraphError> {
        let answer: Value = serde_json::from_slice(body).ok()?;
        let error = answer.get("error").filter(|e| e.is_object())?;
        let number = |v: Option<&Value>| match v {
            Some(Value::Number(n)) => n.as_i64(),
            Some(Value::String(s)) => s.trim().parse().ok(),
            _ => None,
        };
        let text =
            |v: Option<&Value>| v.and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
        Some(GraphError {
            code: number(error.get("code")),
            subcode: number(error.get("error_subcode")),
            message: text(error.get("message"))
                .or_else(|| text(error.get("error_user_title")))
                .or_else(|| text(error.get("title")))
                .unwrap_or_default(),
            details: text(error.pointer("/error_data/details")).or_else(|| text(error.get("error_user_msg"))),
            is_transient: error.get("is_transient").and_then(Value::as_bool) == Some(true),
        })
    }

    /// Meta's text, its details, and the subcode (which says more than the code: code 10 is any
    /// permission problem, subcode 2018278 the closed window).
    fn text(&self, status: u16) -> String {
        let mut text =
            if self.message.is_empty() { format!("the platform answered {status}") } else { self.message.clone() };
        if let Some(details) = self.details.as_deref().filter(|d| !text.contains(d)) {
            text = format!("{text}: {details}");
        }
        if let Some(subcode) = self.subcode {
            text = format!("{text} (subcode {subcode})");
        }
        text
    }

    fn outcome(&self, status: u16) -> SendOutcome {
        let text = self.text(status);
        let Some(code) = self.code else {
            return SendOutcome::permanent(format!("http_{status}"), text);
        };
        if self.is_transient || TRANSIENT_CODES.contains(&code) {
            SendOutcome::transient(format!("{code}: {text}"))
        } else {
            SendOutcome::permanent(code.to_string(), text)
        }
    }
}

// ---- The Messenger Platform's Send API and comment replies (Messenger and Instagram) ----

/// The two products that share the Send API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Messaging {
    Messenger,
    Instagram,
}

impl Messaging {
    fn name(self) -> &'static str {
        match self {
            Messaging::Messenger => "Messenger",
            Messaging::Instagram => "Instagram",
        }
    }
}

/// Sends one outbound message of a Messenger Platform product (see [`crate::messenger::send`]).
pub(crate) async fn send_messaging(
    http: &reqwest::Client,
    msg: &OutboundMessage<'_>,
    product: Messaging,
) -> SendOutcome {
    let token = match access_token(msg, product.name()) {
        Ok(token) => token,
        Err(outcome) => return outcome,
    };
    match messaging_calls(msg, product) {
        Ok(calls) => send_calls(http, token, calls).await,
        Err(outcome) => outcome,
    }
}

/// The Graph calls that send `msg`, or why it cannot be sent.
pub(crate) fn messaging_calls(msg: &OutboundMessage<'_>, product: Messaging) -> Result<Vec<GraphCall>, SendOutcome> {
    let name = product.name();
    if msg.template.is_some() {
        return Err(SendOutcome::permanent(
            "unsupported",
            format!(
                "{name} has no template messages: within 7 days of the customer's last message a person replies \
                 with the HUMAN_AGENT tag"
            ),
        ));
    }
    let body = msg.body.filter(|b| !b.trim().is_empty());
    match msg.target {
        Target::Direct { recipient } => {
            let recipient = id(recipient, "the customer's id")?;
            let (messaging_type, tag) = match msg.tag {
                Some(MessageTag::HumanAgent) => ("MESSAGE_TAG", Some("HUMAN_AGENT")),
                None => ("RESPONSE", None),
            };
            let calls = parts(body, msg.attachments, name)?
                .into_iter()
                .map(|message| {
                    let mut call = json!({
                        "recipient": {"id": recipient},
                        "messaging_type": messaging_type,
                        "message": with_metadata(message, msg, product),
                    });
                    if let Some(tag) = tag {
                        call["tag"] = json!(tag);
                    }
                    GraphCall {
                        url: edge_url(msg, msg.business_id, "messages"),
                        body: GraphBody::Json(call),
                        id: message_id,
                    }
                })
                .collect();
            Ok(calls)
        }
        Target::PrivateReply { comment } => {
            let comment = id(comment, "the comment id")?;
            // One private reply per comment: it must be one message. It is not bound by the
            // 24-hour window (7 days from the comment), so it carries no messaging type or tag.
            let mut messages = parts(body, msg.attachments, name)?;
            if messages.len() > 1 {
                return Err(SendOutcome::permanent(
                    "unsupported",
                    "a private reply is a single message: send either its text or one attachment",
                ));
            }
            let message = with_metadata(messages.remove(0), msg, product);
            let call = json!({ "recipient": {"comment_id": comment}, "message": message });
            Ok(vec![GraphCall {
                url: edge_url(msg, msg.business_id, "messages"),
                body: GraphBody::Json(call),
                id: message_id,
            }])
        }
        Target::PublicReply { reply_to } => {
            let reply_to = id(reply_to, "the comment id")?;
            if !msg.attachments.is_empty() {
                let what = match product {
                    Messaging::Messenger => "Facebook public replies cannot carry attachments",
                    Messaging::Instagram => "Instagram comment replies cannot carry attachments",
                };
                return Err(SendOutcome::permanent("unsupported", what));
            }
            let text = body.ok_or_else(|| SendOutcome::permanent("empty_message", "a public reply needs text"))?;
            let edge = match product {
                Messaging::Messenger => "comments",
                Messaging::Instagram => "replies",
            };
            let form = vec![("message", text.to_owned())];
            Ok(vec![GraphCall { url: edge_url(msg, reply_to, edge), body: GraphBody::Form(form), id: object_id }])
        }
        Target::Group { .. } => {
            Err(SendOutcome::permanent("unsupported", format!("{name} has no group chats to send to")))
        }
    }
}

/// A non-blank id, or the outcome that names what is missing.
fn id<'a>(value: &'a str, what: &str) -> Result<&'a str, SendOutcome> {
    let value = value.trim();
    if value.is_empty() {
        Err(SendOutcome::permanent("invalid_recipient", format!("{what} is empty")))
    } else {
        Ok(value)
    }
}

/// Messenger echoes `message.metadata` in its `message_echoes`: the outbox key ties an echo to
/// the send. Instagram does not document it.
fn with_metadata(mut message: Value, msg: &OutboundMessage<'_>, product: Messaging) -> Value {
    if product == Messaging::Messenger && !msg.idempotency_key.trim().is_empty() {
        message["metadata"] = json!(msg.idempotency_key);
    }
    message
}

/// The `message` objects of a DM: the text, then each attachment (one per message).
fn parts(body: Option<&str>, attachments: &[Attachment], product: &str) -> Result<Vec<Value>, SendOutcome> {
    let mut messages = Vec::new();
    if let Some(text) = body {
        messages.push(json!({ "text": text }));
    }
    for attachment in attachments {
        messages.push(json!({ "attachment": attachment_object(attachment, product)? }));
    }
    if messages.is_empty() {
        return Err(SendOutcome::permanent("empty_message", "nothing to send: no text and no attachment"));
    }
    Ok(messages)
}

/// `{type, payload: {url}}` (or `{attachment_id}` for media uploaded to Meta): stickers go as
/// images, documents and anything else as files.
fn attachment_object(attachment: &Attachment, product: &str) -> Result<Value, SendOutcome> {
    let kind = match attachment.kind.as_str() {
        "image" | "sticker" => "image",
        "video" => "video",
        "audio" => "audio",
        _ => "file",
    };
    let url = attachment.url.as_deref().map(str::trim).filter(|u| !u.is_empty());
    let media_id = attachment.media_id.as_deref().map(str::trim).filter(|m| !m.is_empty());
    let payload = match (url, media_id) {
        (Some(url), _) => json!({ "url": url }),
        (None, Some(media_id)) => json!({ "attachment_id": media_id }),
        (None, None) => {
            return Err(SendOutcome::permanent(
                "unsupported",
                format!("{product} sends attachments by URL: this {} has none", attachment.kind),
            ));
        }
    };
    Ok(json!({ "type": kind, "payload": payload }))
}

#[cfg(test)]
pub(crate) mod testing {
    //! Helpers for the send tests of the three Meta modules, against the fake platforms.

    use serde_json::Value;
    use switchboard_domain::{Attachment, ChannelKind};
    use switchboard_fakes::{FakePlatforms, Recorded};

    use crate::send::{OutboundMessage, SendOutcome, Target};
    use crate::webhook::Secrets;

    pub(crate) const TOKEN: &str = "EAAtest-page-token";
    pub(crate) const KEY: &str = "0190f3a4-7d1e-7c2b-9a11-5b7f0e2d4c01";

    pub(crate) fn token(token: &str) -> Secrets {
        let mut s = Secrets::new();
        s.insert("access_token".into(), token.into());
        s
    }

    /// A plain message: no attachments, template, tag or reply token.
    pub(crate) fn outbound<'a>(
        kind: ChannelKind,
        business_id: &'a str,
        secrets: &'a Secrets,
        api_base_url: &'a str,
        target: Target<'a>,
        body: Option<&'a str>,
    ) -> OutboundMessage<'a> {
        OutboundMessage {
            kind,
            business_id,
            secrets,
            api_base_url,
            target,
            body,
            attachments: &[],
            template: None,
            tag: None,
            reply_token: None,
            idempotency_key: KEY,
        }
    }

    pub(crate) fn attachment(kind: &str, url: &str, filename: Option<&str>) -> Attachment {
        Attachment {
            kind: kind.into(),
            url: Some(url.into()),
            media_id: None,
            mime_type: None,
            filename: filename.map(Into::into),
        }
    }

    /// A running fake and the API address of `kind` on it.
    pub(crate) async fn fake(kind: &str) -> (FakePlatforms, String) {
        let fake = FakePlatforms::spawn("127.0.0.1:0").await.expect("the fake starts");
        let base = format!("{}/{kind}", fake.base_url);
        (fake, base)
    }

    pub(crate) fn json(recorded: &Recorded) -> Value {
        serde_json::from_str(&recorded.body).expect("a JSON body")
    }

    pub(crate) fn form(recorded: &Recorded) -> Vec<(String, String)> {
        form_urlencoded::parse(recorded.body.as_bytes()).into_owned().collect()
    }

    pub(crate) fn header<'a>(recorded: &'a Recorded, name: &str) -> Option<&'a str> {
        recorded.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    pub(crate) fn accepted_id(outcome: SendOutcome) -> String {
        match outcome {
            SendOutcome::Accepted { platform_message_id: Some(id) } => id,
            other => panic!("accepted with an id expected, got {other:?}"),
        }
    }

    /// The message of a permanent outcome with `code`.
    pub(crate) fn permanent(outcome: SendOutcome, code: &str) -> String {
        match outcome {
            SendOutcome::Permanent { code: got, message } if got == code => message,
            other => panic!("permanent {code} expected, got {other:?}"),
        }
    }

    pub(crate) fn is_transient(outcome: &SendOutcome) -> bool {
        matches!(outcome, SendOutcome::Transient { .. })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use proptest::prelude::*;

    use super::*;

    fn graph_error(code: Value, subcode: Option<i64>, extra: Value) -> Vec<u8> {
        let mut error = json!({"message": "(#x) Something", "type": "OAuthException", "code": code,
                               "fbtrace_id": "ATest"});
        if let Some(subcode) = subcode {
            error["error_subcode"] = json!(subcode);
        }
        if let (Some(error), Some(extra)) = (error.as_object_mut(), extra.as_object()) {
            error.extend(extra.clone());
        }
        json!({ "error": error }).to_string().into_bytes()
    }

    #[test]
    fn the_outside_window_example_is_permanent_code_10_and_keeps_its_subcode() {
        let body = include_bytes!("../../../../fixtures/channels/messenger/error_outside_window.json");
        match outcome(400, None, body, message_id) {
            SendOutcome::Permanent { code, message } => {
                assert_eq!(code, "10");
                assert!(message.contains("outside of allowed window"), "{message}");
                assert!(message.contains("2018278"), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn rate_limit_codes_are_transient_and_other_codes_permanent() {
        for code in [1, 2, 4, 17, 32, 613, 80007, 130429, 131016, 131056] {
            assert!(
                matches!(
                    outcome(400, None, &graph_error(json!(code), None, json!({})), wamid),
                    SendOutcome::Transient { .. }
                ),
                "{code}"
            );
        }
        for code in [10, 100, 190, 551, 10900, 131026, 131047, 131051, 132000, 132001, 2018108] {
            let got = outcome(400, None, &graph_error(json!(code), None, json!({})), wamid);
            assert_eq!(got, SendOutcome::permanent(code.to_string(), "(#x) Something"), "{code}");
        }
    }

    #[test]
    fn a_code_sent_as_a_string_and_the_is_transient_flag_are_understood() {
        let got = outcome(400, None, &graph_error(json!("131047"), None, json!({})), wamid);
        assert!(matches!(got, SendOutcome::Permanent { ref code, .. } if code == "131047"), "{got:?}");
        let flagged = outcome(400, None, &graph_error(json!(100), None, json!({"is_transient": true})), wamid);
        assert!(matches!(flagged, SendOutcome::Transient { .. }), "{flagged:?}");
    }

    #[test]
    fn whatsapp_details_and_the_subcode_are_added_to_the_message() {
        let body = graph_error(
            json!(131047),
            Some(2494010),
            json!({"error_data": {"messaging_product": "whatsapp", "details": "24 hours have passed"}}),
        );
        assert_eq!(
            outcome(400, None, &body, wamid),
            SendOutcome::permanent("131047", "(#x) Something: 24 hours have passed (subcode 2494010)")
        );
    }

    #[test]
    fn server_errors_and_429_are_transient_whatever_the_body_says() {
        let body = graph_error(json!(131047), None, json!({}));
        assert_eq!(
            outcome(429, Some("7"), &body, wamid),
            SendOutcome::Transient {
                reason: "the platform asked us to slow down (429)".into(),
                retry_after: Some(Duration::from_secs(7))
            }
        );
        assert!(matches!(outcome(503, None, &body, wamid), SendOutcome::Transient { .. }));
        assert!(matches!(outcome(408, None, b"", wamid), SendOutcome::Transient { .. }));
    }

    #[test]
    fn an_answer_without_a_graph_error_keeps_the_http_status_as_code() {
        assert_eq!(
            outcome(404, None, b"<html>Not found</html>", wamid),
            SendOutcome::permanent("http_404", "<html>Not found</html>")
        );
        assert_eq!(outcome(401, None, b"", wamid), SendOutcome::permanent("http_401", "the platform answered 401"));
        assert_eq!(
            outcome(400, None, br#"{"error": {"message": "no code"}}"#, wamid),
            SendOutcome::permanent("http_400", "no code")
        );
    }

    #[test]
    fn ids_are_read_where_each_answer_puts_them() {
        let wa =
            br#"{"messaging_product":"whatsapp","contacts":[{"input":"1","wa_id":"1"}],"messages":[{"id":"wamid.X"}]}"#;
        assert_eq!(
            outcome(200, None, wa, wamid),
            SendOutcome::Accepted { platform_message_id: Some("wamid.X".into()) }
        );
        let dm = include_bytes!("../../../../fixtures/channels/messenger/send_api_success_response.json");
        assert_eq!(
            outcome(200, None, dm, message_id),
            SendOutcome::Accepted { platform_message_id: Some("m_TESTpageOut0009".into()) }
        );
        assert_eq!(
            outcome(200, None, br#"{"id": 1790}"#, object_id),
            SendOutcome::Accepted { platform_message_id: Some("1790".into()) }
        );
        assert_eq!(outcome(200, None, b"not json", wamid), SendOutcome::Accepted { platform_message_id: None });
        assert_eq!(
            outcome(200, None, br#"{"messages": []}"#, wamid),
            SendOutcome::Accepted { platform_message_id: None }
        );
    }

    #[test]
    fn ids_in_paths_cannot_leave_their_segment() {
        assert_eq!(segment("123_456"), "123_456");
        assert_eq!(segment("../me/messages?x=1"), "..%2Fme%2Fmessages%3Fx%3D1");
    }

    proptest! {
        #[test]
        fn any_answer_is_classified_without_panicking(status in 100u16..600, body in prop::collection::vec(any::<u8>(), 0..256)) {
            let _ = outcome(status, None, &body, wamid);
            let _ = outcome(status, Some("x"), &body, message_id);
        }

        #[test]
        fn any_graph_error_shape_is_classified_without_panicking(
            status in 400u16..500,
            body in crate::meta::testing::arb_json(),
        ) {
            let body = json!({ "error": body }).to_string();
            let _ = outcome(status, None, body.as_bytes(), object_id);
        }
    }
}

#[cfg(test)]
mod fake_tests {
    //! The fake Graph endpoints refuse what Meta refuses, in Meta's error shape.

    use serde_json::{Value, json};

    use super::testing::*;
    use crate::send::http_client;

    async fn post_json(url: &str, token: Option<&str>, body: Value) -> (u16, Value) {
        let mut request = http_client().post(url).json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("the fake answers");
        (response.status().as_u16(), response.json().await.unwrap_or(Value::Null))
    }

    fn code(answer: &Value) -> i64 {
        answer["error"]["code"].as_i64().unwrap_or_else(|| panic!("a Graph error expected: {answer}"))
    }

    #[tokio::test]
    async fn a_missing_token_is_104_and_an_invalid_one_190() {
        let (_fake, base) = fake("whatsapp").await;
        let body = json!({"messaging_product": "whatsapp", "to": "4477", "type": "text", "text": {"body": "x"}});
        let url = format!("{base}/1/messages");
        let (status, answer) = post_json(&url, None, body.clone()).await;
        assert_eq!((status, code(&answer)), (401, 104));
        let (status, answer) = post_json(&url, Some("invalid"), body.clone()).await;
        assert_eq!((status, code(&answer)), (401, 190));
        assert_eq!(answer["error"]["type"], "OAuthException");
        let (status, answer) = post_json(&format!("{url}?access_token={TOKEN}"), None, body).await;
        assert_eq!(status, 200, "{answer}");
    }

    #[tokio::test]
    async fn whatsapp_refuses_a_message_without_product_recipient_or_text_with_code_100() {
        let (fake, base) = fake("whatsapp").await;
        let url = format!("{base}/1/messages");
        for body in [
            json!({"to": "4477", "type": "text", "text": {"body": "x"}}),
            json!({"messaging_product": "whatsapp", "type": "text", "text": {"body": "x"}}),
            json!({"messaging_product": "whatsapp", "to": "4477", "type": "text", "text": {"body": ""}}),
            json!({"messaging_product": "whatsapp", "to": "4477", "type": "image", "image": {"caption": "x"}}),
            json!({"messaging_product": "whatsapp", "to": "4477", "type": "audio",
                   "audio": {"link": "https://a.test/x.ogg", "caption": "x"}}),
            json!({"messaging_product": "whatsapp", "to": "4477", "type": "template", "template": {"name": "t"}}),
            json!({"messaging_product": "whatsapp", "to": "4477", "type": "hologram", "hologram": {}}),
        ] {
            let (status, answer) = post_json(&url, Some(TOKEN), body.clone()).await;
            assert_eq!((status, code(&answer)), (400, 100), "{body}");
            assert_eq!(answer["error"]["error_data"]["messaging_product"], "whatsapp");
        }
        assert!(fake.state.accepted("whatsapp").is_empty());
    }

    #[tokio::test]
    async fn the_send_api_refuses_a_call_without_recipient_message_or_a_valid_tag() {
        let (fake, base) = fake("messenger").await;
        let url = format!("{base}/1/messages");
        for body in [
            json!({"messaging_type": "RESPONSE", "message": {"text": "x"}}),
            json!({"recipient": {"id": "7"}, "messaging_type": "RESPONSE"}),
            json!({"recipient": {"id": "7"}, "message": {"text": "x"}}),
            json!({"recipient": {"id": "7"}, "messaging_type": "MESSAGE_TAG", "message": {"text": "x"}}),
            json!({"recipient": {"id": "7"}, "messaging_type": "MESSAGE_TAG", "tag": "SHOUTING", "message": {"text": "x"}}),
            json!({"recipient": {"id": "7"}, "messaging_type": "RESPONSE", "tag": "HUMAN_AGENT", "message": {"text": "x"}}),
            json!({"recipient": {"id": "7"}, "messaging_type": "RESPONSE",
                   "message": {"text": "x", "attachment": {"type": "image", "payload": {"url": "https://a.test/x.png"}}}}),
            json!({"recipient": {"id": "7"}, "messaging_type": "RESPONSE",
                   "message": {"attachment": {"type": "image", "payload": {}}}}),
            json!({"recipient": {"id": "7"}, "messaging_type": "RESPONSE", "message": {"text": "x".repeat(2001)}}),
        ] {
            let (status, answer) = post_json(&url, Some(TOKEN), body.clone()).await;
            assert_eq!((status, code(&answer)), (400, 100), "{body}");
        }
        assert!(fake.state.accepted("messenger").is_empty());
    }

    #[tokio::test]
    async fn instagram_takes_only_the_human_agent_tag_and_needs_no_messaging_type() {
        let (_fake, base) = fake("instagram").await;
        let url = format!("{base}/1/messages");
        let (status, _) =
            post_json(&url, Some(TOKEN), json!({"recipient": {"id": "7"}, "message": {"text": "x"}})).await;
        assert_eq!(status, 200);
        let tagged = json!({"recipient": {"id": "7"}, "messaging_type": "MESSAGE_TAG", "tag": "ACCOUNT_UPDATE",
                            "message": {"text": "x"}});
        let (status, answer) = post_json(&url, Some(TOKEN), tagged).await;
        assert_eq!((status, code(&answer)), (400, 100));
    }

    #[tokio::test]
    async fn a_comment_reply_takes_its_message_from_the_query_a_form_or_json() {
        let (fake, base) = fake("instagram").await;
        let url = format!("{base}/1810/replies");
        let http = http_client();
        let query = http.post(format!("{url}?message=Hi%20Nina&access_token={TOKEN}")).send().await.unwrap();
        assert_eq!(query.status().as_u16(), 200);
        let form = http
            .post(&url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("message=Hi&access_token={TOKEN}"))
            .send()
            .await
            .unwrap();
        assert_eq!(form.status().as_u16(), 200);
        let (status, answer) = post_json(&url, Some(TOKEN), json!({"message": "Hi"})).await;
        assert_eq!(status, 200);
        assert!(answer["id"].is_string());
        let (status, answer) = post_json(&url, Some(TOKEN), json!({"attachment_url": "https://a.test/x.png"})).await;
        assert_eq!((status, code(&answer)), (400, 100), "Instagram replies are text only");
        assert_eq!(fake.state.accepted("instagram").len(), 3);
    }
}
