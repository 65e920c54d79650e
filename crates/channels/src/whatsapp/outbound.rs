//! Sending from a WhatsApp business number: `POST {base}/{phone-number-id}/messages` with the
//! account's `access_token`, one Graph call per WhatsApp message (see [`send`]). Calling the Graph
//! API and classifying its answers is [`crate::meta::graph`]'s, shared with Messenger and Instagram.

use serde_json::{Value, json};
use switchboard_domain::Attachment;

use crate::meta::graph::{self, GraphBody, GraphCall};
use crate::send::{OutboundMessage, SendOutcome, Target, TemplateSend};

/// The longest caption WhatsApp takes; a longer text goes as its own message.
pub const CAPTION_LIMIT: usize = 1024;

/// Sends one outbound message from the business number `msg.business_id` to the customer's
/// wa_id: `POST {base}/{phone-number-id}/messages` with the account's `access_token`.
///
/// A template goes alone (`type: template`, its body parameters in order). Otherwise the text
/// is a `text` message, and each attachment a media message by `link` (or uploaded media `id`):
/// image, video, audio, sticker, and anything else as a document with its filename. The text
/// rides as the caption of the first attachment when that takes one (image, video, document)
/// and fits. Every part carries `biz_opaque_callback_data` = the idempotency key, which status
/// webhooks echo.
///
/// Errors are Graph errors ([`graph::outcome`]): 131047 (outside the 24-hour window),
/// 131026, 131051, 132000/132001 (template) and 190 (token) are permanent; 130429, 131056, 4
/// and 80007 are rate limits and transient.
pub async fn send(http: &reqwest::Client, msg: &OutboundMessage<'_>) -> SendOutcome {
    let token = match graph::access_token(msg, "WhatsApp") {
        Ok(token) => token,
        Err(outcome) => return outcome,
    };
    let bodies = match requests(msg) {
        Ok(bodies) => bodies,
        Err(outcome) => return outcome,
    };
    let url = graph::edge_url(msg, msg.business_id, "messages");
    let calls =
        bodies.into_iter().map(|body| GraphCall { url: url.clone(), body: GraphBody::Json(body), id: graph::wamid });
    graph::send_calls(http, token, calls.collect()).await
}

/// The request bodies that send `msg`, in order, or why it cannot be sent.
pub(crate) fn requests(msg: &OutboundMessage<'_>) -> Result<Vec<Value>, SendOutcome> {
    let to = match msg.target {
        Target::Direct { recipient } if !recipient.trim().is_empty() => recipient.trim(),
        Target::Direct { .. } => {
            return Err(SendOutcome::permanent("invalid_recipient", "the customer's wa_id is empty"));
        }
        Target::Group { .. } => {
            return Err(SendOutcome::permanent("unsupported", "WhatsApp group chats cannot be sent to from here"));
        }
        Target::PublicReply { .. } | Target::PrivateReply { .. } => {
            return Err(SendOutcome::permanent("unsupported", "WhatsApp has no comments to reply to"));
        }
    };
    let message = |kind: &str, part: Value| {
        let mut body = json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": to,
            "type": kind,
            kind: part,
        });
        if !msg.idempotency_key.trim().is_empty() {
            body["biz_opaque_callback_data"] = json!(msg.idempotency_key);
        }
        body
    };
    if let Some(template) = msg.template {
        if !msg.attachments.is_empty() {
            return Err(SendOutcome::permanent(
                "unsupported",
                "a WhatsApp template is sent alone: attachments cannot go with it",
            ));
        }
        return Ok(vec![message("template", template_object(&template))]);
    }
    let text = msg.body.filter(|b| !b.trim().is_empty());
    let captioned = text.filter(|t| {
        t.chars().count() <= CAPTION_LIMIT
            && msg.attachments.first().is_some_and(|a| matches!(media_kind(a), "image" | "video" | "document"))
    });
    let mut bodies = Vec::new();
    if let (Some(text), None) = (text, captioned) {
        let has_link = text.contains("https://") || text.contains("http://");
        bodies.push(message("text", json!({ "preview_url": has_link, "body": text })));
    }
    for (i, attachment) in msg.attachments.iter().enumerate() {
        let kind = media_kind(attachment);
        let url = attachment.url.as_deref().map(str::trim).filter(|u| !u.is_empty());
        let media_id = attachment.media_id.as_deref().map(str::trim).filter(|m| !m.is_empty());
        let mut part = match (url, media_id) {
            (Some(url), _) => json!({ "link": url }),
            (None, Some(id)) => json!({ "id": id }),
            (None, None) => {
                return Err(SendOutcome::permanent(
                    "unsupported",
                    format!("WhatsApp sends media by link or media id: this {} has neither", attachment.kind),
                ));
            }
        };
        if i == 0
            && let Some(caption) = captioned
        {
            part["caption"] = json!(caption);
        }
        if kind == "document"
            && let Some(filename) = attachment.filename.as_deref().filter(|f| !f.trim().is_empty())
        {
            part["filename"] = json!(filename);
        }
        bodies.push(message(kind, part));
    }
    if bodies.is_empty() {
        return Err(SendOutcome::permanent("empty_message", "nothing to send: no text, attachment or template"));
    }
    Ok(bodies)
}

/// WhatsApp's media message types; files and anything else go as documents.
fn media_kind(attachment: &Attachment) -> &'static str {
    match attachment.kind.as_str() {
        "image" => "image",
        "video" => "video",
        "audio" => "audio",
        "sticker" => "sticker",
        _ => "document",
    }
}

/// `{name, language: {code}, components: [{type: body, parameters: [{type: text, text}…]}]}`.
fn template_object(template: &TemplateSend<'_>) -> Value {
    let mut object = json!({ "name": template.name, "language": { "code": template.language } });
    if !template.parameters.is_empty() {
        let parameters: Vec<Value> = template.parameters.iter().map(|p| json!({ "type": "text", "text": p })).collect();
        object["components"] = json!([{ "type": "body", "parameters": parameters }]);
    }
    object
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};
    use switchboard_domain::{Attachment, ChannelKind, MessageTag};
    use switchboard_fakes::Fault;

    use super::*;
    use crate::meta::graph::testing::*;
    use crate::send::http_client;
    use crate::webhook::Secrets;

    const NUMBER: &str = "106540352242922";
    const MIRA: &str = "447700900123";

    fn to_mira<'a>(secrets: &'a Secrets, base: &'a str, body: Option<&'a str>) -> OutboundMessage<'a> {
        outbound(ChannelKind::Whatsapp, NUMBER, secrets, base, Target::Direct { recipient: MIRA }, body)
    }

    fn without(mut value: Value, pointers: &[&str]) -> Value {
        for pointer in pointers {
            let (parent, key) = pointer.rsplit_once('/').unwrap_or(("", pointer));
            match value.pointer_mut(parent) {
                Some(Value::Object(map)) => {
                    map.remove(key);
                }
                Some(Value::Array(items)) => {
                    items.remove(key.parse::<usize>().unwrap());
                }
                _ => panic!("no {pointer}"),
            }
        }
        value
    }

    #[tokio::test]
    async fn a_text_is_accepted_with_its_wamid_and_recorded_as_documented() {
        let (fake, base) = fake("whatsapp").await;
        let secrets = token(TOKEN);
        let text = "Hi Mira, your ticket #4411 is resolved.";
        let id = accepted_id(send(&http_client(), &to_mira(&secrets, &base, Some(text))).await);
        assert!(id.starts_with("wamid."), "{id}");

        let accepted = fake.state.accepted("whatsapp");
        assert_eq!(accepted.len(), 1);
        assert_eq!(accepted[0].path, format!("/{NUMBER}/messages"));
        assert_eq!(accepted[0].platform_message_id.as_deref(), Some(id.as_str()));
        assert_eq!(header(&accepted[0], "authorization"), Some(format!("Bearer {TOKEN}").as_str()));
        assert_eq!(
            json(&accepted[0]),
            json!({"messaging_product": "whatsapp", "recipient_type": "individual", "to": MIRA, "type": "text",
                   "text": {"preview_url": false, "body": text}, "biz_opaque_callback_data": KEY})
        );
    }

    #[tokio::test]
    async fn each_business_number_sends_from_its_own_path() {
        let (fake, base) = fake("whatsapp").await;
        let secrets = token(TOKEN);
        for number in ["1111", "2222"] {
            let msg = OutboundMessage { business_id: number, ..to_mira(&secrets, &base, Some("hello")) };
            accepted_id(send(&http_client(), &msg).await);
        }
        let paths: Vec<String> = fake.state.accepted("whatsapp").into_iter().map(|r| r.path).collect();
        assert_eq!(paths, ["/1111/messages", "/2222/messages"]);
    }

    #[test]
    fn the_text_request_is_the_documented_example() {
        let example: Value =
            serde_json::from_str(include_str!("../../../../fixtures/channels/whatsapp/send_text_request.json"))
                .unwrap();
        let secrets = token(TOKEN);
        let body = example["text"]["body"].as_str().unwrap();
        let msg = OutboundMessage { idempotency_key: "helpdesk-msg-000124", ..to_mira(&secrets, "", Some(body)) };
        // We do not quote the customer's message: the example's `context` is the only difference.
        assert_eq!(requests(&msg).unwrap(), vec![without(example, &["/context"])]);
    }

    #[test]
    fn the_template_request_is_the_documented_example_without_its_button() {
        let example: Value =
            serde_json::from_str(include_str!("../../../../fixtures/channels/whatsapp/send_template_request.json"))
                .unwrap();
        let secrets = token(TOKEN);
        let parameters = ["Mira".to_owned(), "#4411".to_owned()];
        let template = TemplateSend { name: "ticket_followup_v2", language: "en_US", parameters: &parameters };
        let msg = OutboundMessage { template: Some(template), idempotency_key: "", ..to_mira(&secrets, "", None) };
        assert_eq!(requests(&msg).unwrap(), vec![without(example, &["/template/components/1"])]);
    }

    #[tokio::test]
    async fn a_template_names_its_language_and_body_parameters_in_order() {
        let (fake, base) = fake("whatsapp").await;
        let secrets = token(TOKEN);
        let parameters = ["Mira".to_owned(), "#4411".to_owned(), "Tuesday".to_owned()];
        let template = TemplateSend { name: "ticket_followup_v2", language: "en_US", parameters: &parameters };
        // The rendered text the agent saw is not sent: the template is.
        let msg = OutboundMessage { template: Some(template), ..to_mira(&secrets, &base, Some("Hi Mira…")) };
        accepted_id(send(&http_client(), &msg).await);
        let body = json(&fake.state.accepted("whatsapp")[0]);
        assert_eq!(body["type"], "template");
        assert!(body.get("text").is_none());
        assert_eq!(
            body["template"],
            json!({"name": "ticket_followup_v2", "language": {"code": "en_US"}, "components": [{"type": "body",
                   "parameters": [{"type": "text", "text": "Mira"}, {"type": "text", "text": "#4411"},
                                  {"type": "text", "text": "Tuesday"}]}]})
        );

        let no_parameters = TemplateSend { name: "hello_world", language: "en", parameters: &[] };
        let msg = OutboundMessage { template: Some(no_parameters), ..to_mira(&secrets, &base, None) };
        accepted_id(send(&http_client(), &msg).await);
        let body = json(&fake.state.accepted("whatsapp")[1]);
        assert_eq!(body["template"], json!({"name": "hello_world", "language": {"code": "en"}}));
    }

    #[tokio::test]
    async fn media_go_by_link_with_the_text_as_caption_and_documents_keep_their_filename() {
        let (fake, base) = fake("whatsapp").await;
        let secrets = token(TOKEN);
        let attachments = [
            attachment("image", "https://cdn.example.test/parcel.jpg", None),
            attachment("document", "https://cdn.example.test/invoice.pdf", Some("invoice-4411.pdf")),
            attachment("audio", "https://cdn.example.test/note.ogg", None),
            attachment("video", "https://cdn.example.test/unboxing.mp4", None),
        ];
        let msg = OutboundMessage { attachments: &attachments, ..to_mira(&secrets, &base, Some("Your parcel")) };
        let id = accepted_id(send(&http_client(), &msg).await);

        let accepted = fake.state.accepted("whatsapp");
        assert_eq!(accepted.len(), 4, "one message per attachment");
        assert_eq!(accepted[0].platform_message_id.as_deref(), Some(id.as_str()), "the first part names the message");
        let parts: Vec<Value> = accepted.iter().map(json).collect();
        assert_eq!(parts[0]["type"], "image");
        assert_eq!(parts[0]["image"], json!({"link": "https://cdn.example.test/parcel.jpg", "caption": "Your parcel"}));
        assert_eq!(parts[1]["type"], "document");
        assert_eq!(
            parts[1]["document"],
            json!({"link": "https://cdn.example.test/invoice.pdf", "filename": "invoice-4411.pdf"})
        );
        assert_eq!(parts[2]["audio"], json!({"link": "https://cdn.example.test/note.ogg"}));
        assert_eq!(parts[3]["video"], json!({"link": "https://cdn.example.test/unboxing.mp4"}));
        for part in &parts {
            assert_eq!(part["to"], MIRA);
            assert_eq!(part["messaging_product"], "whatsapp");
        }
    }

    #[test]
    fn a_text_goes_on_its_own_before_media_that_take_no_caption_or_when_too_long() {
        let secrets = token(TOKEN);
        let audio = [attachment("audio", "https://cdn.example.test/note.ogg", None)];
        let msg = OutboundMessage { attachments: &audio, ..to_mira(&secrets, "", Some("Listen")) };
        let kinds: Vec<Value> = requests(&msg).unwrap().into_iter().map(|b| b["type"].clone()).collect();
        assert_eq!(kinds, ["text", "audio"]);

        let long = "x".repeat(CAPTION_LIMIT + 1);
        let image = [attachment("image", "https://cdn.example.test/a.jpg", None)];
        let msg = OutboundMessage { attachments: &image, ..to_mira(&secrets, "", Some(&long)) };
        let bodies = requests(&msg).unwrap();
        assert_eq!(bodies[0]["text"]["body"], long.as_str());
        assert!(bodies[1]["image"].get("caption").is_none());

        let uploaded =
            [Attachment { kind: "file".into(), media_id: Some("1013859600285441".into()), ..image[0].clone() }];
        let uploaded = [Attachment { url: None, ..uploaded[0].clone() }];
        let msg = OutboundMessage { attachments: &uploaded, ..to_mira(&secrets, "", None) };
        assert_eq!(requests(&msg).unwrap()[0]["document"], json!({"id": "1013859600285441"}));
    }

    #[test]
    fn a_link_in_the_text_asks_for_a_preview() {
        let secrets = token(TOKEN);
        let msg = to_mira(&secrets, "", Some("Track it at https://track.example.test/88-1932"));
        assert_eq!(requests(&msg).unwrap()[0]["text"]["preview_url"], true);
    }

    #[tokio::test]
    async fn what_whatsapp_cannot_send_is_refused_without_a_call() {
        let (fake, base) = fake("whatsapp").await;
        let secrets = token(TOKEN);
        let http = http_client();
        let image = [attachment("image", "https://cdn.example.test/a.jpg", None)];
        let template = TemplateSend { name: "hello_world", language: "en", parameters: &[] };
        let no_link = [Attachment { url: None, ..image[0].clone() }];
        for (msg, code) in [
            (
                OutboundMessage {
                    target: Target::PublicReply { reply_to: "c1" },
                    ..to_mira(&secrets, &base, Some("x"))
                },
                "unsupported",
            ),
            (
                OutboundMessage {
                    target: Target::PrivateReply { comment: "c1" },
                    ..to_mira(&secrets, &base, Some("x"))
                },
                "unsupported",
            ),
            (
                OutboundMessage { target: Target::Group { chat: "g1" }, ..to_mira(&secrets, &base, Some("x")) },
                "unsupported",
            ),
            (
                OutboundMessage { target: Target::Direct { recipient: " " }, ..to_mira(&secrets, &base, Some("x")) },
                "invalid_recipient",
            ),
            (
                OutboundMessage { template: Some(template), attachments: &image, ..to_mira(&secrets, &base, None) },
                "unsupported",
            ),
            (OutboundMessage { attachments: &no_link, ..to_mira(&secrets, &base, None) }, "unsupported"),
            (to_mira(&secrets, &base, Some("  ")), "empty_message"),
        ] {
            permanent(send(&http, &msg).await, code);
        }
        let no_token = Secrets::new();
        let message = permanent(send(&http, &to_mira(&no_token, &base, Some("x"))).await, "missing_secret");
        assert!(message.contains("access_token"), "{message}");
        assert!(fake.state.requests().is_empty());
    }

    #[test]
    fn the_tag_is_ignored_because_whatsapp_has_none() {
        let secrets = token(TOKEN);
        let msg = OutboundMessage { tag: Some(MessageTag::HumanAgent), ..to_mira(&secrets, "", Some("x")) };
        assert!(requests(&msg).unwrap()[0].get("tag").is_none());
    }

    #[tokio::test]
    async fn window_undeliverable_unsupported_and_template_errors_are_permanent_with_their_code() {
        let (fake, base) = fake("whatsapp").await;
        let secrets = token(TOKEN);
        for code in ["131047", "131026", "131051", "132000", "132001", "190"] {
            fake.state.fail_next("whatsapp", Fault::Permanent(code.into()), 1);
            let message = permanent(send(&http_client(), &to_mira(&secrets, &base, Some("x"))).await, code);
            assert!(!message.is_empty());
        }
        assert!(fake.state.accepted("whatsapp").is_empty());
    }

    #[tokio::test]
    async fn the_re_engagement_error_tells_the_agent_why() {
        let (fake, base) = fake("whatsapp").await;
        let secrets = token(TOKEN);
        fake.state.fail_next("whatsapp", Fault::Permanent("131047".into()), 1);
        let message = permanent(send(&http_client(), &to_mira(&secrets, &base, Some("x"))).await, "131047");
        assert!(message.contains("Re-engagement message") && message.contains("24 hours"), "{message}");
    }

    #[tokio::test]
    async fn rate_limits_server_errors_and_429_are_transient() {
        let (fake, base) = fake("whatsapp").await;
        let secrets = token(TOKEN);
        let http = http_client();
        for code in ["130429", "131056", "4", "80007"] {
            fake.state.fail_next("whatsapp", Fault::Permanent(code.into()), 1);
            let outcome = send(&http, &to_mira(&secrets, &base, Some("x"))).await;
            assert!(is_transient(&outcome), "{code}: {outcome:?}");
        }
        fake.state.fail_next("whatsapp", Fault::ServerError, 1);
        assert!(is_transient(&send(&http, &to_mira(&secrets, &base, Some("x"))).await));
        fake.state.fail_next("whatsapp", Fault::RateLimited, 1);
        match send(&http, &to_mira(&secrets, &base, Some("x"))).await {
            SendOutcome::Transient { retry_after, .. } => {
                assert_eq!(retry_after, Some(std::time::Duration::from_secs(1)))
            }
            other => panic!("{other:?}"),
        }
        accepted_id(send(&http, &to_mira(&secrets, &base, Some("x"))).await);
    }

    #[tokio::test]
    async fn a_wrong_token_is_permanent_190() {
        let (fake, base) = fake("whatsapp").await;
        let secrets = token("invalid-expired-token");
        let message = permanent(send(&http_client(), &to_mira(&secrets, &base, Some("x"))).await, "190");
        assert!(message.contains("access token"), "{message}");
        assert!(fake.state.accepted("whatsapp").is_empty());
    }

    #[tokio::test]
    async fn a_part_refused_after_the_first_went_out_is_a_partial_send() {
        let (fake, base) = fake("whatsapp").await;
        let secrets = token(TOKEN);
        // The fake refuses a link that is not http(s), after the text went out.
        let audio = [attachment("audio", "ftp://cdn.example.test/note.ogg", None)];
        let msg = OutboundMessage { attachments: &audio, ..to_mira(&secrets, &base, Some("Listen")) };
        let message = permanent(send(&http_client(), &msg).await, "partial_send");
        assert!(message.contains("1 of the 2") && message.contains("100"), "{message}");
        assert_eq!(fake.state.accepted("whatsapp").len(), 1);
    }

    #[tokio::test]
    async fn an_unreachable_platform_is_transient() {
        // A port that was free a moment ago: nothing listens there.
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let base = format!("http://127.0.0.1:{port}");
        let secrets = token(TOKEN);
        let outcome = send(&http_client(), &to_mira(&secrets, &base, Some("x"))).await;
        assert!(is_transient(&outcome), "{outcome:?}");
    }
}
