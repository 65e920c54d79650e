//! Sending through Shopee Open Platform v2: seller chat messages and review replies.
//!
//! Every call is a signed shop-level call: query `partner_id`, `timestamp` (unix seconds; Shopee refuses one
//! older than five minutes), `access_token`, `shop_id` (the line's id) and `sign` = [`sign_api_call`] over
//! `partner_id + api_path + timestamp + access_token + shop_id` with the `partner_key`.
//!
//! - [`Target::Direct`] → `POST /api/v2/sellerchat/send_message` `{"to_id": <buyer user id>, "message_type":
//!   "text", "content": {"text": …}}` (the buyer id is the sender id inbound chat messages carry); the answer's
//!   `response.message_id` is the message's id.
//! - [`Target::PublicReply`] → `POST /api/v2/product/reply_comment` `{"comment_list": [{"comment_id": <review>,
//!   "comment": …}]}`; the batch answer lists a `fail_error` per comment, and a reply has no id of its own.
//!
//! Images need an upload to Shopee first (`/sellerchat/upload_image`), so attachments are refused here.
//!
//! Answers are `{"request_id", "error", "message", "response"}`; a non-empty `error` is the code. Shopee's server
//! side and rate limits (`error_server`, `error_inner`, `error_network`, anything "busy" or "too many", a 429 or
//! 5xx) are transient; the rest (`error_auth` for a wrong or expired token, `error_sign`, `error_param`,
//! `error_permission`, …) permanent. Shopee's docs are behind a login: the code list is from SDKs.

use serde::Deserialize;
use time::OffsetDateTime;

use super::sign_api_call;
use crate::send::{OutboundMessage, SendOutcome, Target, classify_status};
use crate::webhook::Secrets;

/// The seller chat send call.
pub const SEND_MESSAGE: &str = "/api/v2/sellerchat/send_message";
/// The review reply call.
pub const REPLY_COMMENT: &str = "/api/v2/product/reply_comment";

/// The request a message becomes: the signed URL and the JSON body.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub api_path: &'static str,
    pub url: String,
    pub body: serde_json::Value,
}

fn need<'a>(secrets: &'a Secrets, name: &'static str) -> Result<&'a str, SendOutcome> {
    crate::send::need_secret(secrets, name, "Shopee")
}

use crate::send::unsupported;

/// A Shopee id: a 64-bit number in JSON, written as text everywhere else.
fn numeric_id(value: &str, what: &str) -> Result<u64, SendOutcome> {
    value.trim().parse().map_err(|_| SendOutcome::permanent("invalid_recipient", format!("{what} is not a Shopee id")))
}

/// Builds the signed request for `msg` at `timestamp` (unix seconds), or says why it cannot be sent.
pub fn request(msg: &OutboundMessage<'_>, timestamp: i64) -> Result<Request, SendOutcome> {
    if msg.template.is_some() {
        return Err(unsupported("Shopee chat has no templates: send the text itself"));
    }
    if !msg.attachments.is_empty() {
        return Err(unsupported("Shopee chat takes images uploaded to Shopee, not links: send the link in the text"));
    }
    let text = msg.body.filter(|b| !b.trim().is_empty());
    let text = text.ok_or_else(|| SendOutcome::permanent("empty_message", "a message needs a body"))?;
    let (api_path, body) = match msg.target {
        Target::Direct { recipient } => {
            let to_id = numeric_id(recipient, "the buyer")?;
            (SEND_MESSAGE, serde_json::json!({"to_id": to_id, "message_type": "text", "content": {"text": text}}))
        }
        Target::PublicReply { reply_to } => {
            let comment_id = numeric_id(reply_to, "the review")?;
            (REPLY_COMMENT, serde_json::json!({"comment_list": [{"comment_id": comment_id, "comment": text}]}))
        }
        Target::Group { .. } => return Err(unsupported("Shopee chat has no group chats")),
        Target::PrivateReply { .. } => {
            return Err(unsupported("Shopee has no private replies to reviews: write to the buyer's chat"));
        }
    };
    let partner_id = need(msg.secrets, "partner_id")?;
    let partner_key = need(msg.secrets, "partner_key")?;
    let access_token = need(msg.secrets, "access_token")?;
    let shop_id = msg.business_id;
    let sign = sign_api_call(partner_key, partner_id, api_path, timestamp, access_token, shop_id);
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("partner_id", partner_id)
        .append_pair("timestamp", &timestamp.to_string())
        .append_pair("access_token", access_token)
        .append_pair("shop_id", shop_id)
        .append_pair("sign", &sign)
        .finish();
    Ok(Request { api_path, url: format!("{}{api_path}?{query}", msg.api_base_url), body })
}

/// Sends `msg` to the buyer's chat or as a review reply, and classifies Shopee's answer.
pub async fn send(http: &reqwest::Client, msg: &OutboundMessage<'_>) -> SendOutcome {
    let request = match request(msg, OffsetDateTime::now_utc().unix_timestamp()) {
        Ok(request) => request,
        Err(outcome) => return outcome,
    };
    let call = http.post(&request.url).header(reqwest::header::ACCEPT, "application/json").json(&request.body);
    match crate::send::call(call).await {
        Ok(reply) => outcome(request.api_path, reply.status, reply.retry_after.as_deref(), &reply.body),
        Err(outcome) => outcome,
    }
}

#[derive(Deserialize)]
struct Answer {
    error: Option<String>,
    message: Option<String>,
    response: Option<serde_json::Value>,
}

/// Whether a Shopee error code means "try again later".
pub fn is_transient(code: &str) -> bool {
    let code = code.to_ascii_lowercase();
    matches!(code.as_str(), "error_server" | "error_inner" | "error_network" | "error_timeout")
        || ["busy", "too_many", "too_frequent", "rate_limit"].iter().any(|word| code.contains(word))
}

fn text(value: Option<&serde_json::Value>) -> Option<String> {
    match value? {
        serde_json::Value::String(s) => Some(s.trim().to_owned()).filter(|s| !s.is_empty()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Classifies Shopee's answer to a call to `api_path`.
pub fn outcome(api_path: &str, status: u16, retry_after: Option<&str>, body: &[u8]) -> SendOutcome {
    if let Some(transient) = classify_status(status, retry_after) {
        return transient;
    }
    let answer: Option<Answer> = serde_json::from_slice(body).ok();
    let Some(answer) = answer else {
        return if (200..300).contains(&status) {
            SendOutcome::Accepted { platform_message_id: None }
        } else {
            SendOutcome::permanent(format!("http_{status}"), format!("Shopee answered {status}"))
        };
    };
    let message = answer.message.filter(|m| !m.trim().is_empty());
    if let Some(code) = answer.error.filter(|e| !e.trim().is_empty()) {
        let message = message.unwrap_or_else(|| format!("Shopee refused the call ({code})"));
        return if is_transient(&code) {
            SendOutcome::transient(format!("Shopee: {message} ({code})"))
        } else {
            SendOutcome::permanent(code, message)
        };
    }
    if !(200..300).contains(&status) {
        return SendOutcome::permanent(
            format!("http_{status}"),
            message.unwrap_or_else(|| format!("Shopee answered {status}")),
        );
    }
    let response = answer.response.unwrap_or_default();
    if api_path == REPLY_COMMENT {
        let results = response.get("result_list").and_then(|r| r.as_array()).cloned().unwrap_or_default();
        if let Some(failed) = results.iter().find(|r| text(r.get("fail_error")).is_some()) {
            let code = text(failed.get("fail_error")).unwrap_or_default();
            let message =
                text(failed.get("fail_message")).unwrap_or_else(|| format!("Shopee refused the reply ({code})"));
            return SendOutcome::permanent(code, message);
        }
        return SendOutcome::Accepted { platform_message_id: None };
    }
    SendOutcome::Accepted { platform_message_id: text(response.get("message_id")) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use switchboard_domain::{Attachment, ChannelKind};
    use switchboard_fakes::{FakePlatforms, Fault};

    const PARTNER_KEY: &str = "helpdesk-test-partner-key";
    const SHOP: &str = "880012345";
    const BUYER: &str = "6648342";
    const VECTOR: &str = include_str!("../../../../fixtures/channels/marketplaces/shopee_push_signature.txt");
    const SEND_FIXTURE: &str =
        include_str!("../../../../fixtures/channels/marketplaces/shopee_send_message_request.json");
    const REPLY_FIXTURE: &str =
        include_str!("../../../../fixtures/channels/marketplaces/shopee_reply_comment_request.json");

    fn secrets(access_token: &str) -> Secrets {
        let mut s = Secrets::new();
        for (k, v) in [("partner_id", "2000001"), ("partner_key", PARTNER_KEY), ("access_token", access_token)] {
            s.insert(k.into(), v.into());
        }
        s
    }

    fn message<'a>(
        base: &'a str,
        secrets: &'a Secrets,
        shop: &'a str,
        target: Target<'a>,
        body: Option<&'a str>,
    ) -> OutboundMessage<'a> {
        OutboundMessage {
            kind: ChannelKind::Shopee,
            business_id: shop,
            secrets,
            api_base_url: base,
            target,
            body,
            attachments: &[],
            template: None,
            tag: None,
            reply_token: None,
            idempotency_key: "0190f5d2-7b7a-7000-8000-000000000004",
        }
    }

    fn buyer() -> Target<'static> {
        Target::Direct { recipient: BUYER }
    }

    async fn fake() -> (FakePlatforms, String) {
        let fake = FakePlatforms::spawn("127.0.0.1:0").await.unwrap();
        let base = format!("{}/shopee", fake.base_url);
        (fake, base)
    }

    fn query(url: &str) -> Vec<(String, String)> {
        let (_, query) = url.split_once('?').unwrap();
        form_urlencoded::parse(query.as_bytes()).into_owned().collect()
    }

    fn without_note(fixture: &str) -> serde_json::Value {
        let mut value: serde_json::Value = serde_json::from_str(fixture).unwrap();
        value.as_object_mut().unwrap().remove("_note");
        value
    }

    #[test]
    fn the_chat_request_is_the_fixture_signed_as_the_signing_vector_shows() {
        let secrets = secrets("TESTaccesstoken0001");
        let text = "Yes, 12 left - order today and it ships tomorrow.";
        let msg = message("https://partner.shopeemobile.com", &secrets, SHOP, buyer(), Some(text));
        let request = request(&msg, 1_767_225_600).unwrap();
        assert_eq!(request.body, without_note(SEND_FIXTURE));
        assert!(request.url.starts_with("https://partner.shopeemobile.com/api/v2/sellerchat/send_message?"));
        let expected_sign = VECTOR
            .lines()
            .find_map(|l| l.trim().strip_prefix("sign = hex(HMAC-SHA256(partner_key, base string)) = "))
            .unwrap();
        assert_eq!(
            query(&request.url),
            [
                ("partner_id", "2000001"),
                ("timestamp", "1767225600"),
                ("access_token", "TESTaccesstoken0001"),
                ("shop_id", SHOP),
                ("sign", expected_sign),
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
        );
    }

    #[test]
    fn a_review_reply_is_the_reply_comment_fixture() {
        let secrets = secrets("TESTaccesstoken0001");
        let msg = message(
            "https://partner.shopeemobile.com",
            &secrets,
            SHOP,
            Target::PublicReply { reply_to: "3301234567" },
            Some("Thank you for the 5 stars, Rina!"),
        );
        let request = request(&msg, 1_767_225_600).unwrap();
        assert_eq!(request.body, serde_json::from_str::<serde_json::Value>(REPLY_FIXTURE).unwrap());
        let sign = sign_api_call(PARTNER_KEY, "2000001", REPLY_COMMENT, 1_767_225_600, "TESTaccesstoken0001", SHOP);
        assert!(query(&request.url).contains(&("sign".to_owned(), sign)));
        assert!(request.url.contains("/api/v2/product/reply_comment?"));
    }

    #[tokio::test]
    async fn a_chat_message_is_posted_signed_and_accepted_with_its_message_id() {
        let (fake, base) = fake().await;
        let secrets = secrets("TESTaccesstoken0001");
        let msg = message(&base, &secrets, SHOP, buyer(), Some("Yes, 12 left."));
        let SendOutcome::Accepted { platform_message_id: Some(id) } = send(&crate::send::http_client(), &msg).await
        else {
            panic!("not accepted");
        };
        let accepted = fake.state.accepted("shopee");
        assert_eq!(accepted.len(), 1);
        assert_eq!(accepted[0].platform_message_id.as_deref(), Some(id.as_str()));
        assert!(accepted[0].path.starts_with("/api/v2/sellerchat/send_message?"));
        let body: serde_json::Value = serde_json::from_str(&accepted[0].body).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"to_id": 6648342, "message_type": "text", "content": {"text": "Yes, 12 left."}})
        );
        // The signature the fake received is the one for that timestamp and shop.
        let q = query(&accepted[0].path);
        let get = |name: &str| q.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap();
        let timestamp: i64 = get("timestamp").parse().unwrap();
        assert_eq!(
            get("sign"),
            sign_api_call(PARTNER_KEY, "2000001", SEND_MESSAGE, timestamp, "TESTaccesstoken0001", SHOP)
        );
        assert_eq!(get("shop_id"), SHOP);
    }

    #[tokio::test]
    async fn a_review_reply_is_accepted_without_an_id() {
        let (fake, base) = fake().await;
        let secrets = secrets("TESTaccesstoken0001");
        let msg = message(&base, &secrets, SHOP, Target::PublicReply { reply_to: "3301234567" }, Some("Thanks!"));
        assert_eq!(send(&crate::send::http_client(), &msg).await, SendOutcome::Accepted { platform_message_id: None });
        let accepted = fake.state.accepted("shopee");
        assert!(accepted[0].path.starts_with("/api/v2/product/reply_comment?"));
        let body: serde_json::Value = serde_json::from_str(&accepted[0].body).unwrap();
        assert_eq!(body["comment_list"][0]["comment_id"], 3301234567_u64);
    }

    #[tokio::test]
    async fn two_shops_send_as_themselves() {
        let (fake, base) = fake().await;
        let secrets = secrets("TESTaccesstoken0001");
        let client = crate::send::http_client();
        for shop in [SHOP, "880099999"] {
            assert!(matches!(
                send(&client, &message(&base, &secrets, shop, buyer(), Some("hi"))).await,
                SendOutcome::Accepted { .. }
            ));
        }
        let shops: Vec<String> = fake
            .state
            .accepted("shopee")
            .iter()
            .map(|r| query(&r.path).into_iter().find(|(k, _)| k == "shop_id").unwrap().1)
            .collect();
        assert_eq!(shops, [SHOP, "880099999"]);
    }

    #[tokio::test]
    async fn auth_sign_and_parameter_errors_are_permanent_with_shopees_code() {
        let (fake, base) = fake().await;
        let secrets = secrets("TESTaccesstoken0001");
        let msg = message(&base, &secrets, SHOP, buyer(), Some("hi"));
        for code in ["error_auth", "error_sign", "error_param", "error_permission"] {
            fake.state.fail_next("shopee", Fault::Permanent(code.into()), 1);
            match send(&crate::send::http_client(), &msg).await {
                SendOutcome::Permanent { code: got, message } => {
                    assert_eq!(got, code);
                    assert!(!message.is_empty());
                }
                other => panic!("{code}: {other:?}"),
            }
        }
    }

    #[tokio::test]
    async fn rate_limits_and_server_errors_are_transient() {
        let (fake, base) = fake().await;
        let secrets = secrets("TESTaccesstoken0001");
        let msg = message(&base, &secrets, SHOP, buyer(), Some("hi"));
        let client = crate::send::http_client();
        fake.state.fail_next("shopee", Fault::RateLimited, 1);
        assert!(matches!(send(&client, &msg).await, SendOutcome::Transient { retry_after: Some(_), .. }));
        fake.state.fail_next("shopee", Fault::ServerError, 1);
        assert!(matches!(send(&client, &msg).await, SendOutcome::Transient { .. }));
        fake.state.fail_next("shopee", Fault::Permanent("error_server".into()), 1);
        assert!(matches!(send(&client, &msg).await, SendOutcome::Transient { .. }));
        assert!(matches!(send(&client, &msg).await, SendOutcome::Accepted { .. }));
    }

    #[tokio::test]
    async fn a_wrong_access_token_is_a_permanent_error_auth() {
        let (fake, base) = fake().await;
        let secrets = secrets("wrong-token");
        let msg = message(&base, &secrets, SHOP, buyer(), Some("hi"));
        assert!(matches!(
            send(&crate::send::http_client(), &msg).await,
            SendOutcome::Permanent { code, .. } if code == "error_auth"
        ));
        assert!(fake.state.accepted("shopee").is_empty());
    }

    #[tokio::test]
    async fn nothing_is_sent_without_the_partner_credentials() {
        for missing in ["partner_id", "partner_key", "access_token"] {
            let mut partial = secrets("t");
            partial.remove(missing);
            let msg = message("http://127.0.0.1:9", &partial, SHOP, buyer(), Some("hi"));
            assert!(matches!(
                send(&crate::send::http_client(), &msg).await,
                SendOutcome::Permanent { code, message } if code == "missing_secret" && message.contains(missing)
            ));
        }
    }

    #[test]
    fn groups_private_replies_attachments_and_odd_ids_are_refused_in_words() {
        let secrets = secrets("t");
        for target in [Target::Group { chat: "g" }, Target::PrivateReply { comment: "1" }] {
            let err = request(&message("b", &secrets, SHOP, target, Some("hi")), 0).unwrap_err();
            assert!(
                matches!(err, SendOutcome::Permanent { code, message } if code == "unsupported" && message.len() > 10)
            );
        }
        let picture = [Attachment {
            kind: "image".into(),
            url: Some("https://cdn.example.test/a.jpg".into()),
            media_id: None,
            mime_type: None,
            filename: None,
        }];
        let mut with_media = message("b", &secrets, SHOP, buyer(), Some("hi"));
        with_media.attachments = &picture;
        assert!(matches!(request(&with_media, 0), Err(SendOutcome::Permanent { code, .. }) if code == "unsupported"));
        let by_name = message("b", &secrets, SHOP, Target::Direct { recipient: "rina_shop" }, Some("hi"));
        assert!(
            matches!(request(&by_name, 0), Err(SendOutcome::Permanent { code, .. }) if code == "invalid_recipient")
        );
        assert!(matches!(
            request(&message("b", &secrets, SHOP, buyer(), None), 0),
            Err(SendOutcome::Permanent { code, .. }) if code == "empty_message"
        ));
    }

    #[test]
    fn a_failed_review_reply_in_the_batch_answer_is_permanent() {
        let body = br#"{"request_id": "r", "error": "", "message": "", "response": {"result_list": [
            {"comment_id": 3301234567, "fail_error": "error_comment_replied", "fail_message": "Already replied"}]}}"#;
        assert!(matches!(
            outcome(REPLY_COMMENT, 200, None, body),
            SendOutcome::Permanent { code, message } if code == "error_comment_replied" && message == "Already replied"
        ));
        let busy = br#"{"request_id": "r", "error": "error_system_busy", "message": "System busy"}"#;
        assert!(matches!(outcome(SEND_MESSAGE, 200, None, busy), SendOutcome::Transient { .. }));
        assert!(
            matches!(outcome(SEND_MESSAGE, 403, None, b"<html>"), SendOutcome::Permanent { code, .. } if code == "http_403")
        );
    }

    proptest! {
        #[test]
        fn any_answer_is_classified_without_panicking(
            status in 100u16..600,
            body in proptest::collection::vec(any::<u8>(), 0..256),
            reply in any::<bool>(),
        ) {
            let _ = outcome(if reply { REPLY_COMMENT } else { SEND_MESSAGE }, status, None, &body);
        }
    }
}
