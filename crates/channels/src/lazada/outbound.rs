//! Sending seller chat messages through Lazada Open Platform (LazOP): `POST {base}/im/message/send`.
//!
//! Lazada chat answers a *session*, not a user: the recipient of [`Target::Direct`] is the conversation's thread
//! key, which is the `session_id` (inbound chat messages arrive on `Direct { key: session_id }`). A text is
//! `template_id=1` with `txt`. The call is signed: the common parameters `app_key`, `access_token`, `timestamp`
//! (milliseconds; Lazada refuses one more than two hours off) and `sign_method=sha256` join the API's own, and
//! `sign` = [`sign_api_call`] over all of them with the `app_secret`. Everything travels as one form body. The
//! base address is the seller's country host (`https://api.lazada.sg/rest`, `.co.id`, …): the default
//! `https://api.lazada.com/rest` only suits cross-border sellers, so a line usually sets its `api_base_url`.
//!
//! Images would be `template_id=3` with an `img_url` Lazada hosts; links from elsewhere are not documented to work,
//! so attachments are refused. Review replies (`/review/seller/reply/add`) are only known second-hand, without
//! their parameters: public replies are refused too.
//!
//! The answer is `{"code": "0", "data": {"message_id", …}, "request_id"}`; an error has `code` (a name such as
//! `IllegalAccessToken`), `type` (`ISV`, `ISP`, `SYSTEM`) and `message`, usually with HTTP 200. Call limits and
//! Lazada's own failures (`ApiCallLimit`, `AppCallLimit`, `ServiceTimeout`, `ServiceUnavailable`, `InternalError`,
//! anything "busy"), a 429 and 5xx are transient; the rest (`IllegalAccessToken`, `IncompleteSignature`,
//! `MissingParameter`, `InvalidParameter`, `AppWhiteListLimit`, …) permanent.

use serde::Deserialize;
use time::OffsetDateTime;

use super::sign_api_call;
use crate::send::{OutboundMessage, SendOutcome, Target, classify_status};
use crate::webhook::Secrets;

/// The send call, below the API address (and signed with this path).
pub const PATH: &str = "/im/message/send";

/// The template of a plain text message.
const TEXT_TEMPLATE: &str = "1";

/// The request a message becomes: where it goes and its signed form body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub url: String,
    pub form: String,
}

fn need<'a>(secrets: &'a Secrets, name: &'static str) -> Result<&'a str, SendOutcome> {
    crate::send::need_secret(secrets, name, "Lazada")
}

use crate::send::unsupported;

/// Builds the signed request for `msg` at `timestamp_ms`, or says why it cannot be sent.
pub fn request(msg: &OutboundMessage<'_>, timestamp_ms: i64) -> Result<Request, SendOutcome> {
    let session_id = match msg.target {
        Target::Direct { recipient } => recipient.trim(),
        Target::Group { .. } => return Err(unsupported("Lazada chat has no group chats")),
        Target::PublicReply { .. } => {
            return Err(unsupported("Lazada review replies are not documented well enough to send"));
        }
        Target::PrivateReply { .. } => return Err(unsupported("Lazada has no private replies: write to the chat")),
    };
    if msg.template.is_some() {
        return Err(unsupported("Lazada chat has no templates: send the text itself"));
    }
    if !msg.attachments.is_empty() {
        return Err(unsupported("Lazada chat takes images hosted by Lazada, not links: send the link in the text"));
    }
    if session_id.is_empty() {
        return Err(SendOutcome::permanent("invalid_recipient", "no Lazada chat session to send to"));
    }
    let text = msg.body.filter(|b| !b.trim().is_empty());
    let text = text.ok_or_else(|| SendOutcome::permanent("empty_message", "a message needs a body"))?;
    let app_key = need(msg.secrets, "app_key")?;
    let app_secret = need(msg.secrets, "app_secret")?;
    let access_token = need(msg.secrets, "access_token")?;
    let timestamp = timestamp_ms.to_string();
    let mut params = vec![
        ("app_key", app_key),
        ("access_token", access_token),
        ("timestamp", timestamp.as_str()),
        ("sign_method", "sha256"),
        ("session_id", session_id),
        ("template_id", TEXT_TEMPLATE),
        ("txt", text),
    ];
    let sign = sign_api_call(app_secret, PATH, &params);
    params.push(("sign", &sign));
    let form = form_urlencoded::Serializer::new(String::new()).extend_pairs(params).finish();
    Ok(Request { url: format!("{}{PATH}", msg.api_base_url), form })
}

/// Sends `msg` into the Lazada chat session and classifies the answer.
pub async fn send(http: &reqwest::Client, msg: &OutboundMessage<'_>) -> SendOutcome {
    let now_ms = OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000;
    let request = match request(msg, i64::try_from(now_ms).unwrap_or_default()) {
        Ok(request) => request,
        Err(outcome) => return outcome,
    };
    let request = http
        .post(&request.url)
        .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded;charset=utf-8")
        .header(reqwest::header::ACCEPT, "application/json")
        .body(request.form);
    match crate::send::call(request).await {
        Ok(reply) => outcome(reply.status, reply.retry_after.as_deref(), &reply.body),
        Err(outcome) => outcome,
    }
}

#[derive(Deserialize)]
struct Answer {
    code: Option<serde_json::Value>,
    message: Option<String>,
    data: Option<serde_json::Value>,
    message_id: Option<serde_json::Value>,
}

fn text(value: Option<&serde_json::Value>) -> Option<String> {
    match value? {
        serde_json::Value::String(s) => Some(s.trim().to_owned()).filter(|s| !s.is_empty()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Whether a LazOP error code means "try again later".
pub fn is_transient(code: &str) -> bool {
    let code = code.to_ascii_lowercase();
    ["calllimit", "timeout", "unavailable", "internalerror", "systemerror", "busy"].iter().any(|w| code.contains(w))
}

/// Classifies Lazada's answer to a send.
pub fn outcome(status: u16, retry_after: Option<&str>, body: &[u8]) -> SendOutcome {
    if let Some(transient) = classify_status(status, retry_after) {
        return transient;
    }
    let answer: Option<Answer> = serde_json::from_slice(body).ok();
    let Some(answer) = answer else {
        return if (200..300).contains(&status) {
            SendOutcome::Accepted { platform_message_id: None }
        } else {
            SendOutcome::permanent(format!("http_{status}"), format!("Lazada answered {status}"))
        };
    };
    let message = answer.message.filter(|m| !m.trim().is_empty());
    if let Some(code) = text(answer.code.as_ref()).filter(|c| c != "0") {
        let message = message.unwrap_or_else(|| format!("Lazada refused the call ({code})"));
        return if is_transient(&code) {
            SendOutcome::transient(format!("Lazada: {message} ({code})"))
        } else {
            SendOutcome::permanent(code, message)
        };
    }
    if !(200..300).contains(&status) {
        return SendOutcome::permanent(
            format!("http_{status}"),
            message.unwrap_or_else(|| format!("Lazada answered {status}")),
        );
    }
    let data = answer.data.unwrap_or_default();
    // The IM API reports its own failures inside `data` (`error_code`/`error_msg`, or `err_code`/`err_message`).
    let inner = text(data.get("error_code")).or_else(|| text(data.get("err_code"))).filter(|c| c != "0");
    if let Some(code) = inner {
        let message = text(data.get("error_msg"))
            .or_else(|| text(data.get("err_message")))
            .unwrap_or_else(|| format!("Lazada could not send the message ({code})"));
        return SendOutcome::permanent(code, message);
    }
    let id = text(data.get("message_id")).or_else(|| text(answer.message_id.as_ref()));
    SendOutcome::Accepted { platform_message_id: id }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use switchboard_domain::{Attachment, ChannelKind};
    use switchboard_fakes::{FakePlatforms, Fault};

    const APP_KEY: &str = "100001";
    const APP_SECRET: &str = "helpdesk-test-app-secret";
    const TOKEN: &str = "TESTlazadatoken";
    const SESSION: &str = "100191276347_2_100208742287_1_103";
    const SELLER: &str = "100191276347";
    const SEND_REQUEST: &str = include_str!("../../../../fixtures/channels/marketplaces/lazada_im_send_request.txt");

    fn secrets(access_token: &str) -> Secrets {
        let mut s = Secrets::new();
        for (k, v) in [("app_key", APP_KEY), ("app_secret", APP_SECRET), ("access_token", access_token)] {
            s.insert(k.into(), v.into());
        }
        s
    }

    fn message<'a>(
        base: &'a str,
        secrets: &'a Secrets,
        target: Target<'a>,
        body: Option<&'a str>,
    ) -> OutboundMessage<'a> {
        OutboundMessage {
            kind: ChannelKind::Lazada,
            business_id: SELLER,
            secrets,
            api_base_url: base,
            target,
            body,
            attachments: &[],
            template: None,
            tag: None,
            reply_token: None,
            idempotency_key: "0190f5d2-7b7a-7000-8000-000000000005",
        }
    }

    fn session() -> Target<'static> {
        Target::Direct { recipient: SESSION }
    }

    async fn fake() -> (FakePlatforms, String) {
        let fake = FakePlatforms::spawn("127.0.0.1:0").await.unwrap();
        let base = format!("{}/lazada", fake.base_url);
        (fake, base)
    }

    fn pairs(form: &str) -> Vec<(String, String)> {
        form_urlencoded::parse(form.as_bytes()).into_owned().collect()
    }

    #[test]
    fn the_request_is_the_im_send_fixture_byte_for_byte() {
        let secrets = secrets(TOKEN);
        let base = "https://api.lazada.co.id/rest";
        let msg = message(base, &secrets, session(), Some("Hi Dewi, your order ships today."));
        let request = request(&msg, 1_767_225_600_000).unwrap();
        let mut lines = SEND_REQUEST.lines();
        assert_eq!(lines.next().unwrap(), format!("POST {}", request.url));
        assert_eq!(SEND_REQUEST.split_once("\n\n").unwrap().1.trim(), request.form);
    }

    #[tokio::test]
    async fn a_text_is_posted_signed_into_its_session_and_accepted_with_the_message_id() {
        let (fake, base) = fake().await;
        let secrets = secrets(TOKEN);
        let msg = message(&base, &secrets, session(), Some("Your order ships today."));
        let SendOutcome::Accepted { platform_message_id: Some(id) } = send(&crate::send::http_client(), &msg).await
        else {
            panic!("not accepted");
        };
        let accepted = fake.state.accepted("lazada");
        assert_eq!(accepted.len(), 1);
        assert_eq!(accepted[0].platform_message_id.as_deref(), Some(id.as_str()));
        assert_eq!(accepted[0].path, PATH);
        let form = pairs(&accepted[0].body);
        let get = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
        assert_eq!(get("session_id"), Some(SESSION));
        assert_eq!(get("template_id"), Some("1"));
        assert_eq!(get("txt"), Some("Your order ships today."));
        assert_eq!(get("access_token"), Some(TOKEN));
        let unsigned: Vec<(&str, &str)> =
            form.iter().filter(|(k, _)| k != "sign").map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(get("sign"), Some(sign_api_call(APP_SECRET, PATH, &unsigned).as_str()));
    }

    #[tokio::test]
    async fn two_sellers_send_with_their_own_tokens() {
        let (fake, base) = fake().await;
        let first = secrets(TOKEN);
        let second = secrets("TESTothersellertoken");
        let client = crate::send::http_client();
        for secrets in [&first, &second] {
            assert!(matches!(
                send(&client, &message(&base, secrets, session(), Some("hi"))).await,
                SendOutcome::Accepted { .. }
            ));
        }
        let tokens: Vec<String> = fake
            .state
            .accepted("lazada")
            .iter()
            .map(|r| pairs(&r.body).into_iter().find(|(k, _)| k == "access_token").unwrap().1)
            .collect();
        assert_eq!(tokens, [TOKEN, "TESTothersellertoken"]);
    }

    #[tokio::test]
    async fn refusals_are_permanent_with_lazadas_code() {
        let (fake, base) = fake().await;
        let secrets = secrets(TOKEN);
        let msg = message(&base, &secrets, session(), Some("hi"));
        for code in ["IllegalAccessToken", "IncompleteSignature", "InvalidParameter", "AppWhiteListLimit"] {
            fake.state.fail_next("lazada", Fault::Permanent(code.into()), 1);
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
    async fn call_limits_and_server_errors_are_transient() {
        let (fake, base) = fake().await;
        let secrets = secrets(TOKEN);
        let msg = message(&base, &secrets, session(), Some("hi"));
        let client = crate::send::http_client();
        fake.state.fail_next("lazada", Fault::Permanent("ApiCallLimit".into()), 1);
        assert!(matches!(send(&client, &msg).await, SendOutcome::Transient { .. }));
        fake.state.fail_next("lazada", Fault::RateLimited, 1);
        assert!(matches!(send(&client, &msg).await, SendOutcome::Transient { retry_after: Some(_), .. }));
        fake.state.fail_next("lazada", Fault::ServerError, 1);
        assert!(matches!(send(&client, &msg).await, SendOutcome::Transient { .. }));
        assert!(matches!(send(&client, &msg).await, SendOutcome::Accepted { .. }));
    }

    #[tokio::test]
    async fn a_wrong_access_token_is_a_permanent_illegal_access_token() {
        let (fake, base) = fake().await;
        let secrets = secrets("wrong-token");
        let msg = message(&base, &secrets, session(), Some("hi"));
        assert!(matches!(
            send(&crate::send::http_client(), &msg).await,
            SendOutcome::Permanent { code, .. } if code == "IllegalAccessToken"
        ));
        assert!(fake.state.accepted("lazada").is_empty());
    }

    #[tokio::test]
    async fn nothing_is_sent_without_the_app_credentials() {
        for missing in ["app_key", "app_secret", "access_token"] {
            let mut partial = secrets(TOKEN);
            partial.remove(missing);
            let msg = message("http://127.0.0.1:9", &partial, session(), Some("hi"));
            assert!(matches!(
                send(&crate::send::http_client(), &msg).await,
                SendOutcome::Permanent { code, message } if code == "missing_secret" && message.contains(missing)
            ));
        }
    }

    #[test]
    fn groups_review_replies_attachments_and_empty_texts_are_refused_in_words() {
        let secrets = secrets(TOKEN);
        for target in
            [Target::Group { chat: "g" }, Target::PublicReply { reply_to: "r" }, Target::PrivateReply { comment: "c" }]
        {
            let err = request(&message("b", &secrets, target, Some("hi")), 0).unwrap_err();
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
        let mut with_media = message("b", &secrets, session(), Some("hi"));
        with_media.attachments = &picture;
        assert!(matches!(request(&with_media, 0), Err(SendOutcome::Permanent { code, .. }) if code == "unsupported"));
        assert!(matches!(
            request(&message("b", &secrets, session(), Some("")), 0),
            Err(SendOutcome::Permanent { code, .. }) if code == "empty_message"
        ));
    }

    #[test]
    fn an_im_failure_inside_data_is_permanent() {
        let body =
            br#"{"code": "0", "data": {"error_code": "15", "error_msg": "session not found"}, "request_id": "r"}"#;
        assert!(matches!(
            outcome(200, None, body),
            SendOutcome::Permanent { code, message } if code == "15" && message == "session not found"
        ));
        let ok =
            br#"{"code": "0", "data": {"message_id": "21d0fLE0BtkPL79071", "error_code": "0"}, "request_id": "r"}"#;
        assert_eq!(
            outcome(200, None, ok),
            SendOutcome::Accepted { platform_message_id: Some("21d0fLE0BtkPL79071".into()) }
        );
        let numeric_code = br#"{"code": 0, "message_id": "m1"}"#;
        assert_eq!(outcome(200, None, numeric_code), SendOutcome::Accepted { platform_message_id: Some("m1".into()) });
        assert!(matches!(outcome(404, None, b"<html>"), SendOutcome::Permanent { code, .. } if code == "http_404"));
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
