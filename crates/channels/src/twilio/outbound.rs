//! Sending SMS and MMS through Twilio's Messages resource.
//!
//! `POST {base}/2010-04-01/Accounts/{account_sid}/Messages.json`, HTTP Basic `account_sid:auth_token`, a form body
//! `To`, `From` (the line's number; a line whose id is a Messaging Service `MG…` sends `MessagingServiceSid`
//! instead and lets Twilio pick the number), `Body` and one `MediaUrl` per attachment (Twilio fetches each public
//! link itself, at most ten). `201 Created` answers the Message resource, whose `sid` later status callbacks name.
//!
//! Errors are `{"code", "message", "more_info", "status"}`: the code is kept, and all are permanent except
//! Twilio's rate limits (20429 "Too many requests", 14107 "Message rate limit exceeded"), a 429 and any 5xx.
//! Among the permanent ones: 21610 (the recipient replied STOP), 21211 (invalid `To`), 21408 (region not
//! enabled), 21614 (`To` is not a mobile number), 20003 (wrong credentials).

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::Deserialize;

use crate::send::{OutboundMessage, SendOutcome, classify_status};
use crate::webhook::Secrets;

/// How many `MediaUrl` one message may carry.
const MAX_MEDIA: usize = 10;

/// Twilio error codes that mean "slow down", whatever the HTTP status.
const RATE_LIMITED: [i64; 2] = [20429, 14107];

/// The request a message becomes: where it goes and its form body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub url: String,
    pub account_sid: String,
    pub form: String,
}

fn need<'a>(secrets: &'a Secrets, name: &'static str) -> Result<&'a str, SendOutcome> {
    crate::send::need_secret(secrets, name, "Twilio")
}

use crate::send::unsupported;

/// Builds the documented request for `msg`, or says why it cannot be sent.
pub fn request(msg: &OutboundMessage<'_>) -> Result<Request, SendOutcome> {
    let account_sid = need(msg.secrets, "account_sid")?;
    let to = crate::send::sms_recipient(msg, "Twilio")?;
    let mut media = Vec::with_capacity(msg.attachments.len());
    for attachment in msg.attachments {
        match attachment.url.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
            Some(url) => media.push(url),
            None => return Err(unsupported("Twilio sends media by public link, and an attachment has none")),
        }
    }
    if media.len() > MAX_MEDIA {
        return Err(unsupported(format!("Twilio takes at most {MAX_MEDIA} media per message")));
    }
    let body = msg.body.filter(|b| !b.trim().is_empty());
    if body.is_none() && media.is_empty() {
        return Err(SendOutcome::permanent("empty_message", "a message needs a body or an attachment"));
    }
    let mut form = form_urlencoded::Serializer::new(String::new());
    form.append_pair("To", to);
    if msg.business_id.starts_with("MG") {
        form.append_pair("MessagingServiceSid", msg.business_id);
    } else {
        form.append_pair("From", msg.business_id);
    }
    if let Some(body) = body {
        form.append_pair("Body", body);
    }
    for url in media {
        form.append_pair("MediaUrl", url);
    }
    let sid_segment: String = form_urlencoded::byte_serialize(account_sid.as_bytes()).collect();
    Ok(Request {
        url: format!("{}/2010-04-01/Accounts/{sid_segment}/Messages.json", msg.api_base_url),
        account_sid: account_sid.to_owned(),
        form: form.finish(),
    })
}

/// Sends `msg` as an SMS (or MMS with media) and classifies Twilio's answer.
pub async fn send(http: &reqwest::Client, msg: &OutboundMessage<'_>) -> SendOutcome {
    let request = match request(msg) {
        Ok(request) => request,
        Err(outcome) => return outcome,
    };
    let auth_token = match need(msg.secrets, "auth_token") {
        Ok(token) => token,
        Err(outcome) => return outcome,
    };
    let credentials = BASE64.encode(format!("{}:{auth_token}", request.account_sid));
    let request = http
        .post(&request.url)
        .header(reqwest::header::AUTHORIZATION, format!("Basic {credentials}"))
        .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(reqwest::header::ACCEPT, "application/json")
        .body(request.form);
    match crate::send::call(request).await {
        Ok(reply) => outcome(reply.status, reply.retry_after.as_deref(), &reply.body),
        Err(outcome) => outcome,
    }
}

#[derive(Deserialize)]
struct Answer {
    sid: Option<String>,
    code: Option<serde_json::Value>,
    message: Option<String>,
}

/// Classifies Twilio's answer to a send.
pub fn outcome(status: u16, retry_after: Option<&str>, body: &[u8]) -> SendOutcome {
    let answer: Option<Answer> = serde_json::from_slice(body).ok();
    if (200..300).contains(&status) {
        let sid = answer.and_then(|a| a.sid).map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
        return SendOutcome::Accepted { platform_message_id: sid };
    }
    let (code, message) = match answer {
        Some(a) => (a.code.as_ref().and_then(code_of), a.message),
        None => (None, None),
    };
    if let Some(code) = code.filter(|c| RATE_LIMITED.contains(c)) {
        let retry_after = retry_after.and_then(|s| s.trim().parse().ok()).map(Duration::from_secs);
        return SendOutcome::Transient { reason: format!("Twilio asked us to slow down ({code})"), retry_after };
    }
    if let Some(transient) = classify_status(status, retry_after) {
        return transient;
    }
    let message = message.filter(|m| !m.trim().is_empty()).unwrap_or_else(|| format!("Twilio answered {status}"));
    match code {
        Some(code) => SendOutcome::permanent(code.to_string(), message),
        None => SendOutcome::permanent(format!("http_{status}"), message),
    }
}

/// Twilio's numeric error code, sent as a number (or, by some proxies, as text).
fn code_of(value: &serde_json::Value) -> Option<i64> {
    match value {
        serde_json::Value::Number(n) => n.as_i64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::send::Target;
    use proptest::prelude::*;
    use switchboard_domain::{Attachment, ChannelKind};
    use switchboard_fakes::{FakePlatforms, Fault};

    use crate::send::TemplateSend;

    const SID: &str = "ACTEST00000000000000000000000001";
    const TOKEN: &str = "helpdesk-test-auth-token-0000000";
    const OUR_NUMBER: &str = "+4930123456789";
    const LENA: &str = "+4915112345678";
    const SEND_REQUEST: &str = include_str!("../../../../fixtures/channels/sms/twilio_send_request.txt");
    const SEND_RESPONSE: &str = include_str!("../../../../fixtures/channels/sms/twilio_send_response.json");

    fn secrets(account_sid: &str, auth_token: &str) -> Secrets {
        let mut s = Secrets::new();
        s.insert("account_sid".into(), account_sid.into());
        s.insert("auth_token".into(), auth_token.into());
        s
    }

    fn message<'a>(
        base: &'a str,
        secrets: &'a Secrets,
        from: &'a str,
        target: Target<'a>,
        body: Option<&'a str>,
        attachments: &'a [Attachment],
    ) -> OutboundMessage<'a> {
        OutboundMessage {
            kind: ChannelKind::Twilio,
            business_id: from,
            secrets,
            api_base_url: base,
            target,
            body,
            attachments,
            template: None,
            tag: None,
            reply_token: None,
            idempotency_key: "0190f5d2-7b7a-7000-8000-000000000001",
        }
    }

    fn image(url: &str) -> Attachment {
        Attachment { kind: "image".into(), url: Some(url.into()), media_id: None, mime_type: None, filename: None }
    }

    async fn fake() -> (FakePlatforms, String) {
        let fake = FakePlatforms::spawn("127.0.0.1:0").await.unwrap();
        let base = format!("{}/twilio", fake.base_url);
        (fake, base)
    }

    fn pairs(form: &str) -> Vec<(String, String)> {
        form_urlencoded::parse(form.as_bytes()).into_owned().collect()
    }

    fn lena() -> Target<'static> {
        Target::Direct { recipient: LENA }
    }

    #[test]
    fn the_form_is_the_send_request_fixture_without_its_status_callback() {
        let fixture_body = SEND_REQUEST.split_once("\n\n").unwrap().1.trim();
        let (fixture_form, callback) = fixture_body.split_once("&StatusCallback=").unwrap();
        assert!(callback.starts_with("https"));
        let secrets = secrets(SID, TOKEN);
        let body = "Hallo Lena, Ersatz für Paket 702 ist unterwegs.";
        let request =
            request(&message("https://api.twilio.com", &secrets, OUR_NUMBER, lena(), Some(body), &[])).unwrap();
        assert_eq!(request.form, fixture_form);
        let path = SEND_REQUEST.lines().next().unwrap().split(' ').nth(1).unwrap();
        assert_eq!(request.url, format!("https://api.twilio.com{path}"));
    }

    #[test]
    fn the_response_fixture_is_accepted_with_its_sid() {
        assert_eq!(
            outcome(201, None, SEND_RESPONSE.as_bytes()),
            SendOutcome::Accepted { platform_message_id: Some("SMTEST00000000000000000000000009".into()) }
        );
    }

    #[tokio::test]
    async fn a_text_is_posted_as_the_documented_form_with_basic_auth_and_accepted_with_the_sid() {
        let (fake, base) = fake().await;
        let secrets = secrets(SID, TOKEN);
        let msg = message(&base, &secrets, OUR_NUMBER, lena(), Some("Your parcel ships today."), &[]);
        let SendOutcome::Accepted { platform_message_id: Some(sid) } = send(&crate::send::http_client(), &msg).await
        else {
            panic!("not accepted");
        };
        let accepted = fake.state.accepted("twilio");
        assert_eq!(accepted.len(), 1);
        assert_eq!(accepted[0].platform_message_id.as_deref(), Some(sid.as_str()));
        assert_eq!(accepted[0].path, format!("/2010-04-01/Accounts/{SID}/Messages.json"));
        assert_eq!(
            pairs(&accepted[0].body),
            vec![
                ("To".to_owned(), LENA.to_owned()),
                ("From".to_owned(), OUR_NUMBER.to_owned()),
                ("Body".to_owned(), "Your parcel ships today.".to_owned()),
            ]
        );
        let header = |name: &str| accepted[0].headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        assert_eq!(header("authorization"), Some(format!("Basic {}", BASE64.encode(format!("{SID}:{TOKEN}")))));
        assert_eq!(header("content-type").as_deref(), Some("application/x-www-form-urlencoded"));
    }

    #[tokio::test]
    async fn attachments_become_repeated_media_urls() {
        let (fake, base) = fake().await;
        let secrets = secrets(SID, TOKEN);
        let media = [image("https://cdn.example.test/a.jpg"), image("https://cdn.example.test/b.png")];
        let msg = message(&base, &secrets, OUR_NUMBER, lena(), None, &media);
        assert!(matches!(send(&crate::send::http_client(), &msg).await, SendOutcome::Accepted { .. }));
        let form = pairs(&fake.state.accepted("twilio")[0].body);
        let urls: Vec<&str> = form.iter().filter(|(k, _)| k == "MediaUrl").map(|(_, v)| v.as_str()).collect();
        assert_eq!(urls, ["https://cdn.example.test/a.jpg", "https://cdn.example.test/b.png"]);
        assert!(!form.iter().any(|(k, _)| k == "Body"));
    }

    #[tokio::test]
    async fn two_lines_send_from_their_own_numbers_and_accounts() {
        let (fake, base) = fake().await;
        let first = secrets(SID, TOKEN);
        let second = secrets("ACTEST00000000000000000000000002", "another-token");
        let client = crate::send::http_client();
        let a = message(&base, &first, OUR_NUMBER, lena(), Some("one"), &[]);
        let b = message(&base, &second, "+4930999999999", lena(), Some("two"), &[]);
        assert!(matches!(send(&client, &a).await, SendOutcome::Accepted { .. }));
        assert!(matches!(send(&client, &b).await, SendOutcome::Accepted { .. }));
        let accepted = fake.state.accepted("twilio");
        let from = |i: usize| pairs(&accepted[i].body).into_iter().find(|(k, _)| k == "From").map(|(_, v)| v);
        assert_eq!(from(0).as_deref(), Some(OUR_NUMBER));
        assert_eq!(from(1).as_deref(), Some("+4930999999999"));
        assert_eq!(accepted[1].path, "/2010-04-01/Accounts/ACTEST00000000000000000000000002/Messages.json");
    }

    #[tokio::test]
    async fn a_messaging_service_line_lets_twilio_pick_the_number() {
        let (fake, base) = fake().await;
        let secrets = secrets(SID, TOKEN);
        let service = "MGTEST00000000000000000000000001";
        let msg = message(&base, &secrets, service, lena(), Some("hi"), &[]);
        assert!(matches!(send(&crate::send::http_client(), &msg).await, SendOutcome::Accepted { .. }));
        let form = pairs(&fake.state.accepted("twilio")[0].body);
        assert!(form.contains(&("MessagingServiceSid".to_owned(), service.to_owned())));
        assert!(!form.iter().any(|(k, _)| k == "From"));
    }

    #[tokio::test]
    async fn opt_outs_invalid_numbers_and_closed_regions_are_permanent_with_twilios_code() {
        let (fake, base) = fake().await;
        let secrets = secrets(SID, TOKEN);
        let msg = message(&base, &secrets, OUR_NUMBER, lena(), Some("hi"), &[]);
        for code in ["21610", "21211", "21408", "21614"] {
            fake.state.fail_next("twilio", Fault::Permanent(code.into()), 1);
            match send(&crate::send::http_client(), &msg).await {
                SendOutcome::Permanent { code: got, message } => {
                    assert_eq!(got, code);
                    assert!(!message.is_empty());
                }
                other => panic!("{code}: {other:?}"),
            }
        }
        assert!(fake.state.accepted("twilio").is_empty());
    }

    #[tokio::test]
    async fn rate_limits_and_server_errors_are_transient() {
        let (fake, base) = fake().await;
        let secrets = secrets(SID, TOKEN);
        let msg = message(&base, &secrets, OUR_NUMBER, lena(), Some("hi"), &[]);
        let client = crate::send::http_client();
        fake.state.fail_next("twilio", Fault::Permanent("20429".into()), 1);
        assert!(matches!(send(&client, &msg).await, SendOutcome::Transient { .. }));
        fake.state.fail_next("twilio", Fault::RateLimited, 1);
        assert!(matches!(
            send(&client, &msg).await,
            SendOutcome::Transient { retry_after: Some(d), .. } if d.as_secs() == 1
        ));
        fake.state.fail_next("twilio", Fault::ServerError, 1);
        assert!(matches!(send(&client, &msg).await, SendOutcome::Transient { .. }));
        // The next send goes through again.
        assert!(matches!(send(&client, &msg).await, SendOutcome::Accepted { .. }));
    }

    #[tokio::test]
    async fn a_wrong_auth_token_is_permanent_20003() {
        let (fake, base) = fake().await;
        let secrets = secrets(SID, "wrong-token");
        let msg = message(&base, &secrets, OUR_NUMBER, lena(), Some("hi"), &[]);
        assert!(matches!(
            send(&crate::send::http_client(), &msg).await,
            SendOutcome::Permanent { code, .. } if code == "20003"
        ));
        assert!(fake.state.accepted("twilio").is_empty());
    }

    #[tokio::test]
    async fn nothing_is_sent_without_both_secrets() {
        let secrets = secrets(SID, TOKEN);
        for missing in ["account_sid", "auth_token"] {
            let mut partial = secrets.clone();
            partial.remove(missing);
            let msg = message("http://127.0.0.1:9", &partial, OUR_NUMBER, lena(), Some("hi"), &[]);
            assert!(matches!(
                send(&crate::send::http_client(), &msg).await,
                SendOutcome::Permanent { code, message } if code == "missing_secret" && message.contains(missing)
            ));
        }
    }

    #[test]
    fn groups_comments_templates_and_unlinked_media_are_refused_in_words() {
        let secrets = secrets(SID, TOKEN);
        let base = "https://api.twilio.com";
        for target in
            [Target::Group { chat: "g" }, Target::PublicReply { reply_to: "c" }, Target::PrivateReply { comment: "c" }]
        {
            let err = request(&message(base, &secrets, OUR_NUMBER, target, Some("hi"), &[])).unwrap_err();
            assert!(
                matches!(err, SendOutcome::Permanent { code, message } if code == "unsupported" && message.len() > 10)
            );
        }
        let params = ["Lena".to_owned()];
        let mut with_template = message(base, &secrets, OUR_NUMBER, lena(), None, &[]);
        with_template.template = Some(TemplateSend { name: "hello", language: "en", parameters: &params });
        assert!(matches!(request(&with_template), Err(SendOutcome::Permanent { code, .. }) if code == "unsupported"));
        let unlinked = [Attachment { url: None, media_id: Some("ME1".into()), ..image("") }];
        assert!(matches!(
            request(&message(base, &secrets, OUR_NUMBER, lena(), Some("hi"), &unlinked)),
            Err(SendOutcome::Permanent { code, .. }) if code == "unsupported"
        ));
        let eleven: Vec<Attachment> = (0..11).map(|i| image(&format!("https://cdn.example.test/{i}.jpg"))).collect();
        assert!(request(&message(base, &secrets, OUR_NUMBER, lena(), None, &eleven)).is_err());
        assert!(matches!(
            request(&message(base, &secrets, OUR_NUMBER, lena(), Some("  "), &[])),
            Err(SendOutcome::Permanent { code, .. }) if code == "empty_message"
        ));
    }

    #[test]
    fn an_error_without_a_twilio_body_keeps_the_http_status() {
        assert!(matches!(outcome(404, None, b"<html>"), SendOutcome::Permanent { code, .. } if code == "http_404"));
        assert!(matches!(outcome(503, None, b""), SendOutcome::Transient { .. }));
        assert_eq!(outcome(201, None, b"not json"), SendOutcome::Accepted { platform_message_id: None });
        let text_code = br#"{"code": "21610", "message": "Attempt to send to unsubscribed recipient"}"#;
        assert!(matches!(outcome(400, None, text_code), SendOutcome::Permanent { code, .. } if code == "21610"));
    }

    proptest! {
        #[test]
        fn any_answer_is_classified_without_panicking(
            status in 100u16..600,
            body in proptest::collection::vec(any::<u8>(), 0..256),
        ) {
            let _ = outcome(status, Some("x"), &body);
        }
    }
}
