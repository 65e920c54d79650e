//! Sending SMS through Dialpad's API v2.
//!
//! Our digest documents Dialpad's webhooks only; the send call follows Dialpad's public API reference
//! ("SMS -- Send", `protos.sms.SendSMSMessage`): `POST {base}/api/v2/sms` with `Authorization: Bearer <api_key>`
//! and `{"to_numbers": [E.164], "from_number": <the line's number>, "text": …, "infer_country_code": false}`.
//! `from_number` must be assigned to the key's user or one of its groups, and overrides `user_id` /
//! `sender_group_id`. The answer is the SMS (`protos.sms.SMSProto`): its `id` is what SMS events name later,
//! `message_status` is `pending`, `success` or `failed`.
//!
//! Dialpad takes MMS media only as base64 bytes in `media` (not links), so attachments are refused here rather
//! than downloaded and re-uploaded.
//!
//! Errors are `{"error": {"code": <HTTP status>, "message", "errors": [{"reason", …}]}}`: the status is the code;
//! 429 (rate limits of 100–800 a minute) and 5xx are transient, the rest permanent (401 wrong key, 403 no
//! permission for the number, 400 invalid or opted-out numbers).

use serde::Deserialize;

use crate::send::{OutboundMessage, SendOutcome, classify_status};
use crate::webhook::Secrets;

/// The path of the send call below the API address.
pub const PATH: &str = "/api/v2/sms";

fn need<'a>(secrets: &'a Secrets, name: &'static str) -> Result<&'a str, SendOutcome> {
    crate::send::need_secret(secrets, name, "Dialpad")
}

use crate::send::unsupported;

/// The JSON body Dialpad documents for `msg`, or why it cannot be sent.
pub fn body(msg: &OutboundMessage<'_>) -> Result<serde_json::Value, SendOutcome> {
    let to = crate::send::sms_recipient(msg, "Dialpad")?;
    if !msg.attachments.is_empty() {
        return Err(unsupported("Dialpad takes MMS media as uploaded bytes, not links: send the link in the text"));
    }
    let text = msg.body.filter(|b| !b.trim().is_empty());
    let text = text.ok_or_else(|| SendOutcome::permanent("empty_message", "a message needs a body"))?;
    Ok(serde_json::json!({
        "to_numbers": [to],
        "from_number": msg.business_id,
        "text": text,
        "infer_country_code": false,
    }))
}

/// Sends `msg` as an SMS from the line's Dialpad number and classifies the answer.
pub async fn send(http: &reqwest::Client, msg: &OutboundMessage<'_>) -> SendOutcome {
    let api_key = match need(msg.secrets, "api_key") {
        Ok(key) => key,
        Err(outcome) => return outcome,
    };
    let body = match body(msg) {
        Ok(body) => body,
        Err(outcome) => return outcome,
    };
    let request = http
        .post(format!("{}{PATH}", msg.api_base_url))
        .bearer_auth(api_key)
        .header(reqwest::header::ACCEPT, "application/json")
        .json(&body);
    match crate::send::call(request).await {
        Ok(reply) => outcome(reply.status, reply.retry_after.as_deref(), &reply.body),
        Err(outcome) => outcome,
    }
}

#[derive(Deserialize)]
struct Sms {
    id: Option<serde_json::Value>,
    message_status: Option<String>,
    message_delivery_result: Option<String>,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: Option<ErrorDetail>,
}

#[derive(Deserialize)]
struct ErrorDetail {
    message: Option<String>,
}

/// Dialpad's ids are 64-bit: sent as numbers or, in its examples, as strings.
fn id_of(value: &serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::String(s) => Some(s.trim().to_owned()).filter(|s| !s.is_empty()),
        _ => None,
    }
}

/// Classifies Dialpad's answer to a send.
pub fn outcome(status: u16, retry_after: Option<&str>, body: &[u8]) -> SendOutcome {
    if (200..300).contains(&status) {
        let sms: Option<Sms> = serde_json::from_slice(body).ok();
        let Some(sms) = sms else {
            return SendOutcome::Accepted { platform_message_id: None };
        };
        if sms.message_status.as_deref() == Some("failed") {
            let result = sms.message_delivery_result.filter(|r| !r.trim().is_empty());
            let code = result.clone().unwrap_or_else(|| "failed".to_owned());
            let message = match result {
                Some(result) => format!("Dialpad could not send the SMS ({})", result.replace('_', " ")),
                None => "Dialpad could not send the SMS".to_owned(),
            };
            return SendOutcome::permanent(code, message);
        }
        return SendOutcome::Accepted { platform_message_id: sms.id.as_ref().and_then(id_of) };
    }
    if let Some(transient) = classify_status(status, retry_after) {
        return transient;
    }
    let message = serde_json::from_slice::<ErrorBody>(body)
        .ok()
        .and_then(|b| b.error)
        .and_then(|e| e.message)
        .filter(|m| !m.trim().is_empty())
        .unwrap_or_else(|| format!("Dialpad answered {status}"));
    SendOutcome::permanent(status.to_string(), message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::send::Target;
    use proptest::prelude::*;
    use switchboard_domain::{Attachment, ChannelKind};
    use switchboard_fakes::{FakePlatforms, Fault};

    const KEY: &str = "helpdesk-test-dialpad-key";
    const OUR_NUMBER: &str = "+14155550100";
    const DANA: &str = "+14155559876";

    fn secrets(api_key: &str) -> Secrets {
        let mut s = Secrets::new();
        s.insert("api_key".into(), api_key.into());
        s.insert("webhook_secret".into(), "helpdesk-test-dialpad-secret".into());
        s
    }

    fn message<'a>(
        base: &'a str,
        secrets: &'a Secrets,
        from: &'a str,
        target: Target<'a>,
        body: Option<&'a str>,
    ) -> OutboundMessage<'a> {
        OutboundMessage {
            kind: ChannelKind::Dialpad,
            business_id: from,
            secrets,
            api_base_url: base,
            target,
            body,
            attachments: &[],
            template: None,
            tag: None,
            reply_token: None,
            idempotency_key: "0190f5d2-7b7a-7000-8000-000000000002",
        }
    }

    fn dana() -> Target<'static> {
        Target::Direct { recipient: DANA }
    }

    async fn fake() -> (FakePlatforms, String) {
        let fake = FakePlatforms::spawn("127.0.0.1:0").await.unwrap();
        let base = format!("{}/dialpad", fake.base_url);
        (fake, base)
    }

    #[tokio::test]
    async fn a_text_is_posted_with_the_bearer_key_and_accepted_with_the_sms_id() {
        let (fake, base) = fake().await;
        let secrets = secrets(KEY);
        let msg = message(&base, &secrets, OUR_NUMBER, dana(), Some("It ships today."));
        let SendOutcome::Accepted { platform_message_id: Some(id) } = send(&crate::send::http_client(), &msg).await
        else {
            panic!("not accepted");
        };
        let accepted = fake.state.accepted("dialpad");
        assert_eq!(accepted.len(), 1);
        assert_eq!(accepted[0].platform_message_id.as_deref(), Some(id.as_str()));
        assert_eq!(accepted[0].path, PATH);
        let body: serde_json::Value = serde_json::from_str(&accepted[0].body).unwrap();
        assert_eq!(
            body,
            serde_json::json!({
                "to_numbers": [DANA], "from_number": OUR_NUMBER, "text": "It ships today.", "infer_country_code": false
            })
        );
        assert!(accepted[0].headers.contains(&("authorization".to_owned(), format!("Bearer {KEY}"))));
    }

    #[tokio::test]
    async fn two_lines_send_from_their_own_numbers() {
        let (fake, base) = fake().await;
        let secrets = secrets(KEY);
        let client = crate::send::http_client();
        for from in [OUR_NUMBER, "+14155550199"] {
            assert!(matches!(
                send(&client, &message(&base, &secrets, from, dana(), Some("hi"))).await,
                SendOutcome::Accepted { .. }
            ));
        }
        let from: Vec<String> = fake
            .state
            .accepted("dialpad")
            .iter()
            .map(|r| serde_json::from_str::<serde_json::Value>(&r.body).unwrap()["from_number"].to_string())
            .collect();
        assert_eq!(from, [format!("\"{OUR_NUMBER}\""), "\"+14155550199\"".to_owned()]);
    }

    #[tokio::test]
    async fn refusals_are_permanent_with_dialpads_status_code() {
        let (fake, base) = fake().await;
        let secrets = secrets(KEY);
        let msg = message(&base, &secrets, OUR_NUMBER, dana(), Some("hi"));
        for code in ["400", "403", "404"] {
            fake.state.fail_next("dialpad", Fault::Permanent(code.into()), 1);
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
        let secrets = secrets(KEY);
        let msg = message(&base, &secrets, OUR_NUMBER, dana(), Some("hi"));
        let client = crate::send::http_client();
        fake.state.fail_next("dialpad", Fault::RateLimited, 1);
        assert!(matches!(send(&client, &msg).await, SendOutcome::Transient { retry_after: Some(_), .. }));
        fake.state.fail_next("dialpad", Fault::ServerError, 1);
        assert!(matches!(send(&client, &msg).await, SendOutcome::Transient { .. }));
        assert!(matches!(send(&client, &msg).await, SendOutcome::Accepted { .. }));
    }

    #[tokio::test]
    async fn a_wrong_api_key_is_a_permanent_401() {
        let (fake, base) = fake().await;
        let secrets = secrets("wrong-key");
        let msg = message(&base, &secrets, OUR_NUMBER, dana(), Some("hi"));
        assert!(matches!(
            send(&crate::send::http_client(), &msg).await,
            SendOutcome::Permanent { code, .. } if code == "401"
        ));
        assert!(fake.state.accepted("dialpad").is_empty());
    }

    #[tokio::test]
    async fn nothing_is_sent_without_an_api_key() {
        let mut secrets = secrets(KEY);
        secrets.remove("api_key");
        let msg = message("http://127.0.0.1:9", &secrets, OUR_NUMBER, dana(), Some("hi"));
        assert!(matches!(
            send(&crate::send::http_client(), &msg).await,
            SendOutcome::Permanent { code, .. } if code == "missing_secret"
        ));
    }

    #[test]
    fn groups_comments_attachments_and_empty_texts_are_refused_in_words() {
        let secrets = secrets(KEY);
        for target in
            [Target::Group { chat: "g" }, Target::PublicReply { reply_to: "c" }, Target::PrivateReply { comment: "c" }]
        {
            let err = body(&message("b", &secrets, OUR_NUMBER, target, Some("hi"))).unwrap_err();
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
        let mut with_media = message("b", &secrets, OUR_NUMBER, dana(), Some("hi"));
        with_media.attachments = &picture;
        assert!(matches!(body(&with_media), Err(SendOutcome::Permanent { code, .. }) if code == "unsupported"));
        assert!(matches!(
            body(&message("b", &secrets, OUR_NUMBER, dana(), None)),
            Err(SendOutcome::Permanent { code, .. }) if code == "empty_message"
        ));
    }

    #[test]
    fn a_failed_sms_in_a_success_answer_is_permanent_with_the_delivery_result() {
        let body = br#"{"id": "1001", "message_status": "failed", "message_delivery_result": "invalid_destination"}"#;
        assert!(
            matches!(outcome(200, None, body), SendOutcome::Permanent { code, .. } if code == "invalid_destination")
        );
        let pending = br#"{"id": 5550000000000003, "message_status": "pending"}"#;
        assert_eq!(
            outcome(200, None, pending),
            SendOutcome::Accepted { platform_message_id: Some("5550000000000003".into()) }
        );
        assert!(matches!(outcome(418, None, b"teapot"), SendOutcome::Permanent { code, .. } if code == "418"));
    }

    proptest! {
        #[test]
        fn any_answer_is_classified_without_panicking(
            status in 100u16..600,
            body in proptest::collection::vec(any::<u8>(), 0..256),
        ) {
            let _ = outcome(status, None, &body);
        }
    }
}
