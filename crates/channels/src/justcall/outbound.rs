//! Sending SMS and MMS through JustCall's API v2.1.
//!
//! Our digest documents JustCall's webhooks only; the send call follows JustCall's public API reference
//! ("Send SMS/MMS", as integrations call it): `POST {base}/v2.1/texts/new` with `Authorization:
//! <api_key>:<api_secret>` (the pair itself, no scheme) and `{"justcall_number": <the line's number>,
//! "contact_number": <E.164>, "body": …, "media_url": "<link>,<link>"}` (comma-separated public links, at most
//! ten). The answer carries the text's `id` (top level; `data.id` or `data[0].id` are read too), the id the
//! `sms…` webhooks name later.
//!
//! Errors are `{"status": "error", "message": …}` with an HTTP status that is the code: 429 and 5xx are
//! transient, the rest permanent (401 wrong key or secret, 400/422 invalid numbers or text, 403 plan limits).

use serde::Deserialize;

use crate::send::{OutboundMessage, SendOutcome, classify_status};
use crate::webhook::Secrets;

/// The path of the send call below the API address.
pub const PATH: &str = "/v2.1/texts/new";

/// How many media links one text may carry.
const MAX_MEDIA: usize = 10;

fn need<'a>(secrets: &'a Secrets, name: &'static str) -> Result<&'a str, SendOutcome> {
    crate::send::need_secret(secrets, name, "JustCall")
}

use crate::send::unsupported;

/// The JSON body for `msg`, or why it cannot be sent.
pub fn body(msg: &OutboundMessage<'_>) -> Result<serde_json::Value, SendOutcome> {
    let to = crate::send::sms_recipient(msg, "JustCall")?;
    let mut media = Vec::with_capacity(msg.attachments.len());
    for attachment in msg.attachments {
        match attachment.url.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
            // The links travel comma-separated, so a comma inside one would split it.
            Some(url) if !url.contains(',') => media.push(url),
            Some(_) => return Err(unsupported("JustCall cannot take a media link that contains a comma")),
            None => return Err(unsupported("JustCall sends media by public link, and an attachment has none")),
        }
    }
    if media.len() > MAX_MEDIA {
        return Err(unsupported(format!("JustCall takes at most {MAX_MEDIA} media per text")));
    }
    let text = msg.body.filter(|b| !b.trim().is_empty());
    if text.is_none() && media.is_empty() {
        return Err(SendOutcome::permanent("empty_message", "a message needs a body or an attachment"));
    }
    let mut body = serde_json::json!({
        "justcall_number": msg.business_id,
        "contact_number": to,
        "body": text.unwrap_or_default(),
    });
    if !media.is_empty() {
        body["media_url"] = media.join(",").into();
    }
    Ok(body)
}

/// Sends `msg` as a text from the line's JustCall number and classifies the answer.
pub async fn send(http: &reqwest::Client, msg: &OutboundMessage<'_>) -> SendOutcome {
    let credentials = match (need(msg.secrets, "api_key"), need(msg.secrets, "api_secret")) {
        (Ok(key), Ok(secret)) => format!("{key}:{secret}"),
        (Err(outcome), _) | (_, Err(outcome)) => return outcome,
    };
    let body = match body(msg) {
        Ok(body) => body,
        Err(outcome) => return outcome,
    };
    let request = http
        .post(format!("{}{PATH}", msg.api_base_url))
        .header(reqwest::header::AUTHORIZATION, credentials)
        .header(reqwest::header::ACCEPT, "application/json")
        .json(&body);
    match crate::send::call(request).await {
        Ok(reply) => outcome(reply.status, reply.retry_after.as_deref(), &reply.body),
        Err(outcome) => outcome,
    }
}

#[derive(Deserialize)]
struct Answer {
    status: Option<String>,
    id: Option<serde_json::Value>,
    data: Option<serde_json::Value>,
    message: Option<String>,
}

fn id_of(value: &serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::String(s) => Some(s.trim().to_owned()).filter(|s| !s.is_empty()),
        _ => None,
    }
}

/// Classifies JustCall's answer to a send.
pub fn outcome(status: u16, retry_after: Option<&str>, body: &[u8]) -> SendOutcome {
    let answer: Option<Answer> = serde_json::from_slice(body).ok();
    if let Some(transient) = classify_status(status, retry_after) {
        return transient;
    }
    let refused = answer.as_ref().is_some_and(|a| a.status.as_deref() == Some("error"));
    if (200..300).contains(&status) && !refused {
        let id = answer.and_then(|a| {
            let data = a.data.unwrap_or_default();
            let nested = match &data {
                serde_json::Value::Array(items) => items.first().and_then(|i| i.get("id")),
                other => other.get("id"),
            };
            a.id.as_ref().and_then(id_of).or_else(|| nested.and_then(id_of))
        });
        return SendOutcome::Accepted { platform_message_id: id };
    }
    let message = answer
        .and_then(|a| a.message)
        .filter(|m| !m.trim().is_empty())
        .unwrap_or_else(|| format!("JustCall answered {status}"));
    SendOutcome::permanent(status.to_string(), message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::send::Target;
    use proptest::prelude::*;
    use switchboard_domain::{Attachment, ChannelKind};
    use switchboard_fakes::{FakePlatforms, Fault};

    const KEY: &str = "helpdesk-test-justcall-key";
    const SECRET: &str = "helpdesk-test-justcall-secret";
    const OUR_NUMBER: &str = "+14155550100";
    const DANA: &str = "+14155559876";

    fn secrets(api_key: &str, api_secret: &str) -> Secrets {
        let mut s = Secrets::new();
        s.insert("api_key".into(), api_key.into());
        s.insert("api_secret".into(), api_secret.into());
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
            kind: ChannelKind::Justcall,
            business_id: from,
            secrets,
            api_base_url: base,
            target,
            body,
            attachments,
            template: None,
            tag: None,
            reply_token: None,
            idempotency_key: "0190f5d2-7b7a-7000-8000-000000000003",
        }
    }

    fn image(url: &str) -> Attachment {
        Attachment { kind: "image".into(), url: Some(url.into()), media_id: None, mime_type: None, filename: None }
    }

    fn dana() -> Target<'static> {
        Target::Direct { recipient: DANA }
    }

    async fn fake() -> (FakePlatforms, String) {
        let fake = FakePlatforms::spawn("127.0.0.1:0").await.unwrap();
        let base = format!("{}/justcall", fake.base_url);
        (fake, base)
    }

    #[tokio::test]
    async fn a_text_is_posted_with_the_key_pair_and_accepted_with_the_text_id() {
        let (fake, base) = fake().await;
        let secrets = secrets(KEY, SECRET);
        let msg = message(&base, &secrets, OUR_NUMBER, dana(), Some("It ships today."), &[]);
        let SendOutcome::Accepted { platform_message_id: Some(id) } = send(&crate::send::http_client(), &msg).await
        else {
            panic!("not accepted");
        };
        let accepted = fake.state.accepted("justcall");
        assert_eq!(accepted.len(), 1);
        assert_eq!(accepted[0].platform_message_id.as_deref(), Some(id.as_str()));
        assert_eq!(accepted[0].path, PATH);
        let body: serde_json::Value = serde_json::from_str(&accepted[0].body).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"justcall_number": OUR_NUMBER, "contact_number": DANA, "body": "It ships today."})
        );
        assert!(accepted[0].headers.contains(&("authorization".to_owned(), format!("{KEY}:{SECRET}"))));
    }

    #[tokio::test]
    async fn attachments_travel_as_comma_separated_media_links() {
        let (fake, base) = fake().await;
        let secrets = secrets(KEY, SECRET);
        let media = [image("https://cdn.example.test/a.jpg"), image("https://cdn.example.test/b.png")];
        let msg = message(&base, &secrets, OUR_NUMBER, dana(), Some("Photos"), &media);
        assert!(matches!(send(&crate::send::http_client(), &msg).await, SendOutcome::Accepted { .. }));
        let body: serde_json::Value = serde_json::from_str(&fake.state.accepted("justcall")[0].body).unwrap();
        assert_eq!(body["media_url"], "https://cdn.example.test/a.jpg,https://cdn.example.test/b.png");
    }

    #[tokio::test]
    async fn two_lines_send_from_their_own_numbers() {
        let (fake, base) = fake().await;
        let secrets = secrets(KEY, SECRET);
        let client = crate::send::http_client();
        for from in [OUR_NUMBER, "+14155550199"] {
            let msg = message(&base, &secrets, from, dana(), Some("hi"), &[]);
            assert!(matches!(send(&client, &msg).await, SendOutcome::Accepted { .. }));
        }
        let from: Vec<serde_json::Value> = fake
            .state
            .accepted("justcall")
            .iter()
            .map(|r| serde_json::from_str::<serde_json::Value>(&r.body).unwrap()["justcall_number"].clone())
            .collect();
        assert_eq!(from, [OUR_NUMBER, "+14155550199"]);
    }

    #[tokio::test]
    async fn refusals_are_permanent_with_justcalls_status_code() {
        let (fake, base) = fake().await;
        let secrets = secrets(KEY, SECRET);
        let msg = message(&base, &secrets, OUR_NUMBER, dana(), Some("hi"), &[]);
        for code in ["400", "403", "422"] {
            fake.state.fail_next("justcall", Fault::Permanent(code.into()), 1);
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
        let secrets = secrets(KEY, SECRET);
        let msg = message(&base, &secrets, OUR_NUMBER, dana(), Some("hi"), &[]);
        let client = crate::send::http_client();
        fake.state.fail_next("justcall", Fault::RateLimited, 1);
        assert!(matches!(send(&client, &msg).await, SendOutcome::Transient { retry_after: Some(_), .. }));
        fake.state.fail_next("justcall", Fault::ServerError, 1);
        assert!(matches!(send(&client, &msg).await, SendOutcome::Transient { .. }));
        assert!(matches!(send(&client, &msg).await, SendOutcome::Accepted { .. }));
    }

    #[tokio::test]
    async fn a_wrong_secret_is_a_permanent_401() {
        let (fake, base) = fake().await;
        let secrets = secrets(KEY, "wrong-secret");
        let msg = message(&base, &secrets, OUR_NUMBER, dana(), Some("hi"), &[]);
        assert!(matches!(
            send(&crate::send::http_client(), &msg).await,
            SendOutcome::Permanent { code, .. } if code == "401"
        ));
        assert!(fake.state.accepted("justcall").is_empty());
    }

    #[tokio::test]
    async fn nothing_is_sent_without_the_key_and_the_secret() {
        for missing in ["api_key", "api_secret"] {
            let mut partial = secrets(KEY, SECRET);
            partial.remove(missing);
            let msg = message("http://127.0.0.1:9", &partial, OUR_NUMBER, dana(), Some("hi"), &[]);
            assert!(matches!(
                send(&crate::send::http_client(), &msg).await,
                SendOutcome::Permanent { code, message } if code == "missing_secret" && message.contains(missing)
            ));
        }
    }

    #[test]
    fn groups_comments_unlinked_media_and_empty_texts_are_refused_in_words() {
        let secrets = secrets(KEY, SECRET);
        for target in
            [Target::Group { chat: "g" }, Target::PublicReply { reply_to: "c" }, Target::PrivateReply { comment: "c" }]
        {
            let err = body(&message("b", &secrets, OUR_NUMBER, target, Some("hi"), &[])).unwrap_err();
            assert!(
                matches!(err, SendOutcome::Permanent { code, message } if code == "unsupported" && message.len() > 10)
            );
        }
        let unlinked = [Attachment { url: None, ..image("") }];
        assert!(body(&message("b", &secrets, OUR_NUMBER, dana(), Some("hi"), &unlinked)).is_err());
        let comma = [image("https://cdn.example.test/a,b.jpg")];
        assert!(body(&message("b", &secrets, OUR_NUMBER, dana(), Some("hi"), &comma)).is_err());
        assert!(matches!(
            body(&message("b", &secrets, OUR_NUMBER, dana(), Some(" "), &[])),
            Err(SendOutcome::Permanent { code, .. }) if code == "empty_message"
        ));
    }

    #[test]
    fn the_id_is_read_wherever_justcall_puts_it() {
        for body in [
            r#"{"status": "success", "id": 62734}"#,
            r#"{"status": "success", "data": {"id": 62734}}"#,
            r#"{"status": "success", "data": [{"id": "62734"}]}"#,
        ] {
            assert_eq!(
                outcome(200, None, body.as_bytes()),
                SendOutcome::Accepted { platform_message_id: Some("62734".into()) },
                "{body}"
            );
        }
        let refused = br#"{"status": "error", "message": "Insufficient credits"}"#;
        assert!(
            matches!(outcome(200, None, refused), SendOutcome::Permanent { message, .. } if message.contains("credits"))
        );
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
